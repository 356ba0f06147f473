/**
 * The heatmap's render core in a real browser: Debian's Chromium, driven by
 * playwright-core, opens the viewer on a replay session of the shared
 * Binance USD-M capture (2021-07-22, replayed at max speed until it ends,
 * so the columns hold still), on its first symbol. It checks that the heatmap draws; that switching the
 * page's scale control between log and linear repaints the cells; that the
 * legend's `top` (the size that saturates the palette) is the 99th
 * percentile of the visible cells, computed here from the columns the API
 * streams for the view the legend names; that separate palettes give the
 * legend a bar per side; and that the page logs no error. Saves
 * test-output/viewer_render_log.png, viewer_render_linear.png and
 * viewer_render_separate.png. A second session plays at 4× while the page
 * follows it: the top drawn as columns are appended one by one must rank
 * within a quarter of the clipped tail of the exact 99th percentile of the
 * cells in view, and be exact after a full redraw.
 */

import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { Coby } from "../actors/system/start.ts";
import type { ReplayProgress } from "../actors/market/requests.ts";
import type { HeatColumn } from "../ui/columns.ts";
import type { HeatmapView } from "../ui/plugins/heatmap.ts";
import {
  chromiumInstalled,
  launchChromium,
  serveViewer,
  watchErrors,
} from "./_browser.ts";
import { CAPTURES, replayCoby } from "./_replay.ts";

const KEY = "viewer-render-test-key";
const FILES = ["0", "http.0.0", "ws.1.0"].map((s) =>
  `${CAPTURES}/BINANCE_FUTURES.${s}`
);
const OUT = "test-output";

/** What the legend shows (its data attributes and tick labels). */
interface LegendState {
  top: number;
  bottom: number;
  scale: string;
  palettes: string;
  view: HeatmapView | null;
  bars: string[];
  ticks: string[];
}

function legend(page: Page): Promise<LegendState> {
  return page.getByTestId("legend").evaluate((el: HTMLElement) => ({
    top: Number(el.dataset.top),
    bottom: Number(el.dataset.bottom),
    scale: el.dataset.scale!,
    palettes: el.dataset.palettes!,
    view: JSON.parse(el.dataset.view!),
    bars: [...el.querySelectorAll<HTMLElement>(".bar")].map((b) =>
      b.dataset.palette!
    ),
    ticks: [...(el.querySelector(".bar")?.querySelectorAll(".tick") ?? [])]
      .map((t) => t.textContent!),
  }));
}

/** The chart canvas's pixels inside the plot (RGBA), for comparisons. */
function plotPixels(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>(
      '[data-testid="heatmap"] canvas',
    )!;
    const w = canvas.width, h = canvas.height;
    const x0 = Math.round(w * 0.1), x1 = Math.round(w * 0.8);
    const y0 = Math.round(h * 0.1), y1 = Math.round(h * 0.8);
    return [
      ...canvas.getContext("2d")!.getImageData(x0, y0, x1 - x0, y1 - y0).data,
    ];
  });
}

/** Pixels (of 4 bytes) that differ between two captures of the plot. */
function changedPixels(a: number[], b: number[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    if (
      a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2] ||
      a[i + 3] !== b[i + 3]
    ) n++;
  }
  return n;
}

/**
 * The session's columns from `GET /api/v1/heatmap/stream`, read until the
 * one at `to` (the kept history comes first).
 */
async function streamedColumns(
  base: string,
  symbol: string,
  session: string,
  to: number,
): Promise<HeatColumn[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 30_000);
  const res = await fetch(
    `${base}/api/v1/heatmap/stream?${new URLSearchParams({ symbol, session })}`,
    { signal: ac.signal },
  );
  assert.equal(res.status, 200);
  const cols: HeatColumn[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    while (!cols.some((c) => c.ts === to)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let cut: number;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const lines = block.split("\n");
        if (!lines.includes("event: column")) continue;
        const data = lines.filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6)).join("\n");
        cols.push(JSON.parse(data));
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  return cols;
}

/**
 * The non-empty cells of a view, sorted: each column in `[from, to]` of
 * the view's bucket size, each cell row `g` in `[rowLow, rowHigh]` summing
 * stored buckets `[g · k, (g + 1) · k)`.
 */
