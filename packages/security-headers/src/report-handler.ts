import type { IncomingMessage, ServerResponse } from "node:http";
import {
  clientIp,
  compileTrust,
  emitSecurityEvent,
  optionChecks,
  sendProblem,
  type TrustedProxies,
  type TrustFunction,
} from "@palisade/core";

/** One CSP violation, whichever format the browser sent it in. URLs lose their query and fragment. */
export interface CspViolation {
  /** `report-uri` (`application/csp-report`) or `report-to` (`application/reports+json`). */
  format: "csp-report" | "reports+json";
  documentURL?: string;
  blockedURL?: string;
  effectiveDirective?: string;
  /** `enforce` or `report` (from a Report-Only policy). */
  disposition?: string;
  sourceFile?: string;
  lineNumber?: number;
  columnNumber?: number;
  statusCode?: number;
  /** The first characters of the blocked inline code, when the policy has `'report-sample'`. */
  sample?: string;
}

export interface CspReportHandlerOptions {
  /** Largest accepted body, in bytes; larger ones get 413. Defaults to `16384`. */
  maxBodyBytes?: number;
  /** Reports accepted per client per window; more get 429. Defaults to `30`. */
  maxReportsPerWindow?: number;
  /** The rate-limit window, in milliseconds. Defaults to `60000`. */
  windowMs?: number;
  /** Clients tracked per window; new clients beyond it get 429 until the window ends. Defaults to `10000`. */
  maxClients?: number;
  /** Proxies trusted to name the client in `X-Forwarded-For`. Defaults to the app's `trust proxy` setting. */
  trustedProxies?: TrustedProxies;
  /** Called with each violation after the security event is emitted. Defaults to `undefined`. */
  onViolation?: (violation: CspViolation, req: IncomingMessage) => void;
}

const OPTION_KEYS = [
  "maxBodyBytes",
  "maxReportsPerWindow",
  "windowMs",
  "maxClients",
  "trustedProxies",
  "onViolation",
] as const;
const CONTENT_TYPES = ["application/csp-report", "application/reports+json", "application/json"];
const MAX_REPORTS_PER_BODY = 50;
const MAX_STRING = 512;

