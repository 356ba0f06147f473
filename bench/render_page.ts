/**
 * The page `bench/render.ts` runs in Chromium: a uPlot chart laid out like
 * the viewer's (time × price, the heatmap plugin in `drawClear`) over a ring
 * of synthetic columns, with `globalThis.__bench` to run each measure. The
 * runner bundles this file for the browser; it is not part of the viewer.
 *
 * @module
 */

import uPlot from "uplot";
import { ColumnRing, type HeatColumn } from "../ui/columns.ts";
import { type HeatmapDrawStats, heatmapPlugin } from "../ui/plugins/heatmap.ts";

/** Figures of one draw: the plugin's own and the draw with the raster flushed. */
export interface DrawTiming {
  /** The plugin's draw (layer work and blits), ms. */
  hook: number;
  /** The incremental column draw of that frame, ms (appends only). */
  append: number;
  /** From `setData` to the pixels rasterized (a 1-pixel read flushes), ms. */
  flushed: number;
  /** Whether the layer was rebuilt or recoloured. */
  full: boolean;
  /** Non-empty cells in view. */
  cells: number;
}

/** What the page offers the runner. */
export interface BenchApi {
  /**
   * Fills the ring with `columns` columns of `buckets` buckets and draws
   * them once from a cold layer.
   */
  cold(columns: number, buckets: number): Promise<DrawTiming>;
  /** Appends `n` columns one frame each; one timing per append. */
  append(n: number): Promise<DrawTiming[]>;
  /**
   * Streams `tradesPerSecond` trades into the newest column (a new column
   * every `tickMs`) for `seconds`, redrawing at most once per frame, and
   * returns every `requestAnimationFrame` delta (`deltas`), the deltas
   * from each frame that drew to the next (`drawn`: the time of a frame
   * with a draw, its raster and compositing included), the plugin's draw
   * time and the frame's chart work (`setData` to drawn), ms, and how many
   * draws rebuilt or recoloured the layer.
   */
  stream(
    seconds: number,
    tradesPerSecond: number,
  ): Promise<
    {
      deltas: number[];
      drawn: number[];
      hooks: number[];
      work: number[];
      full: number;
      trades: number;
      draws: number;
    }
  >;
}

const TICK_MS = 1000;
const BUCKET = 0.5;
const LO = 120_000; // bucket index: prices from 60 000
const el = document.getElementById("chart")!;
let ring = new ColumnRing(1);
let buckets = 400;
let last: HeatmapDrawStats | null = null;
let seed = 1;

/** Deterministic pseudo-random numbers (mulberry32). */
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

let mid = LO + 200;

/** A book-like column: bids below a random-walk mid, asks above, a few walls. */
function makeColumn(ts: number): HeatColumn {
  mid += Math.round((rand() - 0.5) * 3);
  if (mid < LO + 50) mid = LO + 50;
  if (mid > LO + buckets - 50) mid = LO + buckets - 50;
  const bids = new Array<number>(buckets).fill(0);
  const asks = new Array<number>(buckets).fill(0);
  for (let i = 0; i < buckets; i++) {
    if (rand() < 0.15) continue;
    const d = Math.abs(LO + i - mid);
    const wall = (LO + i) % 53 === 0 ? 40 : 1;
    const v = +(wall * Math.exp(rand() * 4) * (1 + d / 40) / 20).toPrecision(6);
    if (LO + i < mid) bids[i] = v;
    else if (LO + i > mid) asks[i] = v;
  }
  const zeros = new Array<number>(buckets).fill(0);
  return {
    ts,
    symbol: "BTC-USDT",
    bucketSize: BUCKET,
    lo: LO,
    bids,
    asks,
    buys: zeros,
    sells: zeros.slice(),
    bestBid: (mid - 1) * BUCKET,
    bestAsk: (mid + 1) * BUCKET,
    mid: mid * BUCKET,
    exchanges: ["binance"],
    consolidation: null,
    liquidations: [],
  };
}

const u = new uPlot(
  {
    width: 1600,
    height: 800,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x: {
        time: true,
        range: () => {
          const n = ring.length;
          if (n === 0) return [0, 1];
          return [ring.at(0).ts / 1000, (ring.at(n - 1).ts + TICK_MS) / 1000];
        },
      },
      y: { range: () => [LO * BUCKET, (LO + buckets) * BUCKET] },
    },
    series: [{}, { stroke: "#2ecc71" }, { stroke: "#ff4d4d" }],
    axes: [{ stroke: "#8b95a7" }, { side: 1, size: 80, stroke: "#8b95a7" }],
    plugins: [heatmapPlugin({
      columns: () => ring,
      tickMs: TICK_MS,
      onDraw: (s) => void (last = s),
    })],
  },
  [[], [], []],
  el,
);

