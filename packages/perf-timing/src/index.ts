export {
  DURATION_METRIC,
  type ExposeSpansOptions,
  METHODS,
  OVERFLOW_ROUTE,
  type PerfTimingOptions,
  ROUTE_CAP_CODE,
  SLOW_REQUEST_CODE,
  UNMATCHED_ROUTE,
} from "./options.js";
export { type PerfStats, type PerfTimingMiddleware, perfTiming, type RouteStats } from "./perf-timing.js";
export type { RuntimeSummary } from "./runtime.js";
export { performanceScore, SCORE_TARGETS, type ScoreInput, type ScoreTargets } from "./score.js";
export { endSpan, type Span, startSpan, timed } from "./spans.js";
export type { LatencySummary } from "./summary.js";
