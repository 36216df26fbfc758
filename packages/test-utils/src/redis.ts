import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { freePort } from "./port.js";
import { findProgram } from "./programs.js";

export interface RedisServer {
  port: number;
  url: string;
  process: ChildProcess;
  /** Stops the server (SIGKILL when `hard`), resolving when it has exited. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ port, host: "127.0.0.1" });
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts a throwaway `redis-server` on a free loopback port, with no persistence.
 * Returns `undefined` (after the notice `findProgram` prints) when redis-server is missing outside CI.
 */
export async function startRedis(): Promise<RedisServer | undefined> {
  const { path } = findProgram("redis-server");
  if (!path) return undefined;
  const port = await freePort();
  const launch = async () => {
    const child = spawn(path, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    await waitForPort(port, 10_000);
    return child;
  };
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: await launch(),
    stop(hard = false) {
      const child = server.process;
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill(hard ? "SIGKILL" : "SIGTERM");
      });
    },
    async restart() {
      await server.stop();
      server.process = await launch();
    },
  };
  return server;
}
