import type { CspDirectiveName, PermissionsPolicyDirectives, ReferrerPolicy } from "./options.js";

type PresetDirectives = { readonly [Name in CspDirectiveName]?: readonly string[] };

/** What a preset contributes: a whole policy (base presets) or additions to one (third-party presets). */
export interface PresetDefinition {
  readonly kind: "base" | "additive";
  readonly csp: PresetDirectives;
  readonly permissionsPolicy?: PermissionsPolicyDirectives;
  /** Headers a base preset leaves out because they mean nothing for its responses. */
  readonly omit?: readonly ("permissionsPolicy" | "originAgentCluster" | "dnsPrefetchControl" | "disableXssAuditor")[];
  readonly referrerPolicy?: ReferrerPolicy;
}

/**
 * The presets `preset` accepts. `webApp` denies every fetch by default and allows the page's own
 * origin per directive (that is what earns Mozilla HTTP Observatory's `default-src 'none'` bonus);
 * scripts and styles also get the per-request nonce.
 */
export const PRESETS = {
  webApp: {
    kind: "base",
    csp: {
      "default-src": ["'none'"],
      "script-src": ["'self'"],
      "style-src": ["'self'"],
      "img-src": ["'self'"],
      "font-src": ["'self'"],
      "connect-src": ["'self'"],
      "manifest-src": ["'self'"],
      "object-src": ["'none'"],
      "base-uri": ["'self'"],
      "form-action": ["'self'"],
      "frame-ancestors": ["'none'"],
    },
  },
  api: {
    kind: "base",
    csp: { "default-src": ["'none'"], "frame-ancestors": ["'none'"] },
    omit: ["permissionsPolicy", "originAgentCluster", "dnsPrefetchControl", "disableXssAuditor"],
    referrerPolicy: "no-referrer",
  },
  stripe: {
    kind: "additive",
    csp: {
      "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
      "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
      "connect-src": ["https://api.stripe.com"],
    },
    permissionsPolicy: { payment: ["self", "https://js.stripe.com"] },
  },
} as const satisfies Record<string, PresetDefinition>;
