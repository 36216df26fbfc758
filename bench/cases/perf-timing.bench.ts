import { enterRequestScope, recordTiming } from "@palisade/core";
import { perfTiming } from "@palisade/perf-timing";
import express from "express";
import responseTime from "response-time";
import { defineBench } from "../harness.js";

// Response timing must cost next to nothing: hrtime at start, headers at writeHead, one O(1)
// histogram record per route plus one Prometheus bucket count at the end. `requestScope` is
// core's AsyncLocalStorage scope alone, for reference: perfTiming() enters it only once a
// package that reads it asks (sqlite-tuning does; audit-log always enters it). `perfTimingSpans`
// also records a db span per request and shows it in Server-Timing (loopback is an exposed client).
// `headersFloor` sends the same two headers from constants: what the bytes alone cost;
// `noopLayer` only calls next(): the cost of being a middleware at all.

const silent = { warn() {} };

function app(middleware?: express.RequestHandler, span = false) {
  const server = express();
  if (middleware) server.use(middleware);
  server.get("/", (req, res) => {
    if (span) recordTiming(req, { name: "db", durationMs: 0.12, description: "select booking" });
    res.json({ ok: true });
  });
  return server;
}

export default defineBench({
  kind: "http",
  description: "bare Express vs Express + perfTiming() (defaults: headers, stats, Prometheus with default metrics)",
  variants: {
    bare: () => app(),
    // A middleware that does nothing: what one more Express layer costs before any work.
    noopLayer: () => app((_req, _res, next) => next()),
    requestScope: () => app((req, res, next) => enterRequestScope(req, res, next)),
    // The two headers perfTiming() sends, as constants of the same length: the floor for sending them.
    headersFloor: () =>
      app((_req, res, next) => {
        res.setHeader("X-Process-Time", "0.123");
        res.setHeader("Server-Timing", "total;dur=0.123");
        next();
      }),
    // Express's own response-time middleware: one X-Response-Time header, no statistics.
    responseTime: () => app(responseTime()),
    perfTiming: () => app(perfTiming({ logger: silent })),
    perfTimingSpans: () => app(perfTiming({ logger: silent, exposeSpans: { clients: ["loopback"] } }), true),
  },
  targets: [
    { variant: "perfTiming", minRatio: 0.95 },
    { variant: "perfTiming", minRatio: 0.97, against: "headersFloor" },
  ],
});
