import { expect } from "vitest";

/**
 * How a guide's code block is run by `recipes.test.ts`.
 *
 * Every ```ts / ```js block in docs/guides/*.md runs; blocks in other languages (sh, yaml, json,
 * promql, ...) are documentation only. An HTML comment right before the block (invisible on the
 * site) says what to check:
 *
 * ```md
 * <!-- recipe
 * express: 4                        run against Express 4 (imports of "express" load express@4)
 * continues                         append this block to the previous one and run them together
 * needs: redis                      start a throwaway redis-server; its URL is in process.env.REDIS_URL
 * throws: ERR_PALISADE_UNKNOWN_OPTION   importing the block must throw an error with this code
 * GET / -> 200 | x-content-type-options: nosniff
 * GET /who | x-forwarded-for: 203.0.113.7 -> 200 | body~203\.0\.113\.7
 * 5x POST /login {"email":"a@example.com"} -> 401
 * POST /login {"email":"a@example.com"} -> 429 | retry-after~^\d+$ | content-type~problem\+json
 * eventually GET /health/ready -> 200    retried for up to 10 s until it passes
 * GET /form -> 200 | $token = body.csrfToken
 * POST /form | x-csrf-token: $token -> 200
 * -->
 * ```
 *
 * Request lines: `[Nx ]METHOD PATH[ JSON body][ | header: value]... -> STATUS[ | check]...`, run in order
 * through one supertest agent (cookies persist). Checks: `name: value` (exact header), `name~regex`,
 * `!name` (header absent), `body~regex` (raw body text), `$var = body.path` or `$var = header name`
 * (captured for later lines). A block without request lines must still import without throwing.
 * The block defines `app` (and optionally `server`, `shutdown()`); the test exports them.
 */

export interface RecipeStep {
  line: number;
  /** Retry for up to 10 s until the checks pass (background work such as health checks). */
  eventually: boolean;
  times: number;
  method: string;
  path: string;
  body?: string;
  headers: [string, string][];
  status: number;
  checks: string[];
}

export interface Recipe {
  line: number;
  lang: "ts" | "js";
  code: string;
  express: 4 | 5;
  needs: string[];
  throws?: string;
  steps: RecipeStep[];
}

const RUNNABLE: Record<string, "ts" | "js"> = { ts: "ts", typescript: "ts", js: "js", javascript: "js", mjs: "js" };

function parseStep(text: string, line: number, where: string): RecipeStep {
  const arrow = text.indexOf(" -> ");
  if (arrow === -1) throw new Error(`${where}: a request line needs " -> STATUS": ${text}`);
  const eventually = text.startsWith("eventually ");
  if (eventually) text = text.slice("eventually ".length);
  const at = text.indexOf(" -> ");
  const [request, ...headerParts] = text.slice(0, at).split(" | ");
  const [statusText, ...checks] = text.slice(at + 4).split(" | ");
  const match = /^(?:(\d+)x\s+)?([A-Z]+)\s+(\S+)(?:\s+(.+))?$/.exec(request!.trim());
  if (!match) throw new Error(`${where}: cannot read request "${request}"`);
  const status = Number(statusText!.trim());
  if (!Number.isInteger(status)) throw new Error(`${where}: cannot read status "${statusText}"`);
  const headers = headerParts.map((part): [string, string] => {
    const colon = part.indexOf(":");
    if (colon === -1) throw new Error(`${where}: a request header reads "name: value", got "${part}"`);
    return [part.slice(0, colon).trim(), part.slice(colon + 1).trim()];
  });
  return {
    line,
    eventually,
    times: match[1] ? Number(match[1]) : 1,
    method: match[2]!,
    path: match[3]!,
    body: match[4],
    headers,
    status,
    checks: checks.map((check) => check.trim()),
  };
}

