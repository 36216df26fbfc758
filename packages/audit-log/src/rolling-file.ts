import { EventEmitter } from "node:events";
import { readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileNumber, splitName } from "./chain.js";

/** The part of pino-roll's SonicBoom stream used here. */
interface SonicBoomLike extends EventEmitter {
  write(data: string): boolean;
  flushSync(): void;
  end(): void;
}

type PinoRoll = (options: Record<string, unknown>) => Promise<SonicBoomLike>;

export interface RollingFileOptions {
  file: string;
  maxSize: number;
  maxFiles: number;
}

// Lines are collected here and handed to SonicBoom as one string once this many characters
// are waiting (or a second after the first one), so a busy server makes one write(2) per batch instead
// of one per line. SonicBoom appends each string it is given to its last buffered one and
// measures that one's byte length again, which costs a copy of everything buffered per line;
// one string per batch makes that once per batch.
const MIN_BATCH = 32 * 1024;
const MAX_WRITE = 2 * MIN_BATCH;
// Bound on lines waiting for a slow disk; beyond it lines are dropped (and "drop" emitted)
// rather than held in memory without limit. The worker transport blocks the event loop instead.
const MAX_BUFFERED = 16 * 1024 * 1024;
const FLUSH_INTERVAL_MS = 1000;

/**
 * pino-roll's stream in the calling thread: pino hands it each line, SonicBoom buffers lines
 * and writes them asynchronously through libuv's thread pool (the event loop never waits for
 * the disk), and pino-roll rotates by size and prunes by count as it does in a worker. pino-roll
 * opens its file asynchronously; lines logged before that are queued. Lines still buffered at
 * a normal process exit are written synchronously on the way out.
 */
export class RollingFile extends EventEmitter {
  private stream: SonicBoomLike | undefined;
  /** Lines not yet handed to the stream (all of them until pino-roll has opened the file). */
  private pending: string[] = [];
  private pendingLength = 0;
  /** Characters of waiting lines that make a batch. */
  private readonly batch: number;
  private timer: NodeJS.Timeout | undefined;
  private failed = false;
  private ending = false;
  private closed = false;
  private closeEmitted = false;
  /** Rotations whose pruning of old files (asynchronous in pino-roll) has not finished. */
  private pruning = 0;

  constructor(target: string, options: RollingFileOptions) {
    super();
    const pinoRoll = createRequire(import.meta.url)(target) as PinoRoll;
    this.batch = Math.min(MIN_BATCH, Math.floor(options.maxSize / 4));
    pinoRoll({
      file: options.file,
      size: `${options.maxSize}b`,
      mkdir: true,
      sync: false,
      minLength: 0,
      maxWrite: MAX_WRITE,
      maxLength: MAX_BUFFERED,
    }).then(
      (stream) => {
        this.stream = stream;
        stream.on("error", (error) => this.emit("error", error));
        stream.on("drop", () => this.emit("drop"));
        if (options.maxFiles > 0) {
          // SonicBoom emits "ready" on each (re)open; after the first, pino-roll has rotated to
          // a new file, which now exists. pino-roll's own `limit` prunes right after starting
          // the asynchronous reopen and so, in this thread, may not see the new file yet and
          // keep one file too many; pruning here, by number, keeps exactly maxFiles.
          let opened = false;
          stream.on("ready", () => {
            if (opened) this.prune(options.file, options.maxFiles);
            opened = true;
          });
        }
        stream.once("close", () => {
          this.closed = true;
          this.emitCloseWhenDone();
        });
        if (this.ending) {
          this.handOver();
          stream.end();
        } else if (this.pendingLength >= this.batch) this.handOver();
        else if (this.pending.length > 0) this.schedule();
      },
      (error: unknown) => {
        this.failed = true;
        this.pending = [];
        this.pendingLength = 0;
        process.removeListener("exit", this.flushOnExit);
        this.emit("error", error);
        if (this.ending) this.emit("close");
      },
    );
    process.on("exit", this.flushOnExit);
  }

  private readonly flushOnExit = () => {
    try {
      this.handOver();
      this.stream?.flushSync();
    } catch {
      // Nothing left to report to at exit.
    }
  };

  private prune(file: string, maxFiles: number): void {
    const dir = dirname(file);
    const { stem, extension } = splitName(basename(file));
    this.pruning++;
    readdir(dir)
      .then((names) => {
        const numbered = names
          .map((name) => ({ name, number: fileNumber(name, stem, extension) }))
          .filter((entry): entry is { name: string; number: number } => entry.number !== undefined)
          .sort((a, b) => a.number - b.number);
        const old = numbered.slice(0, Math.max(0, numbered.length - maxFiles));
        return Promise.all(old.map(({ name }) => rm(join(dir, name), { force: true })));
      })
      .catch((error: unknown) => this.emit("error", error))
      .finally(() => {
        this.pruning--;
        this.emitCloseWhenDone();
      });
  }

  private emitCloseWhenDone(): void {
    if (!this.closed || this.pruning > 0 || this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit("close");
  }

  /** Gives the waiting lines to the stream as one string. */
  private handOver(): boolean {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.stream || this.pending.length === 0) return true;
    const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join("");
    this.pending = [];
    this.pendingLength = 0;
    return this.stream.write(text);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.handOver();
    }, FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  write(line: string): boolean {
    if (this.failed) return true;
    this.pending.push(line);
    this.pendingLength += line.length;
    if (!this.stream) return true;
    if (this.ending || this.pendingLength >= this.batch) return this.handOver();
    this.schedule();
    return true;
  }

  /** Writes what is buffered, closes the file, then emits `close`. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    process.removeListener("exit", this.flushOnExit);
    if (this.stream) {
      this.handOver();
      this.stream.end();
    } else if (this.failed) this.emit("close");
  }
}
