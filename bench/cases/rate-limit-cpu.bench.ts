import { fileURLToPath } from "node:url";
import { defineBench } from "../harness.js";
import { serverCpu } from "../server-cpu.js";

// The rate-limit HTTP case's servers measured by server CPU per request (see bench/server-cpu.ts).
export default defineBench({
  kind: "script",
  description:
    "server CPU time per request: bare, static draft-8 headers, rateLimit() api and sensitive (memory store)",
  run: () =>
    serverCpu(
      fileURLToPath(new URL("./rate-limit.bench.ts", import.meta.url)),
      ["bare", "headersOnly", "api", "sensitive"],
      {},
      [
        { variant: "api", minRatio: 0.9 },
        { variant: "sensitive", minRatio: 0.9 },
      ],
    ),
});
