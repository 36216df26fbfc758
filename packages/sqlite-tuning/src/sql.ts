// A small SQL tokenizer and the few analyses this package needs: redacting literals for
// logs, binding placeholder parameters for EXPLAIN, finding the tables a write touches,
// and the filter/order columns a query uses per table (for the index advisor). It is not a
// parser: SQLite's own EXPLAIN QUERY PLAN is the authority, this only proposes candidates.

export type TokenType = "word" | "quoted" | "string" | "blob" | "number" | "param" | "op" | "punct";

export interface Token {
  type: TokenType;
  /** Raw text as written. */
  text: string;
  /** Identifier value (unquoted), upper-cased for words. */
  upper: string;
  start: number;
  end: number;
}

const OPERATORS = [
  "<<",
  ">>",
  "<=",
  ">=",
  "==",
  "!=",
  "<>",
  "||",
  "->>",
  "->",
  "<",
  ">",
  "=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "&",
  "|",
  "~",
];

function isWordStart(char: string): boolean {
  return /[A-Za-z_\u0080-\uffff]/.test(char);
}

function isWordChar(char: string): boolean {
  return /[A-Za-z0-9_$\u0080-\uffff]/.test(char);
}

/** Splits SQL into tokens, dropping whitespace and comments. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (type: TokenType, start: number, end: number, upper?: string) => {
    const text = sql.slice(start, end);
    tokens.push({ type, text, upper: upper ?? text.toUpperCase(), start, end });
  };
  while (i < sql.length) {
    const char = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(char)) {
      i++;
    } else if (char === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? sql.length : end + 1;
    } else if (char === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if ((char === "x" || char === "X") && next === "'") {
      const end = closing(sql, i + 1, "'");
      push("blob", i, end);
      i = end;
    } else if (char === "'") {
      const end = closing(sql, i, "'");
      push("string", i, end);
      i = end;
    } else if (char === '"' || char === "`") {
      const end = closing(sql, i, char);
      const inner = sql.slice(i + 1, end - 1).replaceAll(char + char, char);
      push("quoted", i, end, inner.toUpperCase());
      i = end;
    } else if (char === "[") {
      const close = sql.indexOf("]", i);
      const end = close === -1 ? sql.length : close + 1;
      push("quoted", i, end, sql.slice(i + 1, end - 1).toUpperCase());
      i = end;
    } else if (/[0-9]/.test(char) || (char === "." && next !== undefined && /[0-9]/.test(next))) {
      let end = i;
      if (char === "0" && (next === "x" || next === "X")) {
        end = i + 2;
        while (end < sql.length && /[0-9A-Fa-f_]/.test(sql[end]!)) end++;
      } else {
        while (end < sql.length && /[0-9._]/.test(sql[end]!)) end++;
        if (end < sql.length && /[eE]/.test(sql[end]!)) {
          end++;
          if (/[+-]/.test(sql[end] ?? "")) end++;
          while (end < sql.length && /[0-9]/.test(sql[end]!)) end++;
        }
      }
      push("number", i, end);
      i = end;
    } else if (char === "?") {
      let end = i + 1;
      while (end < sql.length && /[0-9]/.test(sql[end]!)) end++;
      push("param", i, end);
      i = end;
    } else if ((char === ":" || char === "@" || char === "$") && next !== undefined && isWordChar(next)) {
      let end = i + 1;
      while (end < sql.length && isWordChar(sql[end]!)) end++;
      push("param", i, end);
      i = end;
    } else if (isWordStart(char)) {
      let end = i + 1;
      while (end < sql.length && isWordChar(sql[end]!)) end++;
      push("word", i, end);
      i = end;
    } else if ("(),;.".includes(char)) {
      push("punct", i, i + 1);
      i++;
    } else {
      const op = OPERATORS.find((candidate) => sql.startsWith(candidate, i)) ?? char;
      push("op", i, i + op.length);
      i += op.length;
    }
  }
  return tokens;
}

function closing(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/**
 * The SQL with every literal (strings, numbers, blobs) replaced by `?` and whitespace
 * collapsed, so it can be logged without the values it carried. Bound parameters never
 * appear in SQL text in the first place.
 *
 * @example
 * redactSql("SELECT * FROM users WHERE email = 'a@example.com' LIMIT 5");
 * // "SELECT * FROM users WHERE email = ? LIMIT ?"
 */
