import { optionChecks } from "@palisade/core";
import { nullParameters, quoteIdentifier, type TableUsage, tableUsage } from "./sql.js";
import type { SqliteDatabase } from "./types.js";

/** An index the advisor proposes. */
export interface ProposedIndex {
  /** Index name, `idx_<table>_<columns>`. */
  name: string;
  table: string;
  columns: string[];
  /** `CREATE INDEX IF NOT EXISTS ...`, ready for `applyIndexes()`. */
  sql: string;
  /** Why: one line per finding it resolves. */
  reasons: string[];
}

/** Kinds of problem the advisor reports. */
export const FINDING_KINDS = ["unindexed-foreign-key", "full-scan", "temp-b-tree", "automatic-index"] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** One problem found in the schema or in a query plan. */
export interface IndexFinding {
  kind: FindingKind;
  table: string;
  /** The columns concerned (foreign-key columns, or the automatic index's columns). */
  columns?: string[];
  /** The query whose plan shows the problem. */
  query?: string;
  /** The EXPLAIN QUERY PLAN line. */
  plan?: string;
  message: string;
  /** Name of the proposed index that resolves it, when the advisor found one. */
  index?: string;
}

/** What `adviseIndexes()` returns. */
export interface IndexAdvice {
  /** Indexes to create, composite where a query filters on one column and orders or ranges on another. */
  indexes: ProposedIndex[];
  findings: IndexFinding[];
  /** Per query: its plan now, and with the proposed indexes. */
  queries: { sql: string; plan: string[]; planWithIndexes: string[] }[];
}

export interface AdviseOptions {
  /** Queries to analyze (placeholders allowed: they are bound to NULL for EXPLAIN). Defaults to `[]`. */
  queries?: readonly string[];
  /** Report foreign-key columns that no index starts with. Defaults to `true`. */
  foreignKeys?: boolean;
  /**
   * Let a proposed index carry up to this many extra columns the query reads, so SQLite can
   * answer from the index alone (a covering index). `0` turns it off. Defaults to `2`.
   */
  coveringColumns?: number;
}

/** A line of EXPLAIN QUERY PLAN. */
export interface PlanLine {
  id: number;
  parent: number;
  detail: string;
}

/**
 * The EXPLAIN QUERY PLAN of `sql`, with every placeholder bound to NULL.
 *
 * @example
 * explainQueryPlan(db, "SELECT * FROM users WHERE email = ?").map((line) => line.detail);
 * // ["SEARCH users USING INDEX idx_users_email (email=?)"]
 */
export function explainQueryPlan(db: SqliteDatabase, sql: string): PlanLine[] {
  return db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...nullParameters(sql)) as PlanLine[];
}

interface PlanProblem {
  kind: Exclude<FindingKind, "unindexed-foreign-key">;
  /** Table name or alias as the plan shows it. */
  name: string | undefined;
  columns?: string[];
  detail: string;
}

function planProblems(plan: readonly PlanLine[]): PlanProblem[] {
  const problems: PlanProblem[] = [];
  for (const { detail } of plan) {
    const scan = /^SCAN (\S+)(.*)$/.exec(detail);
    if (scan && !scan[2]!.includes("USING") && !scan[1]!.startsWith("(") && scan[1] !== "CONSTANT") {
      problems.push({ kind: "full-scan", name: scan[1]!.toLowerCase(), detail });
      continue;
    }
    const automatic = /^(?:SEARCH|BLOOM FILTER ON) (\S+) .*?\((.*)\)$/.exec(detail);
    if (automatic && (/ USING AUTOMATIC /.test(detail) || detail.startsWith("BLOOM FILTER"))) {
      const name = automatic[1]!.toLowerCase();
      if (problems.some((p) => p.kind === "automatic-index" && p.name === name)) continue;
      const columns = automatic[2]!
        .split(" AND ")
        .map((term) => /^(\w+)/.exec(term)?.[1]?.toLowerCase())
        .filter((column): column is string => column !== undefined);
      problems.push({ kind: "automatic-index", name, columns, detail });
      continue;
    }
    if (/^USE TEMP B-TREE FOR .*ORDER BY|^USE TEMP B-TREE FOR GROUP BY/.test(detail)) {
      problems.push({ kind: "temp-b-tree", name: undefined, detail });
    }
  }
  return problems;
}

