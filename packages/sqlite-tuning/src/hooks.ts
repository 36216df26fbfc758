import { writtenTables } from "./sql.js";
import type { SqliteDatabase, SqliteStatement } from "./types.js";

/** One call of a prepared statement (or of `db.exec`), as `instrument()` sees it. */
export interface StatementCall {
  sql: string;
  method: "run" | "get" | "all" | "iterate" | "exec";
  durationMs: number;
  /** The bound parameters: never logged, only used to explain the plan. */
  params: readonly unknown[];
  /** The error the call threw, if any. */
  error?: unknown;
}

type Listener = (call: StatementCall) => void;

/**
 * Per-connection hook state, kept on the connection object itself (under a global symbol)
 * so the package holds no module-level state and two copies of it share one wrapper.
 */
export interface Hooks {
  listeners: Set<Listener>;
  /** Write counter per table (lower-case); `*` counts writes that may touch any table. */
  versions: Map<string, number>;
  /** Prepares without timing (for EXPLAIN and internal queries). */
  prepareRaw(sql: string): SqliteStatement;
  /** Sum of the write counters of `tables` and of `*`: changes whenever one of them is written. */
  stamp(tables: readonly string[]): number;
}

const HOOKS = Symbol.for("palisade.sqliteTuning.hooks");
type Hooked = SqliteDatabase & { [HOOKS]?: Hooks };

const WRAPPED_METHODS = ["run", "get", "all"] as const;

/** Wraps `db.prepare` and `db.exec` once per connection; later calls return the same hooks. */
export function installHooks(db: SqliteDatabase): Hooks {
  const hooked = db as Hooked;
  const existing = hooked[HOOKS];
  if (existing) return existing;
  const prepare = db.prepare;
  const exec = db.exec;
  const listeners = new Set<Listener>();
  const versions = new Map<string, number>();
  const bump = (tables: readonly string[]) => {
    for (const table of tables) versions.set(table, (versions.get(table) ?? 0) + 1);
  };
  const emit = (call: StatementCall) => {
    for (const listener of listeners) {
      try {
        listener(call);
      } catch {
        // Instrumentation never breaks a query.
      }
    }
  };
  const hooks: Hooks = {
    listeners,
    versions,
    prepareRaw: (sql) => prepare.call(db, sql),
    stamp(tables) {
      let sum = versions.get("*") ?? 0;
      for (const table of tables) sum += versions.get(table) ?? 0;
      return sum;
    },
  };

  const wrap = (statement: SqliteStatement): SqliteStatement => {
    const sql = statement.source;
    const writes = writtenTables(sql);
    const target = statement as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const method of WRAPPED_METHODS) {
      const original = target[method]!;
      target[method] = function timed(this: unknown, ...params: unknown[]) {
        const start = performance.now();
        let error: unknown;
        try {
          return original.apply(this, params);
        } catch (caught) {
          error = caught;
          throw caught;
        } finally {
          const durationMs = performance.now() - start;
          if (writes.length > 0) bump(writes);
          if (listeners.size > 0) emit({ sql, method, durationMs, params, error });
        }
      };
    }
    const iterate = target.iterate!;
    target.iterate = function timedIterate(this: unknown, ...params: unknown[]) {
      let durationMs = 0;
      let done = false;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        if (writes.length > 0) bump(writes);
        if (listeners.size > 0) emit({ sql, method: "iterate", durationMs, params, error });
      };
      const time = <R>(step: () => R): R => {
        const start = performance.now();
        try {
          return step();
        } catch (error) {
          durationMs += performance.now() - start;
          finish(error);
          throw error;
        } finally {
          if (!done) durationMs += performance.now() - start;
        }
      };
      const inner = time(() => iterate.apply(this, params) as IterableIterator<unknown>);
      const iterator: IterableIterator<unknown> = {
        next() {
          const result = time(() => inner.next());
          if (result.done) finish();
          return result;
        },
        return(value?: unknown) {
          const result = inner.return ? time(() => inner.return!(value)) : { done: true as const, value };
          finish();
          return result;
        },
        [Symbol.iterator]() {
          return iterator;
        },
      };
      return iterator;
    };
    return statement;
  };

  Object.defineProperty(db, "prepare", {
    configurable: true,
    writable: true,
    value: function prepareTimed(source: string) {
      return wrap(prepare.call(db, source));
    },
  });
  Object.defineProperty(db, "exec", {
    configurable: true,
    writable: true,
    value: function execTimed(source: string) {
      const start = performance.now();
      let error: unknown;
      try {
        return exec.call(db, source);
      } catch (caught) {
        error = caught;
        throw caught;
      } finally {
        const durationMs = performance.now() - start;
        const writes = writtenTables(source);
        if (writes.length > 0) bump(writes);
        if (listeners.size > 0) emit({ sql: source, method: "exec", durationMs, params: [], error });
      }
    },
  });
  Object.defineProperty(db, HOOKS, { value: hooks, configurable: true });
  return hooks;
}
