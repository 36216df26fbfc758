import { once } from "node:events";
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type HttpBenchCase, selectedVariants } from "./harness.js";
import { measure, start } from "./inprocess.js";

// `pnpm bench <name> --ic-misses`: an HTTP bench case's variants counted, not timed. Express
// swaps the prototype of every request and response, after which V8 gives each request object
// a hidden class of its own; every first read of a property on it (and every read of a missing
// one) then misses V8's megamorphic inline-cache table and goes to the runtime, a fraction of a
// microsecond each. `node --log-ic` logs each of those misses. This counts them per request over
// the measured requests of the in-process harness (bench/inprocess.ts), per variant: a figure
// that does not move with machine noise, for judging a change to a hot path before timing it.

interface Counts {
  /** Requests in the window: the detachSocket misses while counting, then the requests sent. */
  requests: number;
  total: number;
  byKey: Map<string, number>;
}

/** Misses of ICs already megamorphic (old state "N") inside [fromMs, toMs] of the log's clock. */
async function countMisses(file: string, fromMs: number, toMs: number): Promise<Counts> {
  const byKey = new Map<string, number>();
  let total = 0;
  let finished = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => {
    // LoadIC,<pc>,<time µs>,<line>,<column>,<old state>,<new state>,<map>,<key>,<modifier>,<slow reason>
    const comma = line.indexOf(",");
    if (comma < 0 || !line.slice(0, comma).endsWith("IC")) return;
    const fields = line.split(",");
    const micros = Number(fields[2]);
    if (fields[5] !== "N" || micros < fromMs * 1000 || micros > toMs * 1000) return;
    total++;
    // Symbol keys print with a per-process hash; stripped, one symbol compares equal across variants.
    const key = `${fields[0]} ${fields[8]?.replace(/ hash [0-9a-f]+\)$/, ")")}`;
    byKey.set(key, (byKey.get(key) ?? 0) + 1);
    // Node's server reads res.detachSocket once as each response finishes: a request counter
    // that checks the window matched the measured requests.
    if (fields[8] === "detachSocket") finished++;
  });
  await once(lines, "close");
  return { requests: finished, total, byKey };
}

/** The main thread's log: the largest of the per-isolate files (the loader's thread writes one too). */
function mainLog(dir: string): string {
  const files = readdirSync(dir).map((name) => join(dir, name));
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

export async function runIcMisses(name: string, file: string, bench: HttpBenchCase) {
  const variants = selectedVariants(bench);
  const amount = Number(process.env.BENCH_REQUESTS ?? 3_000);
  const counted = new Map<string, Counts>();
  for (const variant of variants) {
    const dir = mkdtempSync(join(tmpdir(), "palisade-ic-"));
    try {
      const proc = await start(file, variant, ["--log-ic", `--logfile=${join(dir, "v8.log")}`]);
      const { window, failures } = await measure(proc, amount);
      if (failures > 0) throw new Error(`${variant}: ${failures} responses with status >= 400`);
      proc.send({ exit: true });
      await once(proc, "exit");
      const counts = await countMisses(mainLog(dir), window[0], window[1]);
      // The log's clock starts with the isolate, performance.now() with the process: a few ms
      // apart. A window that missed requests would show here. (A few percent of the counter's
      // reads hit anyway, when a new hidden class lands where a dead one was.)
      if (Math.abs(counts.requests - amount) > amount * 0.1) {
        throw new Error(`${variant}: the log's window holds ${counts.requests} finished responses, not ${amount}`);
      }
      counted.set(variant, { ...counts, requests: amount });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const baseline = counted.get(variants[0]!)!;
  const perRequest = (counts: Counts, key?: string) =>
    (key === undefined ? counts.total : (counts.byKey.get(key) ?? 0)) / counts.requests;
  const rows = variants.map((variant) => {
    const counts = counted.get(variant)!;
    // The properties this variant misses on more often than the baseline, most first.
    const extra = [...counts.byKey.keys()]
      .map((key) => [key, perRequest(counts, key) - perRequest(baseline, key)] as const)
      .filter(([, more]) => more >= 0.5)
      .sort((a, b) => b[1] - a[1])
      .map(([key, more]) => `${key.replace(/^LoadIC /, "")}${more >= 1.5 ? ` x${Math.round(more)}` : ""}`);
    return {
      variant,
      missesPerRequest: Number(perRequest(counts).toFixed(1)),
      overBaseline: Number((perRequest(counts) - perRequest(baseline)).toFixed(1)),
      extra: extra.slice(0, 12).join(", "),
    };
  });
  console.log(`\n${name} IC misses: ${bench.description} (${amount} requests after 5000 warm-up)`);
  console.table(rows.map(({ extra, ...row }) => row));
  for (const row of rows.slice(1)) console.log(`  ${row.variant} misses more on: ${row.extra || "-"}`);
  return { mode: "ic-misses", amount, rows };
}
