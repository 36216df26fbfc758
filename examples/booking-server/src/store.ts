import type { DB } from "./db.js";

// The data layer: every SQL statement the server runs lives here, behind plain functions,
// so a server database could replace SQLite without touching the routes.

export type Role = "client" | "barber" | "admin";

export interface UserRow {
  id: number;
  email: string;
  name: string;
  password_hash: string;
  role: Role;
  is_active: number;
  created_at: string;
}

export interface PublicUser {
  id: number;
  email: string;
  name: string;
  role: Role;
  isActive: boolean;
  createdAt: string;
}

export interface Barber {
  id: number;
  name: string;
  bio: string;
}

export interface Service {
  id: number;
  name: string;
  durationMinutes: number;
  priceCents: number;
}

export interface AppointmentRow {
  id: number;
  barber_id: number;
  client_id: number;
  service_id: number;
  start_time: string;
  end_time: string;
  status: "booked" | "cancelled" | "completed";
  notes: string;
  created_at: string;
}

export interface Appointment {
  id: number;
  barberId: number;
  clientId: number;
  serviceId: number;
  startTime: string;
  endTime: string;
  status: AppointmentRow["status"];
  notes: string;
  createdAt: string;
}

/** Where a page of appointments ends: the sort key of its last row. */
export interface PageKey {
  startTime: string;
  id: number;
}

export interface PaymentRow {
  id: number;
  user_id: number;
  appointment_id: number;
  amount_cents: number;
  status: "approved" | "declined" | "refunded";
  provider_ref: string;
  created_at: string;
}

/**
 * The routes keep every appointment inside one day's opening hours (appointments.ts, `slot`), so
 * one that overlaps a window starting at `from` started less than a day before it.
 */
const LONGEST_APPOINTMENT_MS = 24 * 3600_000;
const earliestOverlappingStart = (from: string) => new Date(Date.parse(from) - LONGEST_APPOINTMENT_MS).toISOString();

export const publicUser = (row: UserRow): PublicUser => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  isActive: row.is_active === 1,
  createdAt: row.created_at,
});

export const appointment = (row: AppointmentRow): Appointment => ({
  id: row.id,
  barberId: row.barber_id,
  clientId: row.client_id,
  serviceId: row.service_id,
  startTime: row.start_time,
  endTime: row.end_time,
  status: row.status,
  notes: row.notes,
  createdAt: row.created_at,
});

