import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@palisade/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Packs every public package, installs the tarballs into throwaway CommonJS + Express 4,
// ESM + Express 5 and TypeScript (nodenext) apps, and serves one request through each.
// A package's smoke body lives in smoke/<name>.smoke: statements using `m` (the package's
// namespace) and `app` (an Express app); GET /smoke must then answer 200.

const root = fileURLToPath(new URL("../../", import.meta.url));
const smokeDir = fileURLToPath(new URL("./smoke/", import.meta.url));
const pnpm = ["-y", "pnpm@10"];

interface PublicPackage {
  dir: string;
  name: string;
  short: string;
  version: string;
}

const packages: PublicPackage[] = readdirSync(join(root, "packages"))
  .map((short) => ({ short, dir: join(root, "packages", short) }))
  .filter(({ dir }) => existsSync(join(dir, "package.json")))
  .map(({ short, dir }) => ({ short, dir, ...JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .filter((pkg) => !pkg.private)
  // CONSUMER_PACKAGES=core,rate-limit narrows a local run; CI always checks every package.
  .filter((pkg) => !process.env.CONSUMER_PACKAGES || process.env.CONSUMER_PACKAGES.split(",").includes(pkg.short));

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 600_000 });

const work = tempDir("palisade-consumers-");
const tarballs = new Map<string, string>();

function smokeBody(pkg: PublicPackage): { body: string; headers: string[] } {
  const file = join(smokeDir, `${pkg.short}.smoke`);
  if (!existsSync(file)) throw new Error(`add test/consumers/smoke/${pkg.short}.smoke for ${pkg.name}`);
  const body = readFileSync(file, "utf8");
  const headers = [...body.matchAll(/^\/\/ expect-header: (\S+)/gm)].map((match) => match[1]!.toLowerCase());
  return { body, headers };
}

function writeApp(dir: string, pkgJson: object, files: Record<string, string>) {
  mkdirSync(dir, { recursive: true });
  // The tarballs are direct dependencies; overrides make their dependencies on each other
  // resolve to the tarballs too, never to the registry.
  const dependencies = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
  const overrides = Object.fromEntries([...tarballs.keys()].map((name) => [name, `$${name}`]));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ ...pkgJson, private: true, dependencies, overrides }, null, 2),
  );
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

function install(dir: string, extra: string[]) {
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...extra], dir);
}

beforeAll(() => {
  // Each package and what it depends on (pnpm's "name..." filter builds in dependency order).
  run("npx", [...pnpm, ...packages.flatMap((pkg) => ["--filter", `${pkg.name}...`]), "build"], root);
  const out = join(work.path, "tarballs");
  mkdirSync(out);
  for (const pkg of packages) {
    const printed = run("npx", [...pnpm, "pack", "--pack-destination", out], pkg.dir)
      .trim()
      .split("\n");
    tarballs.set(pkg.name, printed[printed.length - 1]!.trim());
  }
}, 600_000);

afterAll(() => work.cleanup());

