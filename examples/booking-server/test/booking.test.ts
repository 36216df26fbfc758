import type { AddressInfo } from "node:net";
import request from "supertest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bookingServer, count, fieldOf, type TestServer, TOMORROW } from "./helpers.js";

let server: TestServer;
let alice: string;
let bob: string;
const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
const slot = (time: string) => `${TOMORROW}T${time}:00.000Z`;

beforeEach(async (ctx) => {
  // The race registers and signs in a dozen accounts from one address: more than the login limit.
  server = await bookingServer({ relaxedLimits: ctx.task.name.includes("concurrent") });
  alice = await server.login("alice@example.com");
  bob = await server.login("bob@example.com");
});
afterEach(() => server.cleanup());

async function book(token: string, body: Record<string, unknown>) {
  return request(server.app).post("/api/appointments").set(auth(token)).send(body);
}

describe("catalog", () => {
  it("GET /api/barbers lists barbers with id and name", async () => {
    const res = await request(server.app).get("/api/barbers");
    expect(res.status).toBe(200);
    expect(res.body.barbers).toHaveLength(3);
    expect(res.body.barbers[0]).toMatchObject({ id: 1, name: "Marco Rossi" });
  });

  it("GET /api/services lists services with duration and price", async () => {
    const res = await request(server.app).get("/api/services");
    expect(res.body.services[0]).toEqual({ id: 1, name: "Haircut", durationMinutes: 30, priceCents: 3000 });
  });

  it("sends no-store on API answers", async () => {
    const res = await request(server.app).get("/api/services");
    expect(res.headers["cache-control"]).toBe("no-store");
  });
});

describe("GET /api/barbers/:id/availability", () => {
  it("lists the day's free slots in ISO 8601, minus booked ones", async () => {
    const before = await request(server.app).get(`/api/barbers/1/availability?date=${TOMORROW}`);
    expect(before.status).toBe(200);
    expect(before.body.slots).toHaveLength(16);
    expect(before.body.slots[0]).toEqual({ start: slot("09:00"), end: slot("09:30") });
    await book(alice, { barberId: 1, serviceId: 1, startTime: slot("10:00") });
    const after = await request(server.app).get(`/api/barbers/1/availability?date=${TOMORROW}`);
    expect(after.body.slots.map((s: { start: string }) => s.start)).not.toContain(slot("10:00"));
    expect(after.body.slots).toHaveLength(15);
  });

  it("uses the service duration when given", async () => {
    const res = await request(server.app).get(`/api/barbers/1/availability?date=${TOMORROW}&serviceId=3`);
    expect(res.body.slots[0]).toEqual({ start: slot("09:00"), end: slot("09:45") });
    expect(res.body.slots.at(-1)).toEqual({ start: slot("16:00"), end: slot("16:45") });
  });

  it.each([
    ["date=2026-13-01", "date"],
    ["date=tomorrow", "date"],
    ["", "date"],
    [`date=${TOMORROW}&serviceId=abc`, "serviceId"],
  ])("answers 400 naming the field for %s", async (query, field) => {
    const res = await request(server.app).get(`/api/barbers/1/availability?${query}`);
    expect(res.status).toBe(400);
    expect(fieldOf(res.body)).toBe(field);
  });

  it("answers 404 for an unknown barber", async () => {
    expect((await request(server.app).get(`/api/barbers/99/availability?date=${TOMORROW}`)).status).toBe(404);
  });
});

