import { createRequire } from "node:module";
import type { Express } from "express";

/** One HTTP request shape the load generator repeats. */
export interface BenchRequest {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A throughput comparison: each variant runs in its own process, rounds alternate between them. */
export interface HttpBenchCase {
  kind: "http";
  description: string;
  /** Variant name -> app factory. The first variant is the baseline ratios are computed against. */
  variants: Record<string, () => Express | Promise<Express>>;
  request?: BenchRequest;
  /** Ratio targets, e.g. `{ variant: "perfTiming", minRatio: 0.95 }` (against the baseline, or `against`). */
  targets?: RatioTarget[];
  rounds?: number;
  durationSeconds?: number;
  connections?: number;
}

/** A benchmark that measures something other than HTTP throughput and prints its own report. */
export interface ScriptBenchCase {
  kind: "script";
  description: string;
  run(): Promise<Record<string, unknown>>;
}

export type BenchCase = HttpBenchCase | ScriptBenchCase;

export function defineBench<T extends BenchCase>(bench: T): T {
  return bench;
}

/**
 * The variants to measure: all of them, or with `BENCH_VARIANTS=a,b` only those, and the first
 * (the baseline) always. Targets naming a variant left out are not reported.
 */
export function selectedVariants(bench: HttpBenchCase): string[] {
  const only = process.env.BENCH_VARIANTS?.split(",");
  return Object.keys(bench.variants).filter((variant, i) => i === 0 || !only || only.includes(variant));
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The middle half of per-round ratios, `"0.81-0.88"` (25th to 75th percentile, nearest rank):
 * how far one run's rounds spread around the median it reports.
 */
export function spread(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return `${at(0.25).toFixed(3)}-${at(0.75).toFixed(3)}`;
}

/** A throughput ratio a variant must reach against the baseline, or against `against`. */
export interface RatioTarget {
  variant: string;
  minRatio: number;
  against?: string;
}

/**
 * Judges each target on the median of its per-round ratios and prints the verdicts. `ratios`
 * gives a variant's per-round ratios against another, or undefined when either was not
 * measured (left out with BENCH_VARIANTS); such targets are skipped.
 */
export function judgeTargets(
  targets: readonly RatioTarget[],
  baseline: string,
  ratios: (variant: string, against: string) => number[] | undefined,
  unit = "",
) {
  const results: (RatioTarget & { against: string; ratio: number; met: boolean })[] = [];
  for (const target of targets) {
    const against = target.against ?? baseline;
    const perRound = ratios(target.variant, against);
    if (perRound === undefined) continue;
    const ratio = Number(median(perRound).toFixed(3));
    results.push({ ...target, against, ratio, met: ratio >= target.minRatio });
    console.log(
      `  target ${target.variant} >= ${target.minRatio} x ${against}${unit}: ${ratio} ${ratio >= target.minRatio ? "MET" : "MISSED"}`,
    );
  }
  return results;
}

/**
 * `require` as `packages/<name>` resolves: a library that is that package's dependency and not
 * the root's (pnpm keeps them per package), loaded as the very copy the package uses.
 */
export function requireFromPackage(name: string): NodeJS.Require {
  return createRequire(new URL(`../packages/${name}/package.json`, import.meta.url));
}
