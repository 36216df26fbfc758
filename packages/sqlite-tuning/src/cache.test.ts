import { type TempSqlite, tempSqlite } from "@palisade/test-utils";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cachedQuery } from "./cache.js";
import { instrument } from "./instrument.js";
import { tuneSqlite } from "./sqlite-tuning.js";

let temp: TempSqlite;
beforeEach(() => {
  temp = tempSqlite();
  tuneSqlite(temp.db);
  temp.db.exec(`
    CREATE TABLE services (id INTEGER PRIMARY KEY, name TEXT, price_cents INTEGER);
    CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
    INSERT INTO services (name, price_cents) VALUES ('cut', 2500), ('shave', 1500);
  `);
});
afterEach(() => temp.cleanup());

describe("cachedQuery()", () => {
  it("answers a repeated call from the cache", () => {
    const services = cachedQuery(temp.db, "SELECT name FROM services WHERE price_cents > ? ORDER BY name");
    const first = services(1000);
    expect(first).toEqual([{ name: "cut" }, { name: "shave" }]);
    expect(services(1000)).toBe(first);
    expect(services(2000)).toEqual([{ name: "cut" }]);
    expect(services.stats()).toMatchObject({ hits: 1, misses: 2, entries: 2 });
  });

  it("drops results when a statement on the connection writes one of its tables", () => {
    const metrics = instrument(temp.db);
    const services = cachedQuery(temp.db, "SELECT name FROM services ORDER BY name");
    expect(services()).toHaveLength(2);
    temp.db.prepare("INSERT INTO services (name, price_cents) VALUES (?, ?)").run("beard", 1000);
    expect(services()).toEqual([{ name: "beard" }, { name: "cut" }, { name: "shave" }]);
    temp.db.prepare("UPDATE services SET name = 'trim' WHERE name = ?").run("beard");
    expect(services().map((row) => (row as { name: string }).name)).toContain("trim");
    temp.db.exec("DELETE FROM services WHERE name = 'trim'");
    expect(services()).toHaveLength(2);
    expect(services.stats()).toMatchObject({ hits: 0, misses: 4 });
    expect(metrics.stats().length).toBeGreaterThan(0);
  });

  it("keeps results when another table is written", () => {
    const services = cachedQuery(temp.db, "SELECT name FROM services");
    services();
    temp.db.prepare("INSERT INTO users (email) VALUES (?)").run("a@example.com");
    services();
    expect(services.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it("drops results when another connection commits a write", () => {
    const services = cachedQuery(temp.db, "SELECT name FROM services");
    expect(services()).toHaveLength(2);
    const other = new Database(temp.file);
    try {
      other.prepare("INSERT INTO services (name) VALUES (?)").run("color");
    } finally {
      other.close();
    }
    expect(services()).toHaveLength(3);
  });

  it("expires results after ttlMs", () => {
    const services = cachedQuery(temp.db, "SELECT name FROM services", { ttlMs: 0 });
    services();
    services();
    expect(services.stats()).toMatchObject({ hits: 0, misses: 2, entries: 0 });
  });

  it("evicts the least recently used result past maxEntries", () => {
    const byPrice = cachedQuery(temp.db, "SELECT name FROM services WHERE price_cents > ?", { maxEntries: 2 });
    byPrice(1);
    byPrice(2);
    byPrice(1);
    byPrice(3);
    expect(byPrice.stats()).toMatchObject({ entries: 2 });
    byPrice(1);
    expect(byPrice.stats()).toMatchObject({ hits: 2, misses: 3 });
  });

  it("keeps the cached bytes under maxBytes and does not cache a result larger than it", () => {
    const byPrice = cachedQuery(temp.db, "SELECT name FROM services WHERE price_cents > ?", { maxBytes: 30 });
    byPrice(0);
    expect(byPrice.stats()).toMatchObject({ entries: 0, bytes: 0 });
    byPrice(2000);
    const { bytes, entries } = byPrice.stats();
    expect(entries).toBe(1);
    expect(bytes).toBeLessThanOrEqual(30);
  });

  it("freezes the rows it shares between callers", () => {
    const services = cachedQuery<{ name: string }>(temp.db, "SELECT name FROM services");
    const rows = services();
    expect(Object.isFrozen(rows)).toBe(true);
    expect(() => {
      (rows[0] as { name: string }).name = "x";
    }).toThrow(TypeError);
  });

  it("invalidates on demand", () => {
    const services = cachedQuery(temp.db, "SELECT name FROM services");
    services();
    services.invalidate();
    services();
    expect(services.stats()).toMatchObject({ hits: 0, misses: 2 });
  });

  it("refuses a statement that returns no rows", () => {
    expect(() => cachedQuery(temp.db, "DELETE FROM services")).toThrow(
      'cachedQuery: option `sql` must be a statement that returns rows, got "DELETE FROM services".',
    );
  });
});
