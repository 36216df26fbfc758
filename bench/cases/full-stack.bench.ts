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
import { pinoHttp } from "pino-http";
import responseTime from "response-time";
import { defineBench, requireFromPackage } from "../harness.js";

// Every Palisade middleware in the booking server's order around one trivial JSON route,
// against bare Express. The limiter counts every request (its limit is set out of reach:
// one load generator is one client). `ecosystem` is a yardstick: the libraries the issues name
// as the bar, stacked the same way (pino-http on a pino-roll worker transport, response-time,
// helmet, express-rate-limit, the JSON parser), with no input inspection and no CSRF check,
// which none of them does.

const helmet = requireFromPackage("security-headers")("helmet") as () => express.RequestHandler;
const { rateLimit: expressRateLimit } = requireFromPackage("rate-limit")("express-rate-limit") as {
  rateLimit: (options: object) => express.RequestHandler;
};
const { pino } = requireFromPackage("audit-log")("pino") as {
  pino: { transport(options: object): NonNullable<Parameters<typeof pinoHttp>[0]> };
};
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
    ecosystem: () => {
      const app = express();
      const transport = pino.transport({
        target: requireFromPackage("audit-log").resolve("pino-roll"),
        options: {
          file: join(mkdtempSync(join(tmpdir(), "palisade-bench-logs-")), "app.log"),
          size: "10m",
          mkdir: true,
        },
      });
      app.use(pinoHttp({}, transport));
      app.use(responseTime());
      app.use(helmet());
      app.use(
        expressRateLimit({ windowMs: 60_000, limit: 1_000_000_000, standardHeaders: "draft-8", legacyHeaders: false }),
      );
      app.use(express.json());
      return route(app);
    },
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
