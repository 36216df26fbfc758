import type { DECODINGS } from "./options.js";

export type Decoding = (typeof DECODINGS)[number];

/** One form of an input: the text and the decodings that produced it from the raw value. */
export interface Variant {
  text: string;
  decodings: readonly Decoding[];
}

const HEX = /^[0-9a-fA-F]$/;

function hexValue(text: string, start: number, length: number): number {
  if (start + length > text.length) return -1;
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

// Lenient UTF-8: overlong forms (%c0%ae for ".") decode to the character they spell, which
// is exactly what strict decoders refuse and what attackers rely on; invalid bytes stay as
// Latin-1 characters so nothing is lost.
function decodeBytes(bytes: number[]): string {
  if (bytes.every((b) => b < 0x80)) {
    let ascii = "";
    for (let i = 0; i < bytes.length; i += 8192) ascii += String.fromCharCode(...bytes.slice(i, i + 8192));
    return ascii;
  }
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      continue;
    }
    const need = b >= 0xf0 && b < 0xf8 ? 3 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xc0 && b < 0xe0 ? 1 : 0;
    if (need === 0) {
      out += String.fromCharCode(b);
      continue;
    }
    let cp = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    let ok = i + need < bytes.length;
    for (let k = 1; ok && k <= need; k++) {
      const next = bytes[i + k]!;
      if ((next & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (next & 0x3f);
    }
    if (!ok || cp > 0x10ffff) {
      out += String.fromCharCode(b);
      continue;
    }
    out += String.fromCodePoint(cp);
    i += need;
  }
  return out;
}

const hexDigit = (c: number) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;

/** The byte `%XX` spells at `p`, or -1. */
function percentByte(text: string, p: number): number {
  const hi = hexDigit(text.charCodeAt(p + 1));
  const lo = hi < 0 ? -1 : hexDigit(text.charCodeAt(p + 2));
  return lo < 0 ? -1 : hi * 16 + lo;
}

/** The next "%" at or after `from` (runs of escapes sit back to back: check the first place before searching). */
const nextPercent = (text: string, from: number) => (text.charCodeAt(from) === 37 ? from : text.indexOf("%", from));

/** One round of percent-decoding, with `%uXXXX` and overlong UTF-8. Returns the input when nothing decodes. */
export function urlDecodeOnce(text: string): string {
  let p = text.indexOf("%");
  if (p < 0) return text;
  let out = "";
  // `literal` is where undecoded text starts; a run of %XX bytes is decoded together, so
  // pending bytes are flushed before any literal text or %uXXXX that follows them.
  let literal = 0;
  const bytes: number[] = [];
  while (p >= 0) {
    const next = text.charCodeAt(p + 1);
    if ((next === 117 || next === 85) && hexValue(text, p + 2, 4) >= 0) {
      if (bytes.length > 0) {
        out += decodeBytes(bytes);
        bytes.length = 0;
      }
      out += text.slice(literal, p) + String.fromCharCode(hexValue(text, p + 2, 4));
      literal = p + 6;
      p = nextPercent(text, literal);
      continue;
    }
    const byte = percentByte(text, p);
    if (byte < 0) {
      // A "%" that starts no escape stays as it is.
      p = nextPercent(text, p + 1);
      continue;
    }
    if (literal < p) {
      if (bytes.length > 0) {
        out += decodeBytes(bytes);
        bytes.length = 0;
      }
      out += text.slice(literal, p);
    }
    bytes.push(byte);
    literal = p + 3;
    p = nextPercent(text, literal);
  }
  if (bytes.length > 0) out += decodeBytes(bytes);
  return literal < text.length ? out + text.slice(literal) : out;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  amp: "&",
  colon: ":",
  semi: ";",
  tab: "\t",
  newline: "\n",
  lpar: "(",
  rpar: ")",
  sol: "/",
  bsol: "\\",
  comma: ",",
  period: ".",
  excl: "!",
  num: "#",
  nbsp: " ",
  equals: "=",
  grave: "`",
  lsqb: "[",
  rsqb: "]",
  lbrack: "[",
  rbrack: "]",
  lcub: "{",
  rcub: "}",
  plus: "+",
  percnt: "%",
  dollar: "$",
  ast: "*",
  quest: "?",
  vert: "|",
  lowbar: "_",
  hyphen: "-",
  dash: "-",
  commat: "@",
};

const isAsciiLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isHexDigit = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/** Decodes numeric and common named HTML character references, with or without the `;`. */
export function htmlDecode(text: string): string {
  let i = text.indexOf("&");
  if (i < 0) return text;
  const n = text.length;
  let out = "";
  // Text from `literal` up to the current "&" is copied in one piece.
  let literal = 0;
  while (i >= 0) {
    let j = i + 1;
    if (text.charCodeAt(j) === 35) {
      j++;
      const x = text.charCodeAt(j);
      const hex = x === 120 || x === 88;
      if (hex) j++;
      const digitsStart = j;
      while (j < n && j - digitsStart < 8) {
        const c = text.charCodeAt(j);
        if (hex ? !isHexDigit(c) : c < 48 || c > 57) break;
        j++;
      }
      if (j > digitsStart) {
        const cp = Number.parseInt(text.slice(digitsStart, j), hex ? 16 : 10);
        if (cp <= 0x10ffff) {
          out += text.slice(literal, i) + String.fromCodePoint(cp);
          if (text.charCodeAt(j) === 59) j++;
          literal = j;
          i = text.indexOf("&", j);
          continue;
        }
      }
      i = text.indexOf("&", i + 1);
      continue;
    }
    while (j < n && j - i <= 9 && isAsciiLetter(text.charCodeAt(j))) j++;
    const value = j > i + 1 ? NAMED_ENTITIES[text.slice(i + 1, j).toLowerCase()] : undefined;
    if (value !== undefined) {
      out += text.slice(literal, i) + value;
      if (text.charCodeAt(j) === 59) j++;
      literal = j;
      i = text.indexOf("&", j);
      continue;
    }
    i = text.indexOf("&", i + 1);
  }
  return literal < n ? out + text.slice(literal) : out;
}

/** Decodes JavaScript (`\x41`, `\u0041`, `\u{41}`, `\101`) and CSS (`\41 `, `\j`) escapes. */
export function escapeDecode(text: string): string {
  if (!text.includes("\\")) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "\\" || i + 1 >= text.length) {
      // Copy up to the next backslash in one piece.
      const next = text.indexOf("\\", i + 1);
      const stop = next < 0 ? text.length : next;
      out += text.slice(i, stop);
      i = stop - 1;
      continue;
    }
    const n = text[i + 1]!;
    if (n === "\\") {
      // A run of backslashes: each pair is one backslash; an odd last one escapes what follows.
      let k = i + 2;
      while (text.charCodeAt(k) === 92) k++;
      const pairs = (k - i) >> 1;
      out += pairs === 1 ? "\\" : "\\".repeat(pairs);
      i += 2 * pairs - 1;
    } else if ((n === "x" || n === "X") && hexValue(text, i + 2, 2) >= 0) {
      // A run of \xNN escapes is bytes: decode it as (lenient) UTF-8.
      const bytes: number[] = [];
      let j = i;
      while (text[j] === "\\" && (text[j + 1] === "x" || text[j + 1] === "X") && hexValue(text, j + 2, 2) >= 0) {
        bytes.push(hexValue(text, j + 2, 2));
        j += 4;
      }
      out += decodeBytes(bytes);
      i = j - 1;
    } else if ((n === "u" || n === "U") && text[i + 2] === "{") {
      const end = text.indexOf("}", i + 3);
      const cp = end > 0 && end - i <= 10 ? hexValue(text, i + 3, end - i - 3) : -1;
      if (cp >= 0 && cp <= 0x10ffff) {
        out += String.fromCodePoint(cp);
        i = end;
      } else out += c;
    } else if ((n === "u" || n === "U") && hexValue(text, i + 2, 4) >= 0) {
      out += String.fromCharCode(hexValue(text, i + 2, 4));
      i += 5;
    } else if (n >= "0" && n <= "7" && /^[0-7]{3}(?![0-9a-fA-F])/.test(text.slice(i + 1, i + 5))) {
      out += String.fromCharCode(Number.parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (HEX.test(n)) {
      // CSS: up to six hex digits and one optional space.
      let j = i + 1;
      while (j < text.length && j - i <= 6 && HEX.test(text[j]!)) j++;
      const cp = Number.parseInt(text.slice(i + 1, j), 16);
      if (cp > 0 && cp <= 0x10ffff) {
        out += String.fromCodePoint(cp);
        if (text[j] === " ") j++;
        i = j - 1;
      } else out += c;
    } else if (/[a-zA-Z]/.test(n)) {
      out += n === "n" ? "\n" : n === "r" ? "\r" : n === "t" ? "\t" : n;
      i += 1;
    } else out += c;
  }
  return out;
}

// Characters browsers, shells and databases ignore or treat as their ASCII look-alikes.
// U+034F (combining grapheme joiner) is left to NFKC.
const INVISIBLE =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u00ad\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]/g;
const CONFUSABLES: Readonly<Record<string, string>> = {
  "\u2018": "'",
  "\u2019": "'",
  "\u201b": "'",
  "\u2032": "'",
  "\u02bc": "'",
  "\u201c": '"',
  "\u201d": '"',
  "\u201e": '"',
  "\u2033": '"',
  "\u2215": "/",
  "\u2044": "/",
  "\u2216": "\\",
  "\u29f5": "\\",
  "\u00a2": '"',
  "\u00bc": "<",
  "\u00be": ">",
  "\u02c2": "<",
  "\u02c3": ">",
  "\u2039": "<",
  "\u203a": ">",
};
const CONFUSABLE_CHARS =
  /[\u00bc\u00be\u00a2\u2018\u2019\u201b\u2032\u02bc\u201c\u201d\u201e\u2033\u2215\u2044\u2216\u29f5\u02c2\u02c3\u2039\u203a]/g;
