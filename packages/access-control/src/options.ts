import type { IncomingMessage } from "node:http";
import type { PalisadeLogger, TrustedProxies } from "@palisade/core";

/** What to do with an unsafe request that carries neither `Sec-Fetch-Site`, `Origin` nor `Referer`. */
export const HEADERLESS_POLICIES = ["token", "allow", "reject"] as const;
export type HeaderlessPolicy = (typeof HEADERLESS_POLICIES)[number];

/** The machine-readable `reason` of a CSRF rejection (problem body and `malicious_csrf` event). */
export const CSRF_REASONS = [
  "cross-site",
  "same-site",
  "origin-mismatch",
  "referer-mismatch",
  "no-origin",
  "token-missing",
  "token-invalid",
  "token-expired",
  "token-mismatch",
] as const;
export type CsrfReason = (typeof CSRF_REASONS)[number];

export interface CsrfOptions {
  /** Origins besides the request's own that may send unsafe requests, e.g. `["https://admin.example.com"]`. Defaults to `[]`. */
  allowedOrigins?: readonly string[];
  /** Accept `Sec-Fetch-Site: same-site` (sibling subdomains). Defaults to `false`. */
  allowSameSite?: boolean;
  /**
   * The session a token is bound to (e.g. `(req) => req.session?.id`). Without a session
   * the token must equal the cookie (plain double submit). Defaults to `undefined` (no session).
   */
  sessionId?: (req: IncomingMessage) => string | undefined;
  /**
   * HMAC secret(s), each at least 32 characters; the first signs, all verify (rotate by
   * prepending). Defaults to a random secret per process, with a warning on first use.
   */
  secret?: string | readonly string[];
  /** Cookie carrying the token. A `__Host-` name is sent `Secure; Path=/` without `Domain`. Defaults to `"__Host-palisade-csrf"`. */
  cookieName?: string;
  /** Request header carrying the token. Defaults to `"x-csrf-token"`. */
  headerName?: string;
  /** Form field (parsed `req.body`) carrying the token. Defaults to `"_csrf"`. */
  fieldName?: string;
  /** `csrfToken()` issues a fresh token when the cookie's is older; older tokens stay valid (other tabs). Defaults to `3_600_000` (1 hour). */
  rotateAfterMs?: number;
  /** A token older than this is refused. Defaults to `86_400_000` (24 hours). */
  maxAgeMs?: number;
  /**
   * Unsafe requests with no `Sec-Fetch-Site`, `Origin` or `Referer` (old clients, server-to-server):
   * require a token, allow, or reject; a function decides per route. Defaults to `"token"`.
   */
  headerless?: HeaderlessPolicy | ((req: IncomingMessage) => HeaderlessPolicy);
  /**
   * Requests that are not CSRF-prone and skip every check, e.g. those authenticated by a bearer
   * token: `(req) => /^Bearer /i.test(req.headers.authorization ?? "")`. Defaults to `undefined`.
   */
  skip?: (req: IncomingMessage) => boolean;
  /** Report (event) but never refuse. Defaults to `false`. */
  reportOnly?: boolean;
  /** Receives `WRN_PALISADE_*` warnings. Defaults to `consoleLogger` from `@palisade/core`. */
  logger?: PalisadeLogger;
}

export const CSRF_OPTION_NAMES = [
  "allowedOrigins",
  "allowSameSite",
  "sessionId",
  "secret",
  "cookieName",
  "headerName",
  "fieldName",
  "rotateAfterMs",
  "maxAgeMs",
  "headerless",
  "skip",
  "reportOnly",
  "logger",
] as const;

/** The part of an Express app `ipAllowlist()` reads at construction. */
export interface AppLike {
  get(setting: string): unknown;
}

export interface IpAllowlistOptions {
  /**
   * Proxies trusted to name the client in `X-Forwarded-For`. Defaults to the Express app's
   * `trust proxy` (which must then not be `true`).
   */
  trustedProxies?: TrustedProxies;
  /** The Express app, so that a `trust proxy` of `true` is refused at construction rather than at the first request. Defaults to `undefined`. */
  app?: AppLike;
  /** Receives `WRN_PALISADE_*` warnings. Defaults to `consoleLogger` from `@palisade/core`. */
  logger?: PalisadeLogger;
}

export const IP_ALLOWLIST_OPTION_NAMES = ["trustedProxies", "app", "logger"] as const;
