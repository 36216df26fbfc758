import type { IncomingMessage, ServerResponse } from "node:http";
import {
  consoleLogger,
  describeValue,
  isLogger,
  type OptionChecks,
  optionChecks,
  PalisadeConfigError,
  palisadeLocals,
  requestBag,
  warnOnce,
} from "@palisade/core";
import helmet, { type HelmetOptions } from "helmet";
import {
  type CompiledPolicy,
  CSP_HEADER,
  CSP_REPORT_ONLY_HEADER,
  compilePolicy,
  type DirectiveMap,
  mergeDirectives,
  nonceSource,
  normalizeDirectives,
  renderPolicy,
} from "./csp.js";
import {
  BASE_PRESETS,
  CROSS_DOMAIN_POLICIES,
  CSP_OPTION_KEYS,
  type CspOptions,
  DEFAULT_HSTS_MAX_AGE,
  EMBEDDER_POLICIES,
  FRAME_OPTIONS,
  HSTS_OPTION_KEYS,
  OPENER_POLICIES,
  OPTION_KEYS,
  PRESET_NAMES,
  type PresetName,
  REFERRER_POLICIES,
  REPORTING_OPTION_KEYS,
  RESOURCE_POLICIES,
  type SecurityHeadersOptions,
} from "./options.js";
import { normalizePermissions, permissionsPolicyHeader } from "./permissions-policy.js";
import { PRESETS, type PresetDefinition } from "./presets.js";

declare module "@palisade/core" {
  interface PalisadeLocals {
    /** This response's CSP nonce (base64): put it in `<script nonce="...">` and `<style nonce="...">`. */
    cspNonce?: string;
  }
}

/** Placeholder for the per-request nonce in {@link EffectiveHeaders}. */
export const NONCE_PLACEHOLDER = "{nonce}";

/** What one `securityHeaders()` instance sends, for reports and tests. */
export interface EffectiveHeaders {
  /** The presets, base first. */
  readonly presets: readonly PresetName[];
  /** Header name -> value, the CSP nonce (24 base64 characters) shown as `{nonce}`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Headers removed from every response. */
  readonly removed: readonly string[];
}

export type SecurityHeadersMiddleware = ((
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void) & {
  /** The header set this instance sends, computed at construction. */
  readonly effective: EffectiveHeaders;
};

/** Per-request state kept on the request (the first instance that runs owns the response). */
interface RequestState {
  readonly res: ServerResponse;
  readonly policies: readonly CompiledPolicy[];
  readonly nonce: string;
  /** Bit `i` is set when this instance set `policies[i]` (the app's own value is never extended). */
  readonly owned: number;
  /** This response's policies once a route extended them (copied, never the instance's own array). */
  extended?: CompiledPolicy[];
}

export const STATE = Symbol.for("palisade.securityHeaders.state");

/** The state `securityHeaders()` left on a request, if it ran (in core's request bag: res.locals under Express). */
export function requestState(req: IncomingMessage): RequestState | undefined {
  return requestBag(req)[STATE] as RequestState | undefined;
}

function resolvePresets(check: OptionChecks, value: unknown): PresetName[] {
  const list = value === undefined ? ["webApp"] : Array.isArray(value) ? value : [value];
  const names: PresetName[] = [];
  for (const [index, name] of list.entries()) {
    const option = Array.isArray(value) ? `preset[${index}]` : "preset";
    names.push(check.oneOf(option, name, PRESET_NAMES, "webApp"));
  }
  const bases = names.filter((name) => (BASE_PRESETS as readonly string[]).includes(name));
  if (bases.length > 1) {
    throw new PalisadeConfigError(
      "ERR_PALISADE_CONFLICTING_OPTIONS",
      "preset",
      `${check.scope}: option \`preset\` may name one of ${BASE_PRESETS.map((n) => `"${n}"`).join(", ")}, got ${bases.map((n) => `"${n}"`).join(" and ")}.`,
    );
  }
  if (bases.length === 0) names.unshift("webApp");
  else names.sort((a, b) => Number(PRESETS[b].kind === "base") - Number(PRESETS[a].kind === "base"));
  return [...new Set(names)];
}

function presetDirectives(presets: readonly PresetName[]): Map<string, readonly string[]> {
  let directives: Map<string, readonly string[]> = new Map();
  for (const name of presets) {
    const preset: PresetDefinition = PRESETS[name];
    directives = mergeDirectives(directives, new Map(Object.entries(preset.csp)));
  }
  return directives;
}

function cspPolicy(
  check: OptionChecks,
  option: "csp" | "cspReportOnly",
  value: CspOptions | false | undefined,
  fallback: CspOptions | false,
  base: DirectiveMap,
  reportDirectives: DirectiveMap,
): CompiledPolicy | undefined {
  const resolved = value === undefined ? fallback : value;
  if (resolved === false) return undefined;
  check.object(option, resolved, CSP_OPTION_KEYS);
  const useDefaults = check.boolean(`${option}.useDefaults`, resolved.useDefaults, true);
  const nonce = check.boolean(`${option}.nonce`, resolved.nonce, true);
  const allowUnsafe = check.boolean(
    `${option}.dangerouslyAllowUnsafeScripts`,
    resolved.dangerouslyAllowUnsafeScripts,
    false,
  );
  const additions = normalizeDirectives(check, `${option}.directives`, resolved.directives, allowUnsafe);
  const directives = mergeDirectives(useDefaults ? base : new Map(), additions);
  if (!directives.has("default-src")) {
    check.fail(
      `${option}.directives`,
      "a policy with a default-src (the fallback for every fetch)",
      resolved.directives,
    );
  }
  for (const [name, sources] of reportDirectives) if (!directives.has(name)) directives.set(name, sources);
  return compilePolicy(option === "csp" ? CSP_HEADER : CSP_REPORT_ONLY_HEADER, directives, nonce);
}

/** Runs helmet once against a recorder, so helmet's header formats become precomputed constants. */
function helmetHeaders(options: HelmetOptions): [string, string][] {
  const recorded: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: string) {
      recorded.push([name, value]);
    },
    removeHeader() {},
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error) => {
    failure = error;
  });
  if (failure) throw failure;
  return recorded;
}

