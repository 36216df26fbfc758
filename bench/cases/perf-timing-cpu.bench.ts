import { fork } from "node:child_process";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { defineBench } from "../harness.js";

// CPU time the server spends per request, bare Express vs Express + perfTiming(): on a shared
// machine throughput ratios swing with other load, while the server's own CPU time per request
// (process.cpuUsage, user + system) barely does. Each variant serves a fixed number of requests
// in its own process, rounds alternate; `ratio` is bare CPU / variant CPU, i.e. the throughput
// ratio a CPU-bound server would see.

const REQUESTS = Number(process.env.PERF_TIMING_CPU_REQUESTS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const VARIANTS = ["bare", "requestScope", "perfTiming", "perfTimingSpans"] as const;
type Variant = (typeof VARIANTS)[number];

async function serve(variant: Variant) {
  const { enterRequestScope, recordTiming } = await import("@palisade/core");
  const { perfTiming } = await import("@palisade/perf-timing");
  const express = (await import("express")).default;
  const app = express();
  const silent = { warn() {} };
  if (variant === "requestScope") app.use((req, res, next) => enterRequestScope(req, res, next));
  if (variant === "perfTiming") app.use(perfTiming({ logger: silent }));
  if (variant === "perfTimingSpans") app.use(perfTiming({ logger: silent, exposeSpans: { clients: ["loopback"] } }));
  app.get("/", (req, res) => {
    if (variant === "perfTimingSpans") recordTiming(req, { name: "db", durationMs: 0.12, description: "select" });
    res.json({ ok: true });
  });
  const server = app.listen(0, "127.0.0.1", () => {
    process.send!({ port: (server.address() as AddressInfo).port });
  });
  process.on("message", () => {
    const { user, system } = process.cpuUsage();
    process.send!({ cpu: user + system });
  });
  process.on("disconnect", () => process.exit(0));
}

if (process.env.PERF_TIMING_CPU_VARIANT) {
  await serve(process.env.PERF_TIMING_CPU_VARIANT as Variant);
}

function start(variant: Variant) {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ["--import", "tsx", "--conditions=@palisade/source"],
    env: { ...process.env, PERF_TIMING_CPU_VARIANT: variant, NODE_ENV: "production" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = () => new Promise<Record<string, number>>((resolve) => child.once("message", resolve as never));
  return { child, next };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export default defineBench({
  kind: "script",
  description: "server CPU time per request: bare Express vs + requestScope vs + perfTiming()",
  async run() {
    const servers = new Map<Variant, ReturnType<typeof start> & { port: number }>();
    for (const variant of VARIANTS) {
      const server = start(variant);
      const { port } = await server.next();
      servers.set(variant, { ...server, port: port! });
    }
    const cpuPerRequest = new Map<Variant, number[]>(VARIANTS.map((variant) => [variant, []]));
    try {
      for (const variant of VARIANTS) {
        await autocannon({ url: `http://127.0.0.1:${servers.get(variant)!.port}`, amount: 5000, connections: 10 });
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
          const server = servers.get(variant)!;
          server.child.send("cpu");
          const before = (await server.next()).cpu!;
          const result = await autocannon({
            url: `http://127.0.0.1:${server.port}`,
            amount: REQUESTS,
            connections: 10,
          });
          server.child.send("cpu");
          const after = (await server.next()).cpu!;
          cpuPerRequest.get(variant)!.push((after - before) / (result.requests.total || REQUESTS));
        }
      }
    } finally {
      for (const { child } of servers.values()) child.kill();
    }
    const bare = cpuPerRequest.get("bare")!;
    const rows = VARIANTS.map((variant) => {
      const runs = cpuPerRequest.get(variant)!;
      return {
        variant,
        cpuMicrosPerRequest: Number(median(runs).toFixed(2)),
        ratio: Number(median(runs.map((run, i) => bare[i]! / run)).toFixed(3)),
      };
    });
    console.log(`\nperf-timing-cpu: ${REQUESTS} requests per variant per round, ${ROUNDS} rounds`);
    console.table(rows);
    return { requests: REQUESTS, rounds: ROUNDS, rows };
  },
});
