export {
  type AuditEventOptions,
  type AuditLogMiddleware,
  type AuditRecorder,
  audit,
  auditLog,
  type ErrorHandlerOptions,
  errorHandler,
  getRequestContext,
  logger,
  type RequestContext,
} from "./audit-log.js";
export {
  type AuditEventName,
  type AuditLogOptions,
  type AuditTrailOptions,
  BUSINESS_EVENT_NAMES,
  type BusinessEventName,
  CATEGORIES,
  type Category,
  DEFAULT_REDACT_KEYS,
  type RotationOptions,
  TRANSPORTS,
  type Transport,
} from "./options.js";
export { neutralise } from "./sanitize.js";
export {
  formatVerifyResult,
  VERIFY_PROBLEMS,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyResult,
  verifyAuditTrail,
} from "./verify.js";
