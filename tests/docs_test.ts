/**
 * The API docs page in a real browser (Debian's Chromium, driven by
 * playwright-core): `/docs` renders `/openapi.json` offline. Every request
 * the page makes to anything but our server is blocked and recorded, and
 * none may be attempted; every operation of the description is listed;
 * nothing is logged as an error. Saves test-output/docs.png.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../actors/system/config.ts";
import { HeatmapHub } from "../actors/system/hub.ts";
import { createApp } from "../http/app.ts";
import { chromiumInstalled, launchChromium, watchErrors } from "./_browser.ts";

const OUT = "test-output";

/** The methods an OpenAPI path item may hold. */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"];

Deno.test({
  name:
    "docs: /docs renders the description offline, lists every operation, logs no error",
  ignore: !chromiumInstalled(),
}, async () => {
  const app = createApp({
    actors: () => [],
    request: () => Promise.reject(new Error("No actors in this test")),
    hub: new HeatmapHub(10),
    metrics: { render: () => Promise.resolve("") },
    exchanges: ["binance"],
    config: parseConfig({ exchanges: { binance: { symbols: ["BTCUSDT"] } } }),
  });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    app.fetch,
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const browser = await launchChromium();
  try {
    const doc = await (await fetch(`${origin}/openapi.json`)).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).filter((m) => METHODS.includes(m)).map((m) =>
        `${m.toUpperCase()} ${path}`
      )
    ).sort();
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
    });
    const errors = watchErrors(page);
    // Offline: only our server answers; anything else is refused and noted.
    const foreign: string[] = [];
    const local: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) {
        local.push(new URL(url).pathname);
        return route.continue();
      }
      foreign.push(url);
      return route.abort("internetdisconnected");
    });
    await page.goto(`${origin}/docs`);
    await page.waitForSelector(".opblock", { timeout: 20_000 });
    // Each operation's block: its method and path as Swagger UI shows them.
    const listed = await page.$$eval(".opblock", (blocks) =>
      blocks.map((b) => {
        const method = b.querySelector(".opblock-summary-method")
          ?.textContent?.trim() ?? "";
        const path = b.querySelector(".opblock-summary-path")
          ?.getAttribute("data-path") ?? "";
        return `${method.toUpperCase()} ${path}`;
      }));
    assert.deepEqual(listed.sort(), operations);
    assert.match((await page.textContent(".info .title")) ?? "", /coby/);
    // Open one operation: its parameters and example answer render.
    await page.click("#operations-market-get_api_v1_book .opblock-summary");
    await page.waitForSelector(
      "#operations-market-get_api_v1_book .parameters-container",
    );
    assert.match(
      (await page.textContent(
        "#operations-market-get_api_v1_book .parameters-container",
      )) ?? "",
      /depth/,
    );
    await Deno.mkdir(OUT, { recursive: true });
    await page.screenshot({ path: `${OUT}/docs.png`, fullPage: true });
    assert.deepEqual(foreign, [], "requests beyond our server");
    assert.ok(local.includes("/openapi.json"), local.join(", "));
    assert.ok(local.includes("/docs/swagger-ui-bundle.js"));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.shutdown();
  }
});
