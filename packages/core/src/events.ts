import type { IncomingMessage } from "node:http";
import { requestChannel } from "./sinks.js";

/**
 * Event names from the OWASP Logging Vocabulary Cheat Sheet, the names Palisade's
 * security events use. Packages may add `malicious_*`, `sys_*` and other names in the
 * same `category_event` form (see {@link SecurityEventName}).
 */
export const OWASP_EVENT_NAMES = [
  "authn_login_success",
  "authn_login_successafterfail",
  "authn_login_fail",
  "authn_login_fail_max",
  "authn_login_lock",
  "authn_password_change",
  "authn_password_change_fail",
  "authn_impossible_travel",
  "authn_token_created",
  "authn_token_revoked",
  "authn_token_reuse",
  "authn_token_delete",
  "authz_fail",
  "authz_change",
  "authz_admin",
  "excess_rate_limit_exceeded",
  "upload_complete",
  "upload_stored",
  "upload_validation",
  "upload_delete",
  "input_validation_fail",
  "malicious_excess_404",
  "malicious_extraneous",
  "malicious_attack_tool",
  "malicious_cors",
  "malicious_direct_reference",
  "privilege_permissions_changed",
  "sensitive_create",
  "sensitive_read",
  "sensitive_update",
  "sensitive_delete",
  "sequence_fail",
  "session_created",
  "session_renewed",
  "session_expired",
  "session_use_after_expire",
  "sys_startup",
  "sys_shutdown",
  "sys_restart",
  "sys_crash",
  "sys_monitor_disabled",
  "sys_monitor_enabled",
  "user_created",
  "user_updated",
  "user_archived",
  "user_deleted",
] as const;

export type OwaspEventName = (typeof OWASP_EVENT_NAMES)[number];

/** Vocabulary names, plus the vocabulary's open families (`malicious_csrf`, `sys_health_fail`, ...). */
export type SecurityEventName =
  | OwaspEventName
  | `malicious_${string}`
  | `sys_${string}`
  | `authn_${string}`
  | `authz_${string}`
  | `input_${string}`
  | `session_${string}`;

/** Severity levels of the vocabulary. */
export const SECURITY_EVENT_LEVELS = ["INFO", "WARN", "CRITICAL"] as const;
export type SecurityEventLevel = (typeof SECURITY_EVENT_LEVELS)[number];

/** A security event raised while handling a request. */
export interface SecurityEvent {
  /** OWASP vocabulary name, e.g. `authz_fail`. */
  name: SecurityEventName;
  /** Defaults to `WARN` for `malicious_*`, `excess_*` and `*_fail*`, otherwise `INFO`. */
  level?: SecurityEventLevel;
  /** One human sentence; never the raw attacker input. */
  description?: string;
  /** The package that raised it, e.g. `@palisade/input-sanitizer`. */
  source?: string;
  /** Structured detail (rule ids, field paths, limits); values are logged, so keep them small. */
  detail?: Record<string, unknown>;
}

/** A security event as delivered to a sink: level and time always set. */
export interface DeliveredSecurityEvent extends SecurityEvent {
  level: SecurityEventLevel;
  time: string;
}

/** Receives the security events raised for one request. */
export type SecurityEventSink = (event: DeliveredSecurityEvent, req: IncomingMessage) => void;

const channel = requestChannel<DeliveredSecurityEvent>("palisade.securityEventSinks");

/**
 * Attaches a sink to one request; `emitSecurityEvent` delivers to every sink attached.
 * `@palisade/audit-log` attaches one per request.
 *
 * @example
 * app.use((req, _res, next) => {
 *   attachSecurityEventSink(req, (event) => console.log(event.name));
 *   next();
 * });
 */
export function attachSecurityEventSink(req: IncomingMessage, sink: SecurityEventSink): void {
  channel.attach(req, sink);
}

function defaultLevel(name: string): SecurityEventLevel {
  return name.startsWith("malicious_") || name.startsWith("excess_") || name.includes("_fail") ? "WARN" : "INFO";
}

/**
 * Delivers a security event to the sinks attached to `req`. Does nothing when none is
 * attached, and never throws (a failing sink cannot break the request).
 * Returns the number of sinks that received the event.
 *
 * @example
 * emitSecurityEvent(req, { name: "authz_fail", detail: { route: "/admin" } });
 */
export function emitSecurityEvent(req: IncomingMessage, event: SecurityEvent): number {
  if (!channel.has(req)) return 0;
  return channel.deliver(req, {
    ...event,
    level: event.level ?? defaultLevel(event.name),
    time: new Date().toISOString(),
  });
}
