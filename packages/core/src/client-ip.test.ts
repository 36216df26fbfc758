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

describe("clientIp() per request", () => {
  it("resolves once per request and trust function, whoever asks", async () => {
    let calls = 0;
    const counting = (address: string) => {
      calls++;
      return address === "127.0.0.1" || address === "::ffff:127.0.0.1";
    };
    const other = () => false;
    const app = express();
    app.get("/", (req, res) => {
      const first = clientIp(req, counting);
      const again = clientIp(req, counting);
      const untrusting = clientIp(req, other);
      res.json({ first, again, untrusting, calls });
    });

    const one = await request(app).get("/").set("X-Forwarded-For", "203.0.113.9");
    expect(one.body).toEqual({ first: "203.0.113.9", again: "203.0.113.9", untrusting: "127.0.0.1", calls: 1 });
    const two = await request(app).get("/").set("X-Forwarded-For", "198.51.100.4");
    expect(two.body.first).toBe("198.51.100.4");
    expect(two.body.calls).toBe(2);
  });

  it("answers the socket peer without X-Forwarded-For, without consulting the trust function", async () => {
    let calls = 0;
    const app = express();
    app.get("/", (req, res) => {
      res.json({
        ip: clientIp(req, () => {
          calls++;
          return true;
        }),
      });
    });
    const res = await request(app).get("/");
    expect(res.body.ip).toBe("127.0.0.1");
    expect(calls).toBe(0);
  });
});

describe("compileTrust()", () => {
  it("gives every caller with the same list the same function, with the same answers", () => {
    const trust = compileTrust(["loopback", "10.0.0.0/8"]);
    expect(compileTrust("loopback, 10.0.0.0/8")).toBe(trust);
    for (let i = 0; i < 3; i++) {
      expect(trust("::ffff:127.0.0.1", 0)).toBe(true);
      expect(trust("10.1.2.3", 1)).toBe(true);
      expect(trust("203.0.113.9", 1)).toBe(false);
      expect(trust("not an address", 1)).toBe(false);
    }
  });

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
