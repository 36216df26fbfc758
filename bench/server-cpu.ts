import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { type BenchRequest, judgeTargets, median, type RatioTarget, spread } from "./harness.js";
import { startVariant } from "./variant.js";

// Servers of an HTTP bench case measured by the server process's own CPU time per request
// (utime + stime from /proc) rather than throughput: on a shared 2-core machine throughput ratios
// swing by ±20% between runs, CPU per request barely does. A server saturated on CPU serves
// 1 / (CPU per request), so the throughput ratio is the CPU ratio inverted.

const TICKS_PER_SECOND = 100;

function cpuSeconds(pid: number): number {
  // Fields 14 and 15 of stat (utime, stime), counted from after the command name.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * Ratios of CPU per request, paired per round (same moment, same machine state) and then the
 * median over rounds: the baseline's CPU over the variant's, i.e. the throughput ratio a
 * CPU-bound server would see. Prints the table and each target's verdict.
 */
export function cpuReport(
  title: string,
  variants: string[],
  samples: Map<string, number[]>,
  targets: readonly RatioTarget[],
) {
  const baseline = variants[0]!;
  // The against variant's CPU over this one's: the throughput ratio.
  const ratios = (variant: string, against = baseline) => {
    const mine = samples.get(variant);
    const base = samples.get(against);
    return mine && base ? base.map((value, i) => value / mine[i]!) : undefined;
  };
  const rows = variants.map((variant) => ({
    variant,
    cpuMicrosPerRequest: Number(median(samples.get(variant)!).toFixed(1)),
    minMicros: Number(Math.min(...samples.get(variant)!).toFixed(1)),
    ratio: Number(median(ratios(variant)!).toFixed(3)),
    middleHalf: spread(ratios(variant)!),
  }));
  console.log(`\n${title}`);
  console.table(rows);
  return { rows, targets: judgeTargets(targets, baseline, ratios, " (CPU per request)") };
}

/**
 * Server CPU per request for each variant of an HTTP bench case (the first is the baseline),
 * alternating rounds; ratios pair the rounds (same moment, same load), then take the median.
 */
export async function serverCpu(
  file: string,
  variants: string[],
  request: BenchRequest = {},
  targets: RatioTarget[] = [],
) {
  const amount = Number(process.env.BENCH_REQUESTS ?? 20_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  // autocannon takes the path from the URL (a `path` option is ignored).
  const path = request.path ?? "/";
  const options = { connections: 10, method: request.method ?? "GET", headers: request.headers, body: request.body };
  const samples = new Map(variants.map((variant) => [variant, [] as number[]]));
  // As in run.ts: fresh processes every round, started, warmed and measured in one order that
  // is reversed every other round, so no variant is always the first process.
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const servers = new Map<string, { child: ChildProcess; port: number }>();
    try {
      for (const variant of order) servers.set(variant, await startVariant(file, variant));
      for (const variant of order) {
        await autocannon({ url: `http://127.0.0.1:${servers.get(variant)!.port}${path}`, amount: 5_000, ...options });
      }
      for (const variant of order) {
        const { child, port } = servers.get(variant)!;
        const before = cpuSeconds(child.pid!);
        const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, amount, ...options });
        const used = cpuSeconds(child.pid!) - before;
        if (result.non2xx + result.errors > 0) throw new Error(`${variant}: ${result.non2xx + result.errors} failures`);
        samples.get(variant)!.push((used * 1e6) / amount);
      }
    } finally {
      for (const { child } of servers.values()) child.kill();
    }
  }
  const { rows, targets: results } = cpuReport(
    `server CPU per request (${rounds} rounds x ${amount} requests, 10 connections)`,
    variants,
    samples,
    targets,
  );
  return { rounds, amount, rows, targets: results, samples: Object.fromEntries(samples) };
}
