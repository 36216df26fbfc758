import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A pino destination that keeps every line, parsed. */
export function memoryStream() {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
    /** Lines whose `msg` equals `msg`. */
    withMsg(msg: string) {
      return lines.filter((line) => line.msg === msg);
    },
  };
}

/**
 * Records of every audit file in `dir`, oldest first, parsed. A file's unterminated last line
 * (a write cut short by kill -9) is not a record and is left out; every complete line must parse.
 */
export function auditRecords(dir: string, stem = "audit"): Record<string, unknown>[] {
  return auditFiles(dir, stem).flatMap((name) => {
    const lines = readFileSync(join(dir, name), "utf8").split("\n");
    // The text after the last newline: "" when the file ends in one, else a torn record.
    lines.pop();
    return lines.filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  });
}

/** `audit.<n>.log` names in `dir`, oldest first. */
export function auditFiles(dir: string, stem = "audit"): string[] {
  return readdirSync(dir)
    .filter((name) => new RegExp(`^${stem}\\.\\d+\\.log$`).test(name))
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
}

export const KEY = "test-key-0123456789abcdef";
