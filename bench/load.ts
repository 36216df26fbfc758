import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { median } from "./harness.js";

// `pnpm bench:load`: the booking platform under a realistic mix, full Palisade stack vs the same
// app with every Palisade middleware off (PALISADE_MIDDLEWARE=off), both as real `pnpm start`
// processes on their own SQLite files, rounds alternating between them. Clients arrive through
// a trusted loopback proxy with X-Forwarded-For addresses spread over 10.0.0.0/8, as many users
// behind a load balancer would (one address for all would trip the per-client limits).

const here = fileURLToPath(new URL(".", import.meta.url));
const serverDir = join(here, "../examples/booking-server");
const resultsDir = join(here, "results");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
// Bookings spread over this many accounts: each one's "my bookings" list (up to 200 rows, the
// API's page) grows with every booking the run makes. 40 accounts ended a run with over 250
// bookings each, a 40 KB list per my-bookings request, which no barbershop client has.
const USERS = Number(process.env.BENCH_USERS ?? 400);

interface Variant {
  name: string;
  child: ChildProcess;
  url: string;
  tokens: string[];
  dir: string;
}

const randomIp = () =>
  `10.${(Math.random() * 255) | 0}.${(Math.random() * 255) | 0}.${((Math.random() * 253) | 0) + 1}`;
const pick = <T>(items: T[]) => items[(Math.random() * items.length) | 0]!;

