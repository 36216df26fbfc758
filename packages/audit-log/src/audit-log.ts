import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import {
  attachSecurityEventSink,
  clientIp,
  compileTrust,
  currentRequest,
  type DeliveredSecurityEvent,
  enterRequestScope,
  isLogger,
  onResponseDone,
  optionChecks,
  ownProperty,
  PalisadeConfigError,
  type PalisadeLogger,
  requestBag,
  requestProperty,
  type SecurityEventLevel,
  sendProblem,
  type TrustFunction,
  warnOnce,
} from "@palisade/core";
import type { ErrorRequestHandler, RequestHandler } from "express";
import { type DestinationStream, type Logger, pino } from "pino";
import { keyBytes } from "./chain.js";
import { resolveRequestId } from "./correlation.js";
import {
  AUDIT_KEYS,
  type AuditEventName,
  type AuditLogOptions,
  BUSINESS_EVENT_NAMES,
  type Category,
  DEFAULT_REDACT_KEYS,
  DEFAULTS,
  defaultLevel,
  LEVELS,
  OPTION_KEYS,
  ROTATION_KEYS,
  type RotationOptions,
  TRANSPORTS,
} from "./options.js";
import { RollingFile } from "./rolling-file.js";
import { neutralise, neutraliseObject } from "./sanitize.js";
import { ChainWriter } from "./writer.js";

const CONTEXT = Symbol.for("palisade.auditLog.context");
const DEFAULT_HOLDER = Symbol.for("palisade.auditLog.default");
const WRITERS = Symbol.for("palisade.auditLog.writers");
const BUSINESS = new Set<string>(BUSINESS_EVENT_NAMES);
const MIN_KEY_BYTES = 16;

type Holder = typeof globalThis & {
  [DEFAULT_HOLDER]?: { logger?: Logger };
  [WRITERS]?: Map<string, ChainWriter>;
};
// Process-wide (shared by every copy of this package): the logger `logger()` falls back to
// outside requests, and one writer per audit file, since two writers would fork its chain.
const holder = globalThis as Holder;
holder[DEFAULT_HOLDER] ??= {};
holder[WRITERS] ??= new Map();
const fallbackHolder = holder[DEFAULT_HOLDER];
const writers = holder[WRITERS];

/** Extra fields of one audit or security event. */
export interface AuditEventOptions {
  /** Severity. Defaults to `WARN` for `malicious_*`, `excess_*` and `*_fail*` names, else `INFO`. */
  level?: SecurityEventLevel;
  /** One human sentence; never raw attacker input. */
  description?: string;
  /** The package or module that raised it. */
  source?: string;
}

/** Records audit and security events for one request (or for the process, outside requests). */
export interface AuditRecorder {
  /**
   * Writes one event to the audit trail (chained, durable by default) and to the application
   * log. Returns the record's `seq` in the trail, or `undefined` when no trail is written.
   */
  event(name: AuditEventName, detail?: Record<string, unknown>, options?: AuditEventOptions): number | undefined;
}

/** What code running on behalf of a request can learn about it. */
export interface RequestContext {
  /** The correlation id (also `req.id` and the `X-Request-Id` response header). */
  readonly requestId: string;
  /** Set it once the user is known; request lines and audit records carry it. */
  userId: string | undefined;
  /** The request-bound child logger: every line carries `reqId`. */
  readonly logger: Logger;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

/** `auditLog()`'s middleware, with the logger and audit trail it owns. */
export type AuditLogMiddleware = RequestHandler & {
  /** The application logger (not request-bound). */
  readonly logger: Logger;
  /** Path of the active audit file, when the trail is on. */
  readonly auditFile: string | undefined;
  /** Records an event outside any request (`sys_startup`, `sys_shutdown`, ...). */
  event: AuditRecorder["event"];
  /** Flushes and closes the audit trail and the application log transport. */
  close(): Promise<void>;
};

interface Instance {
  root: Logger;
  audit: Logger | undefined;
  writer: ChainWriter | undefined;
  production: boolean;
  record(
    req: IncomingMessage | undefined,
    name: string,
    detail?: Record<string, unknown>,
    extra?: AuditEventOptions,
  ): number | undefined;
}

type Req = IncomingMessage & {
  route?: { path?: unknown };
  baseUrl?: string;
  user?: { id?: unknown };
};
type Res = ServerResponse & { locals?: { user?: { id?: unknown }; userId?: unknown } };

class Context implements RequestContext {
  userId: string | undefined = undefined;
  /** Whether the request line was written. */
  logged = false;
  /** Method and client address, taken in the middleware, where reading them costs least. */
  method: string | undefined = undefined;
  ip = "";
  /** `res.locals` as the middleware saw it (the default user id looks there). */
  locals: Res["locals"] = undefined;
  private child: Logger | undefined = undefined;
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly requestId: string,
    readonly instance: Instance,
    readonly start: bigint,
  ) {}