type WithBody = IncomingMessage & { body?: unknown };
type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function text(value: unknown, url = false): string | undefined {
  if (typeof value !== "string" || value.length === 0) return undefined;
  let result = value;
  if (url) {
    const cut = result.search(/[?#]/);
    if (cut !== -1) result = result.slice(0, cut);
  }
  return result.length > MAX_STRING ? result.slice(0, MAX_STRING) : result;
}

function integer(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}

function compact(violation: CspViolation): CspViolation {
  for (const key of Object.keys(violation) as (keyof CspViolation)[]) {
    if (violation[key] === undefined) delete violation[key];
  }
  return violation;
}

/** Normalises a parsed body of either format; `undefined` when it is neither. */
export function parseCspReports(body: unknown): CspViolation[] | undefined {
  if (isObject(body) && isObject(body["csp-report"])) {
    const report = body["csp-report"];
    return [
      compact({
        format: "csp-report",
        documentURL: text(report["document-uri"], true),
        blockedURL: text(report["blocked-uri"], true),
        effectiveDirective: text(report["effective-directive"]) ?? text(report["violated-directive"]),
        disposition: text(report.disposition),
        sourceFile: text(report["source-file"], true),
        lineNumber: integer(report["line-number"]),
        columnNumber: integer(report["column-number"]),
        statusCode: integer(report["status-code"]),
        sample: text(report["script-sample"]),
      }),
    ];
  }
  if (Array.isArray(body)) {
    const violations: CspViolation[] = [];
    for (const entry of body.slice(0, MAX_REPORTS_PER_BODY)) {
      if (!isObject(entry) || !isObject(entry.body)) return undefined;
      if (entry.type !== "csp-violation") continue;
      const report = entry.body;
      violations.push(
        compact({
          format: "reports+json",
          documentURL: text(report.documentURL, true) ?? text(entry.url, true),
          blockedURL: text(report.blockedURL, true),
          effectiveDirective: text(report.effectiveDirective),
          disposition: text(report.disposition),
          sourceFile: text(report.sourceFile, true),
          lineNumber: integer(report.lineNumber),
          columnNumber: integer(report.columnNumber),
          statusCode: integer(report.statusCode),
          sample: text(report.sample),
        }),
      );
    }
    return violations;
  }
  return undefined;
}

function readBody(
  req: IncomingMessage,
  maxBytes: number,
  done: (error: "too-large" | "aborted" | null, body?: string) => void,
) {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (error: "too-large" | "aborted" | null, body?: string) => {
    if (finished) return;
    finished = true;
    req.off("data", onData);
    req.off("end", onEnd);
    req.off("error", onError);
    req.off("aborted", onError);
    done(error, body);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) finish("too-large");
    else chunks.push(chunk);
  };
  const onEnd = () => finish(null, Buffer.concat(chunks).toString("utf8"));
  const onError = () => finish("aborted");
  req.on("data", onData);
  req.on("end", onEnd);
  req.on("error", onError);
  req.on("aborted", onError);
}

/**
 * Receives CSP violation reports in both formats browsers send (`application/csp-report` from
 * `report-uri`, `application/reports+json` from `report-to`), bounded in size and rate-limited per
 * client, and emits a `malicious_csp_violation` security event per violation through
 * `@palisade/core` (the audit log records it). Answers 204; 400, 405, 413, 415 and 429 as
 * `application/problem+json`.
 *
 * @example
 * app.post("/csp-report", cspReportHandler());
 * app.use(securityHeaders({ reporting: { endpoint: "/csp-report" } }));
 */
export function cspReportHandler(options: Readonly<CspReportHandlerOptions> = {}) {
  const check = optionChecks("cspReportHandler");
  check.knownKeys(options, OPTION_KEYS);
  const maxBytes = check.number("maxBodyBytes", options.maxBodyBytes, 16_384, { min: 1, integer: true });
  const max = check.number("maxReportsPerWindow", options.maxReportsPerWindow, 30, { min: 1, integer: true });
  const windowMs = check.number("windowMs", options.windowMs, 60_000, { min: 1, integer: true });
  const maxClients = check.number("maxClients", options.maxClients, 10_000, { min: 1, integer: true });
  const trust: TrustFunction | undefined =
    options.trustedProxies === undefined
      ? undefined
      : compileTrust(options.trustedProxies, "trustedProxies", "cspReportHandler");
  const onViolation = check.func<NonNullable<CspReportHandlerOptions["onViolation"]>>(
    "onViolation",
    options.onViolation,
  );
  const retryAfter = String(Math.ceil(windowMs / 1000));

  const hits = new Map<string, number>();
  let windowStart = Date.now();
  const take = (client: string): number => {
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      hits.clear();
      windowStart = now;
    }
    const previous = hits.get(client);
    if (previous === undefined && hits.size >= maxClients) return max + 1;
    const count = (previous ?? 0) + 1;
    hits.set(client, count);
    return count;
  };

  const accept = (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    const violations = parseCspReports(body);
    if (violations === undefined) {
      sendProblem(res, 400, { detail: "Expected a CSP report (csp-report object or reports+json array)." });
      return;
    }
    for (const violation of violations) {
      emitSecurityEvent(req, {
        name: "malicious_csp_violation",
        level: "WARN",
        source: "@palisade/security-headers",
        description: "The browser blocked or reported content that violates the Content-Security-Policy.",
        detail: { ...violation },
      });
      try {
        onViolation?.(violation, req);
      } catch {
        // A failing callback must not turn a report into an error response.
      }
    }
    res.statusCode = 204;
    res.end();
  };

  return function cspReportHandlerMiddleware(req: IncomingMessage, res: ServerResponse, _next: (e?: unknown) => void) {
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      sendProblem(res, 405, { detail: "CSP reports are sent with POST." });
      return;
    }
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (!CONTENT_TYPES.includes(type)) {
      sendProblem(res, 415, { detail: "Expected application/csp-report or application/reports+json." });
      return;
    }
    const count = take(clientIp(req, trust));
    if (count > max) {
      if (count === max + 1) {
        emitSecurityEvent(req, {
          name: "excess_rate_limit_exceeded",
          source: "@palisade/security-headers",
          description: "Too many CSP reports from one client.",
          detail: { limit: max, windowMs },
        });
      }
      res.setHeader("Retry-After", retryAfter);
      sendProblem(res, 429, { detail: "Too many reports; try again later." });
      return;
    }
    const parsed = (req as WithBody).body;
    if (req.readableEnded && parsed !== undefined) {
      // A body parser already read it (express.json for application/json).
      if (Buffer.isBuffer(parsed) || typeof parsed === "string") {
        if (parsed.length > maxBytes) {
          sendProblem(res, 413, { detail: `Reports are limited to ${maxBytes} bytes.` });
          return;
        }
        try {
          accept(req, res, JSON.parse(parsed.toString()));
        } catch {
          sendProblem(res, 400, { detail: "The report is not valid JSON." });
        }
        return;
      }
      accept(req, res, parsed);
      return;
    }
    const declared = Number(req.headers["content-length"]);
    if (declared > maxBytes) {
      res.setHeader("Connection", "close");
      sendProblem(res, 413, { detail: `Reports are limited to ${maxBytes} bytes.` });
      return;
    }
    readBody(req, maxBytes, (error, raw) => {
      if (error === "too-large") {
        res.setHeader("Connection", "close");
        sendProblem(res, 413, { detail: `Reports are limited to ${maxBytes} bytes.` });
        req.resume();
        return;
      }
      // The client went away: there is nobody to answer.
      if (error) return;
      let body: unknown;
      try {
        body = JSON.parse(raw!);
      } catch {
        sendProblem(res, 400, { detail: "The report is not valid JSON." });
        return;
      }
      accept(req, res, body);
    });
  };
}