interface Schema {
  tables: string[];
  columns: Map<string, string[]>;
}

function readSchema(db: SqliteDatabase): Schema {
  const tables = (
    db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[]
  ).map((row) => row.name);
  const columns = new Map<string, string[]>();
  const info = db.prepare("SELECT name FROM pragma_table_info(?)");
  for (const table of tables) {
    columns.set(
      table.toLowerCase(),
      (info.all(table) as { name: string }[]).map((row) => row.name.toLowerCase()),
    );
  }
  return { tables, columns };
}

/** Leading columns of every index of `table` (rowid tables count `rowid` via the INTEGER PRIMARY KEY). */
function indexPrefixes(db: SqliteDatabase, table: string): string[][] {
  const prefixes: string[][] = [];
  const list = db.prepare("SELECT name FROM pragma_index_list(?)").all(table) as { name: string }[];
  const info = db.prepare("SELECT name FROM pragma_index_info(?) ORDER BY seqno");
  for (const { name } of list) {
    prefixes.push((info.all(name) as { name: string | null }[]).map((row) => (row.name ?? "").toLowerCase()));
  }
  const rowid = rowidColumn(db, table);
  if (rowid) prefixes.push([rowid]);
  return prefixes;
}

function rowidColumn(db: SqliteDatabase, table: string): string | undefined {
  const pk = db.prepare("SELECT name, type FROM pragma_table_info(?) WHERE pk > 0").all(table) as {
    name: string;
    type: string;
  }[];
  return pk.length === 1 && pk[0]!.type.toUpperCase() === "INTEGER" ? pk[0]!.name.toLowerCase() : undefined;
}

function startsWith(index: readonly string[], columns: readonly string[]): boolean {
  return columns.length <= index.length && columns.every((column, i) => index[i] === column);
}

/** A scratch copy of the schema (no rows) to try candidate indexes on. */
interface Scratch {
  db: SqliteDatabase;
  close(): void;
}

type Constructor = new (file: string) => SqliteDatabase & { close(): void };

function openScratch(db: SqliteDatabase): Scratch {
  const schema = db
    .prepare(
      "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND type IN ('table', 'index', 'view') ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END",
    )
    .all() as { type: string; name: string; sql: string }[];
  const hasStats =
    db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'").get() !== undefined;
  const stats = hasStats ? (db.prepare("SELECT tbl, idx, stat FROM sqlite_stat1").all() as unknown[][]) : [];
  const Ctor = (db as unknown as { constructor: Constructor }).constructor;
  let scratch: SqliteDatabase & { close(): void };
  try {
    scratch = new Ctor(":memory:");
  } catch {
    // Not a better-sqlite3 connection we can clone: try candidates on the real database
    // inside a savepoint that is rolled back.
    db.exec("SAVEPOINT palisade_advisor");
    return { db, close: () => db.exec("ROLLBACK TO palisade_advisor; RELEASE palisade_advisor") };
  }
  for (const { sql } of schema) {
    try {
      scratch.exec(sql);
    } catch {
      // Shadow tables of a virtual table already exist once the virtual table does; a
      // view over an attached database cannot be copied. Neither changes index advice.
    }
  }
  if (stats.length > 0) {
    scratch.exec("ANALYZE");
    const insert = scratch.prepare("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)");
    for (const row of stats) {
      const { tbl, idx, stat } = row as unknown as { tbl: string; idx: string | null; stat: string };
      insert.run(tbl, idx, stat);
    }
    scratch.exec("ANALYZE sqlite_schema");
  }
  return { db: scratch, close: () => scratch.close() };
}

function indexName(table: string, columns: readonly string[]): string {
  return `idx_${table}_${columns.join("_")}`.replace(/[^A-Za-z0-9_]/g, "_").toLowerCase();
}

function createSql(name: string, table: string, columns: readonly string[]): string {
  return `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(name)} ON ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(", ")})`;
}

