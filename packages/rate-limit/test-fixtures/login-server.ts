// A booking-style login endpoint behind `sensitive`, run as a separate process by
// redis.test.ts so that two instances share one Redis the way production does.
import express from "express";
import { createClient } from "redis";
import { rateLimit } from "../src/index.js";

const client = createClient({
  url: process.env.REDIS_URL,
  disableOfflineQueue: true,
  socket: { reconnectStrategy: () => 100 },
});
client.on("error", () => {});
await client.connect();

const login = rateLimit({ preset: "sensitive", redis: client });
const app = express();
app.use(express.json());
app.post("/api/auth/login", login, async (req, res) => {
  if (req.body?.password === "demo-password-1") {
    res.json({ ok: true });
    return;
  }
  await login.fail(req);
  res.status(401).json({ error: "invalid credentials" });
});

const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});
process.on("disconnect", () => {
  server.close();
  void client.quit().finally(() => process.exit(0));
});
