/**
 * Launching Debian's Chromium for the viewer tests, never a downloaded browser.
 *
 * @module
 */

import { type Browser, chromium, type Page } from "playwright-core";
import { createApp } from "../http/app.ts";
import type { AppDeps } from "../http/deps.ts";

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
 * @param args more command-line switches, e.g. `--disable-frame-rate-limit`.
 * @returns the browser; close it in a `finally`.
 */
export function launchChromium(args: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, ...args],
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

/**
 * Collects a page's uncaught errors and console errors.
 * @param page the page.
 * @param errors the list to add to (several pages may share one).
 * @returns that list (`text (url)` for console errors).
 */
export function watchErrors(page: Page, errors: string[] = []): string[] {
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.text()} (${m.location().url})`);
  });
  return errors;
}

/**
 * Serves coby's app on a free loopback port and builds the viewer once, so
 * no page waits for the bundler.
 * @param deps the app's services (a running coby).
 * @returns the server and its base URL.
 */
export async function serveViewer(
  deps: AppDeps,
): Promise<{ server: Deno.HttpServer; base: string }> {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    createApp(deps).fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const ui = await fetch(`${base}/ui/app.js`);
  await ui.body?.cancel();
  if (ui.status !== 200) throw new Error(`/ui/app.js: ${ui.status}`);
  return { server, base };
}
