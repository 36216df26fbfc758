import type { OwaspEventName, PalisadeLogger, SecurityEventName, TrustedProxies } from "@palisade/core";
import type { DestinationStream } from "pino";

/** The `category` every log line carries, so a log stack can route it. */
export const CATEGORIES = ["audit", "security", "performance", "application"] as const;
export type Category = (typeof CATEGORIES)[number];

/** Business events of the booking platform, written to the audit trail with `category: "audit"`. */
export const BUSINESS_EVENT_NAMES = [
  "booking_created",
  "booking_rescheduled",
  "booking_cancelled",
  "payment_captured",
  "payment_failed",
  "payment_refunded",
  "admin_action",
] as const;
export type BusinessEventName = (typeof BUSINESS_EVENT_NAMES)[number];

/** What `audit(req).event()` accepts: OWASP vocabulary names (and their open families) or a business event. */
export type AuditEventName = SecurityEventName | OwaspEventName | BusinessEventName;

/** Where `app.log` is written from: see {@link AuditLogOptions.transport}. */
export const TRANSPORTS = ["main", "worker"] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type Level = (typeof LEVELS)[number];

/**
 * Keys whose values are replaced by `"[REDACTED]"` at any depth of a logged object (compared
 * case-insensitively). Values that look like card numbers are masked whatever their key.
 */
export const DEFAULT_REDACT_KEYS = [
  "password",
  "newpassword",
  "currentpassword",
  "oldpassword",
  "passwordconfirmation",
  "password_hash",
  "passwordhash",
  "token",
  "accesstoken",
  "access_token",
  "refreshtoken",
  "refresh_token",
  "idtoken",
  "id_token",
  "resettoken",
  "reset_token",
  "csrftoken",
  "apikey",
  "api_key",
  "x-api-key",
  "secret",
  "clientsecret",
  "client_secret",
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "cardnumber",
  "card_number",
  "pan",
  "cvv",
  "cvc",
] as const;

export interface RotationOptions {
  /** Rotate a file once it reaches this many bytes. Defaults to `10 * 1024 * 1024` (10 MB). */
  maxSize?: number;
  /** Files kept per log (the active one included); older ones are deleted. Defaults to `10`. */
  maxFiles?: number;
}

export interface AuditTrailOptions {
  /**
   * Audit trail file name inside `dir`; files are numbered `audit.1.log`, `audit.2.log`, ...
   * `false` sends audit and security events to the application log only. Defaults to `"audit.log"`.
   */
  file?: string | false;
  /**
   * Write each audit record synchronously (in the calling thread) before `event()` returns, so a
   * record acknowledged by a response survives a crash of the process. `false` batches records
   * and writes them on the next turn of the event loop. Defaults to `true`.
   */
  durable?: boolean;
  /**
   * Also `fsync` after each durable write, so records survive an OS crash or power loss too
   * (costs far more than `durable` alone). Defaults to `false`.
   */
  fsync?: boolean;
  /**
   * HMAC key for the tamper-evident chain (at least 16 bytes). Defaults to the `AUDIT_HMAC_KEY`
   * environment variable, then the contents of `hmacKeyFile`; without either, chaining is off
   * and one `WRN_PALISADE_AUDIT_NO_KEY` warning is logged.
   */
  hmacKey?: string | Buffer;
  /** File holding the HMAC key (surrounding whitespace ignored). Defaults to `undefined`. */
  hmacKeyFile?: string;
  /** Rotation of the audit files. Defaults to the top-level `rotation`. */
  rotation?: RotationOptions;
}

