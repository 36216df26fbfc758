import { type Request, Router } from "express";
import { requireUser } from "../auth.js";
import type { AppContext } from "../context.js";
import { HttpError, invalid, notFound } from "../http-error.js";
import { luhnValid } from "../payments.js";
import { type AppointmentRow, appointment, payment } from "../store.js";
import { bodyOf, encodeCursor, id, instant, pageCursor, pageLimit, string } from "../validate.js";

export function appointmentRoutes(ctx: AppContext): Router {
  const { store, config } = ctx;
  const router = Router();
  router.use(requireUser());

  /** 404 unless the appointment exists and belongs to the caller (admins see all): no id probing. */
  function ownAppointment(req: Request): AppointmentRow {
    const row = store.appointment(id(req.params.id, "id"));
    if (!row || (row.client_id !== req.user!.id && req.user!.role !== "admin")) {
      if (row) ctx.audit(req, "authz_fail", { resource: "appointment", appointmentId: row.id });
      throw notFound("No such appointment.");
    }
    return row;
  }

  /** Checks that [start, start + duration) lies inside opening hours, on a quarter hour, in the future. */
  function slot(start: Date, durationMinutes: number, field: string): { start: string; end: string } {
    const end = new Date(start.getTime() + durationMinutes * 60_000);
    if (start.getTime() <= ctx.now().getTime()) throw invalid(field, "must be in the future.");
    if (start.getUTCMinutes() % 15 !== 0 || start.getUTCSeconds() !== 0 || start.getUTCMilliseconds() !== 0) {
      throw invalid(field, "must be on a quarter hour (:00, :15, :30 or :45).");
    }
    const sameDay = start.toISOString().slice(0, 10) === end.toISOString().slice(0, 10) || end.getUTCHours() === 0;
    const endHour = end.getUTCHours() + end.getUTCMinutes() / 60 || 24;
    if (!sameDay || start.getUTCHours() < config.openHour || endHour > config.closeHour) {
      throw invalid(field, `must fall within opening hours, ${config.openHour}:00 to ${config.closeHour}:00 UTC.`);
    }
    return { start: start.toISOString(), end: end.toISOString() };
  }

  router.post("/", (req, res) => {
    const body = bodyOf(req.body);
    const barberId = id(body.barberId, "barberId");
    const serviceId = id(body.serviceId, "serviceId");
    const start = instant(body.startTime, "startTime");
    const notes = string(body, "notes", { min: 0, max: 500, optional: true });
    if (!store.barber(barberId)) throw invalid("barberId", "does not name a barber.");
    const service = store.service(serviceId);
    if (!service) throw invalid("serviceId", "does not name a service.");
    const times = slot(start, service.durationMinutes, "startTime");
    const booked = store.book({ barberId, serviceId, clientId: req.user!.id, notes, ...times });
    if (!booked) throw new HttpError(409, "That time is no longer free.", { reason: "slot_taken" });
    ctx.audit(req, "booking_created", { appointmentId: booked.id, barberId, startTime: booked.startTime });
    res.status(201).location(`/api/appointments/${booked.id}`).json({ appointment: booked });
  });

  // Newest first, `limit` (default 50, at most 100) at a time; `next` is the `cursor` of the
  // following page, null on the last.
  router.get("/", (req, res) => {
    const query = req.query as Record<string, unknown>;
    const limit = pageLimit(query.limit, "limit");
    const page = store.clientAppointments(req.user!.id, limit, pageCursor(query.cursor, "cursor"));
    res.json({ appointments: page.appointments, next: page.next ? encodeCursor(page.next) : null });
  });

  router.get("/:id", (req, res) => {
    res.json({ appointment: appointment(ownAppointment(req)) });
  });

  router.patch("/:id", (req, res) => {
    const row = ownAppointment(req);
    const body = bodyOf(req.body);
    if (row.status !== "booked")
      throw new HttpError(409, "Only booked appointments can be rescheduled.", { reason: "not_booked" });
    const service = store.service(row.service_id)!;
    const times = slot(instant(body.startTime, "startTime"), service.durationMinutes, "startTime");
    const outcome = store.reschedule(row.id, row.barber_id, times.start, times.end);
    if (outcome === "conflict") throw new HttpError(409, "That time is no longer free.", { reason: "slot_taken" });
    if (outcome === "gone")
      throw new HttpError(409, "Only booked appointments can be rescheduled.", { reason: "not_booked" });
    ctx.audit(req, "booking_rescheduled", { appointmentId: row.id, from: row.start_time, to: times.start });
    res.json({ appointment: appointment(store.appointment(row.id)!) });
  });

  router.post("/:id/cancel", (req, res) => {
    const row = ownAppointment(req);
    if (!store.cancel(row.id)) throw new HttpError(409, "The appointment is not booked.", { reason: "not_booked" });
    ctx.audit(req, "booking_cancelled", { appointmentId: row.id });
    res.json({ appointment: appointment(store.appointment(row.id)!) });
  });

  router.post("/:id/payments", async (req, res) => {
    const row = ownAppointment(req);
    const body = bodyOf(req.body);
    const cardNumber = string(body, "cardNumber", { min: 12, max: 23 });
    if (!luhnValid(cardNumber)) throw invalid("cardNumber", "is not a valid card number.");
    if (row.status !== "booked")
      throw new HttpError(409, "Only booked appointments can be paid.", { reason: "not_booked" });
    if (store.approvedPayment(row.id))
      throw new HttpError(409, "This appointment is already paid.", { reason: "already_paid" });
    const service = store.service(row.service_id)!;
    const result = await ctx.payments.charge({
      amountCents: service.priceCents,
      cardNumber,
      description: `${service.name} #${row.id}`,
    });
    // A concurrent request may have paid while the provider answered; the check runs again.
    if (result.status === "approved" && store.approvedPayment(row.id)) {
      throw new HttpError(409, "This appointment is already paid.", { reason: "already_paid" });
    }
    const saved = payment(
      store.recordPayment(req.user!.id, row.id, service.priceCents, result.status, result.reference),
    );
    if (result.status === "declined") {
      ctx.audit(req, "payment_failed", { appointmentId: row.id, paymentId: saved.id, reason: result.declineReason });
      throw new HttpError(402, "The card was declined.", {
        reason: result.declineReason ?? "declined",
        payment: saved,
      });
    }
    ctx.audit(req, "payment_captured", { appointmentId: row.id, paymentId: saved.id, amountCents: saved.amountCents });
    res.status(201).json({ payment: saved });
  });

  return router;
}
