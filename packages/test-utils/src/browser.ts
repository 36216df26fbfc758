import { type Browser, chromium } from "playwright-core";
import { findProgram } from "./programs.js";

/** Flags for Debian's Chromium on a closed network, as root, without a GPU. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches Debian's `chromium` through playwright-core (never a downloaded browser); Playwright
 * gives every launch a fresh, empty profile directory. Returns `undefined` with a notice when
 * Chromium is missing outside CI.
 */
export async function launchChromium(): Promise<Browser | undefined> {
  const { path } = findProgram("chromium");
  if (!path) return undefined;
  return chromium.launch({ executablePath: path, args: CHROMIUM_ARGS });
}
