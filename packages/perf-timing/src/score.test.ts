import { describe, expect, it } from "vitest";
import { performanceScore, type ScoreInput } from "./score.js";

function input(latency: Partial<ScoreInput["latency"]>, loopP99 = 0): ScoreInput {
  return {
    latency: { count: 100, errorRate: 0, p50: 10, p95: 50, p99: 100, ...latency },
    eventLoop: { delay: { p99: loopP99 } },
  };
}

describe("performanceScore()", () => {
  it("gives 100 when every target is met", () => {
    expect(performanceScore(input({}))).toBe(100);
  });

  it("gives 100 to an idle process with a quiet event loop", () => {
    expect(performanceScore(input({ count: 0, p50: 0, p95: 0, p99: 0 }))).toBe(100);
  });

  it("halves a latency term at twice its target", () => {
    // L = (0.5 + 1 + 1) / 3; score = 100 * (0.5 * L + 0.3 + 0.2)
    expect(performanceScore(input({ p50: 200 }))).toBe(Math.round(100 * (0.5 * (2.5 / 3) + 0.5)));
  });

  it("drops the error part to 0 at the maximum error rate", () => {
    expect(performanceScore(input({ errorRate: 0.05 }))).toBe(70);
    expect(performanceScore(input({ errorRate: 0.025 }))).toBe(85);
  });

  it("scores event-loop delay against its target", () => {
    expect(performanceScore(input({}, 400))).toBe(85);
  });

  it("applies custom targets", () => {
    expect(performanceScore(input({ p50: 20, p95: 100, p99: 200 }), { p50Ms: 10, p95Ms: 50, p99Ms: 100 })).toBe(75);
  });

  it("stays within 0-100 for the worst input", () => {
    const score = performanceScore(input({ p50: 1e9, p95: 1e9, p99: 1e9, errorRate: 1 }, 1e9));
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
  });
});
