import type { Store } from "express-rate-limit";
import { type RedisReply, RedisStore } from "rate-limit-redis";
import type { RedisLike } from "./options.js";

/** Thrown by a guarded store while the backing store cannot be reached. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}

function withTimeout<T>(work: Promise<T> | T, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    // The late answer of a timed-out call lands here and is dropped.
    Promise.resolve(work).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Tracks whether the store answers; reports the first failure of an outage and the recovery. */
export interface StoreHealth {
  readonly down: boolean;
  run<T>(operation: () => Promise<T> | T): Promise<T>;
}

export function storeHealth(
  timeoutMs: number,
  onDown: (error: unknown) => void,
  onUp: () => void,
): StoreHealth & { markDown(error: unknown): void } {
  let down = false;
  const markDown = (error: unknown) => {
    if (down) return;
    down = true;
    onDown(error);
  };
  return {
    get down() {
      return down;
    },
    markDown,
    async run<T>(operation: () => Promise<T> | T): Promise<T> {
      let value: T;
      try {
        value = await withTimeout(operation(), timeoutMs);
      } catch (error) {
        markDown(error);
        throw new StoreUnavailableError(`rate limit store unavailable: ${(error as Error)?.message ?? error}`);
      }
      if (down) {
        down = false;
        onUp();
      }
      return value;
    },
  };
}

/** An express-rate-limit store whose every call goes through `health` (timeout, outage tracking). */
export function guardStore(inner: Store, health: StoreHealth): Store {
  const get = inner.get?.bind(inner);
  return {
    init: (options) => inner.init?.(options),
    get: get ? (key) => health.run(() => get(key)) : undefined,
    increment: (key) => health.run(() => inner.increment(key)),
    decrement: (key) => health.run(() => inner.decrement(key)),
    resetKey: (key) => health.run(() => inner.resetKey(key)),
    localKeys: inner.localKeys ?? false,
    prefix: inner.prefix,
  };
}

export function redisStore(client: RedisLike, prefix: string): Store {
  const store = new RedisStore({
    sendCommand: (...args: string[]) => client.sendCommand(args) as Promise<RedisReply>,
    prefix,
  });
  // The constructor loads its scripts at once; when Redis is down those promises reject
  // before anyone awaits them, which would be an unhandled rejection. The store reloads on use.
  store.incrementScriptSha.catch(() => {});
  store.getScriptSha.catch(() => {});
  return store;
}

/** One fixed-window count: hits so far and when the window ends (epoch ms). */
export interface Hits {
  totalHits: number;
  resetMs: number;
}

/** What the limiter counts with: an express-rate-limit store seen through a cheaper shape. */
export interface HitCounter {
  increment(key: string): Hits | Promise<Hits>;
  decrement(key: string): unknown;
  resetKey(key: string): unknown;
}

/**
 * The memory counter: express-rate-limit's fixed window (two generations of keys, the older
 * dropped each window) without its promises, so the memory path of a request stays synchronous.
 */
export function memoryCounter(windowMs: number): HitCounter {
  let current = new Map<string, Hits>();
  let previous = new Map<string, Hits>();
  let rotateAt = Date.now() + windowMs;
  const entry = (key: string, now: number): Hits | undefined => {
    if (now >= rotateAt) {
      previous = current;
      current = new Map();
      rotateAt = now + windowMs;
    }
    let hits = current.get(key);
    if (!hits) {
      hits = previous.get(key);
      if (hits) {
        previous.delete(key);
        current.set(key, hits);
      }
    }
    return hits;
  };
  return {
    increment(key) {
      const now = Date.now();
      let hits = entry(key, now);
      if (!hits) {
        hits = { totalHits: 0, resetMs: now + windowMs };
        current.set(key, hits);
      } else if (hits.resetMs <= now) {
        hits.totalHits = 0;
        hits.resetMs = now + windowMs;
      }
      hits.totalHits++;
      return hits;
    },
    decrement(key) {
      const hits = entry(key, Date.now());
      if (hits && hits.totalHits > 0) hits.totalHits--;
    },
    resetKey(key) {
      current.delete(key);
      previous.delete(key);
    },
  };
}

/** An express-rate-limit store (here rate-limit-redis) as a {@link HitCounter}. */
export function storeCounter(store: Store, windowMs: number): HitCounter {
  store.init?.({ windowMs } as Parameters<NonNullable<Store["init"]>>[0]);
  return {
    increment: async (key) => {
      const { totalHits, resetTime } = await store.increment(key);
      return { totalHits, resetMs: resetTime ? resetTime.getTime() : Date.now() + windowMs };
    },
    decrement: (key) => store.decrement(key),
    resetKey: (key) => store.resetKey(key),
  };
}

