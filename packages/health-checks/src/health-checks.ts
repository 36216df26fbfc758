import { readFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { availableParallelism, freemem, loadavg, totalmem, uptime } from "node:os";
import { type EventLoopUtilization, performance } from "node:perf_hooks";
import {
  clientIp,
  consoleLogger,
  emitSecurityEvent,
  normalizeIp,
  optionChecks,
  PalisadeConfigError,
  sendProblem,
  warnOnce,
} from "@palisade/core";
import type { RequestHandler } from "express";
import { diskSpaceCheck, eventLoopDelayCheck, memoryCheck } from "./builtins.js";
import { eventDelivery, SOURCE } from "./events.js";
import {
  CHECK_OPTION_KEYS,
  type CheckFunction,
  type CheckOptions,
  COMPONENT_TYPES,
  type ComponentType,
  DEFAULTS,
  type HealthChecksOptions,
  type HealthStatus,
  LIFECYCLE_STATES,
  type LifecycleState,
  OPTION_KEYS,
  type PerformanceSource,
  VERSION_KEYS,
  type VersionInfo,
} from "./options.js";
import { type CheckEntry, type CheckRecord, checkRegistry } from "./registry.js";

/** One entry of the IETF `checks` map, as the detailed endpoints serve it. */
export interface HealthCheckBody {
  componentType: ComponentType;
  status: HealthStatus;
  observedValue?: unknown;
  observedUnit?: string;
  output?: string;
  /** ISO time of the measurement. */
  time?: string;
  /** Palisade extensions: whether a failure fails readiness, how long the run took, extra facts. */
  critical?: boolean;
  durationMs?: number;
  details?: Record<string, unknown>;
}

/** An IETF health-check (`application/health+json`) body. */
export interface HealthReport {
  status: HealthStatus;
  serviceId?: string;
  releaseId?: string;
  output?: string;
  checks: Record<string, HealthCheckBody[]>;
}

/** The router-like middleware `healthChecks()` returns, with its instance API. */
export type HealthChecks = RequestHandler & {
  /**
   * Registers a check run in the background every `intervalMs`, bounded by `timeoutMs`; its first
   * run starts at once. Name it `component:measurement` (`sqlite:responseTime`). Throws on a duplicate name.
   */
  registerCheck(name: string, fn: CheckFunction, options?: Readonly<CheckOptions>): void;
  /** Stops and removes a check; returns whether it existed. */
  unregisterCheck(name: string): boolean;
  /** Runs every check now and resolves with the fresh report. */
  runChecks(): Promise<HealthReport>;
  /** Resolves when every check registered so far has a first result (each bounded by its timeout). */
  whenChecked(): Promise<void>;
  /** The cached detailed report (what `GET /health/detailed` serves). */
  report(): HealthReport;
  /** The lifecycle state readiness follows; `ready` unless a `lifecycle()` drives it. */
  readonly state: LifecycleState;
  /** Sets the lifecycle state (called by `lifecycle()`; call it yourself if you manage shutdown). */
  setState(state: LifecycleState): void;
  /** Stops every check's timer and closes the built-in monitors. */
  close(): void;
};

type Next = (error?: unknown) => void;
type Route = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

const HEALTH_JSON = "application/health+json";
const JSON_TYPE = "application/json; charset=utf-8";
const RANK: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };
const worst = (a: HealthStatus, b: HealthStatus): HealthStatus => (RANK[b] > RANK[a] ? b : a);
const round = (value: number) => Math.round(value * 100) / 100;
const body = (value: unknown) => Buffer.from(JSON.stringify(value));

function send(res: ServerResponse, status: number, type: string, payload: Buffer): void {
  if (res.headersSent) return;
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", "Content-Length": payload.length });
  res.end(payload);
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

function forwardedHopsAreLoopback(req: IncomingMessage): boolean {
  const xff = req.headers["x-forwarded-for"];
  if (xff !== undefined) {
    for (const hop of String(xff).split(",")) if (!isLoopback(normalizeIp(hop.trim()))) return false;
  }
  const forwarded = req.headers.forwarded;
  if (forwarded !== undefined) {
    for (const match of forwarded.matchAll(/for="?\[?([^\]";,\s]+)/gi)) {
      if (!isLoopback(normalizeIp(match[1]!))) return false;
    }
  }
  return true;
}

