import type { DeliveredSecurityEvent, PalisadeLogger } from "@palisade/core";
import type { RequestHandler } from "express";

/** IETF health-check statuses (draft-inadarei-api-health-check), best to worst. */
export const HEALTH_STATUSES = ["pass", "warn", "fail"] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Lifecycle states, in order. Readiness answers 200 only in `ready`. */
export const LIFECYCLE_STATES = ["starting", "ready", "draining", "stopped"] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

/** IETF `componentType` values; `datastore` checks are listed by `GET /database/status`. */
export const COMPONENT_TYPES = ["component", "datastore", "system"] as const;
export type ComponentType = (typeof COMPONENT_TYPES)[number];

/** What a check function may return. `undefined` or `true` mean pass, `false` means fail, a throw means fail. */
// biome-ignore lint/suspicious/noConfusingVoidType: a check written as `() => { db.prepare("select 1").get(); }` returns void.
export type CheckOutcome = void | boolean | CheckResult;

/** A detailed check result; every field optional. */
export interface CheckResult {
  /** Defaults to `pass`. */
  status?: HealthStatus;
  /** The measured value (a latency, a count, a ratio). Defaults to the check's duration in milliseconds. */
  observedValue?: unknown;
  /** Unit of `observedValue`, e.g. `ms`, `bytes`, `percent`. Defaults to `ms` when `observedValue` is the duration. */
  observedUnit?: string;
  /** Human-readable reason; shown for `warn` and `fail` only. */
  output?: string;
  /** Extra facts (database size, WAL size, ...), shown on the detailed endpoints. Keep them small. Other fields of the result are added to them. */
  details?: Record<string, unknown>;
  /** Overrides the `componentType` the check was registered with. */
  componentType?: ComponentType;
}

/**
 * A health check: runs in the background, never per request. Receives an `AbortSignal` that
 * aborts when the check times out; a check that ignores it is reported as failing until it settles.
 * An optional `close()` is called when the check is unregistered or the instance closes.
 */
export type CheckFunction = ((signal: AbortSignal) => CheckOutcome | Promise<CheckOutcome>) & {
  close?: () => void;
};

/** Per-check options of `registerCheck(name, fn, options)`. */
export interface CheckOptions {
  /** A failing critical check turns `/health` to `fail` (503) and `/readiness` to 503; a non-critical one only to `warn`. Defaults to `true`. */
  critical?: boolean;
  /** A run that takes longer fails with `timed out after <n> ms` and its signal aborts. Defaults to the instance's `timeoutMs`. */
  timeoutMs?: number;
  /** Milliseconds between the end of one run and the start of the next. Defaults to the instance's `intervalMs`. */
  intervalMs?: number;
  /** IETF component type; `datastore` checks appear on `GET /database/status`. Defaults to `component`. */
  componentType?: ComponentType;
  /** Counts toward `/liveness`: only for checks of the process itself (event loop, memory), never dependencies. Defaults to `false`. */
  liveness?: boolean;
}

export const CHECK_OPTION_KEYS = ["critical", "timeoutMs", "intervalMs", "componentType", "liveness"] as const;

/**
 * Structural view of a performance monitor (such as `@palisade/perf-timing`): anything with a
 * `stats()` snapshot, and optionally a 0-100 `score(stats)`.
 */
export interface PerformanceSource {
  stats(): unknown;
  score?(stats: never): number;
}

/** Version facts served by `GET /version`. */
export interface VersionInfo {
  name?: string;
  version?: string;
  commit?: string;
  buildTime?: string;
}

export const VERSION_KEYS = ["name", "version", "commit", "buildTime"] as const;

/** Receives the `sys_*` events raised outside any request (check failures and recoveries, startup, shutdown). */
export type EventSink = (event: DeliveredSecurityEvent) => void;

