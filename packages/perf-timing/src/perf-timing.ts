import type { IncomingMessage, ServerResponse } from "node:http";
import {
  attachTimingSink,
  beforeHeaders,
  clientIp,
  compileTrust,
  consoleLogger,
  installBeforeHeaders,
  isLogger,
  offerRequestScope,
  onResponseDone,
  optionChecks,
  PalisadeConfigError,
  type PalisadeLogger,
  requestBag,
  type TimingEntry,
  type TrustFunction,
  warnOnce,
} from "@palisade/core";
import type { RequestHandler } from "express";
import { collectDefaultMetrics, Registry } from "prom-client";
import {
  DEFAULTS,
  DURATION_METRIC,
  EXPOSE_SPANS_KEYS,
  METHODS,
  OPTION_KEYS,
  OVERFLOW_ROUTE,
  type PerfTimingOptions,
  ROUTE_CAP_CODE,
  SLOW_REQUEST_CODE,
  UNMATCHED_ROUTE,
} from "./options.js";
import { DurationHistogram, type DurationSeries } from "./prometheus.js";
import { type RuntimeSummary, RuntimeWindow } from "./runtime.js";
import { performanceScore, type ScoreTargets } from "./score.js";
import { MAX_SPAN_NAMES, metricName, type SpanTotal, spanEntries, writeHeadSets } from "./server-timing.js";
import type { LatencySummary } from "./summary.js";
import { LatencyWindow, summarize } from "./window.js";

/** Counters and windowed latency of one `METHOD route` label. */
export interface RouteStats {
  method: string;
  /** Route template (`/bookings/:id`), `<unmatched>` or `<other>`; never a raw URL. */
  route: string;
  /** Requests since start. */
  requests: number;
  /** Server errors (5xx) since start. */
  errors: number;
  /** Client errors (4xx) since start. */
  clientErrors: number;
  /** Requests over the slow threshold since start. */
  slow: number;
  /** Requests whose connection closed before the response finished, since start. */
  aborted: number;
  /** The slow threshold that applies to this route, in ms. */
  slowMs: number;
  /** Latency and errors over the sliding window. */
  window: LatencySummary;
}

/** The snapshot `stats()` returns. Durations in ms, memory in bytes. */
export interface PerfStats extends RuntimeSummary {
  /** When this instance started counting (ISO 8601). */
  startedAt: string;
  /** Length of the sliding window in ms. */
  windowMs: number;
  /** Counters over every route since start. */
  totals: { requests: number; errors: number; clientErrors: number; slow: number; aborted: number };
  /** Latency and errors of every route together over the sliding window. */
  latency: LatencySummary;
  /** One entry per `METHOD route` label, busiest first. */
  routes: RouteStats[];
  /** Labels in use against `maxRoutes`; `overflowed` once a route folded into `<other>`. */
  routeLabels: { used: number; max: number; overflowed: boolean };
}

/** The middleware `perfTiming()` returns, with its instance API. */
export type PerfTimingMiddleware = RequestHandler & {
  /** A snapshot of the per-route statistics, event loop and memory. */
  stats(): PerfStats;
  /** `performanceScore()` of `stats` (default: a fresh snapshot), 0-100. */
  score(stats?: PerfStats, targets?: Readonly<ScoreTargets>): number;
  /** A handler serving the Prometheus exposition format of `registry`. */
  metricsHandler(): RequestHandler;
  /** The prom-client registry the metrics live in; `undefined` with `prometheus: false`. */
  readonly registry: Registry | undefined;
  /** Stops the event-loop delay monitor (for tests and shutdown); counting goes on. */
  close(): void;
};

interface RequestState {
  /** The request, and its method label, kept from the middleware: read again at the end they
   * would be cache misses (see core's requestBag). */
  req: ExpressRequest;
  method: string;
  start: bigint;
  spans: Map<string, SpanTotal> | undefined;
  headersApplied: boolean;
  done: boolean;
}

/** A route's live state: the counters `RouteStats` reports, plus its window and cached observers. */
interface RouteEntry extends Omit<RouteStats, "window"> {
  window: LatencyWindow;
  /** Prometheus series by status class index, created on first use. */
  series: (DurationSeries | undefined)[];
}

type ExpressRequest = IncomingMessage & {
  route?: { path?: unknown };
  baseUrl?: string;
  id?: unknown;
  log?: unknown;
};

const STATUS_CLASSES = ["other", "1xx", "2xx", "3xx", "4xx", "5xx"] as const;
const METHOD_SET = new Set<string>(METHODS);
const LABEL_METHODS = new Set<string>([...METHODS, "OTHER"]);

