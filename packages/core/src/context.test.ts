import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { attachTimingSink, currentRequest, enterRequestScope, recordTiming, type TimingEntry } from "./context.js";

describe("enterRequestScope()", () => {
  it("makes the request visible to currentRequest() across await and timers", async () => {
    const app = express();
    app.use((req, res, next) => enterRequestScope(req, res, next));
    app.use((req, res, next) => enterRequestScope(req, res, next));
    app.get("/", async (req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const afterTimer = currentRequest()?.req === req;
      await Promise.resolve();
      res.json({ afterTimer, afterAwait: currentRequest()?.req === req, sameRes: currentRequest()?.res === res });
    });
    const res = await request(app).get("/");
    expect(res.body).toEqual({ afterTimer: true, afterAwait: true, sameRes: true });
  });

  it("is undefined outside a request", () => {
    expect(currentRequest()).toBeUndefined();
  });
});

describe("recordTiming()", () => {
  it("delivers to attached timing sinks and returns 0 without one", async () => {
    const app = express();
    const seen: TimingEntry[] = [];
    let withoutSink = -1;
    app.get("/", (req, res) => {
      withoutSink = recordTiming(req, { name: "db", durationMs: 1 });
      attachTimingSink(req, (entry) => seen.push(entry));
      recordTiming(req, { name: "db", durationMs: 2.5, description: "select" });
      res.end();
    });
    await request(app).get("/");
    expect(withoutSink).toBe(0);
    expect(seen).toEqual([{ name: "db", durationMs: 2.5, description: "select" }]);
  });
});