describe("POST /api/appointments", () => {
  it("books a free slot and answers 201 with the appointment", async () => {
    const res = await book(alice, {
      barberId: 1,
      serviceId: 3,
      startTime: slot("11:00"),
      notes: "Please use scissors <3",
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/appointments/${res.body.appointment.id}`);
    expect(res.body.appointment).toMatchObject({
      barberId: 1,
      serviceId: 3,
      startTime: slot("11:00"),
      endTime: slot("11:45"),
      status: "booked",
      notes: "Please use scissors <3",
    });
    expect(server.events.at(-1)?.name).toBe("booking_created");
  });

  it("answers 409 when the slot overlaps another booking of that barber", async () => {
    expect((await book(alice, { barberId: 1, serviceId: 3, startTime: slot("11:00") })).status).toBe(201);
    const clash = await book(bob, { barberId: 1, serviceId: 1, startTime: slot("11:30") });
    expect(clash.status).toBe(409);
    expect(clash.body.reason).toBe("slot_taken");
    expect((await book(bob, { barberId: 2, serviceId: 1, startTime: slot("11:30") })).status).toBe(201);
  });

  it.each([
    [{ serviceId: 1, startTime: slot("10:00") }, "barberId"],
    [{ barberId: 1, serviceId: 99, startTime: slot("10:00") }, "serviceId"],
    [{ barberId: 1, serviceId: 1, startTime: "tomorrow at ten" }, "startTime"],
    [{ barberId: 1, serviceId: 1, startTime: `${TOMORROW}T10:00:00` }, "startTime"],
    [{ barberId: 1, serviceId: 1, startTime: slot("10:07") }, "startTime"],
    [{ barberId: 1, serviceId: 1, startTime: slot("16:45") }, "startTime"],
    [{ barberId: 1, serviceId: 1, startTime: "2026-11-30T10:00:00.000Z" }, "startTime"],
  ])("answers 400 naming the field and books nothing (%j)", async (body, field) => {
    const res = await book(alice, body);
    expect(res.status).toBe(400);
    expect(fieldOf(res.body)).toBe(field);
    expect(count(server.db, "appointments")).toBe(0);
  });

  it("answers 401 without a session", async () => {
    const res = await request(server.app)
      .post("/api/appointments")
      .send({ barberId: 1, serviceId: 1, startTime: slot("10:00") });
    expect(res.status).toBe(401);
  });

  it("lets exactly one of many concurrent bookings of one slot win", async () => {
    const tokens = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const email = `racer${i}@example.com`;
        await request(server.app)
          .post("/api/auth/register")
          .send({ email, password: "race-password", name: `Racer ${i}` });
        return server.login(email, "race-password");
      }),
    );
    const listening = server.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => listening.once("listening", resolve));
    const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    try {
      const statuses = await Promise.all(
        tokens.map((token) =>
          request(url)
            .post("/api/appointments")
            .set(auth(token))
            .send({ barberId: 2, serviceId: 1, startTime: slot("14:00") })
            .then((res) => res.status),
        ),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(tokens.length - 1);
      expect(count(server.db, "appointments")).toBe(1);
    } finally {
      listening.close();
    }
  });
});

describe("my appointments", () => {
  it("GET /api/appointments lists only mine", async () => {
    await book(alice, { barberId: 1, serviceId: 1, startTime: slot("09:00") });
    await book(bob, { barberId: 1, serviceId: 1, startTime: slot("10:00") });
    const res = await request(server.app).get("/api/appointments").set(auth(alice));
    expect(res.body.appointments).toHaveLength(1);
    expect(res.body.appointments[0].startTime).toBe(slot("09:00"));
    expect(res.body.next).toBeNull();
  });

  it("GET /api/appointments pages newest first, every booking once, ties broken by id", async () => {
    // Two at 09:00 (two barbers) put a page boundary between equal start times.
    const booked: number[] = [];
    for (const [barberId, time] of [
      [1, "09:00"],
      [2, "09:00"],
      [1, "10:00"],
      [1, "11:00"],
      [1, "12:00"],
    ] as const) {
      const res = await book(alice, { barberId, serviceId: 1, startTime: slot(time) });
      expect(res.status).toBe(201);
      booked.push(res.body.appointment.id);
    }
    await book(bob, { barberId: 3, serviceId: 1, startTime: slot("09:00") });
    const seen: { id: number; startTime: string }[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(server.app)
        .get("/api/appointments")
        .query(cursor === null ? { limit: 2 } : { limit: 2, cursor })
        .set(auth(alice));
      expect(res.status).toBe(200);
      sizes.push(res.body.appointments.length);
      seen.push(...res.body.appointments);
      cursor = res.body.next;
    } while (cursor !== null && sizes.length < 10);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen.map((a) => a.id).sort((a, b) => a - b)).toEqual(booked.sort((a, b) => a - b));
    expect(seen.map((a) => a.startTime)).toEqual(
      ["12:00", "11:00", "10:00", "09:00", "09:00"].map((time) => slot(time)),
    );
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=ten", "limit"],
    ["limit=1&limit=2", "limit"],
    ["cursor=not-a-cursor", "cursor"],
    [`cursor=${Buffer.from('["tomorrow",1]').toString("base64url")}`, "cursor"],
    [`cursor=${Buffer.from(`["${"2026-12-01T09:00:00.000Z"}",-1]`).toString("base64url")}`, "cursor"],
  ])("GET /api/appointments answers 400 naming the field for %s", async (query, field) => {
    const res = await request(server.app).get(`/api/appointments?${query}`).set(auth(alice));
    expect(res.status).toBe(400);
    expect(fieldOf(res.body)).toBe(field);
  });

  it("GET /api/appointments/:id answers 404 for another client's appointment and records authz_fail", async () => {
    const booked = await book(alice, { barberId: 1, serviceId: 1, startTime: slot("09:00") });
    const id = booked.body.appointment.id;
    expect((await request(server.app).get(`/api/appointments/${id}`).set(auth(alice))).status).toBe(200);
    const other = await request(server.app).get(`/api/appointments/${id}`).set(auth(bob));
    expect(other.status).toBe(404);
    expect(server.events.at(-1)).toEqual({
      name: "authz_fail",
      detail: { resource: "appointment", appointmentId: id },
    });
  });

  it("PATCH reschedules to a free slot and refuses a taken one", async () => {
    const mine = (await book(alice, { barberId: 1, serviceId: 1, startTime: slot("09:00") })).body.appointment.id;
    await book(bob, { barberId: 1, serviceId: 1, startTime: slot("12:00") });
    const moved = await request(server.app)
      .patch(`/api/appointments/${mine}`)
      .set(auth(alice))
      .send({ startTime: slot("13:00") });
    expect(moved.status).toBe(200);
    expect(moved.body.appointment).toMatchObject({ startTime: slot("13:00"), endTime: slot("13:30") });
    const clash = await request(server.app)
      .patch(`/api/appointments/${mine}`)
      .set(auth(alice))
      .send({ startTime: slot("12:00") });
    expect(clash.status).toBe(409);
    const bad = await request(server.app)
      .patch(`/api/appointments/${mine}`)
      .set(auth(alice))
      .send({ startTime: "noon" });
    expect(bad.status).toBe(400);
    expect(fieldOf(bad.body)).toBe("startTime");
    const notMine = await request(server.app)
      .patch(`/api/appointments/${mine}`)
      .set(auth(bob))
      .send({ startTime: slot("15:00") });
    expect(notMine.status).toBe(404);
  });

  it("POST /:id/cancel cancels once, frees the slot, and answers 409 after", async () => {
    const id = (await book(alice, { barberId: 1, serviceId: 1, startTime: slot("09:00") })).body.appointment.id;
    const res = await request(server.app).post(`/api/appointments/${id}/cancel`).set(auth(alice));
    expect(res.status).toBe(200);
    expect(res.body.appointment.status).toBe("cancelled");
    expect((await request(server.app).post(`/api/appointments/${id}/cancel`).set(auth(alice))).status).toBe(409);
    expect((await book(bob, { barberId: 1, serviceId: 1, startTime: slot("09:00") })).status).toBe(201);
    expect((await request(server.app).post(`/api/appointments/${id}/cancel`).set(auth(bob))).status).toBe(404);
  });

  it("answers 400 for an id that is not a number", async () => {
    const res = await request(server.app).get("/api/appointments/abc").set(auth(alice));
    expect(res.status).toBe(400);
    expect(res.body.field).toBe("id");
  });
});

describe("POST /api/appointments/:id/payments", () => {
  let id: number;
  beforeEach(async () => {
    id = (await book(alice, { barberId: 1, serviceId: 3, startTime: slot("09:00") })).body.appointment.id;
  });

  it("captures the service price with an approved test card, once", async () => {
    const res = await request(server.app)
      .post(`/api/appointments/${id}/payments`)
      .set(auth(alice))
      .send({ cardNumber: "4242 4242 4242 4242" });
    expect(res.status).toBe(201);
    expect(res.body.payment).toMatchObject({ appointmentId: id, amountCents: 4000, status: "approved" });
    expect(server.events.at(-1)?.name).toBe("payment_captured");
    const again = await request(server.app)
      .post(`/api/appointments/${id}/payments`)
      .set(auth(alice))
      .send({ cardNumber: "4242424242424242" });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe("already_paid");
  });

  it("records a declined card and answers 402", async () => {
    const res = await request(server.app)
      .post(`/api/appointments/${id}/payments`)
      .set(auth(alice))
      .send({ cardNumber: "4000000000000002" });
    expect(res.status).toBe(402);
    expect(res.body.reason).toBe("card_declined");
    expect(server.db.prepare("SELECT status FROM payments").all()).toEqual([{ status: "declined" }]);
    expect(server.events.at(-1)?.name).toBe("payment_failed");
  });

  it("answers 400 for a number that fails the Luhn check, and 404 for another client's appointment", async () => {
    const bad = await request(server.app)
      .post(`/api/appointments/${id}/payments`)
      .set(auth(alice))
      .send({ cardNumber: "4242424242424241" });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("cardNumber");
    const other = await request(server.app)
      .post(`/api/appointments/${id}/payments`)
      .set(auth(bob))
      .send({ cardNumber: "4242424242424242" });
    expect(other.status).toBe(404);
    expect(count(server.db, "payments")).toBe(0);
  });
});

describe("GET /api/search", () => {
  it("finds barbers and services by name", async () => {
    const res = await request(server.app).get("/api/search?q=cut");
    expect(res.status).toBe(200);
    expect(res.body.services.map((s: { name: string }) => s.name)).toEqual(["Haircut", "Haircut & beard", "Kids cut"]);
    const barbers = await request(server.app).get(`/api/search?q=${encodeURIComponent("O'Neill")}`);
    expect(barbers.body.barbers).toEqual([expect.objectContaining({ name: "Aisha O'Neill" })]);
  });

  it("treats LIKE wildcards as text", async () => {
    const res = await request(server.app).get("/api/search?q=%25");
    expect(res.body).toMatchObject({ barbers: [], services: [] });
  });

  it.each(["", "q=", `q=${"a".repeat(101)}`])("answers 400 naming q for %s", async (query) => {
    const res = await request(server.app).get(`/api/search?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe("q");
  });
});

describe("admin", () => {
  it("refuses clients with 403 and unauthenticated callers with 401", async () => {
    expect((await request(server.app).get("/api/admin/users").set(auth(alice))).status).toBe(403);
    expect((await request(server.app).get("/api/admin/metrics")).status).toBe(401);
  });

  it("lists users and business metrics for an admin", async () => {
    const admin = await server.login("admin@example.com", "admin-password-1");
    await book(alice, { barberId: 1, serviceId: 3, startTime: slot("09:00") });
    const users = await request(server.app).get("/api/admin/users?limit=2").set(auth(admin));
    expect(users.status).toBe(200);
    expect(users.body.users).toHaveLength(2);
    expect(users.body.total).toBe(6);
    const metrics = await request(server.app).get("/api/admin/metrics").set(auth(admin));
    expect(metrics.body).toEqual({ activeUsers: 6, upcomingAppointments: 1, revenueLast30DaysCents: 0 });
  });
});

describe("unknown routes", () => {
  it("answer 404 problem+json", async () => {
    const res = await request(server.app).get("/api/nope");
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
  });

  it("liveness answers 200", async () => {
    expect((await request(server.app).get("/monitoring/liveness")).status).toBe(200);
  });
});
