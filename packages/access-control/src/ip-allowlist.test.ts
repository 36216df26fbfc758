import { Agent, get as httpGet } from "node:http";
import type { AddressInfo } from "node:net";
import { attachSecurityEventSink, type DeliveredSecurityEvent, PalisadeConfigError } from "@palisade/core";
import { recordingLogger } from "@palisade/test-utils";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { type IpAllowlistOptions, ipAllowlist } from "./index.js";

function app(cidrs: readonly string[] | string, options: IpAllowlistOptions = {}, trust?: unknown) {
  const events: DeliveredSecurityEvent[] = [];
  const server = express();
  if (trust !== undefined) server.set("trust proxy", trust);
  server.use((req, _res, next) => {
    attachSecurityEventSink(req, (event) => events.push(event));
    next();
  });
  server.use("/admin", ipAllowlist(cidrs, options));
  server.get("/admin", (_req, res) => {
    res.json({ ok: true });
  });
  return { server, events };
}

const from = (server: express.Express, forwarded?: string) => {
  const pending = request(server).get("/admin");
  return forwarded ? pending.set("X-Forwarded-For", forwarded) : pending;
};

describe("ipAllowlist()", () => {
  describe("options", () => {
    it.each([
      [["10.0.0.0/33"], "cidrs[0]"],
      [["not-an-ip"], "cidrs[0]"],
      [[], "cidrs"],
      ["", "cidrs"],
    ])("throws on %o naming %s", (cidrs, option) => {
      let caught: unknown;
      try {
        ipAllowlist(cidrs);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PalisadeConfigError);
      expect((caught as PalisadeConfigError).option).toBe(option);
    });

    it("refuses to start when the app's trust proxy is true, saying how to fix it", () => {
      const server = express().set("trust proxy", true);
      expect(() => ipAllowlist(["127.0.0.1"], { app: server })).toThrow(
        'ipAllowlist: the app\'s `trust proxy` is `true`, so any client can claim an allowed address with X-Forwarded-For. Set it to your proxies (app.set("trust proxy", "loopback") or their addresses) or pass `trustedProxies`.',
      );
    });

    it("starts with trust proxy true when trustedProxies is given", () => {
      const server = express().set("trust proxy", true);
      expect(() => ipAllowlist(["127.0.0.1"], { app: server, trustedProxies: ["loopback"] })).not.toThrow();
    });
  });

  it.each([
    [["127.0.0.1"], 200],
    [["127.0.0.0/8"], 200],
    [["127.0.0.1/8", "::1/128"], 200],
    [["::ffff:127.0.0.1"], 200],
    [["::ffff:127.0.0.0/104"], 200],
    ["10.0.0.0/8, 127.0.0.1", 200],
    [["10.0.0.0/8"], 403],
    [["::1"], 403],
  ])("with %o answers a loopback IPv4 client %i", async (cidrs, status) => {
    expect((await from(app(cidrs).server)).status).toBe(status);
  });

  it("refuses with 403 problem+json and an authz_fail event", async () => {
    const { server, events } = app(["10.0.0.0/8"]);
    const response = await from(server);
    expect(response.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(response.body).toMatchObject({ status: 403, reason: "ip-not-allowed" });
    expect(events.map((event) => [event.name, event.detail?.rule])).toEqual([["authz_fail", "ip-allowlist"]]);
  });

  it("does not let a spoofed X-Forwarded-For from an untrusted peer in", async () => {
    const { server } = app(["203.0.113.5"]);
    expect((await from(server, "203.0.113.5")).status).toBe(403);
  });

  it("honours the forwarded address from a trusted proxy", async () => {
    const { server } = app(["203.0.113.5", "2001:db8::/32"], {}, "loopback");
    expect((await from(server, "203.0.113.5")).status).toBe(200);
    expect((await from(server, "2001:db8:ab::1")).status).toBe(200);
    expect((await from(server, "203.0.113.6")).status).toBe(403);
    expect((await from(server, "203.0.113.5, 203.0.113.6")).status).toBe(403);
  });

  it("decides again for a forwarded request on a connection it already let in", async () => {
    const { server } = app(["127.0.0.1"], {}, "loopback");
    const listening = server.listen(0, "127.0.0.1");
    await new Promise((resolve) => listening.once("listening", resolve));
    const { port } = listening.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        httpGet({ host: "127.0.0.1", port, path: "/admin", agent, headers }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        }).on("error", reject);
      });
    try {
      expect(await get({})).toBe(200);
      expect(await get({ "X-Forwarded-For": "203.0.113.9" })).toBe(403);
      expect(await get({})).toBe(200);
    } finally {
      agent.destroy();
      listening.close();
    }
  });

  it("honours trustedProxies over the app's setting", async () => {
    const { server } = app(["203.0.113.5"], { trustedProxies: ["127.0.0.1"] });
    expect((await from(server, "203.0.113.5")).status).toBe(200);
  });

  it("refuses every request and warns once when trust proxy turns out to be true at request time", async () => {
    const logger = recordingLogger();
    const { server, events } = app(["203.0.113.5", "127.0.0.1"], { logger }, true);
    expect((await from(server, "203.0.113.5")).status).toBe(403);
    expect((await from(server)).status).toBe(403);
    expect(logger.withCode("WRN_PALISADE_TRUST_PROXY_PERMISSIVE")).toHaveLength(1);
    expect(events.at(-1)?.detail).toMatchObject({ reason: "trust-proxy-permissive" });
  });
});
