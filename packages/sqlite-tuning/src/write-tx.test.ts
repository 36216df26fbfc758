import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { type TempSqlite, tempSqlite } from "@palisade/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tuneSqlite } from "./sqlite-tuning.js";
import { writeTx } from "./write-tx.js";

const betterSqlite = createRequire(import.meta.url).resolve("better-sqlite3");

let temp: TempSqlite;
beforeEach(() => {
  temp = tempSqlite();
  tuneSqlite(temp.db, { busyTimeoutMs: 0 });
  temp.db.exec("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER)");
});
afterEach(() => temp.cleanup());

/** Another process takes the write lock and holds it for `holdMs`; resolves once it holds it. */
function holdWriteLock(file: string, holdMs: number): Promise<{ done: Promise<void> }> {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite)});
    const db = new Database(${JSON.stringify(file)});
    db.exec("BEGIN IMMEDIATE");
    process.stdout.write("locked\\n");
    setTimeout(() => { db.exec("COMMIT"); db.close(); }, ${holdMs});
  `;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve({ done }));
    child.once("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
}

describe("writeTx()", () => {
  it("commits what fn did and returns its result", () => {
    const result = writeTx(temp.db, () => temp.db.prepare("INSERT INTO counters VALUES ('a', 1)").run().changes);
    expect(result).toBe(1);
    expect(temp.db.prepare("SELECT value FROM counters").pluck().get()).toBe(1);
  });

  it("rolls back and rethrows when fn throws", () => {
    expect(() =>
      writeTx(temp.db, () => {
        temp.db.prepare("INSERT INTO counters VALUES ('a', 1)").run();
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(temp.db.prepare("SELECT COUNT(*) FROM counters").pluck().get()).toBe(0);
    expect(temp.db.inTransaction).toBe(false);
  });

  it("retries BEGIN IMMEDIATE while another connection holds the write lock", async () => {
    const lock = await holdWriteLock(temp.file, 300);
    const retries: number[] = [];
    writeTx(temp.db, () => temp.db.prepare("INSERT INTO counters VALUES ('a', 1)").run(), {
      retries: 20,
      backoffMs: 50,
      maxBackoffMs: 100,
      onRetry: (attempt) => retries.push(attempt),
    });
    await lock.done;
    expect(retries.length).toBeGreaterThan(0);
    expect(retries).toEqual(retries.map((_, i) => i + 1));
    expect(temp.db.prepare("SELECT value FROM counters").pluck().get()).toBe(1);
  });

  it("throws SQLITE_BUSY once the retries are used up", async () => {
    const lock = await holdWriteLock(temp.file, 2000);
    try {
      expect(() => writeTx(temp.db, () => 1, { retries: 2, backoffMs: 1 })).toThrow(
        expect.objectContaining({ code: "SQLITE_BUSY" }),
      );
    } finally {
      await lock.done;
    }
  });

  it("runs in a savepoint inside an open transaction", () => {
    temp.db.exec("BEGIN");
    writeTx(temp.db, () => temp.db.prepare("INSERT INTO counters VALUES ('a', 1)").run());
    expect(() =>
      writeTx(temp.db, () => {
        temp.db.prepare("INSERT INTO counters VALUES ('b', 2)").run();
        throw new Error("inner");
      }),
    ).toThrow("inner");
    temp.db.exec("COMMIT");
    expect(temp.db.prepare("SELECT name FROM counters").pluck().all()).toEqual(["a"]);
  });

  it("refuses an async fn", () => {
    expect(() => writeTx(temp.db, async () => 1)).toThrow(
      "writeTx: fn returned a promise; a transaction must not span an await.",
    );
    expect(temp.db.inTransaction).toBe(false);
  });
});
