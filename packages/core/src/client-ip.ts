import type { IncomingMessage } from "node:http";
import { isIPv4 } from "node:net";
import ipaddr from "ipaddr.js";
import proxyaddr from "proxy-addr";
import { PalisadeConfigError } from "./errors.js";
import { requestBag } from "./sinks.js";

/** A compiled trust function: is the hop `address` at position `index` a trusted proxy? */
export type TrustFunction = (address: string, index: number) => boolean;

/**
 * Which proxies may speak for the client through `X-Forwarded-For`: a list of addresses,
 * CIDR ranges or the names `loopback`, `linklocal`, `uniquelocal`; or a compiled function.
 * An empty list trusts nobody (the socket peer is the client).
 */
export type TrustedProxies = readonly string[] | string | TrustFunction;

const TRUST_NONE: TrustFunction = () => false;

// Compiled lists by their text: every package configured with the same proxies shares one
// function, so a request's address resolved by one is found by the next (see clientIp).
const compiledLists = new Map<string, TrustFunction>();
const ADDRESS_CACHE_SIZE = 1024;

/**
 * proxy-addr's compiled list parses the address with ipaddr.js on every call (an IPv4-mapped
 * IPv6 socket address such as `::ffff:127.0.0.1` took several microseconds); the answer for a
 * list depends only on the address, so it is remembered (bounded: cleared when full).
 */
function rememberAnswers(trust: TrustFunction): TrustFunction {
  const answers = new Map<string, boolean>();
  return (address, index) => {
    let answer = answers.get(address);
    if (answer === undefined) {
      answer = trust(address, index);
      if (answers.size >= ADDRESS_CACHE_SIZE) answers.clear();
      answers.set(address, answer);
    }
    return answer;
  };
}

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
  const key = list.join(",");
  const known = compiledLists.get(key);
  if (known) return known;
  try {
    const trust = rememberAnswers(proxyaddr.compile([...list]));
    compiledLists.set(key, trust);
    return trust;
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

const RESOLVED = Symbol.for("palisade.core.clientIp");

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
  // Several packages ask per request (log line, rate-limit key, allowlist): with the same
  // trust function the answer is the same, so the last one is kept in the request bag.
  const bag = requestBag(req);
  const last = bag[RESOLVED] as { trust: TrustFunction; ip: string } | undefined;
  if (last !== undefined && last.trust === trust) return last.ip;
  // Without X-Forwarded-For, or trusting nobody, the socket peer is the client: proxy-addr's
  // walk (which builds the hop list through the forwarded package) would answer the same.
  const forwarded = req.headers["x-forwarded-for"];
  const ip = normalizeIp(
    forwarded === undefined || trust === TRUST_NONE ? req.socket.remoteAddress : proxyaddr(req, trust),
  );
  bag[RESOLVED] = { trust, ip };
  return ip;
}