function cellsInView(cols: HeatColumn[], view: HeatmapView): number[] {
  const k = view.bucketMultiple;
  const cells: number[] = [];
  for (const col of cols) {
    if (col.ts < view.from || col.ts > view.to) continue;
    if (col.bucketSize !== view.bucketSize) continue;
    for (let g = view.rowLow; g <= view.rowHigh; g++) {
      let acc = 0;
      for (let b = g * k; b < (g + 1) * k; b++) {
        const i = b - col.lo;
        if (i >= 0 && i < col.bids.length) acc += col.bids[i] + col.asks[i];
      }
      if (acc > 0) cells.push(acc);
    }
  }
  assert.ok(cells.length > 100, `only ${cells.length} cells in view`);
  return cells.sort((a, b) => a - b);
}

/** The 99th percentile, nearest rank, of sorted cells. */
function p99(cells: number[]): number {
  return cells[Math.ceil(0.99 * cells.length) - 1];
}

/** An in-process coby with replay on the shared captures, served, and Chromium. */
async function startViewer(): Promise<{
  coby: Coby;
  base: string;
  browser: Browser;
  stop: () => Promise<void>;
}> {
  const coby = await replayCoby([KEY]);
  const { server, base } = await serveViewer(coby);
  const browser = await launchChromium();
  return {
    coby,
    base,
    browser,
    stop: async () => {
      await browser.close();
      await server.shutdown();
      await coby.supervisor.stop();
    },
  };
}

