/**
 * The viewer's everyday use in a real browser: Debian's Chromium, driven by
 * playwright-core, on a replay session of the shared Bybit and OKX captures
 * (USDT stated as USD, so BTC-USD consolidates both) served by an in-process
 * coby with no exchanges. It checks that the page opens on the BTC symbol
 * consolidated over the most exchanges (not the alphabetically first), that
 * switching an exchange off by its badge gives the column the API serves for
 * that selection at the same tick (the status bar's BBO included, at the
 * book's precision), that settings survive a reload (localStorage) and that
 * a shared URL reproduces them in a fresh browser, that the volume and
 * candle panes draw, that the page lays out on a tablet in both
 * orientations without horizontal overflow, and that nothing is logged as
 * an error. Saves test-output/viewer_app_*.png and the README's screenshots
 * (into docs/screenshots/ with `COBY_README_SCREENSHOTS=1`). A second test replays the same captures through the
 * connection actors and checks each exchange badge's colour against the
 * health `/api/v1/exchanges` reports.
 */

import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { ReplayProgress } from "../actors/market/requests.ts";
import type { HeatColumn } from "../ui/columns.ts";
import {
  decimalsOf,
  exchangeHealth,
  type ExchangeHealthInput,
  formatBbo,
  STALE_MS,
} from "../ui/status.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { filterSymbols, pickSymbol } from "../ui/settings.ts";
import {
  chromiumInstalled,
  launchChromium,
  serveViewer,
  watchErrors,
} from "./_browser.ts";
import { captureFiles, replayCoby } from "./_replay.ts";

const OUT = "test-output";
/**
 * Where the README's screenshots go: test-output/ on every run, and the
 * tracked docs/screenshots/ only when asked (`COBY_README_SCREENSHOTS=1`),
 * so a test run leaves the checkout clean.
 */
const DOCS = Deno.env.get("COBY_README_SCREENSHOTS") ? "docs/screenshots" : OUT;
/** The README's screenshots stay small. */
const MAX_PNG = 300 * 1024;

/** The page's test hooks (see `ui/app.tsx`). */
interface Hooks {
  __cobyColumns: number;
  __cobyLastColumn: HeatColumn | null;
  __cobyCellsDrawn: number;
}

/**
 * Reads a heatmap stream until the column of tick `ts` arrives (the stream
 * sends its kept history first); also returns every column before it.
 */