function setData(): void {
  const n = ring.length;
  const xs = new Array<number>(n), b = new Array<number | null>(n);
  const a = new Array<number | null>(n);
  for (let i = 0; i < n; i++) {
    const c = ring.at(i);
    xs[i] = c.ts / 1000;
    b[i] = c.bestBid;
    a[i] = c.bestAsk;
  }
  u.setData([xs, b, a]);
}

/** Sets the data, waits for uPlot's draw and flushes the raster. */
async function drawNow(): Promise<DrawTiming> {
  last = null;
  const t0 = performance.now();
  setData();
  // uPlot commits in a microtask; wait until the plugin has drawn.
  for (let i = 0; last === null; i++) {
    if (i > 10_000) throw new Error("uPlot did not draw after setData");
    await Promise.resolve();
  }
  u.ctx.getImageData(0, 0, 1, 1);
  const flushed = performance.now() - t0;
  const s = last as HeatmapDrawStats;
  return {
    hook: s.ms,
    append: s.full ? NaN : s.appendMs,
    flushed,
    full: s.full,
    cells: s.cells,
  };
}

const nextFrame = () => new Promise((r) => requestAnimationFrame(r));

const api: BenchApi = {
  async cold(columns, n) {
    buckets = n;
    ring = new ColumnRing(columns);
    for (let i = 0; i < columns; i++) ring.push(makeColumn(i * TICK_MS));
    await nextFrame();
    performance.mark("cold-start");
    const t = await drawNow();
    performance.mark("cold-end");
    performance.measure("cold draw", "cold-start", "cold-end");
    return t;
  },
  async append(n) {
    const out: DrawTiming[] = [];
    for (let i = 0; i < n; i++) {
      const ts = ring.at(ring.length - 1).ts + TICK_MS;
      ring.push(makeColumn(ts));
      await nextFrame();
      performance.mark("append-start");
      out.push(await drawNow());
      performance.mark("append-end");
      performance.measure("append", "append-start", "append-end");
    }
    return out;
  },
  stream(seconds, tradesPerSecond) {
    return new Promise((resolve) => {
      const deltas: number[] = [], hooks: number[] = [], work: number[] = [];
      // Deltas from a frame that drew to the next frame: that frame's time.
      const drawn: number[] = [];
      let drewAt = -1;
      let trades = 0, draws = 0, frame = 0, full = 0;
      let prev = 0;
      const start = performance.now();
      let tickStart = start;
      let current = ring.at(ring.length - 1);
      const schedule = () => {
        if (frame === 0) {
          frame = requestAnimationFrame((at) => {
            frame = 0;
            drewAt = at;
            last = null;
            const t0 = performance.now();
            setData();
            draws++;
            // After uPlot's commit, queued by setData before this.
            queueMicrotask(() => {
              if (!last) return;
              hooks.push(last.ms);
              if (last.full) full++;
              work.push(performance.now() - t0);
            });
          });
        }
      };
      // Trades arrive every 10 ms in batches; each batch updates the newest
      // column (replaced in the ring, same ts), a new column every tick.
      const perBatch = tradesPerSecond / 100;
      const feed = setInterval(() => {
        const now = performance.now();
        if (now - tickStart >= TICK_MS) {
          tickStart = now;
          current = makeColumn(current.ts + TICK_MS);
        } else {
          const buys = current.buys.slice(), sells = current.sells.slice();
          const bids = current.bids.slice();
          for (let k = 0; k < perBatch; k++) {
            const i = Math.floor(rand() * buckets);
            if (rand() < 0.5) buys[i] += 0.01;
            else sells[i] += 0.01;
            if (bids[i] > 0) bids[i] = Math.max(0, bids[i] - 0.01);
            trades++;
          }
          current = { ...current, buys, sells, bids };
        }
        ring.push(current);
        schedule();
      }, 10);
      const loop = (t: number) => {
        if (prev !== 0) deltas.push(t - prev);
        if (prev !== 0 && drewAt === prev) drawn.push(t - prev);
        prev = t;
        if (t - start < seconds * 1000) requestAnimationFrame(loop);
        else {
          clearInterval(feed);
          resolve({ deltas, drawn, hooks, work, full, trades, draws });
        }
      };
      requestAnimationFrame(loop);
    });
  },
};

(globalThis as unknown as { __bench: BenchApi }).__bench = api;
