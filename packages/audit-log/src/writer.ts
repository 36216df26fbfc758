import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { chainLine, fileNumber, GENESIS, SEAL_EVENT, splitName, splitRecord } from "./chain.js";

export interface ChainWriterOptions {
  dir: string;
  file: string;
  maxSize: number;
  maxFiles: number;
  key: Buffer | undefined;
  durable: boolean;
  fsync: boolean;
  /** Called (at most once per kind) when the writer has something to warn about. */
  onWarning(code: `WRN_PALISADE_${string}`, message: string, details: Record<string, unknown>): void;
}

const TAIL_BYTES = 1024 * 1024;

/**
 * The audit trail file writer. Runs in the main thread and writes with `writeSync`: the hmac
 * chain needs one total order of records, a `durable` record must be in the file before the
 * response that acknowledges it, and rotation must put the seal before the next record. A
 * worker-thread transport (pino-roll) acknowledges nothing and rotates on its own schedule, so
 * it cannot give those guarantees; application logs use it, the audit trail does not.
 *
 * Files are `<stem>.<n><ext>` (`audit.1.log`, `audit.2.log`, ...), the highest number active.
 * Every file starts with a seal record carrying the previous file's last hmac. It is also a
 * pino destination: `write(line)` takes one JSON line.
 */
export class ChainWriter {
  readonly dir: string;
  readonly stem: string;
  readonly extension: string;
  private readonly options: ChainWriterOptions;
  private fd = -1;
  private number = 0;
  private size = 0;
  private seq = 0;
  private prev = GENESIS;
  private pending: string[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Counts users of this writer (instances sharing one file in one process). */
  refs = 1;

  constructor(options: ChainWriterOptions) {
    this.options = options;
    this.dir = resolve(options.dir);
    const { stem, extension } = splitName(options.file);
    this.stem = stem;
    this.extension = extension;
    mkdirSync(this.dir, { recursive: true });
    this.resume();
    // Batched records still queued when the process exits normally are written on the way out.
    if (!options.durable) process.once("exit", this.flushOnExit);
  }

  private readonly flushOnExit = () => {
    try {
      this.flushSync();
    } catch {
      // Nothing left to report to at exit.
    }
  };

  /** Path of the active file. */
  get path(): string {
    return this.fileName(this.number);
  }

  /** Sequence number of the last record written. */
  get lastSeq(): number {
    return this.seq;
  }

  private fileName(number: number): string {
    return join(this.dir, `${this.stem}.${number}${this.extension}`);
  }

  private numbers(): number[] {
    return readdirSync(this.dir)
      .map((name) => fileNumber(name, this.stem, this.extension))
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
  }

  /** Picks up the chain where the last process left it (numbering, seq and hmac survive a restart). */
  private resume(): void {
    const numbers = this.numbers();
    const highest = numbers[numbers.length - 1];
    let previous: { seq: number; hmac: string; file: string } | undefined;
    let reason: string | undefined;
    if (highest === undefined) {
      this.number = 1;
    } else {
      const tail = readTail(this.fileName(highest));
      if (tail.empty) {
        // Crash between creating the file and writing its seal: reuse it.
        this.number = highest;
        previous = this.lastRecord(numbers.slice(0, -1));
      } else if (tail.partial || !tail.last || !parseChained(tail.last)) {
        // A torn or unreadable last line (crash mid-write, or tampering): leave the file as
        // evidence and continue in a new file whose seal names the last complete record.
        this.number = highest + 1;
        reason = `the previous file ${this.stem}.${highest}${this.extension} ends in an incomplete or unreadable line`;
        this.options.onWarning("WRN_PALISADE_AUDIT_TORN_TAIL", `${reason}; continuing in a new file.`, {
          file: this.fileName(highest),
        });
        previous = this.lastRecord(numbers);
      } else {
        this.number = highest;
        previous = this.lastRecord([highest]);
      }
    }
    if (previous) {
      this.seq = previous.seq;
      this.prev = previous.hmac;
    }
    this.fd = openSync(this.path, "a");
    this.size = fstatSync(this.fd).size;
    if (this.size === 0) {
      this.writeSeal(previous?.file ?? null, reason);
      this.flushSync();
    }
  }

  /** The last complete, parseable record in the newest of `numbers` that has one. */
  private lastRecord(numbers: number[]): { seq: number; hmac: string; file: string } | undefined {
    for (let i = numbers.length - 1; i >= 0; i--) {
      const file = `${this.stem}.${numbers[i]}${this.extension}`;
      const tail = readTail(join(this.dir, file));
      const parsed = tail.last ? parseChained(tail.last) : undefined;
      if (parsed) return { ...parsed, file };
    }
    return undefined;
  }

  private writeSeal(previousFile: string | null, reason?: string): void {
    const seal: Record<string, unknown> = {
      time: new Date().toISOString(),
      category: "audit",
      event: SEAL_EVENT,
      prevFile: previousFile,
      prevHmac: this.prev,
    };
    if (reason) seal.reason = reason;
    this.append(`${JSON.stringify(seal)}\n`);
  }

  /** Chains and queues one JSON line; writes it now when durable. Returns its seq. */
  write(line: string): number {
    if (this.closed) return 0;
    if (this.size >= this.options.maxSize) this.rotate();
    const seq = this.append(line);
    if (this.options.durable) this.flushSync();
    else this.scheduleFlush();
    return seq;
  }

  private append(line: string): number {
    const seq = ++this.seq;
    const { text, hmac } = chainLine(line, seq, this.prev, this.options.key);
    this.prev = hmac;
    this.pending.push(text);
    this.size += Buffer.byteLength(text);
    return seq;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushSync();
    });
  }

  /** Writes every queued record to the active file. */
  flushSync(): void {
    if (this.pending.length === 0 || this.fd < 0) return;
    const data = Buffer.from(this.pending.length === 1 ? this.pending[0]! : this.pending.join(""));
    this.pending = [];
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.fd, data, offset);
    if (this.options.fsync) fsyncSync(this.fd);
  }

  private rotate(): void {
    this.flushSync();
    closeSync(this.fd);
    const previousFile = `${this.stem}.${this.number}${this.extension}`;
    this.number++;
    this.fd = openSync(this.path, "a");
    this.size = 0;
    this.writeSeal(previousFile);
    this.flushSync();
    this.prune();
  }

  private prune(): void {
    const { maxFiles } = this.options;
    if (maxFiles <= 0) return;
    for (const number of this.numbers()) {
      if (number <= this.number - maxFiles) rmSync(this.fileName(number), { force: true });
    }
  }

  /** Flushes and closes the file. */
  close(): void {
    if (this.closed) return;
    process.removeListener("exit", this.flushOnExit);
    this.flushSync();
    this.closed = true;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function parseChained(line: string): { seq: number; hmac: string } | undefined {
  const { body, hmac } = splitRecord(line);
  try {
    const record = JSON.parse(body) as { seq?: unknown };
    if (typeof record.seq !== "number") return undefined;
    return { seq: record.seq, hmac: hmac ?? GENESIS };
  } catch {
    return undefined;
  }
}

/** The last complete line of a file, and whether an incomplete line follows it. */
export function readTail(path: string): { last: string | undefined; partial: boolean; empty: boolean } {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return { last: undefined, partial: false, empty: true };
  }
  if (size === 0) return { last: undefined, partial: false, empty: true };
  const length = Math.min(size, TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const text = buffer.toString("utf8");
  const partial = !text.endsWith("\n");
  const lines = text.split("\n");
  lines.pop();
  return { last: lines[lines.length - 1], partial, empty: false };
}
