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
  targets?: { variant: string; minRatio: number; against?: string }[];
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
