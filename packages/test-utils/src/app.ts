import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";

/**
 * An Express 5 app with the given middleware, a JSON body parser, and routes that answer
 * `{ ok: true }` on `GET /`, `POST /` and any other path under `/echo`, plus an error handler
 * that returns `{ error }` with the error's status (500 by default).
 */
export function createApp(...middleware: RequestHandler[]): Express {
  const app = express();
  app.use(express.json());
  for (const handler of middleware) app.use(handler);
  app.get("/", (_req, res) => {
    res.json({ ok: true });
  });
  app.post("/", (req, res) => {
    res.json({ ok: true, body: req.body });
  });
  app.all("/echo/{*rest}", (req, res) => {
    res.json({ ok: true, path: req.path, query: req.query, body: req.body });
  });
  const errors: ErrorRequestHandler = (error, _req, res, _next) => {
    const status = typeof error?.status === "number" ? error.status : 500;
    res.status(status).json({ error: String(error?.message ?? error) });
  };
  app.use(errors);
  return app;
}