export interface AuditLogOptions {
  /**
   * Directory for `app.<n>.log` (rotated by pino-roll, see `transport`) and the audit trail
   * `audit.<n>.log`. Created if missing. Without it, application logs go to stdout and the
   * audit trail is off. Defaults to `undefined`.
   */
  dir?: string;
  /** Application log file name inside `dir` (pino-roll numbers it). Defaults to `"app.log"`. */
  appFile?: string;
  /**
   * How `app.log` is written. `"main"`: pino-roll's stream in the main thread, which buffers
   * lines and writes them in batches (32 KB, or every second) with asynchronous writes, so the
   * event loop never waits for the disk; past 16 MB waiting, lines are dropped. `"worker"`:
   * pino-roll on a pino worker-thread transport, which costs the main thread more per line
   * (each line is encoded, copied to the worker and the worker woken) and adds the worker's own
   * CPU. Either way a `kill -9` loses the lines not yet written (the audit trail is separate
   * and durable). Defaults to `"main"`.
   */
  transport?: Transport;
  /**
   * Where application logs go instead of stdout or `dir` (a pino destination, e.g. a stream in
   * tests). Conflicts with `pretty`. Defaults to `undefined`.
   */
  destination?: DestinationStream;
  /**
   * Minimum level of application logs. Defaults to `"debug"` when `NODE_ENV` is `development` or
   * unset, `"silent"` when it is `test`, otherwise `"info"`.
   */
  level?: Level;
  /**
   * Pretty, colourised stdout through the optional peer `pino-pretty`. Defaults to `true` in
   * development when `pino-pretty` is installed and neither `dir` nor `destination` is set.
   */
  pretty?: boolean;
  /** Rotation of `app.log` (and of the audit trail unless `audit.rotation` says otherwise). Defaults to 10 MB x 10 files. */
  rotation?: RotationOptions;
  /** The audit trail: file, durability, HMAC key. Defaults to `{}`. */
  audit?: AuditTrailOptions;
  /**
   * Extra pino `redact` paths (`"patient.ssn"`, `"*.dob"`), on top of the default redaction by
   * key name ({@link DEFAULT_REDACT_KEYS}). Defaults to `[]`.
   */
  redact?: readonly string[];
  /**
   * Turn off the default redaction by key name, keeping only `redact` paths (card numbers are
   * still masked).
   * Defaults to `false`.
   */
  dangerouslyReplaceDefaultRedaction?: boolean;
  /** Response and request header carrying the request id. Defaults to `"x-request-id"`. */
  requestIdHeader?: string;
  /** Accept a well-formed incoming request id (else a new one is generated). Defaults to `true`. */
  trustIncomingId?: boolean;
  /** Longest incoming request id accepted. Defaults to `128`. */
  maxIdLength?: number;
  /** Generates request ids when none is accepted. Defaults to `crypto.randomUUID`. */
  generateId?: () => string;
  /**
   * The user id for request lines and audit records. Defaults to the context's `userId`, then
   * `req.user.id`, then `res.locals.user.id`.
   */
  userId?: (req: unknown, res: unknown) => string | number | undefined;
  /** Proxies trusted to report the client address (see `clientIp` in `@palisade/core`). Defaults to the app's `trust proxy`. */
  trustedProxies?: TrustedProxies;
  /** Where configuration warnings go. Defaults to the application logger. */
  logger?: PalisadeLogger;
  /** Production behaviour of `errorHandler()` (no error messages sent). Defaults to `NODE_ENV === "production"`. */
  production?: boolean;
}

export const OPTION_KEYS = [
  "dir",
  "appFile",
  "transport",
  "destination",
  "level",
  "pretty",
  "rotation",
  "audit",
  "redact",
  "dangerouslyReplaceDefaultRedaction",
  "requestIdHeader",
  "trustIncomingId",
  "maxIdLength",
  "generateId",
  "userId",
  "trustedProxies",
  "logger",
  "production",
] as const satisfies readonly (keyof AuditLogOptions)[];

export const AUDIT_KEYS = [
  "file",
  "durable",
  "fsync",
  "hmacKey",
  "hmacKeyFile",
  "rotation",
] as const satisfies readonly (keyof AuditTrailOptions)[];

export const ROTATION_KEYS = ["maxSize", "maxFiles"] as const satisfies readonly (keyof RotationOptions)[];

export const DEFAULTS = {
  appFile: "app.log",
  transport: "main",
  auditFile: "audit.log",
  maxSize: 10 * 1024 * 1024,
  maxFiles: 10,
  requestIdHeader: "x-request-id",
  maxIdLength: 128,
  durable: true,
  fsync: false,
} as const;

/** Level used when none is passed, from `NODE_ENV`. */
export function defaultLevel(env = process.env.NODE_ENV): Level {
  if (env === undefined || env === "" || env === "development") return "debug";
  if (env === "test") return "silent";
  return "info";
}
