import { sendProblem } from "@palisade/core";
import express, { type ErrorRequestHandler, type Express } from "express";
import { authenticate } from "./auth.js";
import type { Config } from "./config.js";
import type { AppContext, AuditSink } from "./context.js";
import type { DB } from "./db.js";
import { HttpError } from "./http-error.js";
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
  audit?: AuditSink;
  now?: () => Date;
  log?: AppContext["log"];
}

/** Builds the booking platform's Express app on an open, migrated database. */
export function createBookingApp(options: AppOptions): Express {
  const ctx: AppContext = {
    config: options.config,
    store: createStore(options.db),
    payments: options.payments ?? testPaymentProvider(),
    audit: options.audit ?? (() => {}),
    now: options.now ?? (() => new Date()),
    log: options.log ?? (() => {}),
  };

  const app = express();
  app.disable("x-powered-by");

  // Until @palisade/health-checks is mounted, scripts wait on this.
  app.get("/monitoring/liveness", (_req, res) => {
    res.json({ status: "pass" });
  });

  const api = express.Router();
  api.use(express.json({ limit: "64kb" }));
  api.use(authenticate(ctx.store));
  api.use("/auth", authRoutes(ctx));
  api.use(catalogRoutes(ctx));
  api.use("/appointments", appointmentRoutes(ctx));
  api.use("/admin", adminRoutes(ctx));
  app.use("/api", (_req, res, next) => {
    // Authenticated API answers are personal: never cached by browsers or proxies.
    res.setHeader("Cache-Control", "no-store");
    next();
  });
  app.use("/api", api);
  app.use(webRoutes());

  app.use((req, res) => {
    sendProblem(res, 404, { detail: `No route for ${req.method} ${req.path}.` });
  });

  const errors: ErrorRequestHandler = (error, _req, res, _next) => {
    if (error instanceof HttpError) {
      return sendProblem(res, error.status, { detail: error.message, ...error.extra });
    }
    // body-parser's errors carry a status and a type; their messages are safe to show.
    const status = typeof error?.status === "number" ? error.status : 500;
    if (status >= 400 && status < 500) {
      const detail = error.type === "entity.parse.failed" ? "The body is not valid JSON." : String(error.message);
      return sendProblem(res, status, { detail });
    }
    ctx.log("unhandled error", { error: String(error?.stack ?? error) });
    sendProblem(res, 500, { detail: "Something went wrong on our side." });
  };
  app.use(errors);
  return app;
}
