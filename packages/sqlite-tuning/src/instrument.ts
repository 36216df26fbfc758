import {
  consoleLogger,
  currentRequest,
  DOCS_ERRORS_URL,
  optionChecks,
  type PalisadeLogger,
  recordTiming,
  requireRequestScope,
} from "@palisade/core";
import { explainQueryPlan } from "./advisor.js";
import { installHooks, type StatementCall } from "./hooks.js";
import { redactSql } from "./sql.js";
import type { SqliteDatabase } from "./types.js";

/** A query that took `slowMs` or longer. */
export interface SlowQuery {
  /** The statement's SQL with literals replaced by `?` (bound parameters never appear). */
  sql: string;
  method: StatementCall["method"];
  durationMs: number;
  /** How many parameters were bound (their values are not reported). */
  paramCount: number;
  /** EXPLAIN QUERY PLAN lines, computed once per statement. */
  plan: string[];
  /** ISO time the call finished. */
  time: string;
}

/** Counts and latency percentiles of one statement (grouped by SQL text). */
export interface StatementStats {
  /** Redacted SQL; `(other statements)` collects statements past `maxStatements`. */
  sql: string;
  count: number;
  errors: number;
  slow: number;
  totalMs: number;
  maxMs: number;
  /** Percentiles from a log-bucket histogram (within 2.5%); `undefined` with `histogram: false`. */
  p50?: number;
  p95?: number;
  p99?: number;
}

export interface InstrumentOptions {
  /** A call taking at least this many milliseconds is a slow query. Defaults to `1000`. */
  slowMs?: number;
  /**
   * Receives every slow query. When not set, slow queries are logged through `logger.warn`
   * with code `WRN_PALISADE_SLOW_QUERY`, at most once per statement per minute.
   * Defaults to `undefined`.
   */
  onSlow?: (query: SlowQuery) => void;
  /** Keep a latency histogram per statement for percentiles. Defaults to `true`. */
  histogram?: boolean;
  /** Distinct statements tracked; further ones are counted together. Defaults to `1000`. */
  maxStatements?: number;
  /** Name of the timing recorded per call on the current request (`Server-Timing`). Defaults to `"db"`. */
  timingName?: string;
  /** Where slow queries go when `onSlow` is not set. Defaults to a logger writing process warnings. */
  logger?: PalisadeLogger;
}

/** What `instrument()` returns. */
export interface Instrumentation {
  /** Per-statement counts and percentiles, busiest first. */
  stats(): StatementStats[];
  /** The SQL of every statement seen (for `adviseIndexes(db, { queries })`). */
  statements(): string[];
  /** Forgets the counts. */
  reset(): void;
  /** Stops timing; statements keep working. */
  stop(): void;
}

const BUCKET_BASE = 1.05;
const BUCKETS = 560; // 1µs * 1.05^560 is about 8 hours
const LOG_BASE = Math.log(BUCKET_BASE);
const OTHER = "(other statements)";

interface Entry {
  sql: string;
  rawSql: string;
  count: number;
  errors: number;
  slow: number;
  totalMs: number;
  maxMs: number;
  buckets: Uint32Array | undefined;
  plan: string[] | undefined;
  lastLogged: number;
}

function bucketOf(ms: number): number {
  const micros = ms * 1000;
  if (micros <= 1) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(micros) / LOG_BASE));
}

function percentile(entry: Entry, q: number): number | undefined {
  if (!entry.buckets || entry.count === 0) return undefined;
  const rank = Math.ceil(q * entry.count);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += entry.buckets[i]!;
    if (seen >= rank) return Math.min(entry.maxMs, BUCKET_BASE ** i / 1000);
  }
  return entry.maxMs;
}

/**
 * Times every `run`/`get`/`all`/`iterate` of the statements prepared on `db` from now on
 * (and `db.exec`): adds a `db` timing to the current request (shown by
 * `@palisade/perf-timing` as `Server-Timing`), reports slow queries with their redacted
 * SQL and plan, and keeps per-statement counts and percentiles. Call it right after
 * opening the connection: statements prepared earlier are not seen.
 *
 * @example
 * const metrics = instrument(db, { slowMs: 200, onSlow: (q) => logger.warn(q, "slow query") });
 * app.get("/debug/db", (_req, res) => res.json(metrics.stats()));
 */
