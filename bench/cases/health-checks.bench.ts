import { healthChecks } from "@palisade/health-checks";
import express, { type Express, type RequestHandler } from "express";
import { defineBench } from "../harness.js";

// GET /health serves a cached body: checks run in the background, so the endpoint should
// cost no more than a bare route, whatever the number of checks registered.
// bench/run.ts does not pass `request.path` on to autocannon (it requests the URL's "/"), so
// every variant first points the request at /monitoring/health, at the same cost for all.
const toHealth: RequestHandler = (req, _res, next) => {
  req.url = "/monitoring/health";
  next();
};

function appWith(checks: number): Express {
  const health = healthChecks({ intervalMs: 1000 });
  for (let i = 0; i < checks; i++) {
    health.registerCheck(`dependency${i}:ping`, () => true, { componentType: "datastore" });
  }
  const app = express();
  app.use(toHealth);
  app.use("/monitoring", health);
  return app;
}

export default defineBench({
  kind: "http",
  description: "bare Express route vs healthChecks() GET /monitoring/health (built-ins on, plus 1 or 20 checks)",
  request: { path: "/monitoring/health" },
  variants: {
    bare: () => {
      const app = express();
      app.use(toHealth);
      app.get("/monitoring/health", (_req, res) => {
        res.json({ status: "pass" });
      });
      return app;
    },
    healthChecks: () => appWith(1),
    healthChecks20: () => appWith(20),
  },
  targets: [
    { variant: "healthChecks", minRatio: 0.95 },
    { variant: "healthChecks20", minRatio: 0.95 },
  ],
});
