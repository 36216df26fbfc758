import { PalisadeConfigError } from "@palisade/core";
import { type TempSqlite, tempSqlite } from "@palisade/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adviseIndexes, expectNoFullScans } from "./advisor.js";
import { applyIndexes } from "./apply.js";

const SCHEMA = `
  CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, role TEXT, is_active INTEGER);
  CREATE TABLE services (id INTEGER PRIMARY KEY, name TEXT, duration_minutes INTEGER, price_cents INTEGER);
  CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    barber_id INTEGER NOT NULL REFERENCES users (id),
    client_id INTEGER NOT NULL REFERENCES users (id),
    service_id INTEGER NOT NULL REFERENCES services (id),
    start_time TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
`;

const BARBER_DAY =
  "SELECT id, start_time FROM appointments WHERE barber_id = ? AND start_time >= ? AND start_time < ? ORDER BY start_time";

let temp: TempSqlite;
beforeEach(() => {
  temp = tempSqlite();
  temp.db.exec(SCHEMA);
});
afterEach(() => temp.cleanup());

describe("adviseIndexes()", () => {
  it("finds every foreign key no index starts with", () => {
    const advice = adviseIndexes(temp.db);
    expect(advice.findings.filter((f) => f.kind === "unindexed-foreign-key").map((f) => f.columns)).toEqual([
      ["barber_id"],
      ["client_id"],
      ["service_id"],
    ]);
    expect(advice.indexes.map((index) => index.sql)).toEqual([
      "CREATE INDEX IF NOT EXISTS idx_appointments_barber_id ON appointments (barber_id)",
      "CREATE INDEX IF NOT EXISTS idx_appointments_client_id ON appointments (client_id)",
      "CREATE INDEX IF NOT EXISTS idx_appointments_service_id ON appointments (service_id)",
    ]);
  });

  it("does not report a foreign key an existing index starts with", () => {
    temp.db.exec("CREATE INDEX a_barber_day ON appointments (barber_id, start_time)");
    const advice = adviseIndexes(temp.db);
    expect(advice.findings.map((f) => f.columns?.[0])).toEqual(["client_id", "service_id"]);
  });

  it("proposes a composite index when a query filters on one column and orders on another", () => {
    const advice = adviseIndexes(temp.db, { queries: [BARBER_DAY], foreignKeys: false });
    expect(advice.findings.map((f) => [f.kind, f.plan])).toEqual([
      ["full-scan", "SCAN appointments"],
      ["temp-b-tree", "USE TEMP B-TREE FOR ORDER BY"],
    ]);
    expect(advice.indexes).toEqual([
      {
        name: "idx_appointments_barber_id_start_time",
        table: "appointments",
        columns: ["barber_id", "start_time"],
        sql: "CREATE INDEX IF NOT EXISTS idx_appointments_barber_id_start_time ON appointments (barber_id, start_time)",
        reasons: [`full-scan + temp-b-tree in: ${BARBER_DAY}`],
      },
    ]);
    expect(advice.queries[0]!.planWithIndexes).toEqual([
      "SEARCH appointments USING COVERING INDEX idx_appointments_barber_id_start_time (barber_id=? AND start_time>? AND start_time<?)",
    ]);
  });

  it("folds the foreign-key index into the composite that starts with it", () => {
    const advice = adviseIndexes(temp.db, { queries: [BARBER_DAY] });
    expect(advice.indexes.map((index) => index.name)).toEqual([
      "idx_appointments_barber_id_start_time",
      "idx_appointments_client_id",
      "idx_appointments_service_id",
    ]);
    const fk = advice.findings.find((f) => f.kind === "unindexed-foreign-key" && f.columns?.[0] === "barber_id");
    expect(fk?.index).toBe("idx_appointments_barber_id_start_time");
  });

  it("puts the equality column before the range column, through aliases and joins", () => {
    const sql =
      "SELECT a.id, s.name FROM appointments AS a JOIN services s ON s.id = a.service_id WHERE a.status = :status AND a.created_at >= :since";
    const advice = adviseIndexes(temp.db, { queries: [sql], foreignKeys: false, coveringColumns: 0 });
    expect(advice.indexes.map((index) => index.columns)).toEqual([["status", "created_at"]]);
    expect(advice.findings[0]).toMatchObject({ kind: "full-scan", table: "appointments", plan: "SCAN a" });
  });

  it("does not put covering columns between the ORDER BY column and a rowid tie-breaker", () => {
    const sql =
      "SELECT id, barber_id, client_id FROM appointments WHERE status = ? AND start_time >= ? ORDER BY start_time, id LIMIT 50";
    const advice = adviseIndexes(temp.db, { queries: [sql], foreignKeys: false });
    expect(advice.indexes.map((index) => index.columns)).toEqual([["status", "start_time"]]);
    expect(advice.queries[0]!.planWithIndexes).toEqual([
      "SEARCH appointments USING INDEX idx_appointments_status_start_time (status=? AND start_time>?)",
    ]);
  });

  it("adds the few columns a query reads to make the index covering", () => {
    const sql = "SELECT SUM(price_cents) FROM services WHERE duration_minutes = ?";
    const advice = adviseIndexes(temp.db, { queries: [sql], foreignKeys: false });
    expect(advice.indexes.map((index) => index.columns)).toEqual([["duration_minutes", "price_cents"]]);
  });

  it("reports a full scan with no filter but proposes nothing for it", () => {
    const advice = adviseIndexes(temp.db, { queries: ["SELECT * FROM services"], foreignKeys: false });
    expect(advice.indexes).toEqual([]);
    expect(advice.findings).toEqual([
      {
        kind: "full-scan",
        table: "services",
        query: "SELECT * FROM services",
        plan: "SCAN services",
        message:
          "full scan of services: the query does not filter it (fine for small tables; otherwise add a filter or a LIMIT)",
      },
    ]);
  });

  it("flags an automatic index and proposes a real one on its columns", () => {
    const sql =
      "SELECT u.email FROM users u WHERE u.role = 'barber' AND EXISTS (SELECT 1 FROM appointments a WHERE a.barber_id = u.id)";
    const advice = adviseIndexes(temp.db, { queries: [sql], foreignKeys: false });
    expect(advice.queries[0]!.plan.some((line) => line.includes("AUTOMATIC"))).toBe(true);
    expect(advice.findings.map((f) => f.kind)).toContain("automatic-index");
    expect(advice.indexes.map((index) => index.columns)).toEqual([["barber_id"], ["role", "email"]]);
    expect(advice.queries[0]!.planWithIndexes.some((line) => line.includes("AUTOMATIC"))).toBe(false);
  });

  it("finds nothing left to add once its proposals are applied", () => {
    const queries = [BARBER_DAY, "SELECT * FROM appointments WHERE client_id = ? ORDER BY start_time DESC LIMIT 20"];
    applyIndexes(temp.db, adviseIndexes(temp.db, { queries }).indexes);
    const again = adviseIndexes(temp.db, { queries });
    expect(again.indexes).toEqual([]);
    expect(again.findings).toEqual([]);
  });

  it("leaves the database's schema untouched", () => {
    const before = temp.db.prepare("SELECT name FROM sqlite_schema").all();
    adviseIndexes(temp.db, { queries: [BARBER_DAY] });
    expect(temp.db.prepare("SELECT name FROM sqlite_schema").all()).toEqual(before);
  });

  it("rejects an unknown option", () => {
    expect(() => adviseIndexes(temp.db, { query: [] } as never)).toThrow(PalisadeConfigError);
  });
});

