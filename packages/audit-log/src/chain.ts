import { createHmac } from "node:crypto";

/** The `prev` of the very first record of a chain. */
export const GENESIS = "0".repeat(64);

/** The event name of the record each audit file starts with. */
export const SEAL_EVENT = "audit_seal";

const HMAC_SUFFIX = /,"hmac":"([0-9a-f]{64})"}$/;

/** `HMAC-SHA256(key, prev || body)` as lowercase hex. */
export function chainHmac(key: Buffer, prev: string, body: string): string {
  return createHmac("sha256", key).update(prev).update(body).digest("hex");
}

/**
 * Turns one JSON line (`{...}\n`, as pino writes it) into a chained record: `seq` first, `hmac`
 * last, the hmac computed over the exact bytes in between so the verifier needs no canonical form.
 */
export function chainLine(
  line: string,
  seq: number,
  prev: string,
  key: Buffer | undefined,
): { text: string; hmac: string } {
  const end = line.endsWith("\n") ? line.length - 2 : line.length - 1;
  const inner = line.slice(1, end);
  const body = `{"seq":${seq}${inner.length > 0 ? "," : ""}${inner}}`;
  if (!key) return { text: `${body}\n`, hmac: prev };
  const hmac = chainHmac(key, prev, body);
  return { text: `${body.slice(0, -1)},"hmac":"${hmac}"}\n`, hmac };
}

/** A chained line split back into the hashed body and its hmac (`undefined` when unchained). */
export function splitRecord(line: string): { body: string; hmac: string | undefined } {
  const match = HMAC_SUFFIX.exec(line);
  if (!match) return { body: line, hmac: undefined };
  return { body: `${line.slice(0, match.index)}}`, hmac: match[1] };
}

/** Reads an HMAC key from a string (used as UTF-8 bytes) and checks its length. */
export function keyBytes(key: string | Buffer): Buffer {
  return typeof key === "string" ? Buffer.from(key.trim(), "utf8") : key;
}

/** Number of an audit file name (`audit.12.log` -> 12), or `undefined` for other names. */
export function fileNumber(name: string, stem: string, extension: string): number | undefined {
  if (!name.startsWith(`${stem}.`) || !name.endsWith(extension)) return undefined;
  const middle = name.slice(stem.length + 1, name.length - extension.length);
  return /^[1-9]\d{0,9}$/.test(middle) ? Number(middle) : undefined;
}

/** `audit.log` -> `{ stem: "audit", extension: ".log" }`. */
export function splitName(file: string): { stem: string; extension: string } {
  const dot = file.lastIndexOf(".");
  if (dot <= 0) return { stem: file, extension: ".log" };
  return { stem: file.slice(0, dot), extension: file.slice(dot) };
}
