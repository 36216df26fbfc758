import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { csrfProtection } from "@palisade/access-control";
import { auditLog } from "@palisade/audit-log";
import { inputSanitizer } from "@palisade/input-sanitizer";
import { perfTiming } from "@palisade/perf-timing";
import { rateLimit } from "@palisade/rate-limit";
import { securityHeaders } from "@palisade/security-headers";
import express from "express";
import { defineBench } from "../harness.js";

// Every Palisade middleware in the booking server's order around one trivial JSON route,
// against bare Express. The limiter counts every request (its limit is set out of reach:
// one load generator is one client).
const route = (app: express.Express) => {
  app.get("/api/ping", (req, res) => {
    res.json({ ok: true, q: req.query.q ?? null });
  });
  return app;
};

export default defineBench({
  kind: "http",
  description: "bare Express vs Express + every Palisade middleware, GET /api/ping?q=haircut",
  request: { path: "/api/ping?q=haircut" },
  variants: {
    bare: () => route(express()),
    palisade: () => {
      const app = express();
      app.use(auditLog({ dir: mkdtempSync(join(tmpdir(), "palisade-bench-logs-")) }));
      app.use(perfTiming());
      app.use("/api", securityHeaders({ preset: "api" }));
      app.use(securityHeaders());
      app.use(rateLimit({ preset: "api", limit: 1_000_000_000 }));
      app.use(express.json());
      app.use(inputSanitizer());
      app.use(csrfProtection({ secret: "bench-secret-0123456789abcdef0123456789" }));
      return route(app);
    },
  },
  targets: [{ variant: "palisade", minRatio: 0.7 }],
});
