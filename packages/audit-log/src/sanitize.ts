// Control characters (C0, DEL, C1) and the Unicode line/paragraph separators: anything that
// could end a log line or move a terminal's cursor once the value is decoded and printed.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const CONTROL_TEST = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// 13 to 19 digits, optionally grouped by single spaces or dashes, not part of a longer token.
const PAN = /(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])/g;
const DIGITS_13 = /(?:\d[ -]?){12}\d/;

const MAX_DEPTH = 6;
const MAX_STRING = 8192;

function escapeControl(char: string): string {
  switch (char) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default:
      return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  }
}

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

function maskPan(match: string): string {
  const digits = match.replace(/[ -]/g, "");
  if (digits.length < 13 || digits.length > 19 || !luhn(digits)) return match;
  return `${"*".repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/**
 * A string safe to log: control characters written as visible escapes (`\n`, `\u001b`), card
 * numbers (Luhn-valid 13-19 digit runs) masked to their last four digits, and the length capped.
 *
 * @example
 * neutralise("admin\r\nlevel=info forged"); // "admin\\r\\nlevel=info forged"
 */
export function neutralise(value: string): string {
  if (value.length > MAX_STRING) value = `${value.slice(0, MAX_STRING)}...[truncated]`;
  if (CONTROL_TEST.test(value)) value = value.replace(CONTROL, escapeControl);
  if (DIGITS_13.test(value)) value = value.replace(PAN, maskPan);
  return value;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export const REDACTED = "[REDACTED]";
const NO_KEYS: ReadonlySet<string> = new Set();

/**
 * Neutralises every string in a log object (plain objects and arrays, a few levels deep) and
 * replaces the values of `redactKeys` (lower-case names), returning a copy only when something
 * changed. Other objects (errors, dates) go to their serializers.
 */
export function neutraliseObject<T>(value: T, redactKeys: ReadonlySet<string> = NO_KEYS, depth = 0): T {
  if (typeof value === "string") return neutralise(value) as T;
  if (typeof value !== "object" || value === null || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const clean = neutraliseObject(item, redactKeys, depth + 1);
      if (clean !== item) {
        copy ??= value.slice();
        copy[i] = clean;
      }
    }
    return (copy ?? value) as T;
  }
  if (!isPlain(value)) return value;
  let copy: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    const clean =
      item !== undefined && redactKeys.size > 0 && redactKeys.has(key.toLowerCase())
        ? REDACTED
        : neutraliseObject(item, redactKeys, depth + 1);
    if (clean !== item) {
      copy ??= { ...record };
      copy[key] = clean;
    }
  }
  return (copy ?? value) as T;
}
