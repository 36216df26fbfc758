/**
 * The logger every Palisade package accepts: pino's and console's shapes both fit
 * (`logger.warn({ code }, "message")`).
 */
export interface PalisadeLogger {
  warn(details: Record<string, unknown>, message: string): void;
  info?(details: Record<string, unknown>, message: string): void;
  error?(details: Record<string, unknown>, message: string): void;
}

/** Base address of the error-code pages of the docs site. */
export const DOCS_ERRORS_URL = "https://palisade.dev/reference/error-codes";

/** Writes warnings to stderr as one JSON line each; the default when no logger is passed. */
export const consoleLogger: PalisadeLogger = {
  warn(details, message) {
    process.emitWarning(message, {
      code: typeof details.code === "string" ? details.code : undefined,
      detail: JSON.stringify(details),
    });
  },
};

/**
 * Returns a function that emits each warning code at most once for this instance,
 * with a link to the code's docs page. Warnings never throw.
 *
 * @example
 * const warn = warnOnce(logger, "rateLimit");
 * warn("WRN_PALISADE_TRUST_PROXY", "X-Forwarded-For arrived but trust proxy is off");
 */
export function warnOnce(logger: PalisadeLogger, scope: string) {
  const seen = new Set<string>();
  return function warn(
    code: `WRN_PALISADE_${string}`,
    message: string,
    details: Record<string, unknown> = {},
  ): boolean {
    if (seen.has(code)) return false;
    seen.add(code);
    try {
      logger.warn({ ...details, code, docs: `${DOCS_ERRORS_URL}#${code.toLowerCase()}` }, `${scope}: ${message}`);
    } catch {
      // A broken logger must not break a request.
    }
    return true;
  };
}

/** Checks that a value looks like a {@link PalisadeLogger}. */
export function isLogger(value: unknown): value is PalisadeLogger {
  return typeof value === "object" && value !== null && typeof (value as PalisadeLogger).warn === "function";
}
