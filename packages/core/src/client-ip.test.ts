import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { clientIp, compileTrust, normalizeIp } from "./client-ip.js";
import { PalisadeConfigError } from "./errors.js";

function appWith(trusted?: Parameters<typeof clientIp>[1], trustProxy?: unknown) {
  const app = express();
  if (trustProxy !== undefined) app.set("trust proxy", trustProxy);
  app.get("/", (req, res) => {
    res.json({ ip: clientIp(req, trusted) });
  });
  return app;
}

describe("clientIp()", () => {
  it("returns the socket peer, IPv4-mapped IPv6 normalised, when no proxy is trusted", async () => {
    const res = await request(appWith([])).get("/").set("X-Forwarded-For", "203.0.113.9");
    expect(res.body.ip).toBe("127.0.0.1");
  });

  it("ignores X-Forwarded-For from an untrusted peer", async () => {
    const res = await request(appWith(["10.0.0.0/8"]))
      .get("/")
      .set("X-Forwarded-For", "203.0.113.9");
    expect(res.body.ip).toBe("127.0.0.1");
  });

  it("walks X-Forwarded-For right to left through trusted proxies", async () => {
    const res = await request(appWith(["loopback", "10.0.0.0/8"]))
      .get("/")
      .set("X-Forwarded-For", "198.51.100.7, 203.0.113.9, 10.1.2.3");
    expect(res.body.ip).toBe("203.0.113.9");
  });

  it("follows the Express app's trust proxy setting when no list is given", async () => {
    const res = await request(appWith(undefined, "loopback")).get("/").set("X-Forwarded-For", "203.0.113.9");
    expect(res.body.ip).toBe("203.0.113.9");
  });

  it("trusts nobody without a list or an app setting", async () => {
    const res = await request(appWith()).get("/").set("X-Forwarded-For", "203.0.113.9");
    expect(res.body.ip).toBe("127.0.0.1");
  });

  it("normalises a forwarded IPv4-mapped IPv6 address", async () => {
    const res = await request(appWith(["loopback"]))
      .get("/")
      .set("X-Forwarded-For", "::ffff:198.51.100.7");
    expect(res.body.ip).toBe("198.51.100.7");
  });
});

describe("compileTrust()", () => {
  it("throws a PalisadeConfigError naming the option for a bad range", () => {
    expect(() => compileTrust(["10.0.0.0/99"], "trustedProxies", "rateLimit")).toThrow(PalisadeConfigError);
    try {
      compileTrust(["not-an-ip"], "trustedProxies", "rateLimit");
    } catch (error) {
      expect((error as PalisadeConfigError).option).toBe("trustedProxies");
      expect((error as Error).message).toMatch(/^rateLimit: option `trustedProxies` must list IP addresses/);
    }
  });
});

describe("normalizeIp()", () => {
  it.each([
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["garbage", "garbage"],
  ])("turns %s into %s", (input, output) => {
    expect(normalizeIp(input)).toBe(output);
  });
});
