import type { NextFunction, Request, RequestHandler, Response } from "express";
import { tokenHash } from "./crypto.js";
import { HttpError } from "./http-error.js";
import type { PublicUser, Role, Store } from "./store.js";
import { publicUser } from "./store.js";

export const SESSION_COOKIE = "session";
export const SESSION_TTL_MS = 7 * 24 * 3600_000;

declare global {
  namespace Express {
    interface Request {
      /** The signed-in user, set by `authenticate`. */
      user?: PublicUser;
      /** How the request proved who it is. */
      authMethod?: "bearer" | "cookie";
      /** The raw session token, for logout. */
      sessionToken?: string;
    }
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return decodeURIComponent(part.slice(index + 1).trim());
  }
  return undefined;
}

/** Reads a bearer token or the session cookie and sets `req.user`; never rejects by itself. */
export function authenticate(store: Store): RequestHandler {
  return function authenticateMiddleware(req: Request, _res: Response, next: NextFunction) {
    const authorization = req.headers.authorization;
    let token: string | undefined;
    if (authorization?.startsWith("Bearer ")) {
      token = authorization.slice(7).trim();
      req.authMethod = "bearer";
    } else {
      token = cookieValue(req.headers.cookie, SESSION_COOKIE);
      if (token) req.authMethod = "cookie";
    }
    if (token && token.length <= 128) {
      const row = store.sessionUser(tokenHash(token), new Date().toISOString());
      if (row) {
        req.user = publicUser(row);
        req.sessionToken = token;
      }
    }
    if (!req.user) req.authMethod = undefined;
    next();
  };
}

/** 401 unless signed in (and, with roles, 403 unless one of them). */
export function requireUser(...roles: Role[]): RequestHandler {
  return function requireUserMiddleware(req: Request, _res: Response, next: NextFunction) {
    if (!req.user) return next(new HttpError(401, "Sign in first.", { reason: "unauthenticated" }));
    if (roles.length > 0 && !roles.includes(req.user.role)) {
      return next(new HttpError(403, "You do not have access to this resource.", { reason: "forbidden" }));
    }
    next();
  };
}
