import type { ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { type BenchCase, type HttpBenchCase, judgeTargets, median, selectedVariants, spread } from "./harness.js";
import { runIcMisses } from "./ic-misses.js";
import { runInProcess } from "./inprocess.js";
import { startVariant } from "./variant.js";

// `pnpm bench [name...]`: runs bench/cases/<name>.bench.ts (all of them without a name).
// HTTP cases start each variant in its own process and alternate autocannon rounds between
// them, so machine noise hits every variant alike; ratios are medians over the rounds, and each
// round has fresh processes.

const here = fileURLToPath(new URL(".", import.meta.url));
const casesDir = join(here, "cases");
const resultsDir = join(here, "results");
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
// `--inprocess`: HTTP cases measured by CPU per request on an in-memory socket (bench/inprocess.ts).
const inProcess = process.argv.includes("--inprocess");
// `--ic-misses`: HTTP cases counted in V8 inline-cache misses per request (bench/ic-misses.ts).
const icMisses = process.argv.includes("--ic-misses");
const files = readdirSync(casesDir)
  .filter((file) => file.endsWith(".bench.ts"))
  .filter((file) => wanted.length === 0 || wanted.includes(file.replace(/\.bench\.ts$/, "")));
if (files.length === 0) {
  console.error(`no bench case matches ${wanted.join(", ")}; cases: ${readdirSync(casesDir).join(", ")}`);
  process.exit(1);
}

async function runHttp(name: string, file: string, bench: HttpBenchCase) {
  const variants = selectedVariants(bench);
  const rounds = Number(process.env.BENCH_ROUNDS ?? bench.rounds ?? 5);
  const duration = Number(process.env.BENCH_SECONDS ?? bench.durationSeconds ?? 3);
  const connections = bench.connections ?? 10;
  const samples = new Map(
    variants.map((variant) => [variant, [] as { rps: number; p50: number; p99: number; errors: number }[]]),
  );
  // Every round starts its own server processes: one process can run a few percent faster or
  // slower than an identical one for its whole life (code placement, which core it lands on), so
  // reusing processes across rounds would repeat that luck in every round instead of averaging it.
  for (let round = 0; round < rounds; round++) {
    const servers = new Map<string, { child: ChildProcess; port: number }>();
    try {
      // Started, warmed and measured in one order, reversed every other round.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) servers.set(variant, await startVariant(file, variant));
      for (const variant of order) {
        await autocannon({ duration: 1, connections, ...target(servers.get(variant)!.port, bench) });
      }
      for (const variant of order) {
        const result = await autocannon({ duration, connections, ...target(servers.get(variant)!.port, bench) });
        samples.get(variant)!.push({
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          errors: result.errors + result.non2xx,
        });
      }
    } finally {
      for (const { child } of servers.values()) child.kill();
    }
  }
  const baseline = variants[0]!;
  const rows = variants.map((variant) => {
    const runs = samples.get(variant)!;
    const ratios = runs.map((run, i) => run.rps / samples.get(baseline)![i]!.rps);
    return {
      variant,
      rps: Math.round(median(runs.map((run) => run.rps))),
      p50: median(runs.map((run) => run.p50)),
      p99: median(runs.map((run) => run.p99)),
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
      ratio: Number(median(ratios).toFixed(3)),
      middleHalf: spread(ratios),
    };
  });
  console.log(`\n${name}: ${bench.description} (${rounds} rounds x ${duration}s, ${connections} connections)`);
  console.table(rows);
  const targets = judgeTargets(bench.targets ?? [], baseline, (variant, against) => {
    const runs = samples.get(variant);
    const base = samples.get(against);
    return runs && base ? runs.map((run, i) => run.rps / base[i]!.rps) : undefined;
  });
  const perRound = Object.fromEntries(
    variants.map((variant) => [variant, samples.get(variant)!.map((run) => Math.round(run.rps))]),
  );
  console.log(`  rps per round: ${JSON.stringify(perRound)}`);
  return { rows, targets, rounds, duration, connections, perRound };
}

// autocannon takes the path from `url` (a `path` option is ignored), so the path goes there.
function target(port: number, bench: HttpBenchCase) {
  const request = bench.request ?? {};
  return {
    url: `http://127.0.0.1:${port}${request.path ?? "/"}`,
    method: request.method ?? "GET",
    headers: request.headers,
    body: request.body,
  } as const;
}

mkdirSync(resultsDir, { recursive: true });
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, "");
  const path = join(casesDir, file);
  const bench = (await import(pathToFileURL(path).href)).default as BenchCase;
  const result =
    bench.kind === "http"
      ? icMisses
        ? await runIcMisses(name, path, bench)
        : inProcess
          ? await runInProcess(name, path, bench)
          : await runHttp(name, path, bench)
      : { description: bench.description, ...(await bench.run()) };
  const mode = bench.kind !== "http" ? "" : icMisses ? "-ic-misses" : inProcess ? "-inprocess" : "";
  const out = join(resultsDir, `${name}${mode}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(out, `${JSON.stringify({ name, node: process.version, ...result }, null, 2)}\n`);
  console.log(`  results: ${out}`);
}
