import { fileURLToPath } from "node:url";
import { defineBench } from "../harness.js";
import { serverCpu } from "../server-cpu.js";

// The HTTP bench's four servers measured by server CPU per request (see bench/server-cpu.ts).
export default defineBench({
  kind: "script",
  description: "server CPU time per request: bare, helmet(), constant header bytes, securityHeaders()",
  run: () =>
    serverCpu(
      fileURLToPath(new URL("./security-headers.bench.ts", import.meta.url)),
      ["bare", "helmet", "constantBytes", "securityHeaders"],
      {},
      [
        { variant: "securityHeaders", against: "constantBytes", minRatio: 0.98 },
        { variant: "securityHeaders", against: "helmet", minRatio: 1 },
      ],
    ),
});
