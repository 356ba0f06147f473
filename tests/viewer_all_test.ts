/**
 * Every shared capture replayed at once, viewed in Chromium: the consolidated
 * BTC-USD heatmap (USDT and USDC stated as USD) merges several exchanges, and
 * switching one exchange off re-opens the stream without it while the heatmap
 * keeps drawing. Saves test-output/viewer_all.png.
 */

import assert from "node:assert/strict";
import { createApp } from "../http/app.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { launchChromium } from "./_browser.ts";
import { CAPTURES } from "./_replay.ts";

Deno.test("viewer: a replay of all captures serves a consolidated heatmap with exchange toggles", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(CAPTURES)) {
    if (e.isFile && /\.(0|ws\.\d+\.0|http\.0\.0)$/.test(e.name)) {
      files.push(`${CAPTURES}/${e.name}`);
    }
  }
  const replay = await Replay.start(files, {
    speed: 2,
    // Captures from different years play side by side on one event clock.
    align: true,
    tickMs: 250,
    quoteAliases: { USDT: "USD", USDC: "USD" },
    supervisor: { onLog: () => {} },
  });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    createApp(replay.coby).fetch,
  );
  const browser = await launchChromium();
  try {
    // Wait until BTC-USD has columns from several exchanges.
    let venues: string[] = [];
    for (let i = 0; i < 200 && venues.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      venues = replay.coby.hub.symbols().find((s) =>
        s.symbol === "BTC-USD"
      )?.exchanges ?? [];
    }
    assert.ok(venues.length >= 3, `BTC-USD consolidates ${venues.join(", ")}`);
    const page = await browser.newPage({
      viewport: { width: 1200, height: 700 },
    });
    await page.goto(`http://127.0.0.1:${server.addr.port}/?symbol=BTC-USD`);
    // These captures are from different years (BTC near 30k, 54k and 61k), so
    // the merged BBO is crossed and a window around its mid would be empty:
    // show the whole price range.
    await page.getByLabel("range").selectOption({ label: "all" });
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { __cobyCellsDrawn: number })
          .__cobyCellsDrawn > 0,
      undefined,
      {
        timeout: 30_000,
      },
    );
    for (const v of venues) {
      assert.ok(await page.getByLabel(v, { exact: true }).isChecked(), v);
    }

    // Switch the first exchange off: the stream re-opens without it and keeps drawing.
    const off = venues[0];
    const columnsBefore = await page.evaluate(() =>
      (globalThis as unknown as { __cobyColumns: number }).__cobyColumns
    );
    const reopened = page.waitForRequest((r) =>
      r.url().includes("/heatmap/stream") &&
      !r.url().includes(encodeURIComponent(off))
    );
    await page.getByLabel(off, { exact: true }).uncheck();
    const url = decodeURIComponent((await reopened).url());
    const selected = url.split("exchanges=")[1].split("&")[0].split(",");
    assert.deepEqual(selected.sort(), venues.filter((v) => v !== off).sort());
    await page.waitForFunction(
      (n) => {
        const g = globalThis as unknown as {
          __cobyColumns: number;
          __cobyCellsDrawn: number;
        };
        return g.__cobyColumns > n && g.__cobyCellsDrawn > 0;
      },
      columnsBefore,
      { timeout: 30_000 },
    );
    await page.waitForTimeout(1000);
    await Deno.mkdir("test-output", { recursive: true });
    await page.screenshot({ path: "test-output/viewer_all.png" });
  } finally {
    await browser.close();
    await server.shutdown();
    await replay.stop();
  }
});
