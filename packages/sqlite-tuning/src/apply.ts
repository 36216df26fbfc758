import { PalisadeConfigError } from "@palisade/core";
import { splitStatements, tokenize } from "./sql.js";
import type { SqliteDatabase } from "./types.js";
import { writeTx } from "./write-tx.js";

/** An index to create: a `CREATE INDEX` statement, or an object carrying one (a `ProposedIndex`). */
export type IndexDefinition = string | { sql: string };

/** What `applyIndexes()` did. */
export interface ApplyIndexesResult {
  /** Indexes that did not exist and were created. */
  created: { name: string; table: string; sql: string }[];
  /** Names of indexes that already existed. */
  existing: string[];
  /** Tables `ANALYZE` ran on (those that got a new index). */
  analyzed: string[];
}

interface ParsedIndex {
  name: string;
  table: string;
  sql: string;
}

function parseIndex(statement: string, position: string): ParsedIndex {
  const tokens = tokenize(statement);
  const fail = (): never => {
    throw new PalisadeConfigError(
      "ERR_PALISADE_INVALID_OPTION",
      position,
      `applyIndexes: \`${position}\` must be a CREATE INDEX statement, got ${JSON.stringify(statement.slice(0, 80))}.`,
    );
  };
  let i = 0;
  if (tokens[i]?.upper !== "CREATE") fail();
  i++;
  if (tokens[i]?.upper === "UNIQUE") i++;
  if (tokens[i]?.upper !== "INDEX") fail();
  const insertAt = tokens[i]!.end;
  i++;
  let hasIfNotExists = false;
  if (tokens[i]?.upper === "IF" && tokens[i + 1]?.upper === "NOT" && tokens[i + 2]?.upper === "EXISTS") {
    hasIfNotExists = true;
    i += 3;
  }
  if (tokens[i + 1]?.text === ".") i += 2;
  const nameToken = tokens[i];
  if (!nameToken || (nameToken.type !== "word" && nameToken.type !== "quoted")) return fail();
  const name = nameToken.type === "quoted" ? statement.slice(nameToken.start + 1, nameToken.end - 1) : nameToken.text;
  i++;
  if (tokens[i]?.upper !== "ON") fail();
  const tableToken = tokens[i + 1];
  if (!tableToken || (tableToken.type !== "word" && tableToken.type !== "quoted")) return fail();
  const table =
    tableToken.type === "quoted" ? statement.slice(tableToken.start + 1, tableToken.end - 1) : tableToken.text;
  const sql = hasIfNotExists ? statement : `${statement.slice(0, insertAt)} IF NOT EXISTS${statement.slice(insertAt)}`;
  return { name, table, sql };
}

/**
 * Creates indexes idempotently (`IF NOT EXISTS` is added where missing) in one `BEGIN
 * IMMEDIATE` transaction, then runs `ANALYZE` on the tables that got one, and reports what
 * was created. Accepts statements, a whole `.sql` script, or the advisor's proposals.
 * Anything other than `CREATE INDEX` is refused before anything runs.
 *
 * @example
 * const { created } = applyIndexes(db, [
 *   "CREATE INDEX idx_appointments_barber_start ON appointments (barber_id, start_time)",
 * ]);
 */
export function applyIndexes(
  db: SqliteDatabase,
  indexes: string | readonly IndexDefinition[],
  options: Readonly<{ analyze?: boolean }> = {},
): ApplyIndexesResult {
  const statements =
    typeof indexes === "string"
      ? splitStatements(indexes).map((sql, i) => ({ sql, position: `indexes[${i}]` }))
      : indexes.flatMap((index, i) => {
          const sql = typeof index === "string" ? index : index?.sql;
          if (typeof sql !== "string") {
            throw new PalisadeConfigError(
              "ERR_PALISADE_INVALID_OPTION",
              `indexes[${i}]`,
              `applyIndexes: \`indexes[${i}]\` must be a CREATE INDEX statement or an object with \`sql\`, got ${typeof index}.`,
            );
          }
          return splitStatements(sql).map((one) => ({ sql: one, position: `indexes[${i}]` }));
        });
  const parsed = statements.map(({ sql, position }) => parseIndex(sql, position));
  const analyze = options.analyze ?? true;
  const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ? COLLATE NOCASE");
  const result: ApplyIndexesResult = { created: [], existing: [], analyzed: [] };
  writeTx(db, () => {
    for (const index of parsed) {
      if (exists.get(index.name) !== undefined) {
        result.existing.push(index.name);
        continue;
      }
      db.exec(index.sql);
      result.created.push(index);
    }
  });
  if (analyze) {
    const tables = [...new Set(result.created.map((index) => index.table))];
    for (const table of tables) db.exec(`ANALYZE "${table.replaceAll('"', '""')}"`);
    result.analyzed = tables;
  }
  return result;
}
