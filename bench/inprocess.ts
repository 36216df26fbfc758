import { type ChildProcess, fork } from "node:child_process";
import dc from "node:diagnostics_channel";
import http from "node:http";
import { Duplex } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BenchRequest, type HttpBenchCase, selectedVariants } from "./harness.js";
import { cpuReport } from "./server-cpu.js";

// `pnpm bench <name> --inprocess`: an HTTP bench case's variants measured without a network or a
// load generator. Each variant runs in its own process: a real node:http server (its parser,
// Express, the response writer) is fed one keep-alive request at a time through an in-memory
// socket, and the process's CPU time per request is the figure. On a 2-core machine autocannon
// takes a core from the server it measures and the kernel's loopback work lands on both; here
// nothing competes inside the measurement, so ratios resolve a few percent where the HTTP run
// cannot. A CPU-bound server serves 1 / (CPU per request): the CPU ratio inverted is the
// throughput ratio. Rounds alternate between variants with fresh processes every round.

/** A socket that accepts every write and never sends anything but the request bytes it is given. */
class MemorySocket extends Duplex {
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 40_000;
  readonly remoteFamily = "IPv4";
  readonly localAddress = "127.0.0.1";
  readonly localPort = 3000;
  override _read() {}
  override _write(_chunk: unknown, _encoding: unknown, callback: () => void) {
    callback();
  }
  override _writev(_chunks: unknown, callback: () => void) {
    callback();
  }
  setTimeout() {
    return this;
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
}

function requestBytes(request: BenchRequest = {}): Buffer {
  const body = request.body ?? "";
  const headers: Record<string, string> = {
    host: "127.0.0.1:3000",
    connection: "keep-alive",
    ...request.headers,
    ...(body ? { "content-length": String(Buffer.byteLength(body)) } : {}),
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return Buffer.from(
    `${request.method ?? "GET"} ${request.path ?? "/"} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n${body}`,
  );
}

/** Child side: serves `amount` requests on demand and answers with CPU µs per request. */
async function child(file: string, variant: string) {
  const bench = (await import(pathToFileURL(file).href)).default as HttpBenchCase;
  const factory = bench.variants[variant];
  if (!factory) throw new Error(`no variant ${variant} in ${file}`);
  const server = http.createServer(await factory());
  const raw = requestBytes(bench.request);
  const socket = new MemorySocket();
  server.emit("connection", socket);
  let remaining = 0;
  let failures = 0;
  let finished = () => {};
  // One subscriber for the whole process: no listener is added to any request or response.
  dc.subscribe("http.server.response.finish", (message) => {
    if ((message as { response: http.ServerResponse }).response.statusCode >= 400) failures++;
    if (--remaining > 0) setImmediate(() => socket.push(raw));
    else finished();
  });
  const serve = (amount: number) =>
    new Promise<number>((resolve) => {
      remaining = amount;
      const start = process.cpuUsage();
      finished = () => {
        const used = process.cpuUsage(start);
        resolve((used.user + used.system) / amount);
      };
      socket.push(raw);
    });
  await serve(5_000);
  process.on("message", async (message: { amount: number } | { exit: true }) => {
    // An orderly exit writes out what V8 still buffers of its log (--log-ic).
    if ("exit" in message) process.exit(0);
    // The measured window on the process clock, for tools that read V8's own log (bench/ic-misses.ts).
    const from = performance.now();
    const micros = await serve(message.amount);
    process.send?.({ micros, failures, window: [from, performance.now()] });
  });
  process.send?.({ ready: true });
}

/** Starts one variant's child process; `nodeFlags` go before the loader flags. */
export function start(file: string, variant: string, nodeFlags: string[] = []): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ["--child", file, variant], {
      execArgv: [...nodeFlags, "--import", "tsx", "--conditions=@palisade/source"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, NODE_ENV: "production" },
    });
    proc.once("message", () => resolve(proc));
    proc.once("exit", (code) => reject(new Error(`variant ${variant} exited with ${code}`)));
  });
}

/** What the child reports for one measured batch; `window` is [from, to] in ms on its clock. */
export interface Measurement {
  micros: number;
  failures: number;
  window: [number, number];
}

export function measure(proc: ChildProcess, amount: number): Promise<Measurement> {
  return new Promise((resolve) => {
    proc.once("message", (message) => resolve(message as Measurement));
    proc.send({ amount });
  });
}

/** Runs an HTTP bench case in process; same targets, ratios from CPU per request. */
export async function runInProcess(name: string, file: string, bench: HttpBenchCase) {
  const variants = selectedVariants(bench);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  const amount = Number(process.env.BENCH_REQUESTS ?? 20_000);
  const samples = new Map(variants.map((variant) => [variant, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const procs = new Map<string, ChildProcess>();
    try {
      // Started and measured in the same order, reversed every other round: neither the first
      // process started nor the first measured is always the same variant.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) procs.set(variant, await start(file, variant));
      for (const variant of order) {
        const { micros, failures } = await measure(procs.get(variant)!, amount);
        if (failures > 0) throw new Error(`${variant}: ${failures} responses with status >= 400`);
        samples.get(variant)!.push(micros);
      }
    } finally {
      for (const proc of procs.values()) proc.kill();
    }
  }
  const { rows, targets } = cpuReport(
    `${name} in process: ${bench.description} (${rounds} rounds x ${amount} requests)`,
    variants,
    samples,
    bench.targets ?? [],
  );
  return { mode: "inprocess", rows, targets, rounds, amount, samples: Object.fromEntries(samples) };
}

if (process.argv[2] === "--child") await child(process.argv[3]!, process.argv[4]!);
