import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { NONCE_PLACEHOLDER, securityHeaders } from "@palisade/security-headers";
import type { RequestHandler } from "express";
import { defineBench, requireFromPackage } from "../harness.js";

// The middleware's own CPU time per request, without HTTP around it: each variant runs on fresh
// node:http request/response pairs, rounds alternate between variants, and the cost of creating
// the pair (the `noop` variant) is subtracted. Complements the HTTP bench, whose ratios drown in
// noise on a shared 2-core machine.

const helmet = requireFromPackage("security-headers")("helmet") as () => RequestHandler;

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

const fixedNonce = "A".repeat(24);
const constants = Object.entries(securityHeaders().effective.headers).map(
  ([name, value]) => [name, value.replaceAll(NONCE_PLACEHOLDER, fixedNonce)] as const,
);

const variants: Record<string, Middleware> = {
  noop: (_req, _res, next) => next(),
  helmet: helmet() as unknown as Middleware,
  constantBytes: (_req, res, next) => {
    for (const [name, value] of constants) res.setHeader(name, value);
    next();
  },
  securityHeaders: securityHeaders(),
};

const socket = new Socket();
function run(middleware: Middleware, iterations: number): number {
  let calls = 0;
  const next = () => {
    calls++;
  };
  // CPU time, not wall time: on a shared machine the process is descheduled often.
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const req = new IncomingMessage(socket);
    const res = new ServerResponse(req);
    middleware(req, res, next);
  }
  const used = process.cpuUsage(start);
  if (calls !== iterations) throw new Error("middleware did not call next()");
  return ((used.user + used.system) * 1000) / iterations;
}

export default defineBench({
  kind: "script",
  description:
    "CPU ns per request of helmet(), constant header bytes and securityHeaders(), request/response creation subtracted",
  async run() {
    const iterations = Number(process.env.BENCH_ITERATIONS ?? 50_000);
    const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
    const names = Object.keys(variants);
    for (const name of names) run(variants[name]!, 20_000);
    const samples = new Map(names.map((name) => [name, [] as number[]]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const name of order) samples.get(name)!.push(run(variants[name]!, iterations));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const noop = median(samples.get("noop")!);
    const rows = names
      .filter((name) => name !== "noop")
      .map((name) => ({ variant: name, nsPerRequest: Math.round(median(samples.get(name)!) - noop) }));
    console.log(
      `\nsecurity-headers-cpu (${rounds} rounds x ${iterations} requests; noop ${Math.round(noop)} ns subtracted)`,
    );
    console.table(rows);
    return { rows, noopNs: Math.round(noop), rounds, iterations };
  },
});
