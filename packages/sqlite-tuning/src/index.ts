export {
  type AdviseOptions,
  adviseIndexes,
  expectNoFullScans,
  explainQueryPlan,
  FINDING_KINDS,
  type FindingKind,
  type IndexAdvice,
  type IndexFinding,
  type PlanLine,
  type ProposedIndex,
} from "./advisor.js";
export { type ApplyIndexesResult, applyIndexes, type IndexDefinition } from "./apply.js";
export { type CachedQuery, type CachedQueryOptions, type CacheStats, cachedQuery } from "./cache.js";
export {
  type SqliteCheckOptions,
  type SqliteCheckResult,
  sqliteCheck,
  type WalWatchdogOptions,
  walWatchdog,
} from "./health.js";
export type { StatementCall } from "./hooks.js";
export {
  type Instrumentation,
  type InstrumentOptions,
  instrument,
  type SlowQuery,
  type StatementStats,
} from "./instrument.js";
export {
  JOURNAL_MODES,
  type JournalMode,
  PRODUCTION_PROFILE,
  type SqliteProfile,
  SYNCHRONOUS_MODES,
  type SynchronousMode,
  TEMP_STORES,
  type TempStore,
} from "./options.js";
export { redactSql } from "./sql.js";
export { optimize, readPragmas, SqlitePragmaError, tuneSqlite } from "./sqlite-tuning.js";
export type { SqliteDatabase, SqliteRunResult, SqliteStatement } from "./types.js";
export { type WriteTxOptions, writeTx } from "./write-tx.js";
