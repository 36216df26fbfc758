import { type EventLoopUtilization, type IntervalHistogram, monitorEventLoopDelay, performance } from "node:perf_hooks";

/** Event-loop and memory figures of the process. */
export interface RuntimeSummary {
  eventLoop: {
    /** Event-loop delay over the window in ms beyond the 10 ms sampling interval (`perf_hooks.monitorEventLoopDelay`). */
    delay: { mean: number; p50: number; p99: number; max: number };
    /** Event-loop utilisation over the window, 0 to 1 (`performance.eventLoopUtilization`). */
    utilization: number;
  };
  /** `process.memoryUsage()` in bytes, read when the snapshot is taken. */
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
}

interface DelaySlice {
  epoch: number;
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

// The monitor's samples include its own timer interval; like under-pressure, report only the excess.
const RESOLUTION_MS = 10;
const excess = (nanos: number) => Math.max(0, nanos / 1e6 - RESOLUTION_MS);

const EMPTY: DelaySlice = { epoch: -1, count: 0, mean: 0, p50: 0, p99: 0, max: 0 };
const round3 = (value: number) => Math.round(value * 1000) / 1000;

/**
 * Event-loop delay and utilisation over the same sliding window as the latencies. The delay
 * monitor is read and reset once per slice; each slice keeps its mean, p50, p99 and max, and
 * the window reports the count-weighted mean and the worst p50, p99 and max of its slices.
 */
export class RuntimeWindow {
  private readonly monitor: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly delays: DelaySlice[];
  private readonly utilizationAt: { epoch: number; value: EventLoopUtilization }[];
  private epoch: number;

  constructor(
    private readonly slices: number,
    epoch: number,
  ) {
    this.monitor.enable();
    this.delays = Array.from({ length: slices }, () => EMPTY);
    this.utilizationAt = Array.from({ length: slices }, () => ({
      epoch: -1,
      value: performance.eventLoopUtilization(),
    }));
    this.epoch = epoch;
    this.utilizationAt[epoch % slices] = { epoch, value: performance.eventLoopUtilization() };
  }

  private read(epoch: number): DelaySlice {
    const monitor = this.monitor;
    if (monitor.count === 0) return { ...EMPTY, epoch };
    return {
      epoch,
      count: monitor.count,
      mean: excess(monitor.mean),
      p50: excess(monitor.percentile(50)),
      p99: excess(monitor.percentile(99)),
      max: excess(monitor.max),
    };
  }

  /** Closes the current slice and starts the one at `epoch`. */
  advance(epoch: number): void {
    if (epoch <= this.epoch) return;
    this.delays[this.epoch % this.slices] = this.read(this.epoch);
    this.monitor.reset();
    this.utilizationAt[epoch % this.slices] = { epoch, value: performance.eventLoopUtilization() };
    this.epoch = epoch;
  }

  summary(epoch: number): RuntimeSummary {
    this.advance(epoch);
    const oldest = epoch - this.slices + 1;
    const current = this.read(epoch);
    let count = current.count;
    let weighted = current.mean * current.count;
    let { p50, p99, max } = current;
    for (const slice of this.delays) {
      if (slice.epoch < oldest || slice.epoch >= epoch || slice.count === 0) continue;
      count += slice.count;
      weighted += slice.mean * slice.count;
      p50 = Math.max(p50, slice.p50);
      p99 = Math.max(p99, slice.p99);
      max = Math.max(max, slice.max);
    }
    let since: EventLoopUtilization | undefined;
    let sinceEpoch = Number.POSITIVE_INFINITY;
    for (const mark of this.utilizationAt) {
      if (mark.epoch >= oldest && mark.epoch < sinceEpoch) {
        since = mark.value;
        sinceEpoch = mark.epoch;
      }
    }
    const utilization = since ? performance.eventLoopUtilization(since).utilization : 0;
    const memory = process.memoryUsage();
    return {
      eventLoop: {
        delay: { mean: round3(count ? weighted / count : 0), p50: round3(p50), p99: round3(p99), max: round3(max) },
        utilization: round3(utilization),
      },
      memory: {
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        heapTotal: memory.heapTotal,
        external: memory.external,
        arrayBuffers: memory.arrayBuffers,
      },
    };
  }

  /** Stops the event-loop delay monitor. */
  close(): void {
    this.monitor.disable();
  }
}
