import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { currentRequest, PalisadeConfigError, recordTiming, requireRequestScope } from "@palisade/core";
import { createApp, recordingLogger } from "@palisade/test-utils";
import express, { type RequestHandler } from "express";
import { Counter, Registry } from "prom-client";
import request from "supertest";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type PerfTimingMiddleware, perfTiming } from "./perf-timing.js";
import { timed } from "./spans.js";

const instances: PerfTimingMiddleware[] = [];
afterEach(() => {
  for (const instance of instances.splice(0)) instance.close();
});

function timing(options: Parameters<typeof perfTiming>[0] = {}): PerfTimingMiddleware {
  const instance = perfTiming({ logger: recordingLogger(), defaultMetrics: false, ...options });
  instances.push(instance);
  return instance;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// An app whose GET /work records two `db` spans and one `cache` span, one of them from "another package".
function spanApp(middleware: RequestHandler, before: RequestHandler[] = []) {
  const app = express();
  for (const handler of before) app.use(handler);
  app.use(middleware);
  app.get("/work", async (req, res) => {
    await timed(req, "db", () => sleep(2), "select barbers");
    recordTiming(req, { name: "db", durationMs: 1.5 });
    recordTiming(req, { name: "cache", durationMs: 0.25, description: "hit" });
    res.json({ ok: true });
  });
  return app;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// A strict reader of the Prometheus text format: every line must be a comment or a sample.
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus line: ${line}`);
    const labels: Record<string, string> = {};
    const body = sample[2] ?? "";
    const rest = body.replace(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)",?/g,
      (_all, key: string, value: string) => {
        labels[key] = value.replace(/\\(.)/g, (_e, c: string) => (c === "n" ? "\n" : c));
        return "";
      },
    );
    if (rest !== "") throw new Error(`bad labels in: ${line}`);
    // Values are Go floats: case-insensitive NaN and Inf are allowed (prom-client writes `Nan`).
    const raw = sample[3]!;
    const special = /^([+-]?)(inf|nan)$/i.exec(raw);
    let value = Number(raw);
    if (special) value = special[2]!.toLowerCase() === "nan" ? Number.NaN : special[1] === "-" ? -Infinity : Infinity;
    else if (Number.isNaN(value)) throw new Error(`bad value in: ${line}`);
    samples.push({ name: sample[1]!, labels, value });
  }
  return { types, samples };
}

describe("perfTiming()", () => {
  describe("headers", () => {
    it("sets X-Process-Time in milliseconds and a Server-Timing total with the same duration", async () => {
      const res = await request(createApp(timing())).get("/");
      expect(res.headers["x-process-time"]).toMatch(/^\d+\.\d{3}$/);
      expect(res.headers["server-timing"]).toBe(`total;dur=${res.headers["x-process-time"]}`);
      expect(res.headers["timing-allow-origin"]).toBeUndefined();
    });

    it("sends only the total to clients that are not configured, even when spans were recorded", async () => {
      const res = await request(spanApp(timing())).get("/work");
      expect(res.headers["server-timing"]).toMatch(/^total;dur=\d+\.\d{3}$/);
    });

    it("leaves an X-Process-Time the app set alone", async () => {
      const app = createApp(timing(), (_req, res, next) => {
        res.setHeader("X-Process-Time", "app");
        next();
      });
      expect((await request(app).get("/")).headers["x-process-time"]).toBe("app");
    });

    it("keeps an app's Server-Timing entries and appends its own", async () => {
      const app = createApp(timing(), (_req, res, next) => {
        res.setHeader("Server-Timing", 'cdn;desc="edge"');
        next();
      });
      expect((await request(app).get("/")).headers["server-timing"]).toMatch(/^cdn;desc="edge", total;dur=\d+\.\d{3}$/);
    });

    it("sets neither header when writeHead() is given them", async () => {
      const app = express();
      app.use(timing());
      app.get("/", (_req, res) => {
        res.writeHead(200, { "x-process-time": "0", "Server-Timing": "app;dur=1" });
        res.end();
      });
      const res = await request(app).get("/");
      expect(res.headers["x-process-time"]).toBe("0");
      expect(res.headers["server-timing"]).toBe("app;dur=1");
    });

    it("can switch each header off", async () => {
      const res = await request(createApp(timing({ processTimeHeader: false, serverTimingHeader: false }))).get("/");
      expect(res.headers["x-process-time"]).toBeUndefined();
      expect(res.headers["server-timing"]).toBeUndefined();
    });
  });

  describe('with "exposeSpans.clients"', () => {
    it("adds every span, same names summed, descriptions quoted", async () => {
      const res = await request(spanApp(timing({ exposeSpans: { clients: ["loopback"] } }))).get("/work");
      expect(res.headers["server-timing"]).toMatch(
        /^total;dur=\d+\.\d{3}, db;dur=\d+\.\d{3};desc="2 calls", cache;dur=0\.250;desc="hit"$/,
      );
    });

    it("keeps spans from a client outside the list", async () => {
      const res = await request(spanApp(timing({ exposeSpans: { clients: ["10.0.0.0/8"] } }))).get("/work");
      expect(res.headers["server-timing"]).toMatch(/^total;dur=[\d.]+$/);
    });

    it("turns names into tokens and escapes descriptions", async () => {
      const app = express();
      app.use(timing({ exposeSpans: { clients: ["loopback"] } }));
      app.get("/", (req, res) => {
        recordTiming(req, { name: "sql query", durationMs: 1, description: 'say "hi"\r\n\\' });
        res.end();
      });
      expect((await request(app).get("/")).headers["server-timing"]).toMatch(
        /, sql_query;dur=1\.000;desc="say \\"hi\\"\\\\"$/,
      );
    });
  });

  it("enters core's request scope once a package that reads it asked (as sqlite-tuning does)", async () => {
    const app = express();
    app.use(timing({ exposeSpans: { clients: ["loopback"] } }));
    app.get("/", async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      // A module without the request, like a database wrapper.
      const scope = currentRequest();
      if (scope) recordTiming(scope.req, { name: "db", durationMs: 2 });
      res.end();
    });
    expect((await request(app).get("/")).headers["server-timing"]).toMatch(/^total;dur=[\d.]+$/);
    requireRequestScope();
    expect((await request(app).get("/")).headers["server-timing"]).toMatch(/^total;dur=[\d.]+, db;dur=2\.000$/);
  });

  describe('with "exposeSpans.origins"', () => {
    const middleware = () => timing({ exposeSpans: { origins: ["https://admin.example.com"] } });

    it("sends spans and Timing-Allow-Origin to a listed origin, and varies on Origin", async () => {
      const res = await request(spanApp(middleware())).get("/work").set("Origin", "https://admin.example.com");
      expect(res.headers["timing-allow-origin"]).toBe("https://admin.example.com");
      expect(res.headers["server-timing"]).toContain(", db;dur=");
      expect(res.headers.vary).toMatch(/Origin/);
    });

    it("sends only the total and no Timing-Allow-Origin to another origin", async () => {
      const res = await request(spanApp(middleware())).get("/work").set("Origin", "https://evil.example");
      expect(res.headers["timing-allow-origin"]).toBeUndefined();
      expect(res.headers["server-timing"]).toMatch(/^total;dur=[\d.]+$/);
      expect(res.headers.vary).toMatch(/Origin/);
    });
  });

  describe("slow requests", () => {
    function slowApp(middleware: RequestHandler, before: RequestHandler[] = []) {
      const app = express();
      for (const handler of before) app.use(handler);
      app.use(middleware);
      app.get("/reports/:id", async (req, res) => {
        await timed(req, "db", () => sleep(25));
        res.json({ ok: true });
      });
      app.get("/fast", (_req, res) => {
        res.json({ ok: true });
      });
      return app;
    }

    it("logs one structured warning with route template, duration, spans and request id, and counts it", async () => {
      const logger = recordingLogger();
      const middleware = timing({ slowMs: 10, logger });
      const setId: RequestHandler = (req, _res, next) => {
        (req as unknown as { id: string }).id = "req-123";
        next();
      };
      await request(slowApp(middleware, [setId])).get("/reports/42");
      const warnings = logger.withCode("WRN_PALISADE_SLOW_REQUEST");
      expect(warnings).toHaveLength(1);
      const { details, message } = warnings[0]!;
      expect(details).toMatchObject({
        category: "performance",
        method: "GET",
        route: "/reports/:id",
        status: 200,
        thresholdMs: 10,
        requestId: "req-123",
      });
      expect(details.durationMs).toBeGreaterThanOrEqual(25);
      expect((details.spans as Record<string, number>).db).toBeGreaterThanOrEqual(24);
      expect(message).toMatch(/^perfTiming: slow request GET \/reports\/:id took [\d.]+ ms \(threshold 10 ms\)$/);
      const stats = middleware.stats();
      expect(stats.totals.slow).toBe(1);
      expect(stats.routes.find((route) => route.route === "/reports/:id")?.slow).toBe(1);
    });

    it("writes through the request's logger (req.log) when one is mounted", async () => {
      const own = recordingLogger();
      const requestLogger = recordingLogger();
      const attach: RequestHandler = (req, _res, next) => {
        (req as unknown as { log: unknown }).log = requestLogger;
        next();
      };
      await request(slowApp(timing({ slowMs: 10, logger: own }), [attach])).get("/reports/1");
      expect(requestLogger.withCode("WRN_PALISADE_SLOW_REQUEST")).toHaveLength(1);
      expect(own.entries).toHaveLength(0);
    });

    it("logs nothing for a request under the default threshold", async () => {
      const logger = recordingLogger();
      const middleware = timing({ logger });
      await request(slowApp(middleware)).get("/fast");
      expect(logger.entries).toEqual([]);
      expect(middleware.stats().totals.slow).toBe(0);
    });

    it.each([["GET /reports/:id"], ["/reports/:id"]])("applies a per-route threshold keyed %s", async (key) => {
      const logger = recordingLogger();
      const middleware = timing({ slowMs: 10, slowRoutes: { [key]: 60_000 }, logger });
      await request(slowApp(middleware)).get("/reports/7");
      expect(logger.entries).toEqual([]);
      expect(middleware.stats().routes.find((route) => route.route === "/reports/:id")?.slowMs).toBe(60_000);
    });
  });

  describe("statistics", () => {
    it("labels routes by template, including a router's mount path, never by raw URL", async () => {
      const middleware = timing();
      const app = express();
      app.use(middleware);
      const router = express.Router();
      router.get("/items/:id", (_req, res) => {
        res.json({ ok: true });
      });
      app.use("/api", router);
      for (const id of ["1", "2", "3"]) await request(app).get(`/api/items/${id}`);
      await request(app).get("/missing/page");
      const stats = middleware.stats();
      expect(stats.routes.map(({ method, route, requests }) => ({ method, route, requests }))).toEqual([
        { method: "GET", route: "/api/items/:id", requests: 3 },
        { method: "GET", route: "<unmatched>", requests: 1 },
      ]);
      expect(stats.totals).toEqual({ requests: 4, errors: 0, clientErrors: 1, slow: 0, aborted: 0 });
      expect(stats.latency.count).toBe(4);
      expect(stats.latency.p50).toBeGreaterThan(0);
      expect(stats.latency.max).toBeGreaterThanOrEqual(stats.latency.p99);
    });

    it("keeps one router mounted at two paths, and one route under two methods, apart", async () => {
      const middleware = timing();
      const app = express();
      app.use(middleware);
      const router = express.Router();
      router
        .route("/items/:id")
        .get((_req, res) => {
          res.json({ ok: true });
        })
        .delete((_req, res) => {
          res.status(204).end();
        });
      app.use("/a", router);
      app.use("/b", router);
      await request(app).get("/a/items/1");
      await request(app).get("/b/items/1");
      await request(app).get("/b/items/2");
      await request(app).delete("/a/items/1");
      const labels = middleware
        .stats()
        .routes.map(({ method, route, requests }) => `${method} ${route} ${requests}`)
        .sort();
      expect(labels).toEqual(["DELETE /a/items/:id 1", "GET /a/items/:id 1", "GET /b/items/:id 2"]);
    });

    it("counts server errors per route and in the window", async () => {
      const middleware = timing();
      const app = express();
      app.use(middleware);
      app.get("/boom", (_req, res) => {
        res.status(503).end();
      });
      await request(app).get("/boom");
      await request(app).get("/boom");
      const route = middleware.stats().routes[0]!;
      expect(route).toMatchObject({ route: "/boom", requests: 2, errors: 2 });
      expect(route.window).toMatchObject({ count: 2, errors: 2, errorRate: 1 });
    });

    it("caps route labels at maxRoutes, folds the rest into <other> and unmatched URLs into one label", async () => {
      const logger = recordingLogger();
      const middleware = timing({ maxRoutes: 3, logger });
      const app = express();
      app.use(middleware);
      for (let i = 0; i < 6; i++) {
        app.get(`/route${i}/:id`, (_req, res) => {
          res.end();
        });
      }
      for (let i = 0; i < 6; i++) await request(app).get(`/route${i}/x`);
      for (let i = 0; i < 25; i++) await request(app).get(`/unknown/${i}?q=${i}`);
      const stats = middleware.stats();
      expect(stats.routes.map((route) => `${route.route}=${route.requests}`).sort()).toEqual([
        "/route0/:id=1",
        "/route1/:id=1",
        "/route2/:id=1",
        "<other>=3",
        "<unmatched>=25",
      ]);
      expect(stats.routeLabels).toEqual({ used: 3, max: 3, overflowed: true });
      expect(logger.withCode("WRN_PALISADE_ROUTE_CARDINALITY")).toHaveLength(1);
      expect(JSON.stringify(stats)).not.toMatch(/unknown\/\d/);
    });

    it("counts a request whose client went away before the response as aborted", async () => {
      const middleware = timing();
      const app = express();
      app.use(middleware);
      let arrived!: () => void;
      const reached = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      app.get("/hold", async (_req, res) => {
        arrived();
        await held;
        res.end();
      });
      const server = app.listen(0, "127.0.0.1");
      await once(server, "listening");
      try {
        const client = http.get({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, path: "/hold" });
        client.on("error", () => {});
        await reached;
        client.destroy();
        await vi.waitFor(() => expect(middleware.stats().totals.aborted).toBe(1));
        expect(middleware.stats().routes[0]).toMatchObject({ route: "/hold", requests: 1, aborted: 1 });
      } finally {
        release();
        server.close();
      }
    });

    it("folds unknown methods into OTHER", async () => {
      const middleware = timing();
      const app = express();
      app.use(middleware);
      await request(app).search("/");
      expect(middleware.stats().routes[0]).toMatchObject({ method: "OTHER", route: "<unmatched>" });
    });

    it("uses routeLabel for apps that route without Express", async () => {
      const middleware = timing({ routeLabel: (req) => (req.url?.startsWith("/v1/") ? "/v1/*" : undefined) });
      const app = express();
      app.use(middleware);
      app.use((_req, res) => {
        res.end();
      });
      await request(app).get("/v1/a");
      await request(app).get("/other");
      expect(
        middleware
          .stats()
          .routes.map((route) => route.route)
          .sort(),
      ).toEqual(["/v1/*", "<unmatched>"]);
    });

    it("reports event-loop delay, utilisation and memory", () => {
      const stats = timing().stats();
      expect(stats.eventLoop.delay.p99).toBeGreaterThanOrEqual(0);
      expect(stats.eventLoop.utilization).toBeGreaterThanOrEqual(0);
      expect(stats.eventLoop.utilization).toBeLessThanOrEqual(1);
      expect(stats.memory.heapUsed).toBeGreaterThan(0);
      expect(stats.memory.rss).toBeGreaterThan(stats.memory.heapUsed);
      expect(stats.windowMs).toBe(60_000);
    });

    it("scores its own snapshot", async () => {
      const middleware = timing();
      await request(createApp(middleware)).get("/");
      expect(middleware.score()).toBeGreaterThan(0);
      expect(middleware.score()).toBeLessThanOrEqual(100);
    });
  });

  describe("Prometheus", () => {
    async function scrape(middleware: PerfTimingMiddleware, requests: (app: express.Express) => Promise<void>) {
      const app = express();
      app.use(middleware);
      app.get("/bookings/:id", (_req, res) => {
        res.json({ ok: true });
      });
      app.get("/fail", (_req, res) => {
        res.status(500).end();
      });
      app.get("/metrics", middleware.metricsHandler());
      await requests(app);
      return request(app).get("/metrics");
    }

    it("serves a parseable exposition with the duration histogram by method, route and status class", async () => {
      const res = await scrape(timing(), async (app) => {
        for (const id of [1, 2, 3]) await request(app).get(`/bookings/${id}`);
        await request(app).get("/fail");
      });
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
      const { types, samples } = parseExposition(res.text);
      expect(types.get("http_request_duration_seconds")).toBe("histogram");
      const ok = { method: "GET", route: "/bookings/:id", status_class: "2xx" };
      const count = samples.find((s) => s.name === "http_request_duration_seconds_count" && matches(s, ok));
      expect(count?.value).toBe(3);
      const buckets = samples.filter((s) => s.name === "http_request_duration_seconds_bucket" && matches(s, ok));
      expect(buckets.map((s) => s.labels.le)).toEqual([
        "0.005",
        "0.01",
        "0.025",
        "0.05",
        "0.1",
        "0.25",
        "0.5",
        "1",
        "2.5",
        "5",
        "10",
        "+Inf",
      ]);
      expect(buckets.at(-1)?.value).toBe(3);
      const values = buckets.map((s) => s.value);
      expect(values).toEqual([...values].sort((a, b) => a - b));
      const failed = samples.find(
        (s) => s.name === "http_request_duration_seconds_count" && matches(s, { route: "/fail", status_class: "5xx" }),
      );
      expect(failed?.value).toBe(1);
    });

    it("collects prom-client's default process metrics unless switched off", async () => {
      const withDefaults = timing({ defaultMetrics: true });
      const res = await scrape(withDefaults, async () => {});
      expect(parseExposition(res.text).types.get("process_cpu_user_seconds_total")).toBe("counter");
      const without = await scrape(timing(), async () => {});
      expect(parseExposition(without.text).types.has("process_cpu_user_seconds_total")).toBe(false);
    });

    it("starts the default metrics when the registry is first read, not at construction", async () => {
      const registry = new Registry();
      const middleware = timing({ registry, defaultMetrics: true });
      expect(registry.getSingleMetric("process_cpu_user_seconds_total")).toBeUndefined();
      expect(middleware.registry).toBe(registry);
      expect(registry.getSingleMetric("process_cpu_user_seconds_total")).toBeDefined();
    });

    it("writes into a registry the app passes, next to the app's own metrics", async () => {
      const registry = new Registry();
      const bookings = new Counter({ name: "bookings_created_total", help: "Bookings.", registers: [registry] });
      bookings.inc(2);
      const middleware = timing({ registry, buckets: [0.1, 1] });
      expect(middleware.registry).toBe(registry);
      const res = await scrape(middleware, async (app) => {
        await request(app).get("/bookings/1");
      });
      const { samples } = parseExposition(res.text);
      expect(samples.find((s) => s.name === "bookings_created_total")?.value).toBe(2);
      expect(samples.filter((s) => s.name === "http_request_duration_seconds_bucket").map((s) => s.labels.le)).toEqual([
        "0.1",
        "1",
        "+Inf",
      ]);
    });

    it("puts each duration in its bucket, and agrees between text, JSON and after a reset", async () => {
      const registry = new Registry();
      const middleware = timing({ registry, buckets: [0.02, 5] });
      const app = createApp();
      app.use(middleware);
      app.get("/slow", (_req, res) => {
        setTimeout(() => res.end("ok"), 40);
      });
      await request(app).get("/slow");
      await request(app).get("/slow");
      const series = { method: "GET", route: "/slow", status_class: "2xx" };
      const { samples } = parseExposition(await registry.metrics());
      const bucket = (le: string) =>
        samples.find((s) => s.name === "http_request_duration_seconds_bucket" && matches(s, { ...series, le }))?.value;
      expect([bucket("0.02"), bucket("5"), bucket("+Inf")]).toEqual([0, 2, 2]);
      const sum = samples.find((s) => s.name === "http_request_duration_seconds_sum" && matches(s, series))?.value;
      expect(sum).toBeGreaterThanOrEqual(0.08);
      expect(sum).toBeLessThan(10);

      const [json] = (await registry.getMetricsAsJSON()).filter((m) => m.name === "http_request_duration_seconds");
      expect(json?.type).toBe("histogram");
      const jsonCount = json?.values.find(
        (v) => (v as { metricName?: string }).metricName === "http_request_duration_seconds_count",
      );
      expect(jsonCount).toMatchObject({ value: 2, labels: series });

      registry.resetMetrics();
      expect(parseExposition(await registry.metrics()).samples).toEqual([]);
      await request(app).get("/slow");
      expect(
        parseExposition(await registry.metrics()).samples.find(
          (s) => s.name === "http_request_duration_seconds_count" && matches(s, series),
        )?.value,
      ).toBe(1);
    });

    it("refuses a second instance on the same registry", () => {
      const registry = new Registry();
      timing({ registry });
      expect(() => timing({ registry })).toThrow(
        "perfTiming: option `registry` already holds a metric named `http_request_duration_seconds`",
      );
    });

    it("has no metricsHandler with prometheus: false", () => {
      const middleware = timing({ prometheus: false, defaultMetrics: undefined });
      expect(middleware.registry).toBeUndefined();
      expect(() => middleware.metricsHandler()).toThrow(PalisadeConfigError);
    });
  });

  describe("options", () => {
    function thrown(options: Record<string, unknown>): PalisadeConfigError {
      try {
        perfTiming(options as Parameters<typeof perfTiming>[0]).close();
      } catch (error) {
        if (error instanceof PalisadeConfigError) return error;
        throw error;
      }
      throw new Error("expected a PalisadeConfigError");
    }

    it.each([
      [{ slowMS: 5 }, "perfTiming: unknown option `slowMS`. Did you mean `slowMs`?"],
      [
        { exposeSpans: { origin: [] } },
        "perfTiming: unknown option `exposeSpans.origin`. Did you mean `exposeSpans.origins`?",
      ],
      [{ slowMs: -1 }, "perfTiming: option `slowMs` must be a non-negative number, got -1."],
      [{ maxRoutes: 0 }, "perfTiming: option `maxRoutes` must be a positive integer, got 0."],
      [{ windowMs: 10 }, "perfTiming: option `windowMs` must be a number of at least 1000, got 10."],
      [
        { exposeSpans: { origins: ["https://a.example/path"] } },
        'perfTiming: option `exposeSpans.origins` must be a list of origins like "https://admin.example.com", got "https://a.example/path".',
      ],
      [
        { buckets: [1, 0.5] },
        "perfTiming: option `buckets` must be a non-empty array of increasing positive numbers (seconds), got an array.",
      ],
      [
        { prometheus: false, registry: new Registry() },
        "perfTiming: option `registry` has no effect with `prometheus: false`; remove one of them.",
      ],
      [{ slowRoutes: { "/x": "5" } }, 'perfTiming: option `slowRoutes["/x"]` must be a non-negative number, got "5".'],
      [
        { slowRoutes: { "get /x": 5 } },
        'perfTiming: option `slowRoutes` must be keyed by "/route/:template" or "METHOD /route/:template" (method in capitals), got "get /x".',
      ],
    ])("rejects %j", (options, message) => {
      expect(thrown(options).message).toBe(message);
    });

    it("names the option of a bad client range", () => {
      const error = thrown({ exposeSpans: { clients: ["10.0.0.0/99"] } });
      expect(error.option).toBe("exposeSpans.clients");
      expect(error.message).toMatch(/^perfTiming: option `exposeSpans.clients` must list IP addresses/);
    });
  });
});

function matches(sample: Sample, labels: Record<string, string>): boolean {
  return Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
}
