import { EventEmitter } from "node:events";
import { type IncomingMessage, ServerResponse } from "node:http";
import { consoleLogger, warnOnce } from "./logger.js";
import { requestBag } from "./sinks.js";

/** Runs just before a response's status line and headers are written; `args` are writeHead's. */
export type BeforeHeadersHook = (res: ServerResponse, args: readonly unknown[]) => void;
/**
 * Runs once when a response closes: after it finished, or when the client went away first.
 * `bag` is the request's bag (`requestBag(req)`).
 */
export type ResponseDoneHook = (res: ServerResponse, bag: Record<PropertyKey, unknown>) => void;

// Symbol.for: two copies of @palisade/core in one app share the hooks and install one wrapper.
const HEADERS = Symbol.for("palisade.core.beforeHeaders");
const DONE = Symbol.for("palisade.core.responseDone");
const INSTALLED = Symbol.for("palisade.core.writeHeadHook");

type HookedPrototype = ServerResponse & { [INSTALLED]?: true };

const warn = warnOnce(consoleLogger, "@palisade/core");

/**
 * Calls every hook. A throwing hook does not stop the others and never reaches the response
 * (an exception inside `writeHead` or a `close` listener would break the answer or the
 * process); the first one is reported as a warning.
 */
function runAll<A extends unknown[]>(hooks: ((...args: A) => void)[], args: A): void {
  for (const hook of hooks) {
    try {
      hook(...args);
    } catch (error) {
      warn("WRN_PALISADE_RESPONSE_HOOK", `a response hook threw (${String(error)}); later failures are not reported.`, {
        hook: hook.name || "anonymous",
      });
    }
  }
}

/**
 * Wraps `http.ServerResponse.prototype.writeHead` once per process. Patching each response
 * instead (what on-headers does) adds an own property to every `res`, which measured about a
 * microsecond per request in Express 5; the prototype wrapper costs one lookup in the request
 * bag, and nothing more for responses no Palisade package asked about. Node's `res.end()` and
 * `res.write()` reach it through `_implicitHeader()`, explicit `writeHead` calls directly.
 */
export function installBeforeHeaders(): void {
  const proto = ServerResponse.prototype as HookedPrototype;
  if (proto[INSTALLED]) return;
  const original = proto.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  const writeHead = function writeHead(this: ServerResponse, ...args: unknown[]): ServerResponse {
    const req = this.req as IncomingMessage | undefined;
    if (req !== undefined) {
      const bag = requestBag(req);
      const hooks = bag[HEADERS] as BeforeHeadersHook[] | undefined;
      if (hooks !== undefined) {
        // Taken before running: a hook that calls writeHead again must not run twice.
        bag[HEADERS] = undefined;
        runAll(hooks, [this, args] as [ServerResponse, readonly unknown[]]);
      }
    }
    return original.apply(this, args);
  };
  Object.defineProperty(proto, INSTALLED, { value: true });
  proto.writeHead = writeHead as ServerResponse["writeHead"];
}

/**
 * Registers `hook` to run right before this response's headers are written, while it can
 * still set headers. Hooks run in registration order. Call `installBeforeHeaders()` when the
 * middleware is created (this installs it too, but a response whose writeHead another library
 * captured before the installation would miss the hook).
 *
 * @example
 * beforeHeaders(req, res, (res) => res.setHeader("X-Elapsed", String(Date.now() - start)));
 */
export function beforeHeaders(req: IncomingMessage, _res: ServerResponse, hook: BeforeHeadersHook): void {
  installBeforeHeaders();
  const bag = requestBag(req);
  const hooks = bag[HEADERS] as BeforeHeadersHook[] | undefined;
  if (hooks) hooks.push(hook);
  else bag[HEADERS] = [hook];
}

// Called as EventEmitter's own method: `res.on` is one more property to look up on a response
// whose hidden class is its own (see requestBag), a cache miss per request.
const addListener = EventEmitter.prototype.on;

/**
 * Registers `hook` to run once when the response closes (finished or aborted: check
 * `res.writableFinished`). Every package shares one `close` listener per response, however
 * many register; each listener added to a response costs a few microseconds in Express 5.
 * The hook also receives the request's bag (`requestBag(req)`), saving it the lookup.
 *
 * @example
 * onResponseDone(req, res, (res) => record(res.statusCode, res.writableFinished));
 */
export function onResponseDone(req: IncomingMessage, res: ServerResponse, hook: ResponseDoneHook): void {
  const bag = requestBag(req);
  const hooks = bag[DONE] as ResponseDoneHook[] | undefined;
  if (hooks) {
    hooks.push(hook);
    return;
  }
  const registered = [hook];
  bag[DONE] = registered;
  // A closure per response rather than one shared listener that finds the hooks from `this`:
  // that lookup (res.req, req.res, res.locals) cost three cache misses per request.
  addListener.call(res, "close", () => {
    if (bag[DONE] !== registered) return;
    bag[DONE] = undefined;
    runAll(registered, [res, bag] as [ServerResponse, Record<PropertyKey, unknown>]);
  });
}
