/** Latency over the sliding window, in milliseconds (HdrHistogram, 2 significant digits: within 1%). */
export interface LatencySummary {
  /** Requests in the window. */
  count: number;
  /** Server errors (5xx) in the window. */
  errors: number;
  /** `errors / count`, 0 without requests. */
  errorRate: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}
