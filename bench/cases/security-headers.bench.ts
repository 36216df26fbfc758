import { NONCE_PLACEHOLDER, securityHeaders } from "@palisade/security-headers";
import express, { type Express, type RequestHandler } from "express";
import { defineBench, requireFromPackage } from "../harness.js";

// helmet is a dependency of the package, not of the root: load the very copy the package uses.
const helmet = requireFromPackage("security-headers")("helmet") as () => RequestHandler;

// What sending security headers costs. `constantBytes` writes exactly the header bytes that
// securityHeaders() sends (a fixed nonce of the same length) from precomputed constants: the
// physical floor. securityHeaders() should stay within 2% of it and never fall below helmet.

// Every variant disables Express's X-Powered-By (Express's own production advice), so all four
// differ only by their middleware and constantBytes sends byte-for-byte what securityHeaders() sends.
function app(...middleware: RequestHandler[]): Express {
  const server = express();
  server.disable("x-powered-by");
  for (const handler of middleware) server.use(handler);
  server.get("/", (_req, res) => {
    res.json({ ok: true });
  });
  return server;
}

export default defineBench({
  kind: "http",
  description: "bare Express vs helmet() vs constant header bytes vs securityHeaders() (webApp, nonce per request)",
  variants: {
    bare: () => app(),
    helmet: () => app(helmet()),
    constantBytes: () => {
      const fixedNonce = "A".repeat(24);
      const headers = Object.entries(securityHeaders().effective.headers).map(
        ([name, value]) => [name, value.replaceAll(NONCE_PLACEHOLDER, fixedNonce)] as const,
      );
      return app((_req, res, next) => {
        for (const [name, value] of headers) res.setHeader(name, value);
        next();
      });
    },
    securityHeaders: () => app(securityHeaders()),
  },
  targets: [
    { variant: "securityHeaders", minRatio: 0.98, against: "constantBytes" },
    { variant: "securityHeaders", minRatio: 1, against: "helmet" },
  ],
});
