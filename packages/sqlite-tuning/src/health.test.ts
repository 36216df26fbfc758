import { recordingLogger, type TempSqlite, tempSqlite } from "@palisade/test-utils";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sqliteCheck, walWatchdog } from "./health.js";
import { tuneSqlite } from "./sqlite-tuning.js";

let temp: TempSqlite;
beforeEach(() => {
  temp = tempSqlite();
  tuneSqlite(temp.db, { walAutocheckpointPages: 0 });
  temp.db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
});
afterEach(() => temp.cleanup());

function growWal(db: Database.Database, rows: number): void {
  const insert = db.prepare("INSERT INTO notes (body) VALUES (?)");
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run("x".repeat(500));
  })();
}

describe("sqliteCheck()", () => {
  it("passes with the database's size, WAL and freelist", async () => {
    const result = await sqliteCheck(temp.db, { warnResponseMs: 60_000 })();
    expect(result).toMatchObject({
      status: "pass",
      componentType: "datastore",
      observedUnit: "ms",
      journalMode: "wal",
      freelistCount: 0,
      pageSize: 4096,
    });
    expect(result.observedValue).toBeGreaterThanOrEqual(0);
    expect(result.pageCount).toBeGreaterThan(0);
    expect(result.fileBytes).toBeGreaterThan(0);
    expect(result.walBytes).toBeGreaterThan(0);
    expect(Date.parse(result.time)).not.toBeNaN();
  });

  it("warns, once through the logger, when the WAL is past maxWalBytes", async () => {
    const logger = recordingLogger();
    growWal(temp.db, 200);
    const check = sqliteCheck(temp.db, { maxWalBytes: 10_000, warnResponseMs: 60_000, logger });
    const result = await check();
    expect(result.status).toBe("warn");
    expect(result.output).toMatch(/^the WAL file is \d+ bytes, past 10000: checkpoints cannot finish/);
    await check();
    expect(logger.withCode("WRN_PALISADE_WAL_GROWTH")).toHaveLength(1);
  });

  it("fails when the connection is closed", async () => {
    const check = sqliteCheck(temp.db);
    temp.db.close();
    expect(await check()).toMatchObject({
      status: "fail",
      output: "database did not answer: the connection is closed",
    });
  });
});

describe("walWatchdog()", () => {
  it("warns once when the WAL grows past the limit while a reader holds a snapshot", () => {
    const logger = recordingLogger();
    const watchdog = walWatchdog(temp.db, { maxWalBytes: 50_000, logger });
    try {
      const reader = new Database(temp.file);
      reader.exec("BEGIN");
      reader.prepare("SELECT COUNT(*) FROM notes").get();
      growWal(temp.db, 300);
      temp.db.pragma("wal_checkpoint(TRUNCATE)");
      expect(watchdog.check()).toBeGreaterThan(50_000);
      watchdog.check();
      reader.exec("COMMIT");
      reader.close();
      const warnings = logger.withCode("WRN_PALISADE_WAL_GROWTH");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(/^walWatchdog: the WAL file is \d+ bytes, past 50000/);
    } finally {
      watchdog.stop();
    }
  });

  it("stays quiet under the limit", () => {
    const logger = recordingLogger();
    const watchdog = walWatchdog(temp.db, { maxWalBytes: 100_000_000, logger });
    watchdog.check();
    watchdog.stop();
    expect(logger.entries).toEqual([]);
  });
});
