import { createApp } from "@palisade/test-utils";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { cacheFingerprintedAssets, markSensitive, noStore } from "./caching.js";

describe("noStore()", () => {
  it("sets Cache-Control: no-store", async () => {
    const response = await request(createApp(noStore())).get("/");
    expect(response.headers["cache-control"]).toBe("no-store");
  });
});

describe("markSensitive()", () => {
  it("marks one response no-store", async () => {
    const app = createApp();
    app.get("/account", (_req, res) => {
      markSensitive(res);
      res.send("private");
    });
    expect((await request(app).get("/account")).headers["cache-control"]).toBe("no-store");
    expect((await request(app).get("/")).headers["cache-control"]).toBeUndefined();
  });
});

describe("cacheFingerprintedAssets()", () => {
  const app = createApp(cacheFingerprintedAssets());

  it.each(["/echo/app.3f9a1c2b.js", "/echo/styles.0123456789abcdef.css?v=1"])(
    "caches %s for a year, immutable",
    async (path) => {
      expect((await request(app).get(path)).headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    },
  );

  it.each(["/echo/app.js", "/echo/app.3f9a.js"])("leaves %s alone", async (path) => {
    expect((await request(app).get(path)).headers["cache-control"]).toBeUndefined();
  });

  it("leaves other methods alone", async () => {
    expect((await request(app).post("/echo/app.3f9a1c2b.js")).headers["cache-control"]).toBeUndefined();
  });

  it("uses the pattern and maxAge given", async () => {
    const custom = createApp(cacheFingerprintedAssets({ pattern: /^\/echo\/v\d+\//, maxAge: 600 }));
    expect((await request(custom).get("/echo/v2/app.js")).headers["cache-control"]).toBe(
      "public, max-age=600, immutable",
    );
  });

  it("validates its options", () => {
    expect(() => cacheFingerprintedAssets({ pattern: "*.js" as unknown as RegExp })).toThrow(
      'cacheFingerprintedAssets: option `pattern` must be a RegExp, got "*.js".',
    );
    expect(() => cacheFingerprintedAssets({ maxAge: -5 })).toThrow(
      "cacheFingerprintedAssets: option `maxAge` must be a non-negative integer, got -5.",
    );
  });
});
