import type { IncomingMessage } from "node:http";
import { optionChecks, ownProperty } from "@palisade/core";
import validator from "validator";
import { type CompiledInspect, compileInspect, inspectRules, inspectWith } from "./inspect.js";
import {
  DEFAULT_HEADERS,
  DEFAULTS,
  FIELD_HINTS,
  type FieldHint,
  type Finding,
  type InspectRequestOptions,
  type RequestInspection,
  SOURCES,
  type Source,
} from "./options.js";
import { cannotMatch } from "./prefilter.js";
import type { Location } from "./rules.js";

/** `inspectRequest` options, validated once. */
export interface CompiledRequest {
  inspect: CompiledInspect;
  sources: ReadonlySet<Source>;
  headers: readonly string[];
  /** `headers.<name>` for each of `headers`. */
  headerFields: readonly string[];
  maxDepth: number;
  maxFields: number;
  maxBytes: number;
  maxFieldBytes: number;
  fields: ReadonlyMap<string, FieldHint>;
  /** The last key of each hinted field path; undefined when one could not be read (every path is then looked up). */
  hintKeys: ReadonlySet<string | number> | undefined;
  /** Findings of recently seen header values (User-Agent strings repeat): bounded, per instance. */
  headerCache: Map<string, readonly Finding[]>;
  /** The same for keys and for paths. */
  keyCache: Map<string, readonly Finding[]>;
  pathCache: Map<string, readonly Finding[]>;
}

/** Entries of each findings cache. */
const CACHE_SIZE = 256;

const PHONE = /^\+?[\d\s().-]{5,30}$/;
// Characters of an address: 1 letter, 2 digit or "-", 3 other atom characters (`_` and `!#$%&'*+/=?^\`{|}~`).
const EMAIL_CHAR = new Uint8Array(128);
for (let c = 65; c <= 90; c++) EMAIL_CHAR[c] = EMAIL_CHAR[c + 32] = 1;
for (const c of "0123456789-") EMAIL_CHAR[c.charCodeAt(0)] = 2;
for (const c of "_!#$%&'*+/=?^`{|}~") EMAIL_CHAR[c.charCodeAt(0)] = 3;

/**
 * Whether `v` is a plain ASCII address that validator's isEmail (default options) accepts by
 * construction: at most 254 characters, one "@" after 1-64 characters of dot-separated atoms,
 * and a domain of 1-63 character labels of letters, digits and inner hyphens whose last label
 * (the TLD) is 2-63 letters. It spares isEmail's option merging and splitting; a string this
 * scan does not accept still goes to isEmail.
 */
function plainEmail(v: string): boolean {
  const at = v.indexOf("@");
  if (v.length > 254 || at < 1 || at > 64) return false;
  for (let i = 0; i < at; i++) {
    const c = v.charCodeAt(i);
    if (c === 46) {
      // No dot at either end of the local part, no empty atom.
      if (i === 0 || i === at - 1 || v.charCodeAt(i - 1) === 46) return false;
    } else if (c >= 128 || EMAIL_CHAR[c] === 0) return false;
  }
  let labels = 0;
  let start = at + 1;
  let letters = true;
  for (let i = start; i <= v.length; i++) {
    const c = i === v.length ? 46 : v.charCodeAt(i);
    if (c === 46) {
      const length = i - start;
      if (length < 1 || length > 63 || v.charCodeAt(start) === 45 || v.charCodeAt(i - 1) === 45) return false;
      labels++;
      if (i === v.length) return labels >= 2 && letters && length >= 2;
      start = i + 1;
      letters = true;
      continue;
    }
    const kind = c < 128 ? EMAIL_CHAR[c]! : 0;
    if (kind === 0 || kind === 3) return false;
    if (kind !== 1) letters = false;
  }
  return false;
}

