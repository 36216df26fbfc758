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
