#!/usr/bin/env node
// Fails when a published package changed since the base ref and no new changeset names it.
//
//   node scripts/changeset-check.mjs [--base <ref>]     (or BASE_REF=<ref>)
//
// The base defaults to origin/main, then main. Changes are counted from the merge base with the
// base ref up to the working tree (commits, staged, unstaged and untracked files), so it answers
// the same locally as in CI. Tests, benchmarks and CHANGELOG.md do not count as changes.
//
//   node scripts/changeset-check.mjs --since-release
//
// For CI on a clone of main alone (no branch to compare with): the base is the last release, the
// newest commit that changed a package's "version" (what `changeset version` writes), and any
// pending changeset in .changeset/ counts, since `changeset version` consumes them.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const git = (...args) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const lines = (text) => text.split("\n").filter(Boolean);

const root = git("rev-parse", "--show-toplevel");
process.chdir(root);

const sinceRelease = process.argv.includes("--since-release");

function lastRelease() {
  const bump = git("log", "-1", "--format=%H", '-G"version":', "--", "packages/*/package.json");
  return bump || lines(git("rev-list", "--max-parents=0", "HEAD")).at(-1);
}

function baseRef() {
  if (sinceRelease) return lastRelease();
  const at = process.argv.indexOf("--base");
  if (at !== -1 && process.argv[at + 1]) return process.argv[at + 1];
  if (process.env.BASE_REF) return process.env.BASE_REF;
  for (const candidate of ["origin/main", "main"]) {
    try {
      git("rev-parse", "--verify", "--quiet", `${candidate}^{commit}`);
      return candidate;
    } catch {
      // Try the next one.
    }
  }
  throw new Error("changeset-check: no base ref; pass --base <ref> or set BASE_REF.");
}

const base = baseRef();
const mergeBase = git("merge-base", base, "HEAD");
const changed = new Set([
  ...lines(git("diff", "--name-only", mergeBase)),
  ...lines(git("ls-files", "--others", "--exclude-standard")),
]);
const added = new Set([
  ...lines(git("diff", "--name-only", "--diff-filter=A", mergeBase)),
  ...lines(git("ls-files", "--others", "--exclude-standard")),
]);

const NOT_A_CHANGE = /(\.test\.[cm]?[jt]s|\.bench\.[cm]?[jt]s|\/CHANGELOG\.md)$/;

/** Published package name for a changed file under packages/, or undefined. */
function publishedPackage(file) {
  const match = /^packages\/([^/]+)\//.exec(file);
  if (!match || NOT_A_CHANGE.test(file)) return undefined;
  const manifest = join("packages", match[1], "package.json");
  if (!existsSync(manifest)) return undefined;
  const pkg = JSON.parse(readFileSync(manifest, "utf8"));
  return pkg.private ? undefined : pkg.name;
}

const touched = new Map();
for (const file of changed) {
  const name = publishedPackage(file);
  if (!name) continue;
  const files = touched.get(name) ?? [];
  files.push(file);
  touched.set(name, files);
}

/** Package names in the front matter of the changesets added since the base. */
const covered = new Set();
const pending = sinceRelease ? lines(git("ls-files", "--cached", "--others", "--exclude-standard", ".changeset")) : [];
const changesets = [...(sinceRelease ? pending : added)].filter(
  (file) => /^\.changeset\/[^/]+\.md$/.test(file) && !file.endsWith("README.md"),
);
for (const file of changesets) {
  if (!existsSync(file)) continue;
  const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(file, "utf8"));
  if (!front) continue;
  for (const [, name] of front[1].matchAll(/^\s*["']?([^"':\s]+)["']?\s*:\s*(?:major|minor|patch)\s*$/gm))
    covered.add(name);
}

const missing = [...touched].filter(([name]) => !covered.has(name));
console.log(
  `changeset-check: base ${base} (${mergeBase.slice(0, 8)}); ${touched.size} published package(s) changed, ${changesets.length} ${sinceRelease ? "pending" : "new"} changeset(s).`,
);
if (missing.length > 0) {
  console.error("\nThese published packages changed without a changeset naming them:\n");
  for (const [name, files] of missing) {
    console.error(`  ${name}`);
    for (const file of files.slice(0, 5)) console.error(`    ${file}`);
    if (files.length > 5) console.error(`    ... and ${files.length - 5} more`);
  }
  console.error(
    "\nRun `pnpm changeset`, pick the packages and the bump, and commit the file it writes in .changeset/.",
  );
  process.exit(1);
}
console.log("changeset-check: ok");