const NEEDS_UNICODE = /[^\u0009\u000a\u000d\u0020-\u007e]/;

/** NFKC (full-width forms), look-alike quotes and slashes, and NUL / zero-width / control characters removed. */
export function unicodeNormalize(text: string): string {
  if (!NEEDS_UNICODE.test(text)) return text;
  // Look-alikes first: NFKC would turn the half-byte ¼ into "1⁄4".
  return text
    .replace(CONFUSABLE_CHARS, (c) => CONFUSABLES[c] ?? c)
    .normalize("NFKC")
    .replace(INVISIBLE, "");
}

/** The `\xbc` / `\xbe` half-byte trick: characters that become `<`/`>` when a proxy strips the high bit. */
export function highBitFold(text: string): string {
  return text.replace(/[\u00bc\u00be]/g, (c) => CONFUSABLES[c] ?? c);
}

/**
 * The raw value and every distinct form the bounded decoding layers expose: URL (up to
 * `urlRounds`), HTML entities, JS/CSS escapes, Unicode normalisation. Each layer runs on the
 * output of the previous one; the chain stays short and every step is linear.
 */
export function variantsOf(raw: string, urlRounds = 3): Variant[] {
  const variants: Variant[] = [{ text: raw, decodings: [] }];
  for (let round = 0; round < urlRounds; round++) {
    const last = variants[variants.length - 1]!.text;
    if (!pushVariant(variants, urlDecodeOnce(last), "url")) break;
  }
  pushVariant(variants, htmlDecode(variants[variants.length - 1]!.text), "html-entity");
  pushVariant(variants, escapeDecode(variants[variants.length - 1]!.text), "escape");
  // Entities can hide escapes and the other way round; one more pass of each covers the usual nesting.
  let current = variants[variants.length - 1]!.text;
  if (current.includes("&") || current.includes("\\")) {
    pushVariant(variants, htmlDecode(escapeDecode(current)), "html-entity");
  }
  pushVariant(variants, unicodeNormalize(variants[variants.length - 1]!.text), "unicode");
  current = variants[variants.length - 1]!.text;
  if (current.includes("%")) pushVariant(variants, urlDecodeOnce(current), "url");
  return variants;
}

/** Adds `text` as the next variant when the decoding changed the last one; whether it did. */
function pushVariant(variants: Variant[], text: string, decoding: Decoding): boolean {
  const last = variants[variants.length - 1]!;
  if (text === last.text) return false;
  variants.push({ text, decodings: [...last.decodings, decoding] });
  return true;
}
