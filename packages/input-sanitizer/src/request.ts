import type { IncomingMessage } from "node:http";
import { optionChecks } from "@palisade/core";
import validator from "validator";
import { type CompiledInspect, compileInspect, inspectWith } from "./inspect.js";
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
  maxDepth: number;
  maxFields: number;
  maxBytes: number;
  maxFieldBytes: number;
  fields: ReadonlyMap<string, FieldHint>;
  /** Findings of recently seen header values (User-Agent strings repeat): bounded, per instance. */
  headerCache: Map<string, readonly Finding[]>;
}

const HEADER_CACHE_SIZE = 256;

const PHONE = /^\+?[\d\s().-]{5,30}$/;

/** The validator.js check behind each field hint. */
export const HINT_CHECKS: Readonly<Record<FieldHint, (value: string) => boolean>> = {
  email: (v) => validator.isEmail(v),
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
    maxDepth,
    maxFields,
    maxBytes,
    maxFieldBytes,
    fields,
    headerCache: new Map(),
  };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

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

/** Walks one request with compiled options; never modifies it. */
export function inspectRequestWith(req: IncomingMessage, compiled: CompiledRequest): RequestInspection {
  const r = req as RequestLike;
  const result: RequestInspection = { findings: [], fields: 0, bytes: 0, hintFailures: [] };
  const seenObjects = new Set<object>();

  const inspectString = (text: string, field: string, location: Location): boolean => {
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
    if (location !== "key") {
      const hint = compiled.fields.get(field);
      if (hint !== undefined) {
        if (HINT_CHECKS[hint](text)) return true;
        result.hintFailures.push({ field, hint });
      }
    }
    // Plain strings (ids, numbers, emails, identifier keys) provably match no rule.
    if (text.length <= compiled.inspect.maxLength && cannotMatch(text)) return true;
    let found: readonly Finding[];
    // Header values, paths and keys repeat across requests (User-Agent, routes, field names): cache their findings.
    if (location !== "value" && text.length <= 512) {
      const cacheKey = `${location}\u0000${text}`;
      const cached = compiled.headerCache.get(cacheKey);
      if (cached) found = cached;
      else {
        found = inspectWith(text, compiled.inspect, location);
        if (compiled.headerCache.size >= HEADER_CACHE_SIZE) {
          compiled.headerCache.delete(compiled.headerCache.keys().next().value!);
        }
        compiled.headerCache.set(cacheKey, found);
      }
    } else found = inspectWith(text, compiled.inspect, location);
    for (const finding of found)
      result.findings.push({ ...finding, field, ...(location === "key" ? { key: true } : {}) });
    return true;
  };

  const walk = (value: unknown, field: string, depth: number, parentKey: string | undefined): boolean => {
    if (result.exceeded) return false;
    if (typeof value === "string") return inspectString(value, field, "value");
    if (typeof value !== "object" || value === null) return true;
    if (depth > compiled.maxDepth) {
      result.exceeded = "depth";
      return false;
    }
    if (seenObjects.has(value)) return true;
    seenObjects.add(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++)
        if (!walk(value[i], fieldPath(field, i), depth + 1, undefined)) return false;
      return true;
    }
    if (Buffer.isBuffer(value)) return true;
    for (const key of Object.keys(value)) {
      const path = fieldPath(field, key);
      if (!inspectString(key, path, "key")) return false;
      if (key === "prototype" && parentKey === "constructor" && compiled.inspect.kinds.has("prototype-pollution")) {
        result.findings.push({
          kind: "prototype-pollution",
          rule: "proto.key",
          paranoiaLevel: 1,
          fragment: "constructor.prototype",
          decodings: [],
          field: path,
          key: true,
        });
      }
      if (!walk((value as Record<string, unknown>)[key], path, depth + 1, key)) return false;
    }
    return true;
  };

  const s = compiled.sources;
  if (s.has("path") && !inspectString(rawPath(r), "path", "path")) return result;
  if (s.has("query")) {
    const query = typeof r.query === "object" && r.query !== null ? r.query : rawQuery(r);
    if (!walk(query, "query", 1, undefined)) return result;
  }
  if (s.has("params") && !walk(r.params, "params", 1, undefined)) return result;
  if (s.has("body") && !walk(r.body, "body", 1, undefined)) return result;
  if (s.has("cookies")) {
    const cookies = typeof r.cookies === "object" && r.cookies !== null ? r.cookies : parseCookies(req.headers.cookie);
    if (!walk(cookies, "cookies", 1, undefined)) return result;
  }
  if (s.has("headers")) {
    for (const name of compiled.headers) {
      const value = req.headers[name];
      const text = Array.isArray(value) ? value.join(", ") : value;
      if (typeof text === "string" && !inspectString(text, fieldPath("headers", name), "header")) return result;
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
