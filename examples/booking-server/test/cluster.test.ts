import { join } from "node:path";
import { tempDir } from "@palisade/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db.js";
import { type ServerProcess, startServer } from "./process.js";

// WORKERS=2: two processes share the port and the SQLite file (WAL); the booking
// transaction is BEGIN IMMEDIATE, so the double-booking guard holds across processes.

const dir = tempDir("booking-cluster-");
const file = join(dir.path, "booking.db");
let server: ServerProcess;

beforeAll(async () => {
  // Clients come through a trusted loopback proxy, each with its own address, as real customers
  // behind a load balancer would (one address for all would meet the login limit).
  server = await startServer({ WORKERS: "2", DATABASE_FILE: file, LOG_DIR: dir.path, TRUST_PROXY: "loopback" });
});

afterAll(async () => {
  await server?.stop();
  dir.cleanup();
});

async function post(path: string, body: unknown, client: number, token?: string) {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": `198.51.100.${client + 1}`,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

describe("WORKERS=2", () => {
  it("serves from two worker processes", async () => {
    const listening = () => new Set(server.output().match(/"pid":\d+,"msg":"booking server listening/g) ?? []);
    for (let i = 0; i < 150 && listening().size < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(listening().size).toBe(2);
  });

  it("lets exactly one of many concurrent bookings of one slot win across processes", async () => {
    const tokens = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const email = `cluster${i}@example.com`;
        await post("/api/auth/register", { email, password: "cluster-pass-1", name: `Cluster ${i}` }, i);
        return (await post("/api/auth/login", { email, password: "cluster-pass-1" }, i)).body.token as string;
      }),
    );
    expect(tokens.every(Boolean)).toBe(true);
    const start = new Date(Date.now() + 3 * 24 * 3600_000);
    start.setUTCHours(11, 0, 0, 0);
    const attempts = await Promise.all(
      tokens.map((token, i) =>
        post("/api/appointments", { barberId: 1, serviceId: 1, startTime: start.toISOString() }, i, token),
      ),
    );
    const statuses = attempts.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(tokens.length - 1);
    const db = openDatabase(file);
    try {
      const rows = db
        .prepare("SELECT count(*) AS n FROM appointments WHERE start_time = ?")
        .get(start.toISOString()) as { n: number };
      expect(rows.n).toBe(1);
    } finally {
      db.close();
    }
  });
});
