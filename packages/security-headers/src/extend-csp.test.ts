import { createApp } from "@palisade/test-utils";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { extendCsp, withCsp } from "./extend-csp.js";
import { securityHeaders } from "./security-headers.js";

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** An app whose error handler runs after the test's routes (createApp's runs before routes added later). */
function appWith(routes: (app: express.Express) => void, ...middleware: express.RequestHandler[]) {
  const app = express();
  for (const handler of middleware) app.use(handler);
  routes(app);
  app.use(((error, _req, res, _next) => {
    res.status(500).json({ error: String(error?.message ?? error) });
  }) as express.ErrorRequestHandler);
  return app;
}

describe("extendCsp()", () => {
  it("adds sources to this response's policy only", async () => {
    const app = createApp(securityHeaders({ preset: "api" }));
    app.get("/map", (req, res) => {
      extendCsp(req, { "img-src": ["https://tiles.example"] });
      res.send("map");
    });
    const map = await request(app).get("/map");
    const other = await request(app).get("/");
    expect(map.headers["content-security-policy"]).toBe(`${API_CSP}; img-src https://tiles.example`);
    expect(other.headers["content-security-policy"]).toBe(API_CSP);
  });

  it("keeps the nonce and accumulates several calls, in both policies", async () => {
    const app = createApp(securityHeaders({ cspReportOnly: {} }));
    app.get("/page", (req, res) => {
      extendCsp(req, { "script-src": ["https://cdn.example"] });
      extendCsp(req, { scriptSrc: ["https://cdn2.example"], "img-src": ["data:"] });
      res.send(res.locals.palisade?.cspNonce);
    });
    const response = await request(app).get("/page");
    const nonce = response.text;
    for (const name of ["content-security-policy", "content-security-policy-report-only"]) {
      expect(response.headers[name]).toContain(
        `script-src 'self' https://cdn.example https://cdn2.example 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'; img-src 'self' data:;`,
      );
    }
  });

  it("throws the validation error into Express's error handler", async () => {
    const app = appWith((routes) => {
      routes.get("/bad", (req, res) => {
        extendCsp(req, { "img-src": ["self"] });
        res.send("never");
      });
    }, securityHeaders());
    const response = await request(app).get("/bad");
    expect(response.status).toBe(500);
    expect(response.body.error).toBe(
      'extendCsp: option `directives.img-src` must be "\'self\'" (CSP keywords are single-quoted), got "self".',
    );
  });

  it("throws when securityHeaders() did not run", async () => {
    const app = appWith((routes) => {
      routes.get("/orphan", (req, res) => {
        extendCsp(req, { "img-src": ["'self'"] });
        res.send("never");
      });
    });
    const response = await request(app).get("/orphan");
    expect(response.body.error).toBe(
      "extendCsp: securityHeaders() has not run for this request; mount it before this route.",
    );
  });

  it("leaves a CSP the app set itself alone and returns false", async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader("Content-Security-Policy", "default-src 'self'");
      next();
    });
    app.use(securityHeaders({ warnings: false }));
    app.get("/", (req, res) => {
      res.json({ changed: extendCsp(req, { "img-src": ["https://x.example"] }) });
    });
    const response = await request(app).get("/");
    expect(response.body).toEqual({ changed: false });
    expect(response.headers["content-security-policy"]).toBe("default-src 'self'");
  });
});

describe("withCsp()", () => {
  it("extends the policy for the routes it is mounted on", async () => {
    const app = createApp(securityHeaders({ preset: "api" }));
    app.get("/checkout", withCsp({ "frame-src": ["https://js.stripe.com"] }), (_req, res) => {
      res.send("checkout");
    });
    for (let i = 0; i < 2; i++) {
      const response = await request(app).get("/checkout");
      expect(response.headers["content-security-policy"]).toBe(`${API_CSP}; frame-src https://js.stripe.com`);
    }
  });

  it("starts a new fetch directive from default-src so 'self' is kept", async () => {
    const app = createApp(securityHeaders({ csp: { useDefaults: false, directives: { "default-src": ["'self'"] } } }));
    app.get("/fonts", withCsp({ "font-src": ["https://fonts.example"] }), (_req, res) => {
      res.send("ok");
    });
    const response = await request(app).get("/fonts");
    expect(response.headers["content-security-policy"]).toBe(
      "default-src 'self'; font-src 'self' https://fonts.example",
    );
  });

  it("validates at construction", () => {
    expect(() => withCsp({ "script-src": ["'unsafe-eval'"] })).toThrow(
      "withCsp: option `directives.script-src` must be free of 'unsafe-eval' (it switches off CSP's script protection; set `dangerouslyAllowUnsafeScripts: true` to allow it), got \"'unsafe-eval'\".",
    );
    expect(() => withCsp({ "script-src": ["'unsafe-eval'"] }, { dangerouslyAllowUnsafeScripts: true })).not.toThrow();
  });
});
