import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Response, Router } from "express";

const STATIC_DIR = fileURLToPath(new URL("./static/", import.meta.url));
const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

interface Asset {
  url: string;
  body: Buffer;
  type: string;
  /** Subresource Integrity value: the browser refuses the file if it was altered on the way. */
  integrity: string;
}

/**
 * Loads the static files once and names each by its content hash (`app.3f2a9c1b.js`), so they
 * can be cached for a year: a new build is a new URL. Imports between scripts are rewritten to
 * the fingerprinted names.
 */
function fingerprint(): Map<string, Asset> {
  const files = readdirSync(STATIC_DIR);
  const hashed = new Map<string, string>();
  const sources = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(join(STATIC_DIR, file), "utf8");
    sources.set(file, text);
  }
  // Dependencies first: common.js is imported by the others, so its name must be final before theirs.
  const order = [...files].sort((a, b) => (a === "common.js" ? -1 : b === "common.js" ? 1 : a.localeCompare(b)));
  const assets = new Map<string, Asset>();
  for (const file of order) {
    let text = sources.get(file)!;
    for (const [original, renamed] of hashed) text = text.replaceAll(`"./${original}"`, `"./${renamed}"`);
    const body = Buffer.from(text);
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 10);
    const ext = extname(file);
    const renamed = `${file.slice(0, -ext.length)}.${hash}${ext}`;
    hashed.set(file, renamed);
    assets.set(file, {
      url: `/static/${renamed}`,
      body,
      type: TYPES[ext] ?? "application/octet-stream",
      integrity: `sha384-${createHash("sha384").update(body).digest("base64")}`,
    });
  }
  return assets;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function layout(res: Response, title: string, script: string, body: string, assets: Map<string, Asset>): string {
  const nonce = res.locals.palisade?.cspNonce;
  const nonceAttr = typeof nonce === "string" ? ` nonce="${escapeHtml(nonce)}"` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Palisade Barbers</title>
<link rel="icon" type="image/svg+xml" href="${assets.get("favicon.svg")!.url}">
<link rel="stylesheet" href="${assets.get("app.css")!.url}" integrity="${assets.get("app.css")!.integrity}"${nonceAttr}>
<script type="module" src="${assets.get(script)!.url}" integrity="${assets.get(script)!.integrity}"${nonceAttr}></script>
</head>
<body>
<header><h1>Palisade Barbers</h1><nav><a href="/">Book</a> · <a href="/admin">Admin</a></nav></header>
<main>
${body}
</main>
</body>
</html>
`;
}

const HOME = `
<section aria-labelledby="book-title">
  <h2 id="book-title">Book an appointment</h2>
  <form id="show-slots" class="row">
    <label>Service <select id="service" name="service"></select></label>
    <label>Barber <select id="barber" name="barber"></select></label>
    <label>Day <input id="date" name="date" type="date" required></label>
    <button type="submit">Show free times</button>
  </form>
  <p id="book-message" class="message" role="status"></p>
  <div id="slots" class="slots"></div>
</section>
<section aria-labelledby="account-title">
  <h2 id="account-title">Your account</h2>
  <div id="signed-in" class="hidden">
    <p>Signed in as <span id="who"></span>. <button id="logout" type="button" class="secondary">Sign out</button></p>
  </div>
  <div id="signed-out" class="row">
    <form id="login">
      <h3>Sign in</h3>
      <label>Email <input name="email" type="email" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
    </form>
    <form id="register">
      <h3>Register</h3>
      <label>Name <input name="name" autocomplete="name" required></label>
      <label>Email <input name="email" type="email" autocomplete="email" required></label>
      <label>Password <input name="password" type="password" autocomplete="new-password" minlength="8" required></label>
      <button type="submit">Create account</button>
    </form>
  </div>
  <p id="account-message" class="message" role="status"></p>
</section>
<section aria-labelledby="bookings-title">
  <h2 id="bookings-title">My bookings</h2>
  <label>Card for payments (test provider) <input id="card" value="4242 4242 4242 4242" inputmode="numeric"></label>
  <table><thead><tr><th>When</th><th>Service</th><th>Barber</th><th>Status</th><th></th></tr></thead><tbody id="bookings"></tbody></table>
  <button type="button" id="bookings-more" class="secondary" hidden>Older bookings</button>
  <p id="bookings-message" class="message" role="status"></p>
</section>`;

const ADMIN = `
<section aria-labelledby="metrics-title">
  <h2 id="metrics-title">Business</h2>
  <div id="metrics" class="cards"></div>
  <p id="admin-message" class="message" role="status"></p>
</section>
<section aria-labelledby="perf-title">
  <h2 id="perf-title">Live performance</h2>
  <p id="score"></p>
  <canvas id="chart" aria-label="p50 and p99 latency over the last two minutes"></canvas>
  <p id="perf-message" class="message" role="status"></p>
</section>`;

/** The server-rendered pages (`/`, `/admin`) and their fingerprinted, long-cached assets. */
export function webRoutes(): Router {
  const assets = fingerprint();
  const byUrl = new Map([...assets.values()].map((asset) => [asset.url, asset]));
  const router = Router();

  router.get("/static/:file", (req, res, next) => {
    const asset = byUrl.get(`/static/${req.params.file}`);
    if (!asset) return next();
    res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
    res.type(asset.type).send(asset.body);
  });

  const page = (title: string, script: string, body: string) => (_req: unknown, res: Response) => {
    res.setHeader("Cache-Control", "no-store");
    res.type("html").send(layout(res, title, script, body, assets));
  };
  router.get("/favicon.ico", (_req, res) => {
    res.redirect(301, assets.get("favicon.svg")!.url);
  });
  router.get("/", page("Book", "app.js", HOME));
  router.get("/admin", page("Admin", "admin.js", ADMIN));
  return router;
}
