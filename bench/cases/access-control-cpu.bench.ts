import { fileURLToPath } from "node:url";
import { defineBench } from "../harness.js";
import httpCase from "./access-control.bench.js";
import { serverCpu } from "./rate-limit-cpu.bench.js";

// The access-control HTTP case's servers measured by server CPU per request (see rate-limit-cpu).
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
