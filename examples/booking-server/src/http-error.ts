/** An error the routes throw to answer with a problem+json response (see app.ts's error handler). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** 400 naming the offending field. */
export function invalid(field: string, message: string): HttpError {
  return new HttpError(400, `\`${field}\` ${message}`, { field });
}

export const notFound = (what = "Not found.") => new HttpError(404, what);
