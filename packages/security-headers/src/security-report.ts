import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { optionChecks } from "@palisade/core";
import { type Grade, type GradedTest, gradeHeaders, type TransportFacts } from "./grade.js";
import type { EffectiveHeaders, SecurityHeadersMiddleware } from "./security-headers.js";

export interface SecurityReportOptions extends TransportFacts {
  /** The request asking for the report: `https` is read from it when not given (`req.secure` or a TLS socket). */
  req?: IncomingMessage;
}

/** One mounted `securityHeaders()` instance, as `GET /security` shows it. */
export interface PolicyReport extends EffectiveHeaders {
  /** The Observatory-rule grade of the headers alone (meaningful on localhost over plain HTTP). */
  grade: Grade;
  /** The grade with HSTS and redirection scored from the transport facts. */
  withTransport: Grade;
}

export interface SecurityReport {
  generatedAt: string;
  /** The rules the grades follow. */
  rules: string;
  transport: { https: boolean; redirectsToHttps: boolean; hstsPreloaded: boolean; tests: GradedTest[] };
  policies: Record<string, PolicyReport>;
}

/**
 * The data behind `GET /security`: the effective header set of each mounted instance and a self-grade
 * with the Mozilla HTTP Observatory's rules, with transport (HTTPS, redirect, HSTS) reported separately.
 *
 * @example
 * const pages = securityHeaders({ preset: "webApp" });
 * const api = securityHeaders({ preset: "api" });
 * app.get("/security", (req, res) => {
 *   res.json(securityReport({ pages, api }, { req, redirectsToHttps: Boolean(process.env.HTTP_PORT) }));
 * });
 */
export function securityReport(
  instances: Readonly<Record<string, SecurityHeadersMiddleware>>,
  options: Readonly<SecurityReportOptions> = {},
): SecurityReport {
  const check = optionChecks("securityReport");
  check.knownKeys(options, ["req", "https", "redirectsToHttps", "hstsPreloaded"]);
  for (const [name, instance] of Object.entries(instances)) {
    if (typeof instance !== "function" || !("effective" in instance)) {
      check.fail(name, "a securityHeaders() middleware", instance);
    }
  }
  const req = options.req as (IncomingMessage & { secure?: boolean }) | undefined;
  const inferred = req ? (req.secure ?? Boolean((req.socket as TLSSocket | undefined)?.encrypted)) : false;
  const transport = {
    https: check.boolean("https", options.https, inferred),
    redirectsToHttps: check.boolean("redirectsToHttps", options.redirectsToHttps, false),
    hstsPreloaded: check.boolean("hstsPreloaded", options.hstsPreloaded, false),
  };
  const policies: Record<string, PolicyReport> = {};
  let transportTests: GradedTest[] = [];
  for (const [name, instance] of Object.entries(instances)) {
    const graded = gradeHeaders(instance.effective.headers, transport);
    transportTests = graded.transport!;
    policies[name] = { ...instance.effective, grade: graded.headers, withTransport: graded.withTransport! };
  }
  return {
    generatedAt: new Date().toISOString(),
    rules:
      "Mozilla HTTP Observatory scoring (MDN HTTP Observatory 1.x); cookies, CORS and SRI are page-level and not scored",
    transport: { ...transport, tests: transportTests },
    policies,
  };
}
