/** One aggregated `Server-Timing` metric of a request: every entry with the same name adds up. */
export interface SpanTotal {
  durationMs: number;
  count: number;
  description: string | undefined;
}

/** Distinct span names kept per request; further names are dropped (the header stays bounded). */
export const MAX_SPAN_NAMES = 20;

const NOT_TOKEN = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/g;
const NOT_PRINTABLE = /[^\x20-\x7e]/g;

/** A `Server-Timing` metric name: an RFC 9110 token of at most 64 characters. */
export function metricName(name: string): string {
  const token = name.replace(NOT_TOKEN, "_").slice(0, 64);
  return token.length > 0 ? token : "span";
}

/** A quoted-string for `desc`: printable ASCII only, at most 100 characters, `"` and `\` escaped. */
export function quoted(text: string): string {
  const clean = text.replace(NOT_PRINTABLE, "").slice(0, 100);
  return `"${clean.replace(/["\\]/g, "\\$&")}"`;
}

/** `name;dur=1.234;desc="..."` for every span, comma-separated, each preceded by `, `. */
export function spanEntries(spans: ReadonlyMap<string, SpanTotal>): string {
  let out = "";
  for (const [name, span] of spans) {
    out += `, ${name};dur=${span.durationMs.toFixed(3)}`;
    if (span.count > 1) out += `;desc="${span.count} calls"`;
    else if (span.description) out += `;desc=${quoted(span.description)}`;
  }
  return out;
}

/** Whether the headers argument of a `writeHead` call sets `name` (lower case). */
export function writeHeadSets(args: readonly unknown[], name: string): boolean {
  for (let i = 1; i < args.length; i++) {
    const headers = args[i];
    if (typeof headers !== "object" || headers === null) continue;
    if (Array.isArray(headers)) {
      for (let j = 0; j < headers.length; j++) {
        const item = headers[j];
        const key = Array.isArray(item) ? item[0] : j % 2 === 0 ? item : undefined;
        if (typeof key === "string" && key.toLowerCase() === name) return true;
      }
    } else {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return true;
    }
  }
  return false;
}
