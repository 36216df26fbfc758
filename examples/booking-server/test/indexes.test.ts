import { join } from "node:path";
import { adviseIndexes, expectNoFullScans } from "@palisade/sqlite-tuning";
import { tempDir } from "@palisade/test-utils";
import { afterAll, describe, expect, it } from "vitest";
import { INDEXES, openDatabase } from "../src/db.js";
import { seed } from "../src/seed.js";
import { createStore } from "../src/store.js";

const dir = tempDir("booking-indexes-");
afterAll(() => dir.cleanup());

describe("the booking server's indexes", () => {
  it("leave the index advisor nothing to add for the server's own queries", async () => {
    const db = openDatabase(join(dir.path, "booking.db"));
    try {
      await seed(db, {});
      const advice = adviseIndexes(db, { queries: createStore(db).statements() });
      expect(advice.indexes.map((index) => index.sql)).toEqual([]);
      expect(INDEXES.length).toBe(22);
    } finally {
      db.close();
    }
  });

  it.each([
    "SELECT start_time, end_time FROM appointments WHERE barber_id = 1 AND status = 'booked' AND start_time < '2026-12-02T17:00:00Z' AND end_time > '2026-12-02T09:00:00Z' ORDER BY start_time",
    "SELECT * FROM appointments WHERE client_id = 4 ORDER BY start_time DESC, id DESC LIMIT 51",
    "SELECT * FROM appointments WHERE client_id = 4 AND (start_time, id) < ('2026-12-02T10:00:00.000Z', 9) ORDER BY start_time DESC, id DESC LIMIT 51",
    "SELECT sum(amount_cents) FROM payments WHERE status = 'approved' AND created_at >= '2026-11-01'",
  ])("serve %s without a full scan", (sql) => {
    const db = openDatabase(join(dir.path, "scan.db"));
    try {
      expectNoFullScans(db, sql);
    } finally {
      db.close();
    }
  });
});