export function redactSql(sql: string): string {
  let out = "";
  let last = 0;
  for (const token of tokenize(sql)) {
    if (token.type === "string" || token.type === "number" || token.type === "blob") {
      out += `${sql.slice(last, token.start)}?`;
      last = token.end;
    }
  }
  out += sql.slice(last);
  return out
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Arguments that bind `NULL` to every placeholder of `sql` (for EXPLAIN QUERY PLAN). */
export function nullParameters(sql: string): unknown[] {
  let positional = 0;
  const named: Record<string, null> = {};
  let hasNamed = false;
  for (const token of tokenize(sql)) {
    if (token.type !== "param") continue;
    if (token.text === "?") positional++;
    else if (token.text.startsWith("?")) positional = Math.max(positional, Number(token.text.slice(1)));
    else {
      named[token.text.slice(1)] = null;
      hasNamed = true;
    }
  }
  const args: unknown[] = Array.from({ length: positional }, () => null);
  if (hasNamed) args.push(named);
  return args;
}

/** Splits a script into statements (trigger bodies kept whole), without trailing semicolons. */
export function splitStatements(sql: string): string[] {
  const tokens = tokenize(sql);
  const statements: string[] = [];
  let startToken = 0;
  let inTrigger = false;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (i === startToken) inTrigger = isTriggerStart(tokens, i);
    if (token.text === "(") depth++;
    else if (token.text === ")") depth = Math.max(0, depth - 1);
    if (token.text !== ";" || depth > 0) continue;
    if (inTrigger && tokens[i - 1]?.upper !== "END") continue;
    if (i > startToken) statements.push(sql.slice(tokens[startToken]!.start, tokens[i - 1]!.end));
    startToken = i + 1;
  }
  if (startToken < tokens.length) {
    statements.push(sql.slice(tokens[startToken]!.start, tokens[tokens.length - 1]!.end));
  }
  return statements;
}

function isTriggerStart(tokens: Token[], i: number): boolean {
  if (tokens[i]?.upper !== "CREATE") return false;
  const second = tokens[i + 1]?.upper;
  const third = tokens[i + 2]?.upper;
  return second === "TRIGGER" || ((second === "TEMP" || second === "TEMPORARY") && third === "TRIGGER");
}

/**
 * Tables a statement writes to (lower-case), `["*"]` for DDL and other statements that may
 * change anything, `[]` for reads.
 */
export function writtenTables(sql: string): string[] {
  const tables = new Set<string>();
  for (const statement of splitStatements(sql)) {
    const tokens = tokenize(statement);
    let i = 0;
    // Skip a WITH clause: jump to the first INSERT/REPLACE/UPDATE/DELETE/SELECT at depth 0.
    if (tokens[0]?.upper === "WITH") {
      let depth = 0;
      i = 1;
      while (i < tokens.length) {
        const token = tokens[i]!;
        if (token.text === "(") depth++;
        else if (token.text === ")") depth--;
        else if (depth === 0 && ["INSERT", "REPLACE", "UPDATE", "DELETE", "SELECT"].includes(token.upper)) break;
        i++;
      }
    }
    const verb = tokens[i]?.upper;
    if (verb === "SELECT" || verb === "VALUES" || verb === "EXPLAIN" || verb === undefined) continue;
    if (verb === "PRAGMA" || verb === "ANALYZE" || verb === "BEGIN" || verb === "COMMIT" || verb === "END") continue;
    if (verb === "ROLLBACK" || verb === "SAVEPOINT" || verb === "RELEASE") continue;
    let nameAt = -1;
    if (verb === "INSERT" || verb === "REPLACE") {
      nameAt = tokens.findIndex((token, j) => j > i && token.upper === "INTO") + 1;
    } else if (verb === "UPDATE") {
      nameAt = i + 1;
      if (tokens[nameAt]?.upper === "OR") nameAt += 2;
    } else if (verb === "DELETE") {
      nameAt = i + 2;
    }
    if (nameAt <= 0 || !tokens[nameAt]) {
      tables.add("*");
      continue;
    }
    // schema.table
    if (tokens[nameAt + 1]?.text === "." && tokens[nameAt + 2]) nameAt += 2;
    tables.add(identifier(tokens[nameAt]!).toLowerCase());
  }
  return [...tables];
}

function identifier(token: Token): string {
  return token.type === "quoted" ? token.upper : token.text;
}

