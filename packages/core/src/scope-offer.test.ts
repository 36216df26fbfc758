import express from "express";
import request from "supertest";
import { expect, it } from "vitest";
import { currentRequest, offerRequestScope, requireRequestScope } from "./context.js";

// One file of its own: requireRequestScope() is process-wide and cannot be undone, so the
// "before anyone asked" case must run in a process where nothing asked yet.
it("offerRequestScope enters the scope only once something called requireRequestScope()", async () => {
  const app = express();
  app.use((req, res, next) => offerRequestScope(req, res, next));
  app.get("/", async (req, res) => {
    await Promise.resolve();
    res.json({ inScope: currentRequest()?.req === req });
  });

  expect((await request(app).get("/")).body).toEqual({ inScope: false });
  requireRequestScope();
  expect((await request(app).get("/")).body).toEqual({ inScope: true });
  requireRequestScope();
  expect((await request(app).get("/")).body).toEqual({ inScope: true });
});
