import { type ServerResponse, STATUS_CODES } from "node:http";

/** RFC 9457 problem details. Extension members are allowed and sent as given. */
export interface ProblemDetails {
  /** A URI naming the problem type. Defaults to `about:blank`. */
  type?: string;
  /** Short summary. Defaults to the status text (`Too Many Requests`). */
  title?: string;
  /** Explanation for this occurrence; never internals or echoed attacker input. */
  detail?: string;
  /** URI of this occurrence, e.g. `urn:uuid:<incident id>`. */
  instance?: string;
  [extension: string]: unknown;
}

/**
 * Sends an RFC 9457 `application/problem+json` response and ends it.
 * Does nothing if the headers were already sent.
 *
 * @example
 * sendProblem(res, 403, { title: "Forbidden", detail: "Cross-site request refused.", reason: "origin-mismatch" });
 */
export function sendProblem(res: ServerResponse, status: number, problem: ProblemDetails = {}): void {
  if (res.headersSent) return;
  const body = JSON.stringify({
    ...problem,
    type: problem.type ?? "about:blank",
    title: problem.title ?? STATUS_CODES[status] ?? "Error",
    status,
  });
  res.statusCode = status;
  res.setHeader("Content-Type", "application/problem+json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}
