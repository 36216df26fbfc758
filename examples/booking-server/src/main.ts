import cluster from "node:cluster";
import { lifecycle } from "@palisade/health-checks";
import { createClient } from "redis";
import { createPlatform } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./db.js";
import { seed } from "./seed.js";
import { serve } from "./server.js";

function log(message: string, detail: Record<string, unknown> = {}) {
  console.log(JSON.stringify({ time: new Date().toISOString(), pid: process.pid, msg: message, ...detail }));
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`booking-server: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

/** The primary of a cluster: migrates and seeds once, then keeps `workers` processes alive. */
async function primary(config: Config) {
  const db = openDatabase(config.databaseFile);
  for (const line of await seed(db, config)) log(`seeded ${line}`);
  db.close();
  let stopping = false;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log("worker died; starting another", { worker: worker.process.pid, code, signal });
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGTERM"));
}

/** Connects to Redis in the background: the limiters fail open or closed until it answers. */
function connectRedis(url: string) {
  const redis = createClient({ url, disableOfflineQueue: true });
  redis.on("error", (error: Error) => log("redis error", { error: error.message }));
  redis.connect().catch((error: Error) => log("redis connect failed", { error: error.message }));
  return redis;
}

/** One server process (the only one, or a cluster worker). */
async function worker(config: Config) {
  const db = openDatabase(config.databaseFile);
  if (cluster.isPrimary) for (const line of await seed(db, config)) log(`seeded ${line}`);
  const redis = config.redisUrl ? connectRedis(config.redisUrl) : undefined;
  const platform = createPlatform({ config, db, log, ...(redis ? { redis } : {}) });
  const { main, redirect, port, httpPort } = await serve(platform.app, config);
  const scheme = config.tls ? "https" : "http";
  log(`booking server listening on ${scheme}://localhost:${port}`, {
    database: config.databaseFile,
    env: config.nodeEnv,
    palisade: config.palisade,
    ...(httpPort !== undefined ? { redirectFrom: `http://localhost:${httpPort}` } : {}),
  });
  const cleanup = [
    () => new Promise<void>((resolve) => (redirect ? redirect.close(() => resolve()) : resolve())),
    () => platform.close(),
    async () => {
      if (redis?.isOpen) await redis.quit();
    },
    () => db.close(),
  ];
  if (platform.health) {
    // SIGTERM: readiness 503 at once, drain, finish in-flight requests, clean up, exit 0.
    lifecycle(main, {
      health: platform.health,
      onEvent: platform.onEvent,
      drainDelayMs: config.drainDelayMs,
      shutdownTimeoutMs: 10_000,
      // In a cluster the primary forwards one SIGTERM; a terminal's Ctrl-C would otherwise reach
      // the workers twice (directly and forwarded) and force an exit.
      signals: cluster.isWorker ? ["SIGTERM"] : ["SIGTERM", "SIGINT"],
      cleanup,
    });
    if (cluster.isWorker) process.on("SIGINT", () => {});
    return;
  }
  const stop = () => {
    main.close(async () => {
      for (const hook of cleanup) await hook();
      process.exit(0);
    });
    main.closeIdleConnections();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

const config = readConfig();
if (config.workers > 1 && cluster.isPrimary) await primary(config);
else await worker(config);
