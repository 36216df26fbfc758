import { Router } from "express";
import type { AppContext } from "../context.js";
import { invalid, notFound } from "../http-error.js";
import { day, id } from "../validate.js";

export const SLOT_STEP_MINUTES = 30;

export function catalogRoutes(ctx: AppContext): Router {
  const { store, config } = ctx;
  const router = Router();

  router.get("/barbers", (_req, res) => {
    res.json({ barbers: store.barbers() });
  });

  router.get("/services", (_req, res) => {
    res.json({ services: store.services() });
  });

  router.get("/barbers/:id/availability", (req, res) => {
    const barberId = id(req.params.id, "id");
    const date = day(req.query.date, "date");
    const service = req.query.serviceId === undefined ? undefined : store.service(id(req.query.serviceId, "serviceId"));
    if (req.query.serviceId !== undefined && !service) throw invalid("serviceId", "does not name a service.");
    if (!store.barber(barberId)) throw notFound("No such barber.");
    const duration = (service?.durationMinutes ?? SLOT_STEP_MINUTES) * 60_000;
    const open = Date.parse(`${date}T${String(config.openHour).padStart(2, "0")}:00:00Z`);
    const close = Date.parse(`${date}T${String(config.closeHour).padStart(2, "0")}:00:00Z`);
    const booked = store
      .barberBookings(barberId, new Date(open).toISOString(), new Date(close).toISOString())
      .map((b) => [Date.parse(b.start_time), Date.parse(b.end_time)] as const);
    const now = ctx.now().getTime();
    const slots: { start: string; end: string }[] = [];
    for (let start = open; start + duration <= close; start += SLOT_STEP_MINUTES * 60_000) {
      const end = start + duration;
      if (start <= now) continue;
      if (booked.some(([s, e]) => s < end && e > start)) continue;
      slots.push({ start: new Date(start).toISOString(), end: new Date(end).toISOString() });
    }
    res.json({ date, barberId, serviceId: service?.id ?? null, slots });
  });

  router.get("/search", (req, res) => {
    const q = req.query.q;
    if (typeof q !== "string" || q.trim().length === 0 || q.length > 100) {
      throw invalid("q", "must be a search text of 1 to 100 characters.");
    }
    res.json({ q, ...store.search(q.trim()) });
  });

  return router;
}