  /** Made on first use: most requests log nothing but their request line, which needs no child. */
  get logger(): Logger {
    this.child ??= this.instance.root.child({ reqId: this.requestId });
    return this.child;
  }
}

function contextOf(req: IncomingMessage): Context | undefined {
  return requestBag(req)[CONTEXT] as Context | undefined;
}

/**
 * The current request's context, from any module, across `await`, timers and callbacks;
 * `undefined` outside a request handled by `auditLog()`.
 *
 * @example
 * export async function findBooking(id) {
 *   getRequestContext()?.logger.debug({ id }, "loading booking");
 * }
 */
export function getRequestContext(): RequestContext | undefined {
  const scope = currentRequest();
  return scope ? contextOf(scope.req) : undefined;
}

/**
 * The request-bound logger inside a request (its lines carry `reqId`), otherwise the
 * application logger of the most recent `auditLog()` (or a plain stdout logger before any).
 *
 * @example
 * import { logger } from "@palisade/audit-log";
 * logger().info({ bookingId }, "reminder scheduled");
 */
export function logger(): Logger {
  const context = getRequestContext();
  if (context) return context.logger;
  fallbackHolder.logger ??= pino({ level: defaultLevel(), formatters: { log: formatLogObject } });
  return fallbackHolder.logger;
}

const NOOP_RECORDER: AuditRecorder = { event: () => undefined };

/**
 * The typed audit API for a request: OWASP vocabulary names plus the booking platform's business
 * events. Records go to the audit trail (hash-chained, written before the response by default)
 * and to the application log. A no-op when `auditLog()` is not mounted.
 *
 * @example
 * app.post("/login", (req, res) => {
 *   audit(req).event("authn_login_fail", { email: req.body.email, reason: "bad password" });
 *   res.status(401).end();
 * });
 */
export function audit(req: IncomingMessage): AuditRecorder {
  const context = contextOf(req);
  if (!context) return NOOP_RECORDER;
  return { event: (name, detail, extra) => context.instance.record(req, name, detail, extra) };
}

function severityOf(name: string): SecurityEventLevel {
  return name.startsWith("malicious_") || name.startsWith("excess_") || name.includes("_fail") ? "WARN" : "INFO";
}

function pinoLevelOf(severity: SecurityEventLevel): "info" | "warn" | "error" {
  return severity === "CRITICAL" ? "error" : severity === "WARN" ? "warn" : "info";
}

const DEFAULT_REDACT_SET: ReadonlySet<string> = new Set(DEFAULT_REDACT_KEYS);
const NO_REDACT_SET: ReadonlySet<string> = new Set();

/**
 * The per-request line, built field by field from values that are numbers, validated ids or
 * already neutralised strings, so the log formatter passes it through without walking it.
 * One class gives every request line the same shape.
 */
class RequestLine {
  readonly category = "application";
  readonly reqId: string;
  readonly method: string | undefined;
  readonly route: string | undefined;
  readonly status: number;
  readonly durationMs: number;
  readonly ip: string | undefined;
  path: string | undefined = undefined;
  userId: string | undefined = undefined;
  constructor(
    reqId: string,
    method: string | undefined,
    route: string | undefined,
    status: number,
    durationMs: number,
    ip: string | undefined,
  ) {
    this.reqId = reqId;
    this.method = method;
    this.route = route;
    this.status = status;
    this.durationMs = durationMs;
    this.ip = ip;
  }
}

/** pino's `formatters.log`: redaction by key, neutralised strings, a default `category`. */
function logFormatter(redactKeys: ReadonlySet<string>) {
  return function formatLogObject(object: Record<string, unknown>): Record<string, unknown> {
    if (object instanceof RequestLine) return object;
    const clean = neutraliseObject(object, redactKeys);
    return clean.category === undefined ? { category: "application", ...clean } : clean;
  };
}

const formatLogObject = logFormatter(DEFAULT_REDACT_SET);

