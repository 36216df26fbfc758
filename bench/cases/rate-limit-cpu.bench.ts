import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { type BenchRequest, defineBench } from "../harness.js";

// The rate-limit HTTP case's servers measured by the server process's own CPU time per request
// (utime + stime from /proc) rather than throughput: on the shared 2-core machine throughput
// ratios swing by ±20% between runs, CPU per request does not. A server saturated on CPU serves
// 1 / (CPU per request), so the throughput ratio is the CPU ratio inverted.

const serve = fileURLToPath(new URL("../serve.ts", import.meta.url));

function start(file: string, variant: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(serve, [file, variant], {
      execArgv: ["--import", "tsx", "--conditions=@palisade/source"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, NODE_ENV: "production" },
    });
    child.once("message", (message) => resolve({ child, port: (message as { port: number }).port }));
    child.once("exit", (code) => reject(new Error(`variant ${variant} exited with ${code}`)));
  });
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Server CPU per request for each variant of an HTTP bench case, alternating rounds; ratios are paired per round. */
export async function serverCpu(
  file: string,
  variants: string[],
  request: BenchRequest = {},
  targets: { variant: string; minRatio: number }[] = [],
) {
  const amount = Number(process.env.BENCH_REQUESTS ?? 20_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  const options = {
    connections: 10,
    method: request.method ?? "GET",
    path: request.path ?? "/",
    headers: request.headers,
  };
  const servers = new Map<string, { child: ChildProcess; port: number }>();
  for (const variant of variants) servers.set(variant, await start(file, variant));
  const samples = new Map(variants.map((variant) => [variant, [] as number[]]));
  try {
    for (const variant of variants) {
      await autocannon({ url: `http://127.0.0.1:${servers.get(variant)!.port}`, amount: 5_000, ...options });
    }
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        const { child, port } = servers.get(variant)!;
        const before = cpuSeconds(child.pid!);
        const result = await autocannon({ url: `http://127.0.0.1:${port}`, amount, ...options });
        const used = cpuSeconds(child.pid!) - before;
        if (result.non2xx + result.errors > 0) throw new Error(`${variant}: ${result.non2xx + result.errors} failures`);
        samples.get(variant)!.push((used * 1e6) / amount);
      }
    }
  } finally {
    for (const { child } of servers.values()) child.kill();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const baseline = variants[0]!;
  const ratio = (variant: string) =>
    Number(median(samples.get(baseline)!.map((value, i) => value / samples.get(variant)![i]!)).toFixed(3));
  const rows = variants.map((variant) => ({
    variant,
    cpuMicrosPerRequest: Number(median(samples.get(variant)!).toFixed(1)),
    throughputRatioVsBare: ratio(variant),
  }));
  console.table(rows);
  const results = targets.map((target) => ({
    ...target,
    ratio: ratio(target.variant),
    met: ratio(target.variant) >= target.minRatio,
  }));
  for (const target of results) {
    console.log(
      `  target ${target.variant} >= ${target.minRatio} x ${baseline}: ${target.ratio} ${target.met ? "MET" : "MISSED"}`,
    );
  }
  return { rounds, amount, rows, targets: results };
}

export default defineBench({
  kind: "script",
  description:
    "server CPU time per request: bare, static draft-8 headers, rateLimit() api and sensitive (memory store)",
  run: () =>
    serverCpu(
      fileURLToPath(new URL("./rate-limit.bench.ts", import.meta.url)),
      ["bare", "headersOnly", "api", "sensitive"],
      {},
      [
        { variant: "api", minRatio: 0.9 },
        { variant: "sensitive", minRatio: 0.9 },
      ],
    ),
});
