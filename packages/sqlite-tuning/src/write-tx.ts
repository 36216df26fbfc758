import { optionChecks } from "@palisade/core";
import type { SqliteDatabase } from "./types.js";

export interface WriteTxOptions {
  /** Further attempts after `SQLITE_BUSY` on `BEGIN IMMEDIATE` or `COMMIT`. Defaults to `5`. */
  retries?: number;
  /** First wait before a retry, in milliseconds; doubles per attempt, with jitter. Defaults to `25`. */
  backoffMs?: number;
  /** Longest single wait, in milliseconds. Defaults to `1000`. */
  maxBackoffMs?: number;
  /** Called before each retry with the attempt number (1-based) and the wait. Defaults to `undefined`. */
  onRetry?: (attempt: number, waitMs: number, error: unknown) => void;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

function sleep(ms: number): void {
  // better-sqlite3 is synchronous and so is this wait, like SQLite's own busy handler.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `fn` in a `BEGIN IMMEDIATE` transaction, retrying a bounded number of times with
 * exponential backoff when the write lock is busy (`SQLITE_BUSY`), the documented fix for
 * "database is locked" errors that a deferred transaction cannot recover from. Commits
 * what `fn` did, or rolls it back and rethrows. Inside an open transaction it runs `fn` in
 * a savepoint instead. `fn` must be synchronous.
 *
 * @example
 * const id = writeTx(db, () => {
 *   const { lastInsertRowid } = insertAppointment.run(barberId, clientId, start, end);
 *   insertPayment.run(clientId, lastInsertRowid, amount);
 *   return lastInsertRowid;
 * });
 */
export function writeTx<R>(db: SqliteDatabase, fn: () => R, options: Readonly<WriteTxOptions> = {}): R {
  const check = optionChecks("writeTx");
  check.object("", options, ["retries", "backoffMs", "maxBackoffMs", "onRetry"]);
  const retries = check.number("retries", options.retries, 5, { min: 0, max: 100, integer: true });
  const backoffMs = check.number("backoffMs", options.backoffMs, 25, { min: 0 });
  const maxBackoffMs = check.number("maxBackoffMs", options.maxBackoffMs, 1000, { min: 0 });
  const onRetry = check.func<NonNullable<WriteTxOptions["onRetry"]>>("onRetry", options.onRetry);

  const run = (): R => {
    const result = fn();
    if (result !== null && typeof (result as { then?: unknown })?.then === "function") {
      throw new TypeError("writeTx: fn returned a promise; a transaction must not span an await.");
    }
    return result;
  };

  if (db.inTransaction) {
    db.exec("SAVEPOINT palisade_write_tx");
    try {
      const result = run();
      db.exec("RELEASE palisade_write_tx");
      return result;
    } catch (error) {
      db.exec("ROLLBACK TO palisade_write_tx; RELEASE palisade_write_tx");
      throw error;
    }
  }

  let attempt = 0;
  const retry = (error: unknown): void => {
    if (!isBusy(error) || attempt >= retries) throw error;
    attempt++;
    const base = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
    const wait = Math.round(base / 2 + Math.random() * (base / 2));
    onRetry?.(attempt, wait, error);
    sleep(wait);
  };

  for (;;) {
    try {
      db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      retry(error);
      continue;
    }
    let result: R;
    try {
      result = run();
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    }
    for (;;) {
      try {
        db.exec("COMMIT");
        return result;
      } catch (error) {
        if (!isBusy(error) || attempt >= retries) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw error;
        }
        retry(error);
      }
    }
  }
}