// "000" to "999", so a timestamp within a known second is one concatenation.
const MILLIS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, "0"));

/**
 * pino's `isoTime`, formatted once per millisecond from a prefix made once per second: a busy
 * server writes several lines in the same millisecond, and `toISOString()` was a visible share
 * of each line's cost.
 */
function isoTimestamp(): () => string {
  let last = -1;
  let text = "";
  let second = -1;
  let prefix = "";
  return function isoTime() {
    const now = Date.now();
    if (now !== last) {
      last = now;
      const at = Math.floor(now / 1000);
      if (at !== second) {
        second = at;
        // "2026-11-29T15:40:12." from toISOString, once per second.
        prefix = `,"time":"${new Date(at * 1000).toISOString().slice(0, 20)}`;
      }
      text = `${prefix}${MILLIS[now - at * 1000]}Z"`;
    }
    return text;
  };
}

const CLIENT_CLOSED = 499;

function routeOf(req: Req): string | undefined {
  const path = req.route?.path;
  if (path === undefined) return undefined;
  return `${req.baseUrl ?? ""}${typeof path === "string" ? path : String(path)}`;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "";
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  return neutralise(path.length > 200 ? `${path.slice(0, 200)}...` : path);
}

/** `context` when the caller has it: finding it again from `req` costs cache misses at the end of a request. */
function defaultUserId(request: unknown, response: unknown, context = contextOf(request as Req)): unknown {
  const req = request as Req;
  const res = response as Res;
  if (context?.userId !== undefined) return context.userId;
  // `req.user` as passport sets it: an own property (a missing one costs a prototype walk).
  const user = ownProperty(req, "user") as Req["user"];
  const locals = context?.locals ?? res.locals;
  return user?.id ?? locals?.user?.id ?? locals?.userId;
}

function readKey(options: AuditLogOptions["audit"], scope: string): Buffer | undefined {
  let key: Buffer | undefined;
  let option = "audit.hmacKey";
  if (options?.hmacKey !== undefined) {
    if (typeof options.hmacKey !== "string" && !Buffer.isBuffer(options.hmacKey)) {
      optionChecks(scope).fail(option, "a string or a Buffer", options.hmacKey);
    }
    key = keyBytes(options.hmacKey);
  } else if (options?.hmacKeyFile !== undefined) {
    option = "audit.hmacKeyFile";
    const file = optionChecks(scope).string(option, options.hmacKeyFile, "");
    try {
      key = keyBytes(readFileSync(file, "utf8"));
    } catch (error) {
      throw new PalisadeConfigError(
        "ERR_PALISADE_INVALID_OPTION",
        option,
        `${scope}: option \`${option}\` must name a readable key file; ${(error as Error).message}.`,
      );
    }
  } else if (process.env.AUDIT_HMAC_KEY) {
    option = "AUDIT_HMAC_KEY";
    key = keyBytes(process.env.AUDIT_HMAC_KEY);
  }
  if (key && key.length < MIN_KEY_BYTES) {
    throw new PalisadeConfigError(
      "ERR_PALISADE_INVALID_OPTION",
      option,
      `${scope}: ${option === "AUDIT_HMAC_KEY" ? "the environment variable" : "option"} \`${option}\` must be at least ${MIN_KEY_BYTES} bytes, got ${key.length}.`,
    );
  }
  return key;
}

function rotationOf(
  check: ReturnType<typeof optionChecks>,
  prefix: string,
  value: RotationOptions | undefined,
  fallback: Required<RotationOptions>,
): Required<RotationOptions> {
  const rotation = check.object(prefix, value, ROTATION_KEYS) ?? {};
  const maxSize = rotation.maxSize ?? fallback.maxSize;
  if (!Number.isInteger(maxSize) || maxSize < 1024)
    check.fail(`${prefix}.maxSize`, "an integer of at least 1024 (bytes)", maxSize);
  const maxFiles = check.number(`${prefix}.maxFiles`, rotation.maxFiles, fallback.maxFiles, { min: 0, integer: true });
  if (maxFiles === 1) check.fail(`${prefix}.maxFiles`, "0 (keep every file) or at least 2", maxFiles);
  return { maxSize, maxFiles };
}

function canResolve(name: string): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(name);
  } catch {
    return undefined;
  }
}

