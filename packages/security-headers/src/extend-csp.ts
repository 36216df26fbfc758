import type { IncomingMessage, ServerResponse } from "node:http";
import { optionChecks } from "@palisade/core";
import {
  type CompiledPolicy,
  compilePolicy,
  type DirectiveAdditions,
  mergeDirectives,
  normalizeDirectives,
  renderPolicy,
} from "./csp.js";
import type { CspDirectives } from "./options.js";
import { requestState } from "./security-headers.js";

/** Options of {@link extendCsp} and {@link withCsp}. */
export interface ExtendCspOptions {
  /** Allows `'unsafe-inline'`/`'unsafe-eval'` in script directives for this route. Defaults to `false`. */
  dangerouslyAllowUnsafeScripts?: boolean;
}

function apply(req: IncomingMessage, scope: string, extend: (policy: CompiledPolicy) => CompiledPolicy): boolean {
  const state = requestState(req);
  if (!state) {
    throw new Error(`${scope}: securityHeaders() has not run for this request; mount it before this route.`);
  }
  const res: ServerResponse = state.res;
  if (res.headersSent) throw new Error(`${scope}: the response headers were already sent.`);
  state.extended ??= [...state.policies];
  const current = state.extended;
  let changed = false;
  for (let index = 0; index < current.length; index++) {
    if ((state.owned & (1 << index)) === 0) continue;
    const extended = extend(current[index]!);
    res.setHeader(extended.header, renderPolicy(extended, state.nonce));
    current[index] = extended;
    changed = true;
  }
  return changed;
}

/**
 * Adds sources to this response's CSP (enforced and Report-Only) instead of replacing the policy:
 * `extendCsp(req, { "img-src": ["https://images.example"] })`. Validated like `csp.directives`
 * (a bad directive throws, which Express turns into a 500: it is a programming error).
 * Returns `false` when the app had set its own CSP, which is left alone.
 *
 * @example
 * app.get("/map", (req, res) => {
 *   extendCsp(req, { "img-src": ["https://tile.openstreetmap.org"] });
 *   res.render("map");
 * });
 */
export function extendCsp(
  req: IncomingMessage,
  directives: CspDirectives,
  options: Readonly<ExtendCspOptions> = {},
): boolean {
  const check = optionChecks("extendCsp");
  check.knownKeys(options, ["dangerouslyAllowUnsafeScripts"]);
  const allowUnsafe = check.boolean("dangerouslyAllowUnsafeScripts", options.dangerouslyAllowUnsafeScripts, false);
  const additions = normalizeDirectives(check, "directives", directives, allowUnsafe);
  return apply(req, "extendCsp", (policy) =>
    compilePolicy(policy.header, mergeDirectives(policy.directives, additions), policy.nonce),
  );
}

/**
 * Route-level CSP additions, validated and compiled once: the middleware form of {@link extendCsp}.
 *
 * @example
 * app.get("/checkout", withCsp({ "frame-src": ["https://js.stripe.com"] }), checkoutPage);
 */
export function withCsp(directives: CspDirectives, options: Readonly<ExtendCspOptions> = {}) {
  const check = optionChecks("withCsp");
  check.knownKeys(options, ["dangerouslyAllowUnsafeScripts"]);
  const allowUnsafe = check.boolean("dangerouslyAllowUnsafeScripts", options.dangerouslyAllowUnsafeScripts, false);
  const additions: DirectiveAdditions = normalizeDirectives(check, "directives", directives, allowUnsafe);
  // Each base policy is extended once and reused by every later request.
  const cache = new WeakMap<CompiledPolicy, CompiledPolicy>();
  const extend = (policy: CompiledPolicy) => {
    let extended = cache.get(policy);
    if (!extended) {
      extended = compilePolicy(policy.header, mergeDirectives(policy.directives, additions), policy.nonce);
      cache.set(policy, extended);
    }
    return extended;
  };
  return function withCspMiddleware(req: IncomingMessage, _res: ServerResponse, next: (error?: unknown) => void) {
    try {
      apply(req, "withCsp", extend);
    } catch (error) {
      next(error);
      return;
    }
    next();
  };
}