/** Failure counting and growing cool-downs behind `limiter.fail(req)`. */
export interface PenaltyBox {
  /** Counts a failure; returns the cool-down just started in ms, or 0. */
  fail(key: string, after: number): Promise<number>;
  /** Milliseconds the key stays in the box, 0 when free. */
  remainingMs(key: string): number | Promise<number>;
  reset(key: string): Promise<void>;
}

export interface PenaltySettings {
  windowMs: number;
  coolDownMs: number;
  factor: number;
  maxCoolDownMs: number;
  memoryMs: number;
}

function coolDown(settings: PenaltySettings, strikes: number): number {
  return Math.floor(Math.min(settings.coolDownMs * settings.factor ** (strikes - 1), settings.maxCoolDownMs));
}

interface PenaltyEntry {
  failures: number;
  failuresUntil: number;
  strikes: number;
  strikesUntil: number;
  blockedUntil: number;
}

const MAX_MEMORY_KEYS = 100_000;

export function memoryPenaltyBox(settings: PenaltySettings): PenaltyBox {
  const entries = new Map<string, PenaltyEntry>();
  const sweep = (now: number) => {
    for (const [key, entry] of entries) {
      if (entry.failuresUntil <= now && entry.strikesUntil <= now && entry.blockedUntil <= now) entries.delete(key);
    }
    // Still full: forget the oldest keys rather than grow without bound.
    for (const key of entries.keys()) {
      if (entries.size < MAX_MEMORY_KEYS) break;
      entries.delete(key);
    }
  };
  return {
    async fail(key, after) {
      const now = Date.now();
      let entry = entries.get(key);
      if (!entry) {
        if (entries.size >= MAX_MEMORY_KEYS) sweep(now);
        entry = { failures: 0, failuresUntil: 0, strikes: 0, strikesUntil: 0, blockedUntil: 0 };
        entries.set(key, entry);
      }
      if (entry.failuresUntil <= now) {
        entry.failures = 0;
        entry.failuresUntil = now + settings.windowMs;
      }
      entry.failures++;
      if (entry.failures < after) return 0;
      entry.failures = 0;
      entry.failuresUntil = 0;
      entry.strikes = entry.strikesUntil > now ? entry.strikes + 1 : 1;
      entry.strikesUntil = now + settings.memoryMs;
      const ms = coolDown(settings, entry.strikes);
      entry.blockedUntil = now + ms;
      return ms;
    },
    remainingMs(key) {
      const entry = entries.get(key);
      if (!entry) return 0;
      return Math.max(0, entry.blockedUntil - Date.now());
    },
    async reset(key) {
      entries.delete(key);
    },
  };
}

// One round trip, atomic across instances: count the failure, and at the threshold start a
// cool-down that grows with the strikes remembered for `memoryMs`.
const FAIL_SCRIPT = `
local failures = redis.call("INCR", KEYS[1])
if failures == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
if failures < tonumber(ARGV[1]) then return 0 end
redis.call("DEL", KEYS[1])
local strikes = redis.call("INCR", KEYS[2])
redis.call("PEXPIRE", KEYS[2], ARGV[6])
local ms = math.floor(math.min(tonumber(ARGV[3]) * tonumber(ARGV[4]) ^ (strikes - 1), tonumber(ARGV[5])))
redis.call("SET", KEYS[3], strikes, "PX", ms)
return ms
`.trim();

export function redisPenaltyBox(client: RedisLike, prefix: string, settings: PenaltySettings): PenaltyBox {
  const names = (key: string) => [`${prefix}pf:${key}`, `${prefix}ps:${key}`, `${prefix}pb:${key}`] as const;
  return {
    async fail(key, after) {
      const [failures, strikes, box] = names(key);
      const reply = await client.sendCommand([
        "EVAL",
        FAIL_SCRIPT,
        "3",
        failures,
        strikes,
        box,
        String(after),
        String(settings.windowMs),
        String(settings.coolDownMs),
        String(settings.factor),
        String(settings.maxCoolDownMs),
        String(settings.memoryMs),
      ]);
      return Number(reply) || 0;
    },
    async remainingMs(key) {
      const reply = Number(await client.sendCommand(["PTTL", names(key)[2]]));
      return Math.max(reply, 0);
    },
    async reset(key) {
      await client.sendCommand(["DEL", ...names(key)]);
    },
  };
}
