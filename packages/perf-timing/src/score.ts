import type { LatencySummary } from "./summary.js";

/** What good looks like for {@link performanceScore}; each field optional. */
export interface ScoreTargets {
  /** Median latency target in ms. Defaults to `100`. */
  p50Ms?: number;
  /** 95th-percentile latency target in ms. Defaults to `500`. */
  p95Ms?: number;
  /** 99th-percentile latency target in ms. Defaults to `1000`. */
  p99Ms?: number;
  /** Server-error (5xx) rate at which the error part reaches 0. Defaults to `0.05`. */
  maxErrorRate?: number;
  /** Event-loop delay p99 target in ms. Defaults to `100`. */
  eventLoopDelayMs?: number;
}

/** The parts of a `stats()` snapshot the score reads. */
export interface ScoreInput {
  latency: Pick<LatencySummary, "count" | "errorRate" | "p50" | "p95" | "p99">;
  eventLoop: { delay: { p99: number } };
}

export const SCORE_TARGETS = {
  p50Ms: 100,
  p95Ms: 500,
  p99Ms: 1000,
  maxErrorRate: 0.05,
  eventLoopDelayMs: 100,
} as const;

// 1 at or under the target, then target/value: twice the target scores 0.5, ten times 0.1.
const against = (value: number, target: number) => (value <= target ? 1 : target / value);

/**
 * One number from 0 (bad) to 100 (all targets met) for a dashboard, from a `stats()` snapshot:
 *
 * `score = round(100 * (0.5 * L + 0.3 * E + 0.2 * D))`, where, with `r(v, t) = 1` when `v <= t`, else `t / v`:
 * - `L` (latency) `= (r(p50, p50Ms) + r(p95, p95Ms) + r(p99, p99Ms)) / 3` over the window, `1` without requests;
 * - `E` (errors) `= max(0, 1 - errorRate / maxErrorRate)`, the 5xx share of the window's requests;
 * - `D` (event loop) `= r(eventLoop.delay.p99, eventLoopDelayMs)`.
 *
 * @example
 * const timing = perfTiming();
 * app.get("/performance", (_req, res) => {
 *   const stats = timing.stats();
 *   res.json({ score: performanceScore(stats), stats });
 * });
 */
export function performanceScore(stats: ScoreInput, targets: Readonly<ScoreTargets> = {}): number {
  const t = { ...SCORE_TARGETS, ...targets };
  const { latency } = stats;
  const latencyPart =
    latency.count === 0
      ? 1
      : (against(latency.p50, t.p50Ms) + against(latency.p95, t.p95Ms) + against(latency.p99, t.p99Ms)) / 3;
  let errorPart = 1;
  if (latency.count > 0 && latency.errorRate > 0) {
    errorPart = t.maxErrorRate > 0 ? Math.max(0, 1 - latency.errorRate / t.maxErrorRate) : 0;
  }
  const loopPart = against(stats.eventLoop.delay.p99, t.eventLoopDelayMs);
  return Math.round(100 * (0.5 * latencyPart + 0.3 * errorPart + 0.2 * loopPart));
}
