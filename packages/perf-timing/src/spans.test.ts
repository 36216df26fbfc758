import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { attachTimingSink, enterRequestScope, type TimingEntry } from "@palisade/core";
import { describe, expect, it } from "vitest";
import { endSpan, startSpan, timed } from "./spans.js";

function requestWithSink() {
  const req = new IncomingMessage(new Socket());
  const entries: TimingEntry[] = [];
  attachTimingSink(req, (entry) => entries.push(entry));
  return { req, entries };
}

describe("startSpan()", () => {
  it("records the span once when ended, with its description", () => {
    const { req, entries } = requestWithSink();
    const span = startSpan(req, "render", "home page");
    const first = span.end();
    expect(span.end()).toBe(first);
    expect(entries).toEqual([{ name: "render", durationMs: first, description: "home page" }]);
    expect(first).toBeGreaterThanOrEqual(0);
  });

  it("records nothing and still measures outside any request", () => {
    expect(startSpan(undefined, "db").end()).toBeGreaterThanOrEqual(0);
  });
});

describe("endSpan()", () => {
  it("ends the most recent open span of that name", () => {
    const { req, entries } = requestWithSink();
    startSpan(req, "db", "outer");
    startSpan(req, "db", "inner");
    endSpan(req, "db");
    endSpan(req, "db");
    expect(entries.map((entry) => entry.description)).toEqual(["inner", "outer"]);
  });

  it("returns undefined when no span of that name is open", () => {
    const { req } = requestWithSink();
    startSpan(req, "db").end();
    expect(endSpan(req, "db")).toBeUndefined();
    expect(endSpan(req, "cache")).toBeUndefined();
  });
});

describe("timed()", () => {
  it("returns a sync result and records the span", () => {
    const { req, entries } = requestWithSink();
    expect(timed(req, "db", () => 42)).toBe(42);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.name).toBe("db");
  });

  it("records a span when the function throws, and rethrows", () => {
    const { req, entries } = requestWithSink();
    expect(() =>
      timed(req, "db", () => {
        throw new Error("locked");
      }),
    ).toThrow("locked");
    expect(entries).toHaveLength(1);
  });

  it("ends an async span when its promise settles, resolved or rejected", async () => {
    const { req, entries } = requestWithSink();
    const value = timed(req, "fetch", () => new Promise((resolve) => setTimeout(() => resolve("ok"), 5)));
    expect(entries).toHaveLength(0);
    await expect(value).resolves.toBe("ok");
    await expect(timed(req, "fetch", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(entries.map((entry) => entry.name)).toEqual(["fetch", "fetch"]);
    expect(entries[0]!.durationMs).toBeGreaterThan(0);
  });

  it("finds the request through core's request scope when given undefined", async () => {
    const { req, entries } = requestWithSink();
    await new Promise<void>((resolve) => {
      enterRequestScope(req, new ServerResponse(req), () => {
        setTimeout(() => {
          timed(undefined, "db", () => 1, "from a module without req");
          resolve();
        }, 1);
      });
    });
    expect(entries).toEqual([expect.objectContaining({ name: "db", description: "from a module without req" })]);
  });
});