function candidates(
  usage: TableUsage,
  problems: readonly PlanProblem[],
  covering: number,
  rowid: string | undefined,
): string[][] {
  const { equality, joins, range, order } = usage;
  const orderColumns = order.map((term) => term.column);
  const list: string[][] = [];
  const add = (columns: string[]) => {
    // The rowid ends every index already; naming it again only widens the index.
    const unique = columns.filter((column, i) => columns.indexOf(column) === i && column !== rowid);
    if (unique.length > 0 && !list.some((c) => c.join() === unique.join())) list.push(unique);
  };
  for (const problem of problems) {
    if (problem.kind === "automatic-index" && problem.columns?.length) add([...problem.columns]);
  }
  // Extra columns after an ORDER BY that ends with the rowid would break that order.
  const orderEndsWithRowid = orderColumns.length > 0 && orderColumns[orderColumns.length - 1] === rowid;
  const base: string[][] = [];
  if (orderColumns.length > 0) base.push([...equality, ...orderColumns]);
  if (range.length > 0) base.push([...equality, range[0]!]);
  base.push([...equality]);
  if (equality.length === 0) for (const column of range) base.push([column]);
  // Join columns last: an index on them lets SQLite turn the join around.
  if (joins.length > 0) base.push([...equality, ...joins]);
  for (const columns of base) {
    if (columns.length === 0) continue;
    // Every index already carries the rowid, so an INTEGER PRIMARY KEY never needs adding.
    const extra = usage.columns
      ? [...usage.columns].filter((column) => !columns.includes(column) && column !== rowid)
      : undefined;
    const keepsOrder = !(orderEndsWithRowid && orderColumns.every((column) => columns.includes(column)));
    if (covering > 0 && keepsOrder && extra && extra.length > 0 && extra.length <= covering) {
      add([...columns, ...extra]);
    }
    add(columns);
  }
  return list;
}

/** How many WHERE terms the index search on `alias` uses (0 when it is not searched). */
function served(plan: readonly PlanLine[], alias: string): number {
  let best = 0;
  for (const { detail } of plan) {
    const search = /^SEARCH (\S+) .*USING (?:COVERING )?INDEX \S+ \((.*)\)$/.exec(detail);
    if (search && search[1]!.toLowerCase() === alias) best = Math.max(best, search[2]!.split(" AND ").length);
  }
  return best;
}

function scanCount(plan: readonly PlanLine[]): number {
  return planProblems(plan).filter((problem) => problem.kind !== "temp-b-tree").length;
}

/**
 * Finds foreign-key columns no index starts with, runs EXPLAIN QUERY PLAN on each query and
 * flags full scans (`SCAN <table>` without an index), `USE TEMP B-TREE` sorts and
 * `AUTOMATIC ... INDEX` builds, then proposes `CREATE INDEX` statements, each verified
 * against a copy of the schema to remove the problem it targets. Composite indexes put the
 * equality columns first, then the ORDER BY or range column.
 *
 * @example
 * const advice = adviseIndexes(db, {
 *   queries: ["SELECT * FROM appointments WHERE barber_id = ? ORDER BY start_time"],
 * });
 * // advice.indexes[0].sql === "CREATE INDEX IF NOT EXISTS idx_appointments_barber_id_start_time ON appointments (barber_id, start_time)"
 */
