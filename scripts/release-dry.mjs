#!/usr/bin/env node
// The release chain, end to end, in a throwaway copy of the working tree; publishes nothing and
// leaves the tree as it was.
//
//   node scripts/release-dry.mjs [--skip-consumers] [--keep]
//
// 1. copy the tree (tracked and untracked, not ignored files; node_modules linked, not copied)
// 2. `changeset version` in the copy: the versions and changelogs a release would write
// 3. build every package, `pnpm pack` every public one (workspace: ranges become versions)
// 4. list each tarball and check it: README, LICENSE, dist/index.js and .d.ts present; no tests,
//    sources, source maps (unless the package's `files` asks for them), .env, keys, databases,
//    logs; no secrets in the content; no `workspace:` ranges left in package.json
// 5. run the consumer tests (test/consumers) in the copy: they install the versioned tarballs into
//    CommonJS + Express 4, ESM + Express 5 and TypeScript apps.

import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const args = new Set(process.argv.slice(2));
const keep = args.has("--keep");
const skipConsumers = args.has("--skip-consumers");
const pnpm = ["-y", "pnpm@10"];

const run = (cmd, argv, cwd, inherit = false) =>
  execFileSync(cmd, argv, {
    cwd,
    encoding: "utf8",
    stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"],
    timeout: 900_000,
    env: { ...process.env, CI: process.env.CI ?? "" },
  });
const step = (text) => console.log(`\n== ${text}`);
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));

const work = mkdtempSync(join(tmpdir(), "palisade-release-dry-"));
const copy = join(work, "repo");
const failures = [];

function copyTree() {
  const files = run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root)
    .split("\0")
    .filter(Boolean);
  let copied = 0;
  for (const file of new Set(files)) {
    const from = join(root, file);
    if (!existsSync(from) || !statSync(from).isFile()) continue; // deleted in the working tree
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(from, join(copy, file));
    copied++;
  }
  // The root store is shared through a link; each workspace package's node_modules holds relative
  // links (into ../../node_modules/.pnpm, and to sibling packages), copied as links so they
  // resolve inside the copy.
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
  for (const group of ["packages", "examples", "docs"]) {
    const dirs = group === "docs" ? [""] : existsSync(join(root, group)) ? readdirSync(join(root, group)) : [];
    for (const dir of dirs) {
      const modules = join(root, group, dir, "node_modules");
      if (existsSync(modules) && existsSync(join(copy, group, dir))) {
        cpSync(modules, join(copy, group, dir, "node_modules"), { recursive: true, verbatimSymlinks: true });
      }
    }
  }
  return copied;
}

function publicPackages(base) {
  return readdirSync(join(base, "packages"))
    .filter((short) => existsSync(join(base, "packages", short, "package.json")))
    .map((short) => ({
      short,
      dir: join(base, "packages", short),
      ...readJson(join(base, "packages", short, "package.json")),
    }))
    .filter((pkg) => !pkg.private);
}

const REQUIRED = [
  "package/package.json",
  "package/README.md",
  "package/LICENSE",
  "package/dist/index.js",
  "package/dist/index.d.ts",
];
const FORBIDDEN = [
  [/\.(test|spec)\.[cm]?[jt]sx?$|(^|\/)(__tests__|test|tests)\//, "a test"],
  [/^package\/src\/|\.ts$(?<!\.d\.ts)/, "TypeScript source"],
  [/\.bench\.|^package\/bench\//, "a benchmark"],
  [/(^|\/)\.env(\.|$)/, "an .env file"],
  [/\.(pem|key|p12|pfx|crt)$|(^|\/)id_(rsa|ed25519|ecdsa)/, "a key or certificate"],
  [/(^|\/)\.npmrc$/, "an .npmrc"],
  [/\.(db|sqlite|sqlite3)(-wal|-shm|-journal)?$/, "a database"],
  [/\.log$/, "a log file"],
  [/\.tsbuildinfo$|(^|\/)tsconfig[^/]*\.json$/, "build configuration"],
  [/\.tgz$/, "a tarball"],
];
const SECRETS = [
  [/-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----/, "a private key"],
  [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bnpm_[A-Za-z0-9]{36}\b/, "an npm token"],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, "a GitHub token"],
  [/\bxox[abpr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\bsk_live_[A-Za-z0-9]{16,}/, "a Stripe live key"],
];

function checkTarball(pkg, tarball, extractDir) {
  const problems = [];
  const listing = run("tar", ["-tvzf", tarball], work)
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const parts = line.trim().split(/\s+/);
      return { size: Number(parts[2]), path: parts.slice(5).join(" ") };
    })
    .filter((entry) => !entry.path.endsWith("/"));
  const paths = listing.map((entry) => entry.path);
  for (const required of REQUIRED) if (!paths.includes(required)) problems.push(`missing ${required}`);
  const mapsIntended = (pkg.files ?? []).some((pattern) => pattern.includes(".map"));
  for (const path of paths) {
    for (const [pattern, what] of FORBIDDEN) if (pattern.test(path)) problems.push(`${path} is ${what}`);
    if (path.endsWith(".map") && !mapsIntended) problems.push(`${path} is a source map (not listed in "files")`);
  }
  rmSync(extractDir, { recursive: true, force: true });
  mkdirSync(extractDir, { recursive: true });
  run("tar", ["-xzf", tarball, "-C", extractDir], work);
  for (const path of paths) {
    const text = readFileSync(join(extractDir, path), "utf8");
    for (const [pattern, what] of SECRETS) if (pattern.test(text)) problems.push(`${path} contains ${what}`);
  }
  const packed = readJson(join(extractDir, "package/package.json"));
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [dep, range] of Object.entries(packed[field] ?? {})) {
      if (/^(workspace|catalog|link|file):/.test(range)) problems.push(`package.json ${field}.${dep} is "${range}"`);
    }
  }
  if (packed.version !== pkg.version) problems.push(`packed version ${packed.version} is not ${pkg.version}`);
  const total = listing.reduce((sum, entry) => sum + entry.size, 0);
  return { listing, total, problems, packed };
}

