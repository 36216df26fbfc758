import { createRequire } from "node:module";
import type hdrInt32 from "hdr-histogram-js/dist/Int32Histogram.js";
import type { LatencySummary } from "./summary.js";

// The pure-JS HdrHistogram class, required directly: the package index also loads the
// WebAssembly build and its decompressor, which perfTiming never uses. `require` (not
// `import`) because ESM-from-CJS default interop differs between Node and bundlers.
const { default: Int32Histogram } = createRequire(import.meta.url)(
  "hdr-histogram-js/dist/Int32Histogram.js",
) as typeof hdrInt32;
type Histogram = InstanceType<typeof Int32Histogram>;

// Microseconds, 2 significant digits; starts sized for 1 s and grows on demand.
function newHistogram(): Histogram {
  const histogram = new Int32Histogram(1, 1_000_000, 2);
  histogram.autoResize = true;
  return histogram;
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

/**
 * A sliding window of latencies: `slices` HdrHistograms in a ring, indexed by epoch (the
 * number of slice lengths since the clock's origin). Recording is O(1); a new epoch clears
 * the slices it skipped over (at most `slices`), so old data ages out without a timer.
 */
export class LatencyWindow {
  private readonly histograms: Histogram[];
  private readonly errorCounts: number[];
  private epoch: number;

  constructor(
    private readonly slices: number,
    epoch: number,
  ) {
    this.histograms = Array.from({ length: slices }, newHistogram);
    this.errorCounts = new Array<number>(slices).fill(0);
    this.epoch = epoch;
  }

  /** Records one latency in microseconds at `epoch`. */
  record(micros: number, error: boolean, epoch: number): void {
    if (epoch !== this.epoch) this.advance(epoch);
    const index = this.epoch % this.slices;
    this.histograms[index]!.recordValue(micros);
    if (error) this.errorCounts[index]!++;
  }

  /** Moves the window to `epoch`, clearing the slices that fell out of it. A clock going backwards is ignored. */
  advance(epoch: number): void {
    if (epoch <= this.epoch) return;
    const steps = Math.min(this.slices, epoch - this.epoch);
    for (let step = 1; step <= steps; step++) {
      const index = (this.epoch + step) % this.slices;
      this.histograms[index]!.reset();
      this.errorCounts[index] = 0;
    }
    this.epoch = epoch;
  }

  /** Adds the window's slices at `epoch` to `merged` and returns their error count. */
  mergeInto(merged: Histogram, epoch: number): number {
    this.advance(epoch);
    let errors = 0;
    for (let index = 0; index < this.slices; index++) {
      const histogram = this.histograms[index]!;
      if (histogram.totalCount > 0) merged.add(histogram);
      errors += this.errorCounts[index]!;
    }
    return errors;
  }

  /** Merges the slices into one summary at `epoch` (allocates; meant for `stats()`, not the request path). */
  summary(epoch: number): LatencySummary {
    return summarize([this], epoch);
  }
}

/** One summary over several windows (every route together). */
export function summarize(windows: Iterable<LatencyWindow>, epoch: number): LatencySummary {
  const merged = newHistogram();
  let errors = 0;
  for (const window of windows) errors += window.mergeInto(merged, epoch);
  const count = merged.totalCount;
  if (count === 0) return { count: 0, errors, errorRate: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  // Percentiles report the top of their bucket; never above the largest value seen.
  const max = merged.maxValue;
  const ms = (micros: number) => round3(Math.min(micros, max) / 1000);
  return {
    count,
    errors,
    errorRate: errors / count,
    mean: ms(merged.mean),
    p50: ms(merged.getValueAtPercentile(50)),
    p90: ms(merged.getValueAtPercentile(90)),
    p95: ms(merged.getValueAtPercentile(95)),
    p99: ms(merged.getValueAtPercentile(99)),
    max: ms(max),
  };
}