/** Options of {@link healthChecks}. */
export interface HealthChecksOptions {
  /** Default per-check timeout in milliseconds. Defaults to `2000`. */
  timeoutMs?: number;
  /** Default milliseconds between check runs. Defaults to `10000`. */
  intervalMs?: number;
  /** Register the event-loop delay, memory and disk-space checks (all non-critical). Defaults to `true`. */
  builtInChecks?: boolean;
  /** Directory whose file system `disk:free` and `GET /status` report. Defaults to `process.cwd()`. */
  dataDir?: string;
  /**
   * Guards the detailed endpoints (`/health/detailed`, `/status`, `/database/status`, `/metrics`,
   * `/performance/summary`), e.g. access-control's IP allowlist. Defaults to loopback only: the
   * client address (core's `clientIp`) and every `X-Forwarded-For` hop must be loopback.
   */
  protect?: RequestHandler;
  /** A performance monitor whose `stats()` and `score()` `GET /performance/summary` serves. Defaults to none. */
  performance?: PerformanceSource;
  /** The Prometheus handler `GET /metrics` delegates to (perf-timing's `metricsHandler()`). Defaults to none (the path falls through). */
  metrics?: RequestHandler;
  /** Business figures for `GET /performance/summary` (active users, revenue, ...); bounded by `timeoutMs`. Defaults to none. */
  businessMetrics?: () => unknown;
  /** Version facts, or the path of a JSON file holding them (read once). Defaults to `npm_package_name`, `npm_package_version`, `GIT_COMMIT` and `BUILD_TIME` from the environment. */
  version?: VersionInfo | string;
  /** IETF `serviceId` on the detailed bodies. Defaults to the version's `name`. */
  serviceId?: string;
  /** Receives the `sys_*` events (check failures and recoveries). Defaults to writing them to `logger`. */
  onEvent?: EventSink;
  /** Where warnings (and events without `onEvent`) go. Defaults to `consoleLogger` from `@palisade/core`. */
  logger?: PalisadeLogger;
}

export const OPTION_KEYS = [
  "timeoutMs",
  "intervalMs",
  "builtInChecks",
  "dataDir",
  "protect",
  "performance",
  "metrics",
  "businessMetrics",
  "version",
  "serviceId",
  "onEvent",
  "logger",
] as const;

export const DEFAULTS = {
  timeoutMs: 2000,
  intervalMs: 10_000,
  builtInChecks: true,
} as const;

/** The part of a health-checks instance a {@link lifecycle} drives. */
export interface LifecycleTarget {
  setState(state: LifecycleState): void;
  whenChecked?(): Promise<void>;
  close?(): void;
}

/** Signals a lifecycle can answer. */
export const SHUTDOWN_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR2"] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/** Options of {@link lifecycle}. */
export interface LifecycleOptions {
  /** The `healthChecks()` instance whose readiness follows the lifecycle state. Defaults to none. */
  health?: LifecycleTarget;
  /** Milliseconds between readiness turning 503 and the server closing, so load balancers notice. Defaults to `5000`. */
  drainDelayMs?: number;
  /** Milliseconds in-flight requests get after the server stops accepting; then their connections are destroyed. Defaults to `10000`. */
  shutdownTimeoutMs?: number;
  /** Milliseconds all cleanup hooks together get; a hook still running then is abandoned and the exit code is 1. Defaults to `5000`. */
  cleanupTimeoutMs?: number;
  /** Hooks run in order after the last connection closed (close the database, flush logs). Defaults to `[]`. */
  cleanup?: readonly (() => unknown)[];
  /** Signals that start the shutdown; a second one forces exit. `false` installs no handler (call `shutdown()` yourself). Defaults to `["SIGTERM", "SIGINT"]`. */
  signals?: readonly ShutdownSignal[] | false;
  /** Called with the exit code at the end (0, or 1 when a hook failed or a second signal forced it). `false` never exits. Defaults to `process.exit`. */
  exit?: ((code: number) => void) | false;
  /** Receives `sys_startup` and `sys_shutdown` events. Defaults to writing them to `logger`. */
  onEvent?: EventSink;
  /** Where warnings (and events without `onEvent`) go. Defaults to `consoleLogger` from `@palisade/core`. */
  logger?: PalisadeLogger;
}

export const LIFECYCLE_OPTION_KEYS = [
  "health",
  "drainDelayMs",
  "shutdownTimeoutMs",
  "cleanupTimeoutMs",
  "cleanup",
  "signals",
  "exit",
  "onEvent",
  "logger",
] as const;

export const LIFECYCLE_DEFAULTS = {
  drainDelayMs: 5000,
  shutdownTimeoutMs: 10_000,
  cleanupTimeoutMs: 5000,
  signals: ["SIGTERM", "SIGINT"] as readonly ShutdownSignal[],
} as const;
