import { randomFillSync } from "node:crypto";
import { type OptionChecks, PalisadeConfigError, suggest } from "@palisade/core";
import { CSP_DIRECTIVE_NAMES, CSP_KEYWORDS, type CspDirectives } from "./options.js";

/** A policy's directives in order; values never contain the nonce. */
export type DirectiveMap = ReadonlyMap<string, readonly string[]>;

/** Normalised additions: a source list to add, or `null` to remove the directive. */
export type DirectiveAdditions = ReadonlyMap<string, readonly string[] | null>;

export const CSP_HEADER = "Content-Security-Policy";
export const CSP_REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only";

/** One policy ready to send: the header split where the per-request nonce goes. */
export interface CompiledPolicy {
  readonly header: typeof CSP_HEADER | typeof CSP_REPORT_ONLY_HEADER;
  readonly directives: DirectiveMap;
  readonly nonce: boolean;
  /** The header value cut at each nonce position: `segments.join(nonce)` is the value. */
  readonly segments: readonly string[];
}

const VALUELESS = new Set(["upgrade-insecure-requests"]);
const NONCE_DIRECTIVES = ["script-src", "style-src"];
const SCRIPT_DIRECTIVES = new Set(["default-src", "script-src", "script-src-elem", "script-src-attr"]);
const UNSAFE_SCRIPT_KEYWORDS = new Set(["'unsafe-inline'", "'unsafe-eval'"]);
const HASH_OR_NONCE = /^'(?:nonce-[A-Za-z0-9+/_-]+={0,2}|sha(?:256|384|512)-[A-Za-z0-9+/_-]+={0,2})'$/;
const UNQUOTED_HASH_OR_NONCE = /^(?:nonce|sha256|sha384|sha512)-/;
const FORBIDDEN_CHARACTERS = /[\s;,'"]/;
const FALLBACK: Record<string, readonly string[]> = {
  "script-src-elem": ["script-src", "default-src"],
  "script-src-attr": ["script-src", "default-src"],
  "style-src-elem": ["style-src", "default-src"],
  "style-src-attr": ["style-src", "default-src"],
  "frame-src": ["child-src", "default-src"],
  "worker-src": ["child-src", "script-src", "default-src"],
};
const FETCH_DIRECTIVES = new Set([
  "script-src",
  "style-src",
  "img-src",
  "font-src",
  "connect-src",
  "media-src",
  "object-src",
  "child-src",
  "manifest-src",
  "frame-src",
  "worker-src",
  "script-src-elem",
  "script-src-attr",
  "style-src-elem",
  "style-src-attr",
]);

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

function keyword(value: string): string | undefined {
  const quoted = `'${value}'`;
  return (CSP_KEYWORDS as readonly string[]).includes(quoted) ? quoted : undefined;
}

function checkSource(check: OptionChecks, option: string, directive: string, source: unknown, allowUnsafe: boolean) {
  if (typeof source !== "string" || source.length === 0) check.fail(option, "an array of non-empty strings", source);
  const value = source as string;
  const quoted = keyword(value);
  if (quoted) check.fail(option, `${JSON.stringify(quoted)} (CSP keywords are single-quoted)`, value);
  if (UNQUOTED_HASH_OR_NONCE.test(value)) {
    check.fail(option, `${JSON.stringify(`'${value}'`)} (nonces and hashes are single-quoted)`, value);
  }
  if (value.startsWith("'")) {
    if (HASH_OR_NONCE.test(value)) return;
    if (!(CSP_KEYWORDS as readonly string[]).includes(value)) {
      const near = suggest(value, CSP_KEYWORDS);
      check.fail(option, near ? `a known CSP keyword such as ${JSON.stringify(near)}` : "a known CSP keyword", value);
    }
    if (!allowUnsafe && SCRIPT_DIRECTIVES.has(directive) && UNSAFE_SCRIPT_KEYWORDS.has(value)) {
      check.fail(
        option,
        `free of ${value} (it switches off CSP's script protection; set \`dangerouslyAllowUnsafeScripts: true\` to allow it)`,
        value,
      );
    }
    return;
  }
  if (FORBIDDEN_CHARACTERS.test(value)) check.fail(option, "one source without spaces, quotes, ';' or ','", value);
}

/**
 * Validates directives as written by a user: names (camelCase accepted), duplicates, and every
 * source. Throws `PalisadeConfigError` with ``scope: option `prefix.name` ...`` messages.
 */
export function normalizeDirectives(
  check: OptionChecks,
  prefix: string,
  raw: CspDirectives | undefined,
  allowUnsafe: boolean,
): DirectiveAdditions {
  const result = new Map<string, readonly string[] | null>();
  if (raw === undefined) return result;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) check.fail(prefix, "an object", raw);
  const written = new Map<string, string>();
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const name = kebab(key);
    const option = `${prefix}.${key}`;
    if (!(CSP_DIRECTIVE_NAMES as readonly string[]).includes(name)) {
      const near = suggest(key, CSP_DIRECTIVE_NAMES);
      const hint = near ? ` Did you mean \`${prefix}.${near}\`?` : " See the CSP directive list in the README.";
      throw new PalisadeConfigError(
        "ERR_PALISADE_UNKNOWN_OPTION",
        option,
        `${check.scope}: unknown CSP directive \`${option}\`.${hint}`,
      );
    }
    const earlier = written.get(name);
    if (earlier !== undefined) {
      throw new PalisadeConfigError(
        "ERR_PALISADE_CONFLICTING_OPTIONS",
        option,
        `${check.scope}: option \`${option}\` duplicates \`${prefix}.${earlier}\`; pass the directive once.`,
      );
    }
    written.set(name, key);
    if (value === null) {
      if (name === "default-src") check.fail(option, "a source list (a policy needs a default-src)", value);
      result.set(name, null);
      continue;
    }
    if (!Array.isArray(value)) check.fail(option, "an array of sources or null", value);
    if (VALUELESS.has(name) && value.length > 0) check.fail(option, "an empty array (it takes no sources)", value);
    const seen = new Set<string>();
    for (const source of value as unknown[]) {
      checkSource(check, option, name, source, allowUnsafe);
      if (seen.has(source as string)) check.fail(option, "a list that names each source once", source);
      seen.add(source as string);
    }
    if (seen.has("'none'") && seen.size > 1) {
      check.fail(option, `either ["'none'"] or a list of sources without "'none'"`, "'none'");
    }
    result.set(name, [...seen]);
  }
  return result;
}

