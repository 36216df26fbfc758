import { writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { verifyAuditTrail } from "@palisade/audit-log";
import { tempDir } from "@palisade/test-utils";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { type ServerProcess, startServer } from "./process.js";

// Faults against the real server process: kill -9 mid-load, SIGTERM mid-load, an unusable LOG_DIR.

const KEY = "fault-test-audit-key-0123456789abcdef";
const dir = tempDir("booking-faults-");
afterAll(() => dir.cleanup());

function env(name: string, extra: Record<string, string> = {}) {
  return {
    DATABASE_FILE: join(dir.path, `${name}.db`),
    LOG_DIR: join(dir.path, `${name}-logs`),
    AUDIT_HMAC_KEY: KEY,
    TRUST_PROXY: "loopback",
    DRAIN_DELAY_MS: "300",
    ...extra,
  };
}

async function call(
  server: ServerProcess,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

async function clients(server: ServerProcess, count: number) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const ip = { "x-forwarded-for": `203.0.113.${i + 1}` };
      const email = `fault${i}@example.com`;
      await call(server, "POST", "/api/auth/register", { email, password: "fault-pass-1", name: `Fault ${i}` }, ip);
      const login = await call(server, "POST", "/api/auth/login", { email, password: "fault-pass-1" }, ip);
      return { ...ip, authorization: `Bearer ${login.body.token}` };
    }),
  );
}

function slot(n: number) {
  const start = new Date(Date.now() + (2 + Math.floor(n / 24)) * 24 * 3600_000);
  start.setUTCHours(9 + Math.floor((n % 24) / 3), (n % 3) * 15, 0, 0);
  return { barberId: 1 + (n % 3), serviceId: 2, startTime: start.toISOString() };
}

describe("kill -9 while bookings are being created", () => {
  it("loses no acknowledged booking; the database and the audit chain check out after restart", async () => {
    const first = await startServer(env("crash"));
    const users = await clients(first, 8);
    const acknowledged: number[] = [];
    let next = 0;
    let killed = false;
    const worker = async (headers: Record<string, string>) => {
      while (!killed && next < 600) {
        const n = next++;
        try {
          const res = await call(first, "POST", "/api/appointments", slot(n), headers);
          if (res.status === 201) acknowledged.push((res.body.appointment as { id: number }).id);
          if (acknowledged.length >= 60 && !killed) {
            killed = true;
            first.child.kill("SIGKILL");
          }
        } catch {
          // Requests in flight when the process died: not acknowledged, so not counted.
        }
      }
    };
    await Promise.all(users.map(worker));
    await first.stop("SIGKILL");
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);

    const db = new Database(env("crash").DATABASE_FILE, { readonly: true });
    try {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      const stored = new Set((db.prepare("SELECT id FROM appointments").all() as { id: number }[]).map((r) => r.id));
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      db.close();
    }
    const verified = verifyAuditTrail(env("crash").LOG_DIR, Buffer.from(KEY));
    expect(verified.ok).toBe(true);

    const second = await startServer(env("crash"));
    try {
      const mine = await call(second, "GET", "/api/appointments", undefined, users[0]!);
      expect(mine.status).toBe(200);
    } finally {
      await second.stop();
    }
  });
});

describe("SIGTERM under keep-alive load", () => {
  it("fails no request sent before readiness turned 503 and exits 0", async () => {
    const server = await startServer(env("drain"));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        // Many clients behind the trusted proxy: one address would meet the api rate limit.
        const headers = { "x-forwarded-for": `10.0.${(Math.random() * 250) | 0}.${((Math.random() * 250) | 0) + 1}` };
        const req = http.get(`${server.url}${path}`, { agent, headers }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
      });
    let notReadyAt = Number.POSITIVE_INFINITY;
    const failuresBefore503: string[] = [];
    let completed = 0;
    let stop = false;
    const loop = async () => {
      while (!stop) {
        const sentAt = performance.now();
        try {
          const status = await get("/api/services");
          if (status === 200) completed++;
          else if (sentAt < notReadyAt) failuresBefore503.push(`HTTP ${status}`);
        } catch (error) {
          if (sentAt < notReadyAt) failuresBefore503.push((error as Error).message);
          if (performance.now() > notReadyAt) return;
        }
      }
    };
    const poll = async () => {
      while (!stop) {
        try {
          if ((await get("/monitoring/readiness")) === 503) {
            notReadyAt = performance.now();
            return;
          }
        } catch {
          notReadyAt = performance.now();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const loops = Array.from({ length: 6 }, loop);
    const watcher = poll();
    await new Promise((resolve) => setTimeout(resolve, 800));
    const exited = server.stop("SIGTERM");
    await watcher;
    const code = await exited;
    stop = true;
    await Promise.all(loops);
    agent.destroy();
    expect(completed).toBeGreaterThan(50);
    expect(failuresBefore503).toEqual([]);
    expect(code).toBe(0);
  });
});

describe("LOG_DIR that cannot be written", () => {
  it("keeps serving and reports the fault on /monitoring/health/detailed", async () => {
    const blocker = join(dir.path, "not-a-directory");
    writeFileSync(blocker, "a file where the log directory should be");
    const server = await startServer(env("nolog", { LOG_DIR: join(blocker, "logs") }));
    try {
      expect((await call(server, "GET", "/api/services")).status).toBe(200);
      let detailed = await call(server, "GET", "/monitoring/health/detailed");
      for (let i = 0; i < 50 && !detailed.body.checks; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        detailed = await call(server, "GET", "/monitoring/health/detailed");
      }
      const checks = detailed.body.checks as Record<string, { status: string; output?: string }[]>;
      expect(checks["logs:writable"]?.[0]?.status).toBe("fail");
      expect(checks["logs:writable"]?.[0]?.output).toMatch(/LOG_DIR was unusable at start/);
      expect(detailed.body.status).toBe("warn");
    } finally {
      await server.stop();
    }
  });
});
