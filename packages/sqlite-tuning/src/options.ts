/** Accepted `journalMode` values. */
export const JOURNAL_MODES = ["WAL", "DELETE", "TRUNCATE", "PERSIST", "MEMORY", "OFF"] as const;
export type JournalMode = (typeof JOURNAL_MODES)[number];

/** Accepted `synchronous` values. */
export const SYNCHRONOUS_MODES = ["OFF", "NORMAL", "FULL", "EXTRA"] as const;
export type SynchronousMode = (typeof SYNCHRONOUS_MODES)[number];

/** Accepted `tempStore` values. */
export const TEMP_STORES = ["DEFAULT", "FILE", "MEMORY"] as const;
export type TempStore = (typeof TEMP_STORES)[number];

/** The pragmas `tuneSqlite()` applies. Every field is optional; unset fields keep the production default. */
export interface SqliteProfile {
  /** `PRAGMA journal_mode`. WAL lets readers run while one writer writes. Defaults to `"WAL"`. */
  journalMode?: JournalMode;
  /** `PRAGMA synchronous`. `NORMAL` is durable across application crashes and safe in WAL mode. Defaults to `"NORMAL"`. */
  synchronous?: SynchronousMode;
  /** `PRAGMA busy_timeout`, milliseconds a statement waits for a lock before `SQLITE_BUSY`. Defaults to `5000`. */
  busyTimeoutMs?: number;
  /** `PRAGMA foreign_keys`. Defaults to `true`. */
  foreignKeys?: boolean;
  /** `PRAGMA mmap_size`, bytes of the file read through memory mapping (0 turns it off). Defaults to `268435456` (256 MiB). */
  mmapSizeBytes?: number;
  /** Page cache size in KiB (`PRAGMA cache_size = -N`). Defaults to `65536` (64 MiB). */
  cacheSizeKiB?: number;
  /** `PRAGMA temp_store`: where temporary tables and indexes live. Defaults to `"MEMORY"`. */
  tempStore?: TempStore;
  /** `PRAGMA wal_autocheckpoint`, in pages (0 turns automatic checkpoints off). Defaults to `1000`. */
  walAutocheckpointPages?: number;
  /** `PRAGMA journal_size_limit`, bytes the WAL is truncated to after a checkpoint (-1: no limit). Defaults to `67108864` (64 MiB). */
  journalSizeLimitBytes?: number;
  /** Runs `PRAGMA optimize=0x10002` after applying the profile (analyzes tables that need it, bounded work). Defaults to `true`. */
  optimizeOnOpen?: boolean;
  /**
   * Further pragmas to set and verify, e.g. `{ cache_spill: 0 }`. Each is set as given and read
   * back; one that does not take (or that SQLite does not know) throws. Defaults to `{}`.
   */
  pragmas?: Record<string, string | number | boolean>;
}

/** The production profile `tuneSqlite()` applies when nothing is overridden. */
export const PRODUCTION_PROFILE: Readonly<Required<SqliteProfile>> = Object.freeze({
  journalMode: "WAL",
  synchronous: "NORMAL",
  busyTimeoutMs: 5000,
  foreignKeys: true,
  mmapSizeBytes: 268_435_456,
  cacheSizeKiB: 65_536,
  tempStore: "MEMORY",
  walAutocheckpointPages: 1000,
  journalSizeLimitBytes: 67_108_864,
  optimizeOnOpen: true,
  pragmas: {},
});

export const PROFILE_KEYS = Object.keys(PRODUCTION_PROFILE) as (keyof SqliteProfile)[];
