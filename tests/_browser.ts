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

/**
 * Whether Debian's Chromium is installed at /usr/bin/chromium; when it is
 * not, says so on stderr, so a test skipped for it is skipped visibly.
 * @returns true when the browser can be launched.
 */
export function chromiumInstalled(): boolean {
  try {
    return Deno.statSync("/usr/bin/chromium").isFile;
  } catch {
    console.error(
      "/usr/bin/chromium is missing (apt-get install chromium): skipping the viewer browser test",
    );
    return false;
  }
}
