import http, { type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { beforeHeaders, installBeforeHeaders, onResponseDone } from "./response-hooks.js";

describe("beforeHeaders", () => {
  it("runs hooks once, in order, while headers can still be set, without touching res itself", async () => {
    const calls: string[] = [];
    let ownWriteHead = true;
    const app = express();
    app.use((req, res, next) => {
      beforeHeaders(req, res, (r) => {
        calls.push("first");
        r.setHeader("X-First", "1");
      });
      beforeHeaders(req, res, (r, args) => {
        calls.push(`second:${String(args[0])}`);
        r.setHeader("X-Second", "2");
      });
      ownWriteHead = Object.hasOwn(res, "writeHead");
      next();
    });
    app.get("/", (_req, res) => {
      res.status(201).json({ ok: true });
    });

    const response = await request(app).get("/");
    expect(response.status).toBe(201);
    expect(response.headers["x-first"]).toBe("1");
    expect(response.headers["x-second"]).toBe("2");
    expect(calls).toEqual(["first", "second:201"]);
    expect(ownWriteHead).toBe(false);
  });

  it("passes writeHead's own arguments when the app calls it directly", async () => {
    let seen: readonly unknown[] = [];
    const app = express();
    app.use((req, res, next) => {
      beforeHeaders(req, res, (_r, args) => {
        seen = args;
      });
      next();
    });
    app.get("/", (_req, res) => {
      res.writeHead(202, { "Content-Type": "text/plain" });
      res.end("accepted");
    });

    const response = await request(app).get("/");
    expect(response.status).toBe(202);
    expect(response.text).toBe("accepted");
    expect(seen).toEqual([202, { "Content-Type": "text/plain" }]);
  });

  it("works on a bare node:http server, and leaves responses nobody hooked alone", async () => {
    installBeforeHeaders();
    const server = http.createServer((req, res) => {
      if (req.url === "/hooked") beforeHeaders(req, res, (r) => r.setHeader("X-Hooked", "yes"));
      res.end("done");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const hooked = await fetch(`${base}/hooked`);
      const plain = await fetch(`${base}/plain`);
      expect(hooked.headers.get("x-hooked")).toBe("yes");
      expect(await hooked.text()).toBe("done");
      expect(plain.headers.get("x-hooked")).toBeNull();
      expect(await plain.text()).toBe("done");
    } finally {
      server.close();
    }
  });

  it("runs the remaining hooks when one throws, and the response still goes out", async () => {
    const app = express();
    app.use((req, res, next) => {
      beforeHeaders(req, res, function failingHook() {
        throw new Error("hook failed");
      });
      beforeHeaders(req, res, (r) => r.setHeader("X-After", "ran"));
      next();
    });
    app.get("/", (_req, res) => {
      res.json({ ok: true });
    });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const response = await request(app).get("/");
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ok: true });
      expect(response.headers["x-after"]).toBe("ran");
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    const warning = warnings.find((w) => (w as Error & { code?: string }).code === "WRN_PALISADE_RESPONSE_HOOK");
    expect(warning?.message).toContain("hook failed");
  });
});

describe("onResponseDone", () => {
  it("runs every hook once after the response finished, through one close listener", async () => {
    const finished: boolean[] = [];
    let listeners = 0;
    const app = express();
    app.use((req, res, next) => {
      onResponseDone(req, res, (r) => finished.push(r.writableFinished));
      onResponseDone(req, res, (r) => finished.push(r.statusCode === 200));
      listeners = res.listenerCount("close");
      next();
    });
    app.get("/", (_req, res) => {
      res.json({ ok: true });
    });

    const before = await request(app).get("/");
    expect(before.status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(finished).toEqual([true, true]);
    expect(listeners).toBe(1);
  });

  it("runs when the client goes away before an answer, with writableFinished false", async () => {
    let done: (res: ServerResponse) => void = () => {};
    const closed = new Promise<ServerResponse>((resolve) => {
      done = resolve;
    });
    const app = express();
    app.use((req, res, next) => {
      onResponseDone(req, res, done);
      next();
    });
    app.get("/slow", () => {
      // Never answers; the client aborts.
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const client = http.get({ host: "127.0.0.1", port, path: "/slow" });
      client.on("error", () => {});
      setTimeout(() => client.destroy(), 50);
      const res = await closed;
      expect(res.writableFinished).toBe(false);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
