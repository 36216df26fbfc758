import { HTML_REGEXES, HTML_WORD_SETS } from "./html.js";
import { RULE_REGEXES, RULE_WORD_SETS } from "./rules.js";
import { SQL_REGEXES, SQL_WORD_SETS } from "./sql.js";

// A pre-filter that proves a string cannot match any rule, so ids, numbers, emails, names and
// short plain notes skip decoding and the rules. A string passes only when
//   - every character is an ASCII letter, a digit, a space or one of `_ . , @ + -` (no quote,
//     markup, operator, separator, slash, percent, ampersand, backslash or non-ASCII character,
//     so no decoding layer has anything to decode),
//   - it has no `..` (climbs), `--` (SQL comment) or `@@` (system variable), and
//   - none of its letter runs is a keyword, starts with a keyword of four or more letters or
//     ends with one. The keywords are every word of the rules' word lists and every letter run
//     of the rules' regular expressions, so a rule added to those lists or regexes extends the
//     keyword set by itself.
// prefilter.test.ts runs the corpus and generated strings with and without the pre-filter and
// requires identical findings.

/** Minimum length of a keyword that also counts as the start or end of a longer word. */
const AFFIX_MIN = 4;

// ASCII letter runs of two or more letters in a regex source, escapes (`\b`, `\s`, `\x41`) removed.
function regexWords(regex: RegExp): string[] {
  const source = regex.source.replace(
    /\\(?:u\{[0-9a-f]+\}|u[0-9a-f]{4}|x[0-9a-f]{2}|c[a-z]|[pk]\{[^}]*\}|k<[^>]*>|.)/gi,
    " ",
  );
  return source.toLowerCase().match(/[a-z]{2,}/g) ?? [];
}

/** The keyword set: words of the rules' lists (split into letter runs) and of their regexes. */
export function ruleKeywords(): Set<string> {
  const words = new Set<string>();
  for (const set of [...SQL_WORD_SETS, ...HTML_WORD_SETS, ...RULE_WORD_SETS]) {
    for (const entry of set) for (const run of entry.toLowerCase().match(/[a-z]+/g) ?? []) words.add(run);
  }
  for (const regex of [...SQL_REGEXES, ...HTML_REGEXES, ...RULE_REGEXES])
    for (const run of regexWords(regex)) words.add(run);
  return words;
}

/** A trie over lower-case ASCII letters: 26 child slots per node, `terminal` marks word ends. */
interface Trie {
  next: Int32Array;
  terminal: Uint8Array;
}

function buildTrie(words: Iterable<string>, reversed: boolean): Trie {
  const list = [...words];
  const size = list.reduce((sum, word) => sum + word.length, 1);
  const next = new Int32Array(size * 26);
  const terminal = new Uint8Array(size);
  let nodes = 1;
  for (const word of list) {
    let node = 0;
    for (let k = 0; k < word.length; k++) {
      const c = word.charCodeAt(reversed ? word.length - 1 - k : k) - 97;
      const slot = node * 26 + c;
      if (next[slot] === 0) next[slot] = nodes++;
      node = next[slot]!;
    }
    terminal[node] = 1;
  }
  return { next, terminal };
}

const KEYWORDS = ruleKeywords();
const FORWARD = buildTrie(KEYWORDS, false);
const BACKWARD = buildTrie(KEYWORDS, true);

// Character classes: 1 letter, 2 anything else allowed; 0 not allowed.
const CLASS = new Uint8Array(128);
for (let c = 65; c <= 90; c++) CLASS[c] = 1;
for (let c = 97; c <= 122; c++) CLASS[c] = 1;
for (let c = 48; c <= 57; c++) CLASS[c] = 2;
CLASS[32] = 2;
for (const c of "_.,@+-") CLASS[c.charCodeAt(0)] = 2;

/** Whether the letter run text[start, end) is a keyword, or starts or ends with a long one. */
function keywordRun(text: string, start: number, end: number): boolean {
  let node = 0;
  for (let i = start; i < end; i++) {
    node = FORWARD.next[node * 26 + ((text.charCodeAt(i) | 0x20) - 97)]!;
    if (node === 0) break;
    if (FORWARD.terminal[node] === 1 && (i + 1 - start >= AFFIX_MIN || i + 1 === end)) return true;
  }
  node = 0;
  for (let i = end - 1; i >= start; i--) {
    node = BACKWARD.next[node * 26 + ((text.charCodeAt(i) | 0x20) - 97)]!;
    if (node === 0) return false;
    if (BACKWARD.terminal[node] === 1 && end - i >= AFFIX_MIN) return true;
  }
  return false;
}

/**
 * Whether `text` provably cannot match any rule (see above). Allocation-free; linear in the
 * length, and it stops at the first character outside the plain set.
 */
export function cannotMatch(text: string): boolean {
  let prev = 0;
  let run = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const cls = c < 128 ? CLASS[c]! : 0;
    if (cls === 0) return false;
    // `..`, `--` and `@@`.
    if (c === prev && (c === 46 || c === 45 || c === 64)) return false;
    prev = c;
    if (cls === 1) {
      if (run < 0) run = i;
      continue;
    }
    if (run >= 0) {
      if (keywordRun(text, run, i)) return false;
      run = -1;
    }
  }
  return run < 0 || !keywordRun(text, run, text.length);
}
