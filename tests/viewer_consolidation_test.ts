/**
 * The viewer marks a venue left out of consolidation. The OKX and Bybit
 * captures replayed together, USDT stated as USD: Bybit's real BTCUSD book
 * is from 2021 (≈ 60 600), OKX's from 2022 (≈ 30 200), so Bybit is a stale
 * venue for BTC-USD. Chromium shows its exchange toggle flagged `excluded`
 * (from the column metadata) and its health badge marked excluded (from
 * `/api/v1/exchanges`), and OKX unmarked. Saves
 * test-output/viewer_consolidation.png.
 */

import assert from "node:assert/strict";
import { createApp } from "../http/app.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { launchChromium } from "./_browser.ts";
import { captureFiles as files } from "./_replay.ts";

Deno.test("viewer: a venue excluded from consolidation is flagged on its toggle and its badge", async () => {
  const replay = await Replay.start([...files("OKX"), ...files("BYBIT")], {
    speed: "max",
    tickMs: 250,
    quoteAliases: { USDT: "USD" },
    supervisor: { onLog: () => {} },
  });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    createApp(replay.coby).fetch,
  );
  const browser = await launchChromium();
  try {
    await replay.finished();
    const page = await browser.newPage({
      viewport: { width: 1200, height: 700 },
    });
    await page.goto(`http://127.0.0.1:${server.addr.port}/?symbol=BTC-USD`);
    const flag = page.locator('[data-excluded="bybit"]');
    await flag.waitFor({ state: "visible", timeout: 30_000 });
    assert.equal(await flag.textContent(), "excluded");
    assert.match(
      (await flag.getAttribute("title"))!,
      /BTCUSD: mid 60622\.75 is 100\.\d\d% above the consensus mid 30236\.15/,
    );
    assert.equal(await page.locator('[data-excluded="okx"]').count(), 0);
    // The toggle keeps the exchange id as its name: the flag sits beside it.
    assert.ok(await page.getByLabel("bybit", { exact: true }).isChecked());

    const badge = page.locator(".badge.excluded");
    await badge.first().waitFor({ state: "visible", timeout: 10_000 });
    assert.deepEqual(await badge.allTextContents(), [
      (await badge.first().textContent())!,
    ]);
    assert.match((await badge.textContent())!, /^bybit.*excluded$/);
    assert.match(
      (await badge.getAttribute("title"))!,
      /excluded from BTC-USD \(BTCUSD\) for \d+s: mid 60622\.75, \+100\.\d\d% vs consensus 30236\.15/,
    );
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { __cobyCellsDrawn: number })
          .__cobyCellsDrawn > 0,
      undefined,
      { timeout: 30_000 },
    );
    await Deno.mkdir("test-output", { recursive: true });
    await page.screenshot({ path: "test-output/viewer_consolidation.png" });
  } finally {
    await browser.close();
    await server.shutdown();
    await replay.stop();
  }
});