/** The validator.js check behind each field hint. */
export const HINT_CHECKS: Readonly<Record<FieldHint, (value: string) => boolean>> = {
  email: (v) => plainEmail(v) || validator.isEmail(v),
  isoDate: (v) => validator.isISO8601(v),
  date: (v) => validator.isDate(v) || validator.isISO8601(v),
  uuid: (v) => validator.isUUID(v),
  int: (v) => validator.isInt(v),
  float: (v) => validator.isFloat(v),
  numeric: (v) => validator.isNumeric(v),
  alphanumeric: (v) => validator.isAlphanumeric(v),
  mongoId: (v) => validator.isMongoId(v),
  url: (v) => validator.isURL(v, { protocols: ["http", "https"], require_protocol: true }),
  ip: (v) => validator.isIP(v),
  phone: (v) => PHONE.test(v),
  slug: (v) => validator.isSlug(v),
  jwt: (v) => validator.isJWT(v),
  base64: (v) => validator.isBase64(v),
  hexadecimal: (v) => validator.isHexadecimal(v),
  boolean: (v) => validator.isBoolean(v),
};

export const REQUEST_KEYS = [
  "paranoiaLevel",
  "kinds",
  "key",
  "maxLength",
  "sources",
  "headers",
  "maxDepth",
  "maxFields",
  "maxBytes",
  "maxFieldBytes",
  "fields",
] as const;

export function compileRequest(scope: string, options: Readonly<InspectRequestOptions>): CompiledRequest {
  const check = optionChecks(scope);
  const sources = check.stringArray("sources", options.sources, SOURCES);
  for (const source of sources) check.oneOf("sources", source, SOURCES, "query");
  const headers = check.stringArray("headers", options.headers, DEFAULT_HEADERS).map((h) => h.toLowerCase());
  const maxDepth = check.number("maxDepth", options.maxDepth, DEFAULTS.maxDepth, { min: 1, integer: true });
  const maxFields = check.number("maxFields", options.maxFields, DEFAULTS.maxFields, { min: 1, integer: true });
  const maxBytes = check.number("maxBytes", options.maxBytes, DEFAULTS.maxBytes, { min: 1, integer: true });
  const maxFieldBytes = check.number("maxFieldBytes", options.maxFieldBytes, DEFAULTS.maxFieldBytes, {
    min: 1,
    integer: true,
  });
  const fields = new Map<string, FieldHint>();
  if (options.fields !== undefined) {
    if (typeof options.fields !== "object" || options.fields === null || Array.isArray(options.fields)) {
      check.fail("fields", "an object of field paths to hints", options.fields);
    }
    for (const [field, hint] of Object.entries(options.fields)) {
      fields.set(field, check.oneOf(`fields.${field}`, hint, FIELD_HINTS, "email") as FieldHint);
    }
  }
  return {
    inspect: compileInspect(scope, { ...options, maxLength: options.maxLength ?? maxFieldBytes }),
    sources: new Set(sources as readonly Source[]),
    headers,
    headerFields: headers.map((name) => fieldPath("headers", name)),
    maxDepth,
    maxFields,
    maxBytes,
    maxFieldBytes,
    fields,
    hintKeys: lastKeys(fields.keys()),
    headerCache: new Map(),
    keyCache: new Map(),
    pathCache: new Map(),
  };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * The key `fieldPath` put last in each path (`email` in `body.client.email`, `0` in `items[0]`,
 * `user[$ne]` in `query["user[$ne]"]`), or undefined when a path is not one it can produce.
 */
function lastKeys(paths: Iterable<string>): Set<string | number> | undefined {
  const keys = new Set<string | number>();
  for (const path of paths) {
    let key: string | number | undefined;
    if (path.endsWith('"]')) {
      // A JSON string cannot contain `["`: the last one opens the key.
      const open = path.lastIndexOf('["');
      try {
        key = open < 0 ? undefined : (JSON.parse(path.slice(open + 1, -1)) as unknown as string);
      } catch {
        key = undefined;
      }
      if (typeof key !== "string" || fieldPath(path.slice(0, open), key) !== path) return undefined;
    } else if (path.endsWith("]")) {
      const open = path.lastIndexOf("[");
      key = Number(path.slice(open + 1, -1));
      if (open < 0 || !Number.isInteger(key) || fieldPath(path.slice(0, open), key) !== path) return undefined;
    } else {
      const dot = path.lastIndexOf(".");
      key = path.slice(dot + 1);
      if (dot < 0) continue;
      if (fieldPath(path.slice(0, dot), key) !== path) return undefined;
    }
    keys.add(key);
  }
  return keys;
}

/** `body.notes`, `query["user[$ne]"]`, `body.items[0]`. */
export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

type RequestLike = IncomingMessage & {
  originalUrl?: string;
  query?: unknown;
  body?: unknown;
  params?: unknown;
  cookies?: unknown;
  path?: string;
};

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !Object.hasOwn(out, name)) out[name] = part.slice(eq + 1).trim();
  }
  return out;
}

