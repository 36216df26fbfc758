import type { IncomingMessage } from "node:http";

type Bag = Record<PropertyKey, unknown>;

/**
 * Where Palisade keeps per-request private data: Express's `res.locals` (reached through
 * `req.res`), or the request itself outside Express. Express makes `res.locals` per request
 * as a dictionary object (`Object.create(null)`), where adding a key is a hash insert; adding
 * a property to `req` or `res` themselves measured about a microsecond each in Express 5, a
 * few percent of a trivial request per key. Keys should be symbols: `for...in`, JSON and
 * Express's view-locals merge skip them.
 *
 * @example
 * const STATE = Symbol("myPackage");
 * requestBag(req)[STATE] = { start: performance.now() };
 */
export function requestBag(req: IncomingMessage): Bag {
  const locals = (req as IncomingMessage & { res?: { locals?: unknown } }).res?.locals;
  return typeof locals === "object" && locals !== null ? (locals as Bag) : (req as unknown as Bag);
}

/**
 * A named channel of per-request sinks, stored on the request under `Symbol.for(key)` so
 * that two copies of @palisade/core in one app still meet. One mechanism serves security
 * events and timings.
 */
export function requestChannel<T>(key: string) {
  const symbol = Symbol.for(key);
  type Sink = (value: T, req: IncomingMessage) => void;
  return {
    attach(req: IncomingMessage, sink: Sink): void {
      const bag = requestBag(req);
      const sinks = bag[symbol] as Sink[] | undefined;
      if (sinks) sinks.push(sink);
      else bag[symbol] = [sink];
    },
    has(req: IncomingMessage): boolean {
      return ((requestBag(req)[symbol] as Sink[] | undefined)?.length ?? 0) > 0;
    },
    /** Calls every sink; a throwing sink is skipped. Returns how many received the value. */
    deliver(req: IncomingMessage, value: T): number {
      const sinks = requestBag(req)[symbol] as Sink[] | undefined;
      if (!sinks) return 0;
      let count = 0;
      for (const sink of sinks) {
        try {
          sink(value, req);
          count++;
        } catch {
          // Sinks are best effort by contract; the request goes on.
        }
      }
      return count;
    },
  };
}
