import { fileURLToPath } from "node:url";
import { defineBench } from "../harness.js";
import { serverCpu } from "../server-cpu.js";

// The audit-log HTTP bench's servers measured by server CPU per request (see bench/server-cpu.ts).
// The process's CPU includes its threads, so the worker transport's thread is counted.
export default defineBench({
  kind: "script",
  description:
    "server CPU time per request: bare, pino-http alone, the floor yardstick, auditLog() (main-thread and worker transport)",
  run: () =>
    serverCpu(
      fileURLToPath(new URL("./audit-log.bench.ts", import.meta.url)),
      process.env.BENCH_VARIANTS?.split(",") ?? ["bare", "pinoHttp", "floor", "auditLog", "auditLogWorker"],
      {},
      [
        { variant: "auditLog", minRatio: 0.85 },
        { variant: "auditLog", against: "pinoHttp", minRatio: 1 },
      ],
    ),
});
