import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  consoleLogger,
  emitSecurityEvent,
  isLogger,
  optionChecks,
  ownProperty,
  type PalisadeLogger,
  requestBag,
  sendProblem,
  warnOnce,
} from "@palisade/core";
import {
  CSRF_OPTION_NAMES,
  type CsrfOptions,
  type CsrfReason,
  HEADERLESS_POLICIES,
  type HeaderlessPolicy,
} from "./options.js";

const SCOPE = "csrfProtection";
const SOURCE = "@palisade/access-control";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const VARY_FIELDS = ["Sec-Fetch-Site", "Origin"];
const TOKEN_PATTERN = /^v1\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const ISSUER = Symbol.for("palisade.csrfIssuer");

type Next = (error?: unknown) => void;
type Issuer = (req: IncomingMessage, res: ServerResponse) => string;

/** The CSRF middleware and its instance API. */
export type CsrfMiddleware = ((req: IncomingMessage, res: ServerResponse, next: Next) => void) & {
  /** The token for this request's session, setting the cookie when a new one is issued. */
  token(req: IncomingMessage, res: ServerResponse): string;
};

/**
 * The CSRF token to embed in a form (`<input type="hidden" name="_csrf">`) or send in the
 * `x-csrf-token` header, from the `csrfProtection()` instance this request passed through.
 * Sets the cookie when it issues a new token. Throws when no instance handled the request.
 *
 * @example
 * app.get("/account", (req, res) => res.render("account", { csrf: csrfToken(req, res) }));
 */
export function csrfToken(req: IncomingMessage, res: ServerResponse): string {
  const issuer = requestBag(req)[ISSUER] as Issuer | undefined;
  if (!issuer) throw new Error("csrfToken(): the request did not pass through csrfProtection(); mount it first.");
  return issuer(req, res);
}

function appendVary(res: ServerResponse): void {
  const current = res.getHeader("Vary");
  if (current === undefined) {
    res.setHeader("Vary", "Sec-Fetch-Site, Origin");
    return;
  }
  const text = Array.isArray(current) ? current.join(", ") : String(current);
  if (text.trim() === "*") return;
  const present = new Set(text.split(",").map((field) => field.trim().toLowerCase()));
  const missing = VARY_FIELDS.filter((field) => !present.has(field.toLowerCase()));
  if (missing.length > 0) res.setHeader("Vary", text ? `${text}, ${missing.join(", ")}` : missing.join(", "));
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function appendSetCookie(res: ServerResponse, cookie: string): void {
  const current = res.getHeader("Set-Cookie");
  if (current === undefined) res.setHeader("Set-Cookie", cookie);
  else res.setHeader("Set-Cookie", [...(Array.isArray(current) ? current : [String(current)]), cookie]);
}

function originOf(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    return origin === "null" ? undefined : origin;
  } catch {
    return undefined;
  }
}

function ownOrigin(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (!host) return undefined;
  const expressProtocol = (req as { protocol?: unknown }).protocol;
  const protocol =
    typeof expressProtocol === "string"
      ? expressProtocol
      : (req.socket as { encrypted?: boolean } | undefined)?.encrypted
        ? "https"
        : "http";
  return originOf(`${protocol}://${host}`);
}

/**
 * Cross-site request forgery protection in OWASP's current order: Fetch Metadata
 * (`Sec-Fetch-Site`) first, then `Origin`/`Referer` against the request's own origin and
 * `allowedOrigins`, then, for clients that send none of these, a signed double-submit token
 * (HMAC bound to the session, `__Host-` cookie). Safe methods pass. Rejections are 403
 * problem+json with a `reason` and a `malicious_csrf` event.
 *
 * @example
 * const csrf = csrfProtection({
 *   secret: process.env.CSRF_SECRET,
 *   sessionId: (req) => req.session?.id,
 *   skip: (req) => /^Bearer /i.test(req.headers.authorization ?? ""),
 * });
 * app.use(express.urlencoded({ extended: false }), csrf);
 * app.get("/form", (req, res) => res.send(`<input type="hidden" name="_csrf" value="${csrfToken(req, res)}">`));
 */
