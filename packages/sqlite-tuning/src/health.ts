import { statSync } from "node:fs";
import { consoleLogger, optionChecks, type PalisadeLogger, warnOnce } from "@palisade/core";
import type { SqliteDatabase } from "./types.js";

/** A health-check result (the shape of the IETF health-check draft's checks). */
export interface SqliteCheckResult {
  status: "pass" | "warn" | "fail";
  componentType: "datastore";
  /** Response time of `SELECT 1` plus the size queries. */
  observedValue: number;
  observedUnit: "ms";
  /** ISO time of the check. */
  time: string;
  /** Why the status is not `pass`. */
  output?: string;
  pageCount?: number;
  pageSize?: number;
  freelistCount?: number;
  fileBytes?: number;
  walBytes?: number;
  journalMode?: string;
}

export interface SqliteCheckOptions {
  /** A response time at or above this many milliseconds makes the check `warn`. Defaults to `100`. */
  warnResponseMs?: number;
  /** A WAL file larger than this makes the check `warn` and logs `WRN_PALISADE_WAL_GROWTH` once. Defaults to `67108864` (64 MiB). */
  maxWalBytes?: number;
  /** Receives `WRN_PALISADE_WAL_GROWTH`. Defaults to a logger writing process warnings. */
  logger?: PalisadeLogger;
}

export interface WalWatchdogOptions {
  /** WAL size that triggers the warning. Defaults to `67108864` (64 MiB). */
  maxWalBytes?: number;
  /** How often to look, in milliseconds. Defaults to `60000`. */
  intervalMs?: number;
  /** Receives `WRN_PALISADE_WAL_GROWTH` (once). Defaults to a logger writing process warnings. */
  logger?: PalisadeLogger;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function onDisk(db: SqliteDatabase): boolean {
  return !db.memory && db.name !== "" && db.name !== ":memory:";
}

function checkLogger(check: ReturnType<typeof optionChecks>, logger: unknown): PalisadeLogger {
  if (logger === undefined) return consoleLogger;
  if (typeof (logger as PalisadeLogger | null)?.warn !== "function") {
    check.fail("logger", "an object with a warn(details, message) method", logger);
  }
  return logger as PalisadeLogger;
}

function walMessage(walBytes: number, maxWalBytes: number): string {
  return `the WAL file is ${walBytes} bytes, past ${maxWalBytes}: checkpoints cannot finish (a long-running reader or an open transaction keeps them from resetting the WAL)`;
}

/**
 * A health check for health-checks' `registerCheck` (any async function returning
 * `{ status, observedValue, observedUnit }` fits): connectivity, response time, page count,
 * file and WAL size, freelist. `fail` when the database does not answer, `warn` when it is
 * slow or the WAL has grown past `maxWalBytes` (checkpoint starvation).
 *
 * @example
 * const check = sqliteCheck(db);
 * app.get("/monitoring/database/status", async (_req, res) => {
 *   const result = await check();
 *   res.status(result.status === "fail" ? 503 : 200).json(result);
 * });
 */
export function sqliteCheck(
  db: SqliteDatabase,
  options: Readonly<SqliteCheckOptions> = {},
): () => Promise<SqliteCheckResult> {
  const check = optionChecks("sqliteCheck");
  check.object("", options, ["warnResponseMs", "maxWalBytes", "logger"]);
  const warnResponseMs = check.number("warnResponseMs", options.warnResponseMs, 100, { min: 0 });
  const maxWalBytes = check.number("maxWalBytes", options.maxWalBytes, 64 * 1024 * 1024, { min: 0, integer: true });
  const warn = warnOnce(checkLogger(check, options.logger), "sqliteCheck");
  return async function sqliteHealthCheck(): Promise<SqliteCheckResult> {
    const time = new Date().toISOString();
    const start = performance.now();
    try {
      if (!db.open) throw new Error("the connection is closed");
      db.prepare("SELECT 1").get();
      const pageCount = Number(db.pragma("page_count", { simple: true }));
      const pageSize = Number(db.pragma("page_size", { simple: true }));
      const freelistCount = Number(db.pragma("freelist_count", { simple: true }));
      const journalMode = String(db.pragma("journal_mode", { simple: true }));
      const fileBytes = onDisk(db) ? fileSize(db.name) : pageCount * pageSize;
      const walBytes = onDisk(db) ? fileSize(`${db.name}-wal`) : 0;
      const observedValue = Number((performance.now() - start).toFixed(3));
      const result: SqliteCheckResult = {
        status: "pass",
        componentType: "datastore",
        observedValue,
        observedUnit: "ms",
        time,
        pageCount,
        pageSize,
        freelistCount,
        fileBytes,
        walBytes,
        journalMode,
      };
      const problems: string[] = [];
      if (walBytes > maxWalBytes) {
        problems.push(walMessage(walBytes, maxWalBytes));
        warn("WRN_PALISADE_WAL_GROWTH", walMessage(walBytes, maxWalBytes), { walBytes, maxWalBytes });
      }
      if (observedValue >= warnResponseMs)
        problems.push(`responded in ${observedValue} ms (warn at ${warnResponseMs} ms)`);
      if (problems.length > 0) {
        result.status = "warn";
        result.output = problems.join("; ");
      }
      return result;
    } catch (error) {
      return {
        status: "fail",
        componentType: "datastore",
        observedValue: Number((performance.now() - start).toFixed(3)),
        observedUnit: "ms",
        time,
        output: `database did not answer: ${(error as Error).message}`,
      };
    }
  };
}

/**
 * Watches the WAL file and warns once (`WRN_PALISADE_WAL_GROWTH`) when it grows past
 * `maxWalBytes`, the sign of checkpoint starvation. The timer does not keep the process alive.
 *
 * @example
 * const watchdog = walWatchdog(db, { logger });
 * process.on("SIGTERM", () => watchdog.stop());
 */
export function walWatchdog(
  db: SqliteDatabase,
  options: Readonly<WalWatchdogOptions> = {},
): { check(): number; stop(): void } {
  const check = optionChecks("walWatchdog");
  check.object("", options, ["maxWalBytes", "intervalMs", "logger"]);
  const maxWalBytes = check.number("maxWalBytes", options.maxWalBytes, 64 * 1024 * 1024, { min: 0, integer: true });
  const intervalMs = check.number("intervalMs", options.intervalMs, 60_000, { min: 1, integer: true });
  const warn = warnOnce(checkLogger(check, options.logger), "walWatchdog");
  const look = (): number => {
    const walBytes = onDisk(db) ? fileSize(`${db.name}-wal`) : 0;
    if (walBytes > maxWalBytes) {
      warn("WRN_PALISADE_WAL_GROWTH", walMessage(walBytes, maxWalBytes), { walBytes, maxWalBytes, file: db.name });
    }
    return walBytes;
  };
  const timer = setInterval(look, intervalMs);
  timer.unref();
  return {
    check: look,
    stop: () => clearInterval(timer),
  };
}
