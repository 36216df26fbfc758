import { attachSecurityEventSink, type DeliveredSecurityEvent } from "@palisade/core";
import { createApp, recordingLogger } from "@palisade/test-utils";
import express, { type RequestHandler } from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { inputSanitizer } from "./input-sanitizer.js";
import type { Finding } from "./options.js";
import { inspectRequest } from "./request.js";

function recordEvents(events: DeliveredSecurityEvent[]): RequestHandler {
  return (req, _res, next) => {
    attachSecurityEventSink(req, (event) => events.push(event));
    next();
  };
}

describe("inputSanitizer()", () => {
  it("lets clean requests through", async () => {
    const app = createApp(inputSanitizer());
    await request(app).post("/").send({ name: "O'Brien", notes: "select a time; drop by at 5 <3" }).expect(200);
  });

  it("blocks an attack with a 400 problem that carries an incident id and does not echo the input", async () => {
    const events: DeliveredSecurityEvent[] = [];
    const app = createApp(recordEvents(events), inputSanitizer());
    const res = await request(app).post("/").send({ notes: "1' or '1'='1" }).expect(400);
    expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(res.body).toMatchObject({ status: 400, title: "Bad Request", incidentId: expect.any(String) });
    expect(res.body.instance).toBe(`urn:uuid:${res.body.incidentId}`);
    expect(res.text).not.toContain("1'='1");
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]).toMatchObject({
      name: "malicious_sqli",
      level: "WARN",
      source: "@palisade/input-sanitizer",
      detail: { field: "body.notes", kind: "sqli", incidentId: res.body.incidentId },
    });
  });

  it("inspects keys: a NoSQL operator in a query name and __proto__ in a JSON body", async () => {
    const app = createApp(inputSanitizer());
    await request(app).get("/echo/x?user[$ne]=1").expect(400);
    await request(app)
      .post("/")
      .set("content-type", "application/json")
      .send('{"__proto__":{"admin":true}}')
      .expect(400);
    await request(app)
      .post("/")
      .send({ filter: { $where: "1" } })
      .expect(400);
  });

  it("inspects the path, cookies and selected headers", async () => {
    const app = createApp(inputSanitizer());
    await request(app).get("/echo/..%2f..%2f..%2fetc%2fpasswd").expect(400);
    await request(app).get("/").set("Cookie", "pref=<script>alert(1)</script>").expect(400);
    await request(app).get("/").set("Referer", "https://x.example/?q=' union select password from users--").expect(400);
  });

  it("blocks a repeated malicious header every time (the header cache keeps findings)", async () => {
    const app = createApp(inputSanitizer());
    const referer = "https://x.example/?q=<script>alert(1)</script>";
    await request(app).get("/").set("Referer", referer).expect(400);
    await request(app).get("/").set("Referer", referer).expect(400);
    await request(app).get("/").set("Referer", "https://x.example/?q=haircut").expect(200);
  });

  it("lets the request continue in report mode and records findings in res.locals", async () => {
    const seen: Finding[][] = [];
    const app = express();
    app.use(express.json());
    app.use(inputSanitizer({ mode: "report", onFinding: (findings) => seen.push([...findings]) }));
    app.post("/", (_req, res) => {
      res.json(res.locals.palisade?.inputSanitizer);
    });
    const res = await request(app).post("/").send({ q: "<img src=x onerror=alert(1)>" }).expect(200);
    expect(res.body.blocked).toBe(false);
    expect(res.body.findings[0]).toMatchObject({ kind: "xss", field: "body.q" });
    expect(seen).toHaveLength(1);
  });

  it("leaves req byte-for-byte unchanged", async () => {
    let before = "";
    let after = "";
    const app = express();
    app.use(express.json());
    app.use((req, _res, next) => {
      before = JSON.stringify({ q: req.query, b: req.body, u: req.url, h: req.headers });
      next();
    });
    app.use(inputSanitizer({ mode: "report" }));
    app.post("/echo", (req, res) => {
      after = JSON.stringify({ q: req.query, b: req.body, u: req.url, h: req.headers });
      res.json({ ok: true });
    });
    await request(app)
      .post("/echo?x=%3Cscript%3E&y[$ne]=1")
      .send({ a: "<b onclick=x()>", n: [1, { $gt: "" }] });
    expect(after).toBe(before);
    expect(before).toContain("$gt");
  });

  it("answers 413 when the field count or byte cap is hit, and 400 for nesting, without hanging", async () => {
    const app = createApp(inputSanitizer({ maxFields: 50, maxBytes: 10_000, maxDepth: 8 }));
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, "v"]));
    await request(app).post("/").send(many).expect(413);
    await request(app)
      .post("/")
      .send({ big: "a".repeat(20_000) })
      .expect(413);
    let deep: unknown = "x";
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const res = await request(app)
      .post("/")
      .send(deep as object)
      .expect(400);
    expect(res.body.detail).toBe("The request input is nested too deeply.");
  });

  it("skips allowlisted kinds in a field on a route", async () => {
    const app = createApp(inputSanitizer({ allow: [{ route: "/echo/*", field: "body.bio", kinds: ["xss"] }] }));
    await request(app).post("/echo/profile").send({ bio: "<script>alert(1)</script>" }).expect(200);
    await request(app).post("/echo/profile").send({ other: "<script>alert(1)</script>" }).expect(400);
    await request(app).post("/echo/profile").send({ bio: "1' or '1'='1" }).expect(400);
  });

  it("skips fields that pass their field hint and rejects those that fail", async () => {
    const events: DeliveredSecurityEvent[] = [];
    const app = createApp(
      recordEvents(events),
      inputSanitizer({ fields: { "body.email": "email", "body.date": "isoDate" } }),
    );
    await request(app).post("/").send({ email: "o'brien@example.com", date: "2026-12-24" }).expect(200);
    const refused = await request(app).post("/").send({ email: "not an email", date: "2026-12-24" }).expect(400);
    expect(refused.body).toMatchObject({
      detail: "Invalid format: `body.email` (email).",
      invalidFields: [{ field: "body.email", expected: "email" }],
    });
    expect(refused.text).not.toContain("not an email");
    expect(events.map((e) => e.name)).toEqual(["input_validation_fail"]);
    expect(events[0]!.detail).toMatchObject({ field: "body.email", hint: "email" });
  });

  it("follows the paranoia level", async () => {
    const pl1 = createApp(inputSanitizer());
    const pl2 = createApp(inputSanitizer({ paranoiaLevel: 2 }));
    await request(pl1).post("/").send({ f: "../photo.png" }).expect(200);
    await request(pl2).post("/").send({ f: "../photo.png" }).expect(400);
  });

  it("recognises attack tools by User-Agent", async () => {
    const events: DeliveredSecurityEvent[] = [];
    const app = createApp(recordEvents(events), inputSanitizer());
    await request(app).get("/").set("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)").expect(400);
    expect(events[0]).toMatchObject({ name: "malicious_attack_tool", detail: { tool: "sqlmap" } });
  });

  it("judges a repeated User-Agent the same way every time", async () => {
    const events: DeliveredSecurityEvent[] = [];
    const app = createApp(recordEvents(events), inputSanitizer());
    for (let i = 0; i < 3; i++) {
      await request(app).get("/").set("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)").expect(400);
      await request(app).get("/").set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0").expect(200);
    }
    expect(events.map((e) => e.name)).toEqual(Array(3).fill("malicious_attack_tool"));
  });

  it("reports a burst of 404s from one client once", async () => {
    const events: DeliveredSecurityEvent[] = [];
    const app = createApp(recordEvents(events), inputSanitizer({ burst: { max: 3, windowMs: 60_000 } }));
    for (let i = 0; i < 6; i++) await request(app).get(`/missing-${i}`).expect(404);
    expect(events.filter((e) => e.name === "malicious_excess_404")).toHaveLength(1);
  });

  it("warns once through the logger when a cap is hit", async () => {
    const logger = recordingLogger();
    const app = createApp(inputSanitizer({ maxFields: 2, logger }));
    await request(app).post("/").send({ a: "1", b: "2", c: "3" }).expect(413);
    await request(app).post("/").send({ a: "1", b: "2", c: "3" }).expect(413);
    expect(logger.entries.filter((e) => e.details.code === "WRN_PALISADE_INPUT_LIMIT")).toHaveLength(1);
  });

  it.each([
    [{ mode: "blok" }, 'inputSanitizer: option `mode` must be one of "block", "report", got "blok".'],
    [{ paranoiaLvl: 2 }, "inputSanitizer: unknown option `paranoiaLvl`. Did you mean `paranoiaLevel`?"],
    [{ fields: { "body.email": "mail" } }, "inputSanitizer: option `fields.body.email` must be one of"],
    [
      { allow: [{ feild: "body.x" }] },
      "inputSanitizer: unknown option `allow[0].feild`. Did you mean `allow[0].field`?",
    ],
    [{ maxDepth: 0 }, "inputSanitizer: option `maxDepth` must be a positive integer, got 0."],
  ])("throws at startup on %j", (options, message) => {
    expect(() => inputSanitizer(options as never)).toThrow(message);
  });
});

describe("inspectRequest()", () => {
  it("names fields with paths and marks keys", () => {
    const req = Object.assign(Object.create(null), {
      url: "/x",
      headers: {},
      query: { "user[$ne]": "1" },
      body: { items: [{ note: "<script>alert(1)</script>" }] },
    });
    const { findings } = inspectRequest(req, { sources: ["query", "body"] });
    const seen = [...new Set(findings.map((f) => JSON.stringify([f.field, f.kind, f.key ?? false])))].map((j) =>
      JSON.parse(j),
    );
    expect(seen).toEqual([
      ['query["user[$ne]"]', "nosql", true],
      ["body.items[0].note", "xss", false],
    ]);
  });
});
