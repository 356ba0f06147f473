/**
 * Launching Debian's Chromium for the viewer tests, never a downloaded browser.
 *
 * @module
 */

import { type Browser, chromium } from "playwright-core";

/** Flags for a sandboxed machine without network. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * Launches /usr/bin/chromium headless.
 * @returns the browser; close it in a `finally`.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}
