import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Server configuration, read from the environment once at start. */
export interface Config {
  port: number;
  databaseFile: string;
  logDir: string;
  nodeEnv: "development" | "production" | "test";
  adminEmail?: string;
  adminPassword?: string;
  /** Open hours for every barber, UTC hours [open, close). */
  openHour: number;
  closeHour: number;
}

const NODE_ENVS = ["development", "production", "test"] as const;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
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
  const logDir = env.LOG_DIR || `${defaultDataDir}logs`;
  if (env.LOG_DIR && existsSync(env.LOG_DIR) === false && !env.LOG_DIR.startsWith("/")) {
    throw new ConfigError(`LOG_DIR must be an absolute path, got ${JSON.stringify(env.LOG_DIR)}.`);
  }
  return {
    port: integer(env, "PORT", 3000, 0, 65535),
    databaseFile: env.DATABASE_FILE || `${defaultDataDir}booking.db`,
    logDir,
    nodeEnv,
    ...(adminEmail && adminPassword ? { adminEmail, adminPassword } : {}),
    openHour: 9,
    closeHour: 17,
  };
}
