/**
 * uPlot plugin that paints the order-book heatmap behind the best bid / ask
 * lines, and taker trades as circles above them.
 *
 * Each column spans from its `ts` to the next column's `ts` (or one tick for
 * the newest column and across gaps). Each bucket's resting size
 * (`bids[i] + asks[i]`) is mapped to a palette index on a log or linear scale;
 * cells are batched into one `Path2D` per palette colour, so a frame costs
 * one `fill()` per colour instead of one per cell. Buckets thinner than a
 * pixel are summed into one-pixel rows so the cell count stays bounded by
 * the plot's pixel height.
 *
 * Anchor: uPlot `demos/latency-heatmap.html` (quantized fills, one per color).
 *
 * @module
 */

import type uPlot from "uplot";
import type { ColumnSource } from "../columns.ts";

/** How resting size maps to colour. */
export type HeatScale = "log" | "linear";

/** What a draw did, for tests and status lines. */
export interface HeatmapDrawStats {
  /** Columns at least partly inside the plot. */
  columns: number;
  /** Non-empty cells painted. */
  cells: number;
  /** Rects filled after merging touching cells of the same colour. */
  rects: number;
  /** Largest cell size in view (the top of the colour scale). */
  maxSize: number;
  /** Time the heatmap draw took, ms. */
  ms: number;
}

/** Options for {@linkcode heatmapPlugin}. */
export interface HeatmapPluginOptions {
  /** The columns to draw, read at every draw. */
  columns: () => ColumnSource;
  /**
   * Colour scale, read at every draw.
   * @default {() => "log"}
   */
  scale?: () => HeatScale;
  /**
   * Whether to draw trade circles, read at every draw.
   * @default {() => true}
   */
  trades?: () => boolean;
  /**
   * Tick width in ms: the width of the newest column, and the longest span a
   * column stretches to before the gap after it is left empty.
   * @default {1000}
   */
  tickMs?: number;
  /**
   * Number of palette colours.
   * @default {32}
   */
  paletteSize?: number;
  /**
   * Decades of size shown by the log scale below the largest cell; smaller
   * cells get the darkest colour.
   * @default {3}
   */
  logDecades?: number;
  /**
   * Largest trade-circle radius in CSS pixels.
   * @default {6}
   */
  maxTradeRadius?: number;
  /** Called after each heatmap draw. */
  onDraw?: (stats: HeatmapDrawStats) => void;
}

/** Bookmap-like colour stops: dark blue → blue → cyan → yellow → white. */
const STOPS: readonly (readonly [number, number, number, number])[] = [
  [0.0, 13, 27, 76],
  [0.25, 31, 79, 181],
  [0.5, 24, 178, 201],
  [0.7, 143, 220, 90],
  [0.85, 255, 210, 63],
  [1.0, 255, 255, 255],
];

/**
 * Builds the heatmap palette by interpolating the colour stops.
 * @param size number of colours.
 * @returns `size` CSS colours, coldest first.
 * @throws {RangeError} if `size` is not an integer of at least 2.
 * @example A 4-colour palette
 * ```ts
 * buildPalette(4); // ["rgb(13,27,76)", …, "rgb(255,255,255)"]
 * ```
 */
export function buildPalette(size: number): string[] {
  if (!Number.isInteger(size) || size < 2) {
    throw new RangeError(
      `Palette size must be an integer of at least 2, got ${size}`,
    );
  }
  const out: string[] = new Array(size);
  for (let k = 0; k < size; k++) {
    const t = k / (size - 1);
    let s = 1;
    while (s < STOPS.length - 1 && STOPS[s][0] < t) s++;
    const a = STOPS[s - 1], b = STOPS[s];
    const f = (t - a[0]) / (b[0] - a[0]);
    const r = Math.round(a[1] + (b[1] - a[1]) * f);
    const g = Math.round(a[2] + (b[2] - a[2]) * f);
    const bl = Math.round(a[3] + (b[3] - a[3]) * f);
    out[k] = `rgb(${r},${g},${bl})`;
  }
  return out;
}

/**
 * Maps a size to a palette index.
 * @param size the cell size, `> 0`.
 * @param options the scale, the largest size in view, the palette size and,
 *   for the log scale, the decades shown.
 * @returns an index in `[0, paletteSize)`.
 * @example The largest size gets the hottest colour
 * ```ts
 * colorIndex(10, { scale: "linear", maxSize: 10, paletteSize: 32, logDecades: 3 }); // 31
 * ```
 */
