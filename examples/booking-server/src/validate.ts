import validator from "validator";
import { invalid } from "./http-error.js";
import type { PageKey } from "./store.js";

type Body = Record<string, unknown>;

/** The JSON body as an object, or a 400 when it is something else. */
export function bodyOf(body: unknown): Body {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalid("body", "must be a JSON object.");
  return body as Body;
}

export function string(body: Body, field: string, { min = 1, max = 200, optional = false } = {}): string {
  const value = body[field];
  if (value === undefined && optional) return "";
  if (typeof value !== "string") throw invalid(field, "is required and must be a string.");
  const trimmed = value.trim();
  if (trimmed.length < min || trimmed.length > max) {
    throw invalid(field, `must be ${min} to ${max} characters long.`);
  }
  return trimmed;
}

export function email(body: Body, field = "email"): string {
  const value = string(body, field, { max: 254 });
  if (!validator.isEmail(value)) throw invalid(field, "must be an email address.");
  return value.toLowerCase();
}

export function password(body: Body, field = "password"): string {
  const value = body[field];
  if (typeof value !== "string" || value.length < 8 || value.length > 200) {
    throw invalid(field, "must be a string of 8 to 200 characters.");
  }
  return value;
}

export function id(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === "string" && /^[1-9]\d{0,15}$/.test(value)) return Number(value);
  throw invalid(field, "must be a positive integer id.");
}

/** An ISO 8601 date-time with a time zone, returned as a Date. */
export function instant(value: unknown, field: string): Date {
  if (
    typeof value !== "string" ||
    !validator.isISO8601(value, { strict: true, strictSeparator: true }) ||
    !/(Z|[+-]\d\d:?\d\d)$/.test(value)
  ) {
    throw invalid(field, "must be an ISO 8601 date-time with a time zone, e.g. 2026-12-01T10:00:00Z.");
  }
  return new Date(value);
}

/** A calendar date `YYYY-MM-DD`. */
export function day(value: unknown, field: string): string {
  if (
    typeof value !== "string" ||
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    !validator.isDate(value, { format: "YYYY-MM-DD", strictMode: true })
  ) {
    throw invalid(field, "must be a date in the form YYYY-MM-DD.");
  }
  return value;
}

/** A page size from the query string: `fallback` when absent, else an integer from 1 to `max`. */
export function pageLimit(value: unknown, field: string, { max = 100, fallback = 50 } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !/^[1-9]\d{0,5}$/.test(value) || Number(value) > max) {
    throw invalid(field, `must be an integer from 1 to ${max}.`);
  }
  return Number(value);
}

/** The opaque `next` value of a page: where the following page starts. */
export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.startTime, key.id])).toString("base64url");
}

/** A cursor from the query string, as `encodeCursor` made it; anything else is a 400. */
export function pageCursor(value: unknown, field: string): PageKey | undefined {
  if (value === undefined) return undefined;
  let key: unknown;
  try {
    key = typeof value === "string" && value.length <= 200 ? JSON.parse(Buffer.from(value, "base64url").toString()) : 0;
  } catch {
    key = undefined;
  }
  if (
    !Array.isArray(key) ||
    key.length !== 2 ||
    typeof key[0] !== "string" ||
    !validator.isISO8601(key[0], { strict: true, strictSeparator: true }) ||
    !(Number.isSafeInteger(key[1]) && key[1] > 0)
  ) {
    throw invalid(field, "must be the `next` value of a previous page.");
  }
  return { startTime: key[0], id: key[1] };
}
