import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { consoleLogger, optionChecks, warnOnce } from "@palisade/core";
import { eventDelivery } from "./events.js";
import {
  LIFECYCLE_DEFAULTS,
  LIFECYCLE_OPTION_KEYS,
  type LifecycleOptions,
  type LifecycleState,
  SHUTDOWN_SIGNALS,
  type ShutdownSignal,
} from "./options.js";

/** What `lifecycle()` returns. */
export interface Lifecycle {
  /** `starting` until the server listens and every health check has a first result, then `ready`, `draining`, `stopped`. */
  readonly state: LifecycleState;
  /**
   * Runs the shutdown sequence (what a signal does): readiness 503, wait `drainDelayMs`, stop
   * accepting, close idle connections, let in-flight requests finish up to `shutdownTimeoutMs`,
   * run the cleanup hooks, then call `exit`. Resolves with the exit code; calling it again returns the same promise.
   */
  shutdown(reason?: string): Promise<number>;
  /** Adds a cleanup hook, run after the ones given in `cleanup`. */
  onCleanup(hook: () => unknown): void;
  /** Removes the signal handlers and the request listener (when the app takes shutdown over). */
  close(): void;
}

const wait = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * Zero-downtime start and stop for an HTTP(S) server: `starting -> ready -> draining -> stopped`.
 * On SIGTERM or SIGINT readiness turns 503 at once; after `drainDelayMs` the server stops
 * accepting, idle keep-alive connections close, responses carry `Connection: close`, in-flight
 * requests get `shutdownTimeoutMs`, the cleanup hooks run, and `exit(0)` is called. A second signal forces `exit(1)`.
 *
 * @example
 * const server = app.listen(3000);
 * lifecycle(server, { health, drainDelayMs: 5000, cleanup: [() => db.close()] });
 */