export function instrument(db: SqliteDatabase, options: Readonly<InstrumentOptions> = {}): Instrumentation {
  const check = optionChecks("instrument");
  check.object("", options, ["slowMs", "onSlow", "histogram", "maxStatements", "timingName", "logger"]);
  const slowMs = check.number("slowMs", options.slowMs, 1000, { min: 0 });
  const onSlow = check.func<(query: SlowQuery) => void>("onSlow", options.onSlow);
  const histogram = check.boolean("histogram", options.histogram, true);
  const maxStatements = check.number("maxStatements", options.maxStatements, 1000, { min: 1, integer: true });
  const timingName = check.string("timingName", options.timingName, "db");
  // Query timings reach the request through core's scope: have perfTiming enter it.
  requireRequestScope();
  if (options.logger !== undefined && typeof options.logger?.warn !== "function") {
    check.fail("logger", "an object with a warn(details, message) method", options.logger);
  }
  const logger = options.logger ?? consoleLogger;
  const hooks = installHooks(db);
  const entries = new Map<string, Entry>();

  const entryFor = (sql: string): Entry => {
    let entry = entries.get(sql);
    if (entry) return entry;
    const key = entries.size >= maxStatements ? OTHER : sql;
    entry = entries.get(key);
    if (!entry) {
      entry = {
        sql: key === OTHER ? OTHER : redactSql(sql),
        rawSql: sql,
        count: 0,
        errors: 0,
        slow: 0,
        totalMs: 0,
        maxMs: 0,
        buckets: histogram ? new Uint32Array(BUCKETS) : undefined,
        plan: undefined,
        lastLogged: 0,
      };
      entries.set(key, entry);
    }
    return entry;
  };

  const planOf = (entry: Entry, call: StatementCall): string[] => {
    if (entry.plan) return entry.plan;
    try {
      const explainDb = { prepare: hooks.prepareRaw } as unknown as SqliteDatabase;
      entry.plan = call.method === "exec" ? [] : explainQueryPlan(explainDb, call.sql).map((line) => line.detail);
    } catch {
      entry.plan = [];
    }
    return entry.plan;
  };

  const listener = (call: StatementCall) => {
    const entry = entryFor(call.sql);
    entry.count++;
    entry.totalMs += call.durationMs;
    if (call.durationMs > entry.maxMs) entry.maxMs = call.durationMs;
    if (call.error !== undefined) entry.errors++;
    if (entry.buckets) entry.buckets[bucketOf(call.durationMs)]!++;
    const scope = currentRequest();
    if (scope) recordTiming(scope.req, { name: timingName, durationMs: call.durationMs });
    if (call.durationMs < slowMs) return;
    entry.slow++;
    const slow: SlowQuery = {
      sql: entry.sql === OTHER ? redactSql(call.sql) : entry.sql,
      method: call.method,
      durationMs: call.durationMs,
      paramCount: call.params.length,
      plan: planOf(entry, call),
      time: new Date().toISOString(),
    };
    if (onSlow) {
      onSlow(slow);
      return;
    }
    const now = Date.now();
    if (now - entry.lastLogged < 60_000) return;
    entry.lastLogged = now;
    logger.warn(
      { ...slow, code: "WRN_PALISADE_SLOW_QUERY", docs: `${DOCS_ERRORS_URL}#wrn_palisade_slow_query` },
      `instrument: slow query (${call.durationMs.toFixed(1)} ms): ${slow.sql}`,
    );
  };
  hooks.listeners.add(listener);

  return {
    stats() {
      return [...entries.values()]
        .map((entry) => {
          const stats: StatementStats = {
            sql: entry.sql,
            count: entry.count,
            errors: entry.errors,
            slow: entry.slow,
            totalMs: entry.totalMs,
            maxMs: entry.maxMs,
          };
          if (entry.buckets) {
            stats.p50 = percentile(entry, 0.5);
            stats.p95 = percentile(entry, 0.95);
            stats.p99 = percentile(entry, 0.99);
          }
          return stats;
        })
        .sort((a, b) => b.totalMs - a.totalMs);
    },
    statements() {
      return [...entries.values()]
        .filter((entry) => entry.sql !== OTHER && /^\s*(SELECT|WITH|UPDATE|DELETE)\b/i.test(entry.rawSql))
        .map((entry) => entry.rawSql);
    },
    reset() {
      entries.clear();
    },
    stop() {
      hooks.listeners.delete(listener);
    },
  };
}
