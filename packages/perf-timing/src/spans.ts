import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { currentRequest, recordTiming, requireRequestScope } from "@palisade/core";

/** A running span; `end()` records it once and returns its duration in ms. */
export interface Span {
  readonly name: string;
  /** Ends the span and records it as a `Server-Timing` entry of its request. Later calls return the first duration. */
  end(): number;
}

const OPEN_SPANS = Symbol.for("palisade.perfTiming.openSpans");
type WithOpenSpans = IncomingMessage & { [OPEN_SPANS]?: Map<string, Span[]> };

function resolve(req: IncomingMessage | undefined): IncomingMessage | undefined {
  if (req) return req;
  // Without a request the scope is the only way to it: ask perfTiming to enter it from now on.
  requireRequestScope();
  return currentRequest()?.req;
}

/**
 * Starts a named span for a request (`undefined`: the request the caller runs on behalf of,
 * through core's request scope). End it with `span.end()` or `endSpan(req, name)`; the
 * duration reaches perf-timing through core's `recordTiming`, so it is a no-op without it.
 *
 * @example
 * const span = startSpan(req, "render");
 * const html = render(view);
 * span.end();
 */
export function startSpan(req: IncomingMessage | undefined, name: string, description?: string): Span {
  const target = resolve(req);
  const start = performance.now();
  let duration = -1;
  const span: Span = {
    name,
    end() {
      if (duration >= 0) return duration;
      duration = performance.now() - start;
      if (target) {
        const open = (target as WithOpenSpans)[OPEN_SPANS]?.get(name);
        const at = open ? open.lastIndexOf(span) : -1;
        if (at >= 0) open!.splice(at, 1);
        recordTiming(
          target,
          description === undefined ? { name, durationMs: duration } : { name, durationMs: duration, description },
        );
      }
      return duration;
    },
  };
  if (target) {
    const holder = target as WithOpenSpans;
    let open = holder[OPEN_SPANS];
    if (!open) {
      open = new Map();
      Object.defineProperty(holder, OPEN_SPANS, { value: open, enumerable: false, configurable: true });
    }
    const list = open.get(name);
    if (list) list.push(span);
    else open.set(name, [span]);
  }
  return span;
}

/**
 * Ends the most recent open span called `name` on the request and returns its duration in ms,
 * or `undefined` when none is open.
 *
 * @example
 * startSpan(req, "db");
 * const rows = db.prepare("SELECT * FROM barbers").all();
 * endSpan(req, "db");
 */
export function endSpan(req: IncomingMessage | undefined, name: string): number | undefined {
  const target = resolve(req);
  const span = target ? (target as WithOpenSpans)[OPEN_SPANS]?.get(name)?.at(-1) : undefined;
  return span?.end();
}

/**
 * Runs `fn` inside a span and returns its result; for a promise, the span ends when it settles.
 * The span ends (and is recorded) when `fn` throws or rejects too.
 *
 * @example
 * const rows = timed(req, "db", () => db.prepare("SELECT * FROM services").all());
 * const user = await timed(undefined, "auth", () => verifyPassword(email, password));
 */
export function timed<T>(req: IncomingMessage | undefined, name: string, fn: () => T, description?: string): T {
  const span = startSpan(req, name, description);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    span.end();
    throw error;
  }
  if (result !== null && typeof (result as { then?: unknown })?.then === "function") {
    const settle = () => {
      span.end();
    };
    (result as PromiseLike<unknown>).then(settle, settle);
    return result;
  }
  span.end();
  return result;
}
