import { IncomingMessage } from "node:http";
import express from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { ownProperty, requestProperty } from "./sinks.js";

type Loose = Record<string, unknown>;

describe("requestProperty", () => {
  it("exposes each request's value as req[name] without an own property on req", async () => {
    const setTicket = requestProperty<{ n: number }>("palisadeTestTicket");
    let count = 0;
    const app = express();
    app.use((req, _res, next) => {
      setTicket(req, { n: ++count });
      next();
    });
    app.get("/", (req, res) => {
      res.json({
        ticket: (req as unknown as Loose).palisadeTestTicket,
        own: Object.keys(req).includes("palisadeTestTicket"),
      });
    });
    const first = await request(app).get("/");
    const second = await request(app).get("/");
    expect(first.body).toEqual({ ticket: { n: 1 }, own: false });
    expect(second.body).toEqual({ ticket: { n: 2 }, own: false });
    // A request nobody set it on reads undefined, as a missing property would.
    const bare = express();
    bare.get("/", (req, res) => {
      res.json({ ticket: (req as unknown as Loose).palisadeTestTicket ?? "none" });
    });
    expect((await request(bare).get("/")).body).toEqual({ ticket: "none" });
  });

  it("lets the app assign the property, before (replaced) or after (kept) the setter", async () => {
    const setMark = requestProperty<string>("palisadeTestMark");
    const app = express();
    app.use((req, _res, next) => {
      if (req.query.before) (req as unknown as Loose).palisadeTestMark = "app-before";
      next();
    });
    app.use((req, _res, next) => {
      setMark(req, "palisade");
      next();
    });
    app.get("/", (req, res) => {
      const seen = (req as unknown as Loose).palisadeTestMark;
      if (req.query.after) (req as unknown as Loose).palisadeTestMark = "app-after";
      res.json({ seen, now: (req as unknown as Loose).palisadeTestMark });
    });
    expect((await request(app).get("/?before=1")).body).toEqual({ seen: "palisade", now: "palisade" });
    expect((await request(app).get("/?after=1")).body).toEqual({ seen: "palisade", now: "app-after" });
  });

  it("shares one accessor between setters of the same name: the last value set wins", async () => {
    const first = requestProperty<string>("palisadeTestShared");
    const second = requestProperty<string>("palisadeTestShared");
    const app = express();
    app.use((req, _res, next) => {
      first(req, "first");
      second(req, "second");
      next();
    });
    app.get("/", (req, res) => {
      res.json({ value: (req as unknown as Loose).palisadeTestShared });
    });
    expect((await request(app).get("/")).body).toEqual({ value: "second" });
  });

  it("assigns a plain property where the prototype already has the name, and leaves the prototype alone", async () => {
    const pipe = IncomingMessage.prototype.pipe;
    const setPipe = requestProperty<string>("pipe");
    expect(IncomingMessage.prototype.pipe).toBe(pipe);
    const app = express();
    app.use((req, _res, next) => {
      setPipe(req, "shadowed");
      next();
    });
    app.get("/", (req, res) => {
      res.json({ value: (req as unknown as Loose).pipe, own: Object.hasOwn(req, "pipe") });
    });
    expect((await request(app).get("/")).body).toEqual({ value: "shadowed", own: true });
  });

  it("assigns a plain property on a request object that is not an IncomingMessage", () => {
    const setTicket = requestProperty<number>("palisadeTestTicket");
    const req = { headers: {} } as unknown as IncomingMessage;
    setTicket(req, 7);
    expect((req as unknown as Loose).palisadeTestTicket).toBe(7);
    expect(Object.hasOwn(req, "palisadeTestTicket")).toBe(true);
  });
});

describe("ownProperty", () => {
  it("reads what middleware set on the request, and nothing from its prototypes", async () => {
    const app = express();
    app.use(express.json());
    app.use((req, _res, next) => {
      (req as unknown as Loose).user = { id: "u-1" };
      next();
    });
    app.post("/", (req, res) => {
      res.json({
        body: ownProperty(req, "body") ?? null,
        user: ownProperty(req, "user") ?? null,
        cookies: ownProperty(req, "cookies") ?? null,
        // A method of every request, reached through the prototype: not own.
        get: ownProperty(req, "get") === undefined,
      });
    });
    const res = await request(app).post("/").send({ a: 1 });
    expect(res.body).toEqual({ body: { a: 1 }, user: { id: "u-1" }, cookies: null, get: true });
  });
});