/**
 * Structured JSON logging and an audit trail on pino: one line per request
 * (method, route template, status, duration, client IP, user id, request id), correlation ids
 * carried through `AsyncLocalStorage`, the sink for `@palisade/core` security events, redaction,
 * rotation, and a hash-chained audit file. Mount it first.
 *
 * @example
 * const log = auditLog({ dir: process.env.LOG_DIR });
 * app.use(log);
 * app.post("/bookings", (req, res) => {
 *   audit(req).event("booking_created", { bookingId: 42 });
 *   res.status(201).json({ id: 42 });
 * });
 * app.use(errorHandler());
 */
export function auditLog(options: Readonly<AuditLogOptions> = {}): AuditLogMiddleware {
  const scope = "auditLog";
  const check = optionChecks(scope);
  check.object("", options, OPTION_KEYS);
  const dir = options.dir === undefined ? undefined : resolve(check.string("dir", options.dir, ""));
  const appFile = check.string("appFile", options.appFile, DEFAULTS.appFile);
  const transportKind = check.oneOf("transport", options.transport, TRANSPORTS, DEFAULTS.transport);
  if (options.transport !== undefined && (dir === undefined || options.destination !== undefined)) {
    throw new PalisadeConfigError(
      "ERR_PALISADE_CONFLICTING_OPTIONS",
      "transport",
      `${scope}: option \`transport\` chooses how \`dir\` is written and needs \`dir\` without \`destination\`.`,
    );
  }
  const level = check.oneOf("level", options.level, LEVELS, defaultLevel());
  const rotation = rotationOf(check, "rotation", options.rotation, {
    maxSize: DEFAULTS.maxSize,
    maxFiles: DEFAULTS.maxFiles,
  });
  const auditOptions = check.object("audit", options.audit, AUDIT_KEYS) ?? {};
  const auditRotation = rotationOf(check, "audit.rotation", auditOptions.rotation, rotation);
  if (auditOptions.file !== undefined && auditOptions.file !== false) check.string("audit.file", auditOptions.file, "");
  const auditFile = auditOptions.file === undefined ? DEFAULTS.auditFile : auditOptions.file;
  const durable = check.boolean("audit.durable", auditOptions.durable, DEFAULTS.durable);
  const fsync = check.boolean("audit.fsync", auditOptions.fsync, DEFAULTS.fsync);
  const extraRedact = check.stringArray("redact", options.redact, []);
  const replaceRedaction = check.boolean(
    "dangerouslyReplaceDefaultRedaction",
    options.dangerouslyReplaceDefaultRedaction,
    false,
  );
  const header = check.string("requestIdHeader", options.requestIdHeader, DEFAULTS.requestIdHeader).toLowerCase();
  if (!/^[a-z0-9-]+$/.test(header)) check.fail("requestIdHeader", "a header name", options.requestIdHeader);
  const trustIncoming = check.boolean("trustIncomingId", options.trustIncomingId, true);
  const maxIdLength = check.number("maxIdLength", options.maxIdLength, DEFAULTS.maxIdLength, {
    min: 1,
    max: 1024,
    integer: true,
  });
  const generateId = check.func<() => string>("generateId", options.generateId, randomUUID)!;
  const userIdOf = check.func<(req: unknown, res: unknown) => unknown>("userId", options.userId, defaultUserId)!;
  const production = check.boolean("production", options.production, process.env.NODE_ENV === "production");
  if (options.logger !== undefined && !isLogger(options.logger)) {
    check.fail("logger", "a logger with a warn(details, message) method", options.logger);
  }
  if (options.destination !== undefined && (typeof options.destination !== "object" || options.destination === null)) {
    check.fail("destination", "a writable stream", options.destination);
  }
  const prettyTarget = canResolve("pino-pretty");
  const prettyDefault =
    level !== "silent" && defaultLevel() === "debug" && !dir && !options.destination && !!prettyTarget;
  const pretty = check.boolean("pretty", options.pretty, prettyDefault);
  if (pretty && (dir || options.destination)) {
    throw new PalisadeConfigError(
      "ERR_PALISADE_CONFLICTING_OPTIONS",
      "pretty",
      `${scope}: option \`pretty\` writes to stdout and cannot be combined with \`${dir ? "dir" : "destination"}\`.`,
    );
  }
  if (pretty && !prettyTarget) {
    check.fail("pretty", "false when the optional peer pino-pretty is not installed", true);
  }
  const key = auditFile && dir ? readKey(auditOptions, scope) : undefined;
  const trust: TrustFunction | undefined =
    options.trustedProxies === undefined ? undefined : compileTrust(options.trustedProxies, "trustedProxies", scope);

  let transport: (DestinationStream & NodeJS.EventEmitter & { end(): void }) | undefined;
  let destination: DestinationStream;
  if (options.destination) {
    destination = options.destination;
  } else if (dir && transportKind === "main") {
    mkdirSync(dir, { recursive: true });
    transport = new RollingFile(canResolve("pino-roll") ?? "pino-roll", {
      file: join(dir, appFile),
      maxSize: rotation.maxSize,
      maxFiles: rotation.maxFiles,
    });
    destination = transport;
  } else if (dir) {
    mkdirSync(dir, { recursive: true });
    transport = pino.transport({
      target: canResolve("pino-roll") ?? "pino-roll",
      options: {
        file: join(dir, appFile),
        size: `${rotation.maxSize}b`,
        mkdir: true,
        // Synchronous writes inside the worker (the event loop is not blocked): pino-roll rolls
        // on "drain", which async writes under steady load rarely emit, and counts the new
        // file when pruning, so `count` is the total number of files kept.
        sync: true,
        ...(rotation.maxFiles > 0 ? { limit: { count: rotation.maxFiles, removeOtherLogFiles: true } } : {}),
      },
    });
    destination = transport;
  } else if (pretty) {
    transport = pino.transport({ target: prettyTarget!, options: { colorize: true, destination: 1 } });
    destination = transport;
  } else {
    destination = pino.destination({ dest: 1, sync: true });
  }

  // Default redaction is by key name inside formatLogObject's walk (any depth, nearly free);
  // pino's path-based redaction, which costs on every line, only runs for paths given here.
  const redact = extraRedact.length > 0 ? { paths: [...extraRedact], censor: "[REDACTED]" } : undefined;
  const formatters = { log: logFormatter(replaceRedaction ? NO_REDACT_SET : DEFAULT_REDACT_SET) };
  const base = { pid: process.pid };
  const timestamp = isoTimestamp();
  let root: Logger;
  try {
    root = pino(
      {
        level,
        base,
        ...(redact ? { redact } : {}),
        timestamp,
        formatters,
      },
      destination,
    );
  } catch (error) {
    throw new PalisadeConfigError(
      "ERR_PALISADE_INVALID_OPTION",
      "redact",
      `${scope}: option \`redact\` must list valid pino redaction paths; ${(error as Error).message}.`,
    );
  }

  const warn = warnOnce(options.logger ?? (root as unknown as PalisadeLogger), scope);
  transport?.on("drop", () => {
    warn("WRN_PALISADE_LOG_TRANSPORT", "app.log cannot keep up: lines beyond its 16 MB buffer are dropped.", {});
  });
  transport?.on("error", (error) => {
    warn("WRN_PALISADE_LOG_TRANSPORT", "the application log transport failed; lines may be lost.", {
      error: String((error as Error)?.message ?? error),
    });
  });

  let writer: ChainWriter | undefined;
  let auditLogger: Logger | undefined;
  if (dir && auditFile) {
    if (!key) {
      warn(
        "WRN_PALISADE_AUDIT_NO_KEY",
        "no HMAC key (AUDIT_HMAC_KEY, audit.hmacKey or audit.hmacKeyFile): the audit trail is written without its tamper-evident chain.",
      );
    }
    const path = join(dir, auditFile);
    writer = writers.get(path);
    if (writer) {
      writer.refs++;
    } else {
      writer = new ChainWriter({
        dir,
        file: auditFile,
        maxSize: auditRotation.maxSize,
        maxFiles: auditRotation.maxFiles,
        key,
        durable,
        fsync,
        onWarning: (code, message, details) => warn(code, message, details),
      });
      writers.set(path, writer);
    }
    auditLogger = pino(
      {
        level: "trace",
        base,
        ...(redact ? { redact } : {}),
        timestamp,
        formatters,
      },
      writer,
    );
  } else if (production) {
    warn("WRN_PALISADE_AUDIT_NO_TRAIL", "no `dir`: audit and security events go to the application log only.");
  }

  const instance: Instance = {
    root,
    audit: auditLogger,
    writer,
    production,
    record(req, name, detail, extra = {}) {
      const severity = extra.level ?? severityOf(name);
      const method = pinoLevelOf(severity);
      const category: Category = BUSINESS.has(name) ? "audit" : "security";
      const entry: Record<string, unknown> = { category, event: name, severity };
      if (extra.description !== undefined) entry.description = extra.description;
      if (extra.source !== undefined) entry.source = extra.source;
      if (req) {
        const context = contextOf(req);
        if (context) entry.reqId = context.requestId;
        entry.method = req.method;
        entry.route = routeOf(req as Req) ?? pathOf(req);
        entry.ip = ipOf(req);
        const userId = safeUserId(req, context?.res, context);
        if (userId !== undefined) entry.userId = userId;
      }
      if (detail !== undefined) entry.detail = detail;
      root[method](entry, name);
      if (!auditLogger || !writer) return undefined;
      auditLogger[method](entry, name);
      return writer.lastSeq;
    },
  };

  // core's clientIp() resolves the address once per request, for every package that asks.
  function ipOf(req: IncomingMessage): string {
    const ip = trust ? clientIp(req, trust) : clientIp(req);
    // proxy-addr returns an untrusted X-Forwarded-For entry as it came.
    return req.headers["x-forwarded-for"] === undefined ? ip : neutralise(ip);
  }

  function safeUserId(req: IncomingMessage, res: ServerResponse | undefined, context?: Context): string | undefined {
    try {
      const id = userIdOf === defaultUserId ? defaultUserId(req, res ?? {}, context) : userIdOf(req, res ?? {});
      return id === undefined || id === null ? undefined : neutralise(String(id));
    } catch {
      return undefined;
    }
  }

  const onSecurityEvent = (event: DeliveredSecurityEvent, req: IncomingMessage) => {
    instance.record(req, event.name, event.detail, {
      level: event.level,
      description: event.description,
      source: event.source,
    });
  };

  // The method is an HTTP token (the parser rejects anything else) and the ip comes from the
  // socket or a validated X-Forwarded-For; route, path and user id are neutralised here.
  const requestLine = (context: Context, durationMs: number, status: number) => {
    const { req, res } = context;
    const route = routeOf(req as Req);
    const line = new RequestLine(
      context.requestId,
      context.method,
      route && neutralise(route),
      status,
      durationMs,
      context.ip,
    );
    if (route === undefined) line.path = pathOf(req);
    line.userId = safeUserId(req, res, context);
    return line;
  };

  // One line per request when the response closes (after it finished, or when the client went
  // away first), at a level by status. pino-http did this before; its middleware added five
  // properties to req and res per request and a child logger, which cost more here than the
  // whole line (see the README's cost section).
  function onResponseClose(res: ServerResponse, bag: Record<PropertyKey, unknown>): void {
    const context = bag[CONTEXT] as Context | undefined;
    if (!context || context.logged || context.instance !== instance) return;
    context.logged = true;
    const durationMs = Math.round(Number(process.hrtime.bigint() - context.start) / 1000) / 1000;
    // Finished means the whole answer reached the socket; anything else is an abort. (One
    // property, the one perf-timing reads too: the first read of each property on a request or
    // response Express has re-prototyped misses V8's caches, a fraction of a µs each.)
    const completed = res.writableFinished;
    // A client that went away before any answer gets nginx's 499 (Client Closed Request)
    // rather than the 200 Node presets on every response.
    const status = completed || res.headersSent ? res.statusCode : CLIENT_CLOSED;
    const line = requestLine(context, durationMs, status);
    const message = completed ? "request completed" : "request aborted";
    try {
      if (status >= 500) root.error(line, message);
      else if (status >= 400) root.warn(line, message);
      else root.info(line, message);
    } catch {
      // A failing log stream must not break the response.
    }
  }

  fallbackHolder.logger = root;

  // `req.id`, as pino-http sets it, without adding a property to every request (see core).
  const setRequestId = requestProperty<string>("id");
  const middleware = function auditLogMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void) {
    const requestId = resolveRequestId(req.headers, header, trustIncoming, maxIdLength, generateId);
    if (!res.hasHeader(header)) res.setHeader(header, requestId);
    // In res.locals (core's request bag), not on req: a property added to req after Express
    // has swapped its prototype costs about 2 µs (see core's requestProperty).
    const context = new Context(req, res, requestId, instance, process.hrtime.bigint());
    context.method = req.method;
    // Here rather than at the end: the router has just read req.headers and req.method, and a
    // first read of a property at the end, after Express changed the request, is a cache miss.
    context.ip = ipOf(req);
    context.locals = (res as Res).locals;
    requestBag(req)[CONTEXT] = context;
    setRequestId(req, requestId);
    attachSecurityEventSink(req, onSecurityEvent);
    onResponseDone(req, res, onResponseClose);
    enterRequestScope(req, res, next);
  } as unknown as AuditLogMiddleware;

  let closing: Promise<void> | undefined;
  Object.defineProperties(middleware, {
    logger: { value: root, enumerable: true },
    auditFile: { get: () => writer?.path, enumerable: true },
    event: {
      value: (name: AuditEventName, detail?: Record<string, unknown>, extra?: AuditEventOptions) =>
        instance.record(currentRequest()?.req, name, detail, extra),
      enumerable: true,
    },
    close: {
      value: () => {
        closing ??= new Promise<void>((done) => {
          if (fallbackHolder.logger === root) fallbackHolder.logger = undefined;
          if (writer && --writer.refs === 0) {
            writer.close();
            writers.delete(join(writer.dir, auditFile || ""));
          }
          if (!transport) {
            root.flush(() => done());
            return;
          }
          // The transport's worker is unref'd: hold the event loop open until it has flushed
          // (bounded, so a stuck worker cannot hang shutdown).
          const keepAlive = setTimeout(done, 10_000);
          transport.once("close", () => {
            clearTimeout(keepAlive);
            done();
          });
          transport.end();
        });
        return closing;
      },
      enumerable: true,
    },
  });
  return middleware;
}

