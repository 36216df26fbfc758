import express from "express";
import { defineBench } from "../harness.js";

// Calibration: two identical bare Express servers. Their ratio should be 1; how far it strays
// over a run is the noise floor of every other HTTP ratio measured on this machine.
function app() {
  const server = express();
  server.get("/", (_req, res) => {
    res.json({ ok: true });
  });
  return server;
}

export default defineBench({
  kind: "http",
  description: "two identical bare Express servers: the ratio is this machine's noise floor",
  variants: { bare: app, bareAgain: app },
});