export function csrfProtection(options: Readonly<CsrfOptions> = {}): CsrfMiddleware {
  const check = optionChecks(SCOPE);
  check.object("", options, CSRF_OPTION_NAMES);
  const allowed = new Set<string>();
  for (const [index, entry] of check.stringArray("allowedOrigins", options.allowedOrigins, []).entries()) {
    const origin = originOf(entry);
    if (!origin || origin !== entry.replace(/\/$/, "")) {
      check.fail(
        `allowedOrigins[${index}]`,
        'an origin like "https://app.example.com" (scheme, host, port only)',
        entry,
      );
    }
    allowed.add(origin!);
  }
  const allowSameSite = check.boolean("allowSameSite", options.allowSameSite, false);
  const sessionId = check.func<(req: IncomingMessage) => string | undefined>("sessionId", options.sessionId);
  const secretOption = options.secret;
  const secrets =
    secretOption === undefined
      ? undefined
      : typeof secretOption === "string"
        ? [secretOption]
        : check.stringArray("secret", secretOption, []);
  if (secrets !== undefined && (secrets.length === 0 || secrets.some((secret) => secret.length < 32))) {
    check.fail("secret", "a string of at least 32 characters, or a non-empty array of them", secretOption);
  }
  const keys = secrets ?? [randomBytes(32).toString("base64url")];
  const cookieName = check.string("cookieName", options.cookieName, "__Host-palisade-csrf");
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(cookieName)) check.fail("cookieName", "a cookie name token", cookieName);
  const headerName = check.string("headerName", options.headerName, "x-csrf-token").toLowerCase();
  const fieldName = check.string("fieldName", options.fieldName, "_csrf");
  const maxAgeMs = check.number("maxAgeMs", options.maxAgeMs, 86_400_000, { min: 1000, integer: true });
  const rotateAfterMs = check.number("rotateAfterMs", options.rotateAfterMs, 3_600_000, { min: 0, integer: true });
  if (rotateAfterMs >= maxAgeMs) {
    check.fail("rotateAfterMs", `less than \`maxAgeMs\` (${maxAgeMs})`, rotateAfterMs);
  }
  const headerlessOption = options.headerless;
  const headerless: (req: IncomingMessage) => HeaderlessPolicy =
    typeof headerlessOption === "function"
      ? headerlessOption
      : (
          (policy: HeaderlessPolicy) => () =>
            policy
        )(check.oneOf("headerless", headerlessOption, HEADERLESS_POLICIES, "token"));
  const skip = check.func<(req: IncomingMessage) => boolean>("skip", options.skip);
  const reportOnly = check.boolean("reportOnly", options.reportOnly, false);
  if (options.logger !== undefined && !isLogger(options.logger)) {
    check.fail("logger", "an object with a `warn(details, message)` method", options.logger);
  }
  const logger: PalisadeLogger = options.logger ?? consoleLogger;
  const warn = warnOnce(logger, SCOPE);
  const hostPrefixed = cookieName.startsWith("__Host-");
  const cookieSuffix = `; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}; SameSite=Strict${hostPrefixed ? "; Secure" : ""}`;

  const mac = (key: string, session: string, issued: string, nonce: string) =>
    createHmac("sha256", key).update(`${session}\n${issued}\n${nonce}`).digest("base64url");

  type Verdict = { ok: true; issuedAt: number } | { ok: false; reason: CsrfReason };

  function verify(token: string, session: string): Verdict {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return { ok: false, reason: "token-invalid" };
    const [, issued, nonce, signature] = match as unknown as [string, string, string, string];
    const given = Buffer.from(signature);
    const valid = keys.some((key) => {
      const expected = Buffer.from(mac(key, session, issued, nonce));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!valid) return { ok: false, reason: "token-invalid" };
    const issuedAt = Number.parseInt(issued, 36);
    if (!(Date.now() - issuedAt < maxAgeMs)) return { ok: false, reason: "token-expired" };
    return { ok: true, issuedAt };
  }

  const issuedFor = new WeakMap<IncomingMessage, string>();

  function issue(req: IncomingMessage, res: ServerResponse): string {
    const already = issuedFor.get(req);
    if (already) return already;
    if (secrets === undefined) {
      warn(
        "WRN_PALISADE_CSRF_EPHEMERAL_SECRET",
        "no `secret` given: tokens are signed with a random per-process secret and fail after a restart or on another instance. Pass `secret` (32+ characters) from your configuration.",
      );
    }
    const session = sessionId?.(req) ?? "";
    const current = readCookie(req, cookieName);
    if (current) {
      const verdict = verify(current, session);
      if (verdict.ok && Date.now() - verdict.issuedAt < rotateAfterMs) {
        issuedFor.set(req, current);
        return current;
      }
    }
    const issued = Date.now().toString(36);
    const nonce = randomBytes(16).toString("base64url");
    const token = `v1.${issued}.${nonce}.${mac(keys[0]!, session, issued, nonce)}`;
    appendSetCookie(res, `${cookieName}=${token}${cookieSuffix}`);
    issuedFor.set(req, token);
    return token;
  }

  function submittedToken(req: IncomingMessage): string | undefined {
    const header = req.headers[headerName];
    if (typeof header === "string" && header) return header;
    const body = ownProperty(req, "body");
    if (typeof body === "object" && body !== null) {
      const field = (body as Record<string, unknown>)[fieldName];
      if (typeof field === "string" && field) return field;
    }
    return undefined;
  }

  function checkToken(req: IncomingMessage): CsrfReason | undefined {
    const submitted = submittedToken(req);
    const cookie = readCookie(req, cookieName);
    if (!submitted || !cookie) return "token-missing";
    const session = sessionId?.(req);
    if (session === undefined || session === "") {
      // No session to bind to: the submitted token must be the cookie's (double submit), and
      // only this site can set a __Host- cookie.
      if (submitted !== cookie) return "token-mismatch";
      const verdict = verify(cookie, "");
      return verdict.ok ? undefined : verdict.reason;
    }
    // Bound to the session: any unexpired token of this session is good, so a rotated cookie
    // does not break a form still open in another tab.
    const fromRequest = verify(submitted, session);
    if (!fromRequest.ok) return fromRequest.reason;
    const fromCookie = verify(cookie, session);
    return fromCookie.ok ? undefined : fromCookie.reason;
  }

  function isAllowed(origin: string, req: IncomingMessage): boolean {
    return allowed.has(origin) || origin === ownOrigin(req);
  }

  function decide(req: IncomingMessage): CsrfReason | undefined {
    const site = req.headers["sec-fetch-site"];
    const origin = req.headers.origin;
    if (typeof site === "string") {
      if (site === "same-origin" || site === "none") return undefined;
      if (origin && allowed.has(origin)) return undefined;
      if (site === "same-site") return allowSameSite ? undefined : "same-site";
      return "cross-site";
    }
    if (origin !== undefined) return isAllowed(origin, req) ? undefined : "origin-mismatch";
    const referer = req.headers.referer;
    if (referer) {
      const refererOrigin = originOf(referer);
      return refererOrigin && isAllowed(refererOrigin, req) ? undefined : "referer-mismatch";
    }
    const policy = headerless(req);
    if (policy === "allow") return undefined;
    if (policy === "reject") return "no-origin";
    return checkToken(req);
  }

  const middleware = function csrfProtectionMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
    requestBag(req)[ISSUER] = issue;
    // Safe methods pass whatever Sec-Fetch-Site and Origin say, so their responses do not vary
    // on them (RFC 9110, 12.5.5); a Vary there would only split caches by origin.
    if (SAFE_METHODS.has(req.method ?? "GET")) {
      next();
      return;
    }
    let reason: CsrfReason | undefined;
    try {
      if (skip?.(req)) {
        next();
        return;
      }
      appendVary(res);
      reason = decide(req);
    } catch (error) {
      next(error);
      return;
    }
    if (reason === undefined) {
      next();
      return;
    }
    emitSecurityEvent(req, {
      name: "malicious_csrf",
      source: SOURCE,
      description: `Cross-site request ${reportOnly ? "reported" : "refused"}: ${reason}.`,
      detail: { reason, method: req.method, reportOnly },
    });
    if (reportOnly) {
      next();
      return;
    }
    sendProblem(res, 403, { title: "Forbidden", detail: "Cross-site request refused.", reason });
  } as CsrfMiddleware;
  middleware.token = issue;
  return middleware;
}
