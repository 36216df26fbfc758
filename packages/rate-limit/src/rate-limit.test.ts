import { Agent, get as httpGet } from "node:http";
import type { AddressInfo } from "node:net";
import type { DeliveredSecurityEvent } from "@palisade/core";
import { attachSecurityEventSink, PalisadeConfigError } from "@palisade/core";
import { recordingLogger } from "@palisade/test-utils";
import express, { type Express, type RequestHandler } from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { type RateLimitMiddleware, type RateLimitOptions, rateLimit } from "./index.js";

function loginApp(limiter: RateLimitMiddleware, events: DeliveredSecurityEvent[] = [], trust?: string) {
  const app = express();
  if (trust) app.set("trust proxy", trust);
  app.use(express.json());
  app.use((req, _res, next) => {
    attachSecurityEventSink(req, (event) => events.push(event));
    next();
  });
  app.post("/login", limiter, async (req, res) => {
    if (req.body.password === "right") {
      res.json({ ok: true });
      return;
    }
    await limiter.fail(req);
    res.status(401).json({ ok: false });
  });
  app.get("/", limiter, (_req, res) => {
    res.json({ ok: true });
  });
  return app;
}

async function statuses(app: Express, count: number, send: () => object, headers: Record<string, string> = {}) {
  const codes: number[] = [];
  for (let i = 0; i < count; i++) {
    codes.push((await request(app).post("/login").set(headers).send(send())).status);
  }
  return codes;
}

const wrong = { email: "alice@example.com", password: "wrong" };

