/**
 * The heatmap's navigation, axes and tooltip in a real browser (Debian's
 * Chromium, driven by playwright-core):
 *
 * 1. A replay session of the shared Binance capture (2021-10-12), played to
 *    its end: zooming the price axis (Shift+wheel, and the wheel over the
 *    axis) changes the visible price range, and after every zoom the price
 *    labels are unique; a drag back in time stops following live and a
 *    double-click follows again; the crosshair tooltip shows, for the cell
 *    under the cursor, each exchange's resting size equal to that
 *    exchange's column from `GET /api/v1/heatmap/column`. Saves
 *    test-output/viewer_tooltip.png and viewer_nav_zoomed.png.
 * 2. Live with a store: a capture is imported into the store (as
 *    tests/replay_store_test.ts does), the live hub is given only its
 *    newest columns, and dragging the view back in time makes the chart
 *    ask `GET /api/v1/heatmap/history` and show the older columns; the
 *    tooltip over a stored column does not ask the hub for it; a live
 *    column arriving meanwhile leaves the view still, and a double-click
 *    goes back to live with it drawn. Saves
 *    test-output/viewer_nav_history.png.
 *
 * Neither page may log a console error or throw.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { parseConfig } from "../actors/system/config.ts";
import { type Coby, startCoby } from "../actors/system/start.ts";
import { WRITER_ID } from "../actors/system/topology.ts";
import type { ReplayProgress } from "../actors/market/requests.ts";
import type { ColumnPayload } from "../actors/system/hub.ts";
import { type ColumnInit, encodeColumns } from "../actors/market/heatmap.ts";
import {
  chromiumInstalled,
  launchChromium,
  serveViewer as serve,
  watchErrors,
} from "./_browser.ts";
import {
  captureFiles,
  CAPTURES,
  replayCoby,
  sessionEnded as ended,
} from "./_replay.ts";

const KEY = "viewer-nav-test-key";
const FILES = ["0", "http.0.0", "ws.1.0"].map((s) =>
  `${CAPTURES}/BINANCE.${s}`
);
const OUT = "test-output";

/** The chart root's test attributes (see `ui/chart.ts`). */
interface ChartState {
  following: boolean;
  columns: number;
  oldest: number;
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  priceLabels: string[];
}

function chartState(page: Page): Promise<ChartState> {
  return page.evaluate(() => {
    const d = document.querySelector<HTMLElement>(
      '[data-testid="heatmap"] .uplot',
    )!.dataset;
    return {
      following: d.following === "true",
      columns: Number(d.columns),
      oldest: Number(d.oldest),
      xMin: Number(d.xMin),
      xMax: Number(d.xMax),
      yMin: Number(d.yMin),
      yMax: Number(d.yMax),
      priceLabels: JSON.parse(d.priceLabels ?? "[]") as string[],
    };
  });
}

/** The plot area's box in the page (uPlot's `.u-over`). */
async function plotBox(
  page: Page,
): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.locator('[data-testid="heatmap"] .u-over')
    .boundingBox();
  assert.ok(box, "no plot area");
  return box;
}

/** Console errors and uncaught exceptions of a page. */
function assertUniqueLabels(labels: string[], when: string): void {
  assert.ok(labels.length >= 2, `${when}: ${labels.length} price labels`);
  assert.equal(
    new Set(labels).size,
    labels.length,
    `${when}: repeated price labels ${labels.join(" | ")}`,
  );
}

