/**
 * The viewer following a replay session in a real browser: Debian's
 * Chromium, driven by playwright-core, opens `/?symbol=&session=&key=` on a
 * session of the shared Binance capture (2021-10-12 00:28 UTC) served by an
 * in-process coby with no exchanges and API keys on. The page runs in
 * Tokyo's time zone, so a clock or axis in local or wall-clock time would
 * show another hour and day. It checks that the heatmap draws, that pause
 * holds the replay clock, that a seek resets the columns and moves the clock
 * to the seek time, that resuming at max speed reaches a clear `ended`
 * state, and that the clock and the time axis show the recording's UTC
 * date and time throughout. Saves test-output/viewer_replay_playing.png,
 * viewer_replay_paused.png and viewer_replay_ended.png.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { ReplayProgress } from "../actors/market/requests.ts";
import { formatClock, formatDate } from "../ui/time.ts";
import { formatPercent } from "../ui/replay_state.ts";
import {
  chromiumInstalled,
  launchChromium,
  serveViewer,
  watchErrors,
} from "./_browser.ts";
import { CAPTURES, replayCoby } from "./_replay.ts";

const KEY = "viewer-replay-test-key";
const FILES = ["0", "http.0.0", "ws.1.0"].map((s) =>
  `${CAPTURES}/BINANCE.${s}`
);
const OUT = "test-output";

/** The page's test hooks (see `ui/app.tsx`). */
interface Hooks {
  __cobyColumns: number;
  __cobyCellsDrawn: number;
  __cobyTimeLabels: string[];
  __cobyResets: number[];
}

/** What the replay bar shows. */
interface Bar {
  state: string;
  position: number;
  resets: number;
  clock: string;
  percent: string;
  button: string;
  buttonDisabled: boolean;
}

async function bar(page: Page): Promise<Bar> {
  const el = page.getByTestId("replay");
  const play = page.getByTestId("replay-play");
  return {
    state: (await el.getAttribute("data-state"))!,
    position: Number(await el.getAttribute("data-position")),
    resets: Number(await el.getAttribute("data-resets")),
    clock: (await page.getByTestId("replay-clock").textContent())!,
    percent: (await el.locator(".percent").textContent())!,
    button: (await play.textContent())!,
    buttonDisabled: await play.isDisabled(),
  };
}

function hooks(page: Page): Promise<Hooks> {
  return page.evaluate(() => {
    const g = globalThis as unknown as Hooks;
    return {
      __cobyColumns: g.__cobyColumns,
      __cobyCellsDrawn: g.__cobyCellsDrawn,
      __cobyTimeLabels: [...g.__cobyTimeLabels],
      __cobyResets: [...g.__cobyResets],
    };
  });
}

/**
 * Share of opaque pixels in the middle of the chart's canvas (away from the
 * axes): the heatmap's cells, not the grid (drawn at 6 % opacity).
 */
function paintedShare(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>(
      '[data-testid="heatmap"] canvas',
    )!;
    const w = canvas.width, h = canvas.height;
    const x0 = Math.round(w * 0.1), x1 = Math.round(w * 0.8);
    const y0 = Math.round(h * 0.1), y1 = Math.round(h * 0.8);
    const data = canvas.getContext("2d")!
      .getImageData(x0, y0, x1 - x0, y1 - y0).data;
    let opaque = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] === 255) opaque++;
    return opaque / (data.length / 4);
  });
}

/**
 * Checks the time axis shows the recording's time: each label's UTC time of
 * day (with the date of the label that carries one) lies within `slack` of
 * the session's position, and no label names today.
 * @returns the labels' times, ms.
 */
function assertAxisNear(
  labels: string[],
  position: number,
  slack: number,
): number[] {
  assert.ok(labels.length > 0, "no time axis labels");
  const today = formatDate(Date.now(), true);
  let day: string | null = null;
  const times: number[] = [];
  for (const label of labels) {
    const [time, date] = label.split("\n");
    if (date !== undefined) day = date;
    assert.ok(day !== null, `first label ${JSON.stringify(label)} has no date`);
    assert.notEqual(day, today, `axis shows today: ${labels.join(" | ")}`);
    const t = Date.parse(`${day}T${time.length === 5 ? `${time}:00` : time}Z`);
    assert.ok(
      Math.abs(t - position) <= slack,
      `axis label ${JSON.stringify(label)} is not near the replay position ${
        new Date(position).toISOString()
      }: ${labels.join(" | ")}`,
    );
    times.push(t);
  }
  return times;
}

async function progressOf(base: string, id: string): Promise<ReplayProgress> {
  const res = await fetch(`${base}/api/v1/replay/${id}`);
  assert.equal(res.status, 200);
  return await res.json();
}

