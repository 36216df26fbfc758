import type { IncomingMessage } from "node:http";
import type { PalisadeLogger, TrustedProxies } from "@palisade/core";
import type { Registry } from "prom-client";

/** Who receives the detailed `Server-Timing` spans (everyone else sees only `total`). */
export interface ExposeSpansOptions {
  /**
   * Exact origins (`https://admin.example.com`) whose requests get the spans and a matching
   * `Timing-Allow-Origin`, so that browser code on that origin can read them. Defaults to `[]`.
   */
  origins?: readonly string[];
  /**
   * Client addresses or CIDR ranges (resolved with core's `clientIp()` and `trustedProxies`)
   * that get the spans, e.g. `["loopback", "10.0.0.0/8"]` for operators. Defaults to `[]`.
   */
  clients?: readonly string[];
}

/** Options of {@link perfTiming}. */
export interface PerfTimingOptions {
  /** Set `X-Process-Time` (milliseconds, three decimals) unless the app set it. Defaults to `true`. */
  processTimeHeader?: boolean;
  /** Set `Server-Timing` (`total`, plus spans for `exposeSpans`); appended to an app-set value. Defaults to `true`. */
  serverTimingHeader?: boolean;
  /** Origins and clients that see the detailed spans. Defaults to nobody: only `total` is sent. */
  exposeSpans?: ExposeSpansOptions;
  /** Proxies trusted to report the client address for `exposeSpans.clients`. Defaults to the app's `trust proxy` setting. */
  trustedProxies?: TrustedProxies;
  /** A request slower than this many milliseconds logs one warning and counts as slow. Defaults to `1000`. */
  slowMs?: number;
  /**
   * Per-route slow thresholds in milliseconds, keyed by route template with or without the method:
   * `{ "GET /reports/:id": 5000, "/export": 30000 }`. Defaults to `{}`.
   */
  slowRoutes?: Readonly<Record<string, number>>;
  /**
   * Where slow-request warnings and `WRN_PALISADE_*` warnings go. A request logger (`req.log`,
   * set by `@palisade/audit-log` or pino-http) takes precedence for slow-request warnings.
   * Defaults to `consoleLogger` from `@palisade/core`.
   */
  logger?: PalisadeLogger;
  /** Most distinct `METHOD route` labels kept; later routes fold into `<other>`. Defaults to `100`. */
  maxRoutes?: number;
  /** Length of the sliding window the percentiles, error rate and event-loop figures cover, in ms. Defaults to `60000`. */
  windowMs?: number;
  /** Number of slices the window advances by (a slice is `windowMs / windowSlices`). Defaults to `6`. */
  windowSlices?: number;
  /**
   * Names the route of a request, e.g. for an app that routes without Express. Return `undefined`
   * for unmatched requests (they fold into `<unmatched>`). Defaults to `req.baseUrl + req.route.path`.
   */
  routeLabel?: (req: IncomingMessage) => string | undefined;
  /** Export the `http_request_duration_seconds` histogram to Prometheus. Defaults to `true`. */
  prometheus?: boolean;
  /** The prom-client registry metrics go to; pass yours to add business metrics. Defaults to a new `Registry` per instance. */
  registry?: Registry;
  /**
   * Also collect prom-client's default process metrics in the registry (skipped when it already has them),
   * from the first `metricsHandler()` call or read of the instance's `registry`. Defaults to `true`.
   */
  defaultMetrics?: boolean;
  /** Histogram bucket upper bounds in seconds. Defaults to `[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]`. */
  buckets?: readonly number[];
}

export const OPTION_KEYS = [
  "processTimeHeader",
  "serverTimingHeader",
  "exposeSpans",
  "trustedProxies",
  "slowMs",
  "slowRoutes",
  "logger",
  "maxRoutes",
  "windowMs",
  "windowSlices",
  "routeLabel",
  "prometheus",
  "registry",
  "defaultMetrics",
  "buckets",
] as const;

export const EXPOSE_SPANS_KEYS = ["origins", "clients"] as const;

export const DEFAULTS = {
  processTimeHeader: true,
  serverTimingHeader: true,
  slowMs: 1000,
  maxRoutes: 100,
  windowMs: 60_000,
  windowSlices: 6,
  prometheus: true,
  defaultMetrics: true,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
} as const;

/** Methods that keep their own label; any other method is counted as `OTHER`. */
export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** Route label of requests no route matched (404s, static files, middleware that answered early). */
export const UNMATCHED_ROUTE = "<unmatched>";
/** Route label of matched routes beyond `maxRoutes`. */
export const OVERFLOW_ROUTE = "<other>";

/** The Prometheus histogram perfTiming registers. */
export const DURATION_METRIC = "http_request_duration_seconds";

/** Code of the warning logged once per slow request. */
export const SLOW_REQUEST_CODE = "WRN_PALISADE_SLOW_REQUEST";
/** Code of the warning logged once when `maxRoutes` is reached. */
export const ROUTE_CAP_CODE = "WRN_PALISADE_ROUTE_CARDINALITY";