function rawPath(req: RequestLike): string {
  const url = req.originalUrl ?? req.url ?? "/";
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

function rawQuery(req: RequestLike): Record<string, string> {
  const url = req.originalUrl ?? req.url ?? "/";
  const q = url.indexOf("?");
  const out: Record<string, string> = {};
  if (q < 0) return out;
  for (const [k, v] of new URLSearchParams(url.slice(q + 1))) if (!Object.hasOwn(out, k)) out[k] = v;
  return out;
}

/** The state of one walk: module functions instead of closures made per request. */
interface Walk {
  compiled: CompiledRequest;
  result: RequestInspection;
  /** Objects already walked (shared or cyclic references): a short list, a set once it grows. */
  seen: object[];
  seenSet: Set<object> | undefined;
}

const SEEN_LIST_MAX = 16;

/** Whether `value` was walked before; marks it walked. */
function alreadySeen(walk: Walk, value: object): boolean {
  if (walk.seenSet !== undefined) {
    if (walk.seenSet.has(value)) return true;
    walk.seenSet.add(value);
    return false;
  }
  if (walk.seen.includes(value)) return true;
  walk.seen.push(value);
  if (walk.seen.length > SEEN_LIST_MAX) walk.seenSet = new Set(walk.seen);
  return false;
}

function cacheFor(compiled: CompiledRequest, location: Location): Map<string, readonly Finding[]> {
  return location === "key" ? compiled.keyCache : location === "path" ? compiled.pathCache : compiled.headerCache;
}

const NOTHING: readonly Finding[] = Object.freeze([]);

/**
 * `inspectWith`, answering NOTHING for plain strings (ids, numbers, emails, identifier keys: they
 * provably match no rule) and running the pre-filter once.
 */
function inspectUnlessPlain(text: string, compiled: CompiledInspect, location: Location): readonly Finding[] {
  if (text.length > compiled.maxLength) return inspectWith(text, compiled, location);
  return cannotMatch(text, location !== "key") ? NOTHING : inspectRules(text, compiled, location);
}

/**
 * Inspects one string. Its field path is `parent` itself when `key` is undefined, else
 * `fieldPath(parent, key)`, built only when needed (a field hint may name it, or a finding).
 */
function inspectString(
  walk: Walk,
  text: string,
  parent: string,
  key: string | number | undefined,
  location: Location,
): boolean {
  const { compiled, result } = walk;
  result.fields++;
  if (result.fields > compiled.maxFields) {
    result.exceeded = "fields";
    return false;
  }
  const length = Math.min(text.length, compiled.maxFieldBytes);
  result.bytes += length;
  if (result.bytes > compiled.maxBytes) {
    result.exceeded = "bytes";
    return false;
  }
  if (
    location !== "key" &&
    compiled.fields.size > 0 &&
    (key === undefined || compiled.hintKeys === undefined || compiled.hintKeys.has(key))
  ) {
    const field = key === undefined ? parent : fieldPath(parent, key);
    const hint = compiled.fields.get(field);
    if (hint !== undefined) {
      if (HINT_CHECKS[hint](text)) return true;
      result.hintFailures.push({ field, hint });
    }
  }
  let found: readonly Finding[];
  // Header values, paths and keys repeat across requests (User-Agent, routes, field names): cache their findings.
  if (location !== "value" && text.length <= 512) {
    const cache = cacheFor(compiled, location);
    const cached = cache.get(text);
    if (cached !== undefined) found = cached;
    else {
      found = inspectUnlessPlain(text, compiled.inspect, location);
      if (found === NOTHING) return true;
      if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(text, found);
    }
  } else {
    found = inspectUnlessPlain(text, compiled.inspect, location);
    if (found === NOTHING) return true;
  }
  if (found.length === 0) return true;
  const field = key === undefined ? parent : fieldPath(parent, key);
  for (let i = 0; i < found.length; i++) {
    const finding = found[i]!;
    result.findings.push(location === "key" ? { ...finding, field, key: true } : { ...finding, field });
  }
  return true;
}

/** Walks `value`, whose field path is `parent` when `key` is undefined, else `fieldPath(parent, key)`. */
function walkValue(
  walk: Walk,
  value: unknown,
  parent: string,
  key: string | number | undefined,
  depth: number,
): boolean {
  const { compiled, result } = walk;
  if (result.exceeded) return false;
  if (typeof value === "string") return inspectString(walk, value, parent, key, "value");
  if (typeof value !== "object" || value === null) return true;
  if (depth > compiled.maxDepth) {
    result.exceeded = "depth";
    return false;
  }
  if (alreadySeen(walk, value)) return true;
  const field = key === undefined ? parent : fieldPath(parent, key);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!walkValue(walk, value[i], field, i, depth + 1)) return false;
    return true;
  }
  if (Buffer.isBuffer(value)) return true;
  const keys = Object.keys(value);
  for (let k = 0; k < keys.length; k++) {
    const name = keys[k]!;
    if (!inspectString(walk, name, field, name, "key")) return false;
    if (name === "prototype" && key === "constructor" && compiled.inspect.kinds.has("prototype-pollution")) {
      result.findings.push({
        kind: "prototype-pollution",
        rule: "proto.key",
        paranoiaLevel: 1,
        fragment: "constructor.prototype",
        decodings: [],
        field: fieldPath(field, name),
        key: true,
      });
    }
    if (!walkValue(walk, (value as Record<string, unknown>)[name], field, name, depth + 1)) return false;
  }
  return true;
}

