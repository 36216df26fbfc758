import type { PalisadeLogger } from "@palisade/core";

/** Every CSP directive name `csp.directives` accepts (CSP Level 3 plus the reporting and upgrade directives). */
export const CSP_DIRECTIVE_NAMES = [
  "default-src",
  "script-src",
  "script-src-elem",
  "script-src-attr",
  "style-src",
  "style-src-elem",
  "style-src-attr",
  "img-src",
  "font-src",
  "connect-src",
  "media-src",
  "object-src",
  "frame-src",
  "child-src",
  "worker-src",
  "manifest-src",
  "base-uri",
  "form-action",
  "frame-ancestors",
  "sandbox",
  "report-uri",
  "report-to",
  "require-trusted-types-for",
  "trusted-types",
  "upgrade-insecure-requests",
] as const;

export type CspDirectiveName = (typeof CSP_DIRECTIVE_NAMES)[number];

/** Keywords that CSP only understands single-quoted (`'self'`, not `self`). */
export const CSP_KEYWORDS = [
  "'self'",
  "'none'",
  "'strict-dynamic'",
  "'report-sample'",
  "'unsafe-inline'",
  "'unsafe-eval'",
  "'unsafe-hashes'",
  "'wasm-unsafe-eval'",
  "'inline-speculation-rules'",
  "'script'",
] as const;

/**
 * Sources of one directive: keywords (`'self'`), hosts (`https://js.stripe.com`), schemes (`data:`),
 * hashes (`'sha256-...'`). An empty list is a directive without value (`upgrade-insecure-requests`);
 * `null` removes the directive from the preset.
 */
export type CspSourceList = readonly string[] | null;

type CamelCase<Name extends string> = Name extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : Name;

/** CSP directives by name; camelCase names (`scriptSrc`) are accepted too, as helmet accepts them. */
export type CspDirectives = {
  readonly [Name in CspDirectiveName | CamelCase<CspDirectiveName>]?: CspSourceList;
};

/** One Content-Security-Policy (enforced or Report-Only). */
export interface CspOptions {
  /**
   * Directives merged into the preset's policy: sources are added to the preset's sources
   * (a `'none'` there is dropped), `null` removes a directive.
   * Defaults to `{}`.
   */
  directives?: CspDirectives;
  /** `false` starts from an empty policy instead of the preset's. Defaults to `true`. */
  useDefaults?: boolean;
  /** Adds a fresh `'nonce-...'` to `script-src` and `style-src` on every response. Defaults to `true`. */
  nonce?: boolean;
  /**
   * Allows `'unsafe-inline'` and `'unsafe-eval'` in `script-src`, which turn CSP's XSS protection off.
   * Defaults to `false` (they throw).
   */
  dangerouslyAllowUnsafeScripts?: boolean;
}

export const CSP_OPTION_KEYS = ["directives", "useDefaults", "nonce", "dangerouslyAllowUnsafeScripts"] as const;

/** Features Permissions-Policy can control: the ones Chromium recognises, so no console warning (it warns on `bluetooth`, for one). */
export const PERMISSIONS_POLICY_FEATURES = [
  "accelerometer",
  "autoplay",
  "browsing-topics",
  "camera",
  "clipboard-read",
  "clipboard-write",
  "display-capture",
  "encrypted-media",
  "fullscreen",
  "gamepad",
  "geolocation",
  "gyroscope",
  "hid",
  "identity-credentials-get",
  "idle-detection",
  "local-fonts",
  "magnetometer",
  "microphone",
  "midi",
  "otp-credentials",
  "payment",
  "picture-in-picture",
  "publickey-credentials-create",
  "publickey-credentials-get",
  "screen-wake-lock",
  "serial",
  "storage-access",
  "usb",
  "web-share",
  "window-management",
  "xr-spatial-tracking",
] as const;

export type PermissionsPolicyFeature = (typeof PERMISSIONS_POLICY_FEATURES)[number];

/** `self`, `*`, or an origin such as `https://js.stripe.com`. An empty list denies the feature. */
export type PermissionsPolicyAllowEntry = "self" | "*" | `https://${string}` | `http://${string}`;

/** Allowlists by feature: `{ geolocation: [], payment: ["self"] }` reads `geolocation=(), payment=(self)`. */
export type PermissionsPolicyDirectives = {
  readonly [Feature in PermissionsPolicyFeature]?: readonly PermissionsPolicyAllowEntry[] | null;
};

/**
 * Features denied by default: sensors, devices, capture, payment and tracking. `fullscreen`,
 * `autoplay`, `clipboard-write`, `picture-in-picture` and `web-share` keep the browser default.
 */
export const DEFAULT_DENIED_FEATURES = [
  "accelerometer",
  "browsing-topics",
  "camera",
  "display-capture",
  "geolocation",
  "gyroscope",
  "hid",
  "idle-detection",
  "magnetometer",
  "microphone",
  "midi",
  "payment",
  "serial",
  "usb",
  "xr-spatial-tracking",
] as const satisfies readonly PermissionsPolicyFeature[];