describe("expectNoFullScans()", () => {
  it("throws with the plan when a query scans a table", () => {
    expect(() => expectNoFullScans(temp.db, BARBER_DAY)).toThrow(/SCAN appointments in: SELECT id, start_time/);
  });

  it("passes once an index serves the query", () => {
    temp.db.exec("CREATE INDEX a_barber_day ON appointments (barber_id, start_time)");
    expect(() => expectNoFullScans(temp.db, BARBER_DAY)).not.toThrow();
  });

  it("accepts scans of allowed tables, named by table or alias", () => {
    expect(() => expectNoFullScans(temp.db, "SELECT * FROM services", ["services"])).not.toThrow();
    expect(() =>
      expectNoFullScans(temp.db, "SELECT * FROM services s WHERE s.price_cents > 1", ["services"]),
    ).not.toThrow();
    expect(() => expectNoFullScans(temp.db, "SELECT * FROM services s WHERE s.price_cents > 1", [])).toThrow(
      /^expectNoFullScans: SCAN s in: /,
    );
  });

  it("copes with a virtual table in the schema", () => {
    temp.db.exec("CREATE VIRTUAL TABLE notes USING fts5 (body)");
    expect(adviseIndexes(temp.db, { queries: [BARBER_DAY] }).indexes.map((index) => index.name)).toContain(
      "idx_appointments_barber_id_start_time",
    );
  });
});
