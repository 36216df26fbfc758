import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { applyIndexes, tuneSqlite } from "@palisade/sqlite-tuning";
import Database from "better-sqlite3";

export type DB = Database.Database;

// Versioned schema migrations: index i brings the schema from version i to i + 1.
// Applied in one transaction each, recorded in PRAGMA user_version.
const MIGRATIONS: string[] = [
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'client' CHECK (role IN ('client', 'barber', 'admin')),
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE barbers (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1))
  );
  CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0)
  );
  CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    barber_id INTEGER NOT NULL REFERENCES barbers(id),
    client_id INTEGER NOT NULL REFERENCES users(id),
    service_id INTEGER NOT NULL REFERENCES services(id),
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled', 'completed')),
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK (end_time > start_time)
  );
  CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    status TEXT NOT NULL CHECK (status IN ('approved', 'declined', 'refunded')),
    provider_ref TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE password_reset_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  `,
];

/**
 * The reference platform's 15 indexes plus the advisor's additions, applied after the schema migrations through
 * `applyIndexes` (idempotent, one transaction, ANALYZE after).
 */
export const INDEXES = [
  "CREATE INDEX idx_appointments_start_time ON appointments (start_time)",
  "CREATE INDEX idx_appointments_status ON appointments (status)",
  "CREATE INDEX idx_appointments_barber_id ON appointments (barber_id)",
  "CREATE INDEX idx_appointments_client_id ON appointments (client_id)",
  "CREATE INDEX idx_appointments_barber_start ON appointments (barber_id, start_time)",
  "CREATE INDEX idx_appointments_status_start ON appointments (status, start_time)",
  "CREATE INDEX idx_appointments_created_at ON appointments (created_at)",
  "CREATE INDEX idx_payments_status ON payments (status)",
  "CREATE INDEX idx_payments_created_at ON payments (created_at)",
  "CREATE INDEX idx_payments_user_status ON payments (user_id, status)",
  "CREATE INDEX idx_payments_appointment_status ON payments (appointment_id, status)",
  "CREATE INDEX idx_users_role ON users (role)",
  "CREATE INDEX idx_users_is_active ON users (is_active)",
  "CREATE INDEX idx_reset_tokens_expires_at ON password_reset_tokens (expires_at)",
  "CREATE INDEX idx_reset_tokens_used ON password_reset_tokens (used)",
  // What adviseIndexes() found missing for this server's own queries on top of the 15 above:
  // "my appointments" orders by start_time, and foreign keys that no index starts with.
  "CREATE INDEX idx_appointments_client_start ON appointments (client_id, start_time)",
  "CREATE INDEX idx_appointments_service_id ON appointments (service_id)",
  "CREATE INDEX idx_barbers_user_id ON barbers (user_id)",
  "CREATE INDEX idx_barbers_is_active ON barbers (is_active)",
  "CREATE INDEX idx_barbers_active_name ON barbers (is_active, name, bio)",
  "CREATE INDEX idx_reset_tokens_user_id ON password_reset_tokens (user_id)",
  "CREATE INDEX idx_sessions_user_id ON sessions (user_id)",
] as const;

/** The schema version this code expects. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies pending migrations in order; returns the versions applied. */
export function migrate(db: DB): number[] {
  const applied: number[] = [];
  let version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema version ${version} is newer than this server (${SCHEMA_VERSION})`);
  }
  while (version < SCHEMA_VERSION) {
    const sql = MIGRATIONS[version]!;
    const next = version + 1;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${next}`);
    }).immediate();
    applied.push(next);
    version = next;
  }
  return applied;
}

/**
 * Opens (creating when needed) the database file through `tuneSqlite`'s production profile
 * (WAL, synchronous NORMAL, busy timeout, foreign keys, mmap, cache; every pragma read back),
 * migrates the schema and applies the indexes.
 */
export function openDatabase(file: string): DB {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = tuneSqlite(new Database(file));
  migrate(db);
  applyIndexes(db, INDEXES);
  return db;
}
