export { type CsrfMiddleware, csrfProtection, csrfToken } from "./csrf.js";
export { type IpAllowlistMiddleware, ipAllowlist } from "./ip-allowlist.js";
export {
  type AppLike,
  CSRF_REASONS,
  type CsrfOptions,
  type CsrfReason,
  HEADERLESS_POLICIES,
  type HeaderlessPolicy,
  type IpAllowlistOptions,
} from "./options.js";
