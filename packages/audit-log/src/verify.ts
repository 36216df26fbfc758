import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chainHmac, fileNumber, GENESIS, SEAL_EVENT, splitName, splitRecord } from "./chain.js";

/** What went wrong first in an audit trail. */
export const VERIFY_PROBLEMS = ["altered", "removed", "reordered", "truncated", "unchained", "missing"] as const;
export type VerifyProblemKind = (typeof VERIFY_PROBLEMS)[number];

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** File name inside the directory. */
  file: string;
  /** 1-based line number. */
  line: number;
  /** Sequence number found on that line, when readable. */
  seq?: number;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Files checked, oldest first. */
  files: string[];
  /** Records checked (seals included). */
  records: number;
  firstSeq?: number;
  lastSeq?: number;
  /** The first problem, when `ok` is false. */
  problem?: VerifyProblem;
  /** Facts worth knowing that are not failures (e.g. older files removed by retention). */
  notes: string[];
}

export interface VerifyOptions {
  /** Audit file name the writer used. Defaults to `"audit.log"`. */
  file?: string;
}

interface Parsed {
  seq: number;
  event?: unknown;
  prevHmac?: unknown;
  prevFile?: unknown;
  reason?: unknown;
}

/**
 * Checks an audit trail directory: every record's hmac chains to the one before it, sequence
 * numbers have no gaps and no reordering, every file starts with a seal naming the previous
 * file's last record, and no file ends in a torn line. Reports the first problem found.
 *
 * Removing whole records from the end of the newest file cannot be detected from the files
 * alone (nothing after them refers to them); ship the trail off the host to cover that.
 *
 * @example
 * const result = verifyAuditTrail("/var/log/app", readFileSync("/etc/app/audit.key"));
 * if (!result.ok) console.error(result.problem?.message);
 */
export function verifyAuditTrail(dir: string, key: Buffer, options: VerifyOptions = {}): VerifyResult {
  const { stem, extension } = splitName(options.file ?? "audit.log");
  const numbered = readdirSync(dir)
    .map((name) => ({ name, number: fileNumber(name, stem, extension) }))
    .filter((entry): entry is { name: string; number: number } => entry.number !== undefined)
    .sort((a, b) => a.number - b.number);
  const result: VerifyResult = { ok: true, files: numbered.map((entry) => entry.name), records: 0, notes: [] };
  const fail = (problem: VerifyProblem): VerifyResult => ({ ...result, ok: false, problem });
  if (numbered.length === 0) {
    return fail({
      kind: "missing",
      file: `${stem}.1${extension}`,
      line: 0,
      message: `no ${stem}.<n>${extension} files in ${dir}`,
    });
  }

  let prev: string | undefined;
  let expectedSeq: number | undefined;
  let tornTail: VerifyProblem | undefined;
  for (let f = 0; f < numbered.length; f++) {
    const { name, number } = numbered[f]!;
    if (f > 0 && number !== numbered[f - 1]!.number + 1) {
      return fail({
        kind: "missing",
        file: name,
        line: 1,
        message: `${stem}.${numbered[f - 1]!.number + 1}${extension} is missing (found ${numbered[f - 1]!.name} then ${name})`,
      });
    }
    const text = readFileSync(join(dir, name), "utf8");
    const lines = text.split("\n");
    const torn = lines.pop();
    if (lines.length === 0 && !torn) {
      if (f === numbered.length - 1) {
        result.notes.push(`${name} is empty (the writer had just created it)`);
        continue;
      }
      return fail({ kind: "removed", file: name, line: 1, message: `${name} is empty but newer files follow it` });
    }
    const seqs = lines.map(readSeq);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const at = { file: name, line: i + 1 };
      const { body, hmac } = splitRecord(line);
      let record: Parsed;
      try {
        record = JSON.parse(body) as Parsed;
        if (typeof record.seq !== "number") throw new Error("no seq");
      } catch {
        return fail({ kind: "altered", ...at, message: `${name}:${i + 1} is not a readable audit record` });
      }
      const { seq } = record;
      if (hmac === undefined) {
        return fail({
          kind: "unchained",
          ...at,
          seq,
          message: `${name}:${i + 1} (seq ${seq}) has no hmac: it was written without a key, or its hmac was removed`,
        });
      }
      if (i === 0) {
        if (record.event !== SEAL_EVENT || typeof record.prevHmac !== "string") {
          return fail({
            kind: "removed",
            ...at,
            seq,
            message: `${name} does not start with its seal record: records were removed from its head`,
          });
        }
        if (prev === undefined) {
          prev = record.prevHmac;
          expectedSeq = seq;
          result.firstSeq = seq;
          if (record.prevHmac !== GENESIS || seq !== 1) {
            result.notes.push(
              `the trail starts at seq ${seq} in ${name}, after ${String(record.prevFile)} (older files were removed, e.g. by retention)`,
            );
          }
        } else if (tornTail) {
          // The writer found this torn line at startup and said so in the seal (hmac-covered).
          if (typeof record.reason !== "string" || record.prevHmac !== prev) return fail(tornTail);
          result.notes.push(`${tornTail.file} ends in an incomplete line, acknowledged by the seal of ${name}`);
          tornTail = undefined;
        } else if (record.prevHmac !== prev) {
          const previousName = numbered[f - 1]!.name;
          return fail({
            kind: "truncated",
            ...at,
            seq,
            message: `the seal of ${name} refers to a record that is not the last one of ${previousName}: ${previousName} lost records at its tail`,
          });
        }
      }
      if (seq !== expectedSeq) {
        if (seq < expectedSeq! || seqs.slice(i + 1).includes(expectedSeq!)) {
          return fail({
            kind: "reordered",
            ...at,
            seq,
            message: `${name}:${i + 1} has seq ${seq} where seq ${expectedSeq} was expected: records were reordered`,
          });
        }
        return fail({
          kind: "removed",
          ...at,
          seq,
          message: `${name}:${i + 1} has seq ${seq} where seq ${expectedSeq} was expected: ${seq - expectedSeq!} record(s) removed`,
        });
      }
      if (chainHmac(key, prev!, body) !== hmac) {
        const hint = result.records === 0 ? " (or the key is not the one the trail was written with)" : "";
        return fail({
          kind: "altered",
          ...at,
          seq,
          message: `${name}:${i + 1} (seq ${seq}) does not match its hmac: the record was altered${hint}`,
        });
      }
      prev = hmac;
      expectedSeq = seq + 1;
      result.lastSeq = seq;
      result.records++;
    }
    if (torn) {
      tornTail = {
        kind: "truncated",
        file: name,
        line: lines.length + 1,
        message: `${name}:${lines.length + 1} is an incomplete record: the file was truncated`,
      };
      if (f === numbered.length - 1) return fail(tornTail);
    }
  }
  return result;
}

function readSeq(line: string): number | undefined {
  const match = /^\{"seq":(\d+)/.exec(line);
  return match ? Number(match[1]) : undefined;
}

/** One line for people: `OK: ...` or `FAIL (kind): ...`. */
export function formatVerifyResult(result: VerifyResult): string {
  const notes = result.notes.map((note) => `\n  note: ${note}`).join("");
  if (result.ok) {
    return `OK: ${result.records} records in ${result.files.length} file(s), seq ${result.firstSeq ?? "-"}..${result.lastSeq ?? "-"}${notes}`;
  }
  return `FAIL (${result.problem!.kind}): ${result.problem!.message}${notes}`;
}