/**
 * Sets the OWASP-recommended response headers on every response: a strict Content-Security-Policy
 * with a fresh nonce per request (`res.locals.palisade.cspNonce`), HSTS, Permissions-Policy,
 * Referrer-Policy, X-Frame-Options, X-Content-Type-Options, the Cross-Origin-* policies and more,
 * built on helmet. Every header value is computed once, here; a request only draws a nonce.
 * When two instances are mounted, the first one that runs for a request owns it.
 *
 * @example
 * import express from "express";
 * import { securityHeaders } from "@palisade/security-headers";
 *
 * const app = express();
 * app.use("/api", securityHeaders({ preset: "api" }));
 * app.use(securityHeaders({ preset: ["webApp", "stripe"] }));
 * app.get("/", (_req, res) => {
 *   res.send(`<script nonce="${res.locals.palisade?.cspNonce}">start()</script>`);
 * });
 */
export function securityHeaders(options: Readonly<SecurityHeadersOptions> = {}): SecurityHeadersMiddleware {
  const check = optionChecks("securityHeaders");
  if (typeof options !== "object" || options === null || Array.isArray(options) || "socket" in options) {
    throw new PalisadeConfigError(
      "ERR_PALISADE_INVALID_OPTION",
      "options",
      `securityHeaders: options must be an object, got ${describeValue(options)}. Mount it as app.use(securityHeaders()), not app.use(securityHeaders).`,
    );
  }
  check.knownKeys(options, OPTION_KEYS);
  const presets = resolvePresets(check, options.preset);
  const definitions: PresetDefinition[] = presets.map((name) => PRESETS[name]);
  const base = definitions[0]!;
  const omitted = new Set(base.omit ?? []);
  const defaultOn = (name: NonNullable<PresetDefinition["omit"]>[number]) => !omitted.has(name);

  const reporting = check.object("reporting", options.reporting, REPORTING_OPTION_KEYS);
  const reportDirectives = new Map<string, readonly string[]>();
  let reportingEndpoints: string | undefined;
  if (reporting) {
    const endpoint = check.string("reporting.endpoint", reporting.endpoint, "");
    if (!endpoint || /[\s;,"]/.test(endpoint)) {
      check.fail("reporting.endpoint", "a URL or path without spaces, quotes, ';' or ','", reporting.endpoint);
    }
    const group = check.string("reporting.group", reporting.group, "csp-endpoint");
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(group)) {
      check.fail("reporting.group", "a token of letters, digits, '-' and '_'", group);
    }
    reportDirectives.set("report-uri", [endpoint]);
    reportDirectives.set("report-to", [group]);
    reportingEndpoints = `${group}="${endpoint}"`;
  }

  const presetPolicy = presetDirectives(presets);
  const policies = [
    cspPolicy(check, "csp", options.csp, {}, presetPolicy, reportDirectives),
    cspPolicy(check, "cspReportOnly", options.cspReportOnly, false, presetPolicy, reportDirectives),
  ].filter((policy): policy is CompiledPolicy => policy !== undefined);

  const hstsOption = options.hsts === false ? false : check.object("hsts", options.hsts ?? {}, HSTS_OPTION_KEYS);
  const permissionsOption =
    options.permissionsPolicy === false || (options.permissionsPolicy === undefined && !defaultOn("permissionsPolicy"))
      ? false
      : options.permissionsPolicy === undefined
        ? {}
        : options.permissionsPolicy;
  const orFalse = <T>(value: T | false | undefined, accepted: readonly T[], fallback: T, option: string) =>
    value === false ? false : check.oneOf(option, value, accepted as readonly string[], fallback as string);
  const referrer = orFalse(
    options.referrerPolicy,
    REFERRER_POLICIES,
    base.referrerPolicy ?? "strict-origin-when-cross-origin",
    "referrerPolicy",
  );
  const frame = orFalse(options.frameOptions, FRAME_OPTIONS, "DENY", "frameOptions");
  const opener = orFalse(options.crossOriginOpenerPolicy, OPENER_POLICIES, "same-origin", "crossOriginOpenerPolicy");
  const resource = orFalse(
    options.crossOriginResourcePolicy,
    RESOURCE_POLICIES,
    "same-origin",
    "crossOriginResourcePolicy",
  );
  const embedder =
    options.crossOriginEmbedderPolicy === undefined
      ? false
      : orFalse(options.crossOriginEmbedderPolicy, EMBEDDER_POLICIES, "require-corp", "crossOriginEmbedderPolicy");
  const crossDomain = orFalse(
    options.permittedCrossDomainPolicies,
    CROSS_DOMAIN_POLICIES,
    "none",
    "permittedCrossDomainPolicies",
  );
  const originAgentCluster = check.boolean(
    "originAgentCluster",
    options.originAgentCluster,
    defaultOn("originAgentCluster"),
  );
  const dnsPrefetchControl = check.boolean(
    "dnsPrefetchControl",
    options.dnsPrefetchControl,
    defaultOn("dnsPrefetchControl"),
  );
  const noSniff = check.boolean("noSniff", options.noSniff, true);
  const disableXssAuditor = check.boolean(
    "disableXssAuditor",
    options.disableXssAuditor,
    defaultOn("disableXssAuditor"),
  );
  const removed = check.stringArray("removeHeaders", options.removeHeaders, ["X-Powered-By", "Server"]);
  const overwrite = check.boolean("overwrite", options.overwrite, false);
  if (options.logger !== undefined && !isLogger(options.logger)) {
    check.fail("logger", "an object with a warn() method", options.logger);
  }
  const logger = options.logger ?? consoleLogger;
  const warnings = check.boolean("warnings", options.warnings, true);
  const warn = warnOnce(logger, "securityHeaders");

  let hstsHelmet: HelmetOptions["strictTransportSecurity"] = false;
  if (hstsOption) {
    hstsHelmet = {
      maxAge: check.number("hsts.maxAge", hstsOption.maxAge, DEFAULT_HSTS_MAX_AGE, { min: 0, integer: true }),
      includeSubDomains: check.boolean("hsts.includeSubDomains", hstsOption.includeSubDomains, true),
      preload: check.boolean("hsts.preload", hstsOption.preload, false),
    };
    if (hstsHelmet.preload && (!hstsHelmet.includeSubDomains || hstsHelmet.maxAge! < 31_536_000)) {
      throw new PalisadeConfigError(
        "ERR_PALISADE_CONFLICTING_OPTIONS",
        "hsts.preload",
        "securityHeaders: option `hsts.preload` needs `hsts.includeSubDomains: true` and `hsts.maxAge` of at least 31536000 (what preload lists accept).",
      );
    }
  }

  let permissionsHeader: string | undefined;
  if (permissionsOption !== false) {
    if (typeof permissionsOption !== "object" || permissionsOption === null || Array.isArray(permissionsOption)) {
      check.fail("permissionsPolicy", "an object or false", permissionsOption);
    }
    const allow = new Map<string, readonly string[] | null>();
    for (const definition of definitions) {
      for (const [feature, list] of Object.entries(definition.permissionsPolicy ?? {})) allow.set(feature, list);
    }
    for (const [feature, list] of normalizePermissions(check, "permissionsPolicy", permissionsOption)) {
      allow.set(feature, list);
    }
    permissionsHeader = permissionsPolicyHeader(allow);
  }

  const statics = helmetHeaders({
    contentSecurityPolicy: false,
    strictTransportSecurity: hstsHelmet,
    referrerPolicy: referrer ? { policy: referrer as (typeof REFERRER_POLICIES)[number] } : false,
    xFrameOptions: frame ? { action: frame === "DENY" ? "deny" : "sameorigin" } : false,
    crossOriginOpenerPolicy: opener ? { policy: opener as (typeof OPENER_POLICIES)[number] } : false,
    crossOriginResourcePolicy: resource ? { policy: resource as (typeof RESOURCE_POLICIES)[number] } : false,
    crossOriginEmbedderPolicy: embedder ? { policy: embedder as (typeof EMBEDDER_POLICIES)[number] } : false,
    originAgentCluster,
    xDnsPrefetchControl: dnsPrefetchControl ? { allow: false } : false,
    xPermittedCrossDomainPolicies: crossDomain
      ? { permittedPolicies: crossDomain as (typeof CROSS_DOMAIN_POLICIES)[number] }
      : false,
    xContentTypeOptions: noSniff,
    xXssProtection: disableXssAuditor,
    xDownloadOptions: false,
    xPoweredBy: false,
  });
  if (permissionsHeader !== undefined) statics.push(["Permissions-Policy", permissionsHeader]);
  if (reportingEndpoints !== undefined) statics.push(["Reporting-Endpoints", reportingEndpoints]);

  const names = statics.map(([name]) => name);
  const values = statics.map(([, value]) => value);
  const lowerNames = names.map((name) => name.toLowerCase());
  const removeList = [...removed];
  const policyHeaders = policies.map((policy) => policy.header);
  const lowerPolicyHeaders = policyHeaders.map((name) => name.toLowerCase());
  const needsNonce = policies.some((policy) => policy.nonce);
  const removeSet = new Set(removeList.map((name) => name.toLowerCase()));
  const ownSet = new Set([...lowerNames, ...lowerPolicyHeaders]);
  const nextNonce = nonceSource();
  const effective: EffectiveHeaders = Object.freeze({
    presets,
    removed: removeList,
    headers: Object.freeze(
      Object.fromEntries([
        ...policies.map((policy) => [policy.header, renderPolicy(policy, NONCE_PLACEHOLDER)]),
        ...statics,
      ]),
    ),
  });

  const kept = (name: string) => {
    if (warnings) {
      warn(
        "WRN_PALISADE_HEADER_KEPT",
        `${name} was already set before securityHeaders() ran; keeping the app's value (set \`overwrite: true\` to replace it).`,
        { header: name },
      );
    }
  };

  function securityHeadersMiddleware(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) {
    const bag = requestBag(req);
    if (bag[STATE] !== undefined) {
      next();
      return;
    }
    // One look at what is already set (usually only X-Powered-By) instead of a hasHeader() per header.
    const existing = res.getHeaderNames();
    let taken: string[] | undefined;
    for (let i = 0; i < existing.length; i++) {
      const name = existing[i]!;
      if (removeSet.has(name)) res.removeHeader(name);
      else if (!overwrite && ownSet.has(name)) {
        taken ??= [];
        taken.push(name);
      }
    }
    for (let i = 0; i < names.length; i++) {
      if (taken === undefined || !taken.includes(lowerNames[i]!)) res.setHeader(names[i]!, values[i]!);
      else kept(names[i]!);
    }
    let nonce = "";
    if (needsNonce) {
      nonce = nextNonce();
      palisadeLocals(res).cspNonce = nonce;
    }
    let owned = 0;
    for (let i = 0; i < policies.length; i++) {
      if (taken === undefined || !taken.includes(lowerPolicyHeaders[i]!)) {
        res.setHeader(policyHeaders[i]!, renderPolicy(policies[i]!, nonce));
        owned |= 1 << i;
      } else kept(policyHeaders[i]!);
    }
    bag[STATE] = { res, policies, nonce, owned } satisfies RequestState;
    next();
  }
  return Object.assign(securityHeadersMiddleware, { effective });
}
