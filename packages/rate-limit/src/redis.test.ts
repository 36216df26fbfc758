import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type RedisServer, recordingLogger, startRedis } from "@palisade/test-utils";
import express from "express";
import { createClient } from "redis";
import request from "supertest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rateLimit } from "./index.js";

const redis: RedisServer | undefined = await startRedis();
const fixture = fileURLToPath(new URL("../test-fixtures/login-server.ts", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));

function connect(url: string) {
  const client = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: () => 50 } });
  client.on("error", () => {});
  return client;
}

function startInstance(url: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(fixture, [], {
      cwd: root,
      execArgv: ["--import", "tsx", "--conditions=@palisade/source"],
      env: { ...process.env, REDIS_URL: url },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", (message) =>
      resolve({ child, url: `http://127.0.0.1:${(message as { port: number }).port}` }),
    );
    child.once("exit", (code) => reject(new Error(`login server exited with ${code}`)));
  });
}

describe.skipIf(!redis)("rateLimit() with a real redis-server", () => {
  const admin = connect(redis?.url ?? "");

  beforeAll(async () => {
    await admin.connect();
  });

  beforeEach(async () => {
    if (!admin.isReady) await admin.connect();
    await admin.flushAll();
  });

  afterAll(async () => {
    if (admin.isOpen) await admin.quit();
    await redis?.stop();
  });

  it("lets exactly `limit` login attempts through across two processes, whatever the interleaving", async () => {
    const instances = await Promise.all([startInstance(redis!.url), startInstance(redis!.url)]);
    try {
      const attempts = Array.from({ length: 16 }, (_, i) =>
        request(instances[i % 2]!.url)
          .post("/api/auth/login")
          .send({ email: "alice@example.com", password: `guess-${i}` })
          .then((response) => response.status),
      );
      const codes = await Promise.all(attempts);
      expect(codes.filter((code) => code === 401)).toHaveLength(5);
      expect(codes.filter((code) => code === 429)).toHaveLength(11);
    } finally {
      for (const { child } of instances) child.disconnect();
    }
  });

  it("puts the address in the penalty box for every instance", async () => {
    const instances = await Promise.all([startInstance(redis!.url), startInstance(redis!.url)]);
    try {
      for (let i = 0; i < 5; i++) {
        await request(instances[i % 2]!.url)
          .post("/api/auth/login")
          .send({ email: `u${i}@example.com` });
      }
      const boxed = await request(instances[1]!.url).post("/api/auth/login").send({ email: "new@example.com" });
      expect(boxed.status).toBe(429);
      expect(boxed.body.reason).toBe("penalty");
      expect(await admin.pTTL("palisade:rl:sensitive:pb:ip:127.0.0.1")).toBeGreaterThan(890_000);
    } finally {
      for (const { child } of instances) child.disconnect();
    }
  });

  it("fails closed for sensitive and open for api while Redis is down, warns once each, and recovers", async () => {
    const client = connect(redis!.url);
    await client.connect();
    const logger = recordingLogger();
    const sensitive = rateLimit({ preset: "sensitive", redis: client, logger, storeTimeoutMs: 500 });
    const api = rateLimit({ preset: "api", redis: client, logger, storeTimeoutMs: 500 });
    const app = express();
    app.use(express.json());
    app.post("/login", sensitive, (_req, res) => {
      res.status(401).json({ ok: false });
    });
    app.get("/api", api, (_req, res) => {
      res.json({ ok: true });
    });
    const login = () => request(app).post("/login").send({ email: "alice@example.com" });

    try {
      expect((await login()).status).toBe(401);
      expect((await request(app).get("/api")).headers.ratelimit).toMatch(/^"api";r=299;/);

      await redis!.stop(true);
      for (let i = 0; i < 3; i++) {
        const refused = await login();
        expect(refused.status).toBe(503);
        expect(refused.body).toMatchObject({ status: 503, reason: "store-unavailable" });
        const passed = await request(app).get("/api");
        expect(passed.status).toBe(200);
        expect(passed.headers.ratelimit).toBeUndefined();
      }
      const warnings = logger.withCode("WRN_PALISADE_RATE_LIMIT_STORE_DOWN");
      expect(warnings.map((entry) => [entry.details.limiter, entry.details.policy]).sort()).toEqual([
        ["api", "open"],
        ["sensitive", "closed"],
      ]);

      await redis!.restart();
      let status = 0;
      for (let i = 0; i < 100 && status !== 401; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await login()).status;
      }
      expect(status).toBe(401);
      let limited = "";
      for (let i = 0; i < 100 && !limited; i++) {
        limited = (await request(app).get("/api")).headers.ratelimit ?? "";
      }
      expect(limited).toMatch(/^"api";r=299;/);
      expect(logger.withCode("WRN_PALISADE_RATE_LIMIT_STORE_DOWN")).toHaveLength(2);
      expect(
        logger
          .withCode("INF_PALISADE_RATE_LIMIT_STORE_UP")
          .map((entry) => entry.details.limiter)
          .sort(),
      ).toEqual(["api", "sensitive"]);
    } finally {
      if (client.isOpen) await client.quit().catch(() => {});
    }
  });
});
