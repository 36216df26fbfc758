import { HTML_REGEXES, HTML_WORD_SETS } from "./html.js";
import { RULE_REGEXES, RULE_WORD_SETS } from "./rules.js";
import { SQL_REGEXES, SQL_WORD_SETS } from "./sql.js";

// A pre-filter that proves a string cannot match any rule, so ids, numbers, emails, names and
// short plain notes skip decoding and the rules. A string passes only when
//   - every character is an ASCII letter, a digit, a space or one of `_ . , @ + -` (no quote,
//     markup, operator, separator, slash, percent, ampersand or backslash, so no decoding layer
//     has anything to decode), or a Latin letter with accents (U+00C0-U+024F) that no decoding
//     layer or case mapping turns into ASCII (`é`, `ñ`, `ø`; not `ſ`, `ß`, `İ` or `ĳ`),
//   - it has no `..` (climbs), `--` (SQL comment) or `@@` (system variable),
//   - none of its ASCII letter runs is a keyword, starts with a keyword of four or more letters
//     or ends with one. The keywords are every word of the rules' word lists and every letter
//     run of the rules' regular expressions, so a rule added to those lists or regexes extends
//     the keyword set by itself; and
//   - outside keys (`prose`), an apostrophe sits inside a word, between two letters, one per
//     word (`O'Brien`, `O'Neill`, `l'équipe`), and the word read without it is no keyword either
//     (a shell drops the quote: `wh'oami`). The rules treat such text as prose.
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

// Character classes: 1 ASCII letter, 2 anything else allowed, 3 a Latin letter beyond ASCII; 0 not allowed.
const CLASS = new Uint8Array(0x250);
for (let c = 65; c <= 90; c++) CLASS[c] = 1;
for (let c = 97; c <= 122; c++) CLASS[c] = 1;
for (let c = 48; c <= 57; c++) CLASS[c] = 2;
CLASS[32] = 2;
for (const c of "_.,@+-") CLASS[c.charCodeAt(0)] = 2;
// Letters that stay themselves under NFKC (the Unicode decoding layer) and whose case forms and
// case-insensitive matches hold no ASCII character: to every rule they are a letter of no keyword.
const hasAscii = (text: string) => [...text].some((ch) => ch.charCodeAt(0) < 128);
for (let c = 0xc0; c < 0x250; c++) {
  const ch = String.fromCharCode(c);
  if (
    /\p{L}/u.test(ch) &&
    ch.normalize("NFKC") === ch &&
    !hasAscii(ch.toLowerCase()) &&
    !hasAscii(ch.toUpperCase()) &&
    !/\w/iu.test(ch)
  ) {
    CLASS[c] = 3;
  }
}
const APOSTROPHE = 39;

const isLetterClass = (c: number) => c < 0x250 && (CLASS[c] === 1 || CLASS[c] === 3);
const isAsciiLetter = (c: number) => c < 128 && CLASS[c] === 1;

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

/** Whether the apostrophe at `at`, between two ASCII letters, joins them into a keyword once dropped. */
function joinsKeyword(text: string, at: number): boolean {
  let start = at;
  while (start > 0 && isAsciiLetter(text.charCodeAt(start - 1))) start--;
  let end = at + 1;
  while (end < text.length && isAsciiLetter(text.charCodeAt(end))) end++;
  const joined = text.slice(start, at) + text.slice(at + 1, end);
  return keywordRun(joined, 0, joined.length);
}

/**
 * Whether `text` provably cannot match any rule (see above); `prose` lets in-word apostrophes
 * through (not for keys, which the rules never read as prose). Linear in the length, and it
 * stops at the first character outside the plain set.
 */
export function cannotMatch(text: string, prose = false): boolean {
  let prev = 0;
  let run = -1;
  // Whether the current word (letters and apostrophes) already holds an apostrophe.
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let cls = c < 0x250 ? CLASS[c]! : 0;
    if (cls === 0) {
      if (
        c !== APOSTROPHE ||
        !prose ||
        quoted ||
        !isLetterClass(prev) ||
        !isLetterClass(text.charCodeAt(i + 1)) ||
        (isAsciiLetter(prev) && isAsciiLetter(text.charCodeAt(i + 1)) && joinsKeyword(text, i))
      ) {
        return false;
      }
      quoted = true;
      cls = 2;
    } else if (cls === 2) quoted = false;
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
