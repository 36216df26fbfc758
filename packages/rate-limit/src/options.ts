import type { IncomingMessage } from "node:http";
import type { PalisadeLogger, TrustedProxies } from "@palisade/core";
import type { Options as ErlOptions } from "express-rate-limit";

/** The presets `rateLimit()` knows. */
export const PRESETS = ["sensitive", "api", "expensive"] as const;
export type RateLimitPreset = (typeof PRESETS)[number];

/** What the limiter does while its store cannot be reached. */
export const STORE_ERROR_POLICIES = ["open", "closed"] as const;
export type StoreErrorPolicy = (typeof STORE_ERROR_POLICIES)[number];

/** IPv6 prefix lengths a client address is grouped by (one household or one server gets one key). */
export const IPV6_SUBNETS = [48, 56, 64] as const;
export type Ipv6Subnet = (typeof IPV6_SUBNETS)[number];

/**
 * The part of a node-redis (`redis` 4 or 5) client the Redis store needs. `ioredis` fits
 * through `{ sendCommand: (args) => client.call(...args) }`.
 */
export interface RedisLike {
  sendCommand(args: string[]): Promise<unknown>;
  on?(event: "error", listener: (error: unknown) => void): unknown;
}

/** The penalty box: after failures reported through `limiter.fail(req)`, the key waits out a growing cool-down. */
export interface PenaltyOptions {
  /** Failures within `windowMs` that put a key in the box. Defaults to the dimension's limit. */
  after?: number;
  /** First cool-down. Defaults to the limiter's `windowMs`. */
  coolDownMs?: number;
  /** Each further stay in the box multiplies the cool-down by this. Defaults to `2`. */
  factor?: number;
  /** The longest cool-down. Defaults to `86_400_000` (24 hours). */
  maxCoolDownMs?: number;
  /** How long past stays are remembered for the growth. Defaults to `86_400_000` (24 hours). */
  memoryMs?: number;
}

/** The express-rate-limit options `rateLimit()` passes through, as that library documents them. */
export type PassedErlOptions = Partial<
  Pick<
    ErlOptions,
    | "windowMs"
    | "limit"
    | "statusCode"
    | "skip"
    | "skipFailedRequests"
    | "skipSuccessfulRequests"
    | "requestWasSuccessful"
    | "keyGenerator"
    | "retryAfter"
    | "legacyHeaders"
    | "requestPropertyName"
  >
>;

export const ERL_OPTION_NAMES = [
  "windowMs",
  "limit",
  "statusCode",
  "skip",
  "skipFailedRequests",
  "skipSuccessfulRequests",
  "requestWasSuccessful",
  "keyGenerator",
  "retryAfter",
  "legacyHeaders",
  "requestPropertyName",
] as const;

export interface RateLimitOptions extends PassedErlOptions {
  /**
   * Starting values: `sensitive` (5 per 15 minutes per address and 50 per account across
   * addresses, penalty box on, fails closed), `api` (300 per minute per address, fails open),
   * `expensive` (20 per minute per address, fails open). Explicit options override them.
   * Defaults to `"api"`.
   */
  preset?: RateLimitPreset;
  /** Policy name in the `RateLimit`/`RateLimit-Policy` headers and in events. Defaults to the preset name. */
  name?: string;
  /**
   * The submitted account a request is about (login name, email), counted across all
   * addresses so that many addresses cannot brute-force one account; `false` to count
   * addresses only. Read after the body parser. Defaults to `body.email ?? body.username ?? body.login`
   * for `sensitive`, `false` otherwise.
   */
  account?: false | ((req: IncomingMessage) => string | undefined);
  /** Requests per window for one account across all addresses. Defaults to `limit * 10`. */
  accountLimit?: number;
  /** IPv6 addresses share a key per prefix of this length. Defaults to `56`. */
  ipv6Subnet?: Ipv6Subnet;
  /** Proxies trusted to name the client in `X-Forwarded-For`. Defaults to the Express app's `trust proxy`. */
  trustedProxies?: TrustedProxies;
  /** Penalty box settings, or `false` to turn it off. Defaults to on for `sensitive`, off otherwise. */
  penalty?: PenaltyOptions | false;
  /** A connected node-redis client shared by every instance; without it counts live in this process. Defaults to `undefined` (memory). */
  redis?: RedisLike;
  /** Prefix of this limiter's Redis keys; give each limiter its own. Defaults to `palisade:rl:<name>:`. */
  prefix?: string;
  /** What happens while the store is unreachable. Defaults to `"closed"` for `sensitive`, `"open"` otherwise. */
  onStoreError?: StoreErrorPolicy;
  /** A store call slower than this counts as a store error. Defaults to `1000`. */
  storeTimeoutMs?: number;
  /** Count and report (events, `res.locals.palisade.rateLimit`), never block. Defaults to `false`. */
  shadow?: boolean;
  /** Run-time checks; each can be switched off. Defaults to `{ trustProxy: true }`. */
  checks?: { trustProxy?: boolean };
  /** Receives `WRN_PALISADE_*` warnings. Defaults to `consoleLogger` from `@palisade/core`. */
  logger?: PalisadeLogger;
}

export const OPTION_NAMES = [
  ...ERL_OPTION_NAMES,
  "preset",
  "name",
  "account",
  "accountLimit",
  "ipv6Subnet",
  "trustedProxies",
  "penalty",
  "redis",
  "prefix",
  "onStoreError",
  "storeTimeoutMs",
  "shadow",
  "checks",
  "logger",
] as const;

export const PENALTY_OPTION_NAMES = ["after", "coolDownMs", "factor", "maxCoolDownMs", "memoryMs"] as const;

interface PresetValues {
  windowMs: number;
  limit: number;
  accountFactor: number;
  account: boolean;
  penalty: boolean;
  onStoreError: StoreErrorPolicy;
}

export const PRESET_DEFAULTS: Readonly<Record<RateLimitPreset, PresetValues>> = {
  sensitive: {
    windowMs: 15 * 60_000,
    limit: 5,
    accountFactor: 10,
    account: true,
    penalty: true,
    onStoreError: "closed",
  },
  api: { windowMs: 60_000, limit: 300, accountFactor: 10, account: false, penalty: false, onStoreError: "open" },
  expensive: { windowMs: 60_000, limit: 20, accountFactor: 10, account: false, penalty: false, onStoreError: "open" },
};

export const DAY_MS = 86_400_000;
