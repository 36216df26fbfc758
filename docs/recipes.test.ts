import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RedisServer, startRedis, tempDir } from "@palisade/test-utils";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGuide, type Recipe, type RecipeStep, runStep } from "./recipes.js";

// Runs every ts/js code block of docs/guides/*.md (see docs/recipes.ts for the annotation
// format). A block is written to docs/.recipes-tmp/ (inside the repo, so that the vitest alias
// resolves @palisade/* to packages/*/src), imported, and its exported or top-level `app` is
// driven with supertest through the requests its `<!-- recipe -->` comment lists.

const docsDir = fileURLToPath(new URL("./", import.meta.url));
const guidesDir = join(docsDir, "guides");
const tmpDir = join(docsDir, ".recipes-tmp", String(process.pid));

// The guides, and the quickstart, whose first steps are recipes too.
const guides = [
  ...readdirSync(guidesDir)
    .filter((file) => file.endsWith(".md") && file !== "index.md")
    .sort()
    .map((file) => join("guides", file)),
  "quickstart.md",
].map((file) => ({ file, recipes: parseGuide(readFileSync(join(docsDir, file), "utf8"), file) }));

let redis: RedisServer | undefined;
let redisSkip: string | undefined;
const work = tempDir("palisade-recipes-");
const cwd = process.cwd();
const needsRedis = guides.some(({ recipes }) => recipes.some((recipe) => recipe.needs.includes("redis")));

beforeAll(async () => {
  mkdirSync(tmpDir, { recursive: true });
  // Recipes that write files (SQLite databases, logs) write them into a throwaway directory.
  process.chdir(work.path);
  // Recipes that listen use process.env.PORT: any free port.
  process.env.PORT = "0";
  if (needsRedis) {
    redis = await startRedis();
    if (redis) process.env.REDIS_URL = redis.url;
    else redisSkip = "redis-server is missing";
  }
});

afterAll(async () => {
  process.chdir(cwd);
  await redis?.stop(true);
  rmSync(tmpDir, { recursive: true, force: true });
  work.cleanup();
});

function moduleSource(recipe: Recipe): string {
  let source = recipe.code;
  if (recipe.express === 4) source = source.replace(/from\s+["']express["']/g, 'from "express4"');
  // The guides read like application code: `const app = express()` without `export`.
  for (const name of ["app", "server", "shutdown"]) {
    const declared = new RegExp(`^(?:const|let|var|function|async function) ${name}\\b`, "m").test(source);
    const exported = new RegExp(`^export (?:const|let|var|function|async function) ${name}\\b`, "m").test(source);
    if (declared && !exported) source += `\nexport { ${name} };\n`;
  }
  return source;
}

interface RecipeModule {
  app?: Parameters<typeof request>[0];
  server?: Server;
  shutdown?: () => unknown;
}

describe.each(guides)("docs/$file", ({ file, recipes }) => {
  it("has at least one runnable code block", () => {
    expect(recipes.length).toBeGreaterThan(0);
  });

  it.each(recipes)("block at line $line runs", async (recipe) => {
    if (recipe.needs.includes("redis") && redisSkip) {
      console.warn(`*** SKIPPING ${file}:${recipe.line}: ${redisSkip} ***`);
      return;
    }
    const path = join(tmpDir, `${file.replace(/\.md$/, "").replace(/\//g, "-")}-${recipe.line}.${recipe.lang}`);
    writeFileSync(path, moduleSource(recipe));
    if (recipe.throws) {
      await expect(import(path)).rejects.toMatchObject({ code: recipe.throws });
      return;
    }
    const mod = (await import(path)) as RecipeModule;
    try {
      if (recipe.steps.length > 0) {
        const target = mod.server ?? mod.app;
        expect(target, `${file}:${recipe.line} must define \`app\` (or \`server\`) to run its requests`).toBeDefined();
        const agent = request.agent(target!);
        const vars = new Map<string, string>();
        for (const step of recipe.steps as RecipeStep[]) await runStep(agent, step, vars, `${file}:${step.line}`);
      }
    } finally {
      await mod.shutdown?.();
      if (mod.server?.listening) await new Promise((resolve) => mod.server!.close(resolve));
    }
  });
});
