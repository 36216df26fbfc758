import { fileURLToPath } from "node:url";
import { defineBench } from "../harness.js";
import { serverCpu } from "../server-cpu.js";

// The HTTP bench's servers measured by server CPU per request (see bench/server-cpu.ts): on a
// shared machine throughput ratios swing with other load, the server's own CPU time barely does.
export default defineBench({
  kind: "script",
  description: "server CPU time per request: bare Express vs + requestScope vs + perfTiming()",
  run: () =>
    serverCpu(
      fileURLToPath(new URL("./perf-timing.bench.ts", import.meta.url)),
      process.env.BENCH_VARIANTS?.split(",") ?? [
        "bare",
        "requestScope",
        "headersFloor",
        "perfTiming",
        "perfTimingSpans",
      ],
      {},
      [
        { variant: "perfTiming", minRatio: 0.95 },
        { variant: "perfTiming", minRatio: 0.97, against: "headersFloor" },
      ],
    ),
});
