import { clientIp, compileTrust, emitSecurityEvent } from "@palisade/core";
import express from "express";
import { defineBench } from "../harness.js";

// The floor every package builds on: resolving the client address and emitting an event
// with no sink attached must cost next to nothing.
export default defineBench({
  kind: "http",
  description: "bare Express vs Express + clientIp() + emitSecurityEvent() per request",
  variants: {
    bare: () => {
      const app = express();
      app.get("/", (_req, res) => {
        res.json({ ok: true });
      });
      return app;
    },
    core: () => {
      const trust = compileTrust(["loopback"]);
      const app = express();
      app.use((req, res, next) => {
        res.locals.ip = clientIp(req, trust);
        emitSecurityEvent(req, { name: "sys_monitor_enabled" });
        next();
      });
      app.get("/", (_req, res) => {
        res.json({ ok: true });
      });
      return app;
    },
  },
  targets: [{ variant: "core", minRatio: 0.95 }],
});
