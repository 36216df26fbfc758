import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Server configuration, read from the environment once at start. */
export interface Config {
  port: number;
  databaseFile: string;
  logDir: string;
  nodeEnv: "development" | "production" | "test";
  adminEmail?: string;
  adminPassword?: string;
  /** PEM certificate and key: with both, the server speaks HTTPS on `port`. */
  tls?: { cert: string; key: string };
  /** With TLS, a plain-HTTP listener here redirects every request to HTTPS. */
  httpPort?: number;
  /** Addresses and CIDR ranges allowed to reach admin and detailed monitoring endpoints. */
  adminAllow: string[];
  /** Redis for rate-limit counters shared by several processes. */
  redisUrl?: string;
  /** Secret signing CSRF tokens; shared by every worker. Random per process when unset. */
  csrfSecret?: string;
  /** Key of the audit log's HMAC chain. */
  auditHmacKey?: string;
  /** Express `trust proxy`: proxy addresses/CIDRs or a hop count; `false` trusts nobody. */
  trustProxy: string[] | number | false;
  /** SIGTERM: how long readiness reports 503 before the server stops accepting (load balancers notice). */
  drainDelayMs: number;
  /** `false` (PALISADE_MIDDLEWARE=off) serves the routes without Palisade: the load bench's baseline. */
  palisade: boolean;
  /** Worker processes (Node cluster) sharing the port and the database. */
  workers: number;
  /** Open hours for every barber, UTC hours [open, close). */
  openHour: number;
  closeHour: number;
}

const NODE_ENVS = ["development", "production", "test"] as const;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function onOff(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "" || raw === "on") return true;
  if (raw === "off") return false;
  throw new ConfigError(`${name} must be "on" or "off", got ${JSON.stringify(raw)}.`);
}

function list(raw: string | undefined, fallback: string[]): string[] {
  if (!raw) return fallback;
  return raw
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function isIpOrCidr(entry: string): boolean {
  const [address, bits, ...rest] = entry.split("/");
  if (rest.length > 0 || !address) return false;
  const version = isIP(address);
  if (version === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
}

function trustProxy(raw: string | undefined): Config["trustProxy"] {
  if (!raw || raw === "false") return false;
  if (raw === "true") {
    throw new ConfigError(
      'TRUST_PROXY=true would let any client choose its address; list your proxies (e.g. "loopback" or "10.0.0.0/8") or give a hop count.',
    );
  }
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = list(raw, []);
  for (const entry of entries) {
    if (!["loopback", "linklocal", "uniquelocal"].includes(entry) && !isIpOrCidr(entry)) {
      throw new ConfigError(
        `TRUST_PROXY must list proxy addresses, CIDR ranges, loopback/linklocal/uniquelocal or a hop count, got ${JSON.stringify(entry)}.`,
      );
    }
  }
  return entries;
}

const defaultDataDir = fileURLToPath(new URL("../data/", import.meta.url));

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}.`);
  }
  return value;
}

/** Reads and validates the configuration; a bad value throws a `ConfigError` naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = (env.NODE_ENV || "development") as Config["nodeEnv"];
  if (!NODE_ENVS.includes(nodeEnv)) {
    throw new ConfigError(`NODE_ENV must be one of ${NODE_ENVS.join(", ")}, got ${JSON.stringify(env.NODE_ENV)}.`);
  }
  const adminEmail = env.ADMIN_EMAIL || undefined;
  const adminPassword = env.ADMIN_PASSWORD || undefined;
  if (Boolean(adminEmail) !== Boolean(adminPassword)) {
    throw new ConfigError("ADMIN_EMAIL and ADMIN_PASSWORD must be set together.");
  }
  if (adminPassword !== undefined && adminPassword.length < 8) {
    throw new ConfigError("ADMIN_PASSWORD must be at least 8 characters.");
  }
  // Relative paths resolve against the working directory, like DATABASE_FILE.
  const logDir = env.LOG_DIR ? resolve(env.LOG_DIR) : `${defaultDataDir}logs`;
  const tlsCert = env.TLS_CERT || undefined;
  const tlsKey = env.TLS_KEY || undefined;
  if (Boolean(tlsCert) !== Boolean(tlsKey)) throw new ConfigError("TLS_CERT and TLS_KEY must be set together.");
  for (const [name, file] of [
    ["TLS_CERT", tlsCert],
    ["TLS_KEY", tlsKey],
  ] as const) {
    if (file && !existsSync(file))
      throw new ConfigError(`${name} must name a readable PEM file, got ${JSON.stringify(file)}.`);
  }
  const httpPort = env.HTTP_PORT ? integer(env, "HTTP_PORT", 0, 0, 65535) : undefined;
  if (httpPort !== undefined && !tlsCert)
    throw new ConfigError("HTTP_PORT needs TLS_CERT and TLS_KEY (it redirects to HTTPS).");
  const adminAllow = list(env.ADMIN_ALLOW, ["127.0.0.1/8", "::1/128"]);
  for (const entry of adminAllow) {
    if (!isIpOrCidr(entry))
      throw new ConfigError(`ADMIN_ALLOW must list IP addresses or CIDR ranges, got ${JSON.stringify(entry)}.`);
  }
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL, got ${JSON.stringify(redisUrl)}.`);
  }
  const csrfSecret = env.CSRF_SECRET || undefined;
  if (csrfSecret !== undefined && csrfSecret.length < 32) {
    throw new ConfigError("CSRF_SECRET must be at least 32 characters (e.g. openssl rand -hex 32).");
  }
  const auditHmacKey = env.AUDIT_HMAC_KEY || undefined;
  if (auditHmacKey !== undefined && auditHmacKey.length < 32) {
    throw new ConfigError("AUDIT_HMAC_KEY must be at least 32 characters (e.g. openssl rand -hex 32).");
  }
  return {
    port: integer(env, "PORT", 3000, 0, 65535),
    ...(tlsCert && tlsKey ? { tls: { cert: tlsCert, key: tlsKey } } : {}),
    ...(httpPort !== undefined ? { httpPort } : {}),
    adminAllow,
    ...(redisUrl ? { redisUrl } : {}),
    ...(auditHmacKey ? { auditHmacKey } : {}),
    ...(csrfSecret ? { csrfSecret } : {}),
    trustProxy: trustProxy(env.TRUST_PROXY),
    workers: integer(env, "WORKERS", 1, 1, 64),
    palisade: onOff(env, "PALISADE_MIDDLEWARE"),
    drainDelayMs: integer(env, "DRAIN_DELAY_MS", nodeEnv === "production" ? 5000 : 0, 0, 600_000),
    databaseFile: env.DATABASE_FILE || `${defaultDataDir}booking.db`,
    logDir,
    nodeEnv,
    ...(adminEmail && adminPassword ? { adminEmail, adminPassword } : {}),
    openHour: 9,
    closeHour: 17,
  };
}
