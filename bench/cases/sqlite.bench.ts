import { fork, spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SqliteDatabase } from "@palisade/sqlite-tuning";
import { defineBench, requireFromPackage } from "../harness.js";

// A generated booking database (10,000 users, 500,000 appointments, 300,000 payments) and
// the booking platform's queries, measured in one run on three copies of the same file:
//   (a) no indexes, better-sqlite3's default pragmas;
//   (b) the indexes adviseIndexes() proposes for those queries on (a), applied with applyIndexes();
//   (c) the same indexes plus tuneSqlite()'s production profile.
// Then write throughput (single-row transactions) default vs profile, and readers beside a
// writer: with busy_timeout = 0, any lock conflict surfaces as SQLITE_BUSY at once.
// Runs in a child process with the source condition, like the other script benches.

const fromSqliteTuning = requireFromPackage("sqlite-tuning");
const betterSqlitePath = fromSqliteTuning.resolve("better-sqlite3");
type Db = SqliteDatabase & { close(): void };
const Database = fromSqliteTuning("better-sqlite3") as new (file: string) => Db;

const USERS = 10_000;
const APPOINTMENTS = Number(process.env.SQLITE_BENCH_APPOINTMENTS ?? 500_000);
const PAYMENTS = Math.round(APPOINTMENTS * 0.6);
const TOKENS = 20_000;
const TARGET = 10;

const SCHEMA = `
CREATE TABLE users (
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('client', 'barber', 'admin')), is_active INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE barbers (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), name TEXT NOT NULL);
CREATE TABLE services (id INTEGER PRIMARY KEY, name TEXT NOT NULL, duration_minutes INTEGER NOT NULL, price_cents INTEGER NOT NULL);
CREATE TABLE appointments (
  id INTEGER PRIMARY KEY,
  barber_id INTEGER NOT NULL REFERENCES barbers (id),
  client_id INTEGER NOT NULL REFERENCES users (id),
  service_id INTEGER NOT NULL REFERENCES services (id),
  start_time TEXT NOT NULL, end_time TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  appointment_id INTEGER NOT NULL REFERENCES appointments (id),
  amount_cents INTEGER NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE password_reset_tokens (
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id),
  token_hash TEXT NOT NULL, expires_at TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0
);
`;

// Users 1-50 are barbers, 51-55 admins, the rest clients. Appointments span 2025-2026,
// "today" is 2026-07-01. Values come from random(): distributions matter, not the rows.
const GENERATE = `
WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ${USERS})
INSERT INTO users SELECT x, 'user' || x || '@example.com', 'User ' || printf('%05d', (x * 7919) % ${USERS}),
  CASE WHEN x <= 50 THEN 'barber' WHEN x <= 55 THEN 'admin' ELSE 'client' END,
  abs(random()) % 10 != 0, datetime('2024-01-01', '+' || (abs(random()) % 500) || ' days') FROM seq;
INSERT INTO barbers SELECT id, id, name FROM users WHERE role = 'barber';
INSERT INTO services (name, duration_minutes, price_cents) VALUES
  ('Haircut', 30, 3000), ('Beard trim', 15, 1500), ('Cut and beard', 45, 4000), ('Shave', 30, 2500),
  ('Kids cut', 20, 2000), ('Color', 60, 6000), ('Fade', 30, 3500), ('Buzz', 15, 1200),
  ('Styling', 30, 2800), ('Deluxe', 90, 9000);
WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ${APPOINTMENTS}),
  draws AS (
    SELECT x, datetime('2025-01-01 09:00:00', '+' || (abs(random()) % 730) || ' days',
      '+' || ((abs(random()) % 18) * 30) || ' minutes') AS start, abs(random()) % 100 AS s FROM seq
  )
INSERT INTO appointments SELECT x, 1 + abs(random()) % 50, 56 + abs(random()) % ${USERS - 55}, 1 + abs(random()) % 10,
  start, datetime(start, '+30 minutes'),
  CASE WHEN s < 60 THEN 'completed' WHEN s < 70 THEN 'cancelled' WHEN s < 90 THEN 'scheduled' WHEN s < 95 THEN 'no_show' ELSE 'pending' END,
  datetime(start, '-' || (abs(random()) % 60) || ' days', '-' || (abs(random()) % 1440) || ' minutes')
FROM draws;
INSERT INTO payments SELECT a.id, a.client_id, a.id, s.price_cents,
  CASE WHEN abs(random()) % 100 < 80 THEN 'completed' WHEN abs(random()) % 100 < 50 THEN 'pending' WHEN abs(random()) % 2 THEN 'failed' ELSE 'refunded' END,
  a.start_time
FROM appointments a JOIN services s ON s.id = a.service_id WHERE a.id <= ${PAYMENTS};
WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ${TOKENS})
INSERT INTO password_reset_tokens SELECT x, 1 + abs(random()) % ${USERS}, lower(hex(randomblob(16))),
  datetime('2026-06-01', '+' || (abs(random()) % 43200) || ' minutes'), abs(random()) % 4 = 0 FROM seq;
`;