const CLAUSE_KEYWORDS = new Set([
  "SELECT",
  "FROM",
  "WHERE",
  "GROUP",
  "ORDER",
  "HAVING",
  "LIMIT",
  "ON",
  "SET",
  "VALUES",
  "RETURNING",
  "UNION",
  "EXCEPT",
  "INTERSECT",
  "WINDOW",
  "USING",
]);

const NOT_ALIASES = new Set([
  ...CLAUSE_KEYWORDS,
  "JOIN",
  "INNER",
  "LEFT",
  "RIGHT",
  "FULL",
  "CROSS",
  "NATURAL",
  "OUTER",
  "INDEXED",
  "NOT",
  "AS",
  "OFFSET",
]);

/** How a query uses one table reference. Column names are lower-case. */
export interface TableUsage {
  table: string;
  /** The name EXPLAIN QUERY PLAN shows: the alias, or the table name. */
  alias: string;
  /** Columns compared with `=`, `IS` or `IN` to a value, in order of appearance. */
  equality: string[];
  /** Columns compared with `=` to a column of another table (join conditions). */
  joins: string[];
  /** Columns compared with `<`, `>`, `<=`, `>=` or `BETWEEN`. */
  range: string[];
  /** ORDER BY (or GROUP BY when there is no ORDER BY) terms on this table, when every term is a plain column of it. */
  order: { column: string; desc: boolean }[];
  /** Every column of this table the query names, or `undefined` when it selects `*`. */
  columns: Set<string> | undefined;
}

/**
 * Per table reference of a query: which columns it filters on with equality, with ranges,
 * and orders by. `columnsOf` returns a table's column names (lower-case) or `undefined`.
 */
