import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gradeHeaders, securityHeaders } from "@palisade/security-headers";
import express, { type RequestHandler } from "express";

// Mozilla HTTP Observatory against a local HTTPS server.
//
//   npx tsx bench/observatory.ts
//       scans a demo app (securityHeaders() webApp vs helmet() defaults) over local HTTPS with an
//       HTTP->HTTPS 301 redirect, signed by a throwaway local CA.
//   npx tsx bench/observatory.ts https://localhost:8443/ --http-port 8080 --ca /path/to/ca.pem
//       scans a server you started (e.g. the booking server with TLS_CERT/TLS_KEY from
//       `npx tsx bench/observatory.ts --make-certs /tmp/certs`), HTTP redirect listener on --http-port.
//
// From code: `await scanUrl("https://localhost:8443/", { httpPort: 8080, caFile })`.
// The observatory is installed once into $TMPDIR/palisade-observatory (npm install --ignore-scripts,
// npm rebuild better-sqlite3, an empty conf/hsts-preload.json, since its preload-list download needs
// the network).

const OBSERVATORY_VERSION = "1.4.8";

export interface ScanResult {
  url: string;
  score: number;
  grade: string;
  tests: Record<string, { result: string; scoreModifier: number; pass: boolean }>;
  /** The response headers the scan graded. */
  headers: Record<string, string>;
}

export interface ScanOptions {
  /** Port of the plain-HTTP listener that redirects to HTTPS. Defaults to 80. */
  httpPort?: number;
  /** PEM file of the CA that signed the server certificate (passed as NODE_EXTRA_CA_CERTS). */
  caFile?: string;
  /** Where the observatory is installed. Defaults to `$TMPDIR/palisade-observatory`. */
  installDir?: string;
}

/** Installs @mdn/mdn-http-observatory once; returns its package directory. */
export function installObservatory(installDir = join(tmpdir(), "palisade-observatory")): string {
  const packageDir = join(installDir, "node_modules", "@mdn", "mdn-http-observatory");
  if (!existsSync(join(packageDir, "package.json"))) {
    mkdirSync(installDir, { recursive: true });
    writeFileSync(join(installDir, "package.json"), '{ "name": "observatory-runner", "private": true }\n');
    const npm = (args: string[]) => execFileSync("npm", args, { cwd: installDir, stdio: ["ignore", "pipe", "pipe"] });
    npm([
      "install",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `@mdn/mdn-http-observatory@${OBSERVATORY_VERSION}`,
    ]);
    if (existsSync(join(installDir, "node_modules", "better-sqlite3"))) npm(["rebuild", "better-sqlite3"]);
  }
  const preload = join(packageDir, "conf", "hsts-preload.json");
  if (!existsSync(preload)) writeFileSync(preload, "{}\n");
  return packageDir;
}

// Runs in a child process so NODE_EXTRA_CA_CERTS is read at start-up. The observatory's own
// `scan(hostname)` takes no ports, so for non-default ports this calls its retriever with ports and
// sums the score modifiers with its grader, the way its scanner does.
const CHILD = `
const [packageDir, hostname, httpPort, httpsPort, path] = process.argv.slice(2);
const load = (file) => import(new URL(file, "file://" + packageDir + "/").href);
const { retrieve } = await load("src/retriever/retriever.js");
const { ALL_TESTS } = await load("src/constants.js");
const { getScoreModifier, getGradeForScore } = await load("src/grader/grader.js");
const { MINIMUM_SCORE_FOR_EXTRA_CREDIT } = await load("src/grader/charts.js");
const requests = await retrieve(hostname, { httpPort: Number(httpPort), httpsPort: Number(httpsPort), path });
if (!requests.responses.auto) throw new Error("The site seems to be down.");
let withBonus = 100;
let penalties = 100;
const tests = {};
for (const run of ALL_TESTS) {
  const output = run(requests);
  const modifier = output.result ? getScoreModifier(output.result) : 0;
  withBonus += modifier;
  if (modifier < 0) penalties += modifier;
  tests[output.constructor.name] = { result: output.result, scoreModifier: modifier, pass: output.pass };
}
const { score, grade } = getGradeForScore(penalties >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withBonus : penalties);
console.log(JSON.stringify({ score, grade, tests, headers: requests.responses.auto.headers }));
`;

/** Scans an HTTPS URL with the Mozilla HTTP Observatory and returns its score, grade and tests. */
export async function scanUrl(httpsUrl: string, options: ScanOptions = {}): Promise<ScanResult> {
  const url = new URL(httpsUrl);
  if (url.protocol !== "https:") throw new Error(`scanUrl: expected an https:// URL, got ${httpsUrl}`);
  const packageDir = installObservatory(options.installDir);
  const childFile = join(packageDir, "palisade-scan.mjs");
  writeFileSync(childFile, CHILD);
  const env = { ...process.env };
  if (options.caFile) env.NODE_EXTRA_CA_CERTS = options.caFile;
  const args = [
    childFile,
    packageDir,
    url.hostname,
    String(options.httpPort ?? 80),
    url.port || "443",
    url.pathname + url.search,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: packageDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(new Error(`observatory scan of ${httpsUrl} failed (exit ${code}): ${stderr.trim() || stdout.trim()}`));
    });
  });
  const lastLine = output.trim().split("\n").pop()!;
  return { url: httpsUrl, ...(JSON.parse(lastLine) as Omit<ScanResult, "url">) };
}

