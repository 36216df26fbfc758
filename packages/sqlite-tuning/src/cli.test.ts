import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type TempSqlite, tempSqlite } from "@palisade/test-utils";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function palisadeSqlite(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--conditions=@palisade/source", cli, ...args],
      { cwd: root, encoding: "utf8", timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let temp: TempSqlite;
let dir: string;
beforeEach(() => {
  temp = tempSqlite();
  dir = join(temp.file, "..");
  temp.db.exec(`
    CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, role TEXT);
    CREATE TABLE appointments (id INTEGER PRIMARY KEY, barber_id INTEGER REFERENCES users (id), start_time TEXT);
  `);
  temp.db.close();
});
afterEach(() => temp.cleanup());

describe("palisade-sqlite", () => {
  it("tune applies the profile and prints every pragma", async () => {
    const run = await palisadeSqlite("tune", temp.file);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toContain("journal_mode = wal\n");
    expect(run.stdout).toContain("synchronous = 1\n");
    const db = new Database(temp.file);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("advise prints a SQL script that apply then applies, idempotently", async () => {
    const queries = join(dir, "queries.sql");
    writeFileSync(queries, "SELECT * FROM appointments WHERE barber_id = ? ORDER BY start_time;\n");
    const advise = await palisadeSqlite("advise", temp.file, "--queries", queries);
    expect(advise.code).toBe(0);
    expect(advise.stdout).toContain(
      "CREATE INDEX IF NOT EXISTS idx_appointments_barber_id_start_time ON appointments (barber_id, start_time);",
    );
    expect(advise.stdout).toMatch(/^-- unindexed-foreign-key: foreign key appointments\(barber_id\)/m);
    const script = join(dir, "indexes.sql");
    writeFileSync(script, advise.stdout);
    const apply = await palisadeSqlite("apply", temp.file, script);
    expect(apply).toMatchObject({
      code: 0,
      stdout: "created idx_appointments_barber_id_start_time on appointments\nanalyzed appointments\n",
    });
    const again = await palisadeSqlite("apply", temp.file, script, "--json");
    expect(JSON.parse(again.stdout)).toEqual({
      created: [],
      existing: ["idx_appointments_barber_id_start_time"],
      analyzed: [],
    });
  });

  it("status reports health, pragmas and indexes", async () => {
    const run = await palisadeSqlite("status", temp.file, "--json");
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status.health).toMatchObject({ status: "pass", componentType: "datastore" });
    expect(status.pragmas.journal_mode).toBe("delete");
    expect(status.indexes).toEqual([]);
  });

  it("exits 2 with usage on an unknown command", async () => {
    const run = await palisadeSqlite("tuen", temp.file);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^palisade-sqlite: unknown command tuen\n\nUsage: palisade-sqlite/);
  });

  it("exits 1 without creating a database that does not exist", async () => {
    const run = await palisadeSqlite("tune", join(dir, "missing.db"));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^palisade-sqlite: /);
  });
});
