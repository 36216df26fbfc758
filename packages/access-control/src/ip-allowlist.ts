import type { IncomingMessage, ServerResponse } from "node:http";
import {
  clientIp,
  compileTrust,
  consoleLogger,
  emitSecurityEvent,
  isLogger,
  optionChecks,
  PalisadeConfigError,
  sendProblem,
  type TrustFunction,
  warnOnce,
} from "@palisade/core";
import ipaddr from "ipaddr.js";
import { IP_ALLOWLIST_OPTION_NAMES, type IpAllowlistOptions } from "./options.js";

const SCOPE = "ipAllowlist";
const SOURCE = "@palisade/access-control";

type Next = (error?: unknown) => void;
type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** The allowlist middleware. */
export type IpAllowlistMiddleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

const PERMISSIVE_HELP =
  'the app\'s `trust proxy` is `true`, so any client can claim an allowed address with X-Forwarded-For. Set it to your proxies (app.set("trust proxy", "loopback") or their addresses) or pass `trustedProxies`.';

function parseRange(entry: string): Range | undefined {
  try {
    if (entry.includes("/")) {
      const [address, bits] = ipaddr.parseCIDR(entry);
      // ::ffff:10.0.0.0/104 means the IPv4 range 10.0.0.0/8; addresses are compared unmapped.
      if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
      }
      return [address, bits];
    }
    const address = ipaddr.process(entry);
    return [address, address.kind() === "ipv4" ? 32 : 128];
  } catch {
    return undefined;
  }
}

/**
 * Lets only clients whose address (from `clientIp()`, so `X-Forwarded-For` only through
 * trusted proxies) falls in one of `cidrs` through: IPv4, IPv6, IPv4-mapped IPv6, CIDR ranges.
 * Others get 403 problem+json and an `authz_fail` event. A `trust proxy` of `true` would let
 * anyone in: it is refused at construction when `app` is passed, otherwise at the first request
 * (every request is then refused and a warning says how to fix it).
 *
 * @example
 * const adminOnly = ipAllowlist((process.env.ADMIN_ALLOW ?? "127.0.0.1,::1").split(","), { app });
 * app.use("/admin", adminOnly);
 */
export function ipAllowlist(
  cidrs: readonly string[] | string,
  options: Readonly<IpAllowlistOptions> = {},
): IpAllowlistMiddleware {
  const check = optionChecks(SCOPE);
  const list =
    typeof cidrs === "string"
      ? cidrs
          .split(",")
          .map((entry) => entry.trim())
          .filter(Boolean)
      : check.stringArray("cidrs", cidrs, []);
  if (list.length === 0) check.fail("cidrs", "a non-empty list of addresses or CIDR ranges", cidrs);
  const v4: Range[] = [];
  const v6: Range[] = [];
  for (const [index, entry] of list.entries()) {
    const range = parseRange(entry.trim());
    if (!range) check.fail(`cidrs[${index}]`, 'an IPv4 or IPv6 address or CIDR range like "10.0.0.0/8"', entry);
    (range![0].kind() === "ipv4" ? v4 : v6).push(range!);
  }
  check.object("", options, IP_ALLOWLIST_OPTION_NAMES);
  const trust: TrustFunction | undefined =
    options.trustedProxies === undefined ? undefined : compileTrust(options.trustedProxies, "trustedProxies", SCOPE);
  if (options.app !== undefined && typeof options.app?.get !== "function") {
    check.fail("app", "the Express app", options.app);
  }
  if (!trust && options.app?.get("trust proxy") === true) {
    throw new PalisadeConfigError("ERR_PALISADE_CONFLICTING_OPTIONS", "app", `${SCOPE}: ${PERMISSIVE_HELP}`);
  }
  if (options.logger !== undefined && !isLogger(options.logger)) {
    check.fail("logger", "an object with a `warn(details, message)` method", options.logger);
  }
  const warn = warnOnce(options.logger ?? consoleLogger, SCOPE);

  const allowedPeers = new Set<string>();
  const MAX_ALLOWED_PEERS = 10_000;

  function allowedAddress(ip: string): boolean {
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      address = ipaddr.parse(ip);
    } catch {
      return false;
    }
    const ranges = address.kind() === "ipv4" ? v4 : v6;
    for (const range of ranges) {
      if (address.match(range)) return true;
    }
    return false;
  }

  return function ipAllowlistMiddleware(req, res, next) {
    let permissive = false;
    if (!trust) {
      const app = (req as { app?: { get?(name: string): unknown } }).app;
      permissive = app?.get?.("trust proxy") === true;
      if (permissive) warn("WRN_PALISADE_TRUST_PROXY_PERMISSIVE", `every request is refused: ${PERMISSIVE_HELP}`);
    }
    // Without X-Forwarded-For the answer depends on the socket peer alone: once per address,
    // and nothing is written on the socket.
    const peer = req.headers["x-forwarded-for"] === undefined ? req.socket?.remoteAddress : undefined;
    if (!permissive && peer !== undefined && allowedPeers.has(peer)) {
      next();
      return;
    }
    const ip = clientIp(req, trust);
    if (!permissive && ip && allowedAddress(ip)) {
      if (peer !== undefined) {
        if (allowedPeers.size >= MAX_ALLOWED_PEERS) allowedPeers.clear();
        allowedPeers.add(peer);
      }
      next();
      return;
    }
    emitSecurityEvent(req, {
      name: "authz_fail",
      source: SOURCE,
      description: permissive
        ? "Refused: trust proxy is true, so the client address cannot be known."
        : "Client address is not on the allowlist.",
      detail: { rule: "ip-allowlist", ip, ...(permissive ? { reason: "trust-proxy-permissive" } : {}) },
    });
    sendProblem(res, 403, {
      title: "Forbidden",
      detail: "This address may not use this resource.",
      reason: "ip-not-allowed",
    });
  };
}
