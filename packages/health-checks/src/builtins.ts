import { statfs } from "node:fs/promises";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { optionChecks } from "@palisade/core";
import type { CheckFunction, CheckResult, HealthStatus } from "./options.js";

const round = (value: number) => Math.round(value * 100) / 100;

function grade(value: number, warnAt: number, failAt: number, higherIsWorse = true): HealthStatus {
  if (higherIsWorse) return value >= failAt ? "fail" : value >= warnAt ? "warn" : "pass";
  return value <= failAt ? "fail" : value <= warnAt ? "warn" : "pass";
}

export interface EventLoopDelayCheckOptions {
  /** p99 delay (ms) from which the check warns. Defaults to `100`. */
  warnMs?: number;
  /** p99 delay (ms) from which the check fails. Defaults to `1000`. */
  failMs?: number;
}

/**
 * Event-loop delay since the previous run (p99 from `perf_hooks.monitorEventLoopDelay`), in ms.
 * The monitor runs from creation until the check is closed (`unregisterCheck` or `close()`).
 *
 * @example
 * health.registerCheck("eventloop:delay", eventLoopDelayCheck({ warnMs: 50 }), { critical: false, liveness: true });
 */
export function eventLoopDelayCheck(options: Readonly<EventLoopDelayCheckOptions> = {}): CheckFunction {
  const check = optionChecks("eventLoopDelayCheck");
  check.knownKeys(options, ["warnMs", "failMs"]);
  const warnMs = check.number("warnMs", options.warnMs, 100, { min: 0 });
  const failMs = check.number("failMs", options.failMs, 1000, { min: 0 });
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const fn: CheckFunction = function eventLoopDelay(): CheckResult {
    const count = histogram.count;
    const p99 = count > 0 ? round(histogram.percentile(99) / 1e6) : 0;
    const details = {
      meanMs: count > 0 ? round(histogram.mean / 1e6) : 0,
      maxMs: count > 0 ? round(histogram.max / 1e6) : 0,
    };
    histogram.reset();
    const status = grade(p99, warnMs, failMs);
    return {
      status,
      observedValue: p99,
      observedUnit: "ms",
      details,
      output: status === "pass" ? undefined : `event-loop delay p99 ${p99} ms`,
    };
  };
  fn.close = () => histogram.disable();
  return fn;
}

export interface MemoryCheckOptions {
  /** Heap use, in percent of V8's heap limit, from which the check warns. Defaults to `85`. */
  warnPercent?: number;
  /** Heap use, in percent of V8's heap limit, from which the check fails. Defaults to `95`. */
  failPercent?: number;
}

/**
 * Heap in use as a percentage of V8's heap size limit, with RSS and heap figures as details.
 *
 * @example
 * health.registerCheck("memory:utilization", memoryCheck({ warnPercent: 80 }), { critical: false });
 */
export function memoryCheck(options: Readonly<MemoryCheckOptions> = {}): CheckFunction {
  const check = optionChecks("memoryCheck");
  check.knownKeys(options, ["warnPercent", "failPercent"]);
  const warnPercent = check.number("warnPercent", options.warnPercent, 85, { min: 0, max: 100 });
  const failPercent = check.number("failPercent", options.failPercent, 95, { min: 0, max: 100 });
  return function memory(): CheckResult {
    const usage = process.memoryUsage();
    const limit = getHeapStatistics().heap_size_limit;
    const percent = round((usage.heapUsed / limit) * 100);
    const status = grade(percent, warnPercent, failPercent);
    return {
      status,
      observedValue: percent,
      observedUnit: "percent",
      details: { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, heapLimitBytes: limit },
      output: status === "pass" ? undefined : `heap at ${percent}% of its limit`,
    };
  };
}

export interface DiskSpaceCheckOptions {
  /** Free space, in percent of the file system, at or below which the check warns. Defaults to `10`. */
  warnFreePercent?: number;
  /** Free space, in percent of the file system, at or below which the check fails. Defaults to `5`. */
  failFreePercent?: number;
}

/**
 * Free space (bytes available to this process) on the file system holding `path`, through `fs.statfs`.
 *
 * @example
 * health.registerCheck("disk:free", diskSpaceCheck("/var/lib/app"), { critical: false });
 */
export function diskSpaceCheck(path = process.cwd(), options: Readonly<DiskSpaceCheckOptions> = {}): CheckFunction {
  const check = optionChecks("diskSpaceCheck");
  check.string("path", path, "");
  check.knownKeys(options, ["warnFreePercent", "failFreePercent"]);
  const warnFree = check.number("warnFreePercent", options.warnFreePercent, 10, { min: 0, max: 100 });
  const failFree = check.number("failFreePercent", options.failFreePercent, 5, { min: 0, max: 100 });
  return async function diskSpace(): Promise<CheckResult> {
    const stats = await statfs(path);
    const free = stats.bavail * stats.bsize;
    const total = stats.blocks * stats.bsize;
    const freePercent = total > 0 ? round((free / total) * 100) : 0;
    const status = grade(freePercent, warnFree, failFree, false);
    return {
      status,
      observedValue: free,
      observedUnit: "bytes",
      details: { path, totalBytes: total, freePercent },
      output: status === "pass" ? undefined : `${freePercent}% free on the file system of ${path}`,
    };
  };
}

export interface PingCheckOptions {
  /** Milliseconds the ping may take before it fails; its signal aborts then. Defaults to `1000`. */
  timeoutMs?: number;
  /** Response time (ms) from which the check warns. Defaults to none. */
  warnMs?: number;
}

/**
 * Wraps any async client call (Redis `PING`, Postgres `SELECT 1`, an HTTP probe) as a check
 * that measures its response time and fails on an error, on `false`, or after `timeoutMs`.
 *
 * @example
 * health.registerCheck("redis:responseTime", pingCheck(() => redis.ping(), { timeoutMs: 500 }), {
 *   componentType: "datastore",
 * });
 */
export function pingCheck(
  ping: (signal: AbortSignal) => unknown,
  options: Readonly<PingCheckOptions> = {},
): CheckFunction {
  const check = optionChecks("pingCheck");
  if (typeof ping !== "function") check.fail("ping", "a function", ping);
  check.knownKeys(options, ["timeoutMs", "warnMs"]);
  const timeoutMs = check.number("timeoutMs", options.timeoutMs, 1000, { min: 1, integer: true });
  const warnMs = check.number("warnMs", options.warnMs, Number.POSITIVE_INFINITY, { min: 0 });
  return async function pingDependency(signal: AbortSignal): Promise<CheckResult> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        new Promise((resolve) => resolve(ping(controller.signal))),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            const error = new Error(`ping timed out after ${timeoutMs} ms`);
            controller.abort(error);
            reject(error);
          }, timeoutMs);
          timer.unref();
        }),
      ]);
      const elapsed = round(performance.now() - started);
      if (answer === false)
        return { status: "fail", observedValue: elapsed, observedUnit: "ms", output: "ping returned false" };
      const status = elapsed >= warnMs ? "warn" : "pass";
      return {
        status,
        observedValue: elapsed,
        observedUnit: "ms",
        output: status === "warn" ? `responded in ${elapsed} ms` : undefined,
      };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  };
}