/** A throwaway CA and a server certificate for localhost/127.0.0.1 it signed (needs `openssl`). */
export function createLocalCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=Palisade local test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
  ]);
  openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
  ]);
  writeFileSync(
    file("server.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  openssl([
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    file("server.ext"),
    "-out",
    file("server.pem"),
  ]);
  return { caFile: file("ca.pem"), certFile: file("server.pem"), keyFile: file("server.key") };
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

/** Starts an HTTPS app with `middleware` and an HTTP listener that 301s every request to it. */
export async function startDemo(
  middleware: RequestHandler,
  certs: { certFile: string; keyFile: string },
  page: "plain" | "sri-script",
) {
  const { readFileSync } = await import("node:fs");
  const { createHash } = await import("node:crypto");
  const script = "document.body.dataset.ready = 'yes';\n";
  const integrity = `sha384-${createHash("sha384").update(script).digest("base64")}`;
  const app = express();
  app.disable("x-powered-by");
  app.use(middleware);
  app.get("/app.js", (_req, res) => {
    res.type("application/javascript").send(script);
  });
  app.get("/", (_req, res) => {
    const nonce = res.locals.palisade?.cspNonce;
    const tag =
      page === "sri-script"
        ? `<script src="/app.js" integrity="${integrity}"${nonce ? ` nonce="${nonce}"` : ""}></script>`
        : "";
    res
      .type("html")
      .send(
        `<!doctype html><html lang="en"><head><title>Palisade</title>${tag}</head><body><h1>Bookings</h1></body></html>`,
      );
  });
  const https = createHttpsServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, app);
  const httpsPort = await listen(https as unknown as Server);
  const redirect = createHttpServer((req, res) => {
    res.statusCode = 301;
    res.setHeader("Location", `https://localhost:${httpsPort}${req.url ?? "/"}`);
    res.end();
  });
  const httpPort = await listen(redirect);
  return {
    httpsUrl: `https://localhost:${httpsPort}/`,
    httpPort,
    close: () => Promise.all([new Promise((r) => https.close(r)), new Promise((r) => redirect.close(r))]),
  };
}

async function main() {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const index = args.indexOf(name);
    return index === -1 ? undefined : args[index + 1];
  };
  const certDir = flag("--make-certs");
  if (certDir) {
    console.log(JSON.stringify(createLocalCertificates(certDir), null, 2));
    return;
  }
  const target = args.find((arg) => arg.startsWith("https://"));
  if (target) {
    const httpPort = flag("--http-port");
    const result = await scanUrl(target, { httpPort: httpPort ? Number(httpPort) : undefined, caFile: flag("--ca") });
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const { mkdtempSync, rmSync } = await import("node:fs");
  const dir = mkdtempSync(join(tmpdir(), "palisade-observatory-certs-"));
  try {
    const certs = createLocalCertificates(dir);
    const fromPackage = createRequire(new URL("../packages/security-headers/package.json", import.meta.url));
    const helmet = fromPackage("helmet") as () => RequestHandler;
    const variants: [string, () => RequestHandler][] = [
      ['securityHeaders({ preset: "webApp" })', () => securityHeaders({ preset: "webApp" })],
      ["helmet()", () => helmet()],
    ];
    const rows = [];
    for (const page of ["plain", "sri-script"] as const) {
      for (const [name, make] of variants) {
        const demo = await startDemo(make(), certs, page);
        try {
          const result = await scanUrl(demo.httpsUrl, { httpPort: demo.httpPort, caFile: certs.caFile });
          const modifiers = Object.entries(result.tests)
            .filter(([, test]) => test.scoreModifier !== 0)
            .map(([test, { scoreModifier }]) => `${test} ${scoreModifier > 0 ? "+" : ""}${scoreModifier}`)
            .join(", ");
          // Palisade's own grade of the same headers (page-level SRI and cookies are not scored there).
          const self = gradeHeaders(result.headers, { https: true, redirectsToHttps: true }).withTransport!;
          rows.push({
            middleware: name,
            page,
            score: result.score,
            grade: result.grade,
            selfGrade: self.score,
            modifiers,
          });
          if (process.env.OBSERVATORY_VERBOSE) console.log(JSON.stringify(result, null, 2));
        } finally {
          await demo.close();
        }
      }
    }
    console.log(`Mozilla HTTP Observatory ${OBSERVATORY_VERSION}, local HTTPS + HTTP->HTTPS 301, local CA`);
    console.table(rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await main();
}
