import { IncomingMessage } from "node:http";

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
 * `target[key]` when it is an own property of `target`, else `undefined`, without a lookup
 * along the prototype chain. For what other middleware put on a request when they run
 * (`req.body` from a body parser, `req.cookies` from cookie-parser, `req.user` from passport):
 * on a request Express has re-prototyped, reading a property that is not there misses V8's
 * caches and walks every prototype, about 0.35 µs here, ten times this check.
 *
 * @example
 * const cookies = ownProperty(req, "cookies") ?? parseCookies(req.headers.cookie);
 */
export function ownProperty(target: object, key: string): unknown {
  return Object.hasOwn(target, key) ? (target as Record<string, unknown>)[key] : undefined;
}

const OWNER = Symbol.for("palisade.requestProperty");

/**
 * A public property of each request (`req.id`, `req.rateLimit`) without adding it to `req`.
 * Express swaps the prototype of every request, and V8 then gives each request object a hidden
 * class of its own: a property added to it builds a new one on every request, about 2 µs here,
 * and the lookups that follow miss V8's caches. Instead this installs, once per name and
 * process, an accessor on `http.IncomingMessage.prototype` that reads the value from the
 * request bag; the returned function stores a request's value there.
 *
 * Anyone assigning the property (the app, another library) still gets an ordinary own property,
 * which takes precedence, as it would have. Where the accessor does not answer (the prototype
 * already has that name, a request object that is not an `IncomingMessage`, an own property set
 * earlier) the value is assigned to the request as a plain property. `Object.keys(req)` and
 * spreads of `req` do not show the accessor's value.
 *
 * @example
 * const setRateLimit = requestProperty<RateLimitInfo>("rateLimit");
 * setRateLimit(req, { limit: 100, remaining: 99 }); // later: req.rateLimit.remaining
 */
export function requestProperty<T>(name: string): (req: IncomingMessage, value: T) => void {
  const slot = Symbol.for(`palisade.requestProperty.${name}`);
  const proto = IncomingMessage.prototype as unknown as Record<PropertyKey, unknown>;
  const existing = Object.getOwnPropertyDescriptor(proto, name);
  let accessor = (existing?.get as { [OWNER]?: symbol } | undefined)?.[OWNER] === slot;
  if (!accessor && !(name in proto) && Object.isExtensible(proto)) {
    const get = function get(this: IncomingMessage) {
      return requestBag(this)[slot];
    };
    Object.defineProperty(get, OWNER, { value: slot });
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: false,
      get,
      set(this: IncomingMessage, value: unknown) {
        Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
      },
    });
    accessor = true;
  }
  return (req, value) => {
    // Not read back through the accessor: a first read of an accessor on a request costs
    // about as much as the property it replaces.
    if (accessor && req instanceof IncomingMessage && !Object.hasOwn(req, name)) requestBag(req)[slot] = value;
    else (req as unknown as Record<PropertyKey, unknown>)[name] = value;
  };
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
