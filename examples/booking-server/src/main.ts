import { createBookingApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./db.js";
import { seed } from "./seed.js";

function log(message: string, detail: Record<string, unknown> = {}) {
  console.log(JSON.stringify({ time: new Date().toISOString(), msg: message, ...detail }));
}

async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`booking-server: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const db = openDatabase(config.databaseFile);
  for (const line of await seed(db, config)) log(`seeded ${line}`);
  const app = createBookingApp({ config, db, log });
  const server = app.listen(config.port, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    log(`booking server listening on http://localhost:${port}`, { database: config.databaseFile, env: config.nodeEnv });
  });
  const stop = () => {
    server.close(() => {
      db.close();
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

await main();
