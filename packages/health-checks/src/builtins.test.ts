import { createConnection } from "node:net";
import { PalisadeConfigError } from "@palisade/core";
import { startRedis, tempDir } from "@palisade/test-utils";
import { describe, expect, it } from "vitest";
import { diskSpaceCheck, eventLoopDelayCheck, memoryCheck, pingCheck } from "./builtins.js";

const signal = () => new AbortController().signal;

/** A Redis PING over a raw socket (RESP inline command), so no client library is needed. */
function redisPing(port: number, abort: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    abort.addEventListener("abort", () => socket.destroy(abort.reason as Error), { once: true });
    socket.once("error", reject);
    socket.once("data", (data) => {
      socket.end();
      const reply = data.toString().trim();
      if (reply === "+PONG") resolve(reply);
      else reject(new Error(`unexpected reply ${reply}`));
    });
    socket.write("PING\r\n");
  });
}

describe("eventLoopDelayCheck()", () => {
  it("reports the p99 delay since the previous run in ms", async () => {
    const check = eventLoopDelayCheck();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const result = await check(signal());
    check.close?.();
    expect(result).toMatchObject({ status: "pass", observedUnit: "ms", details: { meanMs: expect.any(Number) } });
  });

  it("fails when the loop was blocked past failMs", async () => {
    const check = eventLoopDelayCheck({ warnMs: 1, failMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 15));
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // Block the event loop.
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
    const result = await check(signal());
    check.close?.();
    expect(result).toMatchObject({ status: "fail", output: expect.stringMatching(/^event-loop delay p99 \d/) });
  });
});

describe("memoryCheck()", () => {
  it("reports heap use as a percentage of the heap limit", async () => {
    expect(await memoryCheck()(signal())).toMatchObject({
      status: "pass",
      observedUnit: "percent",
      details: { rssBytes: expect.any(Number), heapLimitBytes: expect.any(Number) },
    });
  });

  it("warns from warnPercent", async () => {
    expect(await memoryCheck({ warnPercent: 0 })(signal())).toMatchObject({ status: "warn" });
  });
});

describe("diskSpaceCheck()", () => {
  it("reports free bytes of the file system holding the path", async () => {
    const dir = tempDir();
    const result = await diskSpaceCheck(dir.path)(signal());
    dir.cleanup();
    expect(result).toMatchObject({ status: "pass", observedUnit: "bytes", details: { path: dir.path } });
  });

  it("fails when free space is at or below failFreePercent", async () => {
    const result = await diskSpaceCheck(process.cwd(), { warnFreePercent: 100, failFreePercent: 100 })(signal());
    expect(result).toMatchObject({ status: "fail", output: expect.stringContaining("% free on the file system of") });
  });

  it("rejects with the statfs error for a missing path", async () => {
    await expect(diskSpaceCheck("/nonexistent/palisade")(signal())).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("pingCheck()", () => {
  it("measures the response time of the call", async () => {
    const result = await pingCheck(async () => "PONG")(signal());
    expect(result).toMatchObject({ status: "pass", observedUnit: "ms", observedValue: expect.any(Number) });
  });

  it("fails after its own timeout and aborts the call's signal", async () => {
    let aborted = false;
    const check = pingCheck(
      (ping) =>
        new Promise(() => {
          ping.addEventListener("abort", () => {
            aborted = true;
          });
        }),
      { timeoutMs: 20 },
    );
    await expect(check(signal())).rejects.toThrow("ping timed out after 20 ms");
    expect(aborted).toBe(true);
  });

  it("aborts the call when the registry's signal aborts", async () => {
    const outer = new AbortController();
    let reason: unknown;
    const pending = pingCheck(
      (ping) =>
        new Promise((_resolve, reject) => {
          ping.addEventListener("abort", () => {
            reason = ping.reason;
            reject(ping.reason);
          });
        }),
    )(outer.signal);
    outer.abort(new Error("registry timeout"));
    await expect(pending).rejects.toThrow("registry timeout");
    expect(String(reason)).toBe("Error: registry timeout");
  });

  it("fails on false and warns past warnMs", async () => {
    expect(await pingCheck(() => false)(signal())).toMatchObject({ status: "fail", output: "ping returned false" });
    expect(await pingCheck(() => true, { warnMs: 0 })(signal())).toMatchObject({ status: "warn" });
  });

  it("passes against a real redis-server and fails once it is stopped", async (context) => {
    const redis = await startRedis();
    if (!redis) {
      context.skip();
      return;
    }
    const check = pingCheck((abort) => redisPing(redis.port, abort), { timeoutMs: 500 });
    try {
      expect(await check(signal())).toMatchObject({ status: "pass", observedUnit: "ms" });
      await redis.stop();
      await expect(check(signal())).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      await redis.stop(true);
    }
  });

  it("rejects a missing function and a bad timeout at construction", () => {
    expect(() => pingCheck(undefined as never)).toThrow(PalisadeConfigError);
    expect(() => pingCheck(() => true, { timeoutMs: 0 })).toThrow(
      "pingCheck: option `timeoutMs` must be a positive integer, got 0.",
    );
  });
});