Deno.test({
  name:
    "viewer: a replay session plays, pauses, seeks and ends with the recording's time on the clock and the axis",
  ignore: !chromiumInstalled(),
}, async () => {
  const coby = await replayCoby([KEY]);
  // The viewer is built before the session starts: the capture lasts ~30 s.
  const { server, base } = await serveViewer(coby);
  const browser = await launchChromium();
  try {
    await Deno.mkdir(OUT, { recursive: true });

    const created = await fetch(`${base}/api/v1/replay`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY },
      body: JSON.stringify({ source: "files", files: FILES, speed: 2 }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id, from, to } = await created.json() as ReplayProgress;
    assert.equal(formatDate(from, true), "2021-10-12");

    // The first symbol with columns, then hold the session for the page.
    let symbol: string | undefined;
    for (let i = 0; i < 200 && !symbol; i++) {
      symbol = coby.replay.hub(id)?.symbols()[0]?.symbol;
      if (!symbol) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(symbol, "the session produced no column");
    const paused = await fetch(`${base}/api/v1/replay/${id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY },
      body: JSON.stringify({ action: "pause" }),
    });
    assert.equal(paused.status, 200);

    const page = await browser.newPage({
      viewport: { width: 1200, height: 700 },
      timezoneId: "Asia/Tokyo",
    });
    const errors = watchErrors(page);
    await page.goto(`${base}/?symbol=${symbol}&session=${id}&key=${KEY}`);
    const replayBar = page.getByTestId("replay");
    await replayBar.waitFor({ state: "visible" });
    // The key is remembered and leaves the address bar.
    await page.waitForFunction(() => !location.search.includes("key="));
    assert.equal(
      await page.evaluate(() => localStorage.getItem("coby.apiKey")),
      KEY,
    );
    await page.waitForSelector('[data-testid="replay"][data-state="paused"]');

    // Play (the button sends `resume` with the remembered key).
    await page.getByTestId("replay-play").click();
    await page.waitForSelector('[data-testid="replay"][data-state="playing"]');
    await page.waitForFunction(
      () => (globalThis as unknown as Hooks).__cobyCellsDrawn > 0,
      undefined,
      { timeout: 20_000 },
    );
    await page.waitForTimeout(1500);
    const playing = await bar(page);
    assert.equal(playing.button, "pause");
    assert.match(playing.clock, /^2021-10-12 00:2\d:\d\d UTC$/);
    assert.equal(playing.clock, formatClock(playing.position));
    assert.ok(playing.position > from && playing.position <= to);
    const share = await paintedShare(page);
    assert.ok(share > 0.05, `heatmap covers ${share} of the plot`);
    const h1 = await hooks(page);
    assert.ok(h1.__cobyColumns > 0 && h1.__cobyCellsDrawn > 0);
    assertAxisNear(h1.__cobyTimeLabels, playing.position, 60_000);
    await page.screenshot({ path: `${OUT}/viewer_replay_playing.png` });

    // Pause: the clock and the position hold still.
    await page.getByTestId("replay-play").click();
    await page.waitForSelector('[data-testid="replay"][data-state="paused"]');
    const held = await bar(page);
    assert.equal(held.button, "play");
    await page.waitForTimeout(1200);
    const still = await bar(page);
    assert.equal(still.clock, held.clock);
    assert.equal(still.position, held.position);
    assert.equal((await progressOf(base, id)).position, held.position);
    await page.screenshot({ path: `${OUT}/viewer_replay_paused.png` });

    // Seek back near the start: a reset, the clock at the seek time.
    // The slider moves in whole ms from the range's first.
    const target = Math.ceil(from) + Math.round((to - from) * 0.1);
    await page.getByLabel("seek").fill(String(target));
    await page.waitForSelector('[data-testid="replay"][data-resets="1"]');
    const h2 = await hooks(page);
    assert.equal(h2.__cobyResets.length, 1);
    const at = h2.__cobyResets[0];
    assert.equal(at, target);
    const sought = await bar(page);
    assert.equal(sought.state, "paused");
    assert.equal(sought.clock, formatClock(at));
    assert.equal(
      sought.percent,
      formatPercent((at - from) / (to - from) * 100),
    );
    assert.equal((await progressOf(base, id)).position, at);
    // Columns restart at the seek time: the axis follows it.
    assertAxisNear(h2.__cobyTimeLabels, at, 60_000);

    // Resume at max speed: the session ends and says so.
    await page.getByLabel("speed").selectOption("max");
    await page.waitForFunction(() =>
      document.querySelector<HTMLSelectElement>(
        '[data-testid="replay"] select',
      )?.value === "max"
    );
    await page.getByTestId("replay-play").click();
    await page.waitForSelector('[data-testid="replay"][data-state="ended"]', {
      timeout: 30_000,
    });
    await page.waitForTimeout(500);
    const ended = await bar(page);
    const last = await progressOf(base, id);
    assert.equal(last.state, "ended");
    assert.equal(ended.button, "ended");
    assert.ok(ended.buttonDisabled);
    assert.equal(await page.getByTestId("replay-state").textContent(), "ended");
    assert.equal(ended.position, last.position);
    assert.equal(ended.clock, formatClock(last.position));
    assert.equal(ended.percent, formatPercent(last.percent));
    const h3 = await hooks(page);
    assert.ok(h3.__cobyCellsDrawn > 0, "the heatmap is blank after the seek");
    const times = assertAxisNear(h3.__cobyTimeLabels, last.position, 60_000);
    // The columns before the seek were dropped: the axis starts at the tick
    // holding the seek time.
    assert.ok(
      Math.min(...times) >= at - 1000,
      `axis starts before the seek: ${h3.__cobyTimeLabels.join(" | ")}`,
    );
    await page.screenshot({ path: `${OUT}/viewer_replay_ended.png` });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.shutdown();
    await coby.supervisor.stop();
  }
});
