import { optionChecks } from "@palisade/core";
import { variantsOf } from "./decode.js";
import { xssHits } from "./html.js";
import { type Finding, type InspectOptions, KINDS, type Kind, PARANOIA_LEVELS, type ParanoiaLevel } from "./options.js";
import { cannotMatch } from "./prefilter.js";
import { type Location, mayBeCommand, type RuleHit, ruleHits, shellNormalize } from "./rules.js";
import { sqlHits } from "./sql.js";

/** Options of `inspect`, validated once. */
export interface CompiledInspect {
  paranoiaLevel: ParanoiaLevel;
  kinds: ReadonlySet<Kind>;
  maxLength: number;
}

const INSPECT_KEYS = ["paranoiaLevel", "kinds", "key", "maxLength"] as const;

export function compileInspect(scope: string, options: Readonly<InspectOptions>): CompiledInspect {
  const check = optionChecks(scope);
  const paranoiaLevel = check.oneOf("paranoiaLevel", options.paranoiaLevel, PARANOIA_LEVELS, 1) as ParanoiaLevel;
  const kinds = options.kinds === undefined ? KINDS : check.stringArray("kinds", options.kinds, KINDS);
  for (const kind of kinds) check.oneOf("kinds", kind, KINDS, "sqli");
  const maxLength = check.number("maxLength", options.maxLength, 65_536, { min: 1, integer: true });
  return { paranoiaLevel, kinds: new Set(kinds as readonly Kind[]), maxLength };
}

const DEFAULT_COMPILED: CompiledInspect = Object.freeze({
  paranoiaLevel: 1,
  kinds: new Set<Kind>(KINDS),
  maxLength: 65_536,
});
const BY_LEVEL: Readonly<Record<ParanoiaLevel, CompiledInspect>> = {
  1: DEFAULT_COMPILED,
  2: Object.freeze({ ...DEFAULT_COMPILED, paranoiaLevel: 2 }),
  3: Object.freeze({ ...DEFAULT_COMPILED, paranoiaLevel: 3 }),
  4: Object.freeze({ ...DEFAULT_COMPILED, paranoiaLevel: 4 }),
};

const FRAGMENT_LENGTH = 80;
// Strings of letters, digits and a few separators cannot carry markup, quotes or shell syntax;
// they only need the keyword-free key rules and the schema-object check.
const PLAIN = /^[\p{L}\p{N} _.,@+-]*$/u;
// Apostrophes inside names and contractions (O'Brien, don't, l'équipe) are prose when the
// part after the apostrophe is not a SQL operator word (`a'or'b` is not prose).
const APOSTROPHE_WORD = /(\p{L})['’](\p{L}{1,20})/gu;
const SQL_OPERATOR_WORDS = new Set([
  "or",
  "and",
  "xor",
  "not",
  "is",
  "in",
  "like",
  "rlike",
  "div",
  "mod",
  "union",
  "regexp",
  "sounds",
  "between",
]);

const IDENTIFIER_KEY = /^[A-Za-z_][\w-]{0,63}$/;

// A character that is neither plain nor an apostrophe survives the apostrophe stripping below.
const NOT_PROSE = /[^\p{L}\p{N} _.,@+'’-]/u;

// ASCII characters of PLAIN: 1; the apostrophe: 2; anything else: 0.
const PROSE_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) PROSE_CLASS[c] = PLAIN.test(String.fromCharCode(c)) ? 1 : c === 39 ? 2 : 0;

function plainProse(text: string): boolean {
  // ASCII text is judged by a table: any character outside PLAIN but the apostrophe rules prose out.
  let apostrophe = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) return plainProseText(text);
    const kind = PROSE_CLASS[c];
    if (kind === 0) return false;
    if (kind === 2) {
      // An apostrophe after anything but a letter is in no word: never prose.
      const before = i === 0 ? 0 : text.charCodeAt(i - 1) | 0x20;
      if (before < 97 || before > 122) return false;
      apostrophe = true;
    }
  }
  return !apostrophe || plainProseText(text);
}

