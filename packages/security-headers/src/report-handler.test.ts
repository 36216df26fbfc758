import { attachSecurityEventSink, type DeliveredSecurityEvent } from "@palisade/core";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { type CspReportHandlerOptions, type CspViolation, cspReportHandler } from "./report-handler.js";

function reportApp(options: CspReportHandlerOptions = {}, parseJson = false) {
  const events: DeliveredSecurityEvent[] = [];
  const violations: CspViolation[] = [];
  const app = express();
  app.use((req, _res, next) => {
    attachSecurityEventSink(req, (event) => events.push(event));
    next();
  });
  if (parseJson) app.use(express.json());
  app.all("/csp-report", cspReportHandler({ onViolation: (violation) => violations.push(violation), ...options }));
  return { app, events, violations };
}

const legacyReport = {
  "csp-report": {
    "document-uri": "https://shop.example/checkout?session=secret#pay",
    referrer: "",
    "violated-directive": "script-src-elem",
    "effective-directive": "script-src-elem",
    "original-policy": "default-src 'none'; script-src 'self'",
    disposition: "enforce",
    "blocked-uri": "https://evil.example/x.js?token=1",
    "line-number": 12,
    "column-number": 3,
    "source-file": "https://shop.example/app.js",
    "status-code": 200,
    "script-sample": "",
  },
};

const reportingApiBody = [
  {
    type: "csp-violation",
    age: 10,
    url: "https://shop.example/account",
    user_agent: "Mozilla/5.0",
    body: {
      documentURL: "https://shop.example/account",
      blockedURL: "inline",
      effectiveDirective: "style-src-attr",
      disposition: "report",
      originalPolicy: "default-src 'none'",
      sample: "color: red",
      statusCode: 200,
      lineNumber: 4,
    },
  },
  { type: "deprecation", body: { id: "x" } },
];

describe("cspReportHandler()", () => {
  it("accepts application/csp-report, strips queries and emits a security event", async () => {
    const { app, events, violations } = reportApp();
    const response = await request(app)
      .post("/csp-report")
      .set("Content-Type", "application/csp-report")
      .send(JSON.stringify(legacyReport));
    expect(response.status).toBe(204);
    const expected = {
      format: "csp-report",
      documentURL: "https://shop.example/checkout",
      blockedURL: "https://evil.example/x.js",
      effectiveDirective: "script-src-elem",
      disposition: "enforce",
      sourceFile: "https://shop.example/app.js",
      lineNumber: 12,
      columnNumber: 3,
      statusCode: 200,
    };
    expect(violations).toEqual([expected]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      name: "malicious_csp_violation",
      level: "WARN",
      source: "@palisade/security-headers",
      detail: expected,
    });
  });

  it("accepts application/reports+json and keeps only csp-violation entries", async () => {
    const { app, events, violations } = reportApp();
    const response = await request(app)
      .post("/csp-report")
      .set("Content-Type", "application/reports+json")
      .send(JSON.stringify(reportingApiBody));
    expect(response.status).toBe(204);
    expect(violations).toEqual([
      {
        format: "reports+json",
        documentURL: "https://shop.example/account",
        blockedURL: "inline",
        effectiveDirective: "style-src-attr",
        disposition: "report",
        lineNumber: 4,
        statusCode: 200,
        sample: "color: red",
      },
    ]);
    expect(events.map((event) => event.name)).toEqual(["malicious_csp_violation"]);
  });

  it("reads a body express.json() already parsed", async () => {
    const { app, violations } = reportApp({}, true);
    const response = await request(app).post("/csp-report").set("Content-Type", "application/json").send(legacyReport);
    expect(response.status).toBe(204);
    expect(violations).toHaveLength(1);
  });

  it.each([
    ["not JSON", "{oops", "The report is not valid JSON."],
    [
      "another JSON shape",
      JSON.stringify({ hello: "world" }),
      "Expected a CSP report (csp-report object or reports+json array).",
    ],
    [
      "an array of non-reports",
      JSON.stringify([1, 2]),
      "Expected a CSP report (csp-report object or reports+json array).",
    ],
  ])("answers 400 to %s", async (_name, body, detail) => {
    const { app, events } = reportApp();
    const response = await request(app).post("/csp-report").set("Content-Type", "application/csp-report").send(body);
    expect(response.status).toBe(400);
    expect(response.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(response.body).toEqual({ type: "about:blank", title: "Bad Request", status: 400, detail });
    expect(events).toHaveLength(0);
  });

  it("answers 413 to a body over maxBodyBytes, declared or streamed", async () => {
    const { app } = reportApp({ maxBodyBytes: 100 });
    const big = JSON.stringify({ "csp-report": { "document-uri": "x".repeat(500) } });
    const declared = await request(app).post("/csp-report").set("Content-Type", "application/csp-report").send(big);
    expect(declared.status).toBe(413);
    expect(declared.body.detail).toBe("Reports are limited to 100 bytes.");
    const chunked = request(app).post("/csp-report").set("Content-Type", "application/csp-report");
    chunked.write(big.slice(0, 80));
    chunked.write(big.slice(80));
    const streamed = await chunked;
    expect(streamed.status).toBe(413);
    // The server is still healthy afterwards.
    const after = await request(app)
      .post("/csp-report")
      .set("Content-Type", "application/csp-report")
      .send(JSON.stringify({ "csp-report": {} }));
    expect(after.status).toBe(204);
  });

  it("answers 415 to other content types and 405 to other methods", async () => {
    const { app } = reportApp();
    const wrongType = await request(app).post("/csp-report").set("Content-Type", "text/plain").send("hi");
    expect(wrongType.status).toBe(415);
    const wrongMethod = await request(app).get("/csp-report");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe("POST");
  });

  it("rate-limits per client with 429, Retry-After and one excess event", async () => {
    const { app, events } = reportApp({ maxReportsPerWindow: 2, windowMs: 60_000 });
    app.set("trust proxy", "loopback");
    const send = (ip: string) =>
      request(app)
        .post("/csp-report")
        .set("X-Forwarded-For", ip)
        .set("Content-Type", "application/csp-report")
        .send(JSON.stringify(legacyReport));
    expect((await send("203.0.113.1")).status).toBe(204);
    expect((await send("203.0.113.1")).status).toBe(204);
    const limited = await send("203.0.113.1");
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toBe("60");
    expect((await send("203.0.113.1")).status).toBe(429);
    expect((await send("203.0.113.2")).status).toBe(204);
    expect(events.filter((event) => event.name === "excess_rate_limit_exceeded")).toHaveLength(1);
  });

  it("still answers 204 when onViolation throws", async () => {
    const { app } = reportApp({
      onViolation: () => {
        throw new Error("callback down");
      },
    });
    const response = await request(app)
      .post("/csp-report")
      .set("Content-Type", "application/csp-report")
      .send(JSON.stringify(legacyReport));
    expect(response.status).toBe(204);
  });

  it("validates its options", () => {
    expect(() => cspReportHandler({ maxBodyByte: 10 } as CspReportHandlerOptions)).toThrow(
      "cspReportHandler: unknown option `maxBodyByte`. Did you mean `maxBodyBytes`?",
    );
    expect(() => cspReportHandler({ windowMs: 0 })).toThrow(
      "cspReportHandler: option `windowMs` must be a positive integer, got 0.",
    );
  });
});
