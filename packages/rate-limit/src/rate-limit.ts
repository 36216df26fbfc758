import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import {
  clientIp,
  compileTrust,
  consoleLogger,
  emitSecurityEvent,
  isLogger,
  normalizeIp,
  optionChecks,
  ownProperty,
  palisadeLocals,
  requestProperty,
  sendProblem,
  type TrustFunction,
  warnOnce,
} from "@palisade/core";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { type Options as ErlOptions, ipKeyGenerator, type RateLimitInfo } from "express-rate-limit";
import {
  DAY_MS,
  IPV6_SUBNETS,
  OPTION_NAMES,
  PENALTY_OPTION_NAMES,
  PRESET_DEFAULTS,
  PRESETS,
  type RateLimitOptions,
  type RateLimitPreset,
  STORE_ERROR_POLICIES,
} from "./options.js";
import {
  guardStore,
  type HitCounter,
  type Hits,
  memoryCounter,
  memoryPenaltyBox,
  type PenaltyBox,
  redisPenaltyBox,
  redisStore,
  StoreUnavailableError,
  storeCounter,
  storeHealth,
} from "./stores.js";

const SCOPE = "rateLimit";
const SOURCE = "@palisade/rate-limit";

/** Why a request was refused: over the limit, in the penalty box, or the store was down (fail-closed). */
export type RateLimitReason = "rate-limited" | "penalty" | "store-unavailable";

/** What `res.locals.palisade.rateLimit` holds after a limiter refused (or, in shadow mode, would have refused) a request. */
export interface RateLimitLocals {
  limiter: string;
  dimension: "ip" | "account";
  reason: RateLimitReason;
  shadow: boolean;
}

declare module "@palisade/core" {
  interface PalisadeLocals {
    rateLimit?: RateLimitLocals;
  }
}

/** The limiter middleware and its instance API. */
export type RateLimitMiddleware = RequestHandler & {
  /** The limiter's name, as in its `RateLimit-Policy` header. */
  readonly limiterName: string;
  /**
   * Reports a failed attempt (a wrong password) for the request's address and account;
   * enough failures put them in the penalty box. Never rejects. Resolves to the cool-down
   * just started in ms (0 when none).
   */
  fail(req: IncomingMessage): Promise<number>;
  /**
   * Forgets the counts and the penalty of an address (`"203.0.113.7"`) or an account
   * (`"alice@example.com"`), e.g. from a support tool. Rejects when the store is down.
   */
  reset(key: string): Promise<void>;
};

interface Keys {
  ip: string;
  account: string | undefined;
}

