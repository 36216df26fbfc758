import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, tempDir } from "@palisade/test-utils";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBookingApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { type DB, openDatabase } from "../src/db.js";
import { seed } from "../src/seed.js";

// End to end in real Chromium: a user registers, books, sees the booking and cancels it;
// an admin sees the business metrics. No console errors, no CSP violations. Screenshots
// of each page go to test-artifacts/ (ignored by git).

const artifacts = fileURLToPath(new URL("../../../test-artifacts/booking-e2e/", import.meta.url));
const dir = tempDir("booking-e2e-");
let db: DB;
let server: Server;
let base: string;
let browser: Browser | undefined;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  const file = join(dir.path, "booking.db");
  db = openDatabase(file);
  await seed(db, { adminEmail: "admin@example.com", adminPassword: "admin-password-1" });
  const app = createBookingApp({
    config: loadConfig({ NODE_ENV: "test", DATABASE_FILE: file, LOG_DIR: dir.path }),
    db,
  });
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  db?.close();
  dir.cleanup();
});

interface Watched {
  page: Page;
  problems: string[];
}

async function openPage(path: string): Promise<Watched> {
  const context = await browser!.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning")
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${new URL(response.url()).pathname}`);
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  await page.goto(`${base}${path}`);
  await page.waitForSelector("body[data-ready=true]");
  return { page, problems };
}

describe("booking pages in Chromium", () => {
  it("lets a new user register, book, see the booking and cancel it", async (ctx) => {
    if (!browser) return ctx.skip();
    const { page, problems } = await openPage("/");
    await page.screenshot({ path: join(artifacts, "home.png"), fullPage: true });

    await page.fill("#register input[name=name]", "Dana O'Hara");
    await page.fill("#register input[name=email]", "dana@example.com");
    await page.fill("#register input[name=password]", "dana-password-1");
    await page.click("#register button[type=submit]");
    await page.waitForSelector("#signed-in:not(.hidden)");
    expect(await page.textContent("#who")).toContain("dana@example.com");

    await page.click("#show-slots button[type=submit]");
    const firstSlot = page.locator("#slots button").first();
    await firstSlot.waitFor();
    const start = await firstSlot.getAttribute("data-start");
    await firstSlot.click();
    await page.waitForSelector("#bookings tr .status");
    expect(await page.textContent("#book-message")).toMatch(/^Booked for /);
    expect(await page.textContent("#bookings tr .status")).toBe("booked");
    expect(await page.locator("#slots button").first().getAttribute("data-start")).not.toBe(start);
    await page.screenshot({ path: join(artifacts, "booked.png"), fullPage: true });

    await page.click("#bookings button[data-action=cancel]");
    await page.waitForFunction(() => document.querySelector("#bookings tr .status")?.textContent === "cancelled");
    expect(await page.textContent("#bookings-message")).toBe("Cancelled.");
    await page.screenshot({ path: join(artifacts, "cancelled.png"), fullPage: true });

    // A long history comes 50 at a time, newest first; "Older bookings" appends the rest.
    expect(await page.isHidden("#bookings-more")).toBe(true);
    const dana = db.prepare("SELECT id FROM users WHERE email = ?").get("dana@example.com") as { id: number };
    const past = db.prepare(
      "INSERT INTO appointments (barber_id, client_id, service_id, start_time, end_time, status) VALUES (1, ?, 1, ?, ?, 'completed')",
    );
    for (let day = 1; day <= 51; day++) {
      const at = Date.UTC(2026, 0, day, 9);
      past.run(dana.id, new Date(at).toISOString(), new Date(at + 30 * 60_000).toISOString());
    }
    await page.reload();
    await page.waitForSelector("body[data-ready=true]");
    expect(await page.locator("#bookings tr").count()).toBe(50);
    expect(await page.textContent("#bookings tr .status")).toBe("cancelled");
    await page.click("#bookings-more");
    await page.waitForFunction(() => document.querySelectorAll("#bookings tr").length === 52);
    expect(await page.isHidden("#bookings-more")).toBe(true);
    expect(await page.locator("#bookings tr").last().locator("td").first().textContent()).toContain("Jan 1, 2026");
    await page.screenshot({ path: join(artifacts, "history.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("shows an admin the business metrics", async (ctx) => {
    if (!browser) return ctx.skip();
    const { page, problems } = await openPage("/");
    await page.fill("#login input[name=email]", "admin@example.com");
    await page.fill("#login input[name=password]", "admin-password-1");
    await page.click("#login button[type=submit]");
    await page.waitForSelector("#signed-in:not(.hidden)");
    await page.goto(`${base}/admin`);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForSelector("#active-users");
    expect(Number(await page.textContent("#active-users"))).toBeGreaterThan(0);
    await page.screenshot({ path: join(artifacts, "admin.png"), fullPage: true });
    expect(problems).toEqual([]);
  });
});
