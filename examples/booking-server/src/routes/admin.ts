import { Router } from "express";
import { requireUser } from "../auth.js";
import type { AppContext } from "../context.js";
import { invalid } from "../http-error.js";

export function adminRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(requireUser("admin"));

  router.get("/users", (req, res) => {
    const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
    const offset = req.query.offset === undefined ? 0 : Number(req.query.offset);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      throw invalid("limit", "must be an integer from 1 to 200.");
    if (!Number.isInteger(offset) || offset < 0) throw invalid("offset", "must be a non-negative integer.");
    ctx.audit(req, "admin_action", { action: "list_users" });
    res.json(ctx.store.listUsers(limit, offset));
  });

  router.get("/metrics", (req, res) => {
    ctx.audit(req, "admin_action", { action: "read_metrics" });
    res.json(ctx.store.metrics(ctx.now()));
  });

  return router;
}
