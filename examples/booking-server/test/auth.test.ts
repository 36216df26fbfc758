import request from "supertest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bookingServer, count, fieldOf, type TestServer } from "./helpers.js";

let server: TestServer;
beforeEach(async () => {
  server = await bookingServer();
});
afterEach(() => server.cleanup());

describe("POST /api/auth/register", () => {
  it("creates a client account and answers 201 without the password hash", async () => {
    const res = await request(server.app)
      .post("/api/auth/register")
      .send({ email: "Carol@Example.com", password: "long-enough-1", name: "Carol Dubois" });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({
      email: "carol@example.com",
      name: "Carol Dubois",
      role: "client",
      isActive: true,
    });
    expect(JSON.stringify(res.body)).not.toMatch(/scrypt|password/);
    expect(server.events.map((e) => e.name)).toEqual(["user_created"]);
  });

  it("answers 409 for an email that is taken, whatever its case", async () => {
    const res = await request(server.app)
      .post("/api/auth/register")
      .send({ email: "ALICE@example.com", password: "long-enough-1", name: "Alice 2" });
    expect(res.status).toBe(409);
    expect(fieldOf(res.body)).toBe("email");
  });

  it.each([
    [{ email: "not-an-email", password: "long-enough-1", name: "X" }, "email"],
    [{ email: "x@example.com", password: "short", name: "X" }, "password"],
    [{ email: "x@example.com", password: "long-enough-1" }, "name"],
    [{ email: "x@example.com", password: 12345678, name: "X" }, "password"],
  ])("answers 400 problem+json naming the field and writes nothing (%j)", async (body, field) => {
    const before = count(server.db, "users");
    const res = await request(server.app).post("/api/auth/register").send(body);
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(fieldOf(res.body)).toBe(field);
    expect(res.body.detail).toMatch(new RegExp(`\`(body\\.)?${field}\``));
    expect(count(server.db, "users")).toBe(before);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const res = await request(server.app)
      .post("/api/auth/register")
      .set("Content-Type", "application/json")
      .send("{oops");
    expect(res.status).toBe(400);
    expect(res.body.detail).toBe("The body is not valid JSON.");
  });
});

describe("POST /api/auth/login", () => {
  it("returns a bearer token and the user, and sets an HttpOnly session cookie", async () => {
    const res = await request(server.app)
      .post("/api/auth/login")
      .send({ email: "alice@example.com", password: "demo-password-1" });
    expect(res.status).toBe(200);
    expect(res.body.token).toMatch(/^[\w-]{43}$/);
    expect(res.body.user).toMatchObject({ email: "alice@example.com", role: "client" });
    const cookie = res.headers["set-cookie"]?.[0] ?? "";
    expect(cookie).toMatch(/^session=[\w-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(server.events.map((e) => e.name)).toEqual(["authn_login_success"]);
  });

  it("accepts the token as a bearer and the cookie alike", async () => {
    const login = await request(server.app)
      .post("/api/auth/login")
      .send({ email: "alice@example.com", password: "demo-password-1" });
    const bearer = await request(server.app).get("/api/auth/me").set("Authorization", `Bearer ${login.body.token}`);
    const cookie = await request(server.app).get("/api/auth/me").set("Cookie", `session=${login.body.token}`);
    expect(bearer.body.user.email).toBe("alice@example.com");
    expect(cookie.body.user.email).toBe("alice@example.com");
  });

  it.each([
    ["alice@example.com", "wrong-password"],
    ["nobody@example.com", "demo-password-1"],
  ])("answers 401 with one message for %s", async (email, password) => {
    const res = await request(server.app).post("/api/auth/login").send({ email, password });
    expect(res.status).toBe(401);
    expect(res.body.detail).toBe("Email or password is wrong.");
    expect(server.events.map((e) => e.name)).toEqual(["authn_login_fail"]);
  });

  it("answers 400 naming a missing password", async () => {
    const res = await request(server.app).post("/api/auth/login").send({ email: "alice@example.com" });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe("password");
  });
});

describe("POST /api/auth/logout", () => {
  it("revokes the session", async () => {
    const token = await server.login("alice@example.com");
    const res = await request(server.app).post("/api/auth/logout").set("Authorization", `Bearer ${token}`);
    expect(res.status).toBe(204);
    const after = await request(server.app).get("/api/auth/me").set("Authorization", `Bearer ${token}`);
    expect(after.status).toBe(401);
  });

  it("answers 401 when not signed in", async () => {
    expect((await request(server.app).post("/api/auth/logout")).status).toBe(401);
  });
});

describe("password reset", () => {
  const outboxToken = () =>
    JSON.parse((server.db.prepare("SELECT payload FROM outbox ORDER BY id DESC").get() as { payload: string }).payload)
      .token as string;

  it("answers 202 with the same body whether or not the account exists", async () => {
    const known = await request(server.app)
      .post("/api/auth/password-reset/request")
      .send({ email: "alice@example.com" });
    const unknown = await request(server.app)
      .post("/api/auth/password-reset/request")
      .send({ email: "ghost@example.com" });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(known.body);
    expect(count(server.db, "outbox")).toBe(1);
    const stored = server.db.prepare("SELECT token_hash FROM password_reset_tokens").get() as { token_hash: string };
    expect(stored.token_hash).not.toBe(outboxToken());
  });

  it("changes the password once with a valid token and signs out old sessions", async () => {
    const oldToken = await server.login("alice@example.com");
    await request(server.app).post("/api/auth/password-reset/request").send({ email: "alice@example.com" });
    const token = outboxToken();
    const res = await request(server.app)
      .post("/api/auth/password-reset/confirm")
      .send({ token, password: "brand-new-pass" });
    expect(res.status).toBe(200);
    expect((await request(server.app).get("/api/auth/me").set("Authorization", `Bearer ${oldToken}`)).status).toBe(401);
    await server.login("alice@example.com", "brand-new-pass");
    const again = await request(server.app)
      .post("/api/auth/password-reset/confirm")
      .send({ token, password: "another-pass-2" });
    expect(again.status).toBe(400);
    expect(again.body.field).toBe("token");
  });

  it("refuses an expired token", async () => {
    await request(server.app).post("/api/auth/password-reset/request").send({ email: "alice@example.com" });
    server.db.prepare("UPDATE password_reset_tokens SET expires_at = '2000-01-01T00:00:00.000Z'").run();
    const res = await request(server.app)
      .post("/api/auth/password-reset/confirm")
      .send({ token: outboxToken(), password: "brand-new-pass" });
    expect(res.status).toBe(400);
  });

  it("answers 400 for a malformed email", async () => {
    const res = await request(server.app).post("/api/auth/password-reset/request").send({ email: "nope" });
    expect(res.status).toBe(400);
    expect(fieldOf(res.body)).toBe("email");
  });
});
