import { optionChecks } from "@palisade/core";
import {
  JOURNAL_MODES,
  PRODUCTION_PROFILE,
  PROFILE_KEYS,
  type SqliteProfile,
  SYNCHRONOUS_MODES,
  TEMP_STORES,
} from "./options.js";
import type { SqliteDatabase } from "./types.js";

/** Thrown by `tuneSqlite()` when a pragma did not take; `pragma` names it. */
export class SqlitePragmaError extends Error {
  override readonly name = "SqlitePragmaError";
  readonly code = "ERR_PALISADE_PRAGMA_NOT_APPLIED";
  /** The pragma that did not take, e.g. `mmap_size`. */
  readonly pragma: string;
  readonly expected: string | number;
  readonly actual: unknown;

  constructor(pragma: string, expected: string | number, actual: unknown, why?: string, refused = false) {
    const got = refused
      ? "SQLite refused it"
      : actual === undefined
        ? "read back nothing (SQLite does not know this pragma)"
        : `read back ${JSON.stringify(actual)}`;
    super(
      `tuneSqlite: PRAGMA ${pragma} did not take: set ${JSON.stringify(expected)}, ${got}${why ? ` (${why})` : ""}.`,
    );
    this.pragma = pragma;
    this.expected = expected;
    this.actual = actual;
  }
}

const ENUM_VALUES: Record<string, Record<string, number>> = {
  synchronous: { OFF: 0, NORMAL: 1, FULL: 2, EXTRA: 3 },
  temp_store: { DEFAULT: 0, FILE: 1, MEMORY: 2 },
  auto_vacuum: { NONE: 0, FULL: 1, INCREMENTAL: 2 },
  secure_delete: { OFF: 0, ON: 1, FAST: 2 },
};

interface PragmaPlan {
  name: string;
  value: string | number;
  /** Value expected on read-back. */
  expect: string | number;
}

function validateProfile(profile: Readonly<SqliteProfile>): PragmaPlan[] {
  const check = optionChecks("tuneSqlite");
  check.object("", profile, PROFILE_KEYS);
  const p = PRODUCTION_PROFILE;
  const journalMode = check.oneOf("journalMode", upper(profile.journalMode), JOURNAL_MODES, p.journalMode);
  const synchronous = check.oneOf("synchronous", upper(profile.synchronous), SYNCHRONOUS_MODES, p.synchronous);
  const busy = check.number("busyTimeoutMs", profile.busyTimeoutMs, p.busyTimeoutMs, { min: 0, integer: true });
  const foreignKeys = check.boolean("foreignKeys", profile.foreignKeys, p.foreignKeys);
  const mmap = check.number("mmapSizeBytes", profile.mmapSizeBytes, p.mmapSizeBytes, { min: 0, integer: true });
  const cache = check.number("cacheSizeKiB", profile.cacheSizeKiB, p.cacheSizeKiB, { min: 1, integer: true });
  const tempStore = check.oneOf("tempStore", upper(profile.tempStore), TEMP_STORES, p.tempStore);
  const walPages = check.number("walAutocheckpointPages", profile.walAutocheckpointPages, p.walAutocheckpointPages, {
    min: 0,
    integer: true,
  });
  const journalLimit = check.number("journalSizeLimitBytes", profile.journalSizeLimitBytes, p.journalSizeLimitBytes, {
    min: -1,
    integer: true,
  });
  check.boolean("optimizeOnOpen", profile.optimizeOnOpen, p.optimizeOnOpen);
  const extra = check.object("pragmas", profile.pragmas, Object.keys(profile.pragmas ?? {})) ?? {};
  const plans: PragmaPlan[] = [
    // journal_mode first: it cannot change inside a transaction and the others depend on it.
    { name: "journal_mode", value: journalMode, expect: journalMode.toLowerCase() },
    { name: "synchronous", value: synchronous, expect: ENUM_VALUES.synchronous![synchronous]! },
    { name: "busy_timeout", value: busy, expect: busy },
    { name: "foreign_keys", value: foreignKeys ? "ON" : "OFF", expect: foreignKeys ? 1 : 0 },
    { name: "mmap_size", value: mmap, expect: mmap },
    { name: "cache_size", value: -cache, expect: -cache },
    { name: "temp_store", value: tempStore, expect: ENUM_VALUES.temp_store![tempStore]! },
    { name: "wal_autocheckpoint", value: walPages, expect: walPages },
    { name: "journal_size_limit", value: journalLimit, expect: journalLimit },
  ];
  for (const [name, raw] of Object.entries(extra)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      check.fail(`pragmas.${name}`, "a pragma name (letters, digits, _)", name);
    if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
      check.fail(`pragmas.${name}`, "a string, number or boolean", raw);
    }
    if (typeof raw === "string" && !/^[A-Za-z0-9_.-]+$/.test(raw)) {
      check.fail(`pragmas.${name}`, "a plain word or number", raw);
    }
    const value = typeof raw === "boolean" ? (raw ? 1 : 0) : raw;
    const mapped = typeof value === "string" ? ENUM_VALUES[name.toLowerCase()]?.[value.toUpperCase()] : undefined;
    plans.push({
      name: name.toLowerCase(),
      value,
      expect: mapped ?? (typeof value === "string" ? value.toLowerCase() : value),
    });
  }
  return plans;
}

