import { attachTimingSink, enterRequestScope, type TimingEntry } from "@palisade/core";
import { createApp, recordingLogger, type TempSqlite, tempSqlite } from "@palisade/test-utils";
import request from "supertest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adviseIndexes } from "./advisor.js";
import { instrument, type SlowQuery } from "./instrument.js";

let temp: TempSqlite;
beforeEach(() => {
  temp = tempSqlite();
  temp.db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, role TEXT)");
  // A function that burns time deterministically, to make one query slow without sleeping.
  temp.db.function("spin", (n: number) => {
    let x = 0;
    for (let i = 0; i < n; i++) x += Math.sqrt(i);
    return x > -1 ? 1 : 0;
  });
});
afterEach(() => temp.cleanup());

describe("instrument()", () => {
  it("counts every run, get, all and iterate per statement", () => {
    const metrics = instrument(temp.db);
    const insert = temp.db.prepare("INSERT INTO users (email, role) VALUES (?, ?)");
    insert.run("a@example.com", "client");
    insert.run("b@example.com", "barber");
    const byRole = temp.db.prepare("SELECT * FROM users WHERE role = ?");
    byRole.get("client");
    byRole.all("barber");
    expect([...byRole.iterate("client")]).toHaveLength(1);
    const stats = metrics.stats();
    expect(stats.map(({ sql, count, errors }) => ({ sql, count, errors }))).toEqual(
      expect.arrayContaining([
        { sql: "INSERT INTO users (email, role) VALUES (?, ?)", count: 2, errors: 0 },
        { sql: "SELECT * FROM users WHERE role = ?", count: 3, errors: 0 },
      ]),
    );
    const select = stats.find((entry) => entry.sql.startsWith("SELECT"))!;
    expect(select.p50).toBeGreaterThan(0);
    expect(select.p99).toBeGreaterThanOrEqual(select.p50!);
    expect(select.p99).toBeLessThanOrEqual(select.maxMs);
  });

  it("keeps statements working and their results unchanged", () => {
    instrument(temp.db);
    const insert = temp.db.prepare("INSERT INTO users (email, role) VALUES (?, ?)");
    expect(insert.run("a@example.com", "client")).toEqual({ changes: 1, lastInsertRowid: 1 });
    expect(temp.db.prepare("SELECT email FROM users").pluck().get()).toBe("a@example.com");
    expect(() => temp.db.prepare("SELECT * FROM users WHERE id = ?").get()).toThrow(RangeError);
  });

  it("counts errors", () => {
    const metrics = instrument(temp.db);
    temp.db.exec("CREATE UNIQUE INDEX users_email ON users (email)");
    const insert = temp.db.prepare("INSERT INTO users (email) VALUES (?)");
    insert.run("a@example.com");
    expect(() => insert.run("a@example.com")).toThrow(/UNIQUE/);
    expect(metrics.stats().find((entry) => entry.sql.startsWith("INSERT"))).toMatchObject({ count: 2, errors: 1 });
  });

  it("reports a slow query with its SQL redacted and its plan", () => {
    const slow: SlowQuery[] = [];
    instrument(temp.db, { slowMs: 0, onSlow: (query) => slow.push(query) });
    temp.db.prepare("SELECT * FROM users WHERE email = 'alice@example.com' AND role = ?").all("admin");
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatchObject({
      sql: "SELECT * FROM users WHERE email = ? AND role = ?",
      method: "all",
      paramCount: 1,
      plan: ["SCAN users"],
    });
    expect(JSON.stringify(slow)).not.toContain("alice");
    expect(JSON.stringify(slow)).not.toContain("admin");
  });

  it("does not report queries under slowMs", () => {
    const slow: SlowQuery[] = [];
    const metrics = instrument(temp.db, { slowMs: 60_000, onSlow: (query) => slow.push(query) });
    temp.db.prepare("SELECT spin(1000)").get();
    expect(slow).toEqual([]);
    expect(metrics.stats()[0]!.slow).toBe(0);
  });

  it("logs slow queries with WRN_PALISADE_SLOW_QUERY when no onSlow is given, once per statement per minute", () => {
    const logger = recordingLogger();
    instrument(temp.db, { slowMs: 0, logger });
    const statement = temp.db.prepare("SELECT spin(10) FROM users WHERE id > 41");
    statement.all();
    statement.all();
    const entries = logger.withCode("WRN_PALISADE_SLOW_QUERY");
    expect(entries).toHaveLength(1);
    expect(entries[0]!.details).toMatchObject({ sql: "SELECT spin(?) FROM users WHERE id > ?" });
    expect(entries[0]!.message).toMatch(/^instrument: slow query \(\d+\.\d ms\): SELECT spin\(\?\) FROM users/);
  });

  it("adds a db timing to the request it runs in", async () => {
    instrument(temp.db);
    const count = temp.db.prepare("SELECT COUNT(*) AS n FROM users");
    const timings: TimingEntry[] = [];
    const app = createApp((req, res, next) => {
      attachTimingSink(req, (entry) => timings.push(entry));
      enterRequestScope(req, res, next);
    });
    app.get("/count", (_req, res) => {
      res.json(count.get());
    });
    await request(app).get("/count").expect(200, { n: 0 });
    expect(timings).toHaveLength(1);
    expect(timings[0]!.name).toBe("db");
    expect(timings[0]!.durationMs).toBeGreaterThan(0);
  });

  it("lists the statements it saw, for the index advisor", () => {
    const metrics = instrument(temp.db);
    temp.db.prepare("SELECT * FROM users WHERE role = ?").all("x");
    temp.db.prepare("INSERT INTO users (email) VALUES (?)").run("x");
    temp.db.exec("BEGIN; COMMIT");
    expect(metrics.statements()).toEqual(["SELECT * FROM users WHERE role = ?"]);
  });

  it("hands the statements observed at run time to the index advisor", () => {
    const metrics = instrument(temp.db);
    temp.db.prepare("SELECT id FROM users WHERE role = ? ORDER BY email").all("barber");
    const advice = adviseIndexes(temp.db, { queries: metrics.statements() });
    expect(advice.indexes.map((index) => index.sql)).toEqual([
      "CREATE INDEX IF NOT EXISTS idx_users_role_email ON users (role, email)",
    ]);
  });

  it("bounds the statements it tracks", () => {
    const metrics = instrument(temp.db, { maxStatements: 2 });
    for (let i = 0; i < 5; i++) temp.db.prepare(`SELECT ${i} FROM users`).all();
    expect(metrics.stats().map((entry) => [entry.sql, entry.count])).toEqual(
      expect.arrayContaining([
        ["SELECT ? FROM users", 1],
        ["(other statements)", 3],
      ]),
    );
    expect(metrics.stats()).toHaveLength(3);
  });

  it("stops timing after stop()", () => {
    const metrics = instrument(temp.db);
    const statement = temp.db.prepare("SELECT 1");
    statement.get();
    metrics.stop();
    statement.get();
    expect(metrics.stats()[0]!.count).toBe(1);
  });

  it("rejects a misspelled option", () => {
    expect(() => instrument(temp.db, { slowMS: 5 } as never)).toThrow(
      "instrument: unknown option `slowMS`. Did you mean `slowMs`?",
    );
  });
});
