import { fileURLToPath } from "node:url";
import { defineBench } from "../harness.js";
import { serverCpu } from "../server-cpu.js";
import httpCase from "./access-control.bench.js";

// The access-control HTTP case's servers measured by server CPU per request (see bench/server-cpu.ts).
export default defineBench({
  kind: "script",
  description: "server CPU time per request: bare, csrfProtection(), ipAllowlist() on a same-origin POST",
  run: () =>
    serverCpu(
      fileURLToPath(new URL("./access-control.bench.ts", import.meta.url)),
      ["bare", "csrf", "allowlist"],
      httpCase.request,
      [
        { variant: "csrf", minRatio: 0.9 },
        { variant: "allowlist", minRatio: 0.9 },
      ],
    ),
});