export const PRESET_NAMES = ["webApp", "api", "stripe"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
/** Presets that define a whole policy; at most one per instance. */
export const BASE_PRESETS = ["webApp", "api"] as const;

export const REFERRER_POLICIES = [
  "no-referrer",
  "no-referrer-when-downgrade",
  "same-origin",
  "origin",
  "strict-origin",
  "origin-when-cross-origin",
  "strict-origin-when-cross-origin",
  "unsafe-url",
] as const;
export type ReferrerPolicy = (typeof REFERRER_POLICIES)[number];

export const FRAME_OPTIONS = ["DENY", "SAMEORIGIN"] as const;
export const OPENER_POLICIES = [
  "same-origin",
  "same-origin-allow-popups",
  "noopener-allow-popups",
  "unsafe-none",
] as const;
export const RESOURCE_POLICIES = ["same-origin", "same-site", "cross-origin"] as const;
export const EMBEDDER_POLICIES = ["require-corp", "credentialless", "unsafe-none"] as const;
export const CROSS_DOMAIN_POLICIES = ["none", "master-only", "by-content-type", "all"] as const;

/** Strict-Transport-Security. */
export interface HstsOptions {
  /** Seconds browsers remember to use HTTPS only. Defaults to `63072000` (2 years). */
  maxAge?: number;
  /** Applies to every subdomain too. Defaults to `true`. */
  includeSubDomains?: boolean;
  /** Asks for inclusion in browsers' preload lists (hard to undo: opt in knowingly). Defaults to `false`. */
  preload?: boolean;
}

export const HSTS_OPTION_KEYS = ["maxAge", "includeSubDomains", "preload"] as const;

/** Where browsers send CSP violation reports. */
export interface ReportingOptions {
  /** URL (absolute or path) of a {@link cspReportHandler}. Sent as `report-uri` and in `Reporting-Endpoints`. */
  endpoint: string;
  /** Reporting API group name used by `report-to`. Defaults to `"csp-endpoint"`. */
  group?: string;
}

export const REPORTING_OPTION_KEYS = ["endpoint", "group"] as const;

export interface SecurityHeadersOptions {
  /**
   * `"webApp"` (HTML pages) or `"api"` (JSON APIs), optionally with additive presets such as `"stripe"`:
   * `["webApp", "stripe"]`.
   * Defaults to `"webApp"`.
   */
  preset?: PresetName | readonly PresetName[];
  /** The enforced Content-Security-Policy, merged into the preset's; `false` sends none. Defaults to `{}`. */
  csp?: CspOptions | false;
  /**
   * A Content-Security-Policy-Report-Only sent alongside the enforced one (to trial a stricter policy);
   * its directives merge into the preset's like `csp`'s. Defaults to `false`.
   */
  cspReportOnly?: CspOptions | false;
  /** Violation reports: adds `report-uri`, `report-to` and `Reporting-Endpoints`. Defaults to `undefined` (none). */
  reporting?: ReportingOptions;
  /** Strict-Transport-Security; `false` sends none. Defaults to `{ maxAge: 63072000, includeSubDomains: true }`. */
  hsts?: HstsOptions | false;
  /** Permissions-Policy allowlists merged into the default denials; `false` sends none. Defaults to `{}`. */
  permissionsPolicy?: PermissionsPolicyDirectives | false;
  /** Referrer-Policy. Defaults to `"strict-origin-when-cross-origin"`. */
  referrerPolicy?: ReferrerPolicy | false;
  /** X-Frame-Options (CSP's `frame-ancestors` is the modern control; this covers old browsers). Defaults to `"DENY"`. */
  frameOptions?: (typeof FRAME_OPTIONS)[number] | false;
  /** Cross-Origin-Opener-Policy. Defaults to `"same-origin"`. */
  crossOriginOpenerPolicy?: (typeof OPENER_POLICIES)[number] | false;
  /** Cross-Origin-Resource-Policy. Defaults to `"same-origin"`. */
  crossOriginResourcePolicy?: (typeof RESOURCE_POLICIES)[number] | false;
  /** Cross-Origin-Embedder-Policy; opt in, since `require-corp` breaks third-party embeds. Defaults to `false`. */
  crossOriginEmbedderPolicy?: (typeof EMBEDDER_POLICIES)[number] | false;
  /** `Origin-Agent-Cluster: ?1`. Defaults to `true`. */
  originAgentCluster?: boolean;
  /** `X-DNS-Prefetch-Control: off`. Defaults to `true`. */
  dnsPrefetchControl?: boolean;
  /** X-Permitted-Cross-Domain-Policies. Defaults to `"none"`. */
  permittedCrossDomainPolicies?: (typeof CROSS_DOMAIN_POLICIES)[number] | false;
  /** `X-Content-Type-Options: nosniff`. Defaults to `true`. */
  noSniff?: boolean;
  /**
   * `X-XSS-Protection: 0`, which switches off the legacy XSS auditor of old browsers (its
   * `1; mode=block` can itself be abused to leak or break pages; CSP is the protection now).
   * Defaults to `true`.
   */
  disableXssAuditor?: boolean;
  /** Response headers removed because they advertise the stack. Defaults to `["X-Powered-By", "Server"]`. */
  removeHeaders?: readonly string[];
  /** Replace headers the app set before this middleware ran. Defaults to `false` (the app's value wins). */
  overwrite?: boolean;
  /** Receives `WRN_PALISADE_*` warnings. Defaults to `consoleLogger` from `@palisade/core`. */
  logger?: PalisadeLogger;
  /** `false` switches the run-time warnings off. Defaults to `true`. */
  warnings?: boolean;
}

export const OPTION_KEYS = [
  "preset",
  "csp",
  "cspReportOnly",
  "reporting",
  "hsts",
  "permissionsPolicy",
  "referrerPolicy",
  "frameOptions",
  "crossOriginOpenerPolicy",
  "crossOriginResourcePolicy",
  "crossOriginEmbedderPolicy",
  "originAgentCluster",
  "dnsPrefetchControl",
  "permittedCrossDomainPolicies",
  "noSniff",
  "disableXssAuditor",
  "removeHeaders",
  "overwrite",
  "logger",
  "warnings",
] as const;

/** Two years, the value hstspreload.org asks for. */
export const DEFAULT_HSTS_MAX_AGE = 63_072_000;
