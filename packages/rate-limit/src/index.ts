export {
  IPV6_SUBNETS,
  type Ipv6Subnet,
  type PenaltyOptions,
  PRESETS,
  type RateLimitOptions,
  type RateLimitPreset,
  type RedisLike,
  STORE_ERROR_POLICIES,
  type StoreErrorPolicy,
} from "./options.js";
export {
  type RateLimitLocals,
  type RateLimitMiddleware,
  type RateLimitReason,
  rateLimit,
} from "./rate-limit.js";