async function streamUntil(
  url: string,
  ts: number,
): Promise<{ column: HeatColumn; before: HeatColumn[] }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 20_000);
  const res = await fetch(url, { signal: ac.signal });
  assert.equal(res.status, 200, url);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const before: HeatColumn[] = [];
  let buf = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${url} ended before tick ${ts}`);
      buf += value;
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        if (!block.startsWith("event: column")) continue;
        const data = block.split("\n").find((l) => l.startsWith("data: "))!;
        const col = JSON.parse(data.slice(6)) as HeatColumn;
        if (col.ts === ts) return { column: col, before };
        before.push(col);
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}

/** Sums a field of columns. */
function sum(cols: HeatColumn[], field: "buys" | "sells"): number {
  let total = 0;
  for (const c of cols) for (const v of c[field]) total += v;
  return total;
}

/** The volume pane's and the heatmap's views, and the pane's volume. */
function paneState(page: Page): Promise<{
  buy: number;
  sell: number;
  xMin: number;
  xMax: number;
  heatXMin: number;
  heatXMax: number;
  heatYMin: number;
  heatYMax: number;
}> {
  return page.evaluate(() => {
    const v = document.querySelector<HTMLElement>(
      '[data-testid="volume"] .uplot',
    )!.dataset;
    const h = document.querySelector<HTMLElement>(
      '[data-testid="heatmap"] .uplot',
    )!.dataset;
    return {
      buy: Number(v.buy),
      sell: Number(v.sell),
      xMin: Number(v.xMin),
      xMax: Number(v.xMax),
      heatXMin: Number(h.xMin),
      heatXMax: Number(h.xMax),
      heatYMin: Number(h.yMin),
      heatYMax: Number(h.yMax),
    };
  });
}

/** The values of every settings control, as the page shows them. */
function controls(page: Page): Promise<Record<string, string | boolean>> {
  return page.evaluate(() => {
    const c = document.querySelector('[data-testid="controls"]')!;
    const out: Record<string, string | boolean> = {};
    for (const label of c.querySelectorAll("label")) {
      const input = label.querySelector("select, input") as
        | HTMLSelectElement
        | HTMLInputElement;
      // The label's own words, not its options'.
      const name = [...label.childNodes]
        .filter((n) => n.nodeType === Node.TEXT_NODE)
        .map((n) => n.textContent)
        .join("")
        .trim();
      out[name] = input instanceof HTMLInputElement && input.type === "checkbox"
        ? input.checked
        : input.value;
    }
    out.scale = c.querySelector(".group .on")!.textContent!;
    return out;
  });
}

function hooks(page: Page): Promise<Hooks> {
  return page.evaluate(() => {
    const g = globalThis as unknown as Hooks;
    return {
      __cobyColumns: g.__cobyColumns,
      __cobyLastColumn: g.__cobyLastColumn,
      __cobyCellsDrawn: g.__cobyCellsDrawn,
    };
  });
}

/** Opens a page that records console errors and page errors. */
async function openPage(
  browser: Browser,
  errors: string[],
  viewport = { width: 1280, height: 720 },
): Promise<Page> {
  const page = await browser.newPage({ viewport });
  watchErrors(page, errors);
  return page;
}

async function drawn(page: Page): Promise<void> {
  await page.waitForFunction(
    () => (globalThis as unknown as Hooks).__cobyCellsDrawn > 0,
    undefined,
    { timeout: 30_000 },
  );
}

async function smallPng(path: string): Promise<void> {
  const { size } = await Deno.stat(path);
  assert.ok(size > 5_000 && size < MAX_PNG, `${path} is ${size} bytes`);
}

Deno.test({
  name:
    "viewer app: opens on BTC, badges toggle consolidation as the API does, settings persist and share, tablet layout",
  ignore: !chromiumInstalled(),
}, async () => {
  const coby = await replayCoby([], { USDT: "USD" });
  const { server, base } = await serveViewer(coby);
  const browser = await launchChromium();
  try {
    await Deno.mkdir(OUT, { recursive: true });
    await Deno.mkdir(DOCS, { recursive: true });

    const created = await fetch(`${base}/api/v1/replay`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        source: "files",
        files: [...captureFiles("BYBIT"), ...captureFiles("OKX")],
        speed: "max",
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = await created.json() as ReplayProgress;
    let state = "";
    for (let i = 0; i < 600 && state !== "ended"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await (await fetch(`${base}/api/v1/replay/${id}`)).json()).state;
    }
    assert.equal(state, "ended");
    const listed = (await (await fetch(`${base}/api/v1/symbols?session=${id}`))
      .json()).symbols as { symbol: string; exchanges: string[] }[];
    const btc = listed.find((s) => s.symbol === "BTC-USD");
    assert.ok(btc && btc.exchanges.length >= 2, JSON.stringify(listed));
    // Not the first name: there are symbols before BTC-USD.
    assert.notEqual(listed.map((s) => s.symbol).sort()[0], "BTC-USD");

    // 1. No symbol asked for: the page opens on BTC-USD, both venues on.
    const errors: string[] = [];
    const page = await openPage(browser, errors);
    await page.goto(`${base}/?session=${id}`);
    await page.waitForFunction(() =>
      new URL(location.href).searchParams.get("symbol") === "BTC-USD"
    );
    assert.equal(
      pickSymbol(listed.map((s) => ({ ...s, columns: 0 })), ""),
      "BTC-USD",
    );
    assert.equal(
      await page.getByLabel("symbol", { exact: true }).inputValue(),
      "BTC-USD",
    );
    for (const v of btc.exchanges) {
      assert.ok(await page.getByLabel(v, { exact: true }).isChecked(), v);
    }
    await drawn(page);
    await page.getByLabel("range").selectOption({ label: "all" });
    // The volume and candle panes draw from the columns' trades.
    await page.waitForFunction(() =>
      Number(
        document.querySelector('[data-testid="candles"]')?.getAttribute(
          "data-bars",
        ),
      ) > 0
    );
    assert.equal(
      await page.getByTestId("candles").getAttribute("data-source"),
      "columns",
    );

    // 2. Toggling venues by their badges: the page gets the column the API
    // serves for that selection, at the same tick.
    const url = `${base}/api/v1/heatmap/stream?symbol=BTC-USD&session=${id}`;
    /** Waits for the page's columns to come from `venues` only. */
    const waitFor = async (venues: string[], after: number) => {
      await page.waitForFunction(
        ([n, vs]) => {
          const g = globalThis as unknown as Hooks;
          const c = g.__cobyLastColumn;
          return g.__cobyColumns > (n as number) && c !== null &&
            c.exchanges.every((e) => (vs as string[]).includes(e));
        },
        [after, venues] as const,
        { timeout: 30_000 },
      );
      // The kept history streams in: wait for its end.
      let n = -1;
      while (n !== (await hooks(page)).__cobyColumns) {
        n = (await hooks(page)).__cobyColumns;
        await page.waitForTimeout(500);
      }
      return (await hooks(page)).__cobyLastColumn!;
    };
    // Bybit's capture is a year older than OKX's and over by then: the
    // newest consolidated columns are OKX's.
    const all = (await hooks(page)).__cobyLastColumn!;
    assert.deepEqual([...new Set(all.exchanges)], ["okx"]);
    const bidAll = await page.getByTestId("bid").textContent();

    // OKX off: Bybit's own columns, a year older and twice the price.
    let seen = (await hooks(page)).__cobyColumns;
    await page.locator('.badge[data-exchange="okx"]').click();
    assert.equal(
      await page.getByLabel("okx", { exact: true }).isChecked(),
      false,
    );
    const bybitOnly = await waitFor(["bybit"], seen);
    assert.equal(new URL(page.url()).searchParams.get("exchanges"), "bybit");
    const served = await streamUntil(`${url}&exchanges=bybit`, bybitOnly.ts);
    assert.deepEqual(bybitOnly, served.column);
    assert.ok(bybitOnly.bestBid! > all.bestAsk! * 1.5, "Bybit's BBO is shown");
    // The status bar: that column's BBO at the book's precision.
    let d = 0;
    for (const c of [...served.before, served.column]) {
      d = Math.max(d, decimalsOf(c.bestBid), decimalsOf(c.bestAsk));
    }
    const bbo = formatBbo(bybitOnly.bestBid, bybitOnly.bestAsk, d);
    assert.equal(await page.getByTestId("bid").textContent(), `bid ${bbo.bid}`);
    assert.equal(await page.getByTestId("ask").textContent(), `ask ${bbo.ask}`);
    assert.equal(
      await page.getByTestId("spread").textContent(),
      `spread ${bbo.spread}`,
    );
    assert.notEqual(bbo.bid, bidAll);
    // The volume pane: the same columns' trades, on the heatmap's time view.
    const kept = [...served.before, served.column].slice(-600);
    const pane = await paneState(page);
    assert.equal(pane.buy, sum(kept, "buys"));
    assert.equal(pane.sell, sum(kept, "sells"));
    assert.ok(pane.buy + pane.sell > 0, "no trades in the volume pane");
    // Its time view is the heatmap's (it follows each change of it).
    await page.waitForFunction(
      () => {
        const v = document.querySelector<HTMLElement>(
          '[data-testid="volume"] .uplot',
        )!.dataset;
        const h = document.querySelector<HTMLElement>(
          '[data-testid="heatmap"] .uplot',
        )!.dataset;
        return v.xMin === h.xMin && v.xMax === h.xMax;
      },
      undefined,
      { timeout: 5_000 },
    );

    // OKX on, Bybit off: OKX alone, with nothing left out.
    seen = (await hooks(page)).__cobyColumns;
    await page.getByLabel("okx", { exact: true }).check();
    await page.getByLabel("bybit", { exact: true }).uncheck();
    const okxOnly = await waitFor(["okx"], seen);
    assert.equal(new URL(page.url()).searchParams.get("exchanges"), "okx");
    assert.deepEqual(
      okxOnly,
      (await streamUntil(`${url}&exchanges=okx`, okxOnly.ts)).column,
    );
    assert.deepEqual(okxOnly.consolidation?.excluded ?? [], []);
    // OKX's spot and perpetual books consolidated, for the README.
    await page.getByLabel("range").selectOption({ label: "±0.5%" });
    await page.waitForTimeout(1000);
    await page.screenshot({ path: `${DOCS}/viewer_consolidated.png` });
    await smallPng(`${DOCS}/viewer_consolidated.png`);
    await Deno.copyFile(
      `${DOCS}/viewer_consolidated.png`,
      `${OUT}/viewer_app_consolidated.png`,
    );
    // The tooltip at the newest column's best bid, when the chart has one.
    const heat = await paneState(page);
    const plot = (await page.locator('[data-testid="heatmap"] .u-over')
      .boundingBox())!;
    await page.mouse.move(
      plot.x + plot.width * (okxOnly.ts / 1000 + 0.5 - heat.heatXMin) /
          (heat.heatXMax - heat.heatXMin),
      plot.y + plot.height * (heat.heatYMax - okxOnly.bestBid!) /
          (heat.heatYMax - heat.heatYMin),
      { steps: 3 },
    );
    const tip = page.getByTestId("tooltip");
    if (await tip.count() > 0) {
      await tip.locator("[data-exchange]").first().waitFor({ timeout: 10_000 });
      const chartBox = (await page.getByTestId("heatmap").boundingBox())!;
      await page.screenshot({
        path: `${DOCS}/viewer_tooltip.png`,
        clip: chartBox,
      });
      await smallPng(`${DOCS}/viewer_tooltip.png`);
      await page.mouse.move(0, 0);
    }
    // Dragged back in time: the chart stops following, the volume pane keeps
    // its view, and "paused — back to live" brings it back.
    await page.mouse.move(plot.x + plot.width * 0.5, plot.y + plot.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.8, plot.y + plot.height / 2, {
      steps: 5,
    });
    await page.mouse.up();
    const back = page.getByTestId("back-to-live");
    await back.waitFor();
    const panned = await paneState(page);
    assert.ok(panned.heatXMax < heat.heatXMax, JSON.stringify(panned));
    await page.waitForFunction(
      () => {
        const v = document.querySelector<HTMLElement>(
          '[data-testid="volume"] .uplot',
        )!.dataset;
        const h = document.querySelector<HTMLElement>(
          '[data-testid="heatmap"] .uplot',
        )!.dataset;
        return v.xMin === h.xMin && v.xMax === h.xMax;
      },
      undefined,
      { timeout: 5_000 },
    );
    await back.click();
    await back.waitFor({ state: "detached" });
    // The live view again: the time span it had before the drag.
    await page.waitForFunction(
      (xMax) => {
        const h = document.querySelector<HTMLElement>(
          '[data-testid="heatmap"] .uplot',
        )!.dataset;
        return h.following === "true" && Number(h.xMax) === xMax;
      },
      heat.heatXMax,
      { timeout: 5_000 },
    );
    seen = (await hooks(page)).__cobyColumns;
    await page.getByLabel("bybit", { exact: true }).check();
    await waitFor(["okx"], seen);
    assert.equal(new URL(page.url()).searchParams.get("exchanges"), null);

    // 3. Settings: changed by hand, kept over a reload, shared by URL.
    await page.getByRole("button", { name: "linear" }).click();
    await page.getByLabel("clip").selectOption("0.95");
    await page.getByLabel("palettes").selectOption("separate");
    await page.getByLabel("bucket").selectOption("5");
    await page.getByLabel("min size").fill("0.5");
    await page.getByLabel("min size").press("Tab");
    await page.getByLabel("candles").selectOption("5m");
    await page.getByLabel("trades", { exact: true }).uncheck();
    await page.waitForFunction(() =>
      new URL(location.href).searchParams.get("trades") === "0"
    );
    const wanted = await controls(page);
    assert.deepEqual(
      {
        scale: wanted.scale,
        clip: wanted.clip,
        palettes: wanted.palettes,
        bucket: wanted.bucket,
        trades: wanted.trades,
        "min size": wanted["min size"],
        candles: wanted.candles,
        range: wanted.range,
      },
      {
        scale: "linear",
        clip: "0.95",
        palettes: "separate",
        bucket: "5",
        trades: false,
        "min size": "0.5",
        candles: "5m",
        range: "0.005",
      },
    );
    await page.waitForFunction(() => location.search.includes("tf=5m"));
    const shared = page.url();
    // A bare link: localStorage brings the settings back.
    await page.goto(`${base}/?session=${id}&symbol=BTC-USD`);
    await page.getByTestId("controls").waitFor();
    assert.deepEqual(await controls(page), wanted);
    // A fresh browser (nothing stored) with the shared link: the same view.
    const other = await browser.newContext({
      viewport: { width: 1280, height: 720 },
    });
    const fresh = await other.newPage();
    watchErrors(fresh, errors);
    await fresh.goto(shared);
    await fresh.getByTestId("controls").waitFor();
    assert.deepEqual(await controls(fresh), wanted);
    assert.equal(
      await fresh.evaluate(() => localStorage.getItem("coby.settings")) !==
        null,
      true,
    );
    await other.close();

    // 4. A replay with its controls (OKX alone, the settings above), for the
    // README.
    await drawn(page);
    await page.getByTestId("replay").waitFor();
    seen = (await hooks(page)).__cobyColumns;
    await page.getByLabel("bybit", { exact: true }).uncheck();
    await waitFor(["okx"], seen);
    await page.waitForTimeout(800);
    await page.screenshot({ path: `${DOCS}/viewer_replay.png` });
    await smallPng(`${DOCS}/viewer_replay.png`);
    await Deno.copyFile(
      `${DOCS}/viewer_replay.png`,
      `${OUT}/viewer_app_replay.png`,
    );

    // 5. Tablets: no horizontal overflow, the chart fills the width.
    for (
      const viewport of [
        { width: 768, height: 1024 },
        { width: 1024, height: 768 },
      ]
    ) {
      await page.setViewportSize(viewport);
      await page.waitForTimeout(500);
      const layout = await page.evaluate(() => {
        const chart = document.querySelector('[data-testid="heatmap"]')!;
        const canvas = chart.querySelector("canvas")!;
        return {
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          chart: chart.getBoundingClientRect().width,
          canvas: canvas.getBoundingClientRect().width,
          height: chart.getBoundingClientRect().height,
        };
      });
      assert.ok(layout.scroll <= layout.client, JSON.stringify(layout));
      assert.ok(
        layout.chart > viewport.width * 0.6 &&
          layout.canvas <= layout.chart + 1,
        JSON.stringify(layout),
      );
      assert.ok(layout.height > 150, JSON.stringify(layout));
      await page.screenshot({
        path:
          `${OUT}/viewer_app_tablet_${viewport.width}x${viewport.height}.png`,
      });
    }
    assert.deepEqual(errors, []);

    // The symbol picker filters as one types; Enter picks the first match.
    const picker = page.getByLabel("symbol", { exact: true });
    await picker.click();
    await picker.fill("eth usd");
    const options = page.locator(
      '[data-testid="symbol-picker"] [role="option"] b',
    );
    const expected = filterSymbols(listed.map((s) => s.symbol), "eth usd");
    assert.ok(expected.length > 0);
    await page.waitForFunction(
      (n) =>
        document.querySelectorAll(
          '[data-testid="symbol-picker"] [role="option"]',
        ).length === n,
      expected.length,
    );
    assert.deepEqual(await options.allTextContents(), expected);
    await picker.press("Enter");
    await page.waitForFunction(
      (sym) =>
        new URL(location.href).searchParams.get("symbol") === sym &&
        (globalThis as unknown as Hooks).__cobyLastColumn?.symbol === sym,
      expected[0],
      { timeout: 30_000 },
    );
    assert.equal(await picker.inputValue(), expected[0]);

    // 6. "Replay…" asks the store for a range of the symbol and its venues
    // (this coby keeps no store, so it answers an error, shown in the dialog).
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.getByTestId("replay-open").click();
    const dialog = page.getByTestId("replay-dialog");
    await dialog.waitFor();
    const posted = page.waitForRequest((r) =>
      r.url().endsWith("/api/v1/replay") && r.method() === "POST"
    );
    await dialog.getByRole("button", { name: "start" }).click();
    const body = (await posted).postDataJSON();
    assert.equal(body.source, "store");
    assert.deepEqual(body.symbols, [expected[0]]);
    assert.deepEqual(
      [...body.exchanges].sort(),
      [...listed.find((s) => s.symbol === expected[0])!.exchanges].sort(),
    );
    assert.ok(body.from < body.to && body.to - body.from === 600_000);
    await dialog.locator(".note").waitFor();
    assert.match(
      (await dialog.locator(".note").textContent())!,
      /^POST \/api\/v1\/replay failed with status \d+/,
    );

    // 7. The stream drops (the session is stopped): the page counts down to
    // its next attempt.
    const stopped = await fetch(`${base}/api/v1/replay/${id}`, {
      method: "DELETE",
    });
    assert.equal(stopped.status, 200);
    await stopped.body?.cancel();
    const stream = page.getByTestId("stream");
    await page.waitForFunction(() =>
      /^reconnecting in \d+ s$/.test(
        document.querySelector('[data-testid="stream"]')!.textContent!,
      )
    );
    const first = Number(/\d+/.exec((await stream.textContent())!)![0]);
    assert.ok(first >= 1 && first <= 30, String(first));
    // It counts down, then tries again and backs off further.
    await page.waitForFunction(
      () =>
        /^reconnecting in ([2-9]|\d\d) s$/.test(
          document.querySelector('[data-testid="stream"]')!.textContent!,
        ),
      undefined,
      { timeout: 15_000 },
    );
  } finally {
    await browser.close();
    await server.shutdown();
    await coby.supervisor.stop();
  }
});

Deno.test({
  name:
    "viewer app: exchange badges show each feed's health as /api/v1/exchanges reports it",
  ignore: !chromiumInstalled(),
}, async () => {
  const replay = await Replay.start(
    [...captureFiles("OKX"), ...captureFiles("BYBIT")],
    {
      speed: "max",
      tickMs: 250,
      quoteAliases: { USDT: "USD" },
      supervisor: { onLog: () => {} },
    },
  );
  const { server, base } = await serveViewer(replay.coby);
  const browser = await launchChromium();
  try {
    await replay.finished();
    const errors: string[] = [];
    const page = await openPage(browser, errors);
    await page.goto(`${base}/?symbol=BTC-USD`);
    await drawn(page);
    // The feeds stopped with the recording: give them time to go stale, then
    // compare each badge with the health the API's entry gives.
    await page.waitForTimeout(STALE_MS + 2_500);
    const statuses = (await (await fetch(`${base}/api/v1/exchanges`)).json())
      .exchanges as (ExchangeHealthInput & { exchange: string })[];
    assert.ok(statuses.length >= 2, JSON.stringify(statuses));
    const want = Object.fromEntries(
      statuses.map((s) => [s.exchange, exchangeHealth(s).level]),
    );
    await page.waitForFunction(
      (w) =>
        Object.entries(w).every(([e, level]) =>
          document.querySelector(`.badge[data-exchange="${e}"]`)
            ?.getAttribute("data-health") === level
        ),
      want,
      { timeout: 5_000 },
    );
    // Nothing arrives any more: every feed is stale or down, none green.
    assert.ok(
      Object.values(want).every((l) => l !== "green"),
      JSON.stringify(want),
    );
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.shutdown();
    await replay.stop();
  }
});
