// A SQL tokenizer and rules over its token stream, after libinjection's published design:
// tokenize the input as if it were pasted into a query three times (bare, after a `'`, after
// a `"`), fold comments away, and judge the shape of the token sequence rather than keywords.
// The rules below are written for this package; none is taken from libinjection's data.

/** Token types: one letter each, as in the design this follows. */
export type TokenType =
  | "s" // string
  | "1" // number
  | "n" // bareword
  | "k" // keyword
  | "E" // statement keyword (select, insert, drop, ...)
  | "U" // union-like set operator
  | "&" // logic operator
  | "o" // operator
  | "f" // function name (a bareword followed by "(")
  | "v" // variable (@x, @@x)
  | "("
  | ")"
  | ","
  | ";"
  | "."
  | "?";

export interface Token {
  t: TokenType;
  /** Lower-cased text (strings: the content). */
  v: string;
  /** Strings: whether the closing quote was present. */
  closed?: boolean;
  /** Strings: the quote character. */
  q?: string;
  /** A comment directly follows this token. */
  comment?: "line" | "block";
  /** A line comment that is a clean terminator: `-- ` with a space, `--` or `#` at the end. */
  cleanComment?: boolean;
}

export interface Tokenized {
  tokens: Token[];
  /** A MySQL executable comment (`/*!...*\/`) was seen. */
  executableComment: boolean;
  /** A comment sits before the first token. */
  leadingComment: boolean;
}

const STATEMENTS = new Set([
  "select",
  "insert",
  "update",
  "delete",
  "drop",
  "create",
  "alter",
  "truncate",
  "exec",
  "execute",
  "declare",
  "waitfor",
  "shutdown",
  "grant",
  "revoke",
  "replace",
  "load",
  "handler",
  "merge",
  "rename",
]);
const UNIONS = new Set(["union", "intersect", "except"]);
const LOGIC = new Set(["and", "or", "xor", "&&", "||"]);
const WORD_OPERATORS = new Set([
  "like",
  "rlike",
  "regexp",
  "sounds",
  "div",
  "mod",
  "is",
  "glob",
  "between",
  "not",
  "in",
]);
const KEYWORDS = new Set([
  "from",
  "where",
  "into",
  "values",
  "set",
  "table",
  "database",
  "having",
  "group",
  "order",
  "by",
  "limit",
  "offset",
  "null",
  "true",
  "false",
  "case",
  "when",
  "then",
  "else",
  "end",
  "as",
  "on",
  "join",
  "exists",
  "distinct",
  "all",
  "top",
  "procedure",
  "outfile",
  "dumpfile",
  "delay",
  "desc",
  "asc",
  "collate",
  "binary",
  "using",
  "escape",
  "if",
  "schema",
  "unknown",
]);

// The token type of a known word in one lookup: the first of the lists above that has it.
const WORD_TYPES: ReadonlyMap<string, TokenType> = new Map(
  (
    [
      [LOGIC, "&"],
      [UNIONS, "U"],
      [STATEMENTS, "E"],
      [WORD_OPERATORS, "o"],
      [KEYWORDS, "k"],
    ] as const
  )
    .flatMap(([set, type]) => [...set].map((word) => [word, type] as const))
    .reverse(),
);

const isSpace = (c: number) =>
  c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x3000;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isWordChar = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c) || c === 95 || c === 36 || c > 0x7f;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

const TWO_CHAR_OPERATORS = new Set([
  "#>",
  "#-",
  "?|",
  "?&",
  "@?",
  "@@",
  "<=",
  ">=",
  "<>",
  "!=",
  "::",
  ":=",
  "<<",
  ">>",
  "->",
  "@>",
  "<@",
  "!<",
  "!>",
  "^=",
]);

/**
 * A token with every field present, so all tokens share one shape (the rules read them at many
 * sites; mixed shapes made those reads polymorphic).
 */
function token(t: TokenType, v: string, closed?: boolean, q?: string): Token {
  return { t, v, closed, q, comment: undefined, cleanComment: undefined };
}

/** Marks the last token as followed by a comment; false when there is none yet (a leading comment). */
function markComment(tokens: Token[], kind: "line" | "block"): boolean {
  const last = tokens[tokens.length - 1];
  if (!last) return false;
  last.comment ??= kind;
  return true;
}

// "admin'-- " and "admin'#" end a query; "'#2 mom" and "' --infant" read as text.
function markClean(tokens: Token[], text: string, after: number, marker: string): void {
  const last = tokens[tokens.length - 1];
  if (!last) return;
  const rest = text.slice(after, after + 40);
  const end = rest.trim() === "" || (marker === "-" && /^[-\s]*$/.test(rest));
  last.cleanComment = end || (marker === "-" && (rest[0] === " " || rest[0] === "\t" || rest[0] === "\n"));
}

/** Reads a string token from `start` (just after the opening quote); returns where tokenizing goes on. */
function readString(tokens: Token[], text: string, quote: string, start: number): number {
  const n = text.length;
  let j = start;
  // Strings keep at most 256 characters of content: the rules only look at their edges.
  let content = "";
  // Cached so runs of quotes stay linear.
  let b = text.indexOf("\\", j);
  while (j < n) {
    const q = text.indexOf(quote, j);
    if (b >= 0 && b < j) b = text.indexOf("\\", j);
    const stop = q < 0 ? n : b >= 0 && b < q ? b : q;
    if (content.length < 256) content += text.slice(j, Math.min(stop, j + 256));
    if (stop >= n) break;
    if (stop === b) {
      if (content.length < 256) content += text[b + 1] ?? "";
      j = b + 2;
      continue;
    }
    if (text[q + 1] === quote) {
      if (content.length < 256) content += quote;
      j = q + 2;
      continue;
    }
    tokens.push(token("s", content.toLowerCase(), true, quote));
    return q + 1;
  }
  tokens.push(token("s", content.toLowerCase(), false, quote));
  return n;
}

/**
 * Tokenizes `text` as SQL. `context` is the quote the input is assumed to sit after
 * (`""` for none): the tokenizer starts inside that string. At most `maxTokens` tokens.
 */