/** Options of {@link errorHandler}. */
export interface ErrorHandlerOptions {
  /**
   * Send no error message for 5xx responses (only the status title and the incident id).
   * Defaults to `auditLog()`'s `production`, else `NODE_ENV === "production"`.
   */
  production?: boolean;
}

const ERROR_HANDLER_KEYS = ["production"] as const satisfies readonly (keyof ErrorHandlerOptions)[];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type HttpError = Error & { status?: unknown; statusCode?: unknown; expose?: unknown };

function statusOf(error: HttpError | undefined): number {
  const status = error?.status ?? error?.statusCode;
  return typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

/**
 * The last middleware: logs each error once (request id, route, stack) and answers RFC 9457
 * `application/problem+json` carrying the incident id (the request id). In production a 5xx
 * answer holds no error message, stack, SQL or other internals; 4xx errors marked `expose`
 * (http-errors, body-parser) keep their message.
 *
 * @example
 * app.use(auditLog({ dir: process.env.LOG_DIR }));
 * // ... routes ...
 * app.use(errorHandler());
 */
export function errorHandler(options: Readonly<ErrorHandlerOptions> = {}): ErrorRequestHandler {
  const check = optionChecks("errorHandler");
  check.object("", options, ERROR_HANDLER_KEYS);
  const productionOption =
    options.production === undefined ? undefined : check.boolean("production", options.production, false);
  const logged = new WeakSet<object>();

  function auditLogErrorHandler(
    thrown: unknown,
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    const error = (thrown instanceof Error ? thrown : new Error(String(thrown))) as HttpError;
    const context = contextOf(req);
    const production = productionOption ?? context?.instance.production ?? process.env.NODE_ENV === "production";
    const status = statusOf(error);
    const incidentId =
      context?.requestId ??
      (typeof (req as { id?: unknown }).id === "string" ? String((req as { id?: unknown }).id) : randomUUID());
    const key = typeof thrown === "object" && thrown !== null ? thrown : error;
    if (!logged.has(key)) {
      logged.add(key);
      const log = context?.logger ?? logger();
      const entry = {
        category: "application",
        err: error,
        status,
        method: req.method,
        route: routeOf(req as Req) ?? pathOf(req),
        incidentId,
        ...(context ? {} : { reqId: incidentId }),
      };
      try {
        if (status >= 500) log.error(entry, "request error");
        else log.warn(entry, "request error");
      } catch {
        // A failing logger must not stop the error response.
      }
    }
    if (res.headersSent) {
      next(thrown);
      return;
    }
    const exposeMessage = status < 500 ? error.expose !== false : !production;
    sendProblem(res, status, {
      ...(exposeMessage && error.message ? { detail: neutralise(error.message) } : {}),
      ...(UUID.test(incidentId) ? { instance: `urn:uuid:${incidentId}` } : {}),
      incidentId,
    });
  }
  return auditLogErrorHandler as ErrorRequestHandler;
}
