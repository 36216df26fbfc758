import { rateLimit } from "@palisade/rate-limit";
import express from "express";
import { defineBench } from "../harness.js";

// Every request from the load generator comes from one address, so the limits are raised
// out of reach: what is measured is the cost of counting (memory store) and of the headers.
const bare = () => {
  const app = express();
  app.get("/", (_req, res) => {
    res.json({ ok: true });
  });
  return app;
};

export default defineBench({
  kind: "http",
  description: "bare Express vs Express + rateLimit() (memory store, draft-8 headers)",
  variants: {
    bare,
    // The two draft-8 headers alone, set statically: what sending them costs the server and the
    // load generator, whatever computes them.
    headersOnly: () => {
      const app = express();
      app.use((_req, res, next) => {
        res.setHeader("RateLimit-Policy", '"api";q=1000000000;w=60');
        res.setHeader("RateLimit", '"api";r=999999999;t=60');
        next();
      });
      app.get("/", (_req, res) => {
        res.json({ ok: true });
      });
      return app;
    },
    api: () => {
      const app = express();
      app.use(rateLimit({ preset: "api", limit: 1_000_000_000, checks: { trustProxy: false } }));
      app.get("/", (_req, res) => {
        res.json({ ok: true });
      });
      return app;
    },
    sensitive: () => {
      const app = express();
      app.use(rateLimit({ preset: "sensitive", limit: 1_000_000_000 }));
      app.get("/", (_req, res) => {
        res.json({ ok: true });
      });
      return app;
    },
  },
  targets: [
    { variant: "api", minRatio: 0.9 },
    { variant: "sensitive", minRatio: 0.9 },
  ],
});