function plainProseText(text: string): boolean {
  if (PLAIN.test(text)) return true;
  if ((!text.includes("'") && !text.includes("’")) || NOT_PROSE.test(text)) return false;
  // Prose when every apostrophe sits in a word (the same left-to-right matches a replace would
  // make) and no part after one is a SQL operator word.
  let inWords = 0;
  APOSTROPHE_WORD.lastIndex = 0;
  for (let m = APOSTROPHE_WORD.exec(text); m !== null; m = APOSTROPHE_WORD.exec(text)) {
    if (SQL_OPERATOR_WORDS.has(m[2]!.toLowerCase())) return false;
    inWords++;
  }
  let apostrophes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 39 || c === 0x2019) apostrophes++;
  }
  return inWords === apostrophes;
}
const PLAIN_NEEDS_RULES =
  /_proto_|information_schema|tempdb|msdb|mysql\.|performance_schema|all_tab|user_tab|dba_users|sys\.|sysobjects|msys|pg_|sqlite_|xp_|sp_|utl_|dbms_|openrowset|opendatasource|^\s{0,16}(?:xor|rlike|regexp|(?:is|like)\s{1,16}(?:not\s{1,16}|)null)\s{0,16}$|@@|^(?:select|insert|update|delete|drop|create|alter|truncate|exec|execute|declare|waitfor|shutdown|grant|revoke|replace|load|handler|union)\b|\b(?:document|window|union|select|sleep|benchmark|order by|group by|having|where|into|waitfor|exec|between|sounds|case)\b|--/i;

function truncate(text: string, index: number): string {
  const start = Math.max(0, Math.min(index, text.length - 1));
  const fragment = text.slice(start, start + FRAGMENT_LENGTH);
  return fragment.length < text.length - start ? `${fragment}…` : fragment;
}

/**
 * Findings for one string with compiled options. `location` adds key, header and path rules.
 * Deterministic: the same input and options always give the same findings in the same order.
 */
export function inspectWith(value: string, compiled: CompiledInspect, location: Location = "value"): Finding[] {
  const text = value.length > compiled.maxLength ? value.slice(0, compiled.maxLength) : value;
  if (text.length === 0 || cannotMatch(text, location !== "key")) return [];
  return inspectRules(text, compiled, location);
}

