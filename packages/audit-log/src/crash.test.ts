import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { tempDir } from "@palisade/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { keyBytes } from "./chain.js";
import { auditRecords, KEY } from "./test-helpers.js";
import { verifyAuditTrail } from "./verify.js";

const app = fileURLToPath(new URL("./fixtures/crash-app.ts", import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function start(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@palisade/source", app], {
    env: { ...process.env, NODE_ENV: "production", LOG_DIR: dir, AUDIT_HMAC_KEY: KEY },
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanups.push(() => child.kill("SIGKILL"));
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once("exit", (code) => reject(new Error(`crash app exited with ${code}`)));
  });
}

function book(port: number, slot: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ slot });
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/bookings",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        agent: false,
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on("end", () => resolve(res.statusCode === 201 ? (JSON.parse(text) as { id: number }).id : undefined));
        res.on("error", () => resolve(undefined));
      },
    );
    req.on("error", () => resolve(undefined));
    req.end(body);
  });
}

describe("auditLog() durable audit records", () => {
  it("keeps the record of every acknowledged booking through kill -9, and the trail verifies", async () => {
    const tmp = tempDir("palisade-crash-");
    cleanups.push(() => tmp.cleanup());
    const { child, port } = await start(tmp.path);
    const exited = new Promise((resolve) => child.once("exit", resolve));

    const acknowledged: number[] = [];
    let sent = 0;
    let killed = false;
    // 200 bookings, 16 at a time; the process is killed mid-stream after the 120th 201.
    const worker = async () => {
      while (sent < 200) {
        const slot = sent++;
        const id = await book(port, slot);
        if (id !== undefined) acknowledged.push(id);
        if (!killed && acknowledged.length >= 120) {
          killed = true;
          child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await exited;

    expect(killed).toBe(true);
    expect(child.signalCode).toBe("SIGKILL");
    expect(acknowledged.length).toBeGreaterThanOrEqual(120);
    expect(acknowledged.length).toBeLessThan(200);
    const recorded = new Set(
      auditRecords(tmp.path)
        .filter((record) => record.event === "booking_created")
        .map((record) => (record.detail as { bookingId: number }).bookingId),
    );
    expect(acknowledged.filter((id) => !recorded.has(id))).toEqual([]);
    // Linux can cut a write short when SIGKILL arrives mid-copy, so the last record (one not yet
    // acknowledged) may be torn: that, and nothing else, is what verify may report right away.
    const afterCrash = verifyAuditTrail(tmp.path, keyBytes(KEY));
    if (!afterCrash.ok) {
      expect(afterCrash.problem).toMatchObject({ kind: "truncated", file: afterCrash.files.at(-1) });
    }
    // Restarted, as a supervisor would, the writer seals any torn tail and the whole trail verifies.
    const again = await start(tmp.path);
    const stopped = new Promise((resolve) => again.child.once("exit", resolve));
    again.child.kill("SIGKILL");
    await stopped;
    expect(verifyAuditTrail(tmp.path, keyBytes(KEY))).toMatchObject({ ok: true });
  });

  it("continues the same chain after the crash", async () => {
    const tmp = tempDir("palisade-crash-");
    cleanups.push(() => tmp.cleanup());
    const first = await start(tmp.path);
    for (let i = 0; i < 5; i++) await book(first.port, i);
    const exited = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGKILL");
    await exited;
    const second = await start(tmp.path);
    expect(await book(second.port, 99)).toBe(1);
    second.child.kill("SIGKILL");
    const events = auditRecords(tmp.path).map((record) => record.event);
    expect(events).toEqual([
      "audit_seal",
      "sys_startup",
      ...Array(5).fill("booking_created"),
      "sys_startup",
      "booking_created",
    ]);
    expect(verifyAuditTrail(tmp.path, keyBytes(KEY))).toMatchObject({ ok: true, records: 9 });
  });
});
