/**
 * The viewer in a real browser: Debian's Chromium, driven by playwright-core,
 * opens the viewer while a capture replays and checks that the heatmap drew
 * non-empty cells. Saves a screenshot to test-output/viewer.png.
 */

import assert from "node:assert/strict";
import { createApp } from "../http/app.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { launchChromium } from "./_browser.ts";
import { CAPTURES } from "./_replay.ts";

Deno.test("viewer: Chromium shows a live heatmap with non-empty cells during a replay", async () => {
  const replay = await Replay.start(
    ["0", "http.0.0", "ws.1.0"].map((s) => `${CAPTURES}/BINANCE_FUTURES.${s}`),
    { speed: 4, tickMs: 250, supervisor: { onLog: () => {} } },
  );
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    createApp(replay.coby).fetch,
  );
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 1200, height: 700 },
    });
    await page.goto(`http://127.0.0.1:${server.addr.port}/`);
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { __cobyCellsDrawn: number })
          .__cobyCellsDrawn > 0,
      undefined,
      { timeout: 30_000 },
    );
    const state = await page.evaluate(() => {
      const g = globalThis as unknown as {
        __cobyColumns: number;
        __cobyCellsDrawn: number;
      };
      return { columns: g.__cobyColumns, cells: g.__cobyCellsDrawn };
    });
    assert.ok(state.columns > 0 && state.cells > 0, JSON.stringify(state));
    await page.waitForTimeout(1500);
    await Deno.mkdir("test-output", { recursive: true });
    await page.locator('[data-testid="heatmap"]').screenshot({
      path: "test-output/viewer.png",
    });
    const png = await Deno.stat("test-output/viewer.png");
    assert.ok(png.size > 5_000, `screenshot is ${png.size} bytes`);
  } finally {
    await browser.close();
    await server.shutdown();
    await replay.stop();
  }
});