const day = (offset: number) => {
  const date = new Date(Date.UTC(2026, 6, 1) + offset * 86_400_000);
  return date.toISOString().slice(0, 10);
};

interface BenchQuery {
  name: string;
  sql: string;
  params(i: number, tokens: string[]): unknown[];
  /** `rollback`: a write measured inside a transaction that is rolled back. */
  mode: "all" | "get" | "rollback";
}

// The booking platform's queries: every one filters, so every one has the 10x target.
const QUERIES: BenchQuery[] = [
  {
    name: "barber availability on a day",
    sql: "SELECT start_time, end_time FROM appointments WHERE barber_id = ? AND start_time >= ? AND start_time < ? AND status != 'cancelled' ORDER BY start_time, id",
    params: (i) => [1 + (i % 50), `${day(i % 14)} 00:00:00`, `${day((i % 14) + 1)} 00:00:00`],
    mode: "all",
  },
  {
    name: "my appointments",
    sql: "SELECT a.id, a.start_time, a.status, s.name AS service FROM appointments a JOIN services s ON s.id = a.service_id WHERE a.client_id = ? ORDER BY a.start_time DESC, a.id DESC LIMIT 20",
    params: (i) => [56 + ((i * 37) % (USERS - 55))],
    mode: "all",
  },
  {
    name: "upcoming by status",
    sql: "SELECT id, barber_id, client_id, start_time FROM appointments WHERE status = ? AND start_time >= ? ORDER BY start_time, id LIMIT 50",
    params: (i) => [i % 2 ? "scheduled" : "pending", `${day(i % 30)} 00:00:00`],
    mode: "all",
  },
  {
    name: "barber's day by status",
    sql: "SELECT COUNT(*) AS n FROM appointments WHERE barber_id = ? AND status = ? AND start_time >= ? AND start_time < ?",
    params: (i) => [1 + (i % 50), "completed", `${day(-(i % 30))} 00:00:00`, `${day(-(i % 30) + 1)} 00:00:00`],
    mode: "get",
  },
  {
    name: "revenue last 30 days",
    sql: "SELECT SUM(amount_cents) AS revenue FROM payments WHERE status = 'completed' AND created_at >= ? AND created_at < ?",
    params: (i) => [`${day(-30 - (i % 7))} 00:00:00`, `${day(-(i % 7))} 00:00:00`],
    mode: "get",
  },
  {
    name: "payments by user and status",
    sql: "SELECT id, amount_cents, created_at FROM payments WHERE user_id = ? AND status = ? ORDER BY created_at DESC, id DESC",
    params: (i) => [56 + ((i * 53) % (USERS - 55)), i % 3 ? "completed" : "pending"],
    mode: "all",
  },
  {
    name: "payments of an appointment",
    sql: "SELECT id, status FROM payments WHERE appointment_id = ? AND status = 'completed'",
    params: (i) => [1 + ((i * 7919) % PAYMENTS)],
    mode: "all",
  },
  {
    name: "appointments created in a day",
    sql: "SELECT COUNT(*) AS n FROM appointments WHERE created_at >= ? AND created_at < ?",
    params: (i) => [`${day(-(i % 60))} 00:00:00`, `${day(-(i % 60) + 1)} 00:00:00`],
    mode: "get",
  },
  {
    name: "admin: active users by role",
    sql: "SELECT id, email, name FROM users WHERE role = ? AND is_active = 1 ORDER BY name, id LIMIT 20",
    params: (i) => [i % 2 ? "admin" : "barber"],
    mode: "all",
  },
  {
    name: "reset token lookup",
    sql: "SELECT user_id FROM password_reset_tokens WHERE token_hash = ? AND used = 0 AND expires_at > ?",
    params: (i, tokens) => [tokens[i % tokens.length], "2026-06-01 00:00:00"],
    mode: "get",
  },
  {
    name: "expired tokens cleanup",
    sql: "DELETE FROM password_reset_tokens WHERE expires_at < ?",
    // The job runs every 10 minutes, so each run finds a handful of tokens.
    params: (i) => [`2026-06-01 00:0${1 + (i % 9)}:00`],
    mode: "rollback",
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median milliseconds per run, running for about `budgetMs` (at least 5 runs). */
function measure(db: Db, query: BenchQuery, tokens: string[], budgetMs: number): { ms: number; runs: number } {
  const statement = db.prepare(query.sql);
  const once = (i: number): number => {
    const params = query.params(i, tokens);
    if (query.mode === "rollback") {
      db.exec("BEGIN");
      const start = performance.now();
      statement.run(...params);
      const elapsed = performance.now() - start;
      db.exec("ROLLBACK");
      return elapsed;
    }
    const start = performance.now();
    if (query.mode === "all") statement.all(...params);
    else statement.get(...params);
    return performance.now() - start;
  };
  once(0);
  const samples: number[] = [];
  const began = performance.now();
  for (let i = 1; samples.length < 5 || (performance.now() - began < budgetMs && samples.length < 5000); i++) {
    samples.push(once(i));
  }
  return { ms: median(samples), runs: samples.length };
}

function writeThroughput(db: Db, durationMs: number): number {
  const insert = db.prepare(
    "INSERT INTO appointments (barber_id, client_id, service_id, start_time, end_time, status, created_at) VALUES (?, ?, ?, ?, ?, 'scheduled', ?)",
  );
  let count = 0;
  const began = performance.now();
  while (performance.now() - began < durationMs) {
    insert.run(
      1 + (count % 50),
      56 + (count % 9000),
      1 + (count % 10),
      "2026-08-01 10:00:00",
      "2026-08-01 10:30:00",
      "2026-07-01 10:00:00",
    );
    count++;
  }
  return Math.round(count / ((performance.now() - began) / 1000));
}

const WORKER = `
const workerData = JSON.parse(process.argv[1]);
const Database = require(workerData.driver);
// Open and prepare with a timeout (schema reads need a lock too), then measure with none.
const db = new Database(workerData.file, { timeout: 10000 });
const insert = db.prepare("INSERT INTO payments (user_id, appointment_id, amount_cents, status, created_at) VALUES (?, ?, 3000, 'pending', '2026-07-01 12:00:00')");
const query = db.prepare(workerData.sql);
db.pragma("busy_timeout = 0");
const result = { ops: 0, busy: 0, errors: 0 };
while (Date.now() < workerData.startAt);
const until = workerData.startAt + workerData.durationMs;
let i = 0;
while (Date.now() < until) {
  i++;
  try {
    if (workerData.role === "writer") insert.run(56 + (i % 9000), 1 + (i % 1000));
    else query.all(56 + (i % 9000), "pending");
    result.ops++;
  } catch (e) {
    if (String(e.code).startsWith("SQLITE_BUSY")) result.busy++; else result.errors++;
  }
}
db.close();
process.stdout.write(JSON.stringify(result));
`;

interface WorkerResult {
  ops: number;
  busy: number;
  errors: number;
}

// Separate processes, as separate app instances (or a worker and the web process) would be.
function runWorker(data: Record<string, unknown>): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", WORKER, JSON.stringify({ driver: betterSqlitePath, ...data })], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.once("exit", (code) => {
      if (code === 0) resolve(JSON.parse(out) as WorkerResult);
      else reject(new Error(`bench worker exited with ${code}`));
    });
  });
}

