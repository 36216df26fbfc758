import type { IncomingMessage } from "node:http";
import type { PalisadeLogger } from "@palisade/core";

/** The threat kinds a finding can carry. */
export const KINDS = [
  "sqli",
  "xss",
  "path-traversal",
  "command-injection",
  "nosql",
  "prototype-pollution",
  "crlf-injection",
  "ssti",
  "ldap-injection",
  "xxe",
  "code-injection",
] as const;
export type Kind = (typeof KINDS)[number];

/** The decoding layers, as named in `Finding.decodings`. */
export const DECODINGS = ["url", "html-entity", "escape", "unicode", "path", "sql-comment", "shell-quote"] as const;

/** Request parts `inspectRequest` walks. */
export const SOURCES = ["query", "body", "params", "cookies", "headers", "path"] as const;
export type Source = (typeof SOURCES)[number];

export const MODES = ["block", "report"] as const;
export type Mode = (typeof MODES)[number];

export const PARANOIA_LEVELS = [1, 2, 3, 4] as const;
export type ParanoiaLevel = (typeof PARANOIA_LEVELS)[number];

/** Field hints: validator.js checks that, when they pass, mark a field as positively validated. */
export const FIELD_HINTS = [
  "email",
  "isoDate",
  "date",
  "uuid",
  "int",
  "float",
  "numeric",
  "alphanumeric",
  "mongoId",
  "url",
  "ip",
  "phone",
  "slug",
  "jwt",
  "base64",
  "hexadecimal",
  "boolean",
] as const;
export type FieldHint = (typeof FIELD_HINTS)[number];

/** One detected threat in one string. */
export interface Finding {
  kind: Kind;
  /** Stable rule id, e.g. `sqli.string-break` or `xss.event-handler`. */
  rule: string;
  /** The lowest paranoia level (1-4) at which this rule is enabled. */
  paranoiaLevel: ParanoiaLevel;
  /** The matching part of the decoded input, at most 80 characters. */
  fragment: string;
  /** The decodings that exposed it, in order (`[]` when the raw value matched). */
  decodings: readonly string[];
  /** Where the string sat in the request (`body.notes`, `query["user[$ne]"]`); set by `inspectRequest`. */
  field?: string;
  /** Whether the string was a key (field name) rather than a value; set by `inspectRequest`. */
  key?: boolean;
}

export interface InspectOptions {
  /** Report rules up to this paranoia level (1: few false positives ... 4: aggressive). Defaults to `1`. */
  paranoiaLevel?: ParanoiaLevel;
  /** Only these kinds. Defaults to every kind. */
  kinds?: readonly Kind[];
  /** Whether the string is a field name rather than a value (keys get the NoSQL and prototype-pollution key rules). Defaults to `false`. */
  key?: boolean;
  /** Strings longer than this many characters are inspected only up to it. Defaults to `65536`. */
  maxLength?: number;
}

export interface InspectRequestOptions extends InspectOptions {
  /** Request parts to walk. Defaults to all of `query`, `body`, `params`, `cookies`, `headers`, `path`. */
  sources?: readonly Source[];
  /** Headers inspected (lower case). Defaults to `["user-agent", "referer", "x-forwarded-host", "x-forwarded-for", "origin"]`. */
  headers?: readonly string[];
  /** Deepest nesting walked in objects and arrays. Defaults to `32`. */
  maxDepth?: number;
  /** Most fields (keys plus values) walked per request. Defaults to `2000`. */
  maxFields?: number;
  /** Most characters inspected per request, over all fields. Defaults to `1048576`. */
  maxBytes?: number;
  /** Most characters inspected in one field; the rest of the field is skipped. Defaults to `65536`. */
  maxFieldBytes?: number;
  /** Field hints: `{ "body.email": "email" }`. A value that passes its check is not inspected further. Defaults to `{}`. */
  fields?: Readonly<Record<string, FieldHint>>;
}

/** The outcome of walking one request. */
export interface RequestInspection {
  findings: Finding[];
  /** Set when a cap was hit: the walk stopped early. */
  exceeded?: "depth" | "fields" | "bytes";
  /** Fields (keys and values) inspected. */
  fields: number;
  /** Characters inspected. */
  bytes: number;
  /** Field hints whose check failed: `{ field, hint }`. */
  hintFailures: { field: string; hint: FieldHint }[];
}

/** An allowlist entry: findings of these kinds in this field (and/or route) are ignored. */
export interface AllowEntry {
  /** Exact path (`/api/bookings`) or a prefix ending in `*` (`/api/*`). Defaults to every route. */
  route?: string;
  /** Field path as in findings (`body.notes`), or a prefix ending in `*` (`body.notes.*`). Defaults to every field. */
  field?: string;
  /** Kinds ignored. Defaults to every kind. */
  kinds?: readonly Kind[];
}

export interface InputSanitizerOptions {
  /** `block` answers 400 problem+json; `report` lets the request continue. Defaults to `"block"`. */
  mode?: Mode;
  /** Rules up to this level run. Defaults to `1`. */
  paranoiaLevel?: ParanoiaLevel;
  /** Kinds detected. Defaults to every kind. */
  kinds?: readonly Kind[];
  /** Request parts walked. Defaults to all. */
  sources?: readonly Source[];
  /** Headers inspected (lower case). Defaults to `["user-agent", "referer", "x-forwarded-host", "x-forwarded-for", "origin"]`. */
  headers?: readonly string[];
  /** Allowlist entries. Defaults to `[]`. */
  allow?: readonly AllowEntry[];
  /** Field hints checked with validator.js: `{ "body.email": "email", "query.date": "isoDate" }`. A failing check is reported as `input_validation_fail` (and blocks in block mode). Defaults to `{}`. */
  fields?: Readonly<Record<string, FieldHint>>;
  /** Deepest nesting walked; deeper input answers 400. Defaults to `32`. */
  maxDepth?: number;
  /** Most fields per request; more answers 413. Defaults to `2000`. */
  maxFields?: number;
  /** Most characters per request; more answers 413. Defaults to `1048576`. */
  maxBytes?: number;
  /** Most characters inspected per field. Defaults to `65536`. */
  maxFieldBytes?: number;
  /** Called once per request with findings (after the allowlist). Errors thrown are logged and ignored. Defaults to none. */
  onFinding?: (findings: readonly Finding[], req: IncomingMessage) => void;
  /** Detect attack-tool User-Agents (sqlmap, nikto, ...). Defaults to `true`. */
  detectAttackTools?: boolean;
  /** Bursts of 404s or findings from one client: `false` to switch off. Defaults to `{ max: 20, windowMs: 60000 }`. */
  burst?: false | { max?: number; windowMs?: number };
  /** Where warnings go. Defaults to a logger writing process warnings. */
  logger?: PalisadeLogger;
  /** Trusted proxies for the client address used in burst counting (see `@palisade/core` `compileTrust`). Defaults to `["loopback"]`. */
  trustProxy?: readonly string[];
}

export const DEFAULT_HEADERS = ["user-agent", "referer", "x-forwarded-host", "x-forwarded-for", "origin"] as const;

export const DEFAULTS = {
  mode: "block",
  paranoiaLevel: 1,
  maxDepth: 32,
  maxFields: 2000,
  maxBytes: 1_048_576,
  maxFieldBytes: 65_536,
  burstMax: 20,
  burstWindowMs: 60_000,
} as const;
