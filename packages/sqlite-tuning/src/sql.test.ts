import { describe, expect, it } from "vitest";
import { nullParameters, redactSql, splitStatements, tableUsage, writtenTables } from "./sql.js";

describe("redactSql()", () => {
  it.each([
    ["SELECT * FROM users WHERE email = 'a@example.com'", "SELECT * FROM users WHERE email = ?"],
    ["SELECT * FROM t WHERE n > 12.5e3 AND b = x'00ff'", "SELECT * FROM t WHERE n > ? AND b = ?"],
    ["SELECT 'it''s'  -- secret\n FROM t", "SELECT ? FROM t"],
    ["SELECT * FROM t WHERE id = ? AND name = :name", "SELECT * FROM t WHERE id = ? AND name = :name"],
    ['SELECT "col1" FROM t2', 'SELECT "col1" FROM t2'],
  ])("redacts %j", (sql, expected) => {
    expect(redactSql(sql)).toBe(expected);
  });
});

describe("nullParameters()", () => {
  it("binds positional and named placeholders", () => {
    expect(nullParameters("SELECT ? , ?3, :a, @b, $c")).toEqual([null, null, null, { a: null, b: null, c: null }]);
  });
});

describe("writtenTables()", () => {
  it.each([
    ["INSERT INTO users (a) VALUES (1)", ["users"]],
    ["INSERT OR REPLACE INTO main.Users VALUES (1)", ["users"]],
    ["UPDATE OR IGNORE payments SET x = 1", ["payments"]],
    ["DELETE FROM tokens WHERE used = 1", ["tokens"]],
    ["WITH x AS (SELECT 1) INSERT INTO a SELECT * FROM x", ["a"]],
    ["SELECT * FROM users", []],
    ["BEGIN IMMEDIATE", []],
    ["CREATE TABLE z (a)", ["*"]],
  ])("%s writes %j", (sql, tables) => {
    expect(writtenTables(sql)).toEqual(tables);
  });
});

describe("splitStatements()", () => {
  it("keeps trigger bodies whole", () => {
    expect(splitStatements("CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET x = 1; END; SELECT ';';")).toEqual([
      "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET x = 1; END",
      "SELECT ';'",
    ]);
  });
});

describe("tableUsage()", () => {
  const columns: Record<string, string[]> = {
    appointments: ["id", "barber_id", "client_id", "start_time", "status"],
    users: ["id", "email", "role"],
  };
  it("classifies equality, join, range and order columns per table reference", () => {
    const usage = tableUsage(
      "SELECT a.id, u.email FROM appointments a JOIN users AS u ON u.id = a.client_id WHERE a.status IN ('x') AND ? <= a.start_time AND u.role = ? ORDER BY a.start_time DESC",
      (table) => columns[table],
    );
    expect(usage).toEqual([
      {
        table: "appointments",
        alias: "a",
        equality: ["status"],
        joins: ["client_id"],
        range: ["start_time"],
        order: [{ column: "start_time", desc: true }],
        columns: new Set(["id", "client_id", "status", "start_time"]),
      },
      {
        table: "users",
        alias: "u",
        equality: ["role"],
        joins: ["id"],
        range: [],
        order: [],
        columns: new Set(["email", "id", "role"]),
      },
    ]);
  });
});
