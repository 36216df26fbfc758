import { Router } from "express";
import { requireUser, SESSION_COOKIE, SESSION_TTL_MS } from "../auth.js";
import type { AppContext } from "../context.js";
import { DUMMY_HASH, hashPassword, newToken, tokenHash, verifyPassword } from "../crypto.js";
import { HttpError } from "../http-error.js";
import { publicUser } from "../store.js";
import { bodyOf, email, password, string } from "../validate.js";

const RESET_TTL_MS = 30 * 60_000;

export function authRoutes(ctx: AppContext): Router {
  const { store } = ctx;
  const router = Router();

  router.post("/register", async (req, res) => {
    const body = bodyOf(req.body);
    const input = { email: email(body), name: string(body, "name", { max: 100 }), password: password(body) };
    if (store.userByEmail(input.email)) {
      throw new HttpError(409, "An account with this email already exists.", { field: "email" });
    }
    const hash = await hashPassword(input.password);
    // The check above ran before an await: the UNIQUE constraint settles a concurrent registration.
    let user: ReturnType<typeof store.createUser>;
    try {
      user = store.createUser(input.email, input.name, hash);
    } catch (error) {
      if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new HttpError(409, "An account with this email already exists.", { field: "email" });
      }
      throw error;
    }
    ctx.audit(req, "user_created", { userId: user.id });
    res.status(201).json({ user: publicUser(user) });
  });

  router.post("/login", async (req, res) => {
    const body = bodyOf(req.body);
    const address = email(body);
    const secret = typeof body.password === "string" ? body.password : "";
    if (!secret) throw new HttpError(400, "`password` is required and must be a string.", { field: "password" });
    const user = store.userByEmail(address);
    const ok = await verifyPassword(secret.slice(0, 200), user?.password_hash ?? DUMMY_HASH);
    if (!user || !ok || user.is_active !== 1) {
      ctx.audit(req, "authn_login_fail", { email: address, reason: user ? "bad_password" : "unknown_account" });
      await ctx.onLoginFailed?.(req);
      throw new HttpError(401, "Email or password is wrong.", { reason: "invalid_credentials" });
    }
    const token = newToken();
    const expires = new Date(ctx.now().getTime() + SESSION_TTL_MS);
    store.createSession(user.id, tokenHash(token), expires.toISOString());
    ctx.audit(req, "authn_login_success", { userId: user.id });
    res.cookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: "lax",
      secure: req.secure,
      path: "/",
      expires,
    });
    res.json({ token, user: publicUser(user) });
  });

  router.post("/logout", requireUser(), (req, res) => {
    if (req.sessionToken) store.revokeSession(tokenHash(req.sessionToken));
    ctx.audit(req, "authn_token_revoked", { userId: req.user!.id });
    res.clearCookie(SESSION_COOKIE, { path: "/" });
    res.status(204).end();
  });

  router.post("/password-reset/request", (req, res) => {
    const body = bodyOf(req.body);
    const address = email(body);
    const user = store.userByEmail(address);
    // Same answer whether or not the account exists: no user enumeration.
    if (user && user.is_active === 1) {
      const token = newToken();
      const expires = new Date(ctx.now().getTime() + RESET_TTL_MS).toISOString();
      store.createResetToken(user.id, tokenHash(token), expires, {
        recipient: user.email,
        payload: JSON.stringify({ token, expiresAt: expires }),
      });
      if (ctx.config.nodeEnv === "development")
        ctx.log("password reset token (development only)", { email: user.email, token });
    }
    res.status(202).json({ status: "accepted" });
  });

  router.post("/password-reset/confirm", async (req, res) => {
    const body = bodyOf(req.body);
    const token = string(body, "token", { max: 128 });
    const next = password(body);
    const userId = store.consumeResetToken(tokenHash(token), ctx.now().toISOString(), await hashPassword(next));
    if (userId === undefined) {
      ctx.audit(req, "authn_password_change_fail", { reason: "invalid_token" });
      throw new HttpError(400, "`token` is invalid, used or expired.", { field: "token" });
    }
    ctx.audit(req, "authn_password_change", { userId });
    res.json({ status: "password_changed" });
  });

  // For pages: who is signed in, without a 401 when nobody is.
  router.get("/session", (req, res) => {
    res.json({ user: req.user ?? null });
  });

  router.get("/me", requireUser(), (req, res) => {
    res.json({ user: req.user });
  });

  return router;
}