function defaultAccount(req: IncomingMessage): string | undefined {
  const body = ownProperty(req, "body");
  if (typeof body !== "object" || body === null) return undefined;
  const fields = body as Record<string, unknown>;
  const value = fields.email ?? fields.username ?? fields.login;
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** Account names never reach the store in clear: a short hash of the normalised name. */
function accountKey(account: string): string {
  const normalised = account.trim().toLowerCase().slice(0, 320);
  return `acct:${createHash("sha256").update(normalised).digest("base64url").slice(0, 22)}`;
}

/**
 * Rate limiting on express-rate-limit 8's stores and key rules (its options keep their meaning) with presets for login-like endpoints, draft-8
 * `RateLimit`/`RateLimit-Policy` headers, `Retry-After`, RFC 9457 problem responses, a
 * penalty box, a Redis store with fail-open/fail-closed, and shadow mode. Keys come from
 * `clientIp()` (IPv6 grouped by prefix) and, for `sensitive`, from the submitted account.
 *
 * @example
 * const login = rateLimit({ preset: "sensitive" });
 * app.post("/login", express.json(), login, async (req, res) => {
 *   if (!(await checkPassword(req.body))) {
 *     await login.fail(req);
 *     return res.status(401).end();
 *   }
 *   res.json({ ok: true });
 * });
 */
export function rateLimit(options: Readonly<RateLimitOptions> = {}): RateLimitMiddleware {
  const check = optionChecks(SCOPE);
  check.object("", options, OPTION_NAMES);
  const preset: RateLimitPreset = check.oneOf("preset", options.preset, PRESETS, "api");
  const defaults = PRESET_DEFAULTS[preset];
  const name = check.string("name", options.name, preset);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) check.fail("name", "1 to 64 letters, digits, `_`, `.` or `-`", name);
  const windowMs = check.number("windowMs", options.windowMs, defaults.windowMs, { min: 1, integer: true });
  const limit = check.number("limit", options.limit, defaults.limit, { min: 1, integer: true });
  const accountOption =
    options.account === false
      ? false
      : check.func<(req: IncomingMessage) => string | undefined>("account", options.account);
  const account =
    accountOption === false ? undefined : (accountOption ?? (defaults.account ? defaultAccount : undefined));
  const accountLimit = check.number("accountLimit", options.accountLimit, limit * defaults.accountFactor, {
    min: 1,
    integer: true,
  });
  const ipv6Subnet = check.oneOf("ipv6Subnet", options.ipv6Subnet, IPV6_SUBNETS, 56);
  const trust: TrustFunction | undefined =
    options.trustedProxies === undefined ? undefined : compileTrust(options.trustedProxies, "trustedProxies", SCOPE);
  const onStoreError = check.oneOf("onStoreError", options.onStoreError, STORE_ERROR_POLICIES, defaults.onStoreError);
  const storeTimeoutMs = check.number("storeTimeoutMs", options.storeTimeoutMs, 1000, { min: 1, integer: true });
  const shadow = check.boolean("shadow", options.shadow, false);
  const checks = check.object("checks", options.checks, ["trustProxy"]) ?? {};
  const checkTrustProxy = check.boolean("checks.trustProxy", checks.trustProxy, true);
  if (options.logger !== undefined && !isLogger(options.logger)) {
    check.fail("logger", "an object with a `warn(details, message)` method", options.logger);
  }
  const logger = options.logger ?? consoleLogger;
  const redis = options.redis;
  if (redis !== undefined && (typeof redis !== "object" || typeof redis?.sendCommand !== "function")) {
    check.fail("redis", "a connected node-redis client (an object with `sendCommand(args)`)", redis);
  }
  const prefix = check.string("prefix", options.prefix, `palisade:rl:${name}:`);
  const statusCode = check.number("statusCode", options.statusCode, 429, { min: 400, max: 599, integer: true });
  const userSkip = check.func<NonNullable<ErlOptions["skip"]>>("skip", options.skip);
  const userKeyGenerator = check.func<NonNullable<ErlOptions["keyGenerator"]>>("keyGenerator", options.keyGenerator);

  let penaltyAfter = 0;
  let box: PenaltyBox | undefined;
  const penaltyOption = options.penalty === false ? false : (options.penalty ?? (defaults.penalty ? {} : false));
  if (penaltyOption !== false) {
    const penalty = check.object("penalty", penaltyOption, PENALTY_OPTION_NAMES) ?? {};
    penaltyAfter = check.number("penalty.after", penalty.after, limit, { min: 1, integer: true });
    const settings = {
      windowMs,
      coolDownMs: check.number("penalty.coolDownMs", penalty.coolDownMs, windowMs, { min: 1, integer: true }),
      factor: check.number("penalty.factor", penalty.factor, 2, { min: 1 }),
      maxCoolDownMs: check.number("penalty.maxCoolDownMs", penalty.maxCoolDownMs, DAY_MS, { min: 1, integer: true }),
      memoryMs: check.number("penalty.memoryMs", penalty.memoryMs, DAY_MS, { min: 1, integer: true }),
    };
    box = redis ? redisPenaltyBox(redis, prefix, settings) : memoryPenaltyBox(settings);
  }

  const warnStartup = warnOnce(logger, SCOPE);
  let warnStore = warnOnce(logger, SCOPE);
  const health = storeHealth(
    storeTimeoutMs,
    (error) => {
      warnStore(
        "WRN_PALISADE_RATE_LIMIT_STORE_DOWN",
        `the Redis store does not answer (${(error as Error)?.message ?? error}); failing ${onStoreError} until it does: ${
          onStoreError === "open" ? "requests pass without a limit" : "requests are refused with 503"
        }.`,
        { limiter: name, policy: onStoreError },
      );
    },
    () => {
      // A later outage warns again.
      warnStore = warnOnce(logger, SCOPE);
      try {
        logger.info?.(
          { code: "INF_PALISADE_RATE_LIMIT_STORE_UP", limiter: name },
          `${SCOPE}: the Redis store answers again; limits apply.`,
        );
      } catch {
        // A broken logger must not break a request.
      }
    },
  );
  redis?.on?.("error", (error) => health.markDown(error));
  const guard = <T>(operation: () => Promise<T>): Promise<T> => (redis ? health.run(operation) : operation());

  // Without X-Forwarded-For the key depends on the socket peer alone: resolved once per
  // address (bounded), and nothing is written on the request or the socket.
  const addressKeys = new Map<string, string>();
  const MAX_ADDRESS_KEYS = 10_000;

  function ipKey(req: IncomingMessage): string {
    const peer = req.headers["x-forwarded-for"] === undefined ? req.socket?.remoteAddress : undefined;
    if (peer !== undefined) {
      const cached = addressKeys.get(peer);
      if (cached !== undefined) return cached;
    }
    const ip = clientIp(req, trust);
    const key = `ip:${ip ? ipKeyGenerator(ip, ipv6Subnet) : "unknown"}`;
    if (peer !== undefined && ip) {
      if (addressKeys.size >= MAX_ADDRESS_KEYS) addressKeys.clear();
      addressKeys.set(peer, key);
    }
    return key;
  }

  function keysFor(req: IncomingMessage): Keys {
    const submitted = account?.(req);
    return { ip: ipKey(req), account: submitted === undefined ? undefined : accountKey(submitted) };
  }

  type Dimension = "ip" | "account";

  function refuse(
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction,
    dimension: Dimension,
    reason: RateLimitReason,
    retryAfterSeconds: number | undefined,
  ): void {
    const dimensionLimit = dimension === "ip" ? limit : accountLimit;
    emitSecurityEvent(req, {
      name: "excess_rate_limit_exceeded",
      source: SOURCE,
      description:
        reason === "store-unavailable"
          ? `Rate limit "${name}" could not be checked; refused (fail-closed).`
          : `Rate limit "${name}" exceeded per ${dimension}${reason === "penalty" ? " (penalty box)" : ""}.`,
      detail: { limiter: name, dimension, reason, limit: dimensionLimit, windowMs, shadow },
    });
    palisadeLocals(res).rateLimit = { limiter: name, dimension, reason, shadow };
    if (shadow) {
      next();
      return;
    }
    if (retryAfterSeconds !== undefined && !res.headersSent) res.setHeader("Retry-After", String(retryAfterSeconds));
    const unavailable = reason === "store-unavailable";
    sendProblem(res, unavailable ? 503 : statusCode, {
      title: unavailable ? "Service Unavailable" : "Too Many Requests",
      detail: unavailable
        ? "The request could not be checked against its rate limit; try again shortly."
        : `Too many requests${retryAfterSeconds === undefined ? "" : `; try again in ${retryAfterSeconds} seconds`}.`,
      reason,
    });
  }

  const userRetryAfter = options.retryAfter;
  if (userRetryAfter !== undefined && typeof userRetryAfter !== "function") {
    check.number("retryAfter", userRetryAfter, 0, { min: 0, integer: true });
  }
  const skipFailed = check.boolean("skipFailedRequests", options.skipFailedRequests, false);
  const skipSuccessful = check.boolean("skipSuccessfulRequests", options.skipSuccessfulRequests, false);
  const wasSuccessful =
    check.func<NonNullable<ErlOptions["requestWasSuccessful"]>>("requestWasSuccessful", options.requestWasSuccessful) ??
    ((_req: Request, res: Response) => res.statusCode < 400);
  const legacyHeaders = check.boolean("legacyHeaders", options.legacyHeaders, false);
  const propertyName = check.string("requestPropertyName", options.requestPropertyName, "rateLimit");
  // `req.rateLimit` without adding a property to every request (see core's requestProperty).
  const setRequestInfo = requestProperty<RateLimitInfo>(propertyName);
  const windowSeconds = Math.ceil(windowMs / 1000);

  interface Counter {
    dimension: Dimension;
    limit: number;
    hits: HitCounter;
    /** `"name";q=5;w=900`, the draft-8 policy item, precomputed. */
    policy: string;
    /** `"name";r=`, the start of the draft-8 `RateLimit` item. */
    itemStart: string;
  }

  function counter(dimension: Dimension): Counter {
    const dimensionLimit = dimension === "ip" ? limit : accountLimit;
    const identifier = dimension === "ip" ? name : `${name}-account`;
    return {
      dimension,
      limit: dimensionLimit,
      hits: redis
        ? storeCounter(guardStore(redisStore(redis, `${prefix}${dimension}:`), health), windowMs)
        : memoryCounter(windowMs),
      policy: `"${identifier}";q=${dimensionLimit};w=${windowSeconds}`,
      itemStart: `"${identifier}";r=`,
    };
  }

  const counters: Counter[] = [counter("ip")];
  if (account) counters.push(counter("account"));
  const policyLists = counters.map((_, index) =>
    counters
      .slice(0, index + 1)
      .map((current) => current.policy)
      .join(", "),
  );

  let trustChecked = !checkTrustProxy;
  let forwardedWarned = false;
  let checkedPrototype: unknown = null;
  function diagnoseTrust(req: IncomingMessage): void {
    // The app's setting is read once per app (a startup diagnostic), not on every request.
    // Express gives each app its own request prototype, which identifies the app without
    // reading `req.app` (a first read of a property on a request costs a cache miss in V8).
    const prototype = Object.getPrototypeOf(req) as unknown;
    if (prototype === checkedPrototype) {
      if (req.headers["x-forwarded-for"] === undefined) return;
    } else checkedPrototype = prototype;
    const app = (req as { app?: { get?(name: string): unknown } }).app;
    if (!trust && app?.get?.("trust proxy") === true) {
      warnStartup(
        "WRN_PALISADE_TRUST_PROXY_PERMISSIVE",
        'the app\'s `trust proxy` is `true`, so any client can pick its own key with X-Forwarded-For. Set it to your proxies\' addresses (app.set("trust proxy", "loopback")) or pass `trustedProxies`.',
        { limiter: name },
      );
    }
    if (!forwardedWarned && req.headers["x-forwarded-for"] !== undefined) {
      const peer = req.socket?.remoteAddress;
      const appTrust = app?.get?.("trust proxy fn");
      const trusts = trust ?? (typeof appTrust === "function" ? (appTrust as TrustFunction) : undefined);
      if (peer && !trusts?.(peer, 0)) {
        forwardedWarned = true;
        warnStartup(
          "WRN_PALISADE_TRUST_PROXY_UNSET",
          `X-Forwarded-For arrived from ${normalizeIp(peer)}, which is not a trusted proxy, so it is ignored. Behind a proxy every client then shares the proxy's limit: set app.set("trust proxy", <the proxy's address>) or \`trustedProxies\`. Without a proxy, a client sent the header itself and this is harmless.`,
          { limiter: name, peer: normalizeIp(peer) },
        );
      }
    }
    trustChecked = forwardedWarned;
  }

  /** The longer stay in the box of the request's address and account, in ms (a promise with Redis). */
  function penaltyRemaining(keys: Keys): number | Promise<number> {
    if (redis) {
      return Promise.all([
        health.run(() => box!.remainingMs(keys.ip)),
        keys.account === undefined ? 0 : health.run(() => box!.remainingMs(keys.account!)),
      ]).then(([ipMs, accountMs]) => (accountMs > ipMs ? -accountMs : ipMs));
    }
    const ipMs = box!.remainingMs(keys.ip) as number;
    const accountMs = keys.account === undefined ? 0 : (box!.remainingMs(keys.account) as number);
    // Negative: the account is the one in the box.
    return accountMs > ipMs ? -accountMs : ipMs;
  }

  function penalised(req: Request, res: Response, next: NextFunction, ms: number): boolean {
    if (ms === 0) return false;
    refuse(req, res, next, ms < 0 ? "account" : "ip", "penalty", Math.ceil(Math.abs(ms) / 1000));
    return true;
  }

  function onStoreFailure(req: IncomingMessage, res: ServerResponse, next: NextFunction, error: unknown): void {
    if (!(error instanceof StoreUnavailableError)) {
      next(error);
      return;
    }
    if (onStoreError === "open") {
      next();
      return;
    }
    refuse(req, res, next, "ip", "store-unavailable", Math.max(1, Math.ceil(storeTimeoutMs / 1000)));
  }

  function appendHeader(res: ServerResponse, header: string, value: string): void {
    const current = res.getHeader(header);
    res.setHeader(header, current === undefined ? value : `${String(current)}, ${value}`);
  }

  function undoOnClose(req: Request, res: Response, hits: HitCounter, key: string, resetMs: number): void {
    const settle = (finished: boolean) => {
      res.off("finish", onFinish);
      res.off("close", onClose);
      if (Date.now() >= resetMs) return;
      Promise.resolve()
        .then(() => (finished ? wasSuccessful(req, res) : false))
        .then((success) => {
          if ((skipFailed && !success) || (skipSuccessful && success)) return hits.decrement(key);
        })
        .catch(() => {
          // A failed decrement leaves the count one high; the guard reports store outages.
        });
    };
    const onFinish = () => settle(true);
    const onClose = () => settle(false);
    res.once("finish", onFinish);
    res.once("close", onClose);
  }

  /** What the counters said for one request. */
  interface Tally {
    used: number;
    items: string;
    tight: { counter: Counter; remaining: number; resetMs: number; key: string } | undefined;
    exceeded: Counter | undefined;
    resetSeconds: number;
  }

  /** Records one counter's answer; true when it is over its limit (the later counters are not charged). */
  function record(req: Request, res: Response, tally: Tally, current: Counter, key: string, hits: Hits): boolean {
    const remaining = Math.max(current.limit - hits.totalHits, 0);
    const seconds = Math.max(0, Math.ceil((hits.resetMs - Date.now()) / 1000));
    const item = `${current.itemStart}${remaining};t=${seconds}`;
    tally.items = tally.used === 0 ? item : `${tally.items}, ${item}`;
    tally.used++;
    if (!tally.tight || remaining < tally.tight.remaining) {
      tally.tight = { counter: current, remaining, resetMs: hits.resetMs, key };
    }
    if (skipFailed || skipSuccessful) undoOnClose(req, res, current.hits, key, hits.resetMs);
    if (hits.totalHits <= current.limit) return false;
    tally.exceeded = current;
    tally.resetSeconds = seconds;
    return true;
  }

  /** Charges the counters from `index` on, synchronously while they answer synchronously (memory). */
  function countFrom(req: Request, res: Response, next: NextFunction, keys: Keys, tally: Tally, index: number): void {
    for (let i = index; i < counters.length; i++) {
      const current = counters[i]!;
      const key = current.dimension === "ip" ? keys.ip : keys.account;
      if (key === undefined) continue;
      const answer = current.hits.increment(key);
      if (answer instanceof Promise) {
        answer.then(
          (hits) => {
            if (record(req, res, tally, current, key, hits)) finish(req, res, next, tally);
            else countFrom(req, res, next, keys, tally, i + 1);
          },
          (error: unknown) => onStoreFailure(req, res, next, error),
        );
        return;
      }
      if (record(req, res, tally, current, key, answer)) break;
    }
    finish(req, res, next, tally);
  }

  function finish(req: Request, res: Response, next: NextFunction, tally: Tally): void {
    const tight = tally.tight;
    if (tight) {
      setRequestInfo(req, {
        limit: tight.counter.limit,
        used: tight.counter.limit - tight.remaining,
        remaining: tight.remaining,
        resetTime: new Date(tight.resetMs),
        key: tight.key,
      });
      if (!shadow && !res.headersSent) {
        appendHeader(res, "RateLimit-Policy", policyLists[tally.used - 1]!);
        appendHeader(res, "RateLimit", tally.items);
        if (legacyHeaders) {
          res.setHeader("X-RateLimit-Limit", String(tight.counter.limit));
          res.setHeader("X-RateLimit-Remaining", String(tight.remaining));
          res.setHeader("X-RateLimit-Reset", String(Math.ceil(tight.resetMs / 1000)));
        }
      }
    }
    const exceeded = tally.exceeded;
    if (!exceeded) {
      next();
      return;
    }
    if (typeof userRetryAfter === "function") {
      Promise.resolve(userRetryAfter(req, res)).then(
        (seconds) => refuse(req, res, next, exceeded.dimension, "rate-limited", seconds),
        next,
      );
      return;
    }
    refuse(req, res, next, exceeded.dimension, "rate-limited", userRetryAfter ?? tally.resetSeconds);
  }

  function count(req: Request, res: Response, next: NextFunction, keys: Keys): void {
    const tally: Tally = { used: 0, items: "", tight: undefined, exceeded: undefined, resetSeconds: windowSeconds };
    try {
      countFrom(req, res, next, keys, tally, 0);
    } catch (error) {
      onStoreFailure(req, res, next, error);
    }
  }

  function afterSkip(req: Request, res: Response, next: NextFunction, keys: Keys): void {
    if (!userSkip) {
      count(req, res, next, keys);
      return;
    }
    Promise.resolve(userSkip(req, res)).then((skipped) => (skipped ? next() : count(req, res, next, keys)), next);
  }

  /** The keys the counters use: the address key replaced by `keyGenerator`'s when given (the penalty box keeps the address). */
  function withUserKey(req: Request, res: Response, keys: Keys): Keys | Promise<Keys> {
    if (!userKeyGenerator) return keys;
    const custom = userKeyGenerator(req, res);
    const apply = (value: string): Keys => ({ ip: `key:${value}`, account: keys.account });
    return typeof custom === "string" ? apply(custom) : Promise.resolve(custom).then(apply);
  }

  function afterKeys(req: Request, res: Response, next: NextFunction, keys: Keys, counted: Keys): void {
    if (!box) {
      afterSkip(req, res, next, counted);
      return;
    }
    const ms = penaltyRemaining(keys);
    if (typeof ms === "number") {
      if (!penalised(req, res, next, ms)) afterSkip(req, res, next, counted);
      return;
    }
    ms.then(
      (remaining) => {
        if (!penalised(req, res, next, remaining)) afterSkip(req, res, next, counted);
      },
      (error: unknown) => onStoreFailure(req, res, next, error),
    );
  }

  const middleware = function rateLimitMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (!trustChecked) diagnoseTrust(req);
    let keys: Keys;
    let counted: Keys | Promise<Keys>;
    try {
      keys = keysFor(req);
      counted = withUserKey(req, res, keys);
    } catch (error) {
      next(error);
      return;
    }
    if (counted instanceof Promise) counted.then((resolved) => afterKeys(req, res, next, keys, resolved), next);
    else afterKeys(req, res, next, keys, counted);
  } as RateLimitMiddleware;

  Object.defineProperty(middleware, "limiterName", { value: name, enumerable: true });

  middleware.fail = async (req) => {
    if (!box) return 0;
    try {
      const keys = keysFor(req);
      const [ipMs, accountMs] = await Promise.all([
        guard(() => box.fail(keys.ip, penaltyAfter)),
        keys.account === undefined ? 0 : guard(() => box.fail(keys.account!, accountLimit)),
      ]);
      return Math.max(ipMs, accountMs);
    } catch {
      // Reported by the store guard; a failed login must still get its answer.
      return 0;
    }
  };

  middleware.reset = async (key) => {
    if (typeof key !== "string" || key.length === 0) {
      throw new TypeError(`${SCOPE}: reset(key) needs an address or an account name, got ${String(key)}.`);
    }
    const storeKey = isIP(key) ? `ip:${ipKeyGenerator(normalizeIp(key), ipv6Subnet)}` : accountKey(key);
    await Promise.all([
      ...counters.map(({ hits }) => Promise.resolve(hits.resetKey(storeKey))),
      box ? guard(() => box.reset(storeKey)) : undefined,
    ]);
  };

  return middleware;
}
