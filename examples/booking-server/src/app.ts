import { dirname } from "node:path";
import { csrfProtection, ipAllowlist } from "@palisade/access-control";
import { audit, auditLog, errorHandler } from "@palisade/audit-log";
import { compileTrust, type DeliveredSecurityEvent, sendProblem } from "@palisade/core";
import { type HealthChecks, healthChecks, pingCheck } from "@palisade/health-checks";
import { inputSanitizer } from "@palisade/input-sanitizer";
import { perfTiming } from "@palisade/perf-timing";
import { type RateLimitOptions, rateLimit } from "@palisade/rate-limit";
import { cspReportHandler, noStore, securityHeaders, securityReport } from "@palisade/security-headers";
import { instrument, optimize, sqliteCheck, walWatchdog } from "@palisade/sqlite-tuning";
import compression from "compression";
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import { authenticate, requireUser } from "./auth.js";
import type { Config } from "./config.js";
import type { AppContext, AuditSink } from "./context.js";
import type { DB } from "./db.js";
import { HttpError } from "./http-error.js";
import { logDirCheck, logDirUsable } from "./log-dir.js";
import { type PaymentProvider, testPaymentProvider } from "./payments.js";
import { adminRoutes } from "./routes/admin.js";
import { appointmentRoutes } from "./routes/appointments.js";
import { authRoutes } from "./routes/auth.js";
import { catalogRoutes } from "./routes/catalog.js";
import { createStore } from "./store.js";
import { webRoutes } from "./web/pages.js";

export interface AppOptions {
  config: Config;
  db: DB;
  payments?: PaymentProvider;
  /** Receives every business and security event the routes raise, besides the audit log (tests). */
  audit?: AuditSink;
  now?: () => Date;
  log?: AppContext["log"];
  /** `false` mounts the routes with none of the Palisade middleware (the load bench's baseline). Defaults to `config.palisade`. */
  palisade?: boolean;
  /** A connected node-redis client: rate-limit counters shared by every process. */
  redis?: RateLimitOptions["redis"];
  /**
   * Multiplies the per-client limits by 1000, so that one address sending thousands of requests
   * (an attack tool in the security tests, a race test) reaches the routes. Defaults to `false`.
   */
  relaxedLimits?: boolean;
}

export interface Platform {
  app: Express;
  /** Where process-level events (health changes, startup, shutdown) go: the audit trail. */
  onEvent(event: DeliveredSecurityEvent): void;
  /** The health-check instance (lifecycle() drives its readiness); absent with `palisade: false`. */
  health?: HealthChecks;
  /** Stops background work and flushes the logs. */
  close(): Promise<void>;
}

// Free-text fields where people write "<3", "drop by at 5" and O'Brien: those are escaped at
// output (the pages use textContent), so XSS-looking text is stored, not refused.
const FREE_TEXT = [{ route: "/api/appointments", field: "body.notes", kinds: ["xss" as const] }];

