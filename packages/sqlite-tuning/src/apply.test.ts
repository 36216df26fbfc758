import { PalisadeConfigError } from "@palisade/core";
import { type TempSqlite, tempSqlite } from "@palisade/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyIndexes } from "./apply.js";

let temp: TempSqlite;
beforeEach(() => {
  temp = tempSqlite();
  temp.db.exec(`
    CREATE TABLE payments (id INTEGER PRIMARY KEY, user_id INTEGER, status TEXT, created_at TEXT);
    INSERT INTO payments (user_id, status, created_at) VALUES (1, 'paid', '2026-01-01'), (2, 'refunded', '2026-01-02');
  `);
});
afterEach(() => temp.cleanup());

const INDEXES = [
  "CREATE INDEX idx_payments_status ON payments (status)",
  "CREATE INDEX IF NOT EXISTS idx_payments_user_status ON payments (user_id, status)",
];

const indexNames = () =>
  (
    temp.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name").all() as { name: string }[]
  ).map((row) => row.name);

describe("applyIndexes()", () => {
  it("creates the indexes and reports them", () => {
    const result = applyIndexes(temp.db, INDEXES);
    expect(result.created).toEqual([
      {
        name: "idx_payments_status",
        table: "payments",
        sql: "CREATE INDEX IF NOT EXISTS idx_payments_status ON payments (status)",
      },
      {
        name: "idx_payments_user_status",
        table: "payments",
        sql: "CREATE INDEX IF NOT EXISTS idx_payments_user_status ON payments (user_id, status)",
      },
    ]);
    expect(result.existing).toEqual([]);
    expect(indexNames()).toEqual(["idx_payments_status", "idx_payments_user_status"]);
  });

  it("is idempotent: a second run creates nothing and reports what exists", () => {
    applyIndexes(temp.db, INDEXES);
    const again = applyIndexes(temp.db, INDEXES);
    expect(again).toEqual({ created: [], existing: ["idx_payments_status", "idx_payments_user_status"], analyzed: [] });
    expect(indexNames()).toEqual(["idx_payments_status", "idx_payments_user_status"]);
  });

  it("runs ANALYZE on the tables that got an index", () => {
    const result = applyIndexes(temp.db, INDEXES);
    expect(result.analyzed).toEqual(["payments"]);
    const stats = temp.db.prepare("SELECT idx FROM sqlite_stat1 WHERE tbl = 'payments' ORDER BY idx").all();
    expect(stats).toEqual([{ idx: "idx_payments_status" }, { idx: "idx_payments_user_status" }]);
  });

  it("accepts a whole script with comments", () => {
    const result = applyIndexes(temp.db, `-- migration 3\n${INDEXES.join(";\n")};\n`);
    expect(result.created.map((index) => index.name)).toEqual(["idx_payments_status", "idx_payments_user_status"]);
  });

  it("creates nothing when one statement fails (one transaction)", () => {
    expect(() => applyIndexes(temp.db, [INDEXES[0]!, "CREATE INDEX idx_bad ON payments (no_such_column)"])).toThrow(
      /no_such_column/,
    );
    expect(indexNames()).toEqual([]);
    expect(temp.db.inTransaction).toBe(false);
  });

  it("refuses anything but CREATE INDEX before running anything", () => {
    expect(() => applyIndexes(temp.db, [INDEXES[0]!, "DROP TABLE payments"])).toThrow(
      new PalisadeConfigError(
        "ERR_PALISADE_INVALID_OPTION",
        "indexes[1]",
        'applyIndexes: `indexes[1]` must be a CREATE INDEX statement, got "DROP TABLE payments".',
      ),
    );
    expect(indexNames()).toEqual([]);
  });
});
