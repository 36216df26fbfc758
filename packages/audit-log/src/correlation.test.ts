import express from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { type AuditLogMiddleware, auditLog } from "./audit-log.js";
import { acceptId, traceIdFrom } from "./correlation.js";
import type { AuditLogOptions } from "./options.js";
import { memoryStream } from "./test-helpers.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const opened: AuditLogMiddleware[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((log) => log.close()));
});

function app(options: AuditLogOptions = {}) {
  const log = auditLog({ destination: memoryStream(), ...options });
  opened.push(log);
  const server = express();
  server.use(log);
  server.get("/", (req, res) => {
    res.json({ id: (req as { id?: string }).id });
  });
  return server;
}

describe("auditLog() request ids", () => {
  it("generates a UUID, echoes it in X-Request-Id and exposes it as req.id", async () => {
    const res = await request(app()).get("/");
    expect(res.headers["x-request-id"]).toMatch(UUID);
    expect(res.body.id).toBe(res.headers["x-request-id"]);
  });

  it.each(["abc-123", "01HZX3N4Q5R6S7T8V9W0XYZABC", "svc:orders/42+a=", "a".repeat(128)])(
    "accepts the incoming id %s",
    async (id) => {
      const res = await request(app()).get("/").set("X-Request-Id", id);
      expect(res.headers["x-request-id"]).toBe(id);
      expect(res.body.id).toBe(id);
    },
  );

  it.each([
    ["too long", "a".repeat(129)],
    ["a space", "abc def"],
    ["a quote", 'abc"def'],
    ["a semicolon", "abc;rm -rf"],
    ["non-ASCII", "abcé"],
    ["an angle bracket", "<script>"],
  ])("replaces an incoming id with %s", async (_why, id) => {
    const res = await request(app()).get("/").set("X-Request-Id", id);
    expect(res.headers["x-request-id"]).toMatch(UUID);
  });

  it("keeps the trace id of a valid traceparent", async () => {
    const res = await request(app()).get("/").set("traceparent", `00-${TRACE_ID}-00f067aa0ba902b7-01`);
    expect(res.headers["x-request-id"]).toBe(TRACE_ID);
  });

  it("prefers a valid X-Request-Id over traceparent", async () => {
    const res = await request(app())
      .get("/")
      .set("X-Request-Id", "mine-1")
      .set("traceparent", `00-${TRACE_ID}-00f067aa0ba902b7-01`);
    expect(res.headers["x-request-id"]).toBe("mine-1");
  });

  it("ignores incoming ids when trustIncomingId is false", async () => {
    const res = await request(app({ trustIncomingId: false }))
      .get("/")
      .set("X-Request-Id", "mine-1");
    expect(res.headers["x-request-id"]).toMatch(UUID);
  });

  it("uses the requestIdHeader and generateId options", async () => {
    const res = await request(app({ requestIdHeader: "X-Correlation-Id", generateId: () => "fixed-id" })).get("/");
    expect(res.headers["x-correlation-id"]).toBe("fixed-id");
    expect(res.headers["x-request-id"]).toBeUndefined();
  });

  it("does not overwrite a response header set before it", async () => {
    const log = auditLog({ destination: memoryStream() });
    opened.push(log);
    const server = express();
    server.use((_req, res, next) => {
      res.setHeader("X-Request-Id", "upstream");
      next();
    });
    server.use(log);
    server.get("/", (req, res) => {
      res.json({ id: (req as { id?: string }).id });
    });
    const res = await request(server).get("/");
    expect(res.headers["x-request-id"]).toBe("upstream");
  });

  it("keeps req.id an ordinary property: one set before it is replaced, one set after it wins", async () => {
    const stream = memoryStream();
    const log = auditLog({ level: "info", destination: stream });
    opened.push(log);
    const server = express();
    server.use((req, _res, next) => {
      (req as { id?: string }).id = "set-before";
      next();
    });
    server.use(log);
    server.get("/mine", (req, res) => {
      const before = (req as { id?: string }).id;
      (req as { id?: string }).id = "set-by-app";
      res.json({ before, after: (req as { id?: string }).id, own: Object.keys(req).includes("id") });
    });
    server.get("/", (req, res) => {
      res.json({ id: (req as { id?: string }).id, copied: ({ ...req } as { id?: string }).id });
    });
    const mine = await request(server).get("/mine").set("X-Request-Id", "incoming-1");
    expect(mine.body).toEqual({ before: "incoming-1", after: "set-by-app", own: true });
    const plain = await request(server).get("/").set("X-Request-Id", "incoming-2");
    expect(plain.body).toEqual({ id: "incoming-2", copied: "incoming-2" });
    // The request line keeps the id auditLog() chose, whatever the app wrote to req.id later.
    expect(stream.withMsg("request completed").map((line) => line.reqId)).toEqual(["incoming-1", "incoming-2"]);
  });

  it("gives req.id to a request object that is not node's IncomingMessage", () => {
    const log = auditLog({ destination: memoryStream() });
    opened.push(log);
    const req = { headers: { "x-request-id": "plain-object" }, method: "GET", url: "/" } as never;
    const res = { hasHeader: () => false, setHeader() {}, on() {}, getHeader() {} } as never;
    let called = false;
    log(req, res, () => {
      called = true;
    });
    expect(called).toBe(true);
    expect((req as { id?: string }).id).toBe("plain-object");
  });
});

describe("acceptId()", () => {
  it("rejects arrays, empty strings and ids over the limit", () => {
    expect(acceptId(["a", "b"], 128)).toBeUndefined();
    expect(acceptId("", 128)).toBeUndefined();
    expect(acceptId("abcd", 3)).toBeUndefined();
    expect(acceptId("abc", 3)).toBe("abc");
  });
});

describe("traceIdFrom()", () => {
  it.each([
    ["version ff", `ff-${TRACE_ID}-00f067aa0ba902b7-01`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`],
    ["an all-zero parent id", `00-${TRACE_ID}-${"0".repeat(16)}-01`],
    ["upper-case hex", `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`],
    ["extra fields on version 00", `00-${TRACE_ID}-00f067aa0ba902b7-01-extra`],
    ["a short trace id", `00-${TRACE_ID.slice(2)}-00f067aa0ba902b7-01`],
  ])("rejects %s", (_why, header) => {
    expect(traceIdFrom(header)).toBeUndefined();
  });

  it("accepts extra fields on a later version", () => {
    expect(traceIdFrom(`01-${TRACE_ID}-00f067aa0ba902b7-01-future`)).toBe(TRACE_ID);
  });
});
