/** What a write statement reports; better-sqlite3's `RunResult` fits. */
export interface SqliteRunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

/**
 * The prepared-statement surface this package uses. better-sqlite3's `Statement` fits it;
 * typing structurally keeps `@types/better-sqlite3` out of consumers' type-checks.
 */
export interface SqliteStatement {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** `true` for statements that return rows. */
  readonly reader: boolean;
  /** The SQL text the statement was prepared from. */
  readonly source: string;
}

/** The database-connection surface this package uses. A better-sqlite3 `Database` fits it. */
export interface SqliteDatabase {
  prepare(source: string): SqliteStatement;
  exec(source: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  /** The file name the connection was opened with (`:memory:` or `""` for in-memory databases). */
  readonly name: string;
  readonly open: boolean;
  readonly inTransaction: boolean;
  readonly memory: boolean;
  readonly readonly: boolean;
}
