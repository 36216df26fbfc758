import { performance } from "node:perf_hooks";
import type { Deliver } from "./events.js";
import type { CheckFunction, CheckOutcome, CheckResult, ComponentType, HealthStatus } from "./options.js";
import { COMPONENT_TYPES, HEALTH_STATUSES } from "./options.js";

/** The cached outcome of a check's latest run, in IETF health-check terms. */
export interface CheckRecord {
  status: HealthStatus;
  observedValue: unknown;
  observedUnit?: string;
  output?: string;
  details?: Record<string, unknown>;
  /** The type the result itself reports, overriding the registered one. */
  componentType?: ComponentType;
  /** ISO time the run ended. */
  time: string;
  durationMs: number;
}

export interface CheckEntry {
  readonly name: string;
  readonly fn: CheckFunction;
  readonly critical: boolean;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly componentType: ComponentType;
  readonly liveness: boolean;
  result: CheckRecord | undefined;
  /** The function was called and has not settled (it may have timed out already). */
  running: boolean;
  /** The run in progress, until its result (or timeout) is recorded. */
  current: Promise<void> | undefined;
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
  firstRun: Promise<void>;
  markRun: () => void;
}

const TIMED_OUT = Symbol("timedOut");
const MAX_OUTPUT = 200;

const round = (value: number) => Math.round(value * 100) / 100;

function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.length > MAX_OUTPUT ? `${text.slice(0, MAX_OUTPUT - 3)}...` : text;
}

function normalize(outcome: CheckOutcome, durationMs: number): Omit<CheckRecord, "time"> {
  const elapsed = { observedValue: round(durationMs), observedUnit: "ms", durationMs: round(durationMs) };
  if (outcome === undefined || outcome === true) return { status: "pass", ...elapsed };
  if (outcome === false) return { status: "fail", ...elapsed, output: "check returned false" };
  if (typeof outcome !== "object" || outcome === null) {
    return { status: "fail", ...elapsed, output: "check returned neither a boolean nor a result object" };
  }
  // Fields beyond the IETF ones (a result object like sqlite-tuning's with `walBytes` at the
  // top) are kept as details; `time` is ours (when the run ended).
  const {
    status = "pass",
    observedValue,
    observedUnit,
    output,
    details,
    componentType,
    time: _time,
    ...extra
  } = outcome as CheckResult & Record<string, unknown>;
  if (!HEALTH_STATUSES.includes(status)) {
    return { status: "fail", ...elapsed, output: `check returned an unknown status ${JSON.stringify(status)}` };
  }
  const record: Omit<CheckRecord, "time"> =
    observedValue === undefined ? { status, ...elapsed } : { status, observedValue, durationMs: round(durationMs) };
  if (observedValue !== undefined && observedUnit !== undefined) record.observedUnit = observedUnit;
  if (status !== "pass" && output !== undefined) record.output = describeError(output);
  if (componentType !== undefined && COMPONENT_TYPES.includes(componentType)) record.componentType = componentType;
  const merged = Object.keys(extra).length > 0 ? { ...extra, ...details } : details;
  if (merged !== undefined) record.details = merged;
  return record;
}

/**
 * Runs checks in the background on their own schedules, each bounded by its timeout, and
 * keeps the latest result of each. Requests only ever read the cache.
 */
export function checkRegistry(deliver: Deliver, onHung: (name: string) => void, onChange: () => void) {
  const entries = new Map<string, CheckEntry>();

  function schedule(entry: CheckEntry): void {
    if (entry.closed) return;
    entry.timer = setTimeout(() => void run(entry), entry.intervalMs);
    entry.timer.unref();
  }

  function record(entry: CheckEntry, next: CheckRecord): void {
    const previous = entry.result?.status;
    entry.result = next;
    if (next.status !== previous) {
      const detail = { check: entry.name, critical: entry.critical, status: next.status, output: next.output };
      if (next.status === "fail") {
        deliver({
          name: "sys_health_fail",
          level: entry.critical ? "CRITICAL" : "WARN",
          description: `health check "${entry.name}" failed${next.output ? `: ${next.output}` : ""}`,
          detail,
        });
      } else if (next.status === "warn") {
        deliver({ name: "sys_health_warn", level: "WARN", description: `health check "${entry.name}" warns`, detail });
      } else if (previous !== undefined) {
        deliver({
          name: "sys_health_recover",
          level: "INFO",
          description: `health check "${entry.name}" passes again`,
          detail,
        });
      }
    }
    onChange();
  }

  function run(entry: CheckEntry): Promise<void> {
    if (entry.current) return entry.current;
    entry.current = runOnce(entry).finally(() => {
      entry.current = undefined;
    });
    return entry.current;
  }

  async function runOnce(entry: CheckEntry): Promise<void> {
    if (entry.closed) return;
    clearTimeout(entry.timer);
    if (entry.running) {
      // The previous run timed out and its function still has not settled: do not pile up
      // another call on a hung dependency; the cached `fail` stands.
      onHung(entry.name);
      schedule(entry);
      return;
    }
    entry.running = true;
    const controller = new AbortController();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), entry.timeoutMs);
      timer.unref();
    });
    const attempt = (async () => entry.fn(controller.signal))().then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    );
    void attempt.then(() => {
      entry.running = false;
    });
    const settled = await Promise.race([attempt, timeout]);
    clearTimeout(timer);
    const durationMs = performance.now() - started;
    const time = new Date().toISOString();
    if (entry.closed) return;
    if (settled === TIMED_OUT) {
      controller.abort(new Error(`timed out after ${entry.timeoutMs} ms`));
      record(entry, {
        status: "fail",
        observedValue: round(durationMs),
        observedUnit: "ms",
        output: `timed out after ${entry.timeoutMs} ms`,
        time,
        durationMs: round(durationMs),
      });
    } else if ("error" in settled) {
      record(entry, {
        status: "fail",
        observedValue: round(durationMs),
        observedUnit: "ms",
        output: describeError(settled.error),
        time,
        durationMs: round(durationMs),
      });
    } else {
      record(entry, { ...normalize(settled.outcome, durationMs), time });
    }
    entry.markRun();
    schedule(entry);
  }

  return {
    entries,
    add(entry: Omit<CheckEntry, "result" | "running" | "current" | "closed" | "timer" | "firstRun" | "markRun">): void {
      let markRun!: () => void;
      const firstRun = new Promise<void>((resolve) => {
        markRun = resolve;
      });
      const full: CheckEntry = {
        ...entry,
        result: undefined,
        running: false,
        current: undefined,
        closed: false,
        timer: undefined,
        firstRun,
        markRun,
      };
      entries.set(entry.name, full);
      void run(full);
    },
    remove(name: string): boolean {
      const entry = entries.get(name);
      if (!entry) return false;
      entry.closed = true;
      clearTimeout(entry.timer);
      entry.markRun();
      entries.delete(name);
      try {
        entry.fn.close?.();
      } catch {
        // Closing a check is best effort.
      }
      onChange();
      return true;
    },
    /** Runs every check now (joining a run in progress) and resolves when each has a fresh result. */
    async runAll(): Promise<void> {
      await Promise.all([...entries.values()].map((entry) => run(entry)));
    },
    /** Resolves when every check registered so far has a first result (bounded by its timeout). */
    async whenChecked(): Promise<void> {
      await Promise.all([...entries.values()].map((entry) => entry.firstRun));
    },
    allChecked(): boolean {
      for (const entry of entries.values()) if (entry.result === undefined) return false;
      return true;
    },
  };
}

export type CheckRegistry = ReturnType<typeof checkRegistry>;
