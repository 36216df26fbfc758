import { join } from "node:path";
import { tempDir } from "@palisade/test-utils";
import type { Express } from "express";
import request from "supertest";
import { createPlatform } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import type { AuditEventName } from "../src/context.js";
import { type DB, openDatabase } from "../src/db.js";
import { DEMO_PASSWORD, seed } from "../src/seed.js";

/** Tests run at a pinned instant: Tuesday 1 December 2026, 08:00 UTC. */
export const NOW = new Date("2026-12-01T08:00:00Z");
export const TOMORROW = "2026-12-02";
export { DEMO_PASSWORD };

export interface TestServer {
  app: Express;
  db: DB;
  file: string;
  events: { name: AuditEventName; detail: Record<string, unknown> }[];
  cleanup(): Promise<void>;
  login(email: string, password?: string): Promise<string>;
}

/** The booking app on a fresh seeded SQLite file in a temp dir, with admin@example.com as admin. */
export async function bookingServer({ relaxedLimits = false } = {}): Promise<TestServer> {
  const dir = tempDir("booking-test-");
  const file = join(dir.path, "booking.db");
  const config = loadConfig({ NODE_ENV: "test", DATABASE_FILE: file, LOG_DIR: dir.path });
  const db = openDatabase(file);
  await seed(db, { adminEmail: "admin@example.com", adminPassword: "admin-password-1" });
  const events: TestServer["events"] = [];
  const platform = createPlatform({
    config,
    db,
    relaxedLimits,
    now: () => NOW,
    audit: (_req, name, detail) => events.push({ name, detail }),
  });
  const app = platform.app;
  return {
    app,
    db,
    file,
    events,
    async cleanup() {
      await platform.close();
      db.close();
      dir.cleanup();
    },
    async login(email, password = DEMO_PASSWORD) {
      const res = await request(app).post("/api/auth/login").send({ email, password });
      if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.text}`);
      return res.body.token as string;
    },
  };
}

export const count = (db: DB, table: string) =>
  (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

/**
 * The field a 400 names: the route's own validation answers `field`, the input sanitizer's
 * format checks (which run first) answer `invalidFields: [{ field: "body.email" }]`.
 */
export function fieldOf(body: { field?: string; invalidFields?: { field: string }[] }): string | undefined {
  return body.field ?? body.invalidFields?.[0]?.field.replace(/^(body|query|params)\./, "");
}
