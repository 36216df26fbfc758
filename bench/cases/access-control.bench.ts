import { csrfProtection, ipAllowlist } from "@palisade/access-control";
import express from "express";
import { defineBench } from "../harness.js";

// A same-origin POST (the common unsafe request) through csrfProtection(), and the same
// request through ipAllowlist() with a few ranges before the matching one.
const withRoutes = (app: express.Express) => {
  app.post("/", (_req, res) => {
    res.json({ ok: true });
  });
  return app;
};

export default defineBench({
  kind: "http",
  description: "bare Express vs Express + csrfProtection() / ipAllowlist() on a same-origin POST",
  request: { method: "POST", path: "/", headers: { "sec-fetch-site": "same-origin", origin: "http://127.0.0.1" } },
  variants: {
    bare: () => withRoutes(express()),
    csrf: () => {
      const app = express();
      app.use(csrfProtection({ secret: "bench-secret-bench-secret-bench-secret" }));
      return withRoutes(app);
    },
    allowlist: () => {
      const app = express();
      app.use(ipAllowlist(["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32", "127.0.0.1", "::1"]));
      return withRoutes(app);
    },
  },
  targets: [
    { variant: "csrf", minRatio: 0.9 },
    { variant: "allowlist", minRatio: 0.9 },
  ],
});