/** Builds the booking platform: every Palisade package composed around the routes. */
export function createPlatform(options: AppOptions): Platform {
  const { config } = options;
  const palisade = options.palisade ?? config.palisade;
  const instrumentation = palisade ? instrument(options.db, { slowMs: 250 }) : undefined;
  const store = createStore(options.db);
  const ctx: AppContext = {
    config,
    store,
    payments: options.payments ?? testPaymentProvider(),
    audit: (req, name, detail) => {
      audit(req).event(name, detail);
      options.audit?.(req, name, detail);
    },
    now: options.now ?? (() => new Date()),
    log: options.log ?? (() => {}),
  };

  const app = express();
  app.disable("x-powered-by");
  // No ETags on dynamic responses: API answers are no-store and every page carries a fresh CSP
  // nonce, so a hash of each body (SHA-1 per response) could never produce a 304. Static assets
  // keep theirs (express.static sets its own, with immutable caching).
  app.set("etag", false);
  // A proxy list goes in compiled by core: Express's req.ip and every package's clientIp() then
  // share one function, whose answers per address are remembered and whose result per request
  // is computed once (proxy-addr alone parsed the socket's IPv6 address each time, ~20 µs per
  // request under load across the callers).
  app.set(
    "trust proxy",
    Array.isArray(config.trustProxy) ? compileTrust(config.trustProxy, "TRUST_PROXY") : config.trustProxy,
  );

  const json = express.json({ limit: "64kb" });
  if (!palisade) return { app: bareApp(app, ctx, json), onEvent: () => {}, close: async () => {} };

  // An unusable LOG_DIR must not take the service down: logs go to stdout and health reports it.
  const logDir = logDirUsable(config.logDir);
  const logs = auditLog({
    ...(logDir.ok ? { dir: config.logDir } : {}),
    audit: config.auditHmacKey ? { hmacKey: config.auditHmacKey } : {},
    userId: (req) => (req as express.Request).user?.id,
    production: config.nodeEnv === "production",
  });
  const onEvent = (event: DeliveredSecurityEvent) => {
    logs.event(event.name, event.detail ?? {}, {
      level: event.level,
      ...(event.description ? { description: event.description } : {}),
    });
  };
  const perf = perfTiming({ slowMs: 1000, logger: logs.logger });
  const scale = options.relaxedLimits ? 1000 : 1;
  const limiterBase = options.redis ? { redis: options.redis } : {};
  const apiLimit = rateLimit({ preset: "api", limit: 300 * scale, ...limiterBase });
  const sensitive = rateLimit({ preset: "sensitive", limit: 5 * scale, ...limiterBase });
  const expensive = rateLimit({ preset: "expensive", limit: 20 * scale, ...limiterBase });
  const adminOnly = ipAllowlist(config.adminAllow, { app });
  const pageHeaders = securityHeaders({ preset: "webApp", reporting: { endpoint: "/security/csp-reports" } });
  const apiHeaders = securityHeaders({ preset: "api" });

  const health = healthChecks({
    protect: adminOnly,
    performance: perf,
    metrics: perf.metricsHandler(),
    businessMetrics: () => store.metrics(ctx.now()),
    dataDir: dirname(config.databaseFile),
    version: { name: "booking-server", version: "1.0.0" },
    onEvent,
    logger: logs.logger,
  });
  health.registerCheck("sqlite:responseTime", sqliteCheck(options.db), { componentType: "datastore" });
  const watchdog = walWatchdog(options.db);
  health.registerCheck("logs:writable", logDirCheck(config.logDir, logDir.ok ? undefined : logDir.error), {
    componentType: "system",
    critical: false,
  });
  if (options.redis) {
    const redis = options.redis as unknown as { ping(): Promise<unknown> };
    health.registerCheck(
      "redis:responseTime",
      pingCheck(() => redis.ping()),
      { componentType: "datastore", critical: false },
    );
  }

  app.use(logs);
  app.use(perf);
  app.use(compression({ threshold: 1024 }));
  app.use("/api", apiHeaders);
  app.use(pageHeaders);

  const api = express.Router();
  api.use(apiLimit);
  api.use(json);
  api.use(
    inputSanitizer({
      mode: "block",
      paranoiaLevel: 1,
      fields: {
        "body.email": "email",
        "body.barberId": "int",
        "body.serviceId": "int",
        "body.startTime": "isoDate",
        "query.date": "date",
        "query.serviceId": "int",
      },
      allow: FREE_TEXT,
    }),
  );
  api.use(authenticate(store));
  api.use(
    csrfProtection({
      ...(config.csrfSecret ? { secret: config.csrfSecret } : {}),
      sessionId: (req) => (req as express.Request).sessionToken,
      // Bearer tokens are never sent by a browser on its own: not CSRF-prone.
      skip: (req) => (req as express.Request).authMethod === "bearer",
      // A request with no session cookie and no browser headers (curl, server to server) has nothing to forge.
      headerless: (req) => ((req as express.Request).authMethod === "cookie" ? "token" : "allow"),
    }),
  );
  // One router layer for the four paths (Express matches an array of paths in one layer).
  api.post(
    ["/auth/login", "/auth/register", "/auth/password-reset/request", "/auth/password-reset/confirm"],
    sensitive,
  );
  api.use("/auth", authRoutes({ ...ctx, onLoginFailed: (req) => sensitive.fail(req) }));
  api.get("/search", expensive);
  api.use(catalogRoutes(ctx));
  api.use("/appointments", appointmentRoutes(ctx));
  api.use("/admin", adminOnly, adminRoutes(ctx));
  app.use("/api", noStore(), api);
  // Operations endpoints after the API: API requests, the bulk of the traffic, do not walk
  // their layers (every layer Express checks costs about a microsecond per request).
  app.use("/monitoring", health);
  app.get("/performance", adminOnly, (_req, res) => {
    const stats = perf.stats();
    res.setHeader("Cache-Control", "no-store");
    res.json({ ...stats, score: perf.score(stats), database: instrumentation?.stats().slice(0, 20) });
  });
  app.get("/metrics", adminOnly, perf.metricsHandler());
  app.post("/security/csp-reports", cspReportHandler());
  app.get("/security", adminOnly, noStore(), (req, res) => {
    res.json(
      securityReport(
        { pages: pageHeaders, api: apiHeaders },
        { req, https: Boolean(config.tls), redirectsToHttps: config.httpPort !== undefined },
      ),
    );
  });

  app.use(webRoutes());

  app.use((req, res) => {
    sendProblem(res, 404, { detail: `No route for ${req.method} ${req.path}.` });
  });
  app.use(problemErrors);
  app.use(errorHandler());

  return {
    app,
    health,
    onEvent,
    async close() {
      health.close();
      perf.close();
      instrumentation?.stop();
      watchdog.stop();
      if (options.db.open) optimize(options.db);
      await logs.close();
    },
  };
}

/** Builds the app alone (tests that need no lifecycle). */
export function createBookingApp(options: AppOptions): Express {
  return createPlatform(options).app;
}

/** Route errors the app raises on purpose become problem+json; anything else goes on to errorHandler(). */
const problemErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (error instanceof HttpError) return sendProblem(res, error.status, { detail: error.message, ...error.extra });
  if (error?.type === "entity.parse.failed") return sendProblem(res, 400, { detail: "The body is not valid JSON." });
  next(error);
};

/** The same routes with no Palisade middleware: the baseline the load bench measures against. */
function bareApp(app: Express, ctx: AppContext, json: RequestHandler): Express {
  // The same app without Palisade: compression is the app's own, so it stays.
  app.use(compression({ threshold: 1024 }));
  app.get("/monitoring/liveness", (_req, res) => {
    res.json({ status: "pass" });
  });
  const api = express.Router();
  api.use(json);
  api.use(authenticate(ctx.store));
  api.use("/auth", authRoutes(ctx));
  api.use(catalogRoutes(ctx));
  api.use("/appointments", appointmentRoutes(ctx));
  api.use("/admin", requireUser("admin"), adminRoutes(ctx));
  app.use("/api", api);
  app.use(webRoutes());
  app.use(problemErrors);
  app.use(((error, _req, res, _next) => {
    sendProblem(res, typeof error?.status === "number" ? error.status : 500);
  }) as ErrorRequestHandler);
  return app;
}
