import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { attachSecurityEventSink, type DeliveredSecurityEvent, PalisadeConfigError } from "@palisade/core";
import { recordingLogger, tempDir, tempSqlite } from "@palisade/test-utils";
import express, { type RequestHandler } from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { healthChecks } from "./health-checks.js";
import type { HealthChecksOptions } from "./options.js";

function mounted(options: HealthChecksOptions = {}) {
  const health = healthChecks({ builtInChecks: false, logger: recordingLogger(), ...options });
  const app = express();
  app.use("/monitoring", health);
  return { app, health };
}

function thrown(fn: () => unknown): PalisadeConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PalisadeConfigError) return error;
    throw error;
  }
  throw new Error("expected a PalisadeConfigError");
}

const never = () => new Promise<never>(() => {});

describe("healthChecks()", () => {
  describe("GET /health", () => {
    it("answers application/health+json pass with 200 when every check passes", async () => {
      const { app, health } = mounted();
      health.registerCheck("app:ok", () => true);
      const res = await request(app).get("/monitoring/health");
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("application/health+json");
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(JSON.parse(res.text)).toEqual({ status: "pass" });
      health.close();
    });

    it("answers fail with 503 when a critical check fails", async () => {
      const { app, health } = mounted();
      health.registerCheck("queue:depth", () => {
        throw new Error("queue unreachable");
      });
      const res = await request(app).get("/monitoring/health");
      expect(res.status).toBe(503);
      expect(JSON.parse(res.text)).toEqual({ status: "fail" });
      health.close();
    });

    it("answers warn with 200 when only a non-critical check fails", async () => {
      const { app, health } = mounted();
      health.registerCheck("cache:hitRatio", () => false, { critical: false });
      const res = await request(app).get("/monitoring/health");
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual({ status: "warn" });
      health.close();
    });

    it("serves cached results: requests never call the check", async () => {
      const { app, health } = mounted();
      let calls = 0;
      health.registerCheck("app:calls", () => {
        calls++;
      });
      await health.whenChecked();
      for (let i = 0; i < 20; i++) await request(app).get("/monitoring/health").expect(200);
      expect(calls).toBe(1);
      health.close();
    });

    it("runs each check again every intervalMs in the background", async () => {
      const { health } = mounted();
      let calls = 0;
      health.registerCheck(
        "app:calls",
        () => {
          calls++;
        },
        { intervalMs: 5 },
      );
      while (calls < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      health.close();
      const after = calls;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(calls).toBe(after);
    });

    it("answers HEAD with the status and no body", async () => {
      const { app, health } = mounted();
      const res = await request(app).head("/monitoring/health");
      expect(res.status).toBe(200);
      expect(res.text).toBeUndefined();
      health.close();
    });

    it("works mounted at the root and lets other paths and methods through", async () => {
      const health = healthChecks({ builtInChecks: false });
      const app = express();
      app.use(health);
      app.all("/{*rest}", (_req, res) => {
        res.status(404).send("app");
      });
      expect((await request(app).get("/health/?x=1")).status).toBe(200);
      expect((await request(app).post("/health")).text).toBe("app");
      expect((await request(app).get("/healthz")).text).toBe("app");
      health.close();
    });
  });

  describe("GET /health/detailed", () => {
    it("reports each check in the IETF shape, keyed component:measurement", async () => {
      const { app, health } = mounted({ version: { name: "booking", version: "1.4.0" } });
      health.registerCheck(
        "sqlite:responseTime",
        () => ({ observedValue: 3, observedUnit: "ms", details: { walBytes: 4096 } }),
        { componentType: "datastore" },
      );
      health.registerCheck("app:slow", () => ({ status: "warn", output: "slow" }), { critical: false });
      const res = await request(app).get("/monitoring/health/detailed");
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("application/health+json");
      const report = JSON.parse(res.text);
      expect(report).toMatchObject({
        status: "warn",
        serviceId: "booking",
        releaseId: "1.4.0",
        output: "not passing: app:slow",
      });
      expect(report.checks["sqlite:responseTime"]).toEqual([
        {
          componentType: "datastore",
          status: "pass",
          observedValue: 3,
          observedUnit: "ms",
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          critical: true,
          durationMs: expect.any(Number),
          details: { walBytes: 4096 },
        },
      ]);
      expect(report.checks["app:slow"][0]).toMatchObject({ status: "warn", output: "slow", critical: false });
      health.close();
    });

    it("still answers when a check never resolves, reporting it as fail after its timeout", async () => {
      const { app, health } = mounted();
      health.registerCheck("payments:ping", never, { timeoutMs: 50 });
      const res = await request(app).get("/monitoring/health/detailed");
      expect(res.status).toBe(503);
      expect(JSON.parse(res.text).checks["payments:ping"][0]).toMatchObject({
        status: "fail",
        output: "timed out after 50 ms",
      });
      health.close();
    });

    it("aborts the signal of a check that times out", async () => {
      const { health } = mounted();
      let aborted: unknown;
      health.registerCheck(
        "payments:ping",
        (signal) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener("abort", () => {
              aborted = signal.reason;
              reject(signal.reason);
            });
          }),
        { timeoutMs: 20 },
      );
      await health.whenChecked();
      expect(String(aborted)).toBe("Error: timed out after 20 ms");
      health.close();
    });

    it("does not call a hung check again, and warns once", async () => {
      const logger = recordingLogger();
      const { health } = mounted({ logger });
      let calls = 0;
      health.registerCheck(
        "payments:ping",
        () => {
          calls++;
          return never();
        },
        { timeoutMs: 20 },
      );
      await health.whenChecked();
      await health.runChecks();
      await health.runChecks();
      expect(calls).toBe(1);
      expect(health.report().checks["payments:ping"]![0]!.status).toBe("fail");
      expect(logger.withCode("WRN_PALISADE_HEALTH_CHECK_HUNG")).toHaveLength(1);
      health.close();
    });
  });

  describe("GET /liveness and /readiness", () => {
    it("keeps liveness 200 while the database check fails, and turns readiness 503", async () => {
      const sqlite = tempSqlite();
      const { app, health } = mounted();
      health.registerCheck(
        "sqlite:responseTime",
        () => {
          sqlite.db.prepare("select 1").get();
        },
        { componentType: "datastore" },
      );
      await health.whenChecked();
      expect((await request(app).get("/monitoring/readiness")).status).toBe(200);
      sqlite.db.close();
      await health.runChecks();
      const live = await request(app).get("/monitoring/liveness");
      expect(live.status).toBe(200);
      expect(JSON.parse(live.text)).toEqual({ status: "pass" });
      const ready = await request(app).get("/monitoring/readiness");
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.text)).toEqual({ status: "fail", output: "a critical check is failing" });
      const db = await request(app).get("/monitoring/database/status");
      expect(db.status).toBe(503);
      expect(JSON.parse(db.text).checks["sqlite:responseTime"][0]).toMatchObject({
        status: "fail",
        output: "The database connection is not open",
      });
      health.close();
      sqlite.cleanup();
    });

    it("lists a check whose result says componentType datastore on /database/status, extra fields as details", async () => {
      const sqlite = tempSqlite();
      sqlite.db.pragma("journal_mode = WAL");
      const { app, health } = mounted();
      // The shape of sqlite-tuning's sqliteCheck(db): IETF fields and facts side by side.
      health.registerCheck("sqlite:database", async () => {
        sqlite.db.prepare("select 1").get();
        return {
          status: "pass" as const,
          componentType: "datastore" as const,
          observedValue: 0.4,
          observedUnit: "ms" as const,
          time: "ignored",
          pageCount: Number(sqlite.db.pragma("page_count", { simple: true })),
          walBytes: 0,
        };
      });
      health.registerCheck("app:other", () => true);
      const res = await request(app).get("/monitoring/database/status");
      expect(res.status).toBe(200);
      const report = JSON.parse(res.text);
      expect(Object.keys(report.checks)).toEqual(["sqlite:database"]);
      expect(report.checks["sqlite:database"][0]).toMatchObject({
        componentType: "datastore",
        status: "pass",
        observedValue: 0.4,
        observedUnit: "ms",
        time: expect.stringMatching(/^\d{4}-/),
        details: { pageCount: expect.any(Number), walBytes: 0 },
      });
      health.close();
      sqlite.cleanup();
    });

    it("fails liveness only through checks registered with liveness: true", async () => {
      const { app, health } = mounted();
      let stuck = false;
      health.registerCheck("eventloop:stuck", () => !stuck, { critical: false, liveness: true });
      health.registerCheck("db:ping", () => false);
      await health.whenChecked();
      expect((await request(app).get("/monitoring/liveness")).status).toBe(200);
      stuck = true;
      await health.runChecks();
      const res = await request(app).get("/monitoring/liveness");
      expect(res.status).toBe(503);
      expect(JSON.parse(res.text)).toEqual({ status: "fail", output: "a liveness check is failing" });
      health.close();
    });

    it("answers readiness 503 until the first check results arrive", async () => {
      const { app, health } = mounted();
      health.registerCheck("slow:start", () => new Promise((resolve) => setTimeout(resolve, 30)));
      const early = await request(app).get("/monitoring/readiness");
      expect(early.status).toBe(503);
      expect(JSON.parse(early.text)).toEqual({ status: "fail", output: "starting" });
      await health.whenChecked();
      expect((await request(app).get("/monitoring/readiness")).status).toBe(200);
      health.close();
    });

    it.each(["starting", "draining", "stopped"] as const)("answers readiness 503 while %s", async (state) => {
      const { app, health } = mounted();
      health.setState(state);
      const res = await request(app).get("/monitoring/readiness");
      expect(res.status).toBe(503);
      expect(JSON.parse(res.text)).toEqual({ status: "fail", output: state });
      expect((await request(app).get("/monitoring/liveness")).status).toBe(200);
      health.close();
    });
  });

  describe("events", () => {
    it("sends sys_health_fail on failure and sys_health_recover on recovery to onEvent", async () => {
      const events: DeliveredSecurityEvent[] = [];
      const { health } = mounted({ onEvent: (event) => events.push(event) });
      let up = false;
      health.registerCheck("redis:ping", () => {
        if (!up) throw new Error("ECONNREFUSED");
      });
      await health.whenChecked();
      up = true;
      await health.runChecks();
      await health.runChecks();
      expect(events.map((event) => [event.name, event.level])).toEqual([
        ["sys_health_fail", "CRITICAL"],
        ["sys_health_recover", "INFO"],
      ]);
      expect(events[0]).toMatchObject({
        source: "@palisade/health-checks",
        description: 'health check "redis:ping" failed: ECONNREFUSED',
        detail: { check: "redis:ping", critical: true, status: "fail" },
        time: expect.any(String),
      });
      health.close();
    });

    it("writes events to the logger without onEvent", async () => {
      const logger = recordingLogger();
      const { health } = mounted({ logger });
      health.registerCheck("cache:ping", () => false, { critical: false });
      await health.whenChecked();
      expect(logger.entries).toEqual([
        expect.objectContaining({
          level: "warn",
          message: 'health check "cache:ping" failed: check returned false',
          details: { event: expect.objectContaining({ name: "sys_health_fail", level: "WARN" }) },
        }),
      ]);
      health.close();
    });
  });

  describe("protection of the detailed endpoints", () => {
    it.each(["/health/detailed", "/status", "/database/status", "/performance/summary", "/version"])(
      "refuses %s to a forwarded non-loopback client by default",
      async (path) => {
        const { app, health } = mounted();
        const res = await request(app).get(`/monitoring${path}`).set("X-Forwarded-For", "203.0.113.9");
        expect(res.status).toBe(403);
        expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
        expect(JSON.parse(res.text)).toEqual({
          type: "about:blank",
          title: "Forbidden",
          status: 403,
          detail: "This monitoring endpoint answers loopback clients only.",
        });
        health.close();
      },
    );

    it("refuses a client resolved through the app's trust proxy setting", async () => {
      const { app, health } = mounted();
      app.set("trust proxy", "loopback");
      const res = await request(app).get("/monitoring/status").set("X-Forwarded-For", "198.51.100.7");
      expect(res.status).toBe(403);
      health.close();
    });

    it("keeps /health, /liveness and /readiness public", async () => {
      const { app, health } = mounted();
      for (const path of ["/health", "/liveness", "/readiness"]) {
        const res = await request(app).get(`/monitoring${path}`).set("X-Forwarded-For", "203.0.113.9");
        expect(res.status, path).toBe(200);
      }
      health.close();
    });

    it("emits authz_fail through core to the request's sinks", async () => {
      const events: string[] = [];
      const health = healthChecks({ builtInChecks: false });
      const app = express();
      app.use((req, _res, next) => {
        attachSecurityEventSink(req, (event) => events.push(`${event.name}:${event.level}:${event.source}`));
        next();
      });
      app.use("/monitoring", health);
      await request(app).get("/monitoring/status").set("X-Forwarded-For", "203.0.113.9").expect(403);
      expect(events).toEqual(["authz_fail:WARN:@palisade/health-checks"]);
      health.close();
    });

    it("uses the given protect middleware instead", async () => {
      const protect: RequestHandler = (req, res, next) => {
        if (req.get("x-admin") === "yes") next();
        else res.status(401).json({ error: "admin only" });
      };
      const { app, health } = mounted({ protect });
      expect((await request(app).get("/monitoring/version")).status).toBe(401);
      expect((await request(app).get("/monitoring/version").set("x-admin", "yes")).status).toBe(200);
      health.close();
    });

    it("passes an error from protect to the app's error handler", async () => {
      const { app, health } = mounted({ protect: (_req, _res, next) => next(new Error("denied")) });
      app.use(((error, _req, res, _next) => {
        res.status(418).send(String(error.message));
      }) as express.ErrorRequestHandler);
      const res = await request(app).get("/monitoring/status");
      expect([res.status, res.text]).toEqual([418, "denied"]);
      health.close();
    });
  });

  describe("GET /status", () => {
    it("reports CPU, memory, disk, uptime and event loop of the process", async () => {
      const dir = tempDir();
      const { app, health } = mounted({ dataDir: dir.path, builtInChecks: true });
      await health.whenChecked();
      const res = await request(app).get("/monitoring/status");
      expect(res.status).toBe(200);
      const report = JSON.parse(res.text);
      expect(Object.keys(report.checks).sort()).toEqual([
        "cpu:loadAverage",
        "cpu:utilization",
        "disk:free",
        "eventloop:delay",
        "eventloop:utilization",
        "memory:heapUsed",
        "memory:rss",
        "memory:system",
        "memory:utilization",
        "uptime:process",
        "uptime:system",
      ]);
      expect(report.checks["disk:free"][0]).toMatchObject({
        observedUnit: "bytes",
        details: { path: dir.path, totalBytes: expect.any(Number) },
      });
      expect(report.checks["memory:rss"][0]).toMatchObject({ componentType: "system", observedUnit: "bytes" });
      expect(report.checks["memory:rss"][0].observedValue).toBeGreaterThan(0);
      health.close();
      dir.cleanup();
    });
  });

  describe("GET /version", () => {
    it("serves name, version, commit and build time from a JSON file, plus the Node version", async () => {
      const dir = tempDir();
      const file = join(dir.path, "version.json");
      writeFileSync(file, JSON.stringify({ name: "booking", version: "2.0.0", commit: "abc123", extra: 1 }));
      const { app, health } = mounted({ version: file });
      const res = await request(app).get("/monitoring/version");
      expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(res.body).toEqual({ name: "booking", version: "2.0.0", commit: "abc123", node: process.version });
      health.close();
      dir.cleanup();
    });

    it("reads GIT_COMMIT and BUILD_TIME from the environment by default", async () => {
      process.env.GIT_COMMIT = "feedbeef";
      process.env.BUILD_TIME = "2026-11-29T12:00:00Z";
      try {
        const { app, health } = mounted();
        const res = await request(app).get("/monitoring/version");
        expect(res.body).toMatchObject({ commit: "feedbeef", buildTime: "2026-11-29T12:00:00Z" });
        health.close();
      } finally {
        delete process.env.GIT_COMMIT;
        delete process.env.BUILD_TIME;
      }
    });
  });

  describe("GET /performance/summary and /metrics", () => {
    it("serves the performance source's stats and score with the business metrics", async () => {
      const stats = { requests: 10, p99Ms: 12 };
      const { app, health } = mounted({
        performance: { stats: () => stats, score: (s: typeof stats) => 100 - s.p99Ms },
        businessMetrics: async () => ({ activeUsers: 3, upcomingAppointments: 7, revenue: 420 }),
      });
      const res = await request(app).get("/monitoring/performance/summary");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        time: expect.any(String),
        performance: { score: 88, stats },
        business: { activeUsers: 3, upcomingAppointments: 7, revenue: 420 },
      });
      health.close();
    });

    it("accepts a middleware function carrying stats() and score(), as perf-timing's instance is", async () => {
      const stats = { latency: { p99: 5 } };
      const timing = Object.assign(((_req, _res, next) => next()) as RequestHandler, {
        stats: () => stats,
        score: (given?: typeof stats) => (given === stats ? 97 : 0),
      });
      const { app, health } = mounted({ performance: timing });
      const res = await request(app).get("/monitoring/performance/summary");
      expect(res.body.performance).toEqual({ score: 97, stats });
      health.close();
    });

    it("bounds the business metrics provider by timeoutMs", async () => {
      const { app, health } = mounted({ timeoutMs: 30, businessMetrics: never });
      const res = await request(app).get("/monitoring/performance/summary");
      expect(res.body).toEqual({ time: expect.any(String), business: null, businessError: "timed out after 30 ms" });
      health.close();
    });

    it("delegates /metrics to the given handler, behind protect", async () => {
      const metrics: RequestHandler = (_req, res) => {
        res.type("text/plain").send("http_requests_total 1\n");
      };
      const { app, health } = mounted({ metrics });
      const res = await request(app).get("/monitoring/metrics");
      expect(res.text).toBe("http_requests_total 1\n");
      expect((await request(app).get("/monitoring/metrics").set("X-Forwarded-For", "203.0.113.9")).status).toBe(403);
      health.close();
    });

    it("lets /metrics fall through without a handler", async () => {
      const { app, health } = mounted();
      expect((await request(app).get("/monitoring/metrics")).status).toBe(404);
      health.close();
    });
  });

  describe("options", () => {
    it("names a misspelled option and suggests the right one", () => {
      const error = thrown(() => healthChecks({ timeout: 5 } as HealthChecksOptions));
      expect(error.message).toBe("healthChecks: unknown option `timeout`. Did you mean `timeoutMs`?");
      expect(error.code).toBe("ERR_PALISADE_UNKNOWN_OPTION");
    });

    it("rejects a non-positive timeout with the exact message", () => {
      expect(thrown(() => healthChecks({ timeoutMs: 0 })).message).toBe(
        "healthChecks: option `timeoutMs` must be an integer from 1 to 2147483647, got 0.",
      );
    });

    it("rejects a performance source without stats()", () => {
      expect(thrown(() => healthChecks({ performance: {} as never })).message).toBe(
        "healthChecks: option `performance` must be an object with a stats() method, got an object.",
      );
    });

    it("rejects an unreadable version file", () => {
      expect(thrown(() => healthChecks({ version: "/nonexistent/version.json" })).option).toBe("version");
    });

    it("rejects a duplicate check name and an unknown check option", () => {
      const health = healthChecks({ builtInChecks: false });
      health.registerCheck("db:ping", () => true);
      const duplicate = thrown(() => health.registerCheck("db:ping", () => true));
      expect(duplicate.message).toBe(
        'registerCheck: a check named "db:ping" is already registered; call unregisterCheck("db:ping") first.',
      );
      expect(thrown(() => health.registerCheck("db:other", () => true, { timeout: 5 } as never)).message).toBe(
        "registerCheck: unknown option `timeout`. Did you mean `timeoutMs`?",
      );
      expect(thrown(() => health.registerCheck("db:type", () => true, { componentType: "db" as never })).message).toBe(
        'registerCheck: option `componentType` must be one of "component", "datastore", "system", got "db".',
      );
      health.close();
    });

    it("unregisters a check and closes it", async () => {
      const { app, health } = mounted();
      let closed = false;
      const fn = Object.assign(() => false, { close: () => (closed = true) });
      health.registerCheck("db:ping", fn);
      await health.whenChecked();
      expect(health.unregisterCheck("db:ping")).toBe(true);
      expect(closed).toBe(true);
      expect((await request(app).get("/monitoring/health")).status).toBe(200);
      health.close();
    });
  });
});