describe.each(packages)("$name tarball", (pkg) => {
  it("passes publint", () => {
    const output = run("npx", ["publint", "run", tarballs.get(pkg.name)!, "--strict"], root);
    expect(output).not.toMatch(/error|warning/i);
  });

  it("passes @arethetypeswrong/cli with the esm-only profile", () => {
    run("npx", ["attw", tarballs.get(pkg.name)!, "--profile", "esm-only", "--format", "table-flipped"], root);
  });

  it("ships dist, README and LICENSE and no sources or tests", () => {
    const listing = run("tar", ["-tzf", tarballs.get(pkg.name)!], root);
    expect(listing).toMatch(/package\/dist\/index\.js/);
    expect(listing).toMatch(/package\/dist\/index\.d\.ts/);
    expect(listing).toMatch(/package\/README\.md/);
    expect(listing).toMatch(/package\/LICENSE/);
    expect(listing).not.toMatch(/\.test\.|package\/src\//);
  });
});

// npm installs and tsc on a loaded 2-core machine can take minutes.
describe("consumer apps", { timeout: 300_000 }, () => {
  const smokes = packages.map((pkg) => ({ pkg, ...smokeBody(pkg) }));

  it("CommonJS + Express 4 require()s every package and serves a request", () => {
    const dir = join(work.path, "cjs");
    const app = smokes
      .map(
        ({ pkg, body }) =>
          `{ const m = require(${JSON.stringify(pkg.name)});\n const app = express();\n${body}\n apps.push([${JSON.stringify(pkg.name)}, app]); }`,
      )
      .join("\n");
    writeApp(dir, { name: "cjs-consumer", type: "commonjs" }, { "index.js": consumerSource("cjs", app) });
    install(dir, ["express@^4.21.2"]);
    expect(JSON.parse(readFileSync(join(dir, "node_modules/express/package.json"), "utf8")).version).toMatch(/^4\./);
    checkOutput(run("node", ["index.js"], dir), smokes);
  });

  it("ESM + Express 5 import()s every package and serves a request", () => {
    const dir = join(work.path, "esm");
    const imports = smokes.map(({ pkg }, i) => `import * as m${i} from ${JSON.stringify(pkg.name)};`).join("\n");
    const app = smokes
      .map(
        ({ pkg, body }, i) =>
          `{ const m = m${i};\n const app = express();\n${body}\n apps.push([${JSON.stringify(pkg.name)}, app]); }`,
      )
      .join("\n");
    writeApp(
      dir,
      { name: "esm-consumer", type: "module" },
      { "index.js": `${imports}\n${consumerSource("esm", app)}` },
    );
    install(dir, ["express@^5.1.0"]);
    checkOutput(run("node", ["index.js"], dir), smokes);
  });

  it("TypeScript (module nodenext) type-checks every package's use", () => {
    const dir = join(work.path, "ts");
    const source = [
      'import express from "express";',
      ...smokes.map(({ pkg }, i) => `import * as m${i} from ${JSON.stringify(pkg.name)};`),
      ...smokes.map(
        ({ body }, i) => `export function smoke${i}(m: typeof m${i}, app: express.Express): void {\n${body}\n}`,
      ),
      "export const app = express();",
    ].join("\n");
    const tsconfig = {
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ["node"],
      },
      include: ["index.ts"],
    };
    writeApp(
      dir,
      { name: "ts-consumer", type: "module" },
      { "index.ts": source, "tsconfig.json": JSON.stringify(tsconfig) },
    );
    install(dir, ["express@^5.1.0", "@types/express@^5", "@types/node@^20.19", "typescript@~5.9.3"]);
    run("npx", ["tsc", "-p", "."], dir);
  });
});

function consumerSource(kind: "cjs" | "esm", apps: string): string {
  const header =
    kind === "cjs"
      ? 'const express = require("express");\nconst http = require("node:http");'
      : 'import express from "express";\nimport http from "node:http";';
  return `${header}
const apps = [];
${apps}
const results = {};
let pending = apps.length;
for (const [name, app] of apps) {
  const server = app.listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    http.get({ host: "127.0.0.1", port, path: "/smoke" }, (res) => {
      res.resume();
      res.on("end", () => {
        results[name] = { status: res.statusCode, headers: res.headers };
        server.close();
        if (--pending === 0) { console.log(JSON.stringify(results)); process.exit(0); }
      });
    });
  });
  app.get("/smoke", (req, res) => { res.json({ ok: true }); });
}
`;
}

function checkOutput(output: string, smokes: { pkg: PublicPackage; headers: string[] }[]) {
  const results = JSON.parse(output.trim().split("\n").pop()!) as Record<
    string,
    { status: number; headers: Record<string, string> }
  >;
  for (const { pkg, headers } of smokes) {
    expect(results[pkg.name]?.status, pkg.name).toBe(200);
    for (const header of headers) expect(results[pkg.name]?.headers[header], `${pkg.name} ${header}`).toBeDefined();
  }
}
