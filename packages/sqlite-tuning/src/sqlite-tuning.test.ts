import { PalisadeConfigError } from "@palisade/core";
import { type TempSqlite, tempSqlite } from "@palisade/test-utils";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { optimize, readPragmas, SqlitePragmaError, tuneSqlite } from "./sqlite-tuning.js";

let temp: TempSqlite;
beforeEach(() => {
  temp = tempSqlite();
});
afterEach(() => temp.cleanup());

describe("tuneSqlite()", () => {
  it("applies the production profile and every pragma reads back", () => {
    expect(tuneSqlite(temp.db)).toBe(temp.db);
    expect(readPragmas(temp.db)).toEqual({
      journal_mode: "wal",
      synchronous: 1,
      busy_timeout: 5000,
      foreign_keys: 1,
      mmap_size: 268_435_456,
      cache_size: -65_536,
      temp_store: 2,
      wal_autocheckpoint: 1000,
      journal_size_limit: 67_108_864,
    });
  });

  it("applies an overridden profile", () => {
    tuneSqlite(temp.db, {
      journalMode: "DELETE",
      synchronous: "FULL",
      busyTimeoutMs: 250,
      foreignKeys: false,
      mmapSizeBytes: 0,
      cacheSizeKiB: 2048,
      tempStore: "FILE",
      walAutocheckpointPages: 500,
      journalSizeLimitBytes: -1,
      pragmas: { cache_spill: false, secure_delete: "FAST" },
    });
    expect(readPragmas(temp.db)).toEqual({
      journal_mode: "delete",
      synchronous: 2,
      busy_timeout: 250,
      foreign_keys: 0,
      mmap_size: 0,
      cache_size: -2048,
      temp_store: 1,
      wal_autocheckpoint: 500,
      journal_size_limit: -1,
    });
    expect(temp.db.pragma("cache_spill", { simple: true })).toBe(0);
    expect(temp.db.pragma("secure_delete", { simple: true })).toBe(2);
  });

  it("skips the journal and mmap defaults on an in-memory database and applies the rest", () => {
    const memory = new Database(":memory:");
    try {
      tuneSqlite(memory);
      expect(readPragmas(memory)).toMatchObject({
        journal_mode: "memory",
        synchronous: 1,
        foreign_keys: 1,
        temp_store: 2,
      });
    } finally {
      memory.close();
    }
  });

  it("runs PRAGMA optimize=0x10002 at open, which analyzes an indexed table never analyzed", () => {
    temp.db.exec(`
      CREATE TABLE t (a INTEGER, b TEXT);
      CREATE INDEX t_a ON t (a);
      WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 5000) INSERT INTO t SELECT x % 50, 'r' FROM s;
    `);
    temp.db.close();
    const db = new Database(temp.file);
    try {
      tuneSqlite(db);
      expect(db.prepare("SELECT tbl, idx, stat FROM sqlite_stat1").all()).toEqual([
        { tbl: "t", idx: "t_a", stat: "5000 100" },
      ]);
    } finally {
      db.close();
    }
  });

  it("does not analyze at open with optimizeOnOpen: false", () => {
    temp.db.exec("CREATE TABLE t (a INTEGER); CREATE INDEX t_a ON t (a); INSERT INTO t VALUES (1), (2)");
    tuneSqlite(temp.db, { optimizeOnOpen: false });
    expect(temp.db.prepare("SELECT name FROM sqlite_schema WHERE name = 'sqlite_stat1'").get()).toBeUndefined();
  });

  it("keeps the pragmas when the database is opened again", () => {
    tuneSqlite(temp.db);
    temp.db.close();
    const again = new Database(temp.file);
    try {
      expect(again.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      again.close();
    }
  });

  describe("when a pragma does not take", () => {
    it("throws naming mmap_size when SQLite caps it", () => {
      const attempt = () => tuneSqlite(temp.db, { mmapSizeBytes: 2 ** 40 });
      expect(attempt).toThrow(SqlitePragmaError);
      expect(attempt).toThrow(/^tuneSqlite: PRAGMA mmap_size did not take: set 1099511627776, read back \d+/);
      try {
        attempt();
      } catch (error) {
        expect((error as SqlitePragmaError).pragma).toBe("mmap_size");
        expect((error as SqlitePragmaError).code).toBe("ERR_PALISADE_PRAGMA_NOT_APPLIED");
      }
    });

    it("throws naming a pragma SQLite does not know", () => {
      expect(() => tuneSqlite(temp.db, { pragmas: { synchronus: "OFF" } })).toThrow(
        'tuneSqlite: PRAGMA synchronus did not take: set "off", read back nothing (SQLite does not know this pragma).',
      );
    });

    it("throws naming journal_mode when WAL is asked for on an in-memory database", () => {
      const memory = new Database(":memory:");
      try {
        expect(() => tuneSqlite(memory, { journalMode: "WAL" })).toThrow(
          'tuneSqlite: PRAGMA journal_mode did not take: set "wal", read back "memory" (in-memory databases cannot use WAL).',
        );
      } finally {
        memory.close();
      }
    });

    it("throws naming the pragma SQLite refuses inside a transaction", () => {
      tuneSqlite(temp.db);
      temp.db.exec("BEGIN");
      expect(() => tuneSqlite(temp.db)).toThrow(
        'tuneSqlite: PRAGMA synchronous did not take: set "NORMAL", SQLite refused it (Safety level may not be changed inside a transaction).',
      );
      temp.db.exec("ROLLBACK");
    });
  });

  describe("options", () => {
    it("suggests the right name for a misspelled option", () => {
      expect(() => tuneSqlite(temp.db, { busyTimeout: 1 } as never)).toThrow(
        "tuneSqlite: unknown option `busyTimeout`. Did you mean `busyTimeoutMs`?",
      );
    });

    it("lists the accepted journal modes", () => {
      try {
        tuneSqlite(temp.db, { journalMode: "wall" as never });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(PalisadeConfigError);
        expect((error as PalisadeConfigError).option).toBe("journalMode");
        expect((error as Error).message).toBe(
          'tuneSqlite: option `journalMode` must be one of "WAL", "DELETE", "TRUNCATE", "PERSIST", "MEMORY", "OFF", got "WALL".',
        );
      }
    });

    it("refuses a pragma value that is not a plain word or number", () => {
      expect(() => tuneSqlite(temp.db, { pragmas: { cache_spill: "1; DROP TABLE x" } })).toThrow(
        'tuneSqlite: option `pragmas.cache_spill` must be a plain word or number, got "1; DROP TABLE x".',
      );
    });
  });
});

describe("optimize()", () => {
  it("analyzes a table whose statistics are missing after it was queried with an index", () => {
    tuneSqlite(temp.db);
    temp.db.exec("CREATE TABLE t (a INTEGER, b TEXT); CREATE INDEX t_a ON t (a)");
    const insert = temp.db.prepare("INSERT INTO t VALUES (?, ?)");
    temp.db.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(i % 50, `row ${i}`);
    })();
    temp.db.prepare("SELECT * FROM t WHERE a = ?").all(3);
    optimize(temp.db);
    const stats = temp.db.prepare("SELECT tbl, idx FROM sqlite_stat1 WHERE tbl = 't'").all();
    expect(stats).toContainEqual({ tbl: "t", idx: "t_a" });
  });
});
