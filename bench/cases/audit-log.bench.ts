import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { audit, auditLog } from "@palisade/audit-log";
import express from "express";
import morgan from "morgan";
import { pinoHttp } from "pino-http";
import { defineBench, requireFromPackage } from "../harness.js";

// One JSON line per request to a file. `morgan` is the least a request log can do: Express's
// own logger writing one Apache "combined" text line per request to a file stream, with no ids,
// context or redaction. `pinoHttp` is the reference: pino-http with its
// defaults (full req/res serializers) on a pino-roll worker-thread transport. `auditLog` adds
// correlation ids, the AsyncLocalStorage scope, the security-event sink, redaction and
// control-character neutralisation, and writes app.log from the main thread (pino-roll's
// buffered stream, its default); `auditLogWorker` writes it through the pino-roll worker
// transport (`transport: "worker"`). The `*Event` variants also write one
// booking_created audit record per request to the hash-chained trail: `durableEvent` with a
// synchronous write before the response (the default), `bufferedEvent` with `durable: false`.
// `floor` is a yardstick, not a logger anyone should ship: the least work #4's request line
// needs (a request id echoed in X-Request-Id, an AsyncLocalStorage scope, one JSON line per
// request on finish) hand-written into pino's own buffered file destination, with no pino
// logger, no redaction, no escaping of control characters, no route template or client IP
// resolution. What auditLog() costs above it is what its features cost.

const KEY = "bench-key-0123456789abcdef";
// pino is audit-log's dependency, not the root's; pino-http (the reference only) is the root's.
const fromPackage = requireFromPackage("audit-log");
const { pino } = fromPackage("pino") as {
  pino: {
    transport(options: object): NonNullable<Parameters<typeof pinoHttp>[0]>;
    destination(options: object): { write(line: string): boolean };
  };
};

function floor(): express.RequestHandler {
  const destination = pino.destination({ dest: join(logDir(), "app.log"), minLength: 4096, sync: false });
  const scope = new AsyncLocalStorage<string>();
  return (req, res, next) => {
    const id = randomUUID();
    const start = process.hrtime.bigint();
    res.setHeader("X-Request-Id", id);
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      destination.write(
        `{"level":30,"time":${Date.now()},"requestId":"${id}","method":"${req.method}","url":${JSON.stringify(req.originalUrl)},"status":${res.statusCode},"durationMs":${ms}}\n`,
      );
    });
    scope.run(id, next);
  };
}

function logDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "palisade-bench-audit-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup);
  process.once("SIGTERM", () => process.exit(0));
  return dir;
}

function app(middleware?: express.RequestHandler, event = false) {
  const server = express();
  if (middleware) server.use(middleware);
  server.get("/", (req, res) => {
    if (event) audit(req).event("booking_created", { bookingId: 42, barberId: 7 });
    res.json({ ok: true });
  });
  return server;
}

export default defineBench({
  kind: "http",
  description:
    "bare Express vs Express + request logging to a file (pino-http alone, auditLog(), auditLog() + audit events)",
  variants: {
    bare: () => app(),
    pinoHttp: () => {
      const transport = pino.transport({
        target: fromPackage.resolve("pino-roll"),
        options: { file: join(logDir(), "app.log"), size: "10m", mkdir: true, sync: true },
      });
      return app(pinoHttp({}, transport));
    },
    morgan: () => app(morgan("combined", { stream: createWriteStream(join(logDir(), "access.log"), { flags: "a" }) })),
    floor: () => app(floor()),
    auditLog: () => app(auditLog({ dir: logDir(), level: "info", audit: { hmacKey: KEY } })),
    auditLogWorker: () => app(auditLog({ dir: logDir(), transport: "worker", level: "info", audit: { hmacKey: KEY } })),
    durableEvent: () => app(auditLog({ dir: logDir(), level: "info", audit: { hmacKey: KEY } }), true),
    bufferedEvent: () => app(auditLog({ dir: logDir(), level: "info", audit: { hmacKey: KEY, durable: false } }), true),
  },
  targets: [
    { variant: "auditLog", minRatio: 0.85 },
    { variant: "auditLog", minRatio: 1, against: "pinoHttp" },
  ],
});