export function tableUsage(sql: string, columnsOf: (table: string) => readonly string[] | undefined): TableUsage[] {
  const tokens = tokenize(sql);
  const refs: TableUsage[] = [];
  const byName = new Map<string, TableUsage>();

  // Pass 1: table references after FROM, JOIN, UPDATE, and commas inside a FROM clause.
  const clauseAt: string[] = [];
  const stack: string[] = [];
  let clause = "";
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.text === "(") {
      stack.push(clause);
      clause = "";
    } else if (token.text === ")") clause = stack.pop() ?? "";
    else if (token.type === "word" && CLAUSE_KEYWORDS.has(token.upper)) clause = token.upper;
    else if (token.type === "word" && token.upper === "UPDATE" && i === 0) clause = "UPDATE";
    clauseAt[i] = clause;
    const opensTable =
      (token.type === "word" && (token.upper === "FROM" || token.upper === "JOIN")) ||
      (token.type === "word" && token.upper === "UPDATE") ||
      (token.text === "," && clause === "FROM");
    if (!opensTable) continue;
    let at = i + 1;
    const first = tokens[at];
    if (!first || (first.type !== "word" && first.type !== "quoted")) continue;
    if (first.type === "word" && token.upper === "UPDATE" && first.upper === "OR") at += 2;
    if (tokens[at + 1]?.text === "." && tokens[at + 2]) at += 2;
    const nameToken = tokens[at];
    if (!nameToken || (nameToken.type !== "word" && nameToken.type !== "quoted")) continue;
    const table = identifier(nameToken).toLowerCase();
    if (!columnsOf(table)) continue;
    let alias = table;
    let aliasAt = at + 1;
    if (tokens[aliasAt]?.upper === "AS") aliasAt++;
    const aliasToken = tokens[aliasAt];
    if (
      aliasToken &&
      (aliasToken.type === "quoted" || (aliasToken.type === "word" && !NOT_ALIASES.has(aliasToken.upper)))
    ) {
      alias = identifier(aliasToken).toLowerCase();
    }
    const usage: TableUsage = { table, alias, equality: [], joins: [], range: [], order: [], columns: new Set() };
    refs.push(usage);
    byName.set(alias, usage);
    if (!byName.has(table)) byName.set(table, usage);
  }

  const resolve = (i: number): { usage: TableUsage; column: string; first: number; last: number } | undefined => {
    const token = tokens[i]!;
    if (token.type !== "word" && token.type !== "quoted") return undefined;
    if (tokens[i + 1]?.text === "(" || tokens[i + 1]?.text === ".") return undefined;
    const column = identifier(token).toLowerCase();
    if (tokens[i - 1]?.text === ".") {
      const qualifier = tokens[i - 2];
      if (!qualifier) return undefined;
      const usage = byName.get(identifier(qualifier).toLowerCase());
      if (!usage || !columnsOf(usage.table)?.includes(column)) return undefined;
      return { usage, column, first: i - 2, last: i };
    }
    if (token.type === "word" && (CLAUSE_KEYWORDS.has(token.upper) || NOT_ALIASES.has(token.upper))) return undefined;
    if (byName.has(column) && byName.get(column)!.alias === column) return undefined;
    const usage = refs.find((ref) => columnsOf(ref.table)?.includes(column));
    return usage ? { usage, column, first: i, last: i } : undefined;
  };

  // Pass 2: column references, classified by clause and neighbouring operator.
  const orderTerms: { usage: TableUsage; column: string; desc: boolean }[] = [];
  const groupTerms: { usage: TableUsage; column: string; desc: boolean }[] = [];
  let orderBroken = false;
  let groupBroken = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.text === "*" && clauseAt[i] === "SELECT") {
      const qualifier = tokens[i - 1]?.text === "." ? tokens[i - 2] : undefined;
      const prev = tokens[i - 1];
      const isStar =
        qualifier !== undefined || prev?.text === "," || prev?.upper === "SELECT" || prev?.upper === "DISTINCT";
      if (!isStar) continue;
      if (qualifier) {
        const usage = byName.get(identifier(qualifier).toLowerCase());
        if (usage) usage.columns = undefined;
      } else for (const ref of refs) ref.columns = undefined;
      continue;
    }
    const ref = resolve(i);
    if (!ref) continue;
    ref.usage.columns?.add(ref.column);
    const where = clauseAt[i];
    if (where === "WHERE" || where === "ON" || where === "HAVING") {
      const after = tokens[ref.last + 1];
      const before = tokens[ref.first - 1];
      const afterUpper = after?.upper ?? "";
      // The other operand names a column of another table reference: a join condition.
      const otherColumn = (at: number): boolean => {
        const other = at >= 0 && at < tokens.length ? resolve(at) : undefined;
        return other !== undefined && other.usage !== ref.usage;
      };
      const equalityOn = (otherAt: number) =>
        pushUnique(otherColumn(otherAt) ? ref.usage.joins : ref.usage.equality, ref.column);
      if (afterUpper === "=" || afterUpper === "==") {
        const next = tokens[ref.last + 3]?.text === "." ? ref.last + 4 : ref.last + 2;
        equalityOn(next);
      } else if (afterUpper === "IN" || (afterUpper === "IS" && tokens[ref.last + 2]?.upper !== "NOT")) {
        pushUnique(ref.usage.equality, ref.column);
      } else if (["<", ">", "<=", ">=", "BETWEEN"].includes(afterUpper)) {
        pushUnique(ref.usage.range, ref.column);
      } else if (before && (before.upper === "=" || before.upper === "==")) {
        equalityOn(ref.first - 2);
      } else if (before && ["<", ">", "<=", ">="].includes(before.upper)) {
        pushUnique(ref.usage.range, ref.column);
      }
    } else if (where === "ORDER" || where === "GROUP") {
      const terms = where === "ORDER" ? orderTerms : groupTerms;
      const before = tokens[ref.first - 1];
      const startsTerm = before?.text === "," || before?.upper === "BY";
      let after = ref.last + 1;
      let desc = false;
      if (tokens[after]?.upper === "COLLATE") after += 2;
      if (tokens[after]?.upper === "ASC") after++;
      else if (tokens[after]?.upper === "DESC") {
        desc = true;
        after++;
      }
      const endsTerm =
        after >= tokens.length ||
        tokens[after]?.text === "," ||
        tokens[after]?.text === ")" ||
        tokens[after]?.text === ";" ||
        (tokens[after]?.type === "word" && CLAUSE_KEYWORDS.has(tokens[after]!.upper));
      if (startsTerm && endsTerm) terms.push({ usage: ref.usage, column: ref.column, desc });
      else if (where === "ORDER") orderBroken = true;
      else groupBroken = true;
    }
  }
  const sorted = !orderBroken && orderTerms.length > 0 ? orderTerms : !groupBroken ? groupTerms : [];
  const owner = sorted[0]?.usage;
  if (owner && sorted.every((term) => term.usage === owner)) {
    owner.order = sorted.map(({ column, desc }) => ({ column, desc }));
  }
  return refs;
}

function pushUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

/** Quotes an identifier for SQL when it is not a plain word. */
export function quoteIdentifier(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}