/** The runnable blocks of one guide, with the annotations of the comment before each. */
export function parseGuide(markdown: string, file: string): Recipe[] {
  const lines = markdown.split("\n");
  const recipes: Recipe[] = [];
  let pending: { text: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("<!-- recipe")) {
      pending = [];
      const opened = i + 1;
      let text = line.slice("<!-- recipe".length);
      while (!text.includes("-->")) {
        pending.push({ text, line: i + 1 });
        i++;
        if (i >= lines.length) throw new Error(`${file}:${opened}: unterminated <!-- recipe comment`);
        text = lines[i]!;
      }
      pending.push({ text: text.slice(0, text.indexOf("-->")), line: i + 1 });
      continue;
    }
    const fence = /^```(\w*)/.exec(line);
    if (!fence) {
      if (line.trim() !== "") pending = [];
      continue;
    }
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) body.push(lines[i]!);
    const lang = RUNNABLE[fence[1]!.toLowerCase()];
    const annotations = pending.map(({ text, line }) => ({ text: text.trim(), line })).filter(({ text }) => text);
    pending = [];
    if (!lang) {
      if (annotations.length > 0) throw new Error(`${file}:${start}: a recipe comment before a \`${fence[1]}\` block`);
      continue;
    }
    const recipe: Recipe = { line: start, lang, code: `${body.join("\n")}\n`, express: 5, needs: [], steps: [] };
    let continues = false;
    for (const { text, line: at } of annotations) {
      const where = `${file}:${at}`;
      if (text === "continues") continues = true;
      else if (text === "express: 4") recipe.express = 4;
      else if (text.startsWith("needs:"))
        recipe.needs.push(
          ...text
            .slice(6)
            .trim()
            .split(/[\s,]+/),
        );
      else if (text.startsWith("throws:")) recipe.throws = text.slice(7).trim();
      else recipe.steps.push(parseStep(text, at, where));
    }
    const previous = recipes[recipes.length - 1];
    if (continues) {
      if (!previous) throw new Error(`${file}:${start}: "continues" on the first block`);
      // The earlier block now runs as part of this one.
      recipes.pop();
      recipe.code = `${previous.code}\n${recipe.code}`;
      recipe.express = recipe.express === 4 || previous.express === 4 ? 4 : 5;
      recipe.needs = [...new Set([...previous.needs, ...recipe.needs])];
      recipe.steps = [...previous.steps, ...recipe.steps];
    }
    recipes.push(recipe);
  }
  return recipes;
}

function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(/\$(\w+)/g, (all, name: string) => vars.get(name) ?? all);
}

interface Agent {
  [method: string]: unknown;
}

interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: unknown;
}

/** Sends one request line's request(s) and checks the response; `eventually` lines retry for up to 10 s. */
export async function runStep(agent: unknown, step: RecipeStep, vars: Map<string, string>, where: string) {
  if (!step.eventually) return runOnce(agent, step, vars, where);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await runOnce(agent, step, vars, where);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function runOnce(agent: unknown, step: RecipeStep, vars: Map<string, string>, where: string) {
  for (let round = 0; round < step.times; round++) {
    const send = (agent as Agent)[step.method.toLowerCase()] as ((path: string) => unknown) | undefined;
    if (typeof send !== "function") throw new Error(`${where}: unknown method ${step.method}`);
    let pending = send.call(agent, substitute(step.path, vars)) as {
      set(name: string, value: string): unknown;
      send(body: unknown): unknown;
    } & PromiseLike<TestResponse>;
    for (const [name, value] of step.headers) pending.set(name, substitute(value, vars));
    if (step.body !== undefined) {
      const body = substitute(step.body, vars);
      // A JSON body is sent as JSON unless the line sets its own content-type (then it is sent as written).
      const typed = step.headers.some(([name]) => name.toLowerCase() === "content-type");
      const json = !typed && (body.startsWith("{") || body.startsWith("["));
      pending = (json ? pending.send(JSON.parse(body)) : pending.send(body)) as typeof pending;
    }
    const res = await pending;
    const label = `${where} (${step.method} ${step.path}${step.times > 1 ? `, round ${round + 1}` : ""})`;
    expect(res.status, `${label}: status; body ${res.text?.slice(0, 300)}`).toBe(step.status);
    for (const check of step.checks) {
      const capture = /^\$(\w+)\s*=\s*(?:body\.([\w.]+)|header\s+(\S+))$/.exec(check);
      if (capture) {
        const value = capture[2]
          ? capture[2].split(".").reduce<unknown>((at, key) => (at as Record<string, unknown>)?.[key], res.body)
          : res.headers[capture[3]!.toLowerCase()];
        expect(value, `${label}: ${check}`).toBeDefined();
        vars.set(capture[1]!, String(value));
      } else if (check.startsWith("!")) {
        expect(res.headers[check.slice(1).toLowerCase()], `${label}: ${check}`).toBeUndefined();
      } else if (check.startsWith("body~")) {
        expect(res.text, label).toMatch(new RegExp(check.slice(5)));
      } else if (/^[\w-]+~/.test(check)) {
        const at = check.indexOf("~");
        const value = res.headers[check.slice(0, at).toLowerCase()];
        expect(String(value), `${label}: ${check}; the header is ${JSON.stringify(value)}`).toMatch(
          new RegExp(check.slice(at + 1)),
        );
      } else if (/^[\w-]+:/.test(check)) {
        const at = check.indexOf(":");
        const value = res.headers[check.slice(0, at).toLowerCase()];
        expect(value, `${label}: ${check}`).toBe(substitute(check.slice(at + 1).trim(), vars));
      } else {
        throw new Error(`${where}: cannot read check "${check}"`);
      }
    }
  }
}