/** Walks one request with compiled options; never modifies it. */
export function inspectRequestWith(req: IncomingMessage, compiled: CompiledRequest): RequestInspection {
  const r = req as RequestLike;
  const result: RequestInspection = { findings: [], fields: 0, bytes: 0, hintFailures: [] };
  const walk: Walk = { compiled, result, seen: [], seenSet: undefined };
  const s = compiled.sources;
  if (s.has("path") && !inspectString(walk, rawPath(r), "path", undefined, "path")) return result;
  if (s.has("query")) {
    // One read: Express 5 parses the query string again on every read of `req.query`.
    const parsed = r.query;
    const query = typeof parsed === "object" && parsed !== null ? parsed : rawQuery(r);
    if (!walkValue(walk, query, "query", undefined, 1)) return result;
  }
  if (s.has("params") && !walkValue(walk, r.params, "params", undefined, 1)) return result;
  // Own properties only, as a body parser and cookie-parser set them: usually absent on a GET,
  // and a read of a missing property on an Express request costs a prototype walk.
  if (s.has("body") && !walkValue(walk, ownProperty(r, "body"), "body", undefined, 1)) return result;
  if (s.has("cookies")) {
    const parsed = ownProperty(r, "cookies");
    const cookies = typeof parsed === "object" && parsed !== null ? parsed : parseCookies(req.headers.cookie);
    if (!walkValue(walk, cookies, "cookies", undefined, 1)) return result;
  }
  if (s.has("headers")) {
    const headers = req.headers;
    for (let h = 0; h < compiled.headers.length; h++) {
      const value = headers[compiled.headers[h]!];
      const text = Array.isArray(value) ? value.join(", ") : value;
      if (typeof text === "string" && !inspectString(walk, text, compiled.headerFields[h]!, undefined, "header"))
        return result;
    }
  }
  return result;
}

/**
 * Walks a request's query, body, params, cookies, selected headers and path (keys as well as
 * values) and returns the findings, each with its field path. Stops at the depth, field and
 * byte caps and says which one it hit. Reads the request; never writes to it.
 *
 * @example
 * import { inspectRequest } from "@palisade/input-sanitizer";
 * app.post("/api/search", (req, res) => {
 *   const { findings } = inspectRequest(req, { sources: ["body"] });
 *   res.json({ suspicious: findings.map((f) => f.field) });
 * });
 */
export function inspectRequest(req: IncomingMessage, options: Readonly<InspectRequestOptions> = {}): RequestInspection {
  optionChecks("inspectRequest").knownKeys(options, REQUEST_KEYS);
  return inspectRequestWith(req, compileRequest("inspectRequest", options));
}