/**
 * Extends `base` with `additions`: sources are added (dropping a `'none'`), `["'none'"]` replaces,
 * `null` removes. A fetch directive the base lacks starts from what it used to fall back to, so
 * adding `img-src https://cdn` to `default-src 'self'` keeps `'self'` for images.
 */
export function mergeDirectives(base: DirectiveMap, additions: DirectiveAdditions): Map<string, readonly string[]> {
  const merged = new Map(base);
  for (const [name, sources] of additions) {
    if (sources === null) {
      merged.delete(name);
      continue;
    }
    if (sources.length === 1 && sources[0] === "'none'") {
      merged.set(name, sources);
      continue;
    }
    let current = merged.get(name);
    if (current === undefined && FETCH_DIRECTIVES.has(name)) {
      for (const fallback of FALLBACK[name] ?? ["default-src"]) {
        current = merged.get(fallback);
        if (current) break;
      }
    }
    const next = new Set((current ?? []).filter((source) => source !== "'none'"));
    for (const source of sources) next.add(source);
    merged.set(name, next.size === 0 && !VALUELESS.has(name) ? ["'none'"] : [...next]);
  }
  return merged;
}

/** Serialises a policy once, leaving a cut where each `'nonce-...'` goes. */
export function compilePolicy(
  header: CompiledPolicy["header"],
  directives: DirectiveMap,
  nonce: boolean,
): CompiledPolicy {
  const segments: string[] = [];
  let current = "";
  let usesNonce = false;
  for (const [name, sources] of directives) {
    if (current) current += "; ";
    const withNonce = nonce && NONCE_DIRECTIVES.includes(name);
    // 'none' cannot sit beside a nonce: the nonce replaces it.
    const list = withNonce ? sources.filter((source) => source !== "'none'") : sources;
    current += list.length === 0 ? name : `${name} ${list.join(" ")}`;
    if (withNonce) {
      current += " 'nonce-";
      segments.push(current);
      current = "'";
      usesNonce = true;
    }
  }
  segments.push(current);
  return { header, directives, nonce: usesNonce, segments };
}

/** The header value for one response. */
export function renderPolicy(policy: CompiledPolicy, nonce: string): string {
  const segments = policy.segments;
  if (segments.length === 1) return segments[0]!;
  if (segments.length === 3) return segments[0]! + nonce + segments[1]! + nonce + segments[2]!;
  return segments.join(nonce);
}

/**
 * A per-instance source of CSP nonces: 144 random bits each (CSP asks for at least 128), as 24
 * base64 characters without padding. The CSPRNG fills a buffer for 256 nonces at once and it is
 * encoded in one go; each nonce is then a slice of that string (no per-request encoding).
 */
export function nonceSource(): () => string {
  const bytes = 18;
  const chars = 24;
  const count = 256;
  const pool = Buffer.allocUnsafe(bytes * count);
  let encoded = "";
  let index = count;
  return function nextNonce() {
    if (index === count) {
      randomFillSync(pool);
      encoded = pool.toString("base64");
      index = 0;
    }
    const start = index * chars;
    index++;
    return encoded.slice(start, start + chars);
  };
}

/** Parses a CSP header value into directives (lower-cased names, first occurrence wins). */
export function parsePolicy(value: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const part of value.split(";")) {
    const tokens = part.trim().split(/\s+/).filter(Boolean);
    const name = tokens.shift()?.toLowerCase();
    if (name && !result.has(name)) result.set(name, tokens);
  }
  return result;
}
