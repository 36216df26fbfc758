import type { IncomingMessage } from "node:http";

/**
 * A named channel of per-request sinks, stored on the request under `Symbol.for(key)` so
 * that two copies of @palisade/core in one app still meet. One mechanism serves security
 * events and timings.
 */
export function requestChannel<T>(key: string) {
  const symbol = Symbol.for(key);
  type Sink = (value: T, req: IncomingMessage) => void;
  type Holder = IncomingMessage & { [symbol]?: Sink[] };
  return {
    attach(req: IncomingMessage, sink: Sink): void {
      const holder = req as Holder;
      const sinks = holder[symbol];
      // A symbol key stays out of Object.keys, JSON and for...in; a plain assignment is far
      // cheaper per request than Object.defineProperty.
      if (sinks) sinks.push(sink);
      else holder[symbol] = [sink];
    },
    has(req: IncomingMessage): boolean {
      return ((req as Holder)[symbol]?.length ?? 0) > 0;
    },
    /** Calls every sink; a throwing sink is skipped. Returns how many received the value. */
    deliver(req: IncomingMessage, value: T): number {
      const sinks = (req as Holder)[symbol];
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