try {
  step(`copying the working tree to ${copy}`);
  console.log(`${copyTree()} files`);

  step("changeset version");
  const before = new Map(publicPackages(copy).map((pkg) => [pkg.name, pkg.version]));
  const pending = readdirSync(join(copy, ".changeset")).filter((file) => file.endsWith(".md") && file !== "README.md");
  console.log(`${pending.length} pending changeset(s): ${pending.join(", ") || "none"}`);
  run(join(copy, "node_modules/.bin/changeset"), ["version"], copy, true);
  const packages = publicPackages(copy);
  for (const pkg of packages) {
    const from = before.get(pkg.name);
    const changelog = existsSync(join(pkg.dir, "CHANGELOG.md")) ? "CHANGELOG.md written" : "no CHANGELOG.md";
    console.log(`  ${pkg.name}: ${from} -> ${pkg.version}${from === pkg.version ? " (unchanged)" : ""}; ${changelog}`);
  }

  step("build");
  try {
    // --no-bail: one broken package should not hide the state of the others.
    run("npx", [...pnpm, "-r", "--no-bail", "--filter", "./packages/*", "build"], copy, true);
  } catch {
    failures.push("the build failed (output above)");
  }

  step("pack and inspect");
  const tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  for (const pkg of packages) {
    let tarball;
    try {
      const printed = run("npx", [...pnpm, "pack", "--pack-destination", tarballs], pkg.dir)
        .trim()
        .split("\n");
      tarball = printed[printed.length - 1].trim();
    } catch (error) {
      failures.push(`${pkg.name}: pnpm pack failed: ${error.stderr || error.message}`);
      continue;
    }
    const { listing, total, problems, packed } = checkTarball(pkg, tarball, join(work, "extract", pkg.short));
    console.log(`\n${relative(work, tarball)}  (${listing.length} files, ${(total / 1024).toFixed(1)} kB unpacked)`);
    for (const entry of listing)
      console.log(`  ${String(entry.size).padStart(8)}  ${entry.path.replace(/^package\//, "")}`);
    const internal = Object.entries(packed.dependencies ?? {}).filter(([dep]) => dep.startsWith("@palisade/"));
    if (internal.length > 0)
      console.log(`  depends on ${internal.map(([dep, range]) => `${dep}@${range}`).join(", ")}`);
    for (const problem of problems) {
      console.log(`  PROBLEM: ${problem}`);
      failures.push(`${pkg.name}: ${problem}`);
    }
  }

  if (skipConsumers) {
    step("consumer tests skipped (--skip-consumers)");
  } else {
    step("consumer tests (test/consumers) against the versioned packages");
    try {
      // Installing tarballs with npm is slow on a busy machine: no per-test time limit here.
      run(join(copy, "node_modules/.bin/vitest"), ["run", "test/consumers", "--testTimeout", "600000"], copy, true);
    } catch {
      failures.push("the consumer tests failed (output above)");
    }
  }
} catch (error) {
  failures.push(String(error.stderr || error.message || error));
} finally {
  if (keep) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\nrelease:dry FAILED:\n${failures.map((failure) => `  - ${failure}`).join("\n")}`);
  process.exit(1);
}
console.log(
  `\nrelease:dry ok: every public package versions, builds and packs cleanly${
    skipConsumers ? " (consumer tests skipped)" : ", and the consumer apps install and run the tarballs"
  }.`,
);