/**
 * The default guard of the detailed endpoints: the client (core's `clientIp`, honouring the
 * app's `trust proxy`) and every forwarded hop must be loopback. A reverse proxy on the same
 * host that forwards no `X-Forwarded-For` makes every client look local: pass `protect` then.
 */
function loopbackOnly(req: IncomingMessage, res: ServerResponse, next: Next): void {
  if (isLoopback(clientIp(req)) && forwardedHopsAreLoopback(req)) {
    next();
    return;
  }
  emitSecurityEvent(req, {
    name: "authz_fail",
    source: SOURCE,
    description: "monitoring endpoint refused to a non-loopback client",
    detail: { path: (req.url ?? "").split("?")[0] },
  });
  sendProblem(res, 403, { detail: "This monitoring endpoint answers loopback clients only." });
}

function readVersion(option: VersionInfo | string | undefined, scope: ReturnType<typeof optionChecks>): VersionInfo {
  let source: Record<string, unknown>;
  if (option === undefined) {
    const env = process.env;
    source = {
      name: env.npm_package_name,
      version: env.npm_package_version,
      commit: env.GIT_COMMIT,
      buildTime: env.BUILD_TIME,
    };
  } else if (typeof option === "string") {
    try {
      source = JSON.parse(readFileSync(option, "utf8")) as Record<string, unknown>;
    } catch (error) {
      throw new PalisadeConfigError(
        "ERR_PALISADE_INVALID_OPTION",
        "version",
        `${scope.scope}: option \`version\` names a file that is not readable JSON (${(error as Error).message}).`,
      );
    }
  } else {
    scope.object("version", option, VERSION_KEYS);
    source = { ...option };
    for (const key of VERSION_KEYS) scope.string(`version.${key}`, option[key], "");
  }
  const info: VersionInfo = {};
  for (const key of VERSION_KEYS) if (typeof source[key] === "string" && source[key]) info[key] = source[key];
  return info;
}

