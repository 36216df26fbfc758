export interface RecordedEntry {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  details: Record<string, unknown>;
}

export interface RecordingLogger {
  debug(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
  readonly entries: RecordedEntry[];
  /** Entries whose `details.code` equals `code`. */
  withCode(code: string): RecordedEntry[];
}

/** A logger in the pino shape that keeps every entry for assertions. */
export function recordingLogger(): RecordingLogger {
  const entries: RecordedEntry[] = [];
  const record = (level: RecordedEntry["level"]) => (details: Record<string, unknown>, message: string) => {
    entries.push({ level, message, details });
  };
  return {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
    entries,
    withCode: (code) => entries.filter((entry) => entry.details.code === code),
  };
}
