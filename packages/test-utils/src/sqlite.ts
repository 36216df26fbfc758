import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

/** A fresh temporary directory; remove it with the returned `cleanup`. */
export function tempDir(prefix = "palisade-"): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TempSqlite {
  file: string;
  db: Database.Database;
  cleanup(): void;
}

/** A real SQLite database file in a temporary directory. */
export function tempSqlite(): TempSqlite {
  const dir = tempDir("palisade-sqlite-");
  const file = join(dir.path, "test.db");
  const db = new Database(file);
  return {
    file,
    db,
    cleanup() {
      if (db.open) db.close();
      dir.cleanup();
    },
  };
}
