import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { sendProblem } from "./problem.js";

describe("sendProblem()", () => {
  it("answers application/problem+json with defaults from the status", async () => {
    const app = express();
    app.get("/", (_req, res) => sendProblem(res, 429, { detail: "Slow down.", retryAfter: 30 }));
    const res = await request(app).get("/");
    expect(res.status).toBe(429);
    expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(JSON.parse(res.text)).toEqual({
      type: "about:blank",
      title: "Too Many Requests",
      status: 429,
      detail: "Slow down.",
      retryAfter: 30,
    });
  });

  it("does nothing when the headers were already sent", async () => {
    const app = express();
    app.get("/", (_req, res) => {
      res.status(200).send("done");
      sendProblem(res, 500);
    });
    const res = await request(app).get("/");
    expect(res.status).toBe(200);
    expect(res.text).toBe("done");
  });
});