async function bounded<T>(work: () => T | Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(work),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Health, readiness, liveness, version and status endpoints in the IETF health-check format
 * (`application/health+json`), as one middleware to mount at any prefix. Checks run in the
 * background; `/health`, `/readiness` and `/liveness` serve cached bodies and do no work per request.
 *
 * Routes (GET and HEAD): `/health`, `/liveness`, `/readiness` (public, minimal);
 * `/health/detailed`, `/status`, `/database/status`, `/metrics`, `/performance/summary`,
 * `/version` (behind `protect`, default loopback only).
 *
 * @example
 * const health = healthChecks({ dataDir: "./data" });
 * health.registerCheck("sqlite:responseTime", () => { db.prepare("select 1").get(); }, { componentType: "datastore" });
 * app.use("/monitoring", health);
 */
export function healthChecks(options: Readonly<HealthChecksOptions> = {}): HealthChecks {
  const check = optionChecks("healthChecks");
  if (typeof options !== "object" || options === null) check.fail("options", "an object", options);
  check.knownKeys(options, OPTION_KEYS);
  const timeoutMs = check.number("timeoutMs", options.timeoutMs, DEFAULTS.timeoutMs, {
    min: 1,
    max: 2 ** 31 - 1,
    integer: true,
  });
  const intervalMs = check.number("intervalMs", options.intervalMs, DEFAULTS.intervalMs, {
    min: 1,
    max: 2 ** 31 - 1,
    integer: true,
  });
  const builtIn = check.boolean("builtInChecks", options.builtInChecks, DEFAULTS.builtInChecks);
  const dataDir = check.string("dataDir", options.dataDir, process.cwd());
  const protect = (check.func("protect", options.protect) ?? loopbackOnly) as unknown as Route;
  const metrics = check.func("metrics", options.metrics) as unknown as Route | undefined;
  const businessMetrics = check.func<() => unknown>("businessMetrics", options.businessMetrics);
  const onEvent = check.func<NonNullable<HealthChecksOptions["onEvent"]>>("onEvent", options.onEvent);
  const perf: PerformanceSource | undefined = options.performance;
  // perf-timing's instance is a middleware function carrying stats() and score().
  if (perf !== undefined && (perf === null || typeof perf.stats !== "function")) {
    check.fail("performance", "an object with a stats() method", perf);
  }
  if (perf?.score !== undefined && typeof perf.score !== "function")
    check.fail("performance.score", "a function", perf.score);
  const logger = options.logger ?? consoleLogger;
  if (typeof logger !== "object" || logger === null || typeof logger.warn !== "function") {
    check.fail("logger", "an object with a warn() method", logger);
  }
  const version = readVersion(options.version, check);
  const serviceId = check.string("serviceId", options.serviceId, version.name ?? "");

  const warn = warnOnce(logger, "healthChecks");
  const deliver = eventDelivery(onEvent, logger);
  let state: LifecycleState = "ready";

  const healthBodies: Readonly<Record<HealthStatus, Buffer>> = {
    pass: body({ status: "pass" }),
    warn: body({ status: "warn" }),
    fail: body({ status: "fail" }),
  };
  // Everything requests read is recomputed here, after a check run, never per request.
  let report: HealthReport = { status: "pass", checks: {} };
  let healthBody: Buffer = healthBodies.pass;
  let healthCode = 200;
  let detailedBody = body(report);
  let databaseBody = body({ status: "pass", checks: {} });
  let databaseCode = 200;
  let criticalFailing = false;
  let livenessFailing = false;

  const checkBody = (entry: CheckEntry, result: CheckRecord | undefined): HealthCheckBody => {
    if (!result)
      return { componentType: entry.componentType, status: "warn", output: "not run yet", critical: entry.critical };
    const out: HealthCheckBody = { componentType: result.componentType ?? entry.componentType, status: result.status };
    if (result.observedValue !== undefined) out.observedValue = result.observedValue;
    if (result.observedUnit !== undefined) out.observedUnit = result.observedUnit;
    if (result.output !== undefined) out.output = result.output;
    out.time = result.time;
    out.critical = entry.critical;
    out.durationMs = result.durationMs;
    if (result.details !== undefined) out.details = result.details;
    return out;
  };

  const describe = (
    status: HealthStatus,
    checks: Record<string, HealthCheckBody[]>,
    failing: string[],
  ): HealthReport => {
    return {
      status,
      ...(serviceId ? { serviceId } : {}),
      ...(version.version ? { releaseId: version.version } : {}),
      ...(failing.length > 0 ? { output: `not passing: ${failing.join(", ")}` } : {}),
      checks,
    };
  };

  function rebuild(): void {
    let status: HealthStatus = "pass";
    let dbStatus: HealthStatus = "pass";
    const checks: Record<string, HealthCheckBody[]> = {};
    const dbChecks: Record<string, HealthCheckBody[]> = {};
    const failing: string[] = [];
    const dbFailing: string[] = [];
    criticalFailing = false;
    livenessFailing = false;
    for (const entry of registry.entries.values()) {
      const result = entry.result;
      const shown = checkBody(entry, result);
      checks[entry.name] = [shown];
      if (!result) continue;
      const effective: HealthStatus = result.status === "fail" && !entry.critical ? "warn" : result.status;
      status = worst(status, effective);
      if (result.status !== "pass") failing.push(entry.name);
      if (result.status === "fail" && entry.critical) criticalFailing = true;
      if (result.status === "fail" && entry.liveness) livenessFailing = true;
      if (shown.componentType === "datastore") {
        dbChecks[entry.name] = [shown];
        dbStatus = worst(dbStatus, effective);
        if (result.status !== "pass") dbFailing.push(entry.name);
      }
    }
    report = describe(status, checks, failing);
    healthBody = healthBodies[status];
    healthCode = status === "fail" ? 503 : 200;
    detailedBody = body(report);
    databaseBody = body(describe(dbStatus, dbChecks, dbFailing));
    databaseCode = dbStatus === "fail" ? 503 : 200;
  }

  const registry = checkRegistry(
    deliver,
    (name) =>
      warn(
        "WRN_PALISADE_HEALTH_CHECK_HUNG",
        `check "${name}" is still running after its timeout (it ignores its abort signal); it stays failed and is not called again until it settles.`,
        { check: name },
      ),
    rebuild,
  );

  const register = optionChecks("registerCheck");
  function registerCheck(name: string, fn: CheckFunction, checkOptions: Readonly<CheckOptions> = {}): void {
    register.string("name", name, "");
    if (typeof fn !== "function") register.fail("fn", "a function", fn);
    if (typeof checkOptions !== "object" || checkOptions === null || Array.isArray(checkOptions)) {
      register.fail("options", "an object", checkOptions);
    }
    register.knownKeys(checkOptions, CHECK_OPTION_KEYS);
    if (registry.entries.has(name)) {
      throw new PalisadeConfigError(
        "ERR_PALISADE_CONFLICTING_OPTIONS",
        "name",
        `registerCheck: a check named "${name}" is already registered; call unregisterCheck("${name}") first.`,
      );
    }
    registry.add({
      name,
      fn,
      critical: register.boolean("critical", checkOptions.critical, true),
      timeoutMs: register.number("timeoutMs", checkOptions.timeoutMs, timeoutMs, {
        min: 1,
        max: 2 ** 31 - 1,
        integer: true,
      }),
      intervalMs: register.number("intervalMs", checkOptions.intervalMs, intervalMs, {
        min: 1,
        max: 2 ** 31 - 1,
        integer: true,
      }),
      componentType: register.oneOf("componentType", checkOptions.componentType, COMPONENT_TYPES, "component"),
      liveness: register.boolean("liveness", checkOptions.liveness, false),
    });
    rebuild();
  }

  if (builtIn) {
    registerCheck("eventloop:delay", eventLoopDelayCheck(), { critical: false, componentType: "system" });
    registerCheck("memory:utilization", memoryCheck(), { critical: false, componentType: "system" });
    registerCheck("disk:free", diskSpaceCheck(dataDir), { critical: false, componentType: "system" });
  }

  const versionBody = body({ ...version, node: process.version });
  const readinessBodies = {
    pass: body({ status: "pass" }),
    starting: body({ status: "fail", output: "starting" }),
    draining: body({ status: "fail", output: "draining" }),
    stopped: body({ status: "fail", output: "stopped" }),
    failing: body({ status: "fail", output: "a critical check is failing" }),
  };
  const livenessPass = body({ status: "pass" });
  const livenessFail = body({ status: "fail", output: "a liveness check is failing" });

  // CPU and event-loop utilisation on /status are measured since the previous /status call.
  let lastCpu = process.cpuUsage();
  let lastCpuAt = performance.now();
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();

  async function systemStatus(): Promise<{ code: number; payload: Buffer }> {
    const time = new Date().toISOString();
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const cpuPercent = now > lastCpuAt ? round(((cpu.user + cpu.system) / 1000 / (now - lastCpuAt)) * 100) : 0;
    lastCpu = process.cpuUsage();
    lastCpuAt = now;
    const elu = performance.eventLoopUtilization(lastElu);
    lastElu = performance.eventLoopUtilization();
    const memory = process.memoryUsage();
    const [load1, load5, load15] = loadavg();
    const system = (
      observedValue: unknown,
      observedUnit: string,
      details?: Record<string, unknown>,
    ): HealthCheckBody[] => [
      details
        ? { componentType: "system", observedValue, observedUnit, status: "pass", time, details }
        : { componentType: "system", observedValue, observedUnit, status: "pass", time },
    ];
    const checks: Record<string, HealthCheckBody[]> = {
      "cpu:utilization": system(cpuPercent, "percent", { cores: availableParallelism() }),
      "cpu:loadAverage": system(round(load1 ?? 0), "load", {
        "1m": round(load1 ?? 0),
        "5m": round(load5 ?? 0),
        "15m": round(load15 ?? 0),
      }),
      "memory:rss": system(memory.rss, "bytes"),
      "memory:heapUsed": system(memory.heapUsed, "bytes", {
        heapTotalBytes: memory.heapTotal,
        externalBytes: memory.external,
      }),
      "memory:system": system(totalmem() - freemem(), "bytes", { totalBytes: totalmem(), freeBytes: freemem() }),
      "uptime:process": system(round(process.uptime()), "s"),
      "uptime:system": system(round(uptime()), "s"),
      "eventloop:utilization": system(round(elu.utilization * 100), "percent"),
    };
    try {
      const stats = await statfs(dataDir);
      const total = stats.blocks * stats.bsize;
      const free = stats.bavail * stats.bsize;
      checks["disk:free"] = system(free, "bytes", {
        path: dataDir,
        totalBytes: total,
        freePercent: total > 0 ? round((free / total) * 100) : 0,
      });
    } catch (error) {
      checks["disk:free"] = [{ componentType: "system", status: "fail", output: (error as Error).message, time }];
    }
    let status: HealthStatus = "pass";
    for (const name of ["eventloop:delay", "memory:utilization", "disk:free"]) {
      const entry = registry.entries.get(name);
      if (!entry?.result) continue;
      status = worst(status, entry.result.status);
      const shown = checkBody(entry, entry.result);
      if (name === "disk:free")
        checks[name] = [{ ...shown, details: { ...checks[name]?.[0]?.details, ...shown.details } }];
      else checks[name] = [shown];
    }
    return { code: status === "fail" ? 503 : 200, payload: body(describe(status, checks, [])) };
  }

  async function performanceSummary(): Promise<Buffer> {
    const summary: Record<string, unknown> = { time: new Date().toISOString() };
    if (perf) {
      const stats = perf.stats();
      summary.performance = perf.score ? { score: perf.score(stats as never), stats } : { stats };
    }
    if (businessMetrics) {
      try {
        summary.business = await bounded(businessMetrics, timeoutMs);
      } catch (error) {
        summary.business = null;
        summary.businessError = (error as Error).message;
      }
    }
    return body(summary);
  }

  const afterFirstRun = (next: Next, answer: () => void) => {
    if (registry.allChecked()) answer();
    else registry.whenChecked().then(answer, next);
  };
  const guarded =
    (route: Route): Route =>
    (req, res, next) =>
      protect(req, res, (error?: unknown) => {
        if (error !== undefined && error !== null) next(error);
        else route(req, res, next);
      });
  const failed = (res: ServerResponse, next: Next) => (error: unknown) => {
    if (res.headersSent) next(error);
    else sendProblem(res, 500, { detail: "The monitoring endpoint failed." });
    logger.error?.({ code: "ERR_PALISADE_HEALTH_ENDPOINT", error: String(error) }, "healthChecks: endpoint failed");
  };

  const routes = new Map<string, Route>([
    ["/health", (_req, res, next) => afterFirstRun(next, () => send(res, healthCode, HEALTH_JSON, healthBody))],
    [
      "/readiness",
      (_req, res) => {
        if (state !== "ready") send(res, 503, HEALTH_JSON, readinessBodies[state]);
        else if (!registry.allChecked()) send(res, 503, HEALTH_JSON, readinessBodies.starting);
        else if (criticalFailing) send(res, 503, HEALTH_JSON, readinessBodies.failing);
        else send(res, 200, HEALTH_JSON, readinessBodies.pass);
      },
    ],
    [
      "/liveness",
      (_req, res) => {
        if (livenessFailing) send(res, 503, HEALTH_JSON, livenessFail);
        else send(res, 200, HEALTH_JSON, livenessPass);
      },
    ],
    [
      "/health/detailed",
      guarded((_req, res, next) => afterFirstRun(next, () => send(res, healthCode, HEALTH_JSON, detailedBody))),
    ],
    [
      "/database/status",
      guarded((_req, res, next) => afterFirstRun(next, () => send(res, databaseCode, HEALTH_JSON, databaseBody))),
    ],
    [
      "/status",
      guarded((_req, res, next) => {
        systemStatus().then(({ code, payload }) => send(res, code, HEALTH_JSON, payload), failed(res, next));
      }),
    ],
    [
      "/performance/summary",
      guarded((_req, res, next) => {
        performanceSummary().then((payload) => send(res, 200, JSON_TYPE, payload), failed(res, next));
      }),
    ],
    ["/version", guarded((_req, res) => send(res, 200, JSON_TYPE, versionBody))],
  ]);
  if (metrics) routes.set("/metrics", guarded(metrics));

  const middleware = function healthChecksMiddleware(req: IncomingMessage, res: ServerResponse, next: Next): void {
    if (req.method !== "GET" && req.method !== "HEAD") {
      next();
      return;
    }
    let path = req.url ?? "/";
    const query = path.indexOf("?");
    if (query !== -1) path = path.slice(0, query);
    if (path.length > 1 && path.charCodeAt(path.length - 1) === 47) path = path.slice(0, -1);
    const route = routes.get(path);
    if (route === undefined) next();
    else route(req, res, next);
  };

  const stateCheck = optionChecks("setState");
  return Object.defineProperties(middleware, {
    registerCheck: { value: registerCheck },
    unregisterCheck: { value: (name: string) => registry.remove(name) },
    runChecks: {
      value: async () => {
        await registry.runAll();
        return report;
      },
    },
    whenChecked: { value: () => registry.whenChecked() },
    report: { value: () => report },
    state: { get: () => state, enumerable: true },
    setState: {
      value: (next: LifecycleState) => {
        state = stateCheck.oneOf("state", next, LIFECYCLE_STATES, state);
      },
    },
    close: {
      value: () => {
        for (const name of [...registry.entries.keys()]) registry.remove(name);
      },
    },
  }) as unknown as HealthChecks;
}
