import express from "express";
import { inputSanitizer } from "../../packages/input-sanitizer/src/index.js";
import { defineBench } from "../harness.js";

// Middleware overhead on a typical JSON booking request: bare Express vs Express +
// inputSanitizer() in block mode at paranoia level 1, both with the JSON body parser.
// `readEveryByte` is a yardstick: a middleware that reads each character of the strings the
// sanitizer inspects (body keys and values, User-Agent, path) and nothing more, the floor of
// any detector written in JavaScript. BENCH_NOTES replaces the free-text notes (for example
// with plain words, to see what the punctuated note alone costs).
const booking = JSON.stringify({
  serviceId: "haircut-deluxe",
  barberId: 7,
  start: "2026-12-24T10:30:00Z",
  client: { name: "Seán O'Brien", email: "sean.obrien@example.com", phone: "+353 1 234 5678" },
  notes: process.env.BENCH_NOTES ?? "Skin fade, #2 on the sides; I'll be 5 min late. Select whoever is free <3",
  voucher: "SUMMER-2026",
});

function readEveryByte(value: unknown): number {
  if (typeof value === "string") {
    let sum = 0;
    for (let i = 0; i < value.length; i++) sum += value.charCodeAt(i);
    return sum;
  }
  if (typeof value !== "object" || value === null) return 0;
  let sum = 0;
  for (const key of Object.keys(value))
    sum += readEveryByte(key) + readEveryByte((value as Record<string, unknown>)[key]);
  return sum;
}

// Kept so the reads are not optimised away.
export let bytesRead = 0;

function app(withSanitizer: boolean, floor = false) {
  const a = express();
  a.use(express.json());
  if (floor) {
    a.use((req, _res, next) => {
      bytesRead += readEveryByte(req.body) + readEveryByte(req.headers["user-agent"]) + readEveryByte(req.originalUrl);
      next();
    });
  }
  if (withSanitizer) {
    a.use(inputSanitizer({ fields: { "body.client.email": "email", "body.start": "isoDate" } }));
  }
  a.post("/api/bookings", (req, res) => {
    res.status(201).json({ ok: true, id: 1, service: req.body.serviceId });
  });
  return a;
}

export default defineBench({
  kind: "http",
  description: "bare Express vs Express + inputSanitizer() on a JSON booking POST",
  variants: { bare: () => app(false), inputSanitizer: () => app(true), readEveryByte: () => app(false, true) },
  request: {
    method: "POST",
    path: "/api/bookings",
    headers: { "content-type": "application/json", "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0" },
    body: booking,
  },
  targets: [{ variant: "inputSanitizer", minRatio: 0.9 }],
});
