export { clientIp, compileTrust, normalizeIp, type TrustedProxies, type TrustFunction } from "./client-ip.js";
export {
  attachTimingSink,
  currentRequest,
  enterRequestScope,
  offerRequestScope,
  type RequestScope,
  recordTiming,
  requireRequestScope,
  type TimingEntry,
} from "./context.js";
export { CONFIG_ERROR_CODES, type ConfigErrorCode, PalisadeConfigError } from "./errors.js";
export {
  attachSecurityEventSink,
  type DeliveredSecurityEvent,
  emitSecurityEvent,
  OWASP_EVENT_NAMES,
  type OwaspEventName,
  SECURITY_EVENT_LEVELS,
  type SecurityEvent,
  type SecurityEventLevel,
  type SecurityEventName,
  type SecurityEventSink,
} from "./events.js";
export { type PalisadeLocals, palisadeLocals } from "./locals.js";
export { consoleLogger, DOCS_ERRORS_URL, isLogger, type PalisadeLogger, warnOnce } from "./logger.js";
export { type ProblemDetails, sendProblem } from "./problem.js";
export {
  type BeforeHeadersHook,
  beforeHeaders,
  installBeforeHeaders,
  onResponseDone,
  type ResponseDoneHook,
} from "./response-hooks.js";
export { ownProperty, requestBag, requestChannel, requestProperty } from "./sinks.js";
export { describeValue, type OptionChecks, optionChecks, suggest } from "./validate.js";
