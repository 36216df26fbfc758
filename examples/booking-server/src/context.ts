import type { Request } from "express";
import type { Config } from "./config.js";
import type { PaymentProvider } from "./payments.js";
import type { Store } from "./store.js";

/** Business and security events the routes raise (login, booking, payment, admin actions). */
export type AuditEventName =
  | "authn_login_success"
  | "authn_login_fail"
  | "authn_password_change"
  | "authn_password_change_fail"
  | "authn_token_created"
  | "authn_token_revoked"
  | "authz_fail"
  | "user_created"
  | "booking_created"
  | "booking_rescheduled"
  | "booking_cancelled"
  | "payment_captured"
  | "payment_failed"
  | "admin_action";

export type AuditSink = (req: Request, name: AuditEventName, detail: Record<string, unknown>) => void;

/** What the routes need; built once in app.ts. */
export interface AppContext {
  config: Config;
  store: Store;
  payments: PaymentProvider;
  audit: AuditSink;
  /** Current time; injectable so tests can pin it. */
  now(): Date;
  log: (message: string, detail?: Record<string, unknown>) => void;
  /** Called after a failed login (the sensitive rate limiter's penalty box counts it). */
  onLoginFailed?: (req: Request) => unknown;
}
