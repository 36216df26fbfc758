/** Stable codes carried by {@link PalisadeConfigError}. */
export const CONFIG_ERROR_CODES = [
  "ERR_PALISADE_UNKNOWN_OPTION",
  "ERR_PALISADE_INVALID_OPTION",
  "ERR_PALISADE_CONFLICTING_OPTIONS",
] as const;

export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];

/**
 * Thrown at construction when an option is unknown, invalid or conflicts with another.
 * A security middleware never silently ignores a typo.
 *
 * @example
 * try {
 *   securityHeaders({ hsts: { maxage: 1 } });
 * } catch (error) {
 *   if (error instanceof PalisadeConfigError) console.error(error.code, error.option);
 * }
 */
export class PalisadeConfigError extends Error {
  override readonly name = "PalisadeConfigError";
  /** Stable machine-readable code, e.g. `ERR_PALISADE_INVALID_OPTION`. */
  readonly code: ConfigErrorCode;
  /** Dotted path of the offending option, e.g. `hsts.maxAge`. */
  readonly option: string;

  constructor(code: ConfigErrorCode, option: string, message: string) {
    super(message);
    this.code = code;
    this.option = option;
  }
}
