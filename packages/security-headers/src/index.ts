export { cacheFingerprintedAssets, type FingerprintedAssetsOptions, markSensitive, noStore } from "./caching.js";
export { type ExtendCspOptions, extendCsp, withCsp } from "./extend-csp.js";
export { type Grade, type GradedTest, gradeHeaders, type TransportFacts } from "./grade.js";
export {
  CSP_DIRECTIVE_NAMES,
  CSP_KEYWORDS,
  type CspDirectiveName,
  type CspDirectives,
  type CspOptions,
  type CspSourceList,
  DEFAULT_DENIED_FEATURES,
  type HstsOptions,
  PERMISSIONS_POLICY_FEATURES,
  type PermissionsPolicyAllowEntry,
  type PermissionsPolicyDirectives,
  type PermissionsPolicyFeature,
  PRESET_NAMES,
  type PresetName,
  type ReferrerPolicy,
  type ReportingOptions,
  type SecurityHeadersOptions,
} from "./options.js";
export { PRESETS } from "./presets.js";
export {
  type CspReportHandlerOptions,
  type CspViolation,
  cspReportHandler,
  parseCspReports,
} from "./report-handler.js";
export {
  type EffectiveHeaders,
  NONCE_PLACEHOLDER,
  type SecurityHeadersMiddleware,
  securityHeaders,
} from "./security-headers.js";
export {
  type PolicyReport,
  type SecurityReport,
  type SecurityReportOptions,
  securityReport,
} from "./security-report.js";