async function start(name: string, env: Record<string, string>): Promise<Variant> {
  const dir = mkdtempSync(join(tmpdir(), `palisade-load-${name}-`));
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@palisade/source", "src/main.ts"], {
    cwd: serverDir,
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: "0",
      DATABASE_FILE: join(dir, "booking.db"),
      LOG_DIR: join(dir, "logs"),
      TRUST_PROXY: "loopback",
      AUDIT_HMAC_KEY: "load-test-key-0123456789abcdef0123456789",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      const match = out.match(/listening on http:\/\/localhost:(\d+)/);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}: ${out}`)));
  });
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  // Registered a batch at a time: each registration and login hashes a password (scrypt).
  const tokens: string[] = [];
  for (let first = 0; first < USERS; first += 16) {
    const batch = Array.from({ length: Math.min(16, USERS - first) }, (_, i) => first + i);
    tokens.push(...(await Promise.all(batch.map((i) => account(name, url, i)))));
  }
  return { name, child, url, tokens, dir };
}

async function account(name: string, url: string, i: number): Promise<string> {
  const email = `load${i}@example.com`;
  const headers = { "content-type": "application/json", "x-forwarded-for": randomIp() };
  await fetch(`${url}/api/auth/register`, {
    method: "POST",
    headers,
    body: JSON.stringify({ email, password: "load-password-1", name: `Load ${i}` }),
  });
  const login = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { ...headers, "x-forwarded-for": randomIp() },
    body: JSON.stringify({ email, password: "load-password-1" }),
  });
  if (login.status !== 200) throw new Error(`${name}: login failed with ${login.status}: ${await login.text()}`);
  return ((await login.json()) as { token: string }).token;
}

function futureSlot(): string {
  const day = new Date(Date.now() + (2 + ((Math.random() * 3000) | 0)) * 24 * 3600_000);
  day.setUTCHours(9 + ((Math.random() * 7) | 0), pick([0, 15, 30]), 0, 0);
  return day.toISOString();
}

type Mix = "reads" | "bookings" | "mixed";

// Reads are drawn from a pool of prebuilt requests (different addresses, days, barbers and
// tokens), which autocannon turns into bytes once per connection; a setupRequest callback per
// request made the generator, on one of two cores, the bottleneck with the server partly idle.
// Bookings and logins stay built per request: every booking needs a fresh slot.
const POOL = 1000;

function requests(variant: Variant, mix: Mix): autocannon.Request[] {
  const auth = () => ({ authorization: `Bearer ${pick(variant.tokens)}`, "x-forwarded-for": randomIp() });
  const anon = () => ({ "x-forwarded-for": randomIp() });
  const availability = (): autocannon.Request => ({
    method: "GET",
    path: `/api/barbers/${1 + ((Math.random() * 3) | 0)}/availability?date=${futureSlot().slice(0, 10)}&serviceId=1`,
    headers: anon(),
  });
  const list = (path: string) => (): autocannon.Request => ({ method: "GET", path, headers: anon() });
  const barbers = list("/api/barbers");
  const services = list("/api/services");
  const mine = (): autocannon.Request => ({ method: "GET", path: "/api/appointments", headers: auth() });
  const book = (): autocannon.Request => ({
    method: "POST",
    path: "/api/appointments",
    setupRequest: (req) => ({
      ...req,
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ barberId: 1 + ((Math.random() * 3) | 0), serviceId: 1, startTime: futureSlot() }),
    }),
  });
  const login = (): autocannon.Request => ({
    method: "POST",
    path: "/api/auth/login",
    setupRequest: (req) => ({
      ...req,
      headers: { ...anon(), "content-type": "application/json" },
      body: JSON.stringify({ email: `load${(Math.random() * USERS) | 0}@example.com`, password: "load-password-1" }),
    }),
  });
  if (mix === "bookings") return [book()];
  const pattern =
    mix === "reads"
      ? [availability, barbers, availability, services, mine]
      : // 20 requests: 6 availability, 4 barber lists, 4 service lists, 3 my-bookings, 2 bookings, 1 login.
        [
          availability,
          barbers,
          availability,
          services,
          mine,
          availability,
          book,
          barbers,
          availability,
          services,
          mine,
          availability,
          barbers,
          book,
          services,
          availability,
          mine,
          barbers,
          services,
          login,
        ];
  const pool: autocannon.Request[] = [];
  while (pool.length < POOL) for (const make of pattern) pool.push(make());
  return pool;
}

async function run(variant: Variant, mix: Mix) {
  const result = await autocannon({
    url: variant.url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: requests(variant, mix),
  });
  const statuses = Object.fromEntries(
    Object.entries(result).filter(([key, value]) => /^[1-5]xx$/.test(key) && typeof value === "number" && value > 0),
  );
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    statuses,
  };
}

const variants = [await start("bare", { PALISADE_MIDDLEWARE: "off" }), await start("full", {})];
const samples: Record<string, Record<Mix, Awaited<ReturnType<typeof run>>[]>> = {};
const listLengths: Record<string, number> = {};
try {
  for (const variant of variants) {
    samples[variant.name] = { reads: [], bookings: [], mixed: [] };
    await autocannon({ url: variant.url, connections: 10, duration: 2, requests: requests(variant, "reads") });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const mix of ["reads", "bookings", "mixed"] as const) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) samples[variant.name]![mix].push(await run(variant, mix));
    }
  }
  // How much each my-bookings request returned by the end: its cost grows with the list.
  for (const variant of variants) {
    let rows = 0;
    for (const token of variant.tokens.slice(0, 20)) {
      const res = await fetch(`${variant.url}/api/appointments`, {
        headers: { authorization: `Bearer ${token}`, "x-forwarded-for": randomIp() },
      });
      rows += ((await res.json()) as { appointments: unknown[] }).appointments.length;
    }
    listLengths[variant.name] = rows / Math.min(20, variant.tokens.length);
  }
} finally {
  for (const variant of variants) {
    variant.child.kill("SIGTERM");
    rmSync(variant.dir, { recursive: true, force: true });
  }
}

const rows: { mix: Mix; variant: string; rps: number; p50: number; p99: number; ratio: number; statuses: string }[] =
  [];
for (const mix of ["reads", "bookings", "mixed"] as const) {
  for (const variant of variants) {
    const runs = samples[variant.name]![mix];
    const ratios = runs.map((r, i) => r.rps / samples.bare![mix][i]!.rps);
    rows.push({
      mix,
      variant: variant.name,
      rps: Math.round(median(runs.map((r) => r.rps))),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      ratio: Number(median(ratios).toFixed(3)),
      statuses: JSON.stringify(runs.at(-1)!.statuses),
    });
  }
}
console.log(`\nbooking platform load: ${ROUNDS} rounds x ${SECONDS}s x ${CONNECTIONS} connections per mix`);
console.table(rows);
console.log(
  `  my-bookings rows per request at the end (${USERS} accounts): ${Object.entries(listLengths)
    .map(([name, n]) => `${name} ${n.toFixed(1)}`)
    .join(", ")}`,
);
const full = (mix: Mix) => rows.find((r) => r.mix === mix && r.variant === "full")!;
const checks = [
  {
    target: "full stack >= 0.70 x bare throughput (mixed)",
    met: full("mixed").ratio >= 0.7,
    value: full("mixed").ratio,
  },
  { target: "reads p99 < 50 ms (full)", met: full("reads").p99 < 50, value: full("reads").p99 },
  { target: "bookings p99 < 100 ms (full)", met: full("bookings").p99 < 100, value: full("bookings").p99 },
];
for (const check of checks) console.log(`  ${check.target}: ${check.value} ${check.met ? "MET" : "MISSED"}`);
mkdirSync(resultsDir, { recursive: true });
const out = join(resultsDir, `load-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(
  out,
  `${JSON.stringify({ rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, users: USERS, listLengths, rows, checks }, null, 2)}\n`,
);
console.log(`  results: ${out}`);
process.exit(0);