export function adviseIndexes(db: SqliteDatabase, options: Readonly<AdviseOptions> = {}): IndexAdvice {
  const check = optionChecks("adviseIndexes");
  check.object("", options, ["queries", "foreignKeys", "coveringColumns"]);
  const queries = check.stringArray("queries", options.queries, []);
  const foreignKeys = check.boolean("foreignKeys", options.foreignKeys, true);
  const covering = check.number("coveringColumns", options.coveringColumns, 2, { min: 0, integer: true });

  const schema = readSchema(db);
  const columnsOf = (table: string) => schema.columns.get(table);
  const findings: IndexFinding[] = [];
  const proposals: ProposedIndex[] = [];
  const originalPlans = queries.map((sql) => explainQueryPlan(db, sql));
  const scratch = openScratch(db);
  try {
    const propose = (table: string, columns: string[], reason: string): ProposedIndex => {
      const existing = proposals.find((p) => p.table === table && startsWith(p.columns, columns));
      if (existing) {
        existing.reasons.push(reason);
        return existing;
      }
      const name = indexName(table, columns);
      const proposal: ProposedIndex = { name, table, columns, sql: createSql(name, table, columns), reasons: [reason] };
      proposals.push(proposal);
      return proposal;
    };

    if (foreignKeys) {
      const fkList = scratch.db.prepare(
        'SELECT id, seq, "table" AS parent, "from" AS col FROM pragma_foreign_key_list(?) ORDER BY id, seq',
      );
      for (const table of schema.tables) {
        const keys = new Map<number, { parent: string; columns: string[] }>();
        for (const row of fkList.all(table) as { id: number; parent: string; col: string }[]) {
          const key = keys.get(row.id) ?? { parent: row.parent, columns: [] };
          key.columns.push(row.col.toLowerCase());
          keys.set(row.id, key);
        }
        const position = (column: string) => schema.columns.get(table.toLowerCase())?.indexOf(column) ?? 0;
        const ordered = [...keys.values()].sort((a, b) => position(a.columns[0]!) - position(b.columns[0]!));
        for (const { parent, columns } of ordered) {
          const covered = indexPrefixes(scratch.db, table).some((prefix) =>
            startsWith(prefix.slice(0, columns.length).sort(), [...columns].sort()),
          );
          if (covered) continue;
          const reason = `foreign key ${table}(${columns.join(", ")}) -> ${parent} has no index: deletes and updates of ${parent} scan ${table}`;
          const proposal = propose(table.toLowerCase(), columns, reason);
          scratch.db.exec(proposal.sql);
          findings.push({
            kind: "unindexed-foreign-key",
            table,
            columns,
            message: reason,
            index: proposal.name,
          });
        }
      }
    }

    queries.forEach((sql, q) => {
      const usages = tableUsage(sql, columnsOf);
      const byUsage = new Map<TableUsage, { problems: PlanProblem[]; findings: IndexFinding[] }>();
      for (const problem of planProblems(originalPlans[q]!)) {
        const usage =
          problem.kind === "temp-b-tree"
            ? usages.find((u) => u.order.length > 0)
            : usages.find((u) => u.alias === problem.name || u.table === problem.name);
        const table = usage?.table ?? problem.name ?? "?";
        const finding: IndexFinding = {
          kind: problem.kind,
          table,
          query: sql,
          plan: problem.detail,
          message: describeProblem(problem, table, usage),
        };
        if (problem.columns) finding.columns = problem.columns;
        findings.push(finding);
        if (!usage) continue;
        const group = byUsage.get(usage) ?? { problems: [], findings: [] };
        group.problems.push(problem);
        group.findings.push(finding);
        byUsage.set(usage, group);
      }

      for (const [usage, group] of byUsage) {
        const reason = (kind: string) => `${kind} in: ${oneLine(sql)}`;
        const wanted = usage.equality.length + (usage.range.length > 0 ? 1 : 0);
        const sorts = group.problems.some((problem) => problem.kind === "temp-b-tree");
        // Problems of this table reference left in a plan: scans or automatic indexes of
        // it, plus a sort when the query's ORDER BY is on it.
        const left = (plan: readonly PlanLine[]) =>
          planProblems(plan).filter((problem) =>
            problem.kind === "temp-b-tree" ? sorts : problem.name === usage.alias,
          ).length;
        const current = explainQueryPlan(scratch.db, sql);
        if (left(current) === 0 && served(current, usage.alias) >= wanted) {
          // Already solved by an index proposed for an earlier finding.
          const fixer = proposals.find((p) => p.table === usage.table && mentions(current, p.name));
          for (const finding of group.findings) {
            if (!fixer) continue;
            finding.index = fixer.name;
            fixer.reasons.push(reason(finding.kind));
          }
          continue;
        }
        const scannedNow = planProblems(current).some((p) => p.kind !== "temp-b-tree" && p.name === usage.alias);
        let best: { columns: string[]; left: number; served: number } | undefined;
        for (const columns of candidates(usage, group.problems, covering, rowidColumn(scratch.db, usage.table))) {
          const name = indexName(usage.table, columns);
          if (indexExists(scratch.db, name)) continue;
          scratch.db.exec(createSql(name, usage.table, columns));
          const after = explainQueryPlan(scratch.db, sql);
          scratch.db.exec(`DROP INDEX ${quoteIdentifier(name)}`);
          // Used, not just moving the scan to another table, and better than now.
          if (!mentions(after, name)) continue;
          if (scannedNow ? scanCount(after) >= scanCount(current) : scanCount(after) > scanCount(current)) continue;
          const trial = { columns, left: left(after), served: served(after, usage.alias) };
          const improves = trial.left < left(current) || trial.served > served(current, usage.alias);
          if (!improves) continue;
          if (!best || trial.left < best.left || (trial.left === best.left && trial.served > best.served)) best = trial;
          if (trial.left === 0 && trial.served >= wanted) break;
        }
        if (!best) continue;
        const kinds = [...new Set(group.findings.map((finding) => finding.kind))];
        const proposal = propose(usage.table, best.columns, reason(kinds.join(" + ")));
        scratch.db.exec(proposal.sql);
        for (const finding of group.findings) finding.index = proposal.name;
      }
    });

    // An index that is a prefix of another on the same table is served by the longer one.
    const kept = proposals.filter(
      (p) =>
        !proposals.some(
          (other) =>
            other !== p &&
            other.table === p.table &&
            other.columns.length > p.columns.length &&
            startsWith(other.columns, p.columns),
        ),
    );
    for (const dropped of proposals.filter((p) => !kept.includes(p))) {
      const into = kept.find((p) => p.table === dropped.table && startsWith(p.columns, dropped.columns))!;
      into.reasons.push(...dropped.reasons);
      for (const finding of findings) if (finding.index === dropped.name) finding.index = into.name;
      scratch.db.exec(`DROP INDEX IF EXISTS ${quoteIdentifier(dropped.name)}`);
    }
    kept.sort((a, b) => a.table.localeCompare(b.table) || a.name.localeCompare(b.name));
    return {
      indexes: kept,
      findings,
      queries: queries.map((sql, q) => ({
        sql,
        plan: originalPlans[q]!.map((line) => line.detail),
        planWithIndexes: explainQueryPlan(scratch.db, sql).map((line) => line.detail),
      })),
    };
  } finally {
    scratch.close();
  }
}

