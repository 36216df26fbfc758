import { optionChecks } from "@palisade/core";
import { installHooks } from "./hooks.js";
import { tableUsage } from "./sql.js";
import type { SqliteDatabase } from "./types.js";

export interface CachedQueryOptions {
  /** How long a result stays fresh, in milliseconds. Defaults to `5000`. */
  ttlMs?: number;
  /** Tables whose writes invalidate the results. Defaults to the tables named after FROM and JOIN in the SQL. */
  tables?: readonly string[];
  /** Most results kept (least recently used go first). Defaults to `500`. */
  maxEntries?: number;
  /** Most bytes of results kept, measured as JSON; a larger single result is not cached. Defaults to `8388608` (8 MiB). */
  maxBytes?: number;
  /**
   * Also drop every result when another connection or process committed a write
   * (`PRAGMA data_version` changed), since those writes are not seen by the hooks.
   * Defaults to `true`.
   */
  crossConnection?: boolean;
}

/** Counters of one cached query. */
export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

/** A cached query: call it with the statement's parameters to get the (frozen) rows. */
export type CachedQuery<Row = unknown> = ((...params: unknown[]) => readonly Row[]) & {
  /** Drops every cached result. */
  invalidate(): void;
  stats(): CacheStats;
};

interface CacheEntry {
  rows: readonly unknown[];
  bytes: number;
  expires: number;
  stamp: number;
  dataVersion: number;
}

function keyOf(params: readonly unknown[]): string {
  return JSON.stringify(params, (_key, value) => (typeof value === "bigint" ? `${value}n` : value));
}

/**
 * An LRU cache of one query's results, keyed by parameters, bounded in entries and bytes,
 * and invalidated as soon as a statement on this connection writes one of its tables (the
 * writes are seen through the same hooks `instrument()` uses, installed here if needed).
 * Rows are frozen: they are shared by every caller.
 *
 * @example
 * const services = cachedQuery(db, "SELECT * FROM services WHERE active = ?", { ttlMs: 60_000 });
 * app.get("/services", (_req, res) => res.json(services(1)));
 */
export function cachedQuery<Row = unknown>(
  db: SqliteDatabase,
  sql: string,
  options: Readonly<CachedQueryOptions> = {},
): CachedQuery<Row> {
  const check = optionChecks("cachedQuery");
  check.object("", options, ["ttlMs", "tables", "maxEntries", "maxBytes", "crossConnection"]);
  const ttlMs = check.number("ttlMs", options.ttlMs, 5000, { min: 0 });
  const maxEntries = check.number("maxEntries", options.maxEntries, 500, { min: 1, integer: true });
  const maxBytes = check.number("maxBytes", options.maxBytes, 8 * 1024 * 1024, { min: 1, integer: true });
  const crossConnection = check.boolean("crossConnection", options.crossConnection, true);
  const named = tableUsage(sql, () => []).map((usage) => usage.table);
  const tables = check.stringArray("tables", options.tables, named).map((table) => table.toLowerCase());
  if (tables.length === 0) {
    check.fail("tables", "a non-empty list of tables (none could be read from the SQL)", options.tables);
  }
  const hooks = installHooks(db);
  const statement = db.prepare(sql);
  if (!statement.reader) check.fail("sql", "a statement that returns rows", sql);
  const dataVersion = crossConnection ? hooks.prepareRaw("PRAGMA data_version") : undefined;
  const readDataVersion = () =>
    dataVersion ? Number((dataVersion.get() as { data_version: number }).data_version) : 0;
  const entries = new Map<string, CacheEntry>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;

  const drop = (key: string, entry: CacheEntry) => {
    entries.delete(key);
    bytes -= entry.bytes;
  };

  const query = function cachedQuery(...params: unknown[]): readonly Row[] {
    const key = keyOf(params);
    const now = Date.now();
    const stamp = hooks.stamp(tables);
    const version = readDataVersion();
    const entry = entries.get(key);
    if (entry) {
      if (entry.expires > now && entry.stamp === stamp && entry.dataVersion === version) {
        hits++;
        entries.delete(key);
        entries.set(key, entry);
        return entry.rows as readonly Row[];
      }
      drop(key, entry);
    }
    misses++;
    const rows = statement.all(...params);
    for (const row of rows) if (typeof row === "object" && row !== null) Object.freeze(row);
    Object.freeze(rows);
    const size = Buffer.byteLength(keyOf(rows)) + key.length;
    if (size <= maxBytes && ttlMs > 0) {
      entries.set(key, { rows, bytes: size, expires: now + ttlMs, stamp, dataVersion: version });
      bytes += size;
      for (const [oldKey, old] of entries) {
        if (entries.size <= maxEntries && bytes <= maxBytes) break;
        drop(oldKey, old);
      }
    }
    return rows as readonly Row[];
  } as CachedQuery<Row>;
  query.invalidate = () => {
    entries.clear();
    bytes = 0;
  };
  query.stats = () => ({ hits, misses, entries: entries.size, bytes });
  return query;
}