export function colorIndex(
  size: number,
  options: {
    scale: HeatScale;
    maxSize: number;
    paletteSize: number;
    logDecades: number;
  },
): number {
  const { scale, maxSize, paletteSize, logDecades } = options;
  let t: number;
  if (scale === "log") {
    t = Math.log10(size / maxSize) / logDecades + 1;
  } else {
    t = size / maxSize;
  }
  const k = Math.floor(t * paletteSize);
  return k < 0 ? 0 : k >= paletteSize ? paletteSize - 1 : k;
}

/**
 * Creates the heatmap plugin. The heatmap is painted in the `drawClear` hook,
 * which uPlot fires right after clearing the canvas and before the grid and
 * series, so the best bid / ask lines stay visible on top of it. Trade
 * circles are painted in the `draw` hook, above everything.
 *
 * @param options where the columns come from and how to colour them.
 * @returns a uPlot plugin.
 * @throws {RangeError} if `paletteSize` is below 2.
 * @example Paint the columns of a ring
 * ```ts
 * const ring = new ColumnRing(600);
 * new uPlot({ ...opts, plugins: [heatmapPlugin({ columns: () => ring })] }, data, el);
 * ```
 */
export function heatmapPlugin(options: HeatmapPluginOptions): uPlot.Plugin {
  const getColumns = options.columns;
  const getScale = options.scale ?? (() => "log");
  const getTrades = options.trades ?? (() => true);
  const tickS = (options.tickMs ?? 1000) / 1000;
  const paletteSize = options.paletteSize ?? 32;
  const logDecades = options.logDecades ?? 3;
  const maxTradeRadius = options.maxTradeRadius ?? 6;
  const onDraw = options.onDraw;
  const palette = buildPalette(paletteSize);

  // Cells of the current draw: x, y, w, h, size. Reused across draws and
  // grown by doubling, so the hot loop allocates nothing.
  let cells = new Float64Array(5 * 4096);
  let nCells = 0;
  // Trade marks: x, y, volume, side (1 buy, -1 sell).
  let marks = new Float64Array(4 * 1024);
  let nMarks = 0;
  let maxTrade = 0;
  const stats: HeatmapDrawStats = {
    columns: 0,
    cells: 0,
    rects: 0,
    maxSize: 0,
    ms: 0,
  };

  function pushCell(
    x: number,
    y: number,
    w: number,
    h: number,
    v: number,
  ): void {
    let o = nCells * 5;
    if (o + 5 > cells.length) {
      const grown = new Float64Array(cells.length * 2);
      grown.set(cells);
      cells = grown;
    }
    cells[o++] = x;
    cells[o++] = y;
    cells[o++] = w;
    cells[o++] = h;
    cells[o] = v;
    nCells++;
  }

  function pushMark(x: number, y: number, v: number, side: number): void {
    let o = nMarks * 4;
    if (o + 4 > marks.length) {
      const grown = new Float64Array(marks.length * 2);
      grown.set(marks);
      marks = grown;
    }
    marks[o++] = x;
    marks[o++] = y;
    marks[o++] = v;
    marks[o] = side;
    nMarks++;
    if (v > maxTrade) maxTrade = v;
  }

  function drawHeatmap(u: uPlot): void {
    nCells = 0;
    nMarks = 0;
    maxTrade = 0;
    stats.columns = 0;
    stats.cells = 0;
    stats.rects = 0;
    stats.maxSize = 0;
    const started = performance.now();
    const src = getColumns();
    const n = src.length;
    const xMin = u.scales.x.min, xMax = u.scales.x.max;
    const yMin = u.scales.y.min, yMax = u.scales.y.max;
    if (
      n === 0 || xMin == null || xMax == null || yMin == null || yMax == null ||
      xMax <= xMin || yMax <= yMin
    ) {
      onDraw?.(stats);
      return;
    }
    const { left, top, width, height } = u.bbox;
    const right = left + width;
    const pxPerS = width / (xMax - xMin);
    const pxPerPrice = height / (yMax - yMin);
    const withTrades = getTrades();
    let maxSize = 0;

    for (let c = 0; c < n; c++) {
      const col = src.at(c);
      const t0 = col.ts / 1000;
      let t1 = c + 1 < n ? src.at(c + 1).ts / 1000 : t0 + tickS;
      // A column stands for one tick; across a gap in the stream leave the
      // rest empty instead of stretching stale liquidity.
      if (t1 - t0 > 2 * tickS) t1 = t0 + tickS;
      if (t1 <= xMin || t0 >= xMax) continue;
      let x0 = Math.round(left + (t0 - xMin) * pxPerS);
      let x1 = Math.round(left + (t1 - xMin) * pxPerS);
      if (x0 < left) x0 = left;
      if (x1 > right) x1 = right;
      if (x1 <= x0) x1 = x0 + 1;
      const w = x1 - x0;
      stats.columns++;

      const bs = col.bucketSize, lo = col.lo;
      const bids = col.bids, asks = col.asks;
      const nb = bids.length;
      let iStart = Math.floor(yMin / bs) - lo;
      let iEnd = Math.ceil(yMax / bs) - lo;
      if (iStart < 0) iStart = 0;
      if (iEnd > nb) iEnd = nb;
      if (iStart >= iEnd) continue;

      // Walk buckets upwards, merging those that share a pixel row.
      let yBot = Math.round(top + (yMax - (lo + iStart) * bs) * pxPerPrice);
      let acc = 0;
      for (let i = iStart; i < iEnd; i++) {
        acc += bids[i] + asks[i];
        const yTop = Math.round(top + (yMax - (lo + i + 1) * bs) * pxPerPrice);
        if (yBot - yTop >= 1) {
          if (acc > 0) {
            pushCell(x0, yTop, w, yBot - yTop, acc);
            if (acc > maxSize) maxSize = acc;
          }
          yBot = yTop;
          acc = 0;
        }
      }
      if (acc > 0) {
        pushCell(x0, yBot - 1, w, 1, acc);
        if (acc > maxSize) maxSize = acc;
      }

      if (withTrades) {
        const buys = col.buys, sells = col.sells;
        const xc = (x0 + x1) / 2;
        const nt = buys.length < nb ? buys.length : nb;
        for (let i = iStart; i < iEnd && i < nt; i++) {
          const b = buys[i], s = sells[i];
          if (b > 0 || s > 0) {
            const yc = top + (yMax - (lo + i + 0.5) * bs) * pxPerPrice;
            if (b > 0) pushMark(xc, yc, b, 1);
            if (s > 0) pushMark(xc, yc, s, -1);
          }
        }
      }
    }

    stats.cells = nCells;
    stats.maxSize = maxSize;
    if (nCells > 0) {
      const scale = getScale();
      const paths: Path2D[] = new Array(paletteSize);
      for (let k = 0; k < paletteSize; k++) paths[k] = new Path2D();
      const used = new Uint8Array(paletteSize);
      const cfg = { scale, maxSize, paletteSize, logDecades };
      // Cells of one column come bottom-up; a run of touching cells with the
      // same colour becomes one rect.
      let rects = 0;
      let rx = 0, ry = 0, rw = 0, rh = 0, rk = -1;
      for (let j = 0; j < nCells; j++) {
        const o = j * 5;
        const x = cells[o],
          y = cells[o + 1],
          w = cells[o + 2],
          h = cells[o + 3];
        const k = colorIndex(cells[o + 4], cfg);
        if (k === rk && x === rx && y + h === ry) {
          ry = y;
          rh += h;
          continue;
        }
        if (rk >= 0) {
          paths[rk].rect(rx, ry, rw, rh);
          used[rk] = 1;
          rects++;
        }
        rx = x;
        ry = y;
        rw = w;
        rh = h;
        rk = k;
      }
      paths[rk].rect(rx, ry, rw, rh);
      used[rk] = 1;
      stats.rects = rects + 1;
      const ctx = u.ctx;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      for (let k = 0; k < paletteSize; k++) {
        if (used[k] === 0) continue;
        ctx.fillStyle = palette[k];
        ctx.fill(paths[k]);
      }
      ctx.restore();
    }
    stats.ms = performance.now() - started;
    onDraw?.(stats);
  }

  function drawTrades(u: uPlot): void {
    if (nMarks === 0 || maxTrade <= 0 || !getTrades()) return;
    const rMax = maxTradeRadius * devicePixelRatio;
    const rMin = 1.5 * devicePixelRatio;
    const buys = new Path2D(), sells = new Path2D();
    for (let j = 0; j < nMarks; j++) {
      const o = j * 4;
      const x = marks[o], y = marks[o + 1];
      let r = rMax * Math.sqrt(marks[o + 2] / maxTrade);
      if (r < rMin) r = rMin;
      const p = marks[o + 3] > 0 ? buys : sells;
      p.moveTo(x + r, y);
      p.arc(x, y, r, 0, 2 * Math.PI);
    }
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.lineWidth = devicePixelRatio;
    ctx.strokeStyle = "rgba(0,0,0,0.6)";
    ctx.fillStyle = "rgba(46,204,113,0.8)";
    ctx.fill(buys);
    ctx.stroke(buys);
    ctx.fillStyle = "rgba(255,77,77,0.8)";
    ctx.fill(sells);
    ctx.stroke(sells);
    ctx.restore();
  }

  return { hooks: { drawClear: drawHeatmap, draw: drawTrades } };
}
