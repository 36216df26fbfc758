import type { IncomingMessage, ServerResponse } from "node:http";
import { optionChecks } from "@palisade/core";

const NO_STORE = "no-store";

/**
 * Marks this response as sensitive: `Cache-Control: no-store`, so neither the browser nor a shared
 * cache keeps a copy (sign-in pages, account pages, anything personal).
 *
 * @example
 * app.get("/account", (req, res) => {
 *   markSensitive(res);
 *   res.render("account");
 * });
 */
export function markSensitive(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader("Cache-Control", NO_STORE);
}

/**
 * Middleware form of {@link markSensitive} for routes or routers that only serve sensitive responses.
 *
 * @example
 * app.use("/account", noStore());
 */
export function noStore() {
  return function noStoreMiddleware(_req: IncomingMessage, res: ServerResponse, next: () => void) {
    res.setHeader("Cache-Control", NO_STORE);
    next();
  };
}

export interface FingerprintedAssetsOptions {
  /** Paths that carry a content hash, so their content never changes. Defaults to `/\.[0-9a-f]{8,}\.[a-z0-9]+$/i` (`app.3f9a1c2b.js`). */
  pattern?: RegExp;
  /** Seconds to cache. Defaults to `31536000` (a year). */
  maxAge?: number;
}

/**
 * Long-lived caching for fingerprinted static assets: `Cache-Control: public, max-age=31536000, immutable`
 * on GET/HEAD requests whose path matches `pattern`; other paths are left alone. Mount it before
 * `express.static` (which keeps a `Cache-Control` that is already set).
 *
 * @example
 * app.use("/assets", cacheFingerprintedAssets(), express.static("public/assets"));
 */
export function cacheFingerprintedAssets(options: Readonly<FingerprintedAssetsOptions> = {}) {
  const check = optionChecks("cacheFingerprintedAssets");
  check.knownKeys(options, ["pattern", "maxAge"]);
  if (options.pattern !== undefined && !(options.pattern instanceof RegExp)) {
    check.fail("pattern", "a RegExp", options.pattern);
  }
  const pattern = options.pattern ?? /\.[0-9a-f]{8,}\.[a-z0-9]+$/i;
  const maxAge = check.number("maxAge", options.maxAge, 31_536_000, { min: 0, integer: true });
  const value = `public, max-age=${maxAge}, immutable`;
  return function cacheFingerprintedAssetsMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void) {
    if (req.method === "GET" || req.method === "HEAD") {
      const url = req.url ?? "";
      const end = url.indexOf("?");
      pattern.lastIndex = 0;
      if (pattern.test(end === -1 ? url : url.slice(0, end))) res.setHeader("Cache-Control", value);
    }
    next();
  };
}
