import { describe, expect, it } from "vitest";
import { LatencyWindow } from "./window.js";

// Exact nearest-rank percentile of a sorted list, the reference the histogram is held to.
function exact(sorted: number[], percentile: number): number {
  const rank = Math.ceil((percentile / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

// A deterministic long-tailed distribution (log-normal through a fixed-seed generator), in µs.
function longTail(count: number): number[] {
  let seed = 42;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed + 1) / 2147483649;
  };
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const normal = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
    values.push(Math.round(Math.exp(9 + 1.2 * normal)));
  }
  return values;
}

describe("LatencyWindow", () => {
  describe("percentiles", () => {
    it.each([
      ["uniform 1..100000 µs", Array.from({ length: 100_000 }, (_, i) => i + 1)],
      ["log-normal, 50000 samples", longTail(50_000)],
    ])("match the exact percentiles of %s within the histogram's 1%", (_name, values) => {
      const window = new LatencyWindow(6, 10);
      for (const value of values) window.record(value, false, 10);
      const sorted = [...values].sort((a, b) => a - b);
      const summary = window.summary(10);
      expect(summary.count).toBe(values.length);
      for (const [key, percentile] of [
        ["p50", 50],
        ["p90", 90],
        ["p95", 95],
        ["p99", 99],
        ["max", 100],
      ] as const) {
        const expected = exact(sorted, percentile) / 1000;
        expect(Math.abs(summary[key] - expected) / expected, `${key}: ${summary[key]} vs ${expected}`).toBeLessThan(
          0.01,
        );
      }
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length / 1000;
      expect(Math.abs(summary.mean - mean) / mean).toBeLessThan(0.01);
    });

    it("reports zeros for an empty window", () => {
      expect(new LatencyWindow(6, 0).summary(0)).toEqual({
        count: 0,
        errors: 0,
        errorRate: 0,
        mean: 0,
        p50: 0,
        p90: 0,
        p95: 0,
        p99: 0,
        max: 0,
      });
    });
  });

  describe("sliding", () => {
    it("keeps values recorded within the last `slices` epochs", () => {
      const window = new LatencyWindow(3, 100);
      window.record(1000, true, 100);
      window.record(2000, false, 101);
      window.record(3000, false, 102);
      expect(window.summary(102)).toMatchObject({ count: 3, errors: 1, max: 3 });
    });

    it("drops a slice once the window has moved past it", () => {
      const window = new LatencyWindow(3, 100);
      window.record(9000, true, 100);
      window.record(2000, false, 101);
      const summary = window.summary(103);
      expect(summary).toMatchObject({ count: 1, errors: 0, max: 2 });
    });

    it("empties completely after a gap longer than the window", () => {
      const window = new LatencyWindow(3, 100);
      window.record(1000, false, 100);
      window.record(1000, false, 102);
      expect(window.summary(500).count).toBe(0);
      window.record(4000, false, 500);
      expect(window.summary(500)).toMatchObject({ count: 1, max: 4 });
    });

    it("counts the error rate of the window", () => {
      const window = new LatencyWindow(2, 0);
      for (let i = 0; i < 8; i++) window.record(500, i < 2, 0);
      expect(window.summary(0)).toMatchObject({ count: 8, errors: 2, errorRate: 0.25 });
    });
  });
});