/** Waits until the chart root's state passes a check. */
async function waitState(
  page: Page,
  ok: (s: ChartState) => boolean,
  what: string,
): Promise<ChartState> {
  let s = await chartState(page);
  for (let i = 0; i < 100 && !ok(s); i++) {
    await page.waitForTimeout(100);
    s = await chartState(page);
  }
  if (!ok(s)) {
    throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(s)}`);
  }
  return s;
}

/**
 * The chart's state once it stops changing: the same columns and time span
 * in two reads 300 ms apart (the viewer may still be taking a session's
 * columns in).
 */
async function settled(page: Page): Promise<ChartState> {
  let s = await chartState(page);
  for (let i = 0; i < 50; i++) {
    await page.waitForTimeout(300);
    const t = await chartState(page);
    if (t.columns === s.columns && t.xMax === s.xMax) return t;
    s = t;
  }
  throw new Error(`The chart never settled: ${JSON.stringify(s)}`);
}

/** The symbol of a session with the most columns. */
function busiest(coby: Coby, id: string): string {
  const symbols = coby.replay.hub(id)!.symbols();
  assert.ok(symbols.length > 0, "the session produced no column");
  return symbols.reduce((a, b) => b.columns > a.columns ? b : a).symbol;
}

Deno.test({
  name:
    "viewer navigation: price zoom with unique labels, pan and reset, tooltip sizes per exchange",
  ignore: !chromiumInstalled(),
}, async () => {
  const coby = await replayCoby([KEY]);
  const { server, base } = await serve(coby);
  const browser = await launchChromium();
  try {
    await Deno.mkdir(OUT, { recursive: true });
    const created = await fetch(`${base}/api/v1/replay`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY },
      body: JSON.stringify({ source: "files", files: FILES, speed: "max" }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = await created.json() as ReplayProgress;
    await ended(coby, id);
    const symbol = busiest(coby, id);

    const page = await browser.newPage({
      viewport: { width: 1300, height: 800 },
    });
    const errors = watchErrors(page);
    await page.goto(`${base}/?symbol=${symbol}&session=${id}&key=${KEY}`);
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { __cobyCellsDrawn: number })
          .__cobyCellsDrawn > 0,
      undefined,
      { timeout: 20_000 },
    );
    await waitState(
      page,
      (s) => s.columns > 10 && s.priceLabels.length > 1,
      "columns",
    );
    // Every column of the ended session has arrived: the live edge stays.
    const first = await settled(page);
    assert.ok(first.following);
    assertUniqueLabels(first.priceLabels, "first draw");

    // Price zoom: Shift+wheel over the plot, then the wheel over the axis.
    const box = await plotBox(page);
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    // A zoom stops at 4 buckets tall.
    const bucket = coby.replay.hub(id)!.columnsAt(symbol, Infinity)!
      .columns[0].bucketSize;
    const floor = 4 * bucket * (1 + 1e-9);
    let before = first;
    await page.mouse.move(cx, cy);
    await page.keyboard.down("Shift");
    for (let i = 0; i < 3; i++) {
      await page.mouse.wheel(0, -150);
      const s = await waitState(
        page,
        (s) =>
          s.yMax - s.yMin < (before.yMax - before.yMin) * 0.9 ||
          s.yMax - s.yMin <= floor,
        "a narrower price range",
      );
      // The time axis did not move.
      assert.equal(s.xMin, first.xMin);
      assertUniqueLabels(s.priceLabels, `zoom in ${i}`);
      before = s;
    }
    await page.keyboard.up("Shift");
    const zoomed = before;
    assert.ok(
      zoomed.yMax - zoomed.yMin < (first.yMax - first.yMin) * 0.75,
      "the price range did not narrow",
    );
    await page.screenshot({ path: `${OUT}/viewer_nav_zoomed.png` });
    // Over the price axis (right of the plot) the wheel zooms price out.
    await page.mouse.move(box.x + box.width + 30, cy);
    for (let i = 0; i < 3; i++) {
      await page.mouse.wheel(0, 300);
      const s = await waitState(
        page,
        (s) => s.yMax - s.yMin > (before.yMax - before.yMin) * 1.1,
        "a wider price range",
      );
      assertUniqueLabels(s.priceLabels, `zoom out ${i}`);
      before = s;
    }

    // The wheel over the plot zooms time, anchored at the live edge while
    // following; the time labels stay unique.
    await page.mouse.move(cx, cy);
    const timeZoom = await (async () => {
      await page.mouse.wheel(0, -200);
      return await waitState(
        page,
        (s) => s.xMax - s.xMin < (first.xMax - first.xMin) * 0.9,
        "a narrower time span",
      );
    })();
    assert.ok(timeZoom.following);
    // The newest column's end (the live edge) stays in view, beside the
    // depth profile's strip.
    const liveEdge = coby.replay.hub(id)!.columnsAt(symbol, Infinity)!.ts /
        1000 + 1;
    assert.ok(
      timeZoom.xMax > liveEdge && first.xMax > liveEdge,
      `live edge ${liveEdge} out of view ${timeZoom.xMax}`,
    );
    assert.ok(timeZoom.xMax - liveEdge < first.xMax - liveEdge);
    const timeLabels = await page.evaluate(() =>
      (globalThis as unknown as { __cobyTimeLabels: string[] })
        .__cobyTimeLabels
    );
    assertUniqueLabels(timeLabels, "time zoom");

    // A drag to the right looks back in time: the chart stops following.
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + box.width / 4, cy, { steps: 5 });
    await page.mouse.up();
    const back = await waitState(page, (s) => !s.following, "not following");
    assert.ok(back.xMax < first.xMax, "the view did not move back");
    // A double-click follows live again, with the default price range.
    await page.mouse.dblclick(cx, cy);
    const reset = await waitState(page, (s) => s.following, "following");
    assert.equal(reset.xMax, first.xMax);
    assert.equal(reset.xMin, first.xMin);
    assert.equal(reset.yMin, first.yMin);
    assert.equal(reset.yMax, first.yMax);

    // The tooltip at the newest column's best bid: each exchange's size.
    const hub = coby.replay.hub(id)!;
    const newest = hub.columnsAt(symbol, Infinity)!;
    const bid = newest.columns.find((c) => c.bestBid !== null)!.bestBid!;
    const s = await chartState(page);
    // In the middle of the newest column (left of the depth strip).
    const tx = box.x +
      box.width * (newest.ts / 1000 + 0.5 - s.xMin) / (s.xMax - s.xMin);
    const ty = box.y + box.height * (s.yMax - bid) / (s.yMax - s.yMin);
    await page.mouse.move(tx, ty, { steps: 3 });
    const tip = page.getByTestId("tooltip");
    await tip.locator("[data-exchange]").first().waitFor({ timeout: 10_000 });
    const ts = Number(await tip.getAttribute("data-ts"));
    const low = Number(await tip.getAttribute("data-price-low"));
    const high = Number(await tip.getAttribute("data-price-high"));
    assert.ok(low <= bid && bid < high, `cell ${low}–${high} misses ${bid}`);
    const rows = await tip.locator("[data-exchange]").evaluateAll((els) =>
      els.map((e) => ({
        exchange: (e as HTMLElement).dataset.exchange!,
        bid: Number((e as HTMLElement).dataset.bid),
        ask: Number((e as HTMLElement).dataset.ask),
      }))
    );
    const res = await fetch(
      `${base}/api/v1/heatmap/column?symbol=${symbol}&ts=${ts}&session=${id}`,
    );
    assert.equal(res.status, 200);
    const answer = await res.json() as { ts: number; columns: ColumnPayload[] };
    assert.equal(answer.ts, ts);
    const want = answer.columns.map((c) => {
      let b = 0, a = 0;
      for (let i = 0; i < c.bids.length; i++) {
        const p = (c.lo + i + 0.5) * c.bucketSize;
        if (p >= low && p < high) {
          b += c.bids[i];
          a += c.asks[i];
        }
      }
      return { exchange: c.exchanges[0], bid: b, ask: a };
    });
    assert.deepEqual(rows, want);
    // The cell at the best bid holds resting bids on some exchange.
    assert.ok(want.some((r) => r.bid > 0), JSON.stringify(want));
    await page.screenshot({ path: `${OUT}/viewer_tooltip.png` });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.shutdown();
    await coby.supervisor.stop();
  }
});

Deno.test({
  name:
    "viewer navigation: looking back past the columns held loads older ones from the history API",
  ignore: !chromiumInstalled(),
}, async () => {
  const dir = await Deno.makeTempDir();
  const coby = await startCoby(parseConfig({ exchanges: {} }), {
    store: { enabled: true, dataDir: dir },
    importReplay: true,
    supervisor: { onLog: () => {} },
  });
  const { server, base } = await serve(coby);
  const browser = await launchChromium();
  try {
    await Deno.mkdir(OUT, { recursive: true });
    // Import a capture into the store.
    const imp = await coby.replay.create({
      source: "files",
      files: captureFiles("BINANCE"),
      speed: "max",
      store: true,
    }, null);
    const end = await ended(coby, imp.id);
    await coby.request(WRITER_ID, "flush", {});
    const symbol = busiest(coby, imp.id);
    const stored = await (await fetch(
      `${base}/api/v1/heatmap/history?${new URLSearchParams({
        symbol,
        from: String(Math.floor(end.from) - 1000),
        to: String(Math.ceil(end.to) + 1000),
        resolution: "tick",
        limit: "2000",
      })}`,
    )).json() as ColumnPayload[];
    assert.ok(stored.length > 20, `${stored.length} columns stored`);
    // Live: the hub gets only the newest 10 stored columns.
    const recent = stored.slice(-10);
    const pushLive = (c: ColumnPayload) => {
      const col: ColumnInit = {
        exchange: "consolidated",
        exchangeSymbol: symbol,
        symbol,
        market: "mixed",
        ts: c.ts,
        bucketSize: c.bucketSize,
        lo: c.lo,
        n: c.bids.length,
        bestBid: c.bestBid ?? NaN,
        bestAsk: c.bestAsk ?? NaN,
        parts: [],
        bids: Float64Array.from(c.bids),
        asks: Float64Array.from(c.asks),
        buys: Float64Array.from(c.buys),
        sells: Float64Array.from(c.sells),
      };
      coby.hub.push(encodeColumns(c.ts, [col]));
    };
    for (const c of recent) pushLive(c);

    const page = await browser.newPage({
      viewport: { width: 1300, height: 800 },
    });
    const errors = watchErrors(page);
    const asked: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/heatmap/history")) asked.push(r.url());
    });
    await page.goto(`${base}/?symbol=${symbol}`);
    const live = await waitState(
      page,
      (s) => s.columns === recent.length,
      "the live columns",
    );
    assert.equal(live.oldest, recent[0].ts);
    assert.deepEqual(asked, []);

    // Drag back in time: the view reaches before the oldest column held.
    const box = await plotBox(page);
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + box.width / 2, cy, { steps: 5 });
    await page.mouse.up();
    const older = await waitState(
      page,
      (s) => s.columns > recent.length && s.oldest < recent[0].ts,
      "older columns",
    );
    assert.ok(!older.following);
    assert.ok(asked.length >= 1, "no history request");
    const q = new URL(asked[0]).searchParams;
    assert.equal(q.get("symbol"), symbol);
    assert.equal(q.get("resolution"), "tick");
    assert.equal(Number(q.get("to")), recent[0].ts);
    // The older columns are the stored ones before the live part.
    const before = stored.filter((c) => c.ts < recent[0].ts);
    assert.ok(
      before.some((c) => c.ts === older.oldest),
      `oldest ${older.oldest} is not a stored column`,
    );
    assert.ok(older.xMin < recent[0].ts / 1000);
    assertUniqueLabels(older.priceLabels, "after loading history");
    // Hovering a column from the store: the live hub does not keep it, so
    // the tooltip does not ask for its exchanges' columns.
    const columnAsks: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/heatmap/column")) columnAsks.push(r.url());
    });
    const old = before.findLast((c) => c.ts / 1000 - 1 > older.xMin);
    assert.ok(old, "no stored column in view");
    const hx = box.x +
      box.width * ((old.ts / 1000 + 0.5) - older.xMin) /
        (older.xMax - older.xMin);
    await page.mouse.move(hx, cy, { steps: 3 });
    const tip = page.getByTestId("tooltip");
    await tip.locator(".missing").waitFor({ timeout: 5_000 });
    assert.equal(Number(await tip.getAttribute("data-ts")), old.ts);
    await page.waitForTimeout(400);
    assert.deepEqual(columnAsks, []);

    // A live column while the view is back in time: it arrives, the view
    // holds still; back at live (double-click) it is drawn.
    const received = () =>
      page.evaluate(() =>
        (globalThis as unknown as { __cobyColumns: number }).__cobyColumns
      );
    const got = await received();
    const next = { ...recent[recent.length - 1] };
    next.ts += 1000;
    pushLive(next);
    await page.waitForFunction(
      (n) =>
        (globalThis as unknown as { __cobyColumns: number }).__cobyColumns > n,
      got,
    );
    await page.waitForTimeout(300);
    const still = await chartState(page);
    assert.equal(still.following, false);
    assert.equal(still.columns, older.columns);
    assert.equal(still.xMin, older.xMin);
    assert.equal(still.xMax, older.xMax);
    await page.mouse.dblclick(cx, cy);
    const caught = await waitState(
      page,
      (s) => s.following && s.columns === older.columns + 1,
      "the live column after going back to live",
    );
    assert.ok(caught.xMax > next.ts / 1000 + 1);
    await page.screenshot({ path: `${OUT}/viewer_nav_history.png` });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.shutdown();
    await coby.supervisor.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
