import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { type BenchRequest, median, spread } from "./harness.js";
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
  targets: readonly { variant: string; minRatio: number; against?: string }[],
) {
  const baseline = variants[0]!;
  const ratios = (variant: string, against = baseline) =>
    samples.get(against)!.map((value, i) => value / samples.get(variant)![i]!);
  const ratio = (variant: string, against = baseline) => Number(median(ratios(variant, against)).toFixed(3));
  const rows = variants.map((variant) => ({
    variant,
    cpuMicrosPerRequest: Number(median(samples.get(variant)!).toFixed(1)),
    minMicros: Number(Math.min(...samples.get(variant)!).toFixed(1)),
    ratio: ratio(variant),
    middleHalf: spread(ratios(variant)),
  }));
  console.log(`\n${title}`);
  console.table(rows);
  const measured = targets.filter((t) => samples.has(t.variant) && samples.has(t.against ?? baseline));
  const results = measured.map((target) => {
    const against = target.against ?? baseline;
    const value = ratio(target.variant, against);
    return { ...target, against, ratio: value, met: value >= target.minRatio };
  });
  for (const target of results) {
    console.log(
      `  target ${target.variant} >= ${target.minRatio} x ${target.against} (CPU per request): ${target.ratio} ${target.met ? "MET" : "MISSED"}`,
    );
  }
  return { rows, targets: results };
}

/**
 * Server CPU per request for each variant of an HTTP bench case (the first is the baseline),
 * alternating rounds; ratios pair the rounds (same moment, same load), then take the median.
 */
export async function serverCpu(
  file: string,
  variants: string[],
  request: BenchRequest = {},
  targets: { variant: string; minRatio: number; against?: string }[] = [],
) {
  const amount = Number(process.env.BENCH_REQUESTS ?? 20_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  // autocannon takes the path from the URL (a `path` option is ignored).
  const path = request.path ?? "/";
  const options = { connections: 10, method: request.method ?? "GET", headers: request.headers, body: request.body };
  const servers = new Map<string, { child: ChildProcess; port: number }>();
  for (const variant of variants) servers.set(variant, await startVariant(file, variant));
  const samples = new Map(variants.map((variant) => [variant, [] as number[]]));
  try {
    for (const variant of variants) {
      await autocannon({ url: `http://127.0.0.1:${servers.get(variant)!.port}${path}`, amount: 5_000, ...options });
    }
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
        const { child, port } = servers.get(variant)!;
        const before = cpuSeconds(child.pid!);
        const result = await autocannon({ url: `http://127.0.0.1:${port}${path}`, amount, ...options });
        const used = cpuSeconds(child.pid!) - before;
        if (result.non2xx + result.errors > 0) throw new Error(`${variant}: ${result.non2xx + result.errors} failures`);
        samples.get(variant)!.push((used * 1e6) / amount);
      }
    }
  } finally {
    for (const { child } of servers.values()) child.kill();
  }
  const { rows, targets: results } = cpuReport(
    `server CPU per request (${rounds} rounds x ${amount} requests, 10 connections)`,
    variants,
    samples,
    targets,
  );
  return { rounds, amount, rows, targets: results, samples: Object.fromEntries(samples) };
}
