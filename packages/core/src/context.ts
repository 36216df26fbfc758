import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import { requestChannel } from "./sinks.js";

/** The request being handled, as seen from any code running on its behalf. */
export interface RequestScope {
  req: IncomingMessage;
  res: ServerResponse;
}

// One store per process, shared by every copy of @palisade/core (Symbol.for on globalThis).
const STORE_KEY = Symbol.for("palisade.requestScope");
const WANTED_KEY = Symbol.for("palisade.requestScope.wanted");
const holder = globalThis as typeof globalThis & {
  [STORE_KEY]?: AsyncLocalStorage<RequestScope>;
  [WANTED_KEY]?: boolean;
};
const store: AsyncLocalStorage<RequestScope> = holder[STORE_KEY] ?? new AsyncLocalStorage<RequestScope>();
holder[STORE_KEY] ??= store;

/**
 * Runs `next` inside the request's async scope, unless already inside it, so that
 * `currentRequest()` finds the request from any module, across `await`, timers and callbacks.
 * Middleware that need the scope (audit-log, perf-timing) call it; calling it twice is harmless.
 *
 * @example
 * app.use((req, res, next) => enterRequestScope(req, res, next));
 */
export function enterRequestScope(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  if (store.getStore()?.req === req) next();
  else store.run({ req, res }, next);
}

/**
 * Declares that code in this process reads `currentRequest()` without being handed the
 * request (sqlite-tuning's query timings, `startSpan()` without a request). From then on
 * `offerRequestScope` enters the scope. Call it at setup; calling it again is harmless.
 *
 * The scope is an AsyncLocalStorage, and on Node 20 the first one entered turns on async hooks
 * for the whole process, a few percent of a trivial request's cost; middleware that merely
 * offer the scope leave it off until someone needs it.
 */
export function requireRequestScope(): void {
  holder[WANTED_KEY] = true;
}

/**
 * `enterRequestScope` once something has called `requireRequestScope()` (or the scope is
 * already entered), otherwise just `next()`. For middleware that provide the scope as a
 * service to other packages rather than reading it themselves (perf-timing).
 */
export function offerRequestScope(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  if (holder[WANTED_KEY] === true) enterRequestScope(req, res, next);
  else next();
}

/**
 * The request whose handling the caller runs in, or `undefined` outside any request.
 *
 * @example
 * const scope = currentRequest();
 * if (scope) recordTiming(scope.req, "db", 3.2);
 */
export function currentRequest(): RequestScope | undefined {
  return store.getStore();
}

/** A named duration measured while handling a request (a `Server-Timing` entry). */
export interface TimingEntry {
  /** Token name, e.g. `db`. */
  name: string;
  /** Milliseconds. */
  durationMs: number;
  description?: string;
}

const timings = requestChannel<TimingEntry>("palisade.timingSinks");

/**
 * Attaches a timing sink to a request; `@palisade/perf-timing` attaches one and turns the
 * entries into `Server-Timing` spans.
 */
export function attachTimingSink(req: IncomingMessage, sink: (entry: TimingEntry, req: IncomingMessage) => void): void {
  timings.attach(req, sink);
}

/**
 * Records a duration for the request (e.g. a database call from `@palisade/sqlite-tuning`).
 * Does nothing when no timing sink is attached; never throws.
 *
 * @example
 * const start = performance.now();
 * const rows = statement.all();
 * recordTiming(req, { name: "db", durationMs: performance.now() - start });
 */
export function recordTiming(req: IncomingMessage, entry: TimingEntry): number {
  return timings.deliver(req, entry);
}
