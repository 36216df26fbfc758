import type { IncomingMessage } from "node:http";
import { isIPv4 } from "node:net";
import ipaddr from "ipaddr.js";
import proxyaddr from "proxy-addr";
import { PalisadeConfigError } from "./errors.js";

/** A compiled trust function: is the hop `address` at position `index` a trusted proxy? */
export type TrustFunction = (address: string, index: number) => boolean;

/**
 * Which proxies may speak for the client through `X-Forwarded-For`: a list of addresses,
 * CIDR ranges or the names `loopback`, `linklocal`, `uniquelocal`; or a compiled function.
 * An empty list trusts nobody (the socket peer is the client).
 */
export type TrustedProxies = readonly string[] | string | TrustFunction;

const TRUST_NONE: TrustFunction = () => false;

/**
 * Compiles a proxy list once, at construction. Throws a `PalisadeConfigError` naming `option`
 * for an address or range that does not parse.
 *
 * @example
 * const trust = compileTrust(["loopback", "10.0.0.0/8"]);
 */
export function compileTrust(
  trusted: TrustedProxies | undefined,
  option = "trustedProxies",
  scope = "palisade",
): TrustFunction {
  if (trusted === undefined) return TRUST_NONE;
  if (typeof trusted === "function") return trusted;
  const list = typeof trusted === "string" ? trusted.split(",").map((entry) => entry.trim()) : trusted;
  if (list.length === 0) return TRUST_NONE;
  try {
    return proxyaddr.compile([...list]);
  } catch (error) {
    throw new PalisadeConfigError(
      "ERR_PALISADE_INVALID_OPTION",
      option,
      `${scope}: option \`${option}\` must list IP addresses, CIDR ranges or "loopback", "linklocal", "uniquelocal"; ${(error as Error).message}.`,
    );
  }
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`) becomes IPv4; IPv6 is written in its canonical short form. */
export function normalizeIp(address: string): string {
  // Fast paths for the addresses every request carries; ipaddr.js parses the rest.
  if (isIPv4(address)) return address;
  if (address.startsWith("::ffff:") && isIPv4(address.slice(7))) return address.slice(7);
  try {
    return ipaddr.process(address).toString();
  } catch {
    return address;
  }
}

type ExpressLike = IncomingMessage & { app?: { get?(name: string): unknown } };

/**
 * The client's address: the socket peer, or, walking `X-Forwarded-For` right to left, the
 * first address that is not a trusted proxy. Without `trusted`, uses the Express app's own
 * `trust proxy` setting when there is one, else trusts nobody. Returns `""` when the socket
 * has no address (already closed).
 *
 * @example
 * app.set("trust proxy", "loopback");
 * app.get("/", (req, res) => res.send(clientIp(req)));
 */
export function clientIp(req: IncomingMessage, trusted?: TrustedProxies): string {
  if (!req.socket?.remoteAddress) return "";
  let trust: TrustFunction;
  if (trusted === undefined) {
    const appTrust = (req as ExpressLike).app?.get?.("trust proxy fn");
    trust = typeof appTrust === "function" ? (appTrust as TrustFunction) : TRUST_NONE;
  } else {
    trust = typeof trusted === "function" ? trusted : compileTrust(trusted);
  }
  return normalizeIp(proxyaddr(req, trust));
}