const SCOPE = "perfTiming";

/**
 * Response timing for Express: `X-Process-Time` and `Server-Timing` headers (never replacing
 * an app's own), spans from `startSpan`/`timed` and from any package through core's
 * `recordTiming`, slow-request warnings, per-route latency percentiles over a sliding window,
 * and a Prometheus histogram. Mount it early (right after audit-log).
 *
 * @example
 * const timing = perfTiming({ slowMs: 500, exposeSpans: { clients: ["loopback"] } });
 * app.use(timing);
 * app.get("/performance", (_req, res) => res.json({ score: timing.score(), ...timing.stats() }));
 * app.get("/metrics", timing.metricsHandler());
 */
export function perfTiming(options: Readonly<PerfTimingOptions> = {}): PerfTimingMiddleware {
  const check = optionChecks(SCOPE);
  check.object("", options, OPTION_KEYS);

  const processTimeHeader = check.boolean("processTimeHeader", options.processTimeHeader, DEFAULTS.processTimeHeader);
  const serverTimingHeader = check.boolean(
    "serverTimingHeader",
    options.serverTimingHeader,
    DEFAULTS.serverTimingHeader,
  );
  const exposeSpans = check.object("exposeSpans", options.exposeSpans, EXPOSE_SPANS_KEYS) ?? {};
  const origins = new Set(check.stringArray("exposeSpans.origins", exposeSpans.origins, []));
  for (const origin of origins) {
    let parsed: string | undefined;
    try {
      parsed = new URL(origin).origin;
    } catch {
      parsed = undefined;
    }
    if (parsed !== origin)
      check.fail("exposeSpans.origins", 'a list of origins like "https://admin.example.com"', origin);
  }
  const clientList = check.stringArray("exposeSpans.clients", exposeSpans.clients, []);
  const clientMatch: TrustFunction | undefined =
    clientList.length > 0 ? compileTrust(clientList, "exposeSpans.clients", SCOPE) : undefined;
  const trusted =
    options.trustedProxies === undefined ? undefined : compileTrust(options.trustedProxies, "trustedProxies", SCOPE);

  const slowMs = check.number("slowMs", options.slowMs, DEFAULTS.slowMs, { min: 0 });
  const slowRoutes = new Map<string, number>();
  if (options.slowRoutes !== undefined) {
    const given = options.slowRoutes as unknown;
    if (typeof given !== "object" || given === null || Array.isArray(given)) {
      check.fail("slowRoutes", "an object of route templates to milliseconds", given);
    }
    for (const [key, value] of Object.entries(options.slowRoutes)) {
      const [first, ...rest] = key.trim().split(/\s+/);
      if (!first || rest.length > 1 || (rest.length === 1 && !LABEL_METHODS.has(first))) {
        check.fail("slowRoutes", 'keyed by "/route/:template" or "METHOD /route/:template" (method in capitals)', key);
      }
      slowRoutes.set(
        rest.length === 1 ? `${first} ${rest[0]}` : first!,
        check.number(`slowRoutes["${key}"]`, value, slowMs, { min: 0 }),
      );
    }
  }
  const logger: PalisadeLogger = options.logger ?? consoleLogger;
  if (!isLogger(logger)) check.fail("logger", "a logger with a warn(details, message) method", options.logger);
  const warn = warnOnce(logger, SCOPE);
  const maxRoutes = check.number("maxRoutes", options.maxRoutes, DEFAULTS.maxRoutes, { min: 1, integer: true });
  const windowMs = check.number("windowMs", options.windowMs, DEFAULTS.windowMs, { min: 1000 });
  const windowSlices = check.number("windowSlices", options.windowSlices, DEFAULTS.windowSlices, {
    min: 1,
    max: 60,
    integer: true,
  });
  const routeLabel = check.func<(req: IncomingMessage) => string | undefined>("routeLabel", options.routeLabel);

  const prometheus = check.boolean("prometheus", options.prometheus, DEFAULTS.prometheus);
  if (!prometheus) {
    for (const key of ["registry", "defaultMetrics", "buckets"] as const) {
      if (options[key] !== undefined) {
        throw new PalisadeConfigError(
          "ERR_PALISADE_CONFLICTING_OPTIONS",
          key,
          `${SCOPE}: option \`${key}\` has no effect with \`prometheus: false\`; remove one of them.`,
        );
      }
    }
  }
  const defaultMetrics = check.boolean("defaultMetrics", options.defaultMetrics, DEFAULTS.defaultMetrics);
  const buckets = bucketsOption(check, options.buckets);
  let registry: Registry | undefined;
  let histogram: DurationHistogram | undefined;
  if (prometheus) {
    registry = options.registry ?? new Registry();
    const candidate = registry as unknown as Record<string, unknown>;
    if (typeof candidate?.getSingleMetric !== "function" || typeof candidate.registerMetric !== "function") {
      check.fail("registry", "a prom-client Registry", options.registry);
    }
    if (registry.getSingleMetric(DURATION_METRIC)) {
      throw new PalisadeConfigError(
        "ERR_PALISADE_CONFLICTING_OPTIONS",
        "registry",
        `${SCOPE}: option \`registry\` already holds a metric named \`${DURATION_METRIC}\` (a second perfTiming() on one registry?); pass each instance its own registry.`,
      );
    }
    histogram = new DurationHistogram(
      DURATION_METRIC,
      "Duration of HTTP requests in seconds, by method, route template and status class.",
      buckets,
      registry,
    );
  }
  // prom-client's default metrics watch the process continuously (a GC observer, an event-loop
  // monitor), which measured about 5% of a trivial request's throughput here. They start when
  // the metrics can first be read: metricsHandler() or the registry getter.
  let defaultsStarted = !defaultMetrics;
  const readableRegistry = (): Registry | undefined => {
    if (!defaultsStarted && registry) {
      defaultsStarted = true;
      if (!registry.getSingleMetric("process_cpu_user_seconds_total")) collectDefaultMetrics({ register: registry });
    }
    return registry;
  };

  const sliceNs = (windowMs / windowSlices) * 1e6;
  const epochAt = (time: bigint) => Math.floor(Number(time) / sliceNs);
  const startedAt = new Date().toISOString();
  const runtime = new RuntimeWindow(windowSlices, epochAt(process.hrtime.bigint()));
  const totals = { requests: 0, errors: 0, clientErrors: 0, slow: 0, aborted: 0 };
  const routes = new Map<string, RouteEntry>();
  let labelled = 0;
  let overflowed = false;

  // Per-request state under a symbol of this instance (two instances never mix), in core's
  // request bag (res.locals under Express: far cheaper to add to than req itself).
  const STATE = Symbol("perfTiming");
  const stateOf = (req: IncomingMessage) => requestBag(req)[STATE] as RequestState | undefined;

  function timingSink(entry: TimingEntry, req: IncomingMessage): void {
    const state = stateOf(req);
    const durationMs = entry.durationMs;
    if (!state || typeof durationMs !== "number" || !(durationMs >= 0) || durationMs === Number.POSITIVE_INFINITY) {
      return;
    }
    state.spans ??= new Map();
    const spans = state.spans;
    const name = metricName(String(entry.name));
    const total = spans.get(name);
    if (total) {
      total.durationMs += durationMs;
      total.count++;
    } else if (spans.size < MAX_SPAN_NAMES) {
      spans.set(name, { durationMs, count: 1, description: entry.description });
    }
  }

  function detailed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined && origins.has(origin)) return true;
    return clientMatch?.(clientIp(req, trusted), 0) === true;
  }

  function applyHeaders(
    res: ServerResponse,
    req: IncomingMessage,
    state: RequestState,
    args: readonly unknown[],
  ): void {
    state.headersApplied = true;
    const ms = (Number(process.hrtime.bigint() - state.start) / 1e6).toFixed(3);
    const headerArgs = args.length > 1;
    if (
      processTimeHeader &&
      // getHeader rather than hasHeader: Express's res.json has just looked it up on this response.
      res.getHeader("x-process-time") === undefined &&
      !(headerArgs && writeHeadSets(args, "x-process-time"))
    ) {
      res.setHeader("X-Process-Time", ms);
    }
    if (serverTimingHeader && !(headerArgs && writeHeadSets(args, "server-timing"))) {
      let value = `total;dur=${ms}`;
      if (state.spans !== undefined && state.spans.size > 0 && detailed(req)) value += spanEntries(state.spans);
      const existing = res.getHeader("server-timing");
      if (existing === undefined) res.setHeader("Server-Timing", value);
      else if (Array.isArray(existing)) res.setHeader("Server-Timing", [...existing, value]);
      else res.setHeader("Server-Timing", `${existing}, ${value}`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origins.has(origin) && !res.hasHeader("timing-allow-origin")) {
      res.setHeader("Timing-Allow-Origin", origin);
    }
    if (origins.size > 0) varyOrigin(res);
  }

  // Shared by every response (no closure per request), run by core's writeHead hook.
  function timingHeaders(res: ServerResponse, args: readonly unknown[]): void {
    const req = res.req;
    const state = stateOf(req);
    if (!state || state.headersApplied) return;
    try {
      applyHeaders(res, req, state, args);
    } catch {
      // Timing headers are best effort; the response goes out regardless.
    }
  }

  function routeOf(req: ExpressRequest): string {
    if (routeLabel) {
      try {
        const label = routeLabel(req);
        return typeof label === "string" && label.length > 0 ? label : UNMATCHED_ROUTE;
      } catch {
        return UNMATCHED_ROUTE;
      }
    }
    const path = req.route?.path;
    if (path === undefined) return UNMATCHED_ROUTE;
    const base = req.baseUrl ?? "";
    return typeof path === "string" ? base + path : base + String(path);
  }

  function entryFor(method: string, route: string): RouteEntry {
    let key = `${method} ${route}`;
    let entry = routes.get(key);
    if (entry) return entry;
    if (route !== UNMATCHED_ROUTE && labelled >= maxRoutes) {
      if (!overflowed) {
        overflowed = true;
        warn(
          ROUTE_CAP_CODE,
          `more than ${maxRoutes} route labels (maxRoutes); further routes are counted as "${OVERFLOW_ROUTE}".`,
          { maxRoutes },
        );
      }
      route = OVERFLOW_ROUTE;
      key = `${method} ${route}`;
      entry = routes.get(key);
      if (entry) return entry;
    } else if (route !== UNMATCHED_ROUTE) {
      labelled++;
    }
    entry = {
      method,
      route,
      requests: 0,
      errors: 0,
      clientErrors: 0,
      slow: 0,
      aborted: 0,
      slowMs: slowRoutes.get(key) ?? slowRoutes.get(route) ?? slowMs,
      window: new LatencyWindow(windowSlices, epochAt(process.hrtime.bigint())),
      series: [],
    };
    routes.set(key, entry);
    return entry;
  }

  // Entries by Express route object, for each mount path and method seen with it: the label is
  // built and looked up by string once, not on every request (a few per route; never evicted
  // while the route object lives, which is as long as the app).
  const byRoute = new WeakMap<object, { base: string; method: string; entry: RouteEntry }[]>();
  const MAX_PER_ROUTE = 16;

  function routeEntry(req: ExpressRequest, method: string): RouteEntry {
    const route = req.route;
    if (routeLabel || typeof route !== "object" || route === null) return entryFor(method, routeOf(req));
    const base = req.baseUrl ?? "";
    let seen = byRoute.get(route);
    if (seen === undefined) {
      seen = [];
      byRoute.set(route, seen);
    }
    for (let i = 0; i < seen.length; i++) {
      const known = seen[i]!;
      if (known.base === base && known.method === method) return known.entry;
    }
    const entry = entryFor(method, routeOf(req));
    if (seen.length < MAX_PER_ROUTE) seen.push({ base, method, entry });
    return entry;
  }

  function logSlow(req: ExpressRequest, res: ServerResponse, entry: RouteEntry, state: RequestState, ms: number) {
    const requestLogger = isLogger(req.log) ? req.log : logger;
    const spans: Record<string, number> = {};
    if (state.spans) for (const [name, span] of state.spans) spans[name] = Math.round(span.durationMs * 1000) / 1000;
    const header = res.getHeader("x-request-id");
    const requestId =
      typeof req.id === "string" || typeof req.id === "number"
        ? req.id
        : typeof header === "string"
          ? header
          : undefined;
    const durationMs = Math.round(ms * 1000) / 1000;
    try {
      requestLogger.warn(
        {
          code: SLOW_REQUEST_CODE,
          category: "performance",
          method: entry.method,
          route: entry.route,
          status: res.statusCode,
          durationMs,
          thresholdMs: entry.slowMs,
          spans,
          ...(requestId === undefined ? {} : { requestId }),
        },
        `${SCOPE}: slow request ${entry.method} ${entry.route} took ${durationMs} ms (threshold ${entry.slowMs} ms)`,
      );
    } catch {
      // A broken logger must not break the request.
    }
  }

  function onClose(res: ServerResponse, bag: Record<PropertyKey, unknown>): void {
    const state = bag[STATE] as RequestState | undefined;
    if (!state || state.done) return;
    state.done = true;
    const end = process.hrtime.bigint();
    const nanos = Number(end - state.start);
    const req = state.req;
    const entry = routeEntry(req, state.method);
    const status = res.statusCode;
    const statusIndex = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
    const error = statusIndex === 5;
    const epoch = epochAt(end);
    const micros = Math.round(nanos / 1000);
    entry.requests++;
    totals.requests++;
    if (error) {
      entry.errors++;
      totals.errors++;
    } else if (statusIndex === 4) {
      entry.clientErrors++;
      totals.clientErrors++;
    }
    if (!res.writableFinished) {
      entry.aborted++;
      totals.aborted++;
    }
    entry.window.record(micros, error, epoch);
    if (histogram) {
      let series = entry.series[statusIndex];
      if (!series) {
        series = histogram.seriesFor(entry.method, entry.route, STATUS_CLASSES[statusIndex]!);
        entry.series[statusIndex] = series;
      }
      histogram.record(series, nanos / 1e9);
    }
    const ms = nanos / 1e6;
    if (ms > entry.slowMs) {
      entry.slow++;
      totals.slow++;
      logSlow(req, res, entry, state, ms);
    }
  }

  const sendsHeaders = processTimeHeader || serverTimingHeader || origins.size > 0;
  if (sendsHeaders) installBeforeHeaders();

  const middleware = function perfTimingMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void) {
    const method = req.method;
    const state: RequestState = {
      req,
      method: method !== undefined && METHOD_SET.has(method) ? method : "OTHER",
      start: process.hrtime.bigint(),
      spans: undefined,
      headersApplied: false,
      done: false,
    };
    requestBag(req)[STATE] = state;
    attachTimingSink(req, timingSink);
    // Both through core's shared hooks: no property and no listener of its own on `res`.
    if (sendsHeaders) beforeHeaders(req, res, timingHeaders);
    onResponseDone(req, res, onClose);
    // The request scope lets packages without the request (sqlite-tuning) add spans; entered
    // once one of them asks for it (core's requireRequestScope), free until then.
    offerRequestScope(req, res, next);
  } as unknown as PerfTimingMiddleware;

  function stats(): PerfStats {
    const epoch = epochAt(process.hrtime.bigint());
    const routeStats: RouteStats[] = [];
    for (const entry of routes.values()) {
      routeStats.push({
        method: entry.method,
        route: entry.route,
        requests: entry.requests,
        errors: entry.errors,
        clientErrors: entry.clientErrors,
        slow: entry.slow,
        aborted: entry.aborted,
        slowMs: entry.slowMs,
        window: entry.window.summary(epoch),
      });
    }
    routeStats.sort((a, b) => b.requests - a.requests);
    return {
      startedAt,
      windowMs,
      totals: { ...totals },
      latency: summarize(
        [...routes.values()].map((entry) => entry.window),
        epoch,
      ),
      routes: routeStats,
      routeLabels: { used: labelled, max: maxRoutes, overflowed },
      ...runtime.summary(epoch),
    };
  }

  Object.defineProperties(middleware, {
    stats: { value: stats, enumerable: true },
    score: {
      value: (snapshot?: PerfStats, targets?: Readonly<ScoreTargets>) => performanceScore(snapshot ?? stats(), targets),
      enumerable: true,
    },
    metricsHandler: {
      value: (): RequestHandler => {
        readableRegistry();
        if (!registry) {
          throw new PalisadeConfigError(
            "ERR_PALISADE_CONFLICTING_OPTIONS",
            "prometheus",
            `${SCOPE}: metricsHandler() needs Prometheus metrics; remove \`prometheus: false\`.`,
          );
        }
        const source = registry;
        return function perfTimingMetrics(_req, res, next) {
          source.metrics().then(
            (text) => {
              res.setHeader("Content-Type", source.contentType);
              res.setHeader("Cache-Control", "no-store");
              res.end(text);
            },
            (error: unknown) => next(error),
          );
        };
      },
      enumerable: true,
    },
    registry: { get: readableRegistry, enumerable: true },
    close: { value: () => runtime.close(), enumerable: true },
  });
  return middleware;
}

function bucketsOption(check: ReturnType<typeof optionChecks>, value: unknown): readonly number[] {
  if (value === undefined) return DEFAULTS.buckets;
  const valid =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (bound, i) =>
        typeof bound === "number" && Number.isFinite(bound) && bound > 0 && (i === 0 || bound > value[i - 1]),
    );
  if (!valid) check.fail("buckets", "a non-empty array of increasing positive numbers (seconds)", value);
  return value as number[];
}

function varyOrigin(res: ServerResponse): void {
  const vary = res.getHeader("vary");
  if (vary === undefined) {
    res.setHeader("Vary", "Origin");
    return;
  }
  const text = Array.isArray(vary) ? vary.join(", ") : String(vary);
  if (/(^|,)\s*(\*|origin)\s*(,|$)/i.test(text)) return;
  res.setHeader("Vary", `${text}, Origin`);
}
