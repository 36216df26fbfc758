import validator from "validator";
import { invalid } from "./http-error.js";

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
