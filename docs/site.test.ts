import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { findProgram, freePort, tempDir } from "@palisade/test-utils";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeAnchor, codesIn, publicPackages } from "./.vitepress/palisade.js";

// Builds the site into a temp directory, serves it on 127.0.0.1 and walks every page in real
// Chromium, following internal links from the home page and the sidebar.

const docsDir = fileURLToPath(new URL("./", import.meta.url));
const chromiumLookup = findProgram("chromium");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** A static server with VitePress's URL rules: `/guides/x` and `/guides/x.html` are the same page. */
function serve(root: string): Server {
  return createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const candidates = [join(root, path), join(root, `${path}.html`), join(root, path, "index.html")];
    const file = candidates.find(
      (candidate) => candidate.startsWith(root) && existsSync(candidate) && statSync(candidate).isFile(),
    );
    if (!file) {
      res.writeHead(404, { "content-type": TYPES[".html"] });
      res.end(readFileSync(join(root, "404.html")));
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
}

describe.skipIf(chromiumLookup.skipReason)("the docs site in Chromium", () => {
  const out = tempDir("palisade-docs-site-");
  const profile = tempDir("palisade-docs-chromium-");
  let server: Server;
  let origin = "";
  let context: BrowserContext;

  beforeAll(async () => {
    execFileSync(join(docsDir, "node_modules/.bin/vitepress"), ["build", "--outDir", out.path], {
      cwd: docsDir,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    server = serve(out.path);
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${port}`;
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: chromiumLookup.path!,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    // The site must work offline: anything from another origin (a README badge, say) gets an
    // empty answer instead of a network error in the console.
    const pixel = Buffer.from("R0lGODlhAQABAAAAACH5BAEAAAAALAAAAAABAAEAAAIBAAA=", "base64");
    await context.route(
      (url) => url.origin !== origin,
      (route) =>
        route.request().resourceType() === "image"
          ? route.fulfill({ status: 200, contentType: "image/gif", body: pixel })
          : route.fulfill({ status: 204, body: "" }),
    );
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    out.cleanup();
    profile.cleanup();
  });

  // Filled by the crawl, read by the tests after it.
  const visited = new Map<string, { status: number; ids: Set<string>; errors: string[] }>();
  const links: { from: string; page: string; hash: string }[] = [];

  it("serves every page reachable from the home page without console errors", async () => {
    const queue = ["/"];
    const page = await context.newPage();
    let current = "/";
    const errors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`${current}: console: ${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => errors.push(`${current}: page error: ${error.message}`));
    page.on("response", (response) => {
      if (response.url().startsWith(origin) && response.status() >= 400) {
        errors.push(`${current}: ${response.status()} for ${response.url()}`);
      }
    });
    while (queue.length > 0) {
      current = queue.shift()!;
      if (visited.has(current)) continue;
      const before = errors.length;
      const response = await page.goto(origin + current, { waitUntil: "load" });
      // Let Vue hydrate: hydration mismatches are reported as console errors.
      await page.waitForSelector("#app > *", { timeout: 10_000 });
      const ids = new Set(await page.$$eval("[id]", (nodes) => nodes.map((node) => node.id)));
      const hrefs = await page.$$eval("a[href]", (nodes) => nodes.map((node) => (node as HTMLAnchorElement).href));
      visited.set(current, { status: response?.status() ?? 0, ids, errors: errors.slice(before) });
      for (const href of hrefs) {
        const url = new URL(href);
        if (url.origin !== origin) continue;
        const target = url.pathname.replace(/\.html$/, "").replace(/\/index$/, "/");
        links.push({ from: current, page: target, hash: decodeURIComponent(url.hash.slice(1)) });
        if (!visited.has(target) && !queue.includes(target)) queue.push(target);
      }
    }
    await page.close();
    expect(errors).toEqual([]);
    const expected = [
      "/quickstart",
      "/reference/error-codes",
      "/changelog",
      ...publicPackages().map((pkg) => `/reference/${pkg.short}`),
    ];
    for (const path of expected) expect(visited.has(path), `${path} was not reached`).toBe(true);
    expect(visited.size).toBeGreaterThanOrEqual(expected.length + 3);
  }, 120_000);

  it("has no broken internal links or anchors", () => {
    expect(visited.size).toBeGreaterThan(0);
    const broken: string[] = [];
    for (const { from, page, hash } of links) {
      const target = visited.get(page);
      if (target?.status !== 200) broken.push(`${from} -> ${page} (${target?.status ?? "not visited"})`);
      else if (hash && !target!.ids.has(hash)) broken.push(`${from} -> ${page}#${hash} (no such anchor)`);
    }
    expect(broken).toEqual([]);
  });

  it("has a section for every code the packages raise, at the anchor warnOnce() links to", () => {
    const page = visited.get("/reference/error-codes");
    expect(page).toBeDefined();
    const codes = publicPackages().flatMap((pkg) => [...codesIn(pkg.short).keys()]);
    expect(codes).toContain("ERR_PALISADE_UNKNOWN_OPTION");
    const missing = codes.filter((code) => !page!.ids.has(codeAnchor(code)));
    expect(missing).toEqual([]);
  });

  it("finds a guide through the local search box", async () => {
    const page = await context.newPage();
    await page.goto(`${origin}/`, { waitUntil: "load" });
    await page.click("button.DocSearch-Button");
    await page.fill("#localsearch-input", "trust proxy");
    const result = page.locator(".VPLocalSearchBox .results a.result").first();
    await result.waitFor({ timeout: 10_000 });
    const hrefs = await page.$$eval(".VPLocalSearchBox .results a.result", (nodes) =>
      nodes.map((node) => node.getAttribute("href") ?? ""),
    );
    expect(hrefs.some((href) => href.includes("/guides/reverse-proxy"))).toBe(true);
    await result.click();
    await page.waitForURL(/\/guides\/|\/reference\//);
    expect(await page.locator("h1").first().textContent()).toBeTruthy();
    await page.close();
  }, 60_000);
});