export function lifecycle(server: Server | HttpsServer, options: Readonly<LifecycleOptions> = {}): Lifecycle {
  const check = optionChecks("lifecycle");
  if (typeof options !== "object" || options === null) check.fail("options", "an object", options);
  check.knownKeys(options, LIFECYCLE_OPTION_KEYS);
  if (typeof server !== "object" || server === null || typeof server.closeIdleConnections !== "function") {
    check.fail("server", "an http.Server or https.Server", server);
  }
  const health = options.health;
  if (health !== undefined && typeof health !== "object" && typeof health !== "function") {
    check.fail("health", "a healthChecks() instance", health);
  }
  if (health !== undefined && typeof health.setState !== "function")
    check.fail("health", "a healthChecks() instance", health);
  const max = 2 ** 31 - 1;
  const drainDelayMs = check.number("drainDelayMs", options.drainDelayMs, LIFECYCLE_DEFAULTS.drainDelayMs, {
    min: 0,
    max,
    integer: true,
  });
  const shutdownTimeoutMs = check.number(
    "shutdownTimeoutMs",
    options.shutdownTimeoutMs,
    LIFECYCLE_DEFAULTS.shutdownTimeoutMs,
    { min: 0, max, integer: true },
  );
  const cleanupTimeoutMs = check.number(
    "cleanupTimeoutMs",
    options.cleanupTimeoutMs,
    LIFECYCLE_DEFAULTS.cleanupTimeoutMs,
    { min: 0, max, integer: true },
  );
  const hooks: (() => unknown)[] = [];
  if (options.cleanup !== undefined) {
    if (!Array.isArray(options.cleanup) || options.cleanup.some((hook) => typeof hook !== "function")) {
      check.fail("cleanup", "an array of functions", options.cleanup);
    }
    hooks.push(...options.cleanup);
  }
  let signals: readonly ShutdownSignal[] = LIFECYCLE_DEFAULTS.signals;
  if (options.signals === false) signals = [];
  else if (options.signals !== undefined) {
    if (!Array.isArray(options.signals)) check.fail("signals", "an array of signal names or false", options.signals);
    signals = options.signals.map((signal, i) => check.oneOf(`signals[${i}]`, signal, SHUTDOWN_SIGNALS, "SIGTERM"));
  }
  let exit: ((code: number) => void) | undefined = (code) => process.exit(code);
  if (options.exit === false) exit = undefined;
  else if (options.exit !== undefined) exit = check.func("exit", options.exit);
  const onEvent = check.func<NonNullable<LifecycleOptions["onEvent"]>>("onEvent", options.onEvent);
  const logger = options.logger ?? consoleLogger;
  if (typeof logger !== "object" || logger === null || typeof logger.warn !== "function") {
    check.fail("logger", "an object with a warn() method", logger);
  }
  const warn = warnOnce(logger, "lifecycle");
  const deliver = eventDelivery(onEvent, logger);

  let state: LifecycleState = "starting";
  const setState = (next: LifecycleState) => {
    state = next;
    health?.setState(next);
  };
  setState("starting");

  // Responses in flight when the shutdown starts get `Connection: close`, so their keep-alive
  // clients reconnect elsewhere instead of racing the socket close with their next request.
  const inFlight = new Set<ServerResponse>();
  const onRequest = (_req: IncomingMessage, res: ServerResponse) => {
    if (state === "draining" || state === "stopped") {
      res.setHeader("Connection", "close");
      return;
    }
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
  };
  server.prependListener("request", onRequest);

  const listening = server.listening
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        server.once("listening", () => resolve());
      });
  void Promise.all([listening, health?.whenChecked?.()]).then(() => {
    if (state !== "starting") return;
    setState("ready");
    deliver({ name: "sys_startup", level: "INFO", description: "server ready" });
  });

  let shuttingDown: Promise<number> | undefined;

  async function runHooks(): Promise<number> {
    let code = 0;
    const all = (async () => {
      for (const hook of hooks) {
        try {
          await hook();
        } catch (error) {
          code = 1;
          (logger.error ?? logger.warn).call(
            logger,
            { code: "ERR_PALISADE_CLEANUP_HOOK", error: String(error) },
            "lifecycle: a cleanup hook failed",
          );
        }
      }
      return "done" as const;
    })();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      all,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), cleanupTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      warn("WRN_PALISADE_CLEANUP_TIMEOUT", `cleanup hooks still running after ${cleanupTimeoutMs} ms; exiting anyway.`);
      return 1;
    }
    return code;
  }

  function shutdown(reason = "shutdown()"): Promise<number> {
    shuttingDown ??= (async () => {
      setState("draining");
      deliver({
        name: "sys_shutdown",
        level: "INFO",
        description: `shutting down (${reason})`,
        detail: { reason, drainDelayMs, shutdownTimeoutMs },
      });
      for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
      await wait(drainDelayMs);

      const closed = new Promise<void>((resolve) => {
        server.close(() => resolve());
      });
      server.closeIdleConnections();
      // A response whose headers went out before the shutdown leaves a keep-alive socket behind.
      const sweeper = setInterval(() => server.closeIdleConnections(), 100);
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        closed.then(() => "closed" as const),
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), shutdownTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      clearInterval(sweeper);
      if (outcome === "timeout") {
        warn(
          "WRN_PALISADE_SHUTDOWN_FORCED",
          `requests still in flight after ${shutdownTimeoutMs} ms; their connections were destroyed.`,
        );
        server.closeAllConnections();
        await closed;
      }

      const code = await runHooks();
      health?.close?.();
      setState("stopped");
      (logger.info ?? (() => {})).call(logger, { exitCode: code }, "lifecycle: stopped");
      removeSignalHandlers();
      server.removeListener("request", onRequest);
      exit?.(code);
      return code;
    })();
    return shuttingDown;
  }

  const handlers = new Map<ShutdownSignal, () => void>();
  for (const signal of signals) {
    const handler = () => {
      if (shuttingDown) {
        deliver({ name: "sys_shutdown", level: "WARN", description: `${signal} during shutdown: forcing exit` });
        server.closeAllConnections();
        exit?.(1);
        return;
      }
      void shutdown(signal);
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  function removeSignalHandlers(): void {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    handlers.clear();
  }

  return {
    get state() {
      return state;
    },
    shutdown,
    onCleanup(hook) {
      if (typeof hook !== "function") check.fail("onCleanup", "a function", hook);
      hooks.push(hook);
    },
    close() {
      removeSignalHandlers();
      server.removeListener("request", onRequest);
    },
  };
}
