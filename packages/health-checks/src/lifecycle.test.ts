import { type ChildProcess, spawn } from "node:child_process";
import { Agent, get, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { PalisadeConfigError } from "@palisade/core";
import { recordingLogger } from "@palisade/test-utils";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { healthChecks } from "./health-checks.js";
import { lifecycle } from "./lifecycle.js";
import type { LifecycleOptions } from "./options.js";

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function fetchOnce(port: number, path: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path, agent: agent ?? false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function started(options: LifecycleOptions = {}) {
  const health = healthChecks({ builtInChecks: false });
  const app = express();
  const release: (() => void)[] = [];
  app.use("/monitoring", health);
  app.get("/hold", (_req, res) => {
    release.push(() => res.json({ ok: true }));
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  const exits: number[] = [];
  const states = lifecycle(server, {
    health,
    signals: false,
    exit: (code) => exits.push(code),
    drainDelayMs: 50,
    shutdownTimeoutMs: 2000,
    logger: recordingLogger(),
    ...options,
  });
  cleanups.push(() => {
    states.close();
    server.closeAllConnections();
    server.close();
    health.close();
  });
  const port = (server.address() as AddressInfo).port;
  await until(() => states.state === "ready");
  return { server, port, states, health, exits, release };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("lifecycle()", () => {
  it("moves from starting to ready once the server listens and the checks have run", async () => {
    const health = healthChecks({ builtInChecks: false });
    let finish!: () => void;
    health.registerCheck("db:ping", () => new Promise<void>((resolve) => (finish = resolve)));
    const server = express().listen(0, "127.0.0.1");
    const events: string[] = [];
    const states = lifecycle(server, {
      health,
      signals: false,
      exit: false,
      onEvent: (event) => events.push(event.name),
    });
    cleanups.push(() => {
      states.close();
      server.close();
      health.close();
    });
    expect([states.state, health.state]).toEqual(["starting", "starting"]);
    await new Promise((resolve) => server.once("listening", resolve));
    expect(states.state).toBe("starting");
    finish();
    await until(() => states.state === "ready");
    expect(health.state).toBe("ready");
    expect(events).toEqual(["sys_startup"]);
  });

  it("turns readiness 503 at once, serves with Connection: close while draining, runs the hooks and exits 0", async () => {
    const order: string[] = [];
    const { port, states, exits } = await started({
      drainDelayMs: 200,
      cleanup: [() => order.push("db"), async () => order.push("logs")],
    });
    expect((await fetchOnce(port, "/monitoring/readiness")).status).toBe(200);
    const done = states.shutdown("test");
    const ready = await fetchOnce(port, "/monitoring/readiness");
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ status: "fail", output: "draining" });
    expect(ready.headers.connection).toBe("close");
    expect(await done).toBe(0);
    expect(order).toEqual(["db", "logs"]);
    expect(exits).toEqual([0]);
    expect(states.state).toBe("stopped");
  });

  it("lets an in-flight request finish after the server stops accepting", async () => {
    const { port, states, release, server } = await started();
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const inFlight = fetchOnce(port, "/hold", agent);
    await until(() => release.length === 1);
    const done = states.shutdown();
    await until(() => !server.listening);
    await expect(fetchOnce(port, "/monitoring/health")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    release[0]!();
    const answer = await inFlight;
    expect([answer.status, answer.headers.connection]).toEqual([200, "close"]);
    expect(await done).toBe(0);
  });

  it("destroys connections still busy after shutdownTimeoutMs and warns", async () => {
    const logger = recordingLogger();
    const { port, states, release } = await started({ shutdownTimeoutMs: 50, logger });
    const stuck = fetchOnce(port, "/hold");
    await until(() => release.length === 1);
    expect(await states.shutdown()).toBe(0);
    await expect(stuck).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(logger.withCode("WRN_PALISADE_SHUTDOWN_FORCED")).toHaveLength(1);
  });

  it("exits 1 when a cleanup hook throws, after running the others", async () => {
    const ran: string[] = [];
    const { states, exits } = await started({
      cleanup: [
        () => {
          throw new Error("flush failed");
        },
      ],
    });
    states.onCleanup(() => ran.push("later"));
    expect(await states.shutdown()).toBe(1);
    expect(ran).toEqual(["later"]);
    expect(exits).toEqual([1]);
  });

  it("abandons cleanup hooks after cleanupTimeoutMs", async () => {
    const logger = recordingLogger();
    const { states } = await started({ cleanupTimeoutMs: 30, logger, cleanup: [() => new Promise(() => {})] });
    expect(await states.shutdown()).toBe(1);
    expect(logger.withCode("WRN_PALISADE_CLEANUP_TIMEOUT")).toHaveLength(1);
  });

  it("returns the same promise when shutdown is called twice", async () => {
    const { states } = await started();
    expect(states.shutdown()).toBe(states.shutdown());
    await states.shutdown();
  });

  it("answers a signal by shutting down and a second one by forcing exit(1)", async () => {
    const { states, exits } = await started({ signals: ["SIGUSR2"], drainDelayMs: 1000 });
    process.kill(process.pid, "SIGUSR2");
    await until(() => states.state === "draining");
    process.kill(process.pid, "SIGUSR2");
    await until(() => exits.length > 0);
    expect(exits).toEqual([1]);
  });

  it.each([
    [{ drainDelayMs: -1 }, "lifecycle: option `drainDelayMs` must be an integer from 0 to 2147483647, got -1."],
    [
      { signals: ["SIGKILL"] },
      'lifecycle: option `signals[0]` must be one of "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR2", got "SIGKILL".',
    ],
    [{ drainDelay: 5 }, "lifecycle: unknown option `drainDelay`. Did you mean `drainDelayMs`?"],
    [{ cleanup: [1] }, "lifecycle: option `cleanup` must be an array of functions, got an array."],
  ])("rejects %j", (options, message) => {
    const server = express().listen(0, "127.0.0.1");
    cleanups.push(() => server.close());
    let error: unknown;
    try {
      lifecycle(server, { signals: false, ...(options as LifecycleOptions) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PalisadeConfigError);
    expect((error as Error).message).toBe(message);
  });
});

describe("lifecycle() in a real process under keep-alive load", () => {
  const fixture = fileURLToPath(new URL("./fixtures/shutdown-server.ts", import.meta.url));
  const drainDelayMs = 300;
  const shutdownTimeoutMs = 3000;

  function startChild(): Promise<{ child: ChildProcess; port: number; stdout: () => string }> {
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@palisade/source", fixture], {
      env: { ...process.env, DRAIN_DELAY_MS: String(drainDelayMs), SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanups.push(() => child.kill("SIGKILL"));
    let out = "";
    let err = "";
    child.stderr!.on("data", (chunk) => {
      err += chunk;
    });
    return new Promise((resolve, reject) => {
      child.stdout!.on("data", (chunk) => {
        out += chunk;
        const line = out.split("\n").find((text) => text.startsWith("{"));
        if (line) resolve({ child, port: JSON.parse(line).port, stdout: () => out });
      });
      child.once("exit", (code) => reject(new Error(`fixture exited with ${code}: ${err}`)));
    });
  }

  it("fails no request accepted before readiness turned 503, and exits 0 within drainDelayMs + shutdownTimeoutMs", async () => {
    const { child, port, stdout } = await startChild();
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    cleanups.push(() => agent.destroy());
    const results: { sentAt: number; ok: boolean; error?: string }[] = [];
    let exited = false;
    let readinessFailedAt = Number.POSITIVE_INFINITY;

    const worker = async () => {
      while (!exited) {
        const sentAt = performance.now();
        try {
          const answer = await fetchOnce(port, "/work?ms=5", agent);
          results.push({ sentAt, ok: answer.status === 200 });
        } catch (error) {
          results.push({ sentAt, ok: false, error: (error as NodeJS.ErrnoException).code });
          // Refused after the server closed: the load balancer would have moved on.
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    };
    const poller = async () => {
      while (!exited && readinessFailedAt === Number.POSITIVE_INFINITY) {
        const sentAt = performance.now();
        try {
          if ((await fetchOnce(port, "/monitoring/readiness")).status === 503) readinessFailedAt = sentAt;
        } catch {
          readinessFailedAt = sentAt;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const exit = new Promise<{ code: number | null; at: number }>((resolve) => {
      child.once("exit", (code) => {
        exited = true;
        resolve({ code, at: performance.now() });
      });
    });
    const load = Promise.all([...Array.from({ length: 8 }, worker), poller()]);
    // A slow request in flight across the moment the server stops accepting.
    const slowSentAt = performance.now();
    const slow = fetchOnce(port, `/work?ms=${drainDelayMs + 300}`, agent).then(
      (answer) => answer.status,
      (error: NodeJS.ErrnoException) => error.code,
    );

    await new Promise((resolve) => setTimeout(resolve, 500));
    const killedAt = performance.now();
    child.kill("SIGTERM");
    const { code, at } = await exit;
    await load;

    expect(code).toBe(0);
    expect(stdout()).toContain("cleanup");
    expect(at - killedAt).toBeLessThan(drainDelayMs + shutdownTimeoutMs);
    expect(await slow).toBe(200);
    expect(slowSentAt).toBeLessThan(readinessFailedAt);

    const accepted = results.filter((result) => result.sentAt < readinessFailedAt);
    expect(accepted.length).toBeGreaterThan(20);
    expect(accepted.filter((result) => !result.ok)).toEqual([]);
    // Requests kept being served during the drain delay, after readiness turned 503.
    expect(results.some((result) => result.ok && result.sentAt > readinessFailedAt)).toBe(true);
  });
});
