import type { IncomingHttpHeaders } from "node:http";

// Letters, digits and the punctuation request ids use in practice (UUIDs, ULIDs, base64url,
// "svc:1234", "a/b+c="); nothing that could break a header, a log line or a shell.
const ID_CHARS = /^[A-Za-z0-9._:@/+=-]+$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_PARENT = "0".repeat(16);

/** An incoming request id, if it is a single header value of accepted length and characters. */
export function acceptId(value: string | string[] | undefined, maxLength: number): string | undefined {
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) return undefined;
  return ID_CHARS.test(value) ? value : undefined;
}

/**
 * The trace id of a valid W3C `traceparent` header (version 00, or a later version read the
 * way the spec says: its first four fields), else `undefined`.
 */
export function traceIdFrom(value: string | string[] | undefined): string | undefined {
  if (typeof value !== "string" || value.length < 55 || value.length > 512) return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, parentId, , rest] = match;
  if (version === "ff" || traceId === ZERO_TRACE || parentId === ZERO_PARENT) return undefined;
  if (version === "00" && rest !== undefined) return undefined;
  return traceId;
}

/** Picks the request id: a valid incoming id, else a traceparent's trace id, else a new one. */
export function resolveRequestId(
  headers: IncomingHttpHeaders,
  header: string,
  trustIncoming: boolean,
  maxLength: number,
  generate: () => string,
): string {
  if (trustIncoming) {
    const incoming = acceptId(headers[header], maxLength);
    if (incoming) return incoming;
    const traceId = traceIdFrom(headers.traceparent);
    if (traceId) return traceId;
  }
  return generate();
}
