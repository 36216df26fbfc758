import { attachSecurityEventSink, type DeliveredSecurityEvent, PalisadeConfigError } from "@palisade/core";
import { recordingLogger } from "@palisade/test-utils";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { type CsrfOptions, csrfProtection, csrfToken } from "./index.js";

const SECRET = "a-test-secret-that-is-long-enough-1234";

function app(options: CsrfOptions = {}, events: DeliveredSecurityEvent[] = []) {
  const server = express();
  server.use(express.json(), express.urlencoded({ extended: false }));
  server.use((req, _res, next) => {
    attachSecurityEventSink(req, (event) => events.push(event));
    next();
  });
  server.use(csrfProtection({ secret: SECRET, ...options }));
  server.get("/form", (req, res) => {
    res.json({ token: csrfToken(req, res) });
  });
  server.post("/transfer", (_req, res) => {
    res.json({ ok: true });
  });
  return server;
}

/** Cookie header value from a response's Set-Cookie. */
function cookieFrom(response: request.Response): string {
  const setCookie = response.headers["set-cookie"] as unknown as string[];
  return setCookie[0]!.split(";")[0]!;
}

const withSession = (id: string) => ({ sessionId: () => id });

describe("csrfProtection()", () => {
  describe("options", () => {
    it("throws on a misspelled option", () => {
      expect(() => csrfProtection({ allowedOrigin: [] } as CsrfOptions)).toThrow(
        "csrfProtection: unknown option `allowedOrigin`. Did you mean `allowedOrigins`?",
      );
    });

    it("throws on a short secret", () => {
      expect(() => csrfProtection({ secret: "short" })).toThrow(PalisadeConfigError);
    });

    it("throws on an allowed origin with a path", () => {
      expect(() => csrfProtection({ allowedOrigins: ["https://example.com/app"] })).toThrow(
        'csrfProtection: option `allowedOrigins[0]` must be an origin like "https://app.example.com" (scheme, host, port only), got "https://example.com/app".',
      );
    });
  });

  it("lets safe methods through without varying on Sec-Fetch-Site or Origin, which did not decide them", async () => {
    const response = await request(app()).get("/form").set("Sec-Fetch-Site", "cross-site");
    expect(response.status).toBe(200);
    expect(response.headers.vary).toBeUndefined();
  });

  it("varies unsafe methods' responses on Sec-Fetch-Site and Origin, refused or not", async () => {
    const refused = await request(app())
      .post("/transfer")
      .type("form")
      .set("Sec-Fetch-Site", "cross-site")
      .send("amount=1");
    expect(refused.status).toBe(403);
    expect(refused.headers.vary).toBe("Sec-Fetch-Site, Origin");
    const allowed = await request(app())
      .post("/transfer")
      .type("form")
      .set("Sec-Fetch-Site", "same-origin")
      .send("amount=1");
    expect(allowed.status).not.toBe(403);
    expect(allowed.headers.vary).toBe("Sec-Fetch-Site, Origin");
  });

  it("refuses a cross-site form POST with reason cross-site and a malicious_csrf event", async () => {
    const events: DeliveredSecurityEvent[] = [];
    const response = await request(app({}, events))
      .post("/transfer")
      .type("form")
      .set("Sec-Fetch-Site", "cross-site")
      .set("Origin", "https://evil.example")
      .send("amount=1000");
    expect(response.status).toBe(403);
    expect(response.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(response.body).toEqual({
      type: "about:blank",
      title: "Forbidden",
      status: 403,
      detail: "Cross-site request refused.",
      reason: "cross-site",
    });
    expect(events.map((event) => [event.name, event.detail?.reason])).toEqual([["malicious_csrf", "cross-site"]]);
  });

  it("lets a same-origin fetch through", async () => {
    const response = await request(app()).post("/transfer").set("Sec-Fetch-Site", "same-origin").send({});
    expect(response.status).toBe(200);
  });

  it.each([
    [{}, "same-site"],
    [{ allowSameSite: true }, undefined],
  ])("with %o answers Sec-Fetch-Site: same-site with %s", async (options, reason) => {
    const response = await request(app(options))
      .post("/transfer")
      .set("Sec-Fetch-Site", "same-site")
      .set("Origin", "https://shop.example.com")
      .send({});
    expect(response.body.reason).toBe(reason);
  });

  it("lets a cross-site request from an allowed origin through", async () => {
    const response = await request(app({ allowedOrigins: ["https://admin.example.com"] }))
      .post("/transfer")
      .set("Sec-Fetch-Site", "cross-site")
      .set("Origin", "https://admin.example.com")
      .send({});
    expect(response.status).toBe(200);
  });

  describe("without Fetch Metadata", () => {
    it("lets a same-origin Origin through", async () => {
      const server = app();
      const response = await request(server)
        .post("/transfer")
        .set("Host", "shop.test")
        .set("Origin", "http://shop.test");
      expect(response.status).toBe(200);
    });

    it.each([
      ["Origin", "https://evil.example", "origin-mismatch"],
      ["Origin", "null", "origin-mismatch"],
      ["Referer", "https://evil.example/page", "referer-mismatch"],
    ])("refuses %s %s with reason %s", async (header, value, reason) => {
      const response = await request(app()).post("/transfer").set("Host", "shop.test").set(header, value);
      expect(response.status).toBe(403);
      expect(response.body.reason).toBe(reason);
    });

    it("lets a same-origin Referer through", async () => {
      const response = await request(app())
        .post("/transfer")
        .set("Host", "shop.test")
        .set("Referer", "http://shop.test/account");
      expect(response.status).toBe(200);
    });
  });

  describe("with neither header (token)", () => {
    it("refuses a request without a token with reason token-missing", async () => {
      const response = await request(app()).post("/transfer").send({});
      expect(response.body.reason).toBe("token-missing");
    });

    it("lets a request with the session's token through, in the header or the form field", async () => {
      const server = app(withSession("session-1"));
      const issued = await request(server).get("/form");
      const cookie = cookieFrom(issued);
      const { token } = issued.body as { token: string };
      const viaHeader = await request(server).post("/transfer").set("Cookie", cookie).set("x-csrf-token", token);
      expect(viaHeader.status).toBe(200);
      const viaForm = await request(server).post("/transfer").set("Cookie", cookie).type("form").send({ _csrf: token });
      expect(viaForm.status).toBe(200);
    });

    it("sets a __Host- cookie: Secure, Path=/, no Domain", async () => {
      const issued = await request(app()).get("/form");
      const setCookie = (issued.headers["set-cookie"] as unknown as string[])[0]!;
      expect(setCookie).toMatch(/^__Host-palisade-csrf=v1\.[^;]+; Path=\/; Max-Age=86400; SameSite=Strict; Secure$/);
    });

    it("refuses another session's token with reason token-invalid", async () => {
      const issued = await request(app(withSession("victim"))).get("/form");
      const response = await request(app(withSession("attacker")))
        .post("/transfer")
        .set("Cookie", cookieFrom(issued))
        .set("x-csrf-token", issued.body.token);
      expect(response.body.reason).toBe("token-invalid");
    });

    it("refuses a forged token with reason token-invalid", async () => {
      const server = app(withSession("s"));
      const issued = await request(server).get("/form");
      const forged = `${issued.body.token.slice(0, -2)}AA`;
      const response = await request(server)
        .post("/transfer")
        .set("Cookie", cookieFrom(issued))
        .set("x-csrf-token", forged);
      expect(response.body.reason).toBe("token-invalid");
    });

    it("without a session, refuses a token that is not the cookie's with reason token-mismatch", async () => {
      const server = app();
      const mine = await request(server).get("/form");
      const theirs = await request(server).get("/form");
      const response = await request(server)
        .post("/transfer")
        .set("Cookie", cookieFrom(mine))
        .set("x-csrf-token", theirs.body.token);
      expect(response.body.reason).toBe("token-mismatch");
    });

    it("reuses the cookie's token until rotateAfterMs, and older tokens of the session keep working", async () => {
      const server = app({ ...withSession("s"), rotateAfterMs: 0 });
      const first = await request(server).get("/form");
      const second = await request(server).get("/form").set("Cookie", cookieFrom(first));
      expect(second.body.token).not.toBe(first.body.token);
      const oldTab = await request(server)
        .post("/transfer")
        .set("Cookie", cookieFrom(second))
        .set("x-csrf-token", first.body.token);
      expect(oldTab.status).toBe(200);

      const stable = app(withSession("s"));
      const a = await request(stable).get("/form");
      const b = await request(stable).get("/form").set("Cookie", cookieFrom(a));
      expect(b.body.token).toBe(a.body.token);
      expect(b.headers["set-cookie"]).toBeUndefined();
    });

    it("refuses a token older than maxAgeMs with reason token-expired", async () => {
      const server = app({ ...withSession("s"), maxAgeMs: 1000, rotateAfterMs: 0 });
      const issued = await request(server).get("/form");
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const response = await request(server)
        .post("/transfer")
        .set("Cookie", cookieFrom(issued))
        .set("x-csrf-token", issued.body.token);
      expect(response.body.reason).toBe("token-expired");
    });

    it('answers per route with a "headerless" function', async () => {
      const server = app({ headerless: (req) => (req.url?.startsWith("/transfer") ? "reject" : "allow") });
      const response = await request(server).post("/transfer");
      expect(response.body.reason).toBe("no-origin");
    });

    it('lets server-to-server calls through with headerless "allow"', async () => {
      expect((await request(app({ headerless: "allow" })).post("/transfer")).status).toBe(200);
    });
  });

  it("lets bearer-token requests through with skip", async () => {
    const server = app({ skip: (req) => /^Bearer /i.test(req.headers.authorization ?? "") });
    const response = await request(server)
      .post("/transfer")
      .set("Authorization", "Bearer abc")
      .set("Sec-Fetch-Site", "cross-site")
      .send({});
    expect(response.status).toBe(200);
    const cookieOnly = await request(server).post("/transfer").set("Sec-Fetch-Site", "cross-site").send({});
    expect(cookieOnly.body.reason).toBe("cross-site");
  });

  it("in reportOnly mode reports but lets the request through", async () => {
    const events: DeliveredSecurityEvent[] = [];
    const response = await request(app({ reportOnly: true }, events))
      .post("/transfer")
      .set("Sec-Fetch-Site", "cross-site")
      .send({});
    expect(response.status).toBe(200);
    expect(events.map((event) => [event.name, event.detail?.reportOnly])).toEqual([["malicious_csrf", true]]);
  });

  it("warns once when tokens are signed with a random per-process secret", async () => {
    const logger = recordingLogger();
    const server = express();
    server.use(csrfProtection({ logger }));
    server.get("/", (req, res) => {
      res.send(csrfToken(req, res));
    });
    await request(server).get("/");
    await request(server).get("/");
    expect(logger.withCode("WRN_PALISADE_CSRF_EPHEMERAL_SECRET")).toHaveLength(1);
  });

  it("csrfToken() throws when the request did not pass through csrfProtection()", async () => {
    const server = express();
    server.get("/", (req, res) => {
      res.send(csrfToken(req, res));
    });
    server.use(((error, _req, res, _next) => {
      res.status(500).send(error.message);
    }) as express.ErrorRequestHandler);
    const response = await request(server).get("/");
    expect(response.text).toBe("csrfToken(): the request did not pass through csrfProtection(); mount it first.");
  });
});
