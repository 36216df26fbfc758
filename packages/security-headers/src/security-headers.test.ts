import { PalisadeConfigError } from "@palisade/core";
import { createApp, recordingLogger } from "@palisade/test-utils";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import type { SecurityHeadersOptions } from "./options.js";
import { securityHeaders } from "./security-headers.js";

const WEB_APP_CSP =
  "default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; img-src 'self'; font-src 'self'; connect-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
const DENIED =
  "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=(), xr-spatial-tracking=()";

function thrown(options: unknown): PalisadeConfigError {
  try {
    securityHeaders(options as SecurityHeadersOptions);
  } catch (error) {
    if (error instanceof PalisadeConfigError) return error;
    throw error;
  }
  throw new Error("expected a PalisadeConfigError");
}

const withNonce = (value: string, nonce: string) => value.replaceAll("{nonce}", nonce);

describe("securityHeaders()", () => {
  describe("by default", () => {
    it.each([
      ["strict-transport-security", "max-age=63072000; includeSubDomains"],
      ["x-content-type-options", "nosniff"],
      ["x-frame-options", "DENY"],
      ["referrer-policy", "strict-origin-when-cross-origin"],
      ["permissions-policy", DENIED],
      ["cross-origin-opener-policy", "same-origin"],
      ["cross-origin-resource-policy", "same-origin"],
      ["origin-agent-cluster", "?1"],
      ["x-dns-prefetch-control", "off"],
      ["x-permitted-cross-domain-policies", "none"],
      ["x-xss-protection", "0"],
    ])("sets %s to %j", async (name, value) => {
      const response = await request(createApp(securityHeaders())).get("/");
      expect(response.headers[name]).toBe(value);
    });

    it("sends the webApp CSP with this response's nonce in script-src and style-src", async () => {
      const app = createApp(securityHeaders());
      app.get("/page", (_req, res) => {
        res.send(res.locals.palisade?.cspNonce);
      });
      const response = await request(app).get("/page");
      expect(response.text).toMatch(/^[A-Za-z0-9+/]{24}$/);
      expect(response.headers["content-security-policy"]).toBe(withNonce(WEB_APP_CSP, response.text));
    });

    it("draws a different nonce for every request", async () => {
      const app = createApp(securityHeaders());
      app.get("/page", (_req, res) => {
        res.send(res.locals.palisade?.cspNonce);
      });
      const nonces = new Set<string>();
      for (let i = 0; i < 20; i++) nonces.add((await request(app).get("/page")).text);
      expect(nonces.size).toBe(20);
    });

    it.each(["x-powered-by", "server"])("removes %s", async (name) => {
      const app = express();
      app.use((_req, res, next) => {
        res.setHeader("Server", "nginx/1.2.3");
        next();
      });
      app.use(securityHeaders());
      app.get("/", (_req, res) => {
        res.send("ok");
      });
      const response = await request(app).get("/");
      expect(response.headers[name]).toBeUndefined();
    });

    it("sends no Cross-Origin-Embedder-Policy, Report-Only policy or Reporting-Endpoints", async () => {
      const response = await request(createApp(securityHeaders())).get("/");
      expect(response.headers["cross-origin-embedder-policy"]).toBeUndefined();
      expect(response.headers["content-security-policy-report-only"]).toBeUndefined();
      expect(response.headers["reporting-endpoints"]).toBeUndefined();
    });

    it("exposes the effective header set, nonce as {nonce}", () => {
      const { effective } = securityHeaders();
      expect(effective.presets).toEqual(["webApp"]);
      expect(effective.removed).toEqual(["X-Powered-By", "Server"]);
      expect(effective.headers["Content-Security-Policy"]).toBe(WEB_APP_CSP);
    });
  });

  describe("with presets", () => {
    it('sends the JSON API policy and leaves page-only headers out for "api"', async () => {
      const response = await request(createApp(securityHeaders({ preset: "api" }))).get("/");
      expect(response.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(response.headers["referrer-policy"]).toBe("no-referrer");
      for (const name of ["permissions-policy", "origin-agent-cluster", "x-dns-prefetch-control", "x-xss-protection"]) {
        expect(response.headers[name]).toBeUndefined();
      }
    });

    it('adds Stripe\'s hosts to the webApp policy for ["webApp", "stripe"]', () => {
      const { headers } = securityHeaders({ preset: ["webApp", "stripe"] }).effective;
      expect(headers["Content-Security-Policy"]).toBe(
        "default-src 'none'; script-src 'self' https://js.stripe.com https://*.js.stripe.com 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; img-src 'self'; font-src 'self'; connect-src 'self' https://api.stripe.com; manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com",
      );
      expect(headers["Permissions-Policy"]).toBe(
        DENIED.replace("payment=()", 'payment=(self "https://js.stripe.com")'),
      );
    });

    it('starts from webApp when only "stripe" is named', () => {
      expect(securityHeaders({ preset: "stripe" }).effective.presets).toEqual(["webApp", "stripe"]);
    });

    it("puts the base preset first whatever the order", () => {
      expect(securityHeaders({ preset: ["stripe", "api"] }).effective.presets).toEqual(["api", "stripe"]);
    });
  });

  describe("with csp", () => {
    it("extends the preset's directives instead of replacing them", () => {
      const { headers } = securityHeaders({
        csp: { directives: { "img-src": ["https://images.example", "data:"], frameSrc: ["https://player.example"] } },
      }).effective;
      expect(headers["Content-Security-Policy"]).toContain("img-src 'self' https://images.example data:;");
      expect(headers["Content-Security-Policy"]).toContain("; frame-src https://player.example");
    });

    it("replaces 'none' when sources are added to a denied directive", () => {
      const { headers } = securityHeaders({ csp: { directives: { "frame-ancestors": ["'self'"] } } }).effective;
      expect(headers["Content-Security-Policy"]).toMatch(/frame-ancestors 'self'$/);
    });

    it("removes a directive given null", () => {
      const { headers } = securityHeaders({ csp: { directives: { "manifest-src": null } } }).effective;
      expect(headers["Content-Security-Policy"]).not.toContain("manifest-src");
    });

    it("starts from an empty policy with useDefaults: false", () => {
      const { headers } = securityHeaders({
        csp: { useDefaults: false, directives: { defaultSrc: ["'self'"], upgradeInsecureRequests: [] } },
      }).effective;
      expect(headers["Content-Security-Policy"]).toBe("default-src 'self'; upgrade-insecure-requests");
    });

    it("leaves the nonce out with nonce: false", async () => {
      const app = createApp(securityHeaders({ csp: { nonce: false } }));
      app.get("/page", (_req, res) => {
        res.send(String(res.locals.palisade?.cspNonce));
      });
      const response = await request(app).get("/page");
      expect(response.text).toBe("undefined");
      expect(response.headers["content-security-policy"]).toContain("script-src 'self'; style-src 'self';");
    });

    it("sends no CSP with csp: false", async () => {
      const response = await request(createApp(securityHeaders({ csp: false }))).get("/");
      expect(response.headers["content-security-policy"]).toBeUndefined();
    });

    it("allows 'unsafe-eval' with dangerouslyAllowUnsafeScripts", () => {
      const { headers } = securityHeaders({
        csp: { dangerouslyAllowUnsafeScripts: true, directives: { "script-src": ["'unsafe-eval'"] } },
      }).effective;
      expect(headers["Content-Security-Policy"]).toContain("script-src 'self' 'unsafe-eval' 'nonce-{nonce}'");
    });
  });

  describe('with "cspReportOnly" and "reporting"', () => {
    it("sends the enforced and the Report-Only policy at once, with one nonce", async () => {
      const app = createApp(
        securityHeaders({ cspReportOnly: { directives: { "require-trusted-types-for": ["'script'"] } } }),
      );
      app.get("/page", (_req, res) => {
        res.send(res.locals.palisade?.cspNonce);
      });
      const response = await request(app).get("/page");
      expect(response.headers["content-security-policy"]).toBe(withNonce(WEB_APP_CSP, response.text));
      expect(response.headers["content-security-policy-report-only"]).toBe(
        `${withNonce(WEB_APP_CSP, response.text)}; require-trusted-types-for 'script'`,
      );
    });

    it("adds report-uri, report-to and Reporting-Endpoints", async () => {
      const response = await request(
        createApp(securityHeaders({ preset: "api", reporting: { endpoint: "/csp-report" } })),
      ).get("/");
      expect(response.headers["content-security-policy"]).toBe(
        "default-src 'none'; frame-ancestors 'none'; report-uri /csp-report; report-to csp-endpoint",
      );
      expect(response.headers["reporting-endpoints"]).toBe('csp-endpoint="/csp-report"');
    });

    it("uses the group name given", () => {
      const { headers } = securityHeaders({
        reporting: { endpoint: "https://reports.example/csp", group: "csp" },
      }).effective;
      expect(headers["Reporting-Endpoints"]).toBe('csp="https://reports.example/csp"');
    });
  });

  describe("with the other headers' options", () => {
    it.each<[SecurityHeadersOptions, string, string | undefined]>([
      [{ hsts: { maxAge: 300 } }, "strict-transport-security", "max-age=300; includeSubDomains"],
      [{ hsts: { includeSubDomains: false } }, "strict-transport-security", "max-age=63072000"],
      [{ hsts: { preload: true } }, "strict-transport-security", "max-age=63072000; includeSubDomains; preload"],
      [{ hsts: false }, "strict-transport-security", undefined],
      [{ referrerPolicy: "no-referrer" }, "referrer-policy", "no-referrer"],
      [{ referrerPolicy: false }, "referrer-policy", undefined],
      [{ frameOptions: "SAMEORIGIN" }, "x-frame-options", "SAMEORIGIN"],
      [{ frameOptions: false }, "x-frame-options", undefined],
      [
        { crossOriginOpenerPolicy: "same-origin-allow-popups" },
        "cross-origin-opener-policy",
        "same-origin-allow-popups",
      ],
      [{ crossOriginResourcePolicy: "cross-origin" }, "cross-origin-resource-policy", "cross-origin"],
      [{ crossOriginEmbedderPolicy: "require-corp" }, "cross-origin-embedder-policy", "require-corp"],
      [{ crossOriginEmbedderPolicy: "credentialless" }, "cross-origin-embedder-policy", "credentialless"],
      [{ originAgentCluster: false }, "origin-agent-cluster", undefined],
      [{ dnsPrefetchControl: false }, "x-dns-prefetch-control", undefined],
      [{ permittedCrossDomainPolicies: "master-only" }, "x-permitted-cross-domain-policies", "master-only"],
      [{ noSniff: false }, "x-content-type-options", undefined],
      [{ disableXssAuditor: false }, "x-xss-protection", undefined],
      [{ permissionsPolicy: false }, "permissions-policy", undefined],
      [
        { permissionsPolicy: { payment: ["self"], geolocation: null, fullscreen: ["self", "https://video.example"] } },
        "permissions-policy",
        `${DENIED.replace("geolocation=(), ", "").replace("payment=()", "payment=(self)")}, fullscreen=(self "https://video.example")`,
      ],
      [{ permissionsPolicy: { autoplay: ["*"] } }, "permissions-policy", `${DENIED}, autoplay=*`],
    ])("%j sets %s to %j", async (options, name, value) => {
      const response = await request(createApp(securityHeaders(options))).get("/");
      expect(response.headers[name]).toBe(value);
    });

    it("keeps X-Powered-By when removeHeaders is empty", async () => {
      const response = await request(createApp(securityHeaders({ removeHeaders: [] }))).get("/");
      expect(response.headers["x-powered-by"]).toBe("Express");
    });
  });

  describe("when the app already set a header", () => {
    const preset = (overwrite?: boolean) => {
      const logger = recordingLogger();
      const app = express();
      app.use((_req, res, next) => {
        res.setHeader("X-Frame-Options", "SAMEORIGIN");
        res.setHeader("Content-Security-Policy", "default-src 'self'");
        next();
      });
      app.use(securityHeaders({ logger, overwrite }));
      app.get("/", (_req, res) => {
        res.send("ok");
      });
      return { app, logger };
    };

    it("keeps the app's values and warns once", async () => {
      const { app, logger } = preset();
      const first = await request(app).get("/");
      await request(app).get("/");
      expect(first.status).toBe(200);
      expect(first.headers["x-frame-options"]).toBe("SAMEORIGIN");
      expect(first.headers["content-security-policy"]).toBe("default-src 'self'");
      expect(first.headers["x-content-type-options"]).toBe("nosniff");
      expect(logger.withCode("WRN_PALISADE_HEADER_KEPT")).toHaveLength(1);
      expect(logger.entries[0]!.message).toBe(
        "securityHeaders: X-Frame-Options was already set before securityHeaders() ran; keeping the app's value (set `overwrite: true` to replace it).",
      );
    });

    it("replaces them with overwrite: true", async () => {
      const { app, logger } = preset(true);
      const response = await request(app).get("/");
      expect(response.headers["x-frame-options"]).toBe("DENY");
      expect(response.headers["content-security-policy"]).toMatch(/^default-src 'none'; script-src 'self' 'nonce-/);
      expect(logger.entries).toHaveLength(0);
    });

    it("lets a route replace a header after the middleware ran", async () => {
      const app = createApp(securityHeaders());
      app.get("/embeddable", (_req, res) => {
        res.setHeader("X-Frame-Options", "SAMEORIGIN");
        res.send("ok");
      });
      expect((await request(app).get("/embeddable")).headers["x-frame-options"]).toBe("SAMEORIGIN");
    });
  });

  describe("with two instances", () => {
    it("lets the first instance that runs own the response", async () => {
      const app = express();
      app.use("/api", securityHeaders({ preset: "api" }));
      app.use(securityHeaders({ preset: "webApp" }));
      app.get("/api/items", (_req, res) => {
        res.json([]);
      });
      app.get("/", (_req, res) => {
        res.send("page");
      });
      const api = await request(app).get("/api/items");
      const page = await request(app).get("/");
      expect(api.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(api.headers["permissions-policy"]).toBeUndefined();
      expect(page.headers["content-security-policy"]).toMatch(/^default-src 'none'; script-src 'self' 'nonce-/);
    });
  });

  describe("validation", () => {
    it.each<[unknown, string, string]>([
      [
        { hsts: { maxAge: -1 } },
        "hsts.maxAge",
        "securityHeaders: option `hsts.maxAge` must be a non-negative integer, got -1.",
      ],
      [
        { hsts: { maxage: 1 } },
        "hsts.maxage",
        "securityHeaders: unknown option `hsts.maxage`. Did you mean `hsts.maxAge`?",
      ],
      [{ presets: "api" }, "presets", "securityHeaders: unknown option `presets`. Did you mean `preset`?"],
      [
        { preset: "spa" },
        "preset",
        'securityHeaders: option `preset` must be one of "webApp", "api", "stripe", got "spa".',
      ],
      [
        { referrerPolicy: "strict-origin-when-crossorigin" },
        "referrerPolicy",
        'securityHeaders: option `referrerPolicy` must be one of "no-referrer", "no-referrer-when-downgrade", "same-origin", "origin", "strict-origin", "origin-when-cross-origin", "strict-origin-when-cross-origin", "unsafe-url", got "strict-origin-when-crossorigin".',
      ],
      [
        { frameOptions: "deny" },
        "frameOptions",
        'securityHeaders: option `frameOptions` must be one of "DENY", "SAMEORIGIN", got "deny".',
      ],
      [
        { csp: { directives: { "script-src": ["self"] } } },
        "csp.directives.script-src",
        'securityHeaders: option `csp.directives.script-src` must be "\'self\'" (CSP keywords are single-quoted), got "self".',
      ],
      [
        { csp: { directives: { "script-src": ["nonce-abc"] } } },
        "csp.directives.script-src",
        'securityHeaders: option `csp.directives.script-src` must be "\'nonce-abc\'" (nonces and hashes are single-quoted), got "nonce-abc".',
      ],
      [
        { csp: { directives: { "img-src": ["'slef'"] } } },
        "csp.directives.img-src",
        "securityHeaders: option `csp.directives.img-src` must be a known CSP keyword such as \"'self'\", got \"'slef'\".",
      ],
      [
        { csp: { directives: { "scrpt-src": ["'self'"] } } },
        "csp.directives.scrpt-src",
        "securityHeaders: unknown CSP directive `csp.directives.scrpt-src`. Did you mean `csp.directives.script-src`?",
      ],
      [
        { csp: { directives: { "script-src": ["'self'"], scriptSrc: ["https://cdn.example"] } } },
        "csp.directives.scriptSrc",
        "securityHeaders: option `csp.directives.scriptSrc` duplicates `csp.directives.script-src`; pass the directive once.",
      ],
      [
        { csp: { directives: { "img-src": ["https://a.example", "https://a.example"] } } },
        "csp.directives.img-src",
        'securityHeaders: option `csp.directives.img-src` must be a list that names each source once, got "https://a.example".',
      ],
      [
        { csp: { directives: { "script-src": ["'unsafe-inline'"] } } },
        "csp.directives.script-src",
        "securityHeaders: option `csp.directives.script-src` must be free of 'unsafe-inline' (it switches off CSP's script protection; set `dangerouslyAllowUnsafeScripts: true` to allow it), got \"'unsafe-inline'\".",
      ],
      [
        { csp: { directives: { "img-src": ["'none'", "'self'"] } } },
        "csp.directives.img-src",
        "securityHeaders: option `csp.directives.img-src` must be either [\"'none'\"] or a list of sources without \"'none'\", got \"'none'\".",
      ],
      [
        { csp: { directives: { "img-src": ["https://a.example; script-src *"] } } },
        "csp.directives.img-src",
        "securityHeaders: option `csp.directives.img-src` must be one source without spaces, quotes, ';' or ',', got \"https://a.example; script-src *\".",
      ],
      [
        { csp: { directives: { "default-src": null } } },
        "csp.directives.default-src",
        "securityHeaders: option `csp.directives.default-src` must be a source list (a policy needs a default-src), got null.",
      ],
      [
        { csp: { useDefaults: false, directives: { "img-src": ["'self'"] } } },
        "csp.directives",
        "securityHeaders: option `csp.directives` must be a policy with a default-src (the fallback for every fetch), got an object.",
      ],
      [
        { csp: { directives: { "upgrade-insecure-requests": ["'self'"] } } },
        "csp.directives.upgrade-insecure-requests",
        "securityHeaders: option `csp.directives.upgrade-insecure-requests` must be an empty array (it takes no sources), got an array.",
      ],
      [
        { csp: { nonces: false } },
        "csp.nonces",
        "securityHeaders: unknown option `csp.nonces`. Did you mean `csp.nonce`?",
      ],
      [
        { permissionsPolicy: { geolocaton: [] } },
        "permissionsPolicy.geolocaton",
        "securityHeaders: unknown Permissions-Policy feature `permissionsPolicy.geolocaton`. Did you mean `permissionsPolicy.geolocation`?",
      ],
      [
        { permissionsPolicy: { payment: ["'self'"] } },
        "permissionsPolicy.payment",
        'securityHeaders: option `permissionsPolicy.payment` must be "self" (unquoted in Permissions-Policy), got "\'self\'".',
      ],
      [
        { permissionsPolicy: { payment: ["js.stripe.com"] } },
        "permissionsPolicy.payment",
        'securityHeaders: option `permissionsPolicy.payment` must be an array of "self", "*" or origins such as "https://example.com", got "js.stripe.com".',
      ],
      [
        { reporting: { endpoint: "/csp report" } },
        "reporting.endpoint",
        "securityHeaders: option `reporting.endpoint` must be a URL or path without spaces, quotes, ';' or ',', got \"/csp report\".",
      ],
      [
        { logger: console.log },
        "logger",
        "securityHeaders: option `logger` must be an object with a warn() method, got a function.",
      ],
      [
        { removeHeaders: "Server" },
        "removeHeaders",
        'securityHeaders: option `removeHeaders` must be an array of strings, got "Server".',
      ],
    ])("rejects %j", (options, option, message) => {
      const error = thrown(options);
      expect(error.message).toBe(message);
      expect(error.option).toBe(option);
    });

    it("explains app.use(securityHeaders) without the call", async () => {
      const app = express();
      app.use(securityHeaders as never);
      app.get("/", (_req, res) => {
        res.send("ok");
      });
      const response = await request(app).get("/");
      expect(response.status).toBe(500);
      expect(response.text).toContain(
        "securityHeaders: options must be an object, got an object. Mount it as app.use(securityHeaders()), not app.use(securityHeaders).",
      );
    });

    it("refuses two base presets", () => {
      const error = thrown({ preset: ["webApp", "api"] });
      expect(error.code).toBe("ERR_PALISADE_CONFLICTING_OPTIONS");
      expect(error.message).toBe(
        'securityHeaders: option `preset` may name one of "webApp", "api", got "webApp" and "api".',
      );
    });

    it("refuses hsts.preload without what preload lists require", () => {
      const error = thrown({ hsts: { preload: true, maxAge: 300 } });
      expect(error.code).toBe("ERR_PALISADE_CONFLICTING_OPTIONS");
      expect(error.message).toBe(
        "securityHeaders: option `hsts.preload` needs `hsts.includeSubDomains: true` and `hsts.maxAge` of at least 31536000 (what preload lists accept).",
      );
    });

    it("gives unknown and invalid options their codes", () => {
      expect(thrown({ hsts: { maxage: 1 } }).code).toBe("ERR_PALISADE_UNKNOWN_OPTION");
      expect(thrown({ hsts: { maxAge: -1 } }).code).toBe("ERR_PALISADE_INVALID_OPTION");
    });
  });
});
