import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { defineBench } from "../harness.js";

// The HTTP bench's four servers (bare, helmet, constantBytes, securityHeaders), measured by the
// server process's own CPU time per request (utime + stime from /proc) instead of throughput:
// on a shared, loaded machine throughput ratios swing by ±20% between runs, while CPU per request
// does not care how often the process was descheduled. A server saturated on CPU serves
// 1 / (CPU per request), so `throughputRatio` is the CPU ratio inverted.

const serve = fileURLToPath(new URL("../serve.ts", import.meta.url));
const httpCase = fileURLToPath(new URL("./security-headers.bench.ts", import.meta.url));
const variants = ["bare", "helmet", "constantBytes", "securityHeaders"];
const ticksPerSecond = 100;

function start(variant: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(serve, [httpCase, variant], {
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
  // Fields 14 and 15 of stat (utime, stime), counted from after the command name.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export default defineBench({
  kind: "script",
  description: "server CPU time per request: bare, helmet(), constant header bytes, securityHeaders()",
  async run() {
    const amount = Number(process.env.BENCH_REQUESTS ?? 25_000);
    const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
    const servers = new Map<string, { child: ChildProcess; port: number }>();
    for (const variant of variants) servers.set(variant, await start(variant));
    const samples = new Map(variants.map((variant) => [variant, [] as number[]]));
    try {
      for (const variant of variants) {
        await autocannon({ url: `http://127.0.0.1:${servers.get(variant)!.port}`, amount: 5_000, connections: 10 });
      }
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? variants : [...variants].reverse();
        for (const variant of order) {
          const { child, port } = servers.get(variant)!;
          const before = cpuSeconds(child.pid!);
          const result = await autocannon({ url: `http://127.0.0.1:${port}`, amount, connections: 10 });
          const used = cpuSeconds(child.pid!) - before;
          if (result.non2xx + result.errors > 0)
            throw new Error(`${variant}: ${result.non2xx + result.errors} failures`);
          samples.get(variant)!.push((used * 1e6) / amount);
        }
      }
    } finally {
      for (const { child } of servers.values()) child.kill();
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const cpu = Object.fromEntries(variants.map((variant) => [variant, median(samples.get(variant)!)]));
    // Ratios pair the rounds (same moment, same machine load), then take the median.
    const pairedRatio = (variant: string, against: string) =>
      median(samples.get(against)!.map((value, i) => value / samples.get(variant)![i]!));
    const rows = variants.map((variant) => ({
      variant,
      cpuMicrosPerRequest: Number(cpu[variant]!.toFixed(1)),
      throughputRatioVsBare: Number(pairedRatio(variant, "bare").toFixed(3)),
    }));
    console.log(`\nsecurity-headers-server-cpu (${rounds} rounds x ${amount} requests, 10 connections)`);
    console.table(rows);
    const targets = [
      { variant: "securityHeaders", against: "constantBytes", minRatio: 0.98 },
      { variant: "securityHeaders", against: "helmet", minRatio: 1 },
    ].map((target) => {
      const ratio = Number(pairedRatio(target.variant, target.against).toFixed(3));
      return { ...target, ratio, met: ratio >= target.minRatio };
    });
    for (const t of targets) {
      console.log(
        `  target ${t.variant} >= ${t.minRatio} x ${t.against} (by CPU): ${t.ratio} ${t.met ? "MET" : "MISSED"}`,
      );
    }
    return { rows, targets, samples: Object.fromEntries(samples), rounds, amount };
  },
});
