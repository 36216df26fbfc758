import { PalisadeConfigError } from "./errors.js";

/** Renders a value for an error message: strings quoted, everything else as JSON would show it. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return value.toString();
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (value instanceof RegExp) return value.toString();
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/** The closest accepted name to a misspelled one, or `undefined` when nothing is close. */
export function suggest(name: string, accepted: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of accepted) {
    if (candidate.toLowerCase() === lower) return candidate;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function list(values: readonly unknown[]): string {
  return values.map((value) => (typeof value === "string" ? `"${value}"` : String(value))).join(", ");
}

/**
 * Option checks bound to one factory's name, so every message reads
 * ``securityHeaders: option `hsts.maxAge` must be a non-negative integer, got -1.``
 * Each check returns the value (typed) or the fallback when the value is `undefined`.
 *
 * @example
 * const check = optionChecks("perfTiming");
 * const slowMs = check.number("slowMs", options.slowMs, 1000, { min: 0 });
 */
export function optionChecks(scope: string) {
  const fail = (option: string, expected: string, value: unknown): never => {
    throw new PalisadeConfigError(
      "ERR_PALISADE_INVALID_OPTION",
      option,
      `${scope}: option \`${option}\` must be ${expected}, got ${describeValue(value)}.`,
    );
  };

  return {
    scope,
    fail,

    /** Throws on a key that is not in `accepted`, suggesting the nearest accepted key. */
    knownKeys(value: object | undefined, accepted: readonly string[], prefix = ""): void {
      if (value === undefined) return;
      for (const key of Object.keys(value)) {
        if (accepted.includes(key)) continue;
        const option = `${prefix}${key}`;
        const near = suggest(key, accepted);
        const hint = near
          ? ` Did you mean \`${prefix}${near}\`?`
          : ` Accepted options: ${accepted.map((k) => `\`${prefix}${k}\``).join(", ")}.`;
        throw new PalisadeConfigError(
          "ERR_PALISADE_UNKNOWN_OPTION",
          option,
          `${scope}: unknown option \`${option}\`.${hint}`,
        );
      }
    },

    /** A plain object (or `undefined`), whose keys are then checked against `accepted`. */
    object<T extends object>(option: string, value: T | undefined, accepted: readonly string[]): T | undefined {
      if (value === undefined) return undefined;
      if (typeof value !== "object" || value === null || Array.isArray(value)) fail(option, "an object", value);
      this.knownKeys(value, accepted, option ? `${option}.` : "");
      return value;
    },

    oneOf<const L extends readonly (string | number | boolean)[]>(
      option: string,
      value: unknown,
      accepted: L,
      fallback: L[number],
    ): L[number] {
      if (value === undefined) return fallback;
      if (!accepted.includes(value as L[number])) fail(option, `one of ${list(accepted)}`, value);
      return value as L[number];
    },

    boolean(option: string, value: unknown, fallback: boolean): boolean {
      if (value === undefined) return fallback;
      if (typeof value !== "boolean") fail(option, "a boolean", value);
      return value as boolean;
    },

    number(
      option: string,
      value: unknown,
      fallback: number,
      { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, integer = false } = {},
    ): number {
      if (value === undefined) return fallback;
      const isNumber = typeof value === "number" && Number.isFinite(value);
      if (!isNumber || (integer && !Number.isInteger(value)) || value < min || value > max) {
        const kind = integer ? "integer" : "number";
        let expected: string;
        if (min === 0 && max === Number.POSITIVE_INFINITY) expected = `a non-negative ${kind}`;
        else if (min === 1 && max === Number.POSITIVE_INFINITY && integer) expected = "a positive integer";
        else if (max === Number.POSITIVE_INFINITY) expected = `a${integer ? "n" : ""} ${kind} of at least ${min}`;
        else if (min === Number.NEGATIVE_INFINITY) expected = `a${integer ? "n" : ""} ${kind} of at most ${max}`;
        else expected = `a${integer ? "n" : ""} ${kind} from ${min} to ${max}`;
        fail(option, expected, value);
      }
      return value as number;
    },

    string(option: string, value: unknown, fallback: string, { nonEmpty = true } = {}): string {
      if (value === undefined) return fallback;
      if (typeof value !== "string" || (nonEmpty && value.length === 0)) {
        fail(option, nonEmpty ? "a non-empty string" : "a string", value);
      }
      return value as string;
    },

    stringArray(option: string, value: unknown, fallback: readonly string[]): readonly string[] {
      if (value === undefined) return fallback;
      if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
        fail(option, "an array of strings", value);
      }
      return value as string[];
    },

    /** A function, or `fallback` (possibly `undefined`) when not passed. */
    func<F extends Function>(option: string, value: unknown, fallback?: F): F | undefined {
      if (value === undefined) return fallback;
      if (typeof value !== "function") fail(option, "a function", value);
      return value as F;
    },
  };
}

export type OptionChecks = ReturnType<typeof optionChecks>;
