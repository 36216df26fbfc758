import { fork } from "node:child_process";
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { defineBench } from "../harness.js";

// Memory under hostile URL cardinality: 1,000,000 requests over 10,000 distinct unmatched
// URLs, then 1,000,000 over 10,000 distinct *matched* route templates (an app with far too
// many routes), driven in-process through perfTiming() with minimal req/res objects so the
// run takes seconds. Heap is measured after a forced GC. Runs in a child process started
// with --expose-gc and the source condition.

const TOTAL = Number(process.env.PERF_TIMING_MEMORY_REQUESTS ?? 1_000_000);
const DISTINCT = 10_000;

class FakeResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableFinished = false;
  private readonly headers = new Map<string, unknown>();
  constructor(readonly req: IncomingMessage) {
    super();
  }
  setHeader(name: string, value: unknown) {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string) {
    return this.headers.get(name.toLowerCase());
  }
  hasHeader(name: string) {
    return this.headers.has(name.toLowerCase());
  }
  writeHead(status: number) {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }
  end() {
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.writableFinished = true;
    this.emit("finish");
    this.emit("close");
  }
}

async function child() {
  const { perfTiming } = await import("@palisade/perf-timing");
  const { recordTiming } = await import("@palisade/core");
  const gc = (globalThis as { gc?: () => void }).gc!;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const mb = (bytes: number) => Number((bytes / 1048576).toFixed(2));
  const timing = perfTiming({ logger: { warn() {} }, defaultMetrics: false });

  function drive(count: number, matched: boolean, offset: number) {
    for (let i = 0; i < count; i++) {
      const n = (offset + i) % DISTINCT;
      const req = {
        method: "GET",
        url: matched ? `/r${n}/42` : `/missing/${n}?page=${n}`,
        headers: { host: "bench" },
        socket: { remoteAddress: "127.0.0.1" },
      } as unknown as IncomingMessage & { route?: { path: string } };
      const res = new FakeResponse(req);
      timing(req as never, res as unknown as ServerResponse as never, () => {
        recordTiming(req, { name: "db", durationMs: 0.1 });
        if (matched) req.route = { path: `/r${n}/:id` };
        res.statusCode = matched ? 200 : 404;
        res.end();
      });
    }
  }

  const report: Record<string, unknown> = {};
  for (const [phase, matched] of [
    ["unmatched", false],
    ["matched", true],
  ] as const) {
    drive(50_000, matched, 0);
    const before = heap();
    const samples: number[] = [];
    const started = performance.now();
    const step = TOTAL / 10;
    for (let done = 0; done < TOTAL; done += step) {
      drive(step, matched, done);
      samples.push(mb(heap()));
    }
    const seconds = (performance.now() - started) / 1000;
    const after = heap();
    const stats = timing.stats();
    const metrics = await timing.registry!.metrics();
    report[phase] = {
      requests: TOTAL,
      distinctUrls: DISTINCT,
      seconds: Number(seconds.toFixed(1)),
      heapBeforeMB: mb(before),
      heapAfterMB: mb(after),
      heapGrowthMB: mb(after - before),
      heapEveryTenthMB: samples,
      routeLabels: stats.routes.length,
      labels: stats.routes.map((route) => `${route.method} ${route.route}`).slice(0, 4),
      metricsBytes: metrics.length,
    };
  }
  timing.close();
  process.send!(report);
}

if (process.env.PERF_TIMING_MEMORY_CHILD === "1") {
  await child();
  process.exit(0);
}

export default defineBench({
  kind: "script",
  description:
    "perfTiming() heap before/after 1,000,000 requests across 10,000 distinct unmatched URLs (and 10,000 route templates)",
  run() {
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const proc = fork(fileURLToPath(import.meta.url), [], {
        execArgv: ["--import", "tsx", "--conditions=@palisade/source", "--expose-gc"],
        env: { ...process.env, PERF_TIMING_MEMORY_CHILD: "1", NODE_ENV: "production" },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      proc.once("message", (report) => {
        console.log(JSON.stringify(report, null, 2));
        resolve(report as Record<string, unknown>);
      });
      proc.once("exit", (code) => {
        if (code !== 0) reject(new Error(`memory child exited with ${code}`));
      });
    });
  },
});
