import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { emitSecurityEvent, PalisadeConfigError } from "@palisade/core";
import { recordingLogger, tempDir, tempSqlite } from "@palisade/test-utils";
import express, { type Express, type RequestHandler } from "express";
import request from "supertest";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type AuditLogMiddleware, audit, auditLog, errorHandler, getRequestContext, logger } from "./audit-log.js";
import { keyBytes } from "./chain.js";
import type { AuditLogOptions } from "./options.js";
import { auditRecords, KEY, memoryStream } from "./test-helpers.js";
import { verifyAuditTrail } from "./verify.js";

const opened: AuditLogMiddleware[] = [];
const dirs: { cleanup(): void }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((log) => log.close()));
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function setup(options: AuditLogOptions = {}, routes: (app: Express) => void = () => {}) {
  const stream = memoryStream();
  const log = auditLog({ level: "debug", destination: stream, ...options });
  opened.push(log);
  const app = express();
  app.use(log);
  app.use(express.json());
  routes(app);
  app.get("/", (_req, res) => {
    res.json({ ok: true });
  });
  app.use(errorHandler());
  return { app, log, stream };
}

function trailDir() {
  const dir = tempDir("palisade-audit-");
  dirs.push(dir);
  return dir.path;
}

describe("auditLog()", () => {
  describe("request lines", () => {
    it("writes one line per request with method, route template, status, duration, ip and request id", async () => {
      const { app, stream } = setup({}, (app) => {
        app.get("/bookings/:id", (_req, res) => {
          res.status(201).json({});
        });
      });
      const res = await request(app).get("/bookings/42?x=1");
      const lines = stream.withMsg("request completed");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        category: "application",
        method: "GET",
        route: "/bookings/:id",
        status: 201,
        ip: "127.0.0.1",
        reqId: res.headers["x-request-id"],
        level: 30,
      });
      expect(typeof lines[0]!.durationMs).toBe("number");
      expect(lines[0]!.path).toBeUndefined();
    });

    it("logs a request whose client went away before any answer once, as aborted with status 499", async () => {
      let answered!: () => void;
      const done = new Promise<void>((resolve) => {
        answered = resolve;
      });
      const { app, stream } = setup({}, (app) => {
        app.get("/slow", (_req, res) => {
          setTimeout(() => {
            res.status(503).end();
            answered();
          }, 150);
        });
      });
      const server = app.listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      const { port } = server.address() as { port: number };
      const aborted = new AbortController();
      const pending = fetch(`http://127.0.0.1:${port}/slow`, { signal: aborted.signal }).catch(() => undefined);
      await sleep(50);
      aborted.abort();
      await pending;
      await done;
      await sleep(20);
      server.close();
      const lines = stream.lines.filter((line) => line.route === "/slow");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ msg: "request aborted", status: 499, level: 40 });
    });

    it("logs the path (without query) when no route matched", async () => {
      const { app, stream } = setup();
      await request(app).get("/missing/thing?token=abc");
      expect(stream.withMsg("request completed")[0]).toMatchObject({ status: 404, path: "/missing/thing", level: 40 });
    });

    it("stamps every line with the ISO 8601 time it was written", async () => {
      const { app, stream } = setup();
      const before = Date.now();
      await request(app).get("/");
      await request(app).get("/");
      const times = stream.withMsg("request completed").map((line) => line.time as string);
      expect(times).toHaveLength(2);
      for (const time of times) {
        expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(Date.parse(time)).toBeGreaterThanOrEqual(before);
        expect(Date.parse(time)).toBeLessThanOrEqual(Date.now());
      }
    });

    it("writes the exact time across second and day boundaries", async () => {
      const { app, stream } = setup();
      vi.useFakeTimers({ toFake: ["Date"] });
      try {
        const instants = ["2026-11-29T23:59:59.999Z", "2026-11-30T00:00:00.007Z", "2026-11-30T00:00:00.070Z"];
        for (const instant of instants) {
          vi.setSystemTime(new Date(instant));
          await request(app).get("/");
        }
        expect(stream.withMsg("request completed").map((line) => line.time)).toEqual(instants);
      } finally {
        vi.useRealTimers();
      }
    });

    it("masks card numbers in the logged path", async () => {
      const { app, stream } = setup();
      await request(app).get("/cards/4111111111111111");
      expect(stream.withMsg("request completed")[0]!.path).toBe("/cards/************1111");
    });

    it("escapes control characters in the user id", async () => {
      const { app, stream } = setup({ userId: () => "eve\r\nforged" });
      await request(app).get("/");
      expect(stream.withMsg("request completed")[0]!.userId).toBe("eve\\r\\nforged");
    });

    it("carries the user id set on the request context", async () => {
      const { app, stream } = setup({}, (app) => {
        app.get("/me", (_req, res) => {
          getRequestContext()!.userId = "u-7";
          res.end();
        });
      });
      await request(app).get("/me");
      expect(stream.withMsg("request completed")[0]!.userId).toBe("u-7");
    });

    it("reads the user id from req.user.id by default and from the userId option when given", async () => {
      const withUser: RequestHandler = (req, _res, next) => {
        (req as unknown as { user: { id: number } }).user = { id: 12 };
        next();
      };
      const first = setup({}, (app) => app.get("/a", withUser, (_req, res) => res.end()));
      await request(first.app).get("/a");
      expect(first.stream.withMsg("request completed")[0]!.userId).toBe("12");
      const second = setup({ userId: () => "custom" });
      await request(second.app).get("/");
      expect(second.stream.withMsg("request completed")[0]!.userId).toBe("custom");
    });

    it("falls back to res.locals.user.id, then res.locals.userId, set by a later handler", async () => {
      const { app, stream } = setup({}, (app) => {
        app.get("/user", (_req, res) => {
          res.locals.user = { id: "L-1" };
          res.end();
        });
        app.get("/user-id", (_req, res) => {
          res.locals.userId = "L-2";
          res.end();
        });
      });
      await request(app).get("/user");
      await request(app).get("/user-id");
      await request(app).get("/");
      expect(stream.withMsg("request completed").map((line) => line.userId)).toEqual(["L-1", "L-2", undefined]);
    });

    it("resolves the client address through the trustedProxies option", async () => {
      const { app, stream } = setup({ trustedProxies: ["loopback"] });
      await request(app).get("/").set("X-Forwarded-For", "203.0.113.9");
      expect(stream.withMsg("request completed")[0]!.ip).toBe("203.0.113.9");
    });
  });

  describe("request context", () => {
    it("propagates across await, timers and a database call, from any module", async () => {
      const sqlite = tempSqlite();
      try {
        sqlite.db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('x')");
        const repository = {
          // Stands for a module that knows nothing of the request.
          async load() {
            await sleep(2);
            const row = sqlite.db.prepare("SELECT v FROM t WHERE id = 1").get() as { v: string };
            logger().info({ row: row.v }, "repository loaded");
            return getRequestContext()?.requestId;
          },
        };
        const { app, stream } = setup({}, (app) => {
          app.get("/ctx", async (req, res) => {
            const seen: (string | undefined)[] = [];
            await Promise.resolve();
            seen.push(getRequestContext()?.requestId);
            await new Promise<void>((done) =>
              setTimeout(() => {
                seen.push(getRequestContext()?.requestId);
                done();
              }, 3),
            );
            seen.push(await repository.load());
            res.json({ seen, id: (req as { id?: string }).id });
          });
        });
        const res = await request(app).get("/ctx");
        const id = res.headers["x-request-id"];
        expect(res.body).toEqual({ seen: [id, id, id], id });
        expect(stream.withMsg("repository loaded")[0]).toMatchObject({ reqId: id, row: "x" });
      } finally {
        sqlite.cleanup();
      }
    });

    it("keeps concurrent requests apart", async () => {
      const { app } = setup({}, (app) => {
        app.get("/slow/:n", async (req, res) => {
          await sleep(Number(req.params.n));
          res.json({ id: getRequestContext()?.requestId });
        });
      });
      const responses = await Promise.all(
        [9, 1, 5, 3].map((n) => request(app).get(`/slow/${n}`).set("X-Request-Id", `req-${n}`)),
      );
      expect(responses.map((res) => res.body.id)).toEqual(["req-9", "req-1", "req-5", "req-3"]);
    });

    it("is undefined outside a request, where logger() is the application logger", () => {
      const { log } = setup();
      expect(getRequestContext()).toBeUndefined();
      expect(logger()).toBe(log.logger);
    });

    it("stops handing out a closed instance's logger", async () => {
      const { log } = setup();
      await log.close();
      expect(logger()).not.toBe(log.logger);
    });
  });

  describe("redaction", () => {
    it.each([
      ["password", { password: "hunter2" }, ["password"]],
      ["nested password", { body: { password: "hunter2" } }, ["body", "password"]],
      ["newPassword", { body: { newPassword: "hunter2" } }, ["body", "newPassword"]],
      ["token", { token: "t0k3n" }, ["token"]],
      ["accessToken", { auth: { accessToken: "t0k3n" } }, ["auth", "accessToken"]],
      ["refreshToken", { refreshToken: "t0k3n" }, ["refreshToken"]],
      ["resetToken", { body: { resetToken: "r3set" } }, ["body", "resetToken"]],
      ["reset_token", { reset_token: "r3set" }, ["reset_token"]],
      [
        "authorization header",
        { req: { headers: { authorization: "Bearer abc" } } },
        ["req", "headers", "authorization"],
      ],
      ["cookie header", { req: { headers: { cookie: "sid=abc" } } }, ["req", "headers", "cookie"]],
      ["bare authorization", { authorization: "Bearer abc" }, ["authorization"]],
      ["cardNumber", { payment: { cardNumber: "4111111111111111" } }, ["payment", "cardNumber"]],
      ["cvv", { payment: { cvv: "123" } }, ["payment", "cvv"]],
    ])("redacts %s", async (_name, object, path) => {
      const { app, stream } = setup({}, (app) => {
        app.get("/r", (_req, res) => {
          logger().info(object, "redaction probe");
          res.end();
        });
      });
      await request(app).get("/r");
      let value: unknown = stream.withMsg("redaction probe")[0];
      for (const key of path) value = (value as Record<string, unknown>)[key];
      expect(value).toBe("[REDACTED]");
    });

    it("masks card numbers in free text, keeping the last four digits", async () => {
      const { app, stream } = setup({}, (app) => {
        app.get("/r", (_req, res) => {
          logger().info({ note: "paid with 4111 1111 1111 1111 today", other: "5500-0000-0000-0004" }, "pan probe");
          res.end();
        });
      });
      await request(app).get("/r");
      expect(stream.withMsg("pan probe")[0]).toMatchObject({
        note: "paid with ************1111 today",
        other: "************0004",
      });
    });

    it("leaves digit runs that fail the Luhn check alone", async () => {
      const { log, stream } = setup();
      log.logger.info({ order: "order 1234567890123" }, "luhn probe");
      expect(stream.withMsg("luhn probe")[0]!.order).toBe("order 1234567890123");
    });

    it("adds the paths of the redact option", async () => {
      const { log, stream } = setup({ redact: ["patient.ssn"] });
      log.logger.info({ patient: { ssn: "123-45-6789", name: "A" }, password: "x" }, "extra redaction");
      expect(stream.withMsg("extra redaction")[0]).toMatchObject({
        patient: { ssn: "[REDACTED]", name: "A" },
        password: "[REDACTED]",
      });
    });

    it("redacts audit trail records too", async () => {
      const dir = trailDir();
      const { app } = setup({ dir, audit: { hmacKey: KEY } }, (app) => {
        app.post("/login", (req, res) => {
          audit(req).event("authn_login_fail", { email: "a@example.com", password: req.body.password });
          res.status(401).end();
        });
      });
      await request(app).post("/login").send({ password: "hunter2" });
      const record = auditRecords(dir).find((line) => line.event === "authn_login_fail")!;
      expect(record.detail).toEqual({ email: "a@example.com", password: "[REDACTED]" });
    });
  });

  describe("log injection", () => {
    it("neutralises CR, LF and control characters in logged values", async () => {
      const { app, stream } = setup({}, (app) => {
        app.get("/i", (req, res) => {
          logger().info({ name: req.query.name }, "injection probe");
          res.end();
        });
      });
      await request(app).get("/i").query({ name: 'bob\r\n{"level":30,"msg":"forged"}\u001b[31m' });
      const line = stream.withMsg("injection probe")[0]!;
      expect(line.name).toBe('bob\\r\\n{"level":30,"msg":"forged"}\\u001b[31m');
      expect(String(line.name)).not.toMatch(/[\r\n\u001b]/);
    });

    it("neutralises them in audit event details", async () => {
      const dir = trailDir();
      const { app } = setup({ dir, audit: { hmacKey: KEY } }, (app) => {
        app.get("/e", (req, res) => {
          audit(req).event("input_validation_fail", { field: "name\nseq 99 forged", list: ["a\u2028b"] });
          res.end();
        });
      });
      await request(app).get("/e");
      const record = auditRecords(dir).find((line) => line.event === "input_validation_fail")!;
      expect(record.detail).toEqual({ field: "name\\nseq 99 forged", list: ["a\\u2028b"] });
    });
  });

  describe("security and audit events", () => {
    it("receives core's emitSecurityEvent() in the application log with category security", async () => {
      const { app, stream } = setup({}, (app) => {
        app.get("/admin", (req, res) => {
          emitSecurityEvent(req, { name: "authz_fail", source: "@palisade/access-control", detail: { reason: "ip" } });
          res.status(403).end();
        });
      });
      const res = await request(app).get("/admin");
      expect(stream.withMsg("authz_fail")[0]).toMatchObject({
        category: "security",
        event: "authz_fail",
        severity: "WARN",
        level: 40,
        source: "@palisade/access-control",
        reqId: res.headers["x-request-id"],
        route: "/admin",
        method: "GET",
        detail: { reason: "ip" },
      });
    });

    it("writes audit(req).event() to the chained audit file with category audit for business events", async () => {
      const dir = trailDir();
      const { app } = setup({ dir, audit: { hmacKey: KEY } }, (app) => {
        app.post("/bookings", (req, res) => {
          getRequestContext()!.userId = "client-1";
          const seq = audit(req).event("booking_created", { bookingId: 9 });
          res.status(201).json({ seq });
        });
      });
      const res = await request(app).post("/bookings").send({});
      const records = auditRecords(dir);
      expect(records[0]).toMatchObject({ seq: 1, event: "audit_seal" });
      expect(records[1]).toMatchObject({
        seq: 2,
        category: "audit",
        event: "booking_created",
        severity: "INFO",
        userId: "client-1",
        route: "/bookings",
        reqId: res.headers["x-request-id"],
        detail: { bookingId: 9 },
      });
      expect(records[1]!.hmac).toMatch(/^[0-9a-f]{64}$/);
      expect(res.body.seq).toBe(2);
    });

    it("writes security events to the audit file too, and not request lines", async () => {
      const dir = trailDir();
      const { app } = setup({ dir, audit: { hmacKey: KEY } }, (app) => {
        app.get("/x", (req, res) => {
          emitSecurityEvent(req, { name: "malicious_attack_tool", detail: { ua: "sqlmap" } });
          res.end();
        });
      });
      await request(app).get("/x");
      await request(app).get("/");
      expect(auditRecords(dir).map((line) => line.event)).toEqual(["audit_seal", "malicious_attack_tool"]);
    });

    it("records process events with log.event() outside requests", () => {
      const dir = trailDir();
      const { log } = setup({ dir, audit: { hmacKey: KEY } });
      expect(log.event("sys_startup", { version: "1.0.0" })).toBe(2);
      expect(auditRecords(dir)[1]).toMatchObject({
        event: "sys_startup",
        category: "security",
        detail: { version: "1.0.0" },
      });
    });

    it("is a no-op when auditLog() is not mounted", async () => {
      const app = express();
      app.get("/", (req, res) => {
        res.json({ seq: audit(req).event("booking_created") ?? null });
      });
      expect((await request(app).get("/")).body).toEqual({ seq: null });
    });

    it("warns once when the trail has no HMAC key, and writes unchained records", async () => {
      const dir = trailDir();
      const warnings = recordingLogger();
      const saved = process.env.AUDIT_HMAC_KEY;
      delete process.env.AUDIT_HMAC_KEY;
      try {
        const { app } = setup({ dir, logger: warnings }, (app) => {
          app.get("/e", (req, res) => {
            audit(req).event("admin_action", { action: "x" });
            res.end();
          });
        });
        await request(app).get("/e");
        expect(warnings.withCode("WRN_PALISADE_AUDIT_NO_KEY")).toHaveLength(1);
        expect(auditRecords(dir)[1]).toMatchObject({ seq: 2, event: "admin_action" });
        expect(auditRecords(dir)[1]!.hmac).toBeUndefined();
      } finally {
        if (saved !== undefined) process.env.AUDIT_HMAC_KEY = saved;
      }
    });

    it("takes the key from audit.hmacKeyFile", () => {
      const dir = trailDir();
      const keyFile = join(dir, "..", `${basename(dir)}.key`);
      writeFileSync(keyFile, `${KEY}\n`);
      try {
        const { log } = setup({ dir, audit: { hmacKeyFile: keyFile } });
        log.event("sys_startup");
        expect(verifyAuditTrail(dir, keyBytes(KEY))).toMatchObject({ ok: true, records: 2 });
      } finally {
        rmSync(keyFile);
      }
    });

    it("rejects an unreadable key file at construction", () => {
      expect(() => auditLog({ dir: trailDir(), audit: { hmacKeyFile: "/nonexistent/audit.key" } })).toThrow(
        /^auditLog: option `audit.hmacKeyFile` must name a readable key file; ENOENT/,
      );
    });

    it("writes no trail with audit.file false", () => {
      const dir = trailDir();
      const { log, stream } = setup({ dir, audit: { file: false } });
      expect(log.event("sys_startup")).toBeUndefined();
      expect(log.auditFile).toBeUndefined();
      expect(readdirSync(dir).filter((name) => name.startsWith("audit"))).toEqual([]);
      expect(stream.withMsg("sys_startup")).toHaveLength(1);
    });

    it("takes the key from AUDIT_HMAC_KEY", () => {
      const dir = trailDir();
      const warnings = recordingLogger();
      const saved = process.env.AUDIT_HMAC_KEY;
      process.env.AUDIT_HMAC_KEY = KEY;
      try {
        const { log } = setup({ dir, logger: warnings });
        log.event("sys_startup");
        expect(warnings.entries).toEqual([]);
        expect(auditRecords(dir)[1]!.hmac).toMatch(/^[0-9a-f]{64}$/);
      } finally {
        if (saved === undefined) delete process.env.AUDIT_HMAC_KEY;
        else process.env.AUDIT_HMAC_KEY = saved;
      }
    });
  });

  describe("errorHandler()", () => {
    const routes = (app: Express) => {
      app.get("/boom", () => {
        throw new Error("SQLITE_ERROR: no such column: users.passwd");
      });
      app.get("/teapot", () => {
        throw Object.assign(new Error("short and stout"), { status: 418, expose: true });
      });
    };

    it("answers problem+json with the incident id and no internals in production", async () => {
      const { app, stream } = setup({ production: true }, routes);
      const res = await request(app).get("/boom").set("X-Request-Id", "incident-1");
      expect(res.status).toBe(500);
      expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
      expect(res.body).toEqual({
        type: "about:blank",
        title: "Internal Server Error",
        status: 500,
        incidentId: "incident-1",
      });
      expect(res.text).not.toMatch(/SQLITE|users|stack|at /);
      const errors = stream.lines.filter((line) => line.err);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        reqId: "incident-1",
        incidentId: "incident-1",
        route: "/boom",
        status: 500,
        level: 50,
        err: { message: "SQLITE_ERROR: no such column: users.passwd" },
      });
      expect((errors[0]!.err as { stack: string }).stack).toMatch(/at /);
    });

    it("sets instance to the urn:uuid of a generated incident id", async () => {
      const { app } = setup({ production: true }, routes);
      const res = await request(app).get("/boom");
      expect(res.body.instance).toBe(`urn:uuid:${res.headers["x-request-id"]}`);
    });

    it("includes the message outside production and for exposed 4xx errors", async () => {
      const dev = setup({ production: false }, routes);
      expect((await request(dev.app).get("/boom")).body.detail).toBe("SQLITE_ERROR: no such column: users.passwd");
      const prod = setup({ production: true }, routes);
      const res = await request(prod.app).get("/teapot");
      expect(res.status).toBe(418);
      expect(res.body.detail).toBe("short and stout");
    });

    it("logs an error passed through two error handlers once", async () => {
      const stream = memoryStream();
      const log = auditLog({ level: "debug", destination: stream });
      opened.push(log);
      const app = express();
      app.use(log);
      app.get("/boom", () => {
        throw new Error("once");
      });
      const handler = errorHandler();
      app.use((error: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
        handler(error, req, res, () => next(error));
        next(error);
      });
      app.use(handler);
      await request(app).get("/boom");
      expect(stream.lines.filter((line) => line.err)).toHaveLength(1);
    });
  });

  describe("levels", () => {
    it("writes nothing below the level", async () => {
      const { log, stream } = setup({ level: "warn" });
      log.logger.info("hidden");
      log.logger.warn("shown");
      expect(stream.lines.map((line) => line.msg)).toEqual(["shown"]);
    });

    it("is silent under NODE_ENV=test unless a level is passed", () => {
      const stream = memoryStream();
      const log = auditLog({ destination: stream });
      opened.push(log);
      log.logger.error("nothing");
      expect(process.env.NODE_ENV).toBe("test");
      expect(stream.lines).toEqual([]);
    });
  });

  describe("options", () => {
    it.each([
      [{ levle: "info" }, "auditLog: unknown option `levle`. Did you mean `level`?"],
      [
        { level: "verbose" },
        'auditLog: option `level` must be one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "verbose".',
      ],
      [{ audit: { durabel: true } }, "auditLog: unknown option `audit.durabel`. Did you mean `audit.durable`?"],
      [
        { rotation: { maxSize: 10 } },
        "auditLog: option `rotation.maxSize` must be an integer of at least 1024 (bytes), got 10.",
      ],
      [
        { rotation: { maxFiles: 1 } },
        "auditLog: option `rotation.maxFiles` must be 0 (keep every file) or at least 2, got 1.",
      ],
      [
        { audit: { hmacKey: "short" }, dir: "/tmp/x" },
        "auditLog: option `audit.hmacKey` must be at least 16 bytes, got 5.",
      ],
      [{ requestIdHeader: "x id" }, 'auditLog: option `requestIdHeader` must be a header name, got "x id".'],
      [
        { dir: "/tmp/x", pretty: true },
        "auditLog: option `pretty` writes to stdout and cannot be combined with `dir`.",
      ],
      [
        { dir: "/tmp/x", transport: "thread" },
        'auditLog: option `transport` must be one of "main", "worker", got "thread".',
      ],
      [
        { transport: "worker" },
        "auditLog: option `transport` chooses how `dir` is written and needs `dir` without `destination`.",
      ],
    ])("rejects %j", (options, message) => {
      let thrown: unknown;
      try {
        auditLog(options as AuditLogOptions);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(PalisadeConfigError);
      expect((thrown as Error).message).toBe(message);
    });
  });
});
