import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@palisade/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// scripts/changeset-check.mjs against a throwaway git repository with one published and one
// private package.

const script = fileURLToPath(new URL("../scripts/changeset-check.mjs", import.meta.url));

describe("scripts/changeset-check.mjs", () => {
  let repo: ReturnType<typeof tempDir>;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(repo.path, file)), { recursive: true });
    writeFileSync(join(repo.path, file), text);
  };
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo.path, stdio: "pipe" });
  const check = (...args: string[]) => {
    const result = spawnSync("node", [script, ...args], { cwd: repo.path, encoding: "utf8" });
    return { status: result.status, output: result.stdout + result.stderr };
  };

  beforeEach(() => {
    repo = tempDir("palisade-changeset-check-");
    git("init", "-q", "-b", "main");
    git("config", "user.email", "test@example.com");
    git("config", "user.name", "test");
    write("packages/widget/package.json", JSON.stringify({ name: "@palisade/widget", version: "0.1.0" }));
    write("packages/widget/src/widget.ts", "export const a = 1;\n");
    write("packages/helpers/package.json", JSON.stringify({ name: "@palisade/helpers", private: true }));
    write("packages/helpers/src/index.ts", "export const b = 1;\n");
    write(".changeset/README.md", "changesets\n");
    git("add", "-A");
    git("commit", "-q", "-m", "base");
    git("checkout", "-q", "-b", "feature");
  });

  afterEach(() => repo.cleanup());

  it("passes when nothing under packages/ changed", () => {
    write("README.md", "docs only\n");
    expect(check().status).toBe(0);
  });

  it("fails when a published package's source changed without a changeset, naming the package and file", () => {
    write("packages/widget/src/widget.ts", "export const a = 2;\n");
    git("commit", "-qam", "change");
    const { status, output } = check();
    expect(status).toBe(1);
    expect(output).toContain("@palisade/widget");
    expect(output).toContain("packages/widget/src/widget.ts");
  });

  it("with --since-release, counts pending changesets from before the last version bump's successors", () => {
    write(".changeset/widget.md", '---\n"@palisade/widget": minor\n---\n\nFirst.\n');
    git("add", "-A");
    git("commit", "-qm", "changeset");
    write("packages/widget/src/widget.ts", "export const a = 3;\n");
    git("commit", "-qam", "later change, covered by the pending changeset");
    expect(check("--since-release").status).toBe(0);
    git("rm", "-q", ".changeset/widget.md");
    write("packages/widget/package.json", JSON.stringify({ name: "@palisade/widget", version: "0.2.0" }));
    git("commit", "-qam", "version packages");
    expect(check("--since-release").status).toBe(0);
    write("packages/widget/src/widget.ts", "export const a = 4;\n");
    git("commit", "-qam", "change after the release");
    const { status, output } = check("--since-release");
    expect(status).toBe(1);
    expect(output).toContain("@palisade/widget");
  });

  it("fails for an uncommitted change too", () => {
    write("packages/widget/src/new-file.ts", "export {};\n");
    expect(check().status).toBe(1);
  });

  it("passes when a new changeset names the changed package", () => {
    write("packages/widget/src/widget.ts", "export const a = 2;\n");
    write(".changeset/brave-widget.md", '---\n"@palisade/widget": patch\n---\n\nFixes a.\n');
    git("add", "-A");
    git("commit", "-qm", "change with changeset");
    expect(check().status).toBe(0);
  });

  it("fails when the new changeset names a different package", () => {
    write("packages/widget/src/widget.ts", "export const a = 2;\n");
    write(".changeset/other.md", '---\n"@palisade/other": patch\n---\n\nSomething else.\n');
    expect(check().status).toBe(1);
  });

  it.each([
    ["a test file", "packages/widget/src/widget.test.ts"],
    ["a private package", "packages/helpers/src/index.ts"],
  ])("ignores a change to %s", (_what, file) => {
    write(file, "export const changed = true;\n");
    expect(check().status).toBe(0);
  });

  it("compares against --base", () => {
    write("packages/widget/src/widget.ts", "export const a = 2;\n");
    git("commit", "-qam", "change");
    expect(check("--base", "HEAD").status).toBe(0);
    expect(check("--base", "main").status).toBe(1);
  });
});