function upper(value: unknown): unknown {
  return typeof value === "string" ? value.toUpperCase() : value;
}

function readPragma(db: SqliteDatabase, name: string): unknown {
  return db.pragma(name, { simple: true });
}

function sameValue(actual: unknown, expected: string | number): boolean {
  if (typeof expected === "number") return Number(actual) === expected;
  return typeof actual === "string" && actual.toLowerCase() === expected;
}

/**
 * Applies a production profile of pragmas to a better-sqlite3 connection, reads every one
 * back and throws a {@link SqlitePragmaError} naming the first that did not take (SQLite
 * ignores unknown pragmas silently, and some cannot change inside a transaction or on an
 * in-memory database). Then runs `PRAGMA optimize=0x10002`. Returns the same connection.
 * On an in-memory database the profile's `journal_mode` and `mmap_size` defaults are skipped
 * (neither applies); set explicitly, they are checked like the others.
 *
 * @example
 * import Database from "better-sqlite3";
 * import { tuneSqlite } from "@palisade/sqlite-tuning";
 *
 * const db = tuneSqlite(new Database("data/app.db"));
 */
export function tuneSqlite<T extends SqliteDatabase>(db: T, profile: Readonly<SqliteProfile> = {}): T {
  const plans = validateProfile(profile);
  const optimizeOnOpen = profile.optimizeOnOpen ?? PRODUCTION_PROFILE.optimizeOnOpen;
  for (const plan of plans) {
    // An in-memory database has no journal file to put in WAL mode and no file to map:
    // those two profile defaults do not apply there (asked for explicitly, they still throw).
    if (db.memory && plan.name === "journal_mode" && profile.journalMode === undefined) continue;
    if (db.memory && plan.name === "mmap_size" && profile.mmapSizeBytes === undefined) continue;
    try {
      db.pragma(`${plan.name} = ${plan.value}`);
    } catch (error) {
      throw new SqlitePragmaError(plan.name, plan.value, undefined, (error as Error).message, true);
    }
    const actual = readPragma(db, plan.name);
    if (!sameValue(actual, plan.expect)) {
      const why =
        plan.name === "journal_mode" && db.memory
          ? "in-memory databases cannot use WAL"
          : db.inTransaction
            ? "some pragmas cannot change inside a transaction"
            : plan.name === "mmap_size"
              ? "SQLite caps it at SQLITE_MAX_MMAP_SIZE"
              : undefined;
      throw new SqlitePragmaError(plan.name, plan.expect, actual, why);
    }
  }
  if (optimizeOnOpen) db.pragma("optimize = 0x10002");
  return db;
}

/**
 * Runs `PRAGMA optimize`, which analyzes the tables whose statistics are stale. Call it
 * periodically (every few hours) on long-lived connections and before closing.
 *
 * @example
 * setInterval(() => optimize(db), 6 * 3600_000).unref();
 * process.on("SIGTERM", () => { optimize(db); db.close(); });
 */
export function optimize(db: SqliteDatabase): void {
  db.pragma("optimize");
}

/** The pragma values `tuneSqlite()` manages, as SQLite reports them now. */
export function readPragmas(db: SqliteDatabase): Record<string, unknown> {
  const names = [
    "journal_mode",
    "synchronous",
    "busy_timeout",
    "foreign_keys",
    "mmap_size",
    "cache_size",
    "temp_store",
    "wal_autocheckpoint",
    "journal_size_limit",
  ];
  return Object.fromEntries(names.map((name) => [name, readPragma(db, name)]));
}