export function tokenize(text: string, context: "" | "'" | '"' = "", maxTokens = 256): Tokenized {
  const tokens: Token[] = [];
  let executableComment = false;
  let leadingComment = false;
  let inExecutable = false;
  let i = 0;
  const n = text.length;
  if (context) i = readString(tokens, text, context, 0);
  while (i < n && tokens.length < maxTokens) {
    const c = text.charCodeAt(i);
    const ch = text[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      i = readString(tokens, text, ch, i + 1);
      continue;
    }
    if (ch === "`") {
      const end = text.indexOf("`", i + 1);
      const stop = end < 0 ? n : end;
      tokens.push(token("n", text.slice(i + 1, stop).toLowerCase()));
      i = stop + 1;
      continue;
    }
    if (ch === "-" && text[i + 1] === "-") {
      if (!markComment(tokens, "line")) leadingComment = true;
      markClean(tokens, text, i + 2, "-");
      const end = text.indexOf("\n", i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (ch === "#" && !(text[i + 1] === ">" && text[i + 2] === ">") && text[i + 1] !== ">") {
      if (!markComment(tokens, "line")) leadingComment = true;
      markClean(tokens, text, i + 1, "#");
      const end = text.indexOf("\n", i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (ch === "/" && text[i + 1] === "*") {
      if (text[i + 2] === "!") {
        executableComment = true;
        inExecutable = true;
        i += 3;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
        continue;
      }
      if (!markComment(tokens, "block")) leadingComment = true;
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (ch === "*" && text[i + 1] === "/" && inExecutable) {
      inExecutable = false;
      i += 2;
      continue;
    }
    if (isDigit(c) || (ch === "." && isDigit(text.charCodeAt(i + 1)))) {
      let j = i;
      if (ch === "0" && (text[i + 1] === "x" || text[i + 1] === "X") && isHex(text.charCodeAt(i + 2))) {
        j = i + 2;
        while (j < n && isHex(text.charCodeAt(j))) j++;
      } else if (ch === "0" && (text[i + 1] === "b" || text[i + 1] === "B") && /[01]/.test(text[i + 2] ?? "")) {
        j = i + 2;
        while (j < n && (text[j] === "0" || text[j] === "1")) j++;
      } else {
        while (j < n && isDigit(text.charCodeAt(j))) j++;
        if (text[j] === ".") {
          j++;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
        }
        if (text[j] === "e" || text[j] === "E") {
          const after = text[j + 1];
          if (after === "+" || after === "-") j += 1;
          j++;
          while (j < n && isDigit(text.charCodeAt(j))) j++;
        }
      }
      tokens.push(token("1", text.slice(i, j).toLowerCase()));
      i = j;
      continue;
    }
    if (ch === "@") {
      let j = i + 1;
      if (text[j] === "@") j++;
      const start = j;
      while (j < n && (isWordChar(text.charCodeAt(j)) || text[j] === ".")) j++;
      if (j > start) {
        tokens.push(token("v", text.slice(i, j).toLowerCase()));
        i = j;
        continue;
      }
    }
    if (isWordChar(c)) {
      let j = i;
      while (j < n && isWordChar(text.charCodeAt(j))) j++;
      const word = text.slice(i, j).toLowerCase();
      // N'..', B'..', X'..' literals are strings.
      if ((word === "n" || word === "b" || word === "x" || word === "_utf8") && text[j] === "'") {
        i = readString(tokens, text, "'", j + 1);
        continue;
      }
      let k = j;
      while (k < n && isSpace(text.charCodeAt(k))) k++;
      // A comment between a name and "(" still makes a call: `sleep/**/(5)`.
      while (text[k] === "/" && text[k + 1] === "*" && text[k + 2] !== "!") {
        const end = text.indexOf("*/", k + 2);
        k = end < 0 ? n : end + 2;
        while (k < n && isSpace(text.charCodeAt(k))) k++;
      }
      const call = text[k] === "(";
      const known = WORD_TYPES.get(word);
      let type: TokenType;
      if (known === undefined) type = call ? "f" : "n";
      else if (known === "k") type = call && word === "if" ? "f" : "k";
      else type = known;
      tokens.push(token(type, word));
      i = j;
      continue;
    }
    // Punctuation that starts no operator (the common case in prose) skips the operator tests.
    if (ch === "," || ch === "." || ch === "(" || ch === ")" || ch === ";") {
      tokens.push(token(ch, ch));
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === "||" || two === "&&") {
      tokens.push(token("&", two));
      i += 2;
      continue;
    }
    if (TWO_CHAR_OPERATORS.has(two)) {
      const three = text.slice(i, i + 3);
      const width = three === "<=>" || three === "->>" || three === "#>>" ? 3 : 2;
      tokens.push(token("o", text.slice(i, i + width)));
      i += width;
      continue;
    }
    if ("=<>!+-*/%&|^~:".includes(ch)) {
      tokens.push(token("o", ch));
      i++;
      continue;
    }
    tokens.push(token("?", ch));
    i++;
  }
  return { tokens, executableComment, leadingComment };
}

// Function names by how distinctive they are. `strong` names do not occur in prose followed
// by "("; `weak` ones (user, count, if, ...) need a SQL-shaped argument.
const STRONG_FUNCTIONS = new Set([
  "sleep",
  "benchmark",
  "pg_sleep",
  "load_file",
  "extractvalue",
  "updatexml",
  "name_const",
  "xmltype",
  "concat_ws",
  "group_concat",
  "unhex",
  "substring",
  "substr",
  "db_name",
  "user_name",
  "schema_name",
  "is_srvrolemember",
  "has_dbaccess",
  "openrowset",
  "opendatasource",
  "sys_context",
  "lo_import",
  "lo_export",
  "pg_read_file",
  "pg_ls_dir",
  "make_set",
  "ifnull",
  "nullif",
  "aes_decrypt",
  "aes_encrypt",
  "geometrycollection",
  "multipoint",
  "multipolygon",
  "multilinestring",
  "linestring",
  "json_keys",
  "json_extract",
  "randomblob",
  "sqlite_version",
  "connection_id",
  "last_insert_id",
  "row_count",
  "found_rows",
  "current_user",
  "session_user",
  "system_user",
  "current_database",
  "char_length",
  "character_length",
  "octet_length",
  "bit_length",
  "xp_cmdshell",
  "xp_regread",
  "xp_dirtree",
  "sp_executesql",
  "sp_oacreate",
  "utl_http",
  "utl_inaddr",
  "dbms_pipe",
  "ctxsys",
  "get_host_address",
  "receive_message",
  "request",
  "instr",
  "locate",
  "position",
  "strcmp",
  "lpad",
  "rpad",
  "ltrim",
  "rtrim",
  "soundex",
  "export_set",
  "uncompress",
  "compress",
  "encode",
  "decode",
  "des_encrypt",
  "des_decrypt",
  "encrypt",
  "old_password",
  "inet_aton",
  "inet_ntoa",
  "charindex",
  "patindex",
  "quotename",
  "replicate",
  "stuff",
  "waitfor",
  "dbms_lock",
  "utl_file",
  "nvarchar",
  "varchar",
  "nchar",
  "to_char",
  "to_number",
  "to_date",
  "sysdate",
  "getdate",
  "datediff",
  "dateadd",
  "object_id",
  "object_name",
  "col_name",
  "table_name",
  "column_name",
  "file_name",
  "host_name",
  "serverproperty",
  "fn_varbintohexstr",
  "polygon",
  "st_latfromgeohash",
  "st_longfromgeohash",
  "gtid_subset",
  "exp",
  "sin",
  "cos",
  "tan",
  "atan",
  "atan2",
  "acos",
  "asin",
  "cot",
  "floor",
  "ceil",
  "ceiling",
  "sqrt",
  "log10",
  "log2",
  "ln",
  "radians",
  "degrees",
  "pi",
  "rand",
  "random",
  "md5",
  "sha1",
  "sha2",
  "crc32",
  "bin",
  "oct",
  "elt",
  "field",
  "isnull",
  "coalesce",
  "greatest",
  "least",
  "iif",
  "chr",
  "char",
  "ascii",
  "ord",
  "mid",
  "hex",
  "unicode",
  "concat",
  "cast",
  "convert",
  "version",
  "database",
  "user",
  "schema",
  "count",
  "sum",
  "avg",
  "min",
  "max",
  "length",
  "len",
  "lower",
  "upper",
  "ucase",
  "lcase",
  "reverse",
  "trim",
  "left",
  "right",
  "if",
  "exists",
  "abs",
  "round",
  "mod",
  "power",
  "pow",
  "now",
  "curdate",
  "curtime",
  "current_timestamp",
  "localtime",
  "utc_time",
  "uuid",
  "find_in_set",
  "starts_with",
  "jsonb_pretty",
  "json_build_object",
  "jsonb_build_object",
  "unistr",
  "lo_get",
  "sqlite_compileoption_used",
  "sqlite_compileoption_get",
  "string_to_array",
  "array_agg",
  "regexp_replace",
  "regexp_substr",
  "pg_read_binary_file",
  "dblink",
  "xmlagg",
  "json_agg",
  "row_to_json",
  "current_setting",
  "set_config",
  "query_to_xml",
  "database_to_xml",
  "analyse",
  "procedure_analyse",
  "bit_and",
  "bit_or",
  "bit_xor",
  "char_length",
  "quote",
  "typeof",
  "zeroblob",
  "load_extension",
  "printf",
  "glob",
]);
// Prose uses these with "(": "user(s)", "left (north)", "if (possible)". They count only with
// SQL-shaped arguments.
const WEAK_FUNCTIONS = new Set([
  "user",
  "schema",
  "count",
  "sum",
  "avg",
  "min",
  "max",
  "length",
  "len",
  "lower",
  "upper",
  "reverse",
  "trim",
  "left",
  "right",
  "if",
  "exists",
  "abs",
  "round",
  "mod",
  "power",
  "now",
  "field",
  "position",
  "request",
  "stuff",
  "encode",
  "decode",
  "version",
  "database",
  "random",
  "convert",
  "cast",
  "concat",
  "char",
  "mid",
  "log10",
  "pi",
  "sin",
  "cos",
  "tan",
  "exp",
  "floor",
  "ceil",
  "ln",
  "bin",
  "oct",
  "hex",
  "unicode",
  "uuid",
  "greatest",
  "least",
  "locate",
  "ascii",
  "ord",
  "chr",
  "md5",
  "sha1",
  "rand",
  "compress",
  "encrypt",
  "polygon",
  "isnull",
  "coalesce",
  "elt",
  "degrees",
  "radians",
  "sqrt",
]);

const SCHEMA_OBJECTS =
  /\b(?:information_schema|tempdb|msdb|sysobjects|syscolumns|sysusers|sysdatabases|sys\.(?:objects|tables|columns|databases|sql_logins)|msysaccessobjects|msysobjects|msysqueries|msysrelationships|pg_catalog|pg_tables|pg_shadow|pg_user|pg_database|sqlite_master|sqlite_schema|all_tables|all_tab_columns|user_tables|user_tab_columns|dba_users|mysql\.(?:user|db|tables_priv|columns_priv)|performance_schema|master\.\.sysdatabases|xp_cmdshell|sp_password|sp_configure|sp_addlogin|sp_addsrvrolemember)\b/i;

const SQL_CHARS = /['"`;()=<>!|&@#*/\\:~^%-]/;
const SQL_WORDS =
  /\b(?:union|select|insert|update|delete|drop|create|alter|truncate|exec|execute|declare|waitfor|shutdown|having|order\s{1,16}by|group\s{1,16}by|procedure|case|into|load|handler|replace|grant|revoke|intersect|except|information_schema|sysobjects|msysaccessobjects|pg_catalog|sqlite_master|tempdb|msdb)\b/i;

export interface SqlHit {
  rule: string;
  paranoiaLevel: 1 | 2 | 3 | 4;
  /** Which quoting context exposed it. */
  context: "" | "'" | '"';
}

const COMPARISON = new Set([
  "=",
  "<",
  ">",
  "<=",
  ">=",
  "<>",
  "!=",
  "<=>",
  "like",
  "rlike",
  "regexp",
  "sounds",
  "glob",
  "is",
  "in",
  "between",
  "^",
  "|",
  "&",
  "::",
  "->",
  "->>",
  "@>",
  "<@",
  "*",
  "/",
  "%",
  "div",
  "mod",
  "!<",
  "!>",
  "<<",
  ">>",
]);

// Arithmetic between literals is ordinary text ("1/2 inch", "3*4"); comparisons are not.
const ARITHMETIC = new Set(["*", "/", "%", "div", "mod", "+", "-", "^", "|", "&", "<<", ">>"]);

const isLiteral = (t: Token | undefined) =>
  t !== undefined &&
  (t.t === "1" || t.t === "s" || t.t === "v" || (t.t === "k" && (t.v === "null" || t.v === "true" || t.v === "false")));
const isValue = (t: Token | undefined) =>
  t !== undefined && (isLiteral(t) || t.t === "n" || t.t === "f" || t.t === "(");

/** Whether a SQL function call at `i` has a SQL-shaped argument (or the input ends right after "("). */
function callLooksSql(tokens: readonly Token[], i: number): boolean {
  const open = tokens[i + 1];
  if (open?.t !== "(") return true;
  const arg = tokens[i + 2];
  if (!arg) return true;
  if (arg.t === ")") return true;
  if (arg.t === "1" || arg.t === "s" || arg.t === "v" || arg.t === "f" || arg.t === "E" || arg.t === "(") return true;
  if (arg.t === "o" && (arg.v === "*" || arg.v === "-")) return true;
  if (arg.t === "k" && (arg.v === "null" || arg.v === "distinct" || arg.v === "select")) return true;
  if (arg.t === "n") {
    const after = tokens[i + 3];
    return after !== undefined && (after.t === "," || after.t === "o" || after.t === "." || after.t === "(");
  }
  return false;
}

/** Whether the tokens from `i` read as a SQL expression strong enough to follow `or`/`and`. */
function strongExpression(tokens: readonly Token[], i: number): boolean {
  const a = tokens[i];
  if (!a) return false;
  if (a.t === "o" && (a.v === "not" || a.v === "!" || a.v === "-" || a.v === "~"))
    return strongExpression(tokens, i + 1);
  if (a.t === "f") {
    if (STRONG_FUNCTIONS.has(a.v)) return callLooksSql(tokens, i);
    // An unknown call counts when the input ends in a comment or casts: `' and f(x)::bool--`.
    return tokens.some((t) => t.comment === "line" || t.v === "::");
  }
  if (a.t === "E" && a.v === "select") return true;
  if (a.t === "k" && a.v === "exists") return true;
  if (a.t === "(") {
    const b = tokens[i + 1];
    return (
      b !== undefined && (isLiteral(b) || b.t === "E" || b.t === "f" || b.t === "(" || strongExpression(tokens, i + 1))
    );
  }
  const op = tokens[i + 1];
  if (isLiteral(a) || a.t === "n") {
    if (op && op.t === "o" && (op.v === "not" || op.v === "sounds") && tokens[i + 2]?.t === "o") {
      return isValue(tokens[i + 3]);
    }
    if (op && op.t === "o" && COMPARISON.has(op.v) && !ARITHMETIC.has(op.v)) {
      const b = tokens[i + 2];
      if (isValue(b) || (b?.t === "o" && (b.v === "-" || b.v === "~" || b.v === "!")) || b?.t === "E") {
        return a.t !== "n" || isLiteral(b) || b?.t === "n" || b?.t === "f" || b?.t === "(";
      }
      // `' or 1=` at the end, or a comparison against nothing.
      return b === undefined && a.t !== "n";
    }
    if (a.t === "n") return !op && a.comment === "line";
    if (!op) return a.t !== "s" || a.closed === true || a.comment !== undefined;
    if (a.comment) return true;
    return (
      op.t === "&" ||
      op.t === ";" ||
      op.t === ")" ||
      (op.t === "k" && (op.v === "limit" || op.v === "order" || op.v === "group"))
    );
  }
  return false;
}

function selectLooksSql(tokens: readonly Token[], i: number): boolean {
  const a = tokens[i];
  if (!a) return false;
  if (a.t === "1" || a.t === "v" || a.t === "f" || a.t === "(") return true;
  if (a.t === "s") {
    const b = tokens[i + 1];
    return (
      b !== undefined &&
      (b.t === "," ||
        b.v === "from" ||
        b.v === "as" ||
        b.t === "&" ||
        b.comment !== undefined ||
        a.comment !== undefined)
    );
  }
  if (a.t === "o" && a.v === "*") return true;
  if (a.t === "o" && (a.v === "-" || a.v === "~" || a.v === "!")) {
    const b = tokens[i + 1];
    return b !== undefined && (b.t === "1" || b.t === "s" || b.t === "f" || b.t === "v" || b.t === "(");
  }
  if (a.t === "k" && (a.v === "null" || a.v === "distinct" || a.v === "all" || a.v === "top" || a.v === "case"))
    return true;
  if (a.comment !== undefined) return true;
  if (a.t !== "n") return false;
  if (STRONG_FUNCTIONS.has(a.v) && !WEAK_FUNCTIONS.has(a.v)) return true;
  const b = tokens[i + 1];
  if (b && (b.t === "." || (b.t === "o" && !/^[a-z]/.test(b.v)))) return true;
  // A column list: identifiers and commas up to FROM, then a table name that ends the clause.
  for (let j = i + 1; j < i + 24 && j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.t === "k" && t.v === "from") {
      const c = tokens[j + 1];
      const d = tokens[j + 2];
      if (!c) return true;
      if (c.t !== "n") return c.t === "(" || c.t === "v" || c.t === "f";
      return (
        !d ||
        d.t === ";" ||
        d.t === "," ||
        d.t === "." ||
        d.t === ")" ||
        d.t === "U" ||
        d.t === "k" ||
        c.comment !== undefined
      );
    }
    if (t.t === "k" && ["into", "as", "where", "group", "order", "having", "limit"].includes(t.v)) return true;
    if (t.t === "1" || t.t === "s") {
      const u = tokens[j + 1];
      if (!u || u.t === "," || u.v === "from" || t.comment !== undefined) return true;
      return false;
    }
    if (t.t === "f" || t.t === "v" || t.comment !== undefined) return true;
    if (t.t !== "n" && t.t !== ",") return false;
  }
  return false;
}

const SQL_TYPES = new Set([
  "int",
  "integer",
  "bigint",
  "smallint",
  "text",
  "json",
  "jsonb",
  "bool",
  "boolean",
  "double",
  "varchar",
  "numeric",
  "decimal",
  "regclass",
  "oid",
  "char",
  "float",
  "real",
  "inet",
  "xml",
  "bytea",
  "date",
  "timestamp",
  "uuid",
]);
const JSON_OPERATORS = new Set(["@>", "<@", "?|", "?&", "#>", "#>>", "->", "->>", "@?", "@@", "#-"]);

const OBJECTS = new Set([
  "table",
  "database",
  "schema",
  "view",
  "procedure",
  "function",
  "user",
  "index",
  "trigger",
  "login",
  "column",
  "tablespace",
]);

/** Statement shapes, at a position where a statement may start. */
function statementAt(tokens: readonly Token[], i: number): SqlHit["paranoiaLevel"] | 0 {
  const s = tokens[i]!;
  const a = tokens[i + 1];
  const b = tokens[i + 2];
  const c = tokens[i + 3];
  const endish = (t: Token | undefined) => !t || t.t === ";" || t.t === "(" || t.t === "," || t.t === ")";
  switch (s.v) {
    case "select":
      return selectLooksSql(tokens, i + 1) ? 1 : a ? 3 : 2;
    case "insert":
    case "replace":
      return a?.v === "into" &&
        b &&
        (b.t === "n" || b.t === "f" || b.v === "table") &&
        (!c || c.t === "(" || c.v === "values" || c.v === "select" || c.v === "set")
        ? 1
        : 0;
    case "update":
      return a && (a.t === "n" || a.t === "f") && b?.v === "set" && c && tokens[i + 4]?.t === "o" ? 1 : 0;
    case "delete":
      return a?.v === "from" && b?.t === "n" && (endish(c) || c?.v === "where" || b.comment !== undefined) ? 1 : 0;
    case "drop":
    case "create":
    case "alter":
    case "truncate":
      if (a && OBJECTS.has(a.v) && b && (b.t === "n" || b.t === "f" || b.t === "s" || b.v === "if")) {
        return endish(c) ||
          c?.v === "if" ||
          c?.v === "add" ||
          c?.v === "change" ||
          c?.v === "modify" ||
          c?.v === "rename" ||
          c?.v === "returns" ||
          c?.v === "as" ||
          b.comment !== undefined ||
          c?.t === "."
          ? 1
          : 2;
      }
      if (s.v === "create" && a?.v === "or" && b?.v === "replace") return 1;
      return 0;
    case "exec":
    case "execute":
      if (a && (a.t === "f" || a.t === "n") && /^(?:xp|sp)_/.test(a.v)) return 1;
      if (a?.t === "(" && !b) return 3;
      if (a && (a.t === "(" || a.t === "v" || a.t === "s" || a.t === "f" || a.v === "immediate")) return 1;
      if (a?.v === "master" && b?.t === ".") return 1;
      return a?.t === "n" ? 2 : 0;
    case "declare":
      return a?.t === "v" ? 1 : 0;
    case "waitfor":
      return (a?.v === "delay" || a?.v === "time") && b?.t === "s" ? 1 : 0;
    case "shutdown":
      return !a || a.v === "with" ? 1 : 0;
    case "load":
      return a?.v === "data" || (a?.v === "xml" && b?.v === "infile") ? 1 : 0;
    case "handler":
      return a?.t === "n" && (b?.v === "open" || b?.v === "read") ? 1 : 0;
    case "grant":
    case "revoke":
      return tokens.slice(i, i + 8).some((t) => t.v === "on") &&
        tokens.slice(i, i + 12).some((t) => t.v === "to" || t.v === "from")
        ? 2
        : 0;
    default:
      return 0;
  }
}

const logicBefore = (tokens: readonly Token[], i: number) => tokens.slice(0, i).some((t) => t.t === "&");

/** Index of the number or variable a numeric context starts with, after "(" and a sign; -1 when it does not. */
function numericStart(tokens: readonly Token[]): number {
  let j = 0;
  while (tokens[j]?.t === "(" && j < 8) j++;
  if (tokens[j]?.t === "o" && (tokens[j]!.v === "-" || tokens[j]!.v === "+")) j++;
  const t = tokens[j];
  return t && (t.t === "1" || t.t === "v") ? j : -1;
}

/** Only SQL-looking tokens (no prose words) and a clean trailing comment: ` ( binary ( 1) ) --`. */
function sqlOnlyWithComment(tokens: readonly Token[]): boolean {
  const last = tokens[tokens.length - 1];
  if (last?.comment !== "line" || !last.cleanComment || tokens.length < 2) return false;
  let operators = 0;
  for (const t of tokens) {
    if (t.t === "n" || t.t === "?" || (t.t === "s" && !t.closed)) return false;
    if (t.t !== "1" && t.t !== "(" && t.t !== ")" && t.t !== "," && t.t !== "s") operators++;
  }
  return operators > 0 || tokens.some((t) => t.t === "(");
}

/**
 * End index of a literal expression starting at `i` (signs, parentheses, numbers, strings,
 * variables, known function calls, arithmetic between them), or -1. Bounded to 24 tokens.
 */
function literalExpressionEnd(tokens: readonly Token[], i: number): number {
  let j = i;
  let depth = 0;
  let operands = 0;
  const limit = i + 24;
  while (j < tokens.length && j < limit) {
    const t = tokens[j]!;
    if (t.t === "o" && (t.v === "-" || t.v === "+" || t.v === "~" || t.v === "!")) j++;
    else if (t.t === "(") {
      depth++;
      j++;
    } else if (isLiteral(t)) {
      operands++;
      j++;
      while (tokens[j]?.t === ")" && depth > 0) {
        depth--;
        j++;
      }
      const next = tokens[j];
      if (next?.t === "o" && ARITHMETIC.has(next.v)) j++;
      else break;
    } else if (t.t === "f" && STRONG_FUNCTIONS.has(t.v) && tokens[j + 1]?.t === "(") {
      j += 2;
      depth++;
    } else return -1;
  }
  return operands > 0 && depth === 0 ? j : -1;
}

function addHit(hits: SqlHit[], context: SqlHit["context"], rule: string, paranoiaLevel: SqlHit["paranoiaLevel"]) {
  hits.push({ rule, paranoiaLevel, context });
}

/** The rules over one token stream. */
function judge(tz: Tokenized, context: SqlHit["context"], hits: SqlHit[]): void {
  const tokens = tz.tokens;
  const first = tokens[0];
  if (!first) return;

  if (context !== "") {
    // The input closes the string it sits in; what follows decides.
    if (first.t !== "s" || !first.closed) return;
    // A break that re-opens the quote at the end (`x' or col != '1`): SQL between balanced quotes.
    const tail = tokens[tokens.length - 1]!;
    const opener = tokens[1];
    if (
      tokens.length >= 4 &&
      tail.t === "s" &&
      !tail.closed &&
      tail.q === context &&
      tail.v.trim().length <= 16 &&
      !tail.v.trim().includes(" ") &&
      opener &&
      (opener.t === "o" || opener.t === "&") &&
      tokens.slice(1, -1).every((t) => t.t !== "s" && t.t !== "?") &&
      tokens.slice(1, -1).filter((t) => t.t === "n").length <= (/^[a-z]/.test(opener.v) && opener.t === "o" ? 0 : 2) &&
      // `4'+x+4'+wood` (feet) is arithmetic only; a comparison or logic operator makes it a query.
      tokens.slice(1, -1).some((t) => t.t === "&" || (t.t === "o" && !ARITHMETIC.has(t.v)))
    ) {
      // A double quote is also the inch mark: `16" or 18"`.
      addHit(hits, context, "sqli.balanced-break", context === "'" ? 1 : 2);
    }
    // MySQL implicit conversion: `x' - 'y`, `a 'and' b`, `' = '`: an operator alone between the quotes.
    const last = tokens[tokens.length - 1]!;
    const ops = tokens.slice(1, -1);
    if (
      tokens.length >= 3 &&
      tokens.length <= 4 &&
      last.t === "s" &&
      !last.closed &&
      ops.every((t) => t.t === "o" || t.t === "&") &&
      first.v.length <= 24 &&
      last.v.length <= 24
    ) {
      const arithmetic = ops.length === 1 && ARITHMETIC.has(ops[0]!.v);
      const plain = /^[\w\s.@-]*$/.test(first.v) && /^[\w\s.@-]*$/.test(last.v);
      const words = first.v.trim().includes(" ") || last.v.trim().includes(" ");
      // `a' and 'b` breaks out of the quotes; `rock 'and' roll` quotes a word in prose.
      const prose = first.v.endsWith(" ") && last.v.startsWith(" ") && first.v.trim() !== "" && last.v.trim() !== "";
      const dangling = first.v.trim() !== "" && last.v === "";
      const spaced = first.v.includes(" ") || last.v.includes(" ");
      if (context === "'" && last.q === "'" && plain && !words && !dangling && !prose && (!arithmetic || !spaced)) {
        addHit(hits, context, "sqli.implicit-operator", 1);
      } else addHit(hits, context, "sqli.implicit-operator", 3);
    }
    // "soap 1 '#" closes after a space: text, where "admin'#" closes right after a word.
    const tight = !/\s$/.test(first.v);
    if (first.comment === "line")
      addHit(hits, context, "sqli.string-break-comment", first.cleanComment && tight ? 1 : 2);
    else if (first.comment && tokens.length === 1) addHit(hits, context, "sqli.string-break-comment", 1);
    let j = 1;
    while (tokens[j]?.t === ")") j++;
    const next = tokens[j];
    if (!next) return;
    if (next.t === "&") {
      if (strongExpression(tokens, j + 1)) addHit(hits, context, "sqli.string-break-logic", 1);
      else if (tokens[j + 1]?.t === "n" && tokens[j + 1]?.comment) addHit(hits, context, "sqli.string-break-logic", 1);
      else if (tokens[j + 1] && tokens[j + 1]?.t !== "n") addHit(hits, context, "sqli.string-break-logic", 2);
      else addHit(hits, context, "sqli.string-break-logic", 3);
    } else if (next.t === "o" && next.v !== "." && next.v !== ":") {
      const operand = tokens[j + 1];
      const sqlOperand =
        isLiteral(operand) ||
        operand?.t === "(" ||
        (operand?.t === "f" && STRONG_FUNCTIONS.has(operand.v)) ||
        operand?.t === "E" ||
        (operand?.t === "o" && operand.v === "-");
      const after = tokens[j + 2];
      const ends = !after || after.t === "&" || after.t === ";" || after.t === ")" || operand?.comment !== undefined;
      const wordOperator = /^[a-z]/.test(next.v);
      const ordering = next.v === "<" || next.v === ">";
      const solidOperand =
        operand?.t !== "s" ||
        operand.closed === true ||
        (operand.v.length > 0 && !operand.v.includes(" ") && !/^[a-z]/.test(next.v));
      if (
        sqlOperand &&
        solidOperand &&
        (COMPARISON.has(next.v) || next.v === "||") &&
        !ARITHMETIC.has(next.v) &&
        (!(wordOperator || ordering) || ends)
      ) {
        addHit(hits, context, "sqli.string-break-operator", 1);
      } else if (sqlOperand && ends && solidOperand) addHit(hits, context, "sqli.string-break-operator", 2);
      else if (sqlOperand && (operand?.t !== "s" || operand.closed || !operand.v.includes(" ")))
        addHit(hits, context, "sqli.string-break-operator", 2);
      else if (operand?.t === "n" && (operand.comment || !tokens[j + 2]))
        addHit(hits, context, "sqli.string-break-operator", 2);
      else if (!operand && next.comment) addHit(hits, context, "sqli.string-break-operator", 1);
      else addHit(hits, context, "sqli.string-break-operator", 4);
    } else if (next.t === ";") {
      const after = tokens[j + 1];
      if (after?.t === "E") addHit(hits, context, "sqli.stacked-query", 1);
      else if (!after || next.comment) addHit(hits, context, "sqli.string-break-terminator", 2);
      else addHit(hits, context, "sqli.string-break-terminator", 4);
    } else if (next.t === "k" && (next.v === "order" || next.v === "group") && tokens[j + 1]?.v === "by") {
      addHit(hits, context, "sqli.string-break-clause", 1);
    } else if (
      next.t === "k" &&
      (next.v === "having" || next.v === "limit" || next.v === "procedure" || next.v === "into")
    ) {
      const operand = tokens[j + 1];
      const strong =
        next.v === "into"
          ? operand?.v === "outfile" || operand?.v === "dumpfile" || operand?.t === "v"
          : isLiteral(operand) || operand?.t === "f" || operand?.t === "(";
      addHit(hits, context, "sqli.string-break-clause", strong ? 1 : 3);
    } else if (
      next.t === "f" &&
      STRONG_FUNCTIONS.has(next.v) &&
      !WEAK_FUNCTIONS.has(next.v) &&
      callLooksSql(tokens, j)
    ) {
      addHit(hits, context, "sqli.string-break-function", 2);
    } else if (j > 1 && (next.t === "k" || next.t === "n")) {
      addHit(hits, context, "sqli.string-break-paren", 3);
    } else if (next.t === "E" || next.t === "U") {
      addHit(hits, context, "sqli.string-break-statement", next.t === "E" && statementAt(tokens, j) === 1 ? 1 : 2);
    } else if (next.t === "s" && next.closed === false) {
      addHit(hits, context, "sqli.string-break", 4);
    }
  } else if (
    first.t === "s" &&
    first.closed &&
    tokens[1]?.t === "o" &&
    COMPARISON.has(tokens[1].v) &&
    tokens[2]?.t === "s"
  ) {
    addHit(hits, context, "sqli.string-comparison", tokens.length === 3 ? 1 : 2);
  } else if (numericStart(tokens) >= 0) {
    // Numeric context: `1 or 1=1`, `-1 union ...`, `1) and (1=1`, `(1) or (1=1)`.
    let j = numericStart(tokens) + 1;
    const num = tokens[j - 1]!;
    while (tokens[j]?.t === ")") j++;
    const next = tokens[j];
    if (!next) {
      if (num.comment && j > 1 - 0 && tokens.length <= 2) addHit(hits, context, "sqli.number-comment", 2);
    } else if (next.t === "&") {
      if (strongExpression(tokens, j + 1)) addHit(hits, context, "sqli.number-logic", 1);
      else if (isLiteral(tokens[j + 1]) && (tokens[j + 1]?.comment || tokens[j + 2]?.t === ")"))
        addHit(hits, context, "sqli.number-logic", 1);
      else if (isLiteral(tokens[j + 1])) addHit(hits, context, "sqli.number-logic", 2);
    } else if (next.t === "k" && (next.v === "order" || next.v === "group") && tokens[j + 1]?.v === "by") {
      addHit(hits, context, "sqli.number-clause", 1);
    } else if (next.t === "U") {
      const after = tokens[j + 1];
      const sqlAfter =
        !after || next.comment !== undefined || ["E", "1", "s", "(", "v", "o"].includes(after.t) || after.v === "all";
      addHit(hits, context, "sqli.number-union", sqlAfter ? 1 : 3);
    } else if (next.t === "E" && next.v === "select" && statementAt(tokens, j) === 1) {
      addHit(hits, context, "sqli.number-statement", 1);
    } else if (next.t === "k" && next.v === "into" && ["outfile", "dumpfile"].includes(tokens[j + 1]?.v ?? "")) {
      addHit(hits, context, "sqli.number-clause", 1);
    } else if (next.t === "k" && next.v === "where" && strongExpression(tokens, j + 1)) {
      addHit(hits, context, "sqli.number-clause", 1);
    } else if (
      next.t === "k" &&
      (next.v === "having" || next.v === "procedure" || next.v === "into") &&
      isValue(tokens[j + 1])
    ) {
      addHit(hits, context, "sqli.number-clause", 1);
    } else if (
      next.t === "k" &&
      next.v === "limit" &&
      tokens[j + 1]?.t === "1" &&
      (tokens[j + 2]?.t === "," || tokens[j]?.comment)
    ) {
      addHit(hits, context, "sqli.number-clause", 2);
    } else if (next.t === "o" && COMPARISON.has(next.v) && j > 1 && strongExpression(tokens, j + 1)) {
      addHit(hits, context, "sqli.number-paren", 2);
    }
  }

  if (sqlOnlyWithComment(tokens) && context === "") addHit(hits, context, "sqli.expression-comment", 1);
  const lastToken = tokens[tokens.length - 1]!;
  if (context !== "" && tokens.length <= 10 && lastToken.comment === "line" && lastToken.cleanComment && first.closed) {
    addHit(hits, context, "sqli.string-break-comment", 2);
  }
  if (context === "") {
    // Fragments that only make sense inside a WHERE clause: `or name = "`, `and 6698=(`, `1 is not 2`.
    let k = 0;
    if (tokens[0]?.t === "n" && tokens[1]?.t === "o" && tokens[1].v === "=") k = 2;
    if (tokens[k]?.t === "&") {
      const a = tokens[k + 1];
      const op = tokens[k + 2]?.t === "(" ? tokens[k + 3] : tokens[k + 2];
      const lead = a?.t === "(" ? tokens[k + 2] : a;
      const cmp = a?.t === "(" ? tokens[k + 3] : op;
      if (
        lead &&
        (isLiteral(lead) || lead.t === "n") &&
        cmp?.t === "o" &&
        COMPARISON.has(cmp.v) &&
        !ARITHMETIC.has(cmp.v)
      ) {
        addHit(hits, context, "sqli.logic-fragment", 2);
      } else if (a?.t === "(" || strongExpression(tokens, k + 1)) addHit(hits, context, "sqli.logic-fragment", 2);
    }
    const literalComparison =
      tokens.length <= 4 &&
      isLiteral(tokens[0]) &&
      tokens.slice(1, -1).every((t) => t.t === "o" && (COMPARISON.has(t.v) || t.v === "not") && !ARITHMETIC.has(t.v)) &&
      tokens.length >= 3 &&
      isLiteral(tokens[tokens.length - 1]);
    if (literalComparison) addHit(hits, context, "sqli.literal-comparison", 2);
  }

  // Shapes that count wherever they occur.
  let castSeen = false;
  for (let i = 0; i < tokens.length && !castSeen; i++) castSeen = tokens[i]!.v === "::";
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    if (t.t === "U") {
      let j = i + 1;
      if (tokens[j]?.v === "all" || tokens[j]?.v === "distinct") j++;
      while (tokens[j]?.t === "(") j++;
      if (
        prev &&
        (isLiteral(prev) || prev.t === ")") &&
        (!tokens[j] || tokens[j]?.t === "E" || tokens[j]?.t === "1" || tokens[j]?.t === "o" || t.comment)
      ) {
        addHit(hits, context, "sqli.union-select", 1);
      } else if (tokens[j]?.v === "select") {
        if (selectLooksSql(tokens, j + 1) || !tokens[j + 1] || tokens[j + 1]?.t === "(" || j > i + 1 || t.comment)
          addHit(hits, context, "sqli.union-select", 1);
        else addHit(hits, context, "sqli.union-select", 2);
      }
    } else if ((t.v === "exec" || t.v === "execute") && /^(?:xp|sp)_/.test(tokens[i + 1]?.v ?? "")) {
      addHit(hits, context, "sqli.statement-exec", 1);
    } else if (t.t === "k" && t.v === "case" && tokens[i + 1]?.v === "when") {
      const then = tokens.findIndex((x, k) => k > i && x.v === "then");
      if (then > 0 && tokens.slice(then).some((x) => x.v === "end" || x.v === "else") && isValue(tokens[i + 2])) {
        addHit(hits, context, "sqli.case-expression", 1);
      }
    } else if (t.t === "E" && t.v === "waitfor") {
      if ((tokens[i + 1]?.v === "delay" || tokens[i + 1]?.v === "time") && tokens[i + 2]?.t === "s") {
        addHit(hits, context, "sqli.statement-waitfor", 1);
      }
    } else if (t.t === "E") {
      const start =
        !prev || prev.t === ";" || prev.t === "(" || prev.t === "U" || prev.t === "&" || prev.comment !== undefined;
      if (start || prev.t === "o") {
        const level = statementAt(tokens, i);
        if (level)
          addHit(
            hits,
            context,
            `sqli.statement-${t.v}`,
            (prev?.t === ";" && level === 1) || i === 0 || prev?.t === "("
              ? level
              : (Math.min(4, level + 1) as 2 | 3 | 4),
          );
      }
    } else if (t.t === "f") {
      if (STRONG_FUNCTIONS.has(t.v)) {
        const sqlShaped = callLooksSql(tokens, i);
        const weak = WEAK_FUNCTIONS.has(t.v);
        if (sqlShaped && !weak) addHit(hits, context, "sqli.function", 1);
        else if (sqlShaped && weak) {
          const arg = tokens[i + 2];
          // `user()`, `version()`, `char(58,58)`, `count(*)` are SQL; `count(3)` alone is not much.
          const empty =
            arg?.t === ")" &&
            (t.v === "user" ||
              t.v === "version" ||
              t.v === "database" ||
              t.v === "schema" ||
              t.v === "now" ||
              t.v === "pi" ||
              t.v === "rand" ||
              t.v === "uuid");
          const nested = arg?.t === "f" || arg?.t === "E" || arg?.t === "v";
          const condition = (t.v === "if" || t.v === "iif") && isLiteral(arg) && tokens[i + 3]?.t === "o";
          addHit(hits, context, "sqli.function", empty || nested || condition || tokens[i + 2] === undefined ? 1 : 3);
        } else if (!weak) addHit(hits, context, "sqli.function", 2);
      }
    } else if (t.t === "o" && t.v === "::" && prev && (prev.t === "s" || prev.t === ")" || prev.t === "n")) {
      if (SQL_TYPES.has(tokens[i + 1]?.v ?? "")) addHit(hits, context, "sqli.cast", 1);
    } else if (t.t === "o" && JSON_OPERATORS.has(t.v) && prev?.t === "s" && (logicBefore(tokens, i) || castSeen)) {
      const b = tokens[i + 1];
      if (b && (b.t === "s" || b.t === "1" || b.v === "array")) addHit(hits, context, "sqli.json-operator", 1);
    } else if (
      t.t === "?" &&
      t.v === "?" &&
      prev?.t === "s" &&
      tokens[i + 1]?.t === "s" &&
      (logicBefore(tokens, i) || castSeen)
    ) {
      addHit(hits, context, "sqli.json-operator", 1);
    } else if (
      t.t === "k" &&
      t.v === "as" &&
      prev &&
      (prev.t === ")" || prev.t === "n" || isLiteral(prev)) &&
      (tokens[i + 1]?.t === "n" || tokens[i + 1]?.t === "s") &&
      tokens[i + 2]?.v === "from"
    ) {
      addHit(hits, context, "sqli.alias-from", 2);
    } else if (t.t === "k" && t.v === "procedure" && tokens[i + 1]?.v === "analyse") {
      addHit(hits, context, "sqli.procedure-analyse", 1);
    } else if (t.t === "v" && t.v.startsWith("@@") && t.v.length > 3) {
      addHit(hits, context, "sqli.system-variable", 1);
    } else if (t.t === "&" && i > 0) {
      // `x or 1=1`, `and -8=(3)`, `and 1+2=3+4`, `and cos(3)=sin(4)`: comparisons of literal expressions.
      const left = literalExpressionEnd(tokens, i + 1);
      const cmp = left > 0 ? tokens[left] : undefined;
      if (cmp?.t === "o" && COMPARISON.has(cmp.v) && !ARITHMETIC.has(cmp.v) && left > i + 2) {
        const right = literalExpressionEnd(tokens, left + 1);
        const end = tokens[right];
        if (right > 0 && (!end || end.t === ")" || end.t === "&" || end.t === ";" || tokens[right - 1]?.comment)) {
          addHit(hits, context, "sqli.tautology", 1);
        }
      }
      const a = tokens[i + 1];
      const op = tokens[i + 2];
      const b = tokens[i + 3];
      const after = tokens[i + 4];
      const ordering = op?.v === "<" || op?.v === ">" || op?.v === "<=" || op?.v === ">=";
      const closes = !after || after.t === ")" || after.t === "&" || after.t === ";" || b?.comment !== undefined;
      if (
        isLiteral(a) &&
        op?.t === "o" &&
        COMPARISON.has(op.v) &&
        !ARITHMETIC.has(op.v) &&
        isLiteral(b) &&
        a!.t === b!.t &&
        (!ordering || closes)
      ) {
        addHit(hits, context, "sqli.tautology", a!.t === "s" && !b!.closed && context === "" ? 2 : 1);
      }
    } else if (t.t === ";" && tokens[i + 1]?.t === "E" && i > 0) {
      const level = statementAt(tokens, i + 1);
      if (level) addHit(hits, context, "sqli.stacked-query", level);
    }
  }
  if (tz.executableComment && tokens.some((t) => t.t === "E" || t.t === "U" || t.t === "f" || t.t === "&")) {
    addHit(hits, context, "sqli.executable-comment", 1);
  }
}

// ---------------------------------------------------------------- text-level fragments
// Shapes the token rules above do not see because the input is a piece of a query rather than
// a break out of a value: an open call left for the host query to close, a clause tail, an
// operator on its own. Each regex is anchored or bounded; the open-call rule reads only the tail.

// Procedures and packages that run commands, read files or reach the network from SQL.
const SYSTEM_PROCEDURES =
  /\b(?:xp_(?:cmdshell|dirtree|fileexist|regread|regwrite|servicecontrol|availablemedia|subdirs|loginconfig|makecab|ntsec_enumdomains|terminate_process)|sp_(?:executesql|oacreate|oamethod|makewebtask|addextendedproc|execute_external_script|linkedservers)|utl_(?:http|inaddr|file|smtp|tcp)|dbms_(?:pipe|lock|xmlquery|java|scheduler|ldap)|openrowset|opendatasource|openquery)\b/i;
// Function and keyword names probed with "(" left open: `' or date(`, `1 and length||(`.
const CALL_NAMES = new Set([
  ...STRONG_FUNCTIONS,
  ...WEAK_FUNCTIONS,
  "date",
  "time",
  "day",
  "month",
  "year",
  "hour",
  "minute",
  "second",
  "week",
  "quarter",
  "timestamp",
  "curdate",
  "curtime",
  "localtime",
  "localtimestamp",
  "replace",
  "format",
  "substr",
  "substring",
  "instr",
  "lpad",
  "rpad",
  "repeat",
  "space",
  "log",
  "password",
  "default",
  "values",
  "in",
  "ifnull",
  "nullif",
]);
// The name and "(" touch or are joined by operator characters; `time (` with only a space is prose.
const OPEN_CALL = /([a-z_]\w{0,30})(?:\s{0,4}[^\w\s(]{1,6}\s{0,4}|)\(\s{0,16}$/i;
// A backslash-escaped quote followed by logic: `\'or'1`, `x\" and 1` (addslashes bypass probes).
const ESCAPED_QUOTE_LOGIC = /\\['"`]\s{0,16}(?:or|and|xor|div|\|\||&&)(?=[\s'"`(\d]|$)/i;
// A comparison or logic operator as the whole value, as when a filter operator is taken from input.
const OPERATOR_ONLY =
  /^\s{0,16}(?:<=>|<>|!=|[<>]=|==|->>?|&&|\|\||!<|!>|xor|rlike|regexp|(?:is|like)\s{1,16}(?:not\s{1,16}|)null)\s{0,16}$/i;
// A clause tail: `from t where c =`, `from t group by`, `from \`db\`.\`t\` limit`.
const CLAUSE_FRAGMENT =
  /\bfrom\s{1,16}[\w`".[\]]{1,64}\s{1,16}(?:where\s{1,16}[\w`".]{1,64}\s{0,16}(?:[=<>!]{1,2}|like|in|is)\s{0,16}(?:['"(\d@?:-]|null\b|$)|\w{1,30}\(|group\s{1,16}by\b|order\s{1,16}by\b|limit\s{0,16}(?:\d|$))/i;
// Keywords in mixed case (`ORder by`, `SeLeCt`): how filters that match one spelling are dodged.
const CASE_KEYWORD =
  /\b(?:union|select|insert|update|delete|drop|where|having|sleep|benchmark|waitfor|concat|(?:order|group)(?=\s{1,16}by\b))\b/gi;
// A statement ending the input after a separator: `;drop`, `; insert into`, `; select`.
const STATEMENT_TAIL =
  /;\s{0,16}(?:insert\s{1,16}into|delete\s{1,16}from|drop(?:\s{1,16}(?:table|database|view|index|procedure|function|trigger|user|schema)|)|select|truncate(?:\s{1,16}table|)|shutdown)\s{0,16}(?:;|--|#|$)|\bdrop\s{1,16}[\w`".]{1,64}\s{0,16};?\s{0,16}(?:--|#)/i;
// An inline comment inside or next to a statement keyword: `DROP/*x*/t`, `DR/**/OP`.
const COMMENT_SPLIT =
  /\b(?:select|union|insert|update|delete|drop|truncate|exec|declare)\s{0,16}\/\*|\*\/\s{0,16}(?:select|union|insert|update|delete|drop|from|where)\b/i;
const EMPTY_COMMENT = /\/\*\*\//g;
const INTO_FILE = /\binto\s{1,16}(?:out|dump)file\s{1,16}['"]/i;
const USER_VARIABLE_SET = /(?:^|[\s;>=])set\s{1,16}@@?[a-z_]\w{0,63}\s{0,16}(?:=|:=|$)/i;
const NUMERIC_IN_LIST = /^\s{0,16}(?:not\s{1,16}|)in\s{0,16}\([\d\s,-]{1,100}\)\s{0,16}$/i;
const CASE_WHEN = /\bwhen\s{1,16}(?:\d{1,20}|'[^']{0,40}')\s{1,16}then\b/i;

// Lower, upper and title case are how people type; so is a held shift key (`ORder`).
const irregularCase = (word: string) => !/^(?:[a-z]+|[A-Z]+|[A-Z]{1,2}[a-z]+)$/.test(word);

function push(hits: SqlHit[], rule: string, paranoiaLevel: SqlHit["paranoiaLevel"]): void {
  hits.push({ rule, paranoiaLevel, context: "" });
}

// Cheap character tests that keep each fragment regex off text that cannot match it.
// Every schema object has "_", "db", "sys" or "mysql" in its name; every system procedure "_" or "open".
const SCHEMA_HINT = /_|db|sys|mysql|open/i;
const PROCEDURE_HINT = /xp_|sp_|utl_|dbms_|open/i;
const MIXED_CASE_HINT = /[a-z][A-Z]|[A-Z]{3}[a-z]/;

function fragmentHits(text: string, hits: SqlHit[], level: SqlHit["paranoiaLevel"]): void {
  if (SCHEMA_HINT.test(text)) {
    if (SCHEMA_OBJECTS.test(text)) push(hits, "sqli.schema-object", 1);
    if (PROCEDURE_HINT.test(text) && SYSTEM_PROCEDURES.test(text)) push(hits, "sqli.system-procedure", 1);
  }
  if (/file/i.test(text) && INTO_FILE.test(text)) push(hits, "sqli.into-file", 1);
  // The rest are level 2 rules.
  if (level < 2) return;
  if (text.trimEnd().endsWith("(")) {
    const m = OPEN_CALL.exec(text.slice(-48));
    if (m && CALL_NAMES.has(m[1]!.toLowerCase())) push(hits, "sqli.open-call", 2);
  }
  if (text.includes("\\") && ESCAPED_QUOTE_LOGIC.test(text)) push(hits, "sqli.escaped-quote-break", 2);
  if (text.length <= 64 && OPERATOR_ONLY.test(text)) push(hits, "sqli.operator-only", 2);
  if (text.length <= 64 && NUMERIC_IN_LIST.test(text)) push(hits, "sqli.in-list", 2);
  if (/from/i.test(text) && CLAUSE_FRAGMENT.test(text)) push(hits, "sqli.clause-fragment", 2);
  if (text.includes(";") && STATEMENT_TAIL.test(text)) push(hits, "sqli.statement-tail", 2);
  if (text.includes("@") && USER_VARIABLE_SET.test(text)) push(hits, "sqli.variable-set", 2);
  if (/then/i.test(text) && CASE_WHEN.test(text)) push(hits, "sqli.case-fragment", 2);
  if (text.includes("/*")) {
    // The first 4 KiB: enough for any keyword split, and a run of `/**/` costs one pass.
    const head = text.slice(0, 4096);
    const joined = head.includes("/**/") ? head.replace(EMPTY_COMMENT, "") : head;
    if (COMMENT_SPLIT.test(joined) || (joined !== head && SQL_WORDS.test(joined) && !SQL_WORDS.test(head)))
      push(hits, "sqli.comment-split", 2);
  }
  if (MIXED_CASE_HINT.test(text)) {
    CASE_KEYWORD.lastIndex = 0;
    for (let m = CASE_KEYWORD.exec(text), n = 0; m && n < 16; m = CASE_KEYWORD.exec(text), n++) {
      if (irregularCase(m[0])) {
        push(hits, "sqli.mixed-case-keyword", 2);
        break;
      }
    }
  }
}

/**
 * Runs the SQL rules over `text` in the three quoting contexts and returns every hit; rules
 * that only report above `level` may be left out.
 */
export function sqlHits(text: string, maxTokens = 256, level: SqlHit["paranoiaLevel"] = 4): SqlHit[] {
  const hits: SqlHit[] = [];
  fragmentHits(text, hits, level);
  // Prose without SQL punctuation or SQL words cannot match any other rule.
  if (!SQL_CHARS.test(text) && !SQL_WORDS.test(text)) return hits;
  judge(tokenize(text, "", maxTokens), "", hits);
  // In a quoted context the decisive tokens come right after the closing quote.
  if (text.includes("'")) judge(tokenize(text, "'", Math.min(maxTokens, 64)), "'", hits);
  if (text.includes('"')) judge(tokenize(text, '"', Math.min(maxTokens, 64)), '"', hits);
  return hits;
}

/** Each fragment regex with the gate that must match wherever it does (tests check the pairs). */
export const SQL_GATES: readonly (readonly [gate: RegExp, rule: RegExp])[] = [
  [SCHEMA_HINT, SCHEMA_OBJECTS],
  [SCHEMA_HINT, SYSTEM_PROCEDURES],
  [PROCEDURE_HINT, SYSTEM_PROCEDURES],
];

export const SQL_REGEXES: readonly RegExp[] = [
  SQL_CHARS,
  SQL_WORDS,
  SCHEMA_OBJECTS,
  SYSTEM_PROCEDURES,
  OPEN_CALL,
  ESCAPED_QUOTE_LOGIC,
  OPERATOR_ONLY,
  CLAUSE_FRAGMENT,
  CASE_KEYWORD,
  STATEMENT_TAIL,
  COMMENT_SPLIT,
  EMPTY_COMMENT,
  INTO_FILE,
  USER_VARIABLE_SET,
  NUMERIC_IN_LIST,
  CASE_WHEN,
  SCHEMA_HINT,
  PROCEDURE_HINT,
  MIXED_CASE_HINT,
];

/** The word lists the SQL rules judge by (for the plain-text pre-filter's keyword set). */
export const SQL_WORD_SETS: readonly ReadonlySet<string>[] = [
  STATEMENTS,
  UNIONS,
  LOGIC,
  WORD_OPERATORS,
  KEYWORDS,
  STRONG_FUNCTIONS,
  WEAK_FUNCTIONS,
  COMPARISON,
  SQL_TYPES,
  OBJECTS,
  CALL_NAMES,
];
