import { constants, mkdirSync } from "node:fs";
import { access, statfs } from "node:fs/promises";

/** Free space below which the log directory counts as full. */
const MIN_FREE_BYTES = 16 * 1024 * 1024;

/** Whether the log directory exists (or can be made) and is writable, checked once at start. */
export function logDirUsable(dir: string): { ok: true } | { ok: false; error: string } {
  try {
    mkdirSync(dir, { recursive: true });
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/**
 * A health check for the log directory: fails when it is not writable or nearly full, so the
 * fault shows on /monitoring/health/detailed while the server keeps serving.
 */
export function logDirCheck(dir: string, startError?: string) {
  return async () => {
    if (startError) {
      return { status: "fail" as const, output: `logs go to stdout: LOG_DIR was unusable at start (${startError})` };
    }
    try {
      await access(dir, constants.W_OK);
      const fs = await statfs(dir);
      const free = fs.bavail * fs.bsize;
      return {
        status: free < MIN_FREE_BYTES ? ("fail" as const) : ("pass" as const),
        observedValue: free,
        observedUnit: "bytes free",
        ...(free < MIN_FREE_BYTES ? { output: "the log directory is nearly full" } : {}),
      };
    } catch (error) {
      return { status: "fail" as const, output: `LOG_DIR is not writable: ${(error as Error).message}` };
    }
  };
}
