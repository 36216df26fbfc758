import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@palisade/test-utils";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { startServer } from "./process.js";

const serverDir = fileURLToPath(new URL("../", import.meta.url));

describe("loadConfig()", () => {
  it.each([
    [{ PORT: "eighty" }, 'PORT must be an integer from 0 to 65535, got "eighty".'],
    [{ PORT: "70000" }, 'PORT must be an integer from 0 to 65535, got "70000".'],
    [{ NODE_ENV: "staging" }, 'NODE_ENV must be one of development, production, test, got "staging".'],
    [{ ADMIN_EMAIL: "a@example.com" }, "ADMIN_EMAIL and ADMIN_PASSWORD must be set together."],
  ])("rejects %j naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });

  it("defaults to port 3000 and a database under the example's data/", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseFile).toBe(join(serverDir, "data/booking.db"));
  });
});

describe("the server process (pnpm start)", () => {
  const dir = tempDir("booking-start-");
  afterAll(() => dir.cleanup());

  function spawnServer(env: Record<string, string>) {
    return spawn(process.execPath, ["--import", "tsx", "--conditions=@palisade/source", "src/main.ts"], {
      cwd: serverDir,
      env: { ...process.env, NODE_ENV: "development", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  it("migrates and seeds an empty database, then serves the demo data", async () => {
    const server = await startServer({
      NODE_ENV: "development",
      DATABASE_FILE: join(dir.path, "fresh.db"),
      LOG_DIR: dir.path,
    });
    const port = server.port;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/barbers`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { barbers: unknown[] }).barbers).toHaveLength(3);
      const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "alice@example.com", password: "demo-password-1" }),
      });
      expect(login.status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("stops with exit code 2 and a message naming the variable on bad configuration", async () => {
    const child = spawnServer({ PORT: "not-a-port", DATABASE_FILE: join(dir.path, "never.db") });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('booking-server: PORT must be an integer from 0 to 65535, got "not-a-port".');
  });
});