/** `inspectWith` without the pre-filter: every string through the decoders and rules (tests compare the two). */
export function inspectRules(value: string, compiled: CompiledInspect, location: Location = "value"): Finding[] {
  const text = value.length > compiled.maxLength ? value.slice(0, compiled.maxLength) : value;
  if (text.length === 0) return [];
  const level = compiled.paranoiaLevel;
  const kinds = compiled.kinds;
  if (location !== "key" && plainProse(text) && !PLAIN_NEEDS_RULES.test(text) && !mayBeCommand(text)) return [];
  // Identifier keys (`serviceId`, `client_name`) carry no operator, markup or quote.
  if (
    location === "key" &&
    IDENTIFIER_KEY.test(text) &&
    !PLAIN_NEEDS_RULES.test(text) &&
    !/proto|constructor/i.test(text)
  ) {
    return [];
  }

  const variants = variantsOf(text);
  // Hits above the level or of a kind not asked for would be dropped: they are not collected.
  const pending: Pending[] = [];
  for (let v = 0; v < variants.length; v++) {
    const variant = variants[v]!;
    const t = variant.text;
    if (kinds.has("sqli")) {
      const sql = sqlHits(t, 256, level);
      let decodings: readonly string[] | undefined;
      for (let h = 0; h < sql.length; h++) {
        const hit = sql[h]!;
        if (hit.paranoiaLevel > level) continue;
        decodings ??= t.includes("/*") ? [...variant.decodings, "sql-comment"] : variant.decodings;
        pending.push(pend("sqli", hit.rule, hit.paranoiaLevel, truncate(t, 0), decodings));
      }
    }
    if (kinds.has("xss")) {
      const xss = xssHits(t);
      for (let h = 0; h < xss.length; h++) {
        const hit = xss[h]!;
        if (hit.paranoiaLevel > level) continue;
        pending.push(pend("xss", hit.rule, hit.paranoiaLevel, truncate(t, hit.index), variant.decodings));
      }
    }
    const hits: RuleHit[] = [];
    ruleHits(t, location, v === 0, hits, level, kinds);
    // Extra decodings: shell normalisation for command hits, path normalisation for climbs.
    let shell: boolean | undefined;
    let path: boolean | undefined;
    for (let h = 0; h < hits.length; h++) {
      const hit = hits[h]!;
      if (hit.paranoiaLevel > level || !kinds.has(hit.kind)) continue;
      let decodings = variant.decodings;
      if (hit.kind === "command-injection") {
        shell ??= shellNormalize(t) !== t;
        if (shell) decodings = [...variant.decodings, "shell-quote"];
      } else if (hit.kind === "path-traversal") {
        path ??= /\\|0x5c|%5c/i.test(t);
        if (path) decodings = [...variant.decodings, "path"];
      }
      pending.push(pend(hit.kind, hit.rule, hit.paranoiaLevel, truncate(t, hit.index), decodings));
    }
  }
  const findings: Finding[] = [];
  if (pending.length === 0) return findings;
  // Lowest paranoia level first (a stable sort), so a rule reported at level 1 is not first seen at 3.
  pending.sort(byLevel);
  for (let p = 0; p < pending.length; p++) {
    const { kind, rule, paranoiaLevel, fragment, decodings } = pending[p]!;
    let seen = false;
    for (let f = 0; f < findings.length && !seen; f++) seen = findings[f]!.rule === rule;
    if (!seen) findings.push({ kind, rule, paranoiaLevel, fragment, decodings });
  }
  return findings;
}

type Pending = Finding;
const pend = (
  kind: Kind,
  rule: string,
  paranoiaLevel: ParanoiaLevel,
  fragment: string,
  decodings: readonly string[],
): Pending => ({ kind, rule, paranoiaLevel, fragment, decodings });
const byLevel = (a: Pending, b: Pending) => a.paranoiaLevel - b.paranoiaLevel;

/**
 * Inspects one string for injection attacks. Pure, synchronous and deterministic; an empty
 * array means nothing was found at the chosen paranoia level.
 *
 * @example
 * import { inspect } from "@palisade/input-sanitizer";
 * inspect("1' or '1'='1");            // [{ kind: "sqli", rule: "sqli.string-break-logic", ... }]
 * inspect("O'Brien");                  // []
 * inspect("%253Cscript%253E", { paranoiaLevel: 2 })[0]?.decodings; // ["url", "url"]
 */
export function inspect(value: string, options: Readonly<InspectOptions> = {}): Finding[] {
  let compiled = DEFAULT_COMPILED;
  // Most calls pass no options or only a level (and `key`): use the options compiled once for
  // that level; anything else (or an invalid level) goes through the option checks.
  const level = options.paranoiaLevel;
  let simple =
    options.kinds === undefined &&
    options.maxLength === undefined &&
    (level === undefined || PARANOIA_LEVELS.includes(level));
  if (simple) {
    const names = Object.keys(options);
    for (let i = 0; i < names.length && simple; i++) simple = names[i] === "paranoiaLevel" || names[i] === "key";
  }
  if (simple) compiled = level === undefined ? DEFAULT_COMPILED : BY_LEVEL[level];
  else {
    const check = optionChecks("inspect");
    check.knownKeys(options, INSPECT_KEYS);
    compiled = compileInspect("inspect", options);
  }
  if (typeof value !== "string") optionChecks("inspect").fail("value", "a string", value);
  return inspectWith(value, compiled, options.key === true ? "key" : "value");
}