describe("rateLimit()", () => {
  describe("options", () => {
    it("throws on a misspelled option with a suggestion", () => {
      expect(() => rateLimit({ limt: 5 } as RateLimitOptions)).toThrow(
        "rateLimit: unknown option `limt`. Did you mean `limit`?",
      );
    });

    it("throws on an unknown preset, listing the accepted ones", () => {
      expect(() => rateLimit({ preset: "login" as never })).toThrow(
        'rateLimit: option `preset` must be one of "sensitive", "api", "expensive", got "login".',
      );
    });

    it.each([
      [{ limit: 0 }, "limit"],
      [{ windowMs: -1 }, "windowMs"],
      [{ ipv6Subnet: 60 }, "ipv6Subnet"],
      [{ penalty: { after: 0 } }, "penalty.after"],
      [{ redis: {} }, "redis"],
      [{ onStoreError: "fail" }, "onStoreError"],
    ])("throws a PalisadeConfigError naming the option for %o", (options, option) => {
      let caught: unknown;
      try {
        rateLimit(options as RateLimitOptions);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PalisadeConfigError);
      expect((caught as PalisadeConfigError).option).toBe(option);
    });
  });

  describe('with preset "api"', () => {
    it("sends draft-8 RateLimit and RateLimit-Policy headers", async () => {
      const app = loginApp(rateLimit({ limit: 3, windowMs: 60_000 }));
      const response = await request(app).get("/");
      expect(response.status).toBe(200);
      expect(response.headers["ratelimit-policy"]).toMatch(/^"api";q=3;w=60$/);
      expect(response.headers.ratelimit).toMatch(/^"api";r=2;t=(59|60)$/);
      expect(response.headers["x-ratelimit-limit"]).toBeUndefined();
    });

    it("answers 429 problem+json with Retry-After and emits excess_rate_limit_exceeded", async () => {
      const events: DeliveredSecurityEvent[] = [];
      const app = loginApp(rateLimit({ limit: 2, windowMs: 60_000 }), events);
      await request(app).get("/");
      await request(app).get("/");
      const response = await request(app).get("/");
      expect(response.status).toBe(429);
      expect(response.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
      expect(Number(response.headers["retry-after"])).toBeGreaterThanOrEqual(59);
      expect(response.body).toMatchObject({ status: 429, title: "Too Many Requests", reason: "rate-limited" });
      expect(events.map((event) => [event.name, event.detail?.dimension, event.detail?.shadow])).toEqual([
        ["excess_rate_limit_exceeded", "ip", false],
      ]);
    });
  });

  describe('with preset "sensitive"', () => {
    it("lets exactly `limit` attempts through from one address", async () => {
      const app = loginApp(rateLimit({ preset: "sensitive" }));
      const codes = await statuses(app, 7, () => ({ email: `user${Math.random()}@example.com`, password: "x" }));
      expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429]);
    });

    it("limits one account across many addresses with `accountLimit`", async () => {
      const events: DeliveredSecurityEvent[] = [];
      const app = loginApp(rateLimit({ preset: "sensitive", accountLimit: 3 }), events, "loopback");
      const codes: number[] = [];
      for (let i = 1; i <= 5; i++) {
        codes.push((await request(app).post("/login").set("X-Forwarded-For", `198.51.100.${i}`).send(wrong)).status);
      }
      expect(codes).toEqual([401, 401, 401, 429, 429]);
      expect(events.at(-1)?.detail).toMatchObject({ dimension: "account", limit: 3 });
      const other = await request(app)
        .post("/login")
        .set("X-Forwarded-For", "198.51.100.9")
        .send({ email: "bob@example.com", password: "wrong" });
      expect(other.status).toBe(401);
    });

    it("counts the account case- and space-insensitively", async () => {
      const app = loginApp(rateLimit({ preset: "sensitive", accountLimit: 2 }), [], "loopback");
      const emails = ["Alice@Example.com", " alice@example.com", "ALICE@EXAMPLE.COM"];
      const codes: number[] = [];
      for (const [i, email] of emails.entries()) {
        codes.push(
          (
            await request(app)
              .post("/login")
              .set("X-Forwarded-For", `198.51.100.${i + 1}`)
              .send({ email })
          ).status,
        );
      }
      expect(codes).toEqual([401, 401, 429]);
    });

    it("sends one policy per dimension", async () => {
      const app = loginApp(rateLimit({ preset: "sensitive" }));
      const response = await request(app).post("/login").send(wrong);
      expect(response.headers["ratelimit-policy"]).toBe('"sensitive";q=5;w=900, "sensitive-account";q=50;w=900');
      expect(response.headers.ratelimit).toMatch(/^"sensitive";r=4;t=(899|900), "sensitive-account";r=49;t=(899|900)$/);
    });

    it("groups IPv6 clients by /56", async () => {
      const app = loginApp(rateLimit({ preset: "sensitive", limit: 2, account: false }), [], "loopback");
      const codes: number[] = [];
      for (const ip of ["2001:db8:1:100::1", "2001:db8:1:1ff::2", "2001:db8:1:100::3", "2001:db8:2::1"]) {
        codes.push((await request(app).post("/login").set("X-Forwarded-For", ip).send(wrong)).status);
      }
      expect(codes).toEqual([401, 401, 429, 401]);
    });

    it("ignores X-Forwarded-For from an untrusted peer", async () => {
      const logger = recordingLogger();
      const app = loginApp(rateLimit({ preset: "sensitive", limit: 2, account: false, logger }));
      const codes: number[] = [];
      for (let i = 1; i <= 3; i++) {
        codes.push((await request(app).post("/login").set("X-Forwarded-For", `203.0.113.${i}`).send(wrong)).status);
      }
      expect(codes).toEqual([401, 401, 429]);
    });
  });

  describe("penalty box", () => {
    it("blocks the address for the cool-down after `after` failures, and the cool-down grows", async () => {
      const limiter = rateLimit({
        preset: "sensitive",
        limit: 100,
        penalty: { after: 2, coolDownMs: 30, factor: 4 },
      });
      const app = loginApp(limiter);
      const req = { socket: { remoteAddress: "192.0.2.1" }, headers: {}, body: {} } as never;
      expect(await limiter.fail(req)).toBe(0);
      expect(await limiter.fail(req)).toBe(30);
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(await limiter.fail(req)).toBe(0);
      expect(await limiter.fail(req)).toBe(120);
      expect((await request(app).get("/")).status).toBe(200);
    });

    it("refuses requests from a boxed address with reason penalty and Retry-After", async () => {
      const events: DeliveredSecurityEvent[] = [];
      const limiter = rateLimit({ preset: "sensitive", limit: 100, penalty: { after: 2, coolDownMs: 120_000 } });
      const app = loginApp(limiter, events);
      expect(await statuses(app, 3, () => wrong)).toEqual([401, 401, 429]);
      const response = await request(app).post("/login").send({ email: "bob@example.com", password: "right" });
      expect(response.status).toBe(429);
      expect(response.headers["retry-after"]).toMatch(/^1(19|20)$/);
      expect(response.body.reason).toBe("penalty");
      expect(events.at(-1)?.detail).toMatchObject({ reason: "penalty", dimension: "ip" });
    });

    it("reset(address) lets the address in again", async () => {
      const limiter = rateLimit({ preset: "sensitive", limit: 100, penalty: { after: 1 } });
      const app = loginApp(limiter);
      await statuses(app, 1, () => wrong);
      expect((await request(app).post("/login").send(wrong)).status).toBe(429);
      await limiter.reset("::ffff:127.0.0.1");
      expect((await request(app).post("/login").send(wrong)).status).toBe(401);
    });

    it("reset(account) clears the account's count", async () => {
      const limiter = rateLimit({ preset: "sensitive", accountLimit: 1, penalty: false });
      const app = loginApp(limiter, [], "loopback");
      const send = (ip: string) => request(app).post("/login").set("X-Forwarded-For", ip).send(wrong);
      expect((await send("198.51.100.1")).status).toBe(401);
      expect((await send("198.51.100.2")).status).toBe(429);
      await limiter.reset("Alice@example.com");
      expect((await send("198.51.100.3")).status).toBe(401);
    });

    it("one address cannot put an account in the box for everyone", async () => {
      const limiter = rateLimit({ preset: "sensitive" });
      const app = loginApp(limiter, [], "loopback");
      const attacker = await statuses(app, 8, () => wrong, { "X-Forwarded-For": "203.0.113.66" });
      expect(attacker.filter((code) => code === 429)).toHaveLength(3);
      const owner = await request(app)
        .post("/login")
        .set("X-Forwarded-For", "198.51.100.7")
        .send({ email: "alice@example.com", password: "right" });
      expect(owner.status).toBe(200);
    });
  });

  describe("with shadow", () => {
    it("counts and reports but never blocks", async () => {
      const events: DeliveredSecurityEvent[] = [];
      const limiter = rateLimit({ limit: 1, shadow: true });
      const app = express();
      app.use((req, _res, next) => {
        attachSecurityEventSink(req, (event) => events.push(event));
        next();
      });
      app.get("/", limiter, (_req, res) => {
        res.json({ limited: res.locals.palisade?.rateLimit ?? null });
      });
      const first = await request(app).get("/");
      const second = await request(app).get("/");
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(first.body.limited).toBeNull();
      expect(second.body.limited).toEqual({ limiter: "api", dimension: "ip", reason: "rate-limited", shadow: true });
      expect(second.headers.ratelimit).toBeUndefined();
      expect(events.map((event) => [event.name, event.detail?.shadow])).toEqual([["excess_rate_limit_exceeded", true]]);
    });
  });

  describe("trust proxy diagnostics", () => {
    it("warns once when X-Forwarded-For arrives from a peer that is not trusted", async () => {
      const logger = recordingLogger();
      const app = loginApp(rateLimit({ logger }));
      await request(app).get("/").set("X-Forwarded-For", "203.0.113.1");
      await request(app).get("/").set("X-Forwarded-For", "203.0.113.2");
      const warnings = logger.withCode("WRN_PALISADE_TRUST_PROXY_UNSET");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toContain("X-Forwarded-For arrived from 127.0.0.1, which is not a trusted proxy");
    });

    it("does not warn when the peer is a trusted proxy", async () => {
      const logger = recordingLogger();
      const app = loginApp(rateLimit({ logger }), [], "loopback");
      await request(app).get("/").set("X-Forwarded-For", "203.0.113.1");
      expect(logger.entries).toEqual([]);
    });

    it("warns when trust proxy is true", async () => {
      const logger = recordingLogger();
      const app = loginApp(rateLimit({ logger }));
      app.set("trust proxy", true);
      await request(app).get("/");
      expect(logger.withCode("WRN_PALISADE_TRUST_PROXY_PERMISSIVE")).toHaveLength(1);
    });

    it("checks each app a shared limiter is mounted in", async () => {
      const logger = recordingLogger();
      const limiter = rateLimit({ logger });
      const plain = loginApp(limiter);
      const permissive = loginApp(limiter);
      permissive.set("trust proxy", true);
      await request(plain).get("/");
      await request(plain).get("/");
      expect(logger.withCode("WRN_PALISADE_TRUST_PROXY_PERMISSIVE")).toHaveLength(0);
      await request(permissive).get("/");
      expect(logger.withCode("WRN_PALISADE_TRUST_PROXY_PERMISSIVE")).toHaveLength(1);
    });

    it("is switched off with checks.trustProxy = false", async () => {
      const logger = recordingLogger();
      const app = loginApp(rateLimit({ logger, checks: { trustProxy: false } }));
      await request(app).get("/").set("X-Forwarded-For", "203.0.113.1");
      expect(logger.entries).toEqual([]);
    });
  });

  describe("on a keep-alive connection", () => {
    it("keys forwarded requests by the forwarded address, not by the connection", async () => {
      const app = loginApp(rateLimit({ limit: 1 }), [], "loopback");
      const listening = app.listen(0, "127.0.0.1");
      await new Promise((resolve) => listening.once("listening", resolve));
      const { port } = listening.address() as AddressInfo;
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          httpGet({ host: "127.0.0.1", port, path: "/", agent, headers }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          }).on("error", reject);
        });
      try {
        expect(await get({})).toBe(200);
        expect(await get({ "X-Forwarded-For": "203.0.113.1" })).toBe(200);
        expect(await get({})).toBe(429);
        expect(await get({ "X-Forwarded-For": "203.0.113.1" })).toBe(429);
      } finally {
        agent.destroy();
        listening.close();
      }
    });
  });

  describe("with skipSuccessfulRequests", () => {
    it("does not count requests that succeeded", async () => {
      const app = loginApp(rateLimit({ preset: "sensitive", limit: 2, skipSuccessfulRequests: true, penalty: false }));
      const right = { email: "alice@example.com", password: "right" };
      expect(await statuses(app, 4, () => right)).toEqual([200, 200, 200, 200]);
      expect(await statuses(app, 3, () => wrong)).toEqual([401, 401, 429]);
    });
  });

  describe("with keyGenerator", () => {
    it("counts per returned key instead of per address", async () => {
      const limiter = rateLimit({ limit: 1, keyGenerator: (req) => String(req.headers["x-user"]) });
      const handler: RequestHandler = (_req, res) => {
        res.json({ ok: true });
      };
      const app = express().get("/", limiter, handler);
      expect((await request(app).get("/").set("x-user", "a")).status).toBe(200);
      expect((await request(app).get("/").set("x-user", "b")).status).toBe(200);
      expect((await request(app).get("/").set("x-user", "a")).status).toBe(429);
    });
  });
});