function mentions(plan: readonly PlanLine[], name: string): boolean {
  return plan.some((line) => line.detail.includes(` ${name} `) || line.detail.endsWith(` ${name}`));
}

function indexExists(db: SqliteDatabase, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?").get(name) !== undefined;
}

function oneLine(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

function describeProblem(problem: PlanProblem, table: string, usage: TableUsage | undefined): string {
  switch (problem.kind) {
    case "full-scan":
      return usage && usage.equality.length + usage.range.length + usage.order.length === 0
        ? `full scan of ${table}: the query does not filter it (fine for small tables; otherwise add a filter or a LIMIT)`
        : `full scan of ${table}: no index serves the query's filter`;
    case "automatic-index":
      return `SQLite builds a temporary index on ${table}(${(problem.columns ?? []).join(", ")}) for every run`;
    default:
      return `sorts rows in a temporary b-tree: no index delivers them in order (${problem.detail})`;
  }
}

/**
 * Throws when the plan of `sql` scans a table without an index or builds an automatic index
 * (for tests). `allow` lists tables (or aliases) a full scan is fine for: small lookup tables.
 *
 * @example
 * expectNoFullScans(db, "SELECT * FROM appointments WHERE barber_id = ?");
 */
export function expectNoFullScans(db: SqliteDatabase, sql: string, allow: readonly string[] = []): void {
  const plan = explainQueryPlan(db, sql);
  const allowed = new Set(allow.map((name) => name.toLowerCase()));
  const { columns } = readSchema(db);
  // The plan names aliases; allow the table behind an alias too.
  const tableOf = new Map(tableUsage(sql, (table) => columns.get(table)).map((usage) => [usage.alias, usage.table]));
  const scans = planProblems(plan).filter(
    (problem) =>
      problem.kind !== "temp-b-tree" &&
      !allowed.has(problem.name ?? "") &&
      !allowed.has(tableOf.get(problem.name ?? "") ?? ""),
  );
  if (scans.length === 0) return;
  throw new Error(
    `expectNoFullScans: ${scans.map((s) => s.detail).join("; ")} in: ${oneLine(sql)}\nplan:\n${plan.map((line) => `  ${line.detail}`).join("\n")}`,
  );
}