export const payment = (row: PaymentRow) => ({
  id: row.id,
  appointmentId: row.appointment_id,
  amountCents: row.amount_cents,
  status: row.status,
  providerRef: row.provider_ref,
  createdAt: row.created_at,
});

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Prepares every statement once and returns the data-access functions. */
export function createStore(db: DB) {
  const s = {
    userByEmail: db.prepare<[string], UserRow>("SELECT * FROM users WHERE email = ?"),
    userById: db.prepare<[number], UserRow>("SELECT * FROM users WHERE id = ?"),
    insertUser: db.prepare<[string, string, string, Role]>(
      "INSERT INTO users (email, name, password_hash, role) VALUES (?, ?, ?, ?)",
    ),
    setPassword: db.prepare<[string, number]>("UPDATE users SET password_hash = ? WHERE id = ?"),
    listUsers: db.prepare<[number, number], UserRow>("SELECT * FROM users ORDER BY id LIMIT ? OFFSET ?"),
    countUsers: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM users"),
    insertSession: db.prepare<[number, string, string]>(
      "INSERT INTO sessions (user_id, token_hash, expires_at) VALUES (?, ?, ?)",
    ),
    sessionUser: db.prepare<[string, string], UserRow>(
      `SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ? AND s.revoked = 0 AND s.expires_at > ? AND u.is_active = 1`,
    ),
    revokeSession: db.prepare<[string]>("UPDATE sessions SET revoked = 1 WHERE token_hash = ?"),
    revokeUserSessions: db.prepare<[number]>("UPDATE sessions SET revoked = 1 WHERE user_id = ?"),
    insertResetToken: db.prepare<[number, string, string]>(
      "INSERT INTO password_reset_tokens (user_id, token_hash, expires_at) VALUES (?, ?, ?)",
    ),
    resetToken: db.prepare<[string], { id: number; user_id: number; expires_at: string; used: number }>(
      "SELECT id, user_id, expires_at, used FROM password_reset_tokens WHERE token_hash = ?",
    ),
    useResetToken: db.prepare<[number]>("UPDATE password_reset_tokens SET used = 1 WHERE id = ? AND used = 0"),
    insertOutbox: db.prepare<[string, string, string]>(
      "INSERT INTO outbox (kind, recipient, payload) VALUES (?, ?, ?)",
    ),
    barbers: db.prepare<[], Barber>("SELECT id, name, bio FROM barbers WHERE is_active = 1 ORDER BY id"),
    barber: db.prepare<[number], Barber>("SELECT id, name, bio FROM barbers WHERE id = ? AND is_active = 1"),
    insertBarber: db.prepare<[number | null, string, string]>(
      "INSERT INTO barbers (user_id, name, bio) VALUES (?, ?, ?)",
    ),
    services: db.prepare<[], Service>(
      "SELECT id, name, duration_minutes AS durationMinutes, price_cents AS priceCents FROM services ORDER BY id",
    ),
    service: db.prepare<[number], Service>(
      "SELECT id, name, duration_minutes AS durationMinutes, price_cents AS priceCents FROM services WHERE id = ?",
    ),
    insertService: db.prepare<[string, number, number]>(
      "INSERT INTO services (name, duration_minutes, price_cents) VALUES (?, ?, ?)",
    ),
    searchBarbers: db.prepare<[string], Barber>(
      "SELECT id, name, bio FROM barbers WHERE is_active = 1 AND name LIKE ? ESCAPE '\\' ORDER BY name LIMIT 20",
    ),
    searchServices: db.prepare<[string], Service>(
      `SELECT id, name, duration_minutes AS durationMinutes, price_cents AS priceCents
       FROM services WHERE name LIKE ? ESCAPE '\\' ORDER BY name LIMIT 20`,
    ),
    // `start_time > ?` (the window's start less the longest possible appointment) bounds the
    // index range on (barber_id, start_time) from below as well: without it every overlap check
    // walked all of a barber's earlier bookings, a cost that grew with the table.
    barberBookings: db.prepare<[number, string, string, string], { start_time: string; end_time: string }>(
      `SELECT start_time, end_time FROM appointments
       WHERE barber_id = ? AND status = 'booked' AND start_time < ? AND start_time > ? AND end_time > ?
       ORDER BY start_time`,
    ),
    overlapping: db.prepare<[number, string, string, string, number], { id: number }>(
      `SELECT id FROM appointments
       WHERE barber_id = ? AND status = 'booked' AND start_time < ? AND start_time > ? AND end_time > ? AND id != ?
       LIMIT 1`,
    ),
    insertAppointment: db.prepare<[number, number, number, string, string, string]>(
      `INSERT INTO appointments (barber_id, client_id, service_id, start_time, end_time, notes)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    appointment: db.prepare<[number], AppointmentRow>("SELECT * FROM appointments WHERE id = ?"),
    // Newest first, in pages: the key (start_time, id) of a page's last row starts the next one.
    clientAppointments: db.prepare<[number, number], AppointmentRow>(
      "SELECT * FROM appointments WHERE client_id = ? ORDER BY start_time DESC, id DESC LIMIT ?",
    ),
    clientAppointmentsBefore: db.prepare<[number, string, number, number], AppointmentRow>(
      "SELECT * FROM appointments WHERE client_id = ? AND (start_time, id) < (?, ?) ORDER BY start_time DESC, id DESC LIMIT ?",
    ),
    reschedule: db.prepare<[string, string, number]>(
      "UPDATE appointments SET start_time = ?, end_time = ? WHERE id = ? AND status = 'booked'",
    ),
    cancel: db.prepare<[number]>("UPDATE appointments SET status = 'cancelled' WHERE id = ? AND status = 'booked'"),
    approvedPayment: db.prepare<[number], PaymentRow>(
      "SELECT * FROM payments WHERE appointment_id = ? AND status = 'approved' LIMIT 1",
    ),
    insertPayment: db.prepare<[number, number, number, string, string]>(
      "INSERT INTO payments (user_id, appointment_id, amount_cents, status, provider_ref) VALUES (?, ?, ?, ?, ?)",
    ),
    paymentById: db.prepare<[number], PaymentRow>("SELECT * FROM payments WHERE id = ?"),
    activeUsers: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM users WHERE is_active = 1"),
    upcoming: db.prepare<[string], { n: number }>(
      "SELECT count(*) AS n FROM appointments WHERE status = 'booked' AND start_time >= ?",
    ),
    revenueSince: db.prepare<[string], { cents: number | null }>(
      "SELECT sum(amount_cents) AS cents FROM payments WHERE status = 'approved' AND created_at >= ?",
    ),
  };

  return {
    db,
    /** The SQL of every statement the data layer runs (for the index advisor). */
    statements: () => Object.values(s).map((statement) => statement.source),
    userByEmail: (email: string) => s.userByEmail.get(email),
    userById: (id: number) => s.userById.get(id),
    createUser(email: string, name: string, passwordHash: string, role: Role = "client"): UserRow {
      const { lastInsertRowid } = s.insertUser.run(email, name, passwordHash, role);
      return s.userById.get(Number(lastInsertRowid))!;
    },
    setPassword(userId: number, passwordHash: string) {
      db.transaction(() => {
        s.setPassword.run(passwordHash, userId);
        s.revokeUserSessions.run(userId);
      })();
    },
    listUsers: (limit: number, offset: number) => ({
      users: s.listUsers.all(limit, offset).map(publicUser),
      total: s.countUsers.get()!.n,
    }),
    createSession: (userId: number, tokenHashValue: string, expiresAt: string) =>
      s.insertSession.run(userId, tokenHashValue, expiresAt),
    sessionUser: (tokenHashValue: string, now: string) => s.sessionUser.get(tokenHashValue, now),
    revokeSession: (tokenHashValue: string) => s.revokeSession.run(tokenHashValue).changes > 0,
    createResetToken(
      userId: number,
      tokenHashValue: string,
      expiresAt: string,
      outbox: { recipient: string; payload: string },
    ) {
      db.transaction(() => {
        s.insertResetToken.run(userId, tokenHashValue, expiresAt);
        s.insertOutbox.run("password_reset", outbox.recipient, outbox.payload);
      })();
    },
    /** Marks the token used and sets the password in one transaction; false when the token is invalid. */
    consumeResetToken(tokenHashValue: string, now: string, passwordHash: string): number | undefined {
      return db
        .transaction(() => {
          const token = s.resetToken.get(tokenHashValue);
          if (!token || token.used || token.expires_at <= now) return undefined;
          if (s.useResetToken.run(token.id).changes !== 1) return undefined;
          s.setPassword.run(passwordHash, token.user_id);
          s.revokeUserSessions.run(token.user_id);
          return token.user_id;
        })
        .immediate();
    },
    barbers: () => s.barbers.all(),
    barber: (id: number) => s.barber.get(id),
    createBarber: (userId: number | null, name: string, bio: string) =>
      Number(s.insertBarber.run(userId, name, bio).lastInsertRowid),
    services: () => s.services.all(),
    service: (id: number) => s.service.get(id),
    createService: (name: string, durationMinutes: number, priceCents: number) =>
      Number(s.insertService.run(name, durationMinutes, priceCents).lastInsertRowid),
    search: (q: string) => ({
      barbers: s.searchBarbers.all(likePattern(q)),
      services: s.searchServices.all(likePattern(q)),
    }),
    barberBookings: (barberId: number, from: string, to: string) =>
      s.barberBookings.all(barberId, to, earliestOverlappingStart(from), from),
    /**
     * Books a slot if nothing overlaps it, inside one IMMEDIATE transaction so that concurrent
     * bookings (also from other processes) serialise: exactly one wins.
     */
    book(input: { barberId: number; clientId: number; serviceId: number; start: string; end: string; notes: string }) {
      return db
        .transaction(() => {
          if (s.overlapping.get(input.barberId, input.end, earliestOverlappingStart(input.start), input.start, -1)) {
            return undefined;
          }
          const { lastInsertRowid } = s.insertAppointment.run(
            input.barberId,
            input.clientId,
            input.serviceId,
            input.start,
            input.end,
            input.notes,
          );
          return appointment(s.appointment.get(Number(lastInsertRowid))!);
        })
        .immediate();
    },
    appointment: (id: number) => s.appointment.get(id),
    /**
     * One page of a client's appointments, newest first: at most `limit`, and the key of the
     * last one when more follow (`after` it is where the next page starts).
     */
    clientAppointments(clientId: number, limit: number, after?: PageKey) {
      const rows = after
        ? s.clientAppointmentsBefore.all(clientId, after.startTime, after.id, limit + 1)
        : s.clientAppointments.all(clientId, limit + 1);
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return {
        appointments: rows.slice(0, limit).map(appointment),
        next: last ? { startTime: last.start_time, id: last.id } : undefined,
      };
    },
    /** `conflict` when another booking overlaps, `gone` when the appointment is no longer booked. */
    reschedule(id: number, barberId: number, start: string, end: string): "ok" | "conflict" | "gone" {
      return db
        .transaction(() => {
          if (s.overlapping.get(barberId, end, earliestOverlappingStart(start), start, id)) return "conflict" as const;
          return s.reschedule.run(start, end, id).changes === 1 ? ("ok" as const) : ("gone" as const);
        })
        .immediate();
    },
    cancel: (id: number) => s.cancel.run(id).changes === 1,
    approvedPayment: (appointmentId: number) => s.approvedPayment.get(appointmentId),
    recordPayment(
      userId: number,
      appointmentId: number,
      amountCents: number,
      status: PaymentRow["status"],
      ref: string,
    ) {
      const { lastInsertRowid } = s.insertPayment.run(userId, appointmentId, amountCents, status, ref);
      return s.paymentById.get(Number(lastInsertRowid))!;
    },
    metrics(now: Date) {
      const since = new Date(now.getTime() - 30 * 24 * 3600_000).toISOString();
      return {
        activeUsers: s.activeUsers.get()!.n,
        upcomingAppointments: s.upcoming.get(now.toISOString())!.n,
        revenueLast30DaysCents: s.revenueSince.get(since)!.cents ?? 0,
      };
    },
  };
}

export type Store = ReturnType<typeof createStore>;