async function readersBesideWriter(file: string, durationMs: number) {
  const sql = "SELECT id, amount_cents FROM payments WHERE user_id = ? AND status = ? ORDER BY created_at DESC";
  // Every process starts its clock at the same moment, after opening and preparing.
  const startAt = Date.now() + 1500;
  const [writer, ...readers] = await Promise.all([
    runWorker({ file, role: "writer", durationMs, sql, startAt }),
    runWorker({ file, role: "reader", durationMs, sql, startAt }),
    runWorker({ file, role: "reader", durationMs, sql, startAt }),
  ]);
  return {
    writerCommits: writer!.ops,
    writerBusy: writer!.busy,
    readerQueries: readers.reduce((sum, r) => sum + r.ops, 0),
    readerBusy: readers.reduce((sum, r) => sum + r.busy, 0),
    errors: writer!.errors + readers.reduce((sum, r) => sum + r.errors, 0),
  };
}

async function child() {
  // Imported here: the parent process runs without the source condition.
  const { adviseIndexes, applyIndexes, tuneSqlite } = await import("@palisade/sqlite-tuning");
  const dir = mkdtempSync(join(tmpdir(), "palisade-sqlite-bench-"));
  try {
    const files = { base: join(dir, "base.db"), a: join(dir, "a.db"), b: join(dir, "b.db"), c: join(dir, "c.db") };
    let began = performance.now();
    const base = new Database(files.base);
    base.exec(SCHEMA);
    base.exec(`BEGIN; ${GENERATE} COMMIT;`);
    const counts = base
      .prepare(
        "SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM appointments) AS appointments, (SELECT COUNT(*) FROM payments) AS payments, (SELECT COUNT(*) FROM password_reset_tokens) AS tokens",
      )
      .get();
    base.close();
    const generateSeconds = Number(((performance.now() - began) / 1000).toFixed(1));
    console.log(`  generated ${JSON.stringify(counts)} in ${generateSeconds}s`);
    copyFileSync(files.base, files.a);
    copyFileSync(files.base, files.b);

    const a = new Database(files.a);
    began = performance.now();
    const advice = adviseIndexes(a, { queries: QUERIES.map((query) => query.sql) });
    const adviseMs = Math.round(performance.now() - began);
    console.log(`  advisor proposed ${advice.indexes.length} indexes in ${adviseMs} ms:`);
    for (const index of advice.indexes) console.log(`    ${index.sql}`);

    const b = new Database(files.b);
    began = performance.now();
    const applied = applyIndexes(b, advice.indexes);
    const applySeconds = Number(((performance.now() - began) / 1000).toFixed(1));
    b.close();
    copyFileSync(files.b, files.c);
    const bDb = new Database(files.b);
    const cDb = tuneSqlite(new Database(files.c));
    const tokens = (
      a.prepare("SELECT token_hash FROM password_reset_tokens WHERE used = 0 AND id % 397 = 0 ORDER BY id").all() as {
        token_hash: string;
      }[]
    ).map((row) => row.token_hash);

    const rows = QUERIES.map((query) => {
      const ra = measure(a, query, tokens, 800);
      const rb = measure(bDb, query, tokens, 400);
      const rc = measure(cDb, query, tokens, 400);
      // Same answers on every variant.
      if (query.mode !== "rollback") {
        for (const i of [1, 2, 3]) {
          const params = query.params(i, tokens);
          const expected = JSON.stringify(a.prepare(query.sql).all(...params));
          for (const db of [bDb, cDb]) {
            if (JSON.stringify(db.prepare(query.sql).all(...params)) !== expected) {
              throw new Error(`${query.name}: different rows on an indexed copy`);
            }
          }
        }
      }
      const speedupB = ra.ms / rb.ms;
      const speedupC = ra.ms / rc.ms;
      return {
        query: query.name,
        "a ms": Number(ra.ms.toFixed(3)),
        "b ms": Number(rb.ms.toFixed(4)),
        "c ms": Number(rc.ms.toFixed(4)),
        "a/b": Number(speedupB.toFixed(1)),
        "a/c": Number(speedupC.toFixed(1)),
        target: speedupB >= TARGET && speedupC >= TARGET ? "MET" : "MISSED",
        plan: explain(bDb, query.sql),
      };
    });
    a.close();
    console.log(
      "\n  per-query median time; a: no indexes, default pragmas; b: advisor's indexes; c: indexes + profile",
    );
    console.table(rows.map(({ plan: _plan, ...row }) => row));

    const writesDefault = writeThroughput(bDb, 1500);
    const writesProfile = writeThroughput(cDb, 1500);
    console.log(
      `  single-row write transactions: default ${writesDefault}/s, profile ${writesProfile}/s (${(writesProfile / writesDefault).toFixed(1)}x)`,
    );
    bDb.close();
    cDb.close();

    const wal = await readersBesideWriter(files.c, 2000);
    const rollback = await readersBesideWriter(files.b, 2000);
    console.log("  2 readers beside 1 writer for 2 s, busy_timeout = 0:");
    console.table({ "WAL (profile)": wal, "rollback journal (default)": rollback });

    return {
      counts,
      generateSeconds,
      adviseMs,
      applySeconds,
      indexes: advice.indexes.map((index) => index.sql),
      created: applied.created.length,
      queries: rows,
      allTargetsMet: rows.every((row) => row.target === "MET"),
      writes: { defaultPerSecond: writesDefault, profilePerSecond: writesProfile },
      readersBesideWriter: { wal, rollback },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function explain(db: Db, sql: string): string {
  const params = sql.split("?").length - 1;
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array(params).fill(null)) as { detail: string }[])
    .map((row) => row.detail)
    .join("; ");
}

if (process.env.PALISADE_SQLITE_BENCH_CHILD === "1") {
  child().then(
    (report) => {
      process.send!(report, () => process.exit(0));
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}

export default defineBench({
  kind: "script",
  description:
    "booking database (10k users, 500k appointments, 300k payments): per-query speedup of the advisor's indexes and the pragma profile, write throughput, readers beside a writer",
  run() {
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const proc = fork(fileURLToPath(import.meta.url), [], {
        execArgv: ["--import", "tsx", "--conditions=@palisade/source"],
        env: { ...process.env, PALISADE_SQLITE_BENCH_CHILD: "1" },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      let report: Record<string, unknown> | undefined;
      proc.on("message", (message) => {
        report = message as Record<string, unknown>;
      });
      proc.once("exit", (code) => {
        if (code === 0 && report) resolve(report);
        else reject(new Error(`sqlite bench child exited with ${code}`));
      });
    });
  },
});