/** Starts a replay session of the capture; its id. */
async function createSession(base: string, speed: number | "max") {
  const created = await fetch(`${base}/api/v1/replay`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": KEY },
    body: JSON.stringify({ source: "files", files: FILES, speed }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  return (await created.json() as ReplayProgress).id;
}

/** Opens the viewer on a session; page errors and console errors are collected. */
async function openViewer(
  browser: Browser,
  base: string,
  symbol: string,
  id: string,
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({
    viewport: { width: 1400, height: 800 },
  });
  const errors = watchErrors(page);
  await page.goto(`${base}/?symbol=${symbol}&session=${id}&key=${KEY}`);
  await page.waitForFunction(
    () =>
      (globalThis as unknown as { __cobyCellsDrawn: number })
        .__cobyCellsDrawn > 0,
    undefined,
    { timeout: 30_000 },
  );
  return { page, errors };
}

/** Clicks the page's scale control and waits for the legend to follow. */
async function setScale(page: Page, scale: "log" | "linear"): Promise<void> {
  await page.getByRole("group", { name: "scale" })
    .getByRole("button", { name: scale }).click();
  await page.waitForSelector(`[data-testid="legend"][data-scale="${scale}"]`);
  await page.waitForTimeout(300);
}

Deno.test({
  name:
    "viewer: the heatmap draws, log and linear repaint it, the legend's top is the 99th percentile of the cells in view",
  ignore: !chromiumInstalled(),
}, async () => {
  const { coby, base, browser, stop } = await startViewer();
  try {
    assert.equal((await fetch(`${base}/ui/app.js`)).status, 200);
    await Deno.mkdir(OUT, { recursive: true });

    // Replay the whole capture at max speed: the columns then hold still.
    const id = await createSession(base, "max");
    let state = "";
    for (let i = 0; i < 600 && state !== "ended"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await (await fetch(`${base}/api/v1/replay/${id}`)).json()).state;
    }
    assert.equal(state, "ended");
    const symbol = coby.replay.hub(id)?.symbols()[0]?.symbol;
    assert.ok(symbol, "the session produced no column");

    const { page, errors } = await openViewer(browser, base, symbol, id);
    // Wait for the kept history to be in: the column count holds still.
    let seen = -1;
    for (let i = 0; i < 50; i++) {
      const now = await page.evaluate(() =>
        (globalThis as unknown as { __cobyColumns: number }).__cobyColumns
      );
      if (now === seen && now > 0) break;
      seen = now;
      await page.waitForTimeout(400);
    }
    await page.waitForFunction(() =>
      Number(
        document.querySelector<HTMLElement>('[data-testid="legend"]')?.dataset
          .top,
      ) > 0
    );
    const log = await legend(page);
    assert.equal(log.scale, "log");
    assert.deepEqual(log.bars, ["combined"]);
    assert.ok(log.view, "the legend names no view");
    assert.ok(log.top > 0 && log.bottom > 0 && log.bottom < log.top);
    assert.ok(Math.abs(log.bottom - log.top / 1000) <= log.top * 1e-12);
    const logPx = await plotPixels(page);
    await page.screenshot({ path: `${OUT}/viewer_render_log.png` });

    // Linear, through the page's scale control: a full pass, exact top.
    await setScale(page, "linear");
    const lin = await legend(page);
    const linPx = await plotPixels(page);
    await page.screenshot({ path: `${OUT}/viewer_render_linear.png` });
    const painted = logPx.filter((_, i) => i % 4 === 3 && logPx[i] === 255)
      .length;
    const changed = changedPixels(logPx, linPx);
    assert.ok(
      changed > 0.05 * painted,
      `linear changed ${changed} of ${painted} painted pixels`,
    );
    assert.equal(lin.bottom, 0);
    assert.equal(lin.ticks[0], "0");

    const cols = await streamedColumns(base, symbol, id, lin.view!.to);
    const want = p99(cellsInView(cols, lin.view!));
    assert.equal(lin.top, want, JSON.stringify(lin.view));

    // Back to log: the same view, the same exact top.
    await setScale(page, "log");
    const again = await legend(page);
    assert.deepEqual(again.view, lin.view);
    assert.equal(again.top, want);
    assert.equal(again.bottom, want / 1000);

    // Separate palettes: a bar per side, and the cells repaint.
    await page.getByLabel("palettes").selectOption("separate");
    await page.waitForSelector(
      '[data-testid="legend"][data-palettes="separate"]',
    );
    await page.waitForTimeout(300);
    const sep = await legend(page);
    assert.deepEqual(sep.bars, ["bids", "asks"]);
    const sepPx = await plotPixels(page);
    assert.ok(changedPixels(sepPx, logPx) > 0.05 * painted);
    await page.screenshot({ path: `${OUT}/viewer_render_separate.png` });

    assert.deepEqual(errors, []);
  } finally {
    await stop();
  }
});

Deno.test({
  name:
    "viewer: while a replay streams in, the legend's top keeps the rank of the 99th percentile, and is exact after a redraw",
  ignore: !chromiumInstalled(),
}, async () => {
  const { coby, base, browser, stop } = await startViewer();
  try {
    assert.equal((await fetch(`${base}/ui/app.js`)).status, 200);
    const id = await createSession(base, 4);
    let symbol: string | undefined;
    for (let i = 0; i < 200 && !symbol; i++) {
      symbol = coby.replay.hub(id)?.symbols()[0]?.symbol;
      if (!symbol) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(symbol, "the session produced no column");
    const { page, errors } = await openViewer(browser, base, symbol, id);
    // Columns stream in and are appended to the layer one by one.
    const first = await page.evaluate(() =>
      (globalThis as unknown as { __cobyColumns: number }).__cobyColumns
    );
    await page.waitForTimeout(4_000);
    const pause = await fetch(`${base}/api/v1/replay/${id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY },
      body: JSON.stringify({ action: "pause" }),
    });
    assert.equal(pause.status, 200);
    await page.waitForTimeout(1_000);
    const columns = await page.evaluate(() =>
      (globalThis as unknown as { __cobyColumns: number }).__cobyColumns
    );
    assert.ok(columns >= first + 5, `only ${columns - first} columns came in`);

    // The top drawn as columns came in ranks within a quarter of the
    // clipped tail of the exact rank, among the cells it was drawn over.
    const live = await legend(page);
    const cells = cellsInView(
      await streamedColumns(base, symbol, id, live.view!.to),
      live.view!,
    );
    const n = cells.length;
    const rank = Math.ceil(0.99 * n);
    const slack = Math.floor(0.25 * (n - rank));
    const lt = cells.filter((v) => v < live.top).length;
    const le = cells.filter((v) => v <= live.top).length;
    assert.ok(
      lt < rank + slack && le >= rank - slack,
      `top ${live.top}: ${lt} cells below, ${le} at or below; rank ${rank} ± ${slack} of ${n}`,
    );

    // A full redraw makes it exact.
    await setScale(page, "linear");
    const lin = await legend(page);
    assert.deepEqual(lin.view, live.view);
    assert.equal(lin.top, p99(cells));
    assert.deepEqual(errors, []);
  } finally {
    await stop();
  }
});
