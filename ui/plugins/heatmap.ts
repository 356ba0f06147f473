/**
 * uPlot plugin that paints the order-book heatmap behind everything else on
 * the chart (trades, BBO lines and the depth profile are overlays of
 * `ui/overlays.ts`).
 *
 * The cells live on a retained layer: an offscreen canvas with one texel
 * line per stored column and one texel per drawn cell of price (`k` stored
 * buckets summed, the view-time bucket multiple), stored transposed so a
 * column is contiguous. Each frame blits the layer onto the plot with
 * `drawImage` under a transposing transform, placed through `u.valToPos`,
 * one blit per run of evenly spaced columns. A new column costs one texel
 * line (merge, colour, `putImageData` of that one line); the layer is
 * rebuilt only when the view changes: the price rows in view, the bucket
 * multiple, the scale, the clip, the palettes, or columns that are not the
 * ones it holds (a seek, history prepended, a zoom that reaches back).
 *
 * Colour scale: the `clip` percentile (99th by default) of the non-empty
 * cells in view saturates the palette (`top`), so one giant order does not
 * wash out the rest; the log scale shows `logDecades` decades below it, the
 * linear scale runs from zero. `top` is exact after every full pass. Between
 * passes appended columns keep it while its rank among the cells in view
 * stays within a quarter of the clipped tail of the exact rank (tracked per
 * column in and out of view, exact counts); past that the layer is recoloured
 * with the exact value. With `clip` 1 that means: `top` is always the max.
 *
 * Anchors: uPlot `demos/latency-heatmap.html` (quantized palette); Bookmap's
 * retained heatmap texture (one texel column per time step).
 *
 * @module
 */

import type uPlot from "uplot";
import type { ColumnSource, HeatColumn } from "../columns.ts";

/** How resting size maps to colour. */
export type HeatScale = "log" | "linear";

/**
 * How sides are coloured: `combined` is one palette over bid + ask size;
 * `separate` colours a cell by its larger side, bids in greens, asks in
 * reds and oranges, both by the cell's total size.
 */
export type PaletteMode = "combined" | "separate";

/** One palette's identity: the combined one, or a side's. */
export type PaletteName = "combined" | "bids" | "asks";

/** What part of the book the last draw showed, for legends and tests. */
export interface HeatmapView {
  /** `ts` (ms) of the oldest column at least partly in view. */
  from: number;
  /** `ts` (ms) of the newest column at least partly in view. */
  to: number;
  /** Stored bucket width, price units. */
  bucketSize: number;
  /**
   * Stored buckets summed into one drawn cell: the requested multiple, or
   * more when the cells would be thinner than a device pixel.
   */
  bucketMultiple: number;
  /**
   * Lowest drawn cell row: row `g` sums the stored buckets of absolute index
   * `[g · bucketMultiple, (g + 1) · bucketMultiple)`, that is prices
   * `[g · bucketMultiple · bucketSize, (g + 1) · bucketMultiple · bucketSize)`.
   */
  rowLow: number;
  /** Highest drawn cell row, inclusive. */
  rowHigh: number;
}

/** What a draw did, for tests, legends and status lines. */
export interface HeatmapDrawStats {
  /** Columns at least partly inside the plot. */
  columns: number;
  /** Non-empty cells in view. */
  cells: number;
  /** Blits (`drawImage` calls) that put the layer on the plot. */
  rects: number;
  /**
   * Largest cell size in view, base units (exact after a full pass, raised
   * by appended columns between passes).
   */
  maxSize: number;
  /** The size that saturates the palette: the `clip` percentile, base units. */
  top: number;
  /**
   * The size at the cold end of the palette, base units: `top / 10^logDecades`
   * on the log scale (smaller cells get the coldest colour), 0 on the linear.
   */
  bottom: number;
  /** Time the whole draw took (layer work and blits), ms. */
  ms: number;
  /** Time the last incremental column draw took (merge, colour, put), ms. */
  appendMs: number;
  /** Whether this draw rebuilt or recoloured the whole layer. */
  full: boolean;
  /** The part of the book in view; null when nothing is drawn. */
  view: HeatmapView | null;
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
   * Fraction of the non-empty cells in view at or below the size that
   * saturates the palette, in `[0.5, 1]` (1: the largest cell), read at
   * every draw; values outside are clamped.
   * @default {() => 0.99}
   */
  clip?: () => number;
  /**
   * One palette over both sides, or bids and asks apart, read at every draw.
   * @default {() => "combined"}
   */
  palettes?: () => PaletteMode;
  /**
   * Stored buckets summed into one drawn cell (1, 2, 5, 10, …), read at every
   * draw; raised as needed to keep cells at least a device pixel tall.
   * @default {() => 1}
   */
  bucketMultiple?: () => number;
  /**
   * Tick width in ms: the width of a lone column, and the longest span a
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
   * Decades of size shown by the log scale below `top`; smaller cells get
   * the coldest colour.
   * @default {3}
   */
  logDecades?: number;
  /** Called after each heatmap draw, with a fresh stats object each time. */
  onDraw?: (stats: HeatmapDrawStats) => void;
}

/** A colour stop: position in `[0, 1]`, then red, green, blue. */
type Stop = readonly [number, number, number, number];

/** Colour stops per palette, coldest first, each readable on a dark page. */
const STOPS: Readonly<Record<PaletteName, readonly Stop[]>> = {
  // Bookmap-like: dark blue → blue → cyan → yellow → white.
  combined: [
    [0.0, 13, 27, 76],
    [0.25, 31, 79, 181],
    [0.5, 24, 178, 201],
    [0.7, 143, 220, 90],
    [0.85, 255, 210, 63],
    [1.0, 255, 255, 255],
  ],
  // Bids: deep green → green → spring green → pale lime → white.
  bids: [
    [0.0, 10, 52, 34],
    [0.3, 22, 120, 64],
    [0.6, 46, 204, 113],
    [0.85, 190, 245, 140],
    [1.0, 250, 255, 235],
  ],
  // Asks: deep red → red → orange → yellow → white.
  asks: [
    [0.0, 70, 14, 20],
    [0.3, 168, 32, 40],
    [0.6, 255, 90, 60],
    [0.85, 255, 178, 60],
    [1.0, 255, 250, 220],
  ],
};

/** A palette as CSS colours and as packed RGB bytes. */
export interface HeatPalette {
  /** Which palette. */
  name: PaletteName;
  /** CSS colours, coldest first. */
  css: string[];
  /** The same colours as `r, g, b` bytes, three per colour. */
  rgb: Uint8Array;
}

/**
 * Builds a palette by interpolating its colour stops.
 * @param size number of colours.
 * @param name which palette.
 * @returns `size` CSS colours, coldest first.
 * @throws {RangeError} if `size` is not an integer of at least 2.
 * @example A 4-colour palette
 * ```ts
 * buildPalette(4); // ["rgb(13,27,76)", …, "rgb(255,255,255)"]
 * buildPalette(4, "asks"); // ["rgb(70,14,20)", …]
 * ```
 */
export function buildPalette(
  size: number,
  name: PaletteName = "combined",
): string[] {
  const rgb = paletteRgb(size, name);
  const out: string[] = new Array(size);
  for (let k = 0; k < size; k++) {
    out[k] = `rgb(${rgb[3 * k]},${rgb[3 * k + 1]},${rgb[3 * k + 2]})`;
  }
  return out;
}

/**
 * The palettes a mode paints with: one for `combined`, bids then asks for
 * `separate`.
 * @param mode the palette mode.
 * @param size colours per palette.
 * @returns the palettes.
 * @throws {RangeError} if `size` is not an integer of at least 2.
 * @example Separate palettes
 * ```ts
 * buildPalettes("separate", 32).map((p) => p.name); // ["bids", "asks"]
 * ```
 */
export function buildPalettes(mode: PaletteMode, size: number): HeatPalette[] {
  const names: PaletteName[] = mode === "separate"
    ? ["bids", "asks"]
    : ["combined"];
  return names.map((name) => ({
    name,
    css: buildPalette(size, name),
    rgb: paletteRgb(size, name),
  }));
}

function paletteRgb(size: number, name: PaletteName): Uint8Array {
  if (!Number.isInteger(size) || size < 2) {
    throw new RangeError(
      `Palette size must be an integer of at least 2, got ${size}`,
    );
  }
  const stops = STOPS[name];
  const out = new Uint8Array(3 * size);
  for (let k = 0; k < size; k++) {
    const t = k / (size - 1);
    let s = 1;
    while (s < stops.length - 1 && stops[s][0] < t) s++;
    const a = stops[s - 1], b = stops[s];
    const f = (t - a[0]) / (b[0] - a[0]);
    for (let c = 1; c <= 3; c++) {
      out[3 * k + c - 1] = Math.round(a[c] + (b[c] - a[c]) * f);
    }
  }
  return out;
}

/**
 * The size at the cold end of the palette.
 * @param top the size that saturates the palette.
 * @param options the scale and, for the log scale, the decades shown.
 * @returns `top / 10^logDecades` on the log scale, 0 on the linear.
 * @example Three decades below 500
 * ```ts
 * scaleBottom(500, { scale: "log", logDecades: 3 }); // 0.5
 * ```
 */
export function scaleBottom(
  top: number,
  options: { scale: HeatScale; logDecades: number },
): number {
  return options.scale === "log" ? top / 10 ** options.logDecades : 0;
}

/**
 * Maps a size to a palette index: `[bottom, top]` spread over the palette,
 * in log or linear steps.
 * @param size the cell size, `> 0`.
 * @param options the scale, the sizes at the palette's ends and its size.
 * @returns an index in `[0, paletteSize)`.
 * @example The top size gets the hottest colour
 * ```ts
 * colorIndex(10, { scale: "linear", top: 10, bottom: 0, paletteSize: 32 }); // 31
 * ```
 */
export function colorIndex(
  size: number,
  options: {
    scale: HeatScale;
    top: number;
    bottom: number;
    paletteSize: number;
  },
): number {
  const { scale, top, bottom, paletteSize } = options;
  let t: number;
  if (!(top > bottom)) t = 1;
  else if (scale === "log") {
    t = Math.log(size / bottom) / Math.log(top / bottom);
  } else {
    t = (size - bottom) / (top - bottom);
  }
  const k = Math.floor(t * paletteSize);
  return k < 0 ? 0 : k >= paletteSize ? paletteSize - 1 : k;
}

/** Histogram of the top 16 bits of doubles, reused by {@linkcode sizePercentile}. */
const HIST = new Uint32Array(65536);
/** The values of one histogram band, reused by {@linkcode sizePercentile}. */
let band = new Float64Array(1024);
/** Whether the platform stores a double's high word second. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The positive sizes of a set of cells, summed up. */
export interface SizeSummary {
  /** How many sizes are positive (the non-empty cells). */
  count: number;
  /** The largest size, 0 when none is positive. */
  max: number;
  /**
   * The `q` percentile of the positive sizes, nearest rank: the
   * `ceil(q · count)`-th smallest; 0 when none is positive.
   */
  value: number;
}

/** Options for {@linkcode sizePercentile}. */
export interface SizePercentileOptions {
  /**
   * Index ranges `[start, end)` of `sizes` to read.
   * @default {[[0, sizes.length]]}
   */
  ranges?: readonly (readonly [number, number])[];
}

/**
 * The percentile of the non-empty cells: the positive sizes among the
 * ranges read (zero, negative and NaN sizes are skipped). Reads `sizes`
 * without reordering or copying them: a histogram of their top 16 bits
 * (which order positive doubles) finds the narrow band holding the rank,
 * and quickselect runs on that band's values only.
 * @param sizes cell sizes.
 * @param q the fraction, in `[0, 1]`.
 * @param options which ranges of `sizes` to read.
 * @returns the count, the max and the percentile of the positive sizes.
 * @throws {RangeError} if `q` is outside `[0, 1]` or a range exceeds `sizes`.
 * @example The 99th percentile of 1…100 and a few empty cells
 * ```ts
 * const v = Float64Array.from({ length: 110 }, (_, i) => Math.max(0, 100 - i));
 * sizePercentile(v, 0.99); // { count: 100, max: 100, value: 99 }
 * ```
 */
export function sizePercentile(
  sizes: Float64Array,
  q: number,
  options: SizePercentileOptions = {},
): SizeSummary {
  if (!(q >= 0 && q <= 1)) {
    throw new RangeError(`Percentile fraction must be in [0, 1], got ${q}`);
  }
  const ranges = options.ranges ?? [[0, sizes.length]];
  for (const [start, end] of ranges) {
    if (!(start >= 0 && end <= sizes.length && start <= end)) {
      throw new RangeError(
        `Range [${start}, ${end}) exceeds the ${sizes.length} sizes given`,
      );
    }
  }
  const guess = sampledPercentile(sizes, q, ranges);
  if (guess) return guess;
  // A big-endian platform's words do not order doubles: one band for all.
  const words = LITTLE_ENDIAN
    ? new Uint32Array(sizes.buffer, sizes.byteOffset, 2 * sizes.length)
    : null;
  const hist = HIST;
  hist.fill(0);
  let count = 0, max = 0;
  for (const [start, end] of ranges) {
    for (let i = start; i < end; i++) {
      const v = sizes[i];
      if (v > 0) {
        count++;
        if (v > max) max = v;
        if (words) hist[words[2 * i + 1] >>> 16]++;
      }
    }
  }
  if (count === 0) return { count, max, value: 0 };
  const k = Math.max(1, Math.ceil(q * count)) - 1;
  if (k === count - 1) return { count, max, value: max };
  let b = 0, below = 0;
  if (words) { while (below + hist[b] <= k) below += hist[b++]; }
  const size = words ? hist[b] : count;
  if (band.length < size) band = new Float64Array(2 * size);
  const out = band;
  let j = 0;
  for (const [start, end] of ranges) {
    for (let i = start; i < end; i++) {
      const v = sizes[i];
      if (v > 0 && (!words || words[2 * i + 1] >>> 16 === b)) out[j++] = v;
    }
  }
  return { count, max, value: selectKth(out, j, k - below) };
}

/** Sizes read before {@linkcode sampledPercentile} samples. */
const SAMPLE_FROM = 16_384;
/** Values a sample aims at. */
const SAMPLE = 4096;
const sample = new Float64Array(2 * SAMPLE);

/**
 * {@linkcode sizePercentile} in one pass for many sizes: a strided sample
 * brackets the rank, one pass counts the sizes below the bracket and keeps
 * those inside it, and quickselect runs on those. Null when the sizes are
 * few or the bracket missed the rank (the caller's exact path then runs).
 */
function sampledPercentile(
  sizes: Float64Array,
  q: number,
  ranges: readonly (readonly [number, number])[],
): SizeSummary | null {
  let len = 0;
  for (const [start, end] of ranges) len += end - start;
  if (len < SAMPLE_FROM) return null;
  const stride = Math.floor(len / SAMPLE);
  let m = 0;
  for (const [start, end] of ranges) {
    for (let i = start; i < end; i += stride) {
      const v = sizes[i];
      if (v > 0 && m < sample.length) sample[m++] = v;
    }
  }
  if (m < 64) return null;
  const sorted = sample.subarray(0, m).sort();
  // A bracket of three standard errors of the sampled rank, and then some.
  const spread = 3 * Math.sqrt(q * (1 - q) / m) + 2 / m;
  const lo = sorted[Math.max(0, Math.floor((q - spread) * m) - 1)];
  const hi = q + spread >= 1 ? Infinity : sorted[Math.ceil((q + spread) * m)];
  const cap = Math.max(4096, (len >> 4) + 1);
  if (band.length < cap) band = new Float64Array(cap);
  const out = band;
  let count = 0, max = 0, below = 0, j = 0;
  for (const [start, end] of ranges) {
    for (let i = start; i < end; i++) {
      const v = sizes[i];
      if (v > 0) {
        count++;
        if (v > max) max = v;
        if (v < lo) below++;
        else if (v <= hi) {
          if (j === cap) return null;
          out[j++] = v;
        }
      }
    }
  }
  const k = Math.max(1, Math.ceil(q * count)) - 1;
  if (k < below || k >= below + j) return null;
  return { count, max, value: selectKth(out, j, k - below) };
}

/**
 * The `k`-th smallest (from 0) of the first `count` values, by quickselect
 * (median-of-three pivots, Hoare partitions); reorders them in place.
 */
function selectKth(values: Float64Array, count: number, k: number): number {
  let hi = count - 1;
  let lo = 0;
  while (hi > lo) {
    // Median of three as the pivot, then a Hoare partition.
    const mid = (lo + hi) >>> 1;
    const a = values[lo], b = values[mid], c = values[hi];
    const pivot = a < b
      ? (b < c ? b : a < c ? c : a)
      : (a < c ? a : b < c ? c : b);
    let i = lo, j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k];
}

/** The drawn rows of a column: which cells, of how many stored buckets. */
export interface CellGrid {
  /** Stored buckets summed into one cell. */
  bucketMultiple: number;
  /** The lowest cell row (see {@linkcode HeatmapView.rowLow}). */
  rowLow: number;
  /** Number of cell rows. */
  rows: number;
}

/** Where {@linkcode mergeColumn} writes. */
export interface CellOut {
  /** Cell sizes, bids + asks. */
  total: Float64Array;
  /** 1 where the bids are at least the asks, else 0. */
  side: Uint8Array;
  /** Index of row `rowLow`. */
  offset: number;
  /** Index step from one row to the next one up (negative for top-down). */
  stride: number;
}

/**
 * Sums a column's stored buckets into cells of `bucketMultiple` buckets,
 * aligned on the absolute bucket grid (so a cell holds the same prices in
 * every column), for the rows of `grid`; rows the column does not reach are
 * written empty. Buckets are added in price order, `bids[i] + asks[i]` each.
 * @param col the column.
 * @param grid the rows to fill.
 * @param out where to write.
 * @returns the number of non-empty cells written.
 * @example Two buckets per cell
 * ```ts
 * const out = { total: new Float64Array(2), side: new Uint8Array(2), offset: 0, stride: 1 };
 * mergeColumn(col, { bucketMultiple: 2, rowLow: 50, rows: 2 }, out);
 * ```
 */
export function mergeColumn(
  col: HeatColumn,
  grid: CellGrid,
  out: CellOut,
): number {
  const { bucketMultiple: m, rowLow, rows } = grid;
  const { total, side, offset, stride } = out;
  const bids = col.bids, asks = col.asks, lo = col.lo;
  const nb = bids.length;
  let nonEmpty = 0;
  if (m === 1) {
    // One bucket per cell: the same sums as below, without the inner loop.
    for (let r = 0, i = rowLow - lo; r < rows; r++, i++) {
      const o = offset + r * stride;
      if (i < 0 || i >= nb) {
        total[o] = 0;
        side[o] = 1;
        continue;
      }
      const bi = bids[i], ai = asks[i];
      const v = 0 + (bi + ai);
      total[o] = v;
      side[o] = bi >= ai ? 1 : 0;
      if (v > 0) nonEmpty++;
    }
    return nonEmpty;
  }
  for (let r = 0; r < rows; r++) {
    let i = (rowLow + r) * m - lo;
    let iEnd = i + m;
    if (i < 0) i = 0;
    if (iEnd > nb) iEnd = nb;
    let acc = 0, b = 0, a = 0;
    for (; i < iEnd; i++) {
      acc += bids[i] + asks[i];
      b += bids[i];
      a += asks[i];
    }
    const o = offset + r * stride;
    total[o] = acc;
    side[o] = b >= a ? 1 : 0;
    if (acc > 0) nonEmpty++;
  }
  return nonEmpty;
}

/** A canvas the layer can live on. */
type LayerCanvas = OffscreenCanvas | HTMLCanvasElement;

function makeCanvas(w: number, h: number): LayerCanvas {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(w, h);
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  return c;
}

/** A colour-table entry not computed yet. */
const LUT_UNKNOWN = 254;
/** A colour-table entry whose band holds a colour boundary. */
const LUT_SPLIT = 253;
const bandBits = new Float64Array(2);
const bandWords = new Uint32Array(bandBits.buffer);

/**
 * The palette index shared by every double whose top 20 bits are `band`
 * (little-endian), or {@linkcode LUT_SPLIT} when they do not share one.
 */
function bandColour(
  band: number,
  cfg: { scale: HeatScale; top: number; bottom: number; paletteSize: number },
): number {
  if (!LITTLE_ENDIAN) return LUT_SPLIT;
  bandWords[0] = 0;
  bandWords[1] = band << 12;
  bandWords[2] = 0xffffffff;
  bandWords[3] = (band << 12) | 0xfff;
  const lo = bandBits[0], hi = bandBits[1];
  if (!(lo > 0) || !Number.isFinite(hi)) return LUT_SPLIT;
  const k = colorIndex(lo, cfg);
  return k === colorIndex(hi, cfg) ? k : LUT_SPLIT;
}

/** Share of the clipped tail the drawn `top`'s rank may drift before a recolour. */
const RANK_SLACK = 0.25;

/**
 * Creates the heatmap plugin. The heatmap is painted in the `drawClear` hook,
 * which uPlot fires right after clearing the canvas and before the grid,
 * series and other plugins' `draw` hooks, so everything else stays on top.
 *
 * @param options where the columns come from and how to colour them.
 * @returns a uPlot plugin.
 * @throws {RangeError} if `paletteSize` is below 2 or above 253.
 * @example Paint the columns of a ring, bids and asks apart
 * ```ts
 * const ring = new ColumnRing(600);
 * const plugin = heatmapPlugin({ columns: () => ring, palettes: () => "separate" });
 * new uPlot({ ...opts, plugins: [plugin] }, data, el);
 * ```
 */
export function heatmapPlugin(options: HeatmapPluginOptions): uPlot.Plugin {
  const getColumns = options.columns;
  const getScale = options.scale ?? (() => "log");
  const getClip = options.clip ?? (() => 0.99);
  const getPalettes = options.palettes ?? (() => "combined");
  const getMultiple = options.bucketMultiple ?? (() => 1);
  const tickMs = options.tickMs ?? 1000;
  const paletteSize = options.paletteSize ?? 32;
  const logDecades = options.logDecades ?? 3;
  const onDraw = options.onDraw;
  if (paletteSize > LUT_SPLIT) {
    throw new RangeError(
      `Palette size must be at most ${LUT_SPLIT}, got ${paletteSize}`,
    );
  }
  // Palettes as RGBA texels, one 32-bit write per cell.
  const packed = (mode: PaletteMode) =>
    buildPalettes(mode, paletteSize).map((p) => {
      const out = new Uint32Array(paletteSize);
      const bytes = new Uint8Array(out.buffer);
      for (let k = 0; k < paletteSize; k++) {
        bytes.set(p.rgb.subarray(3 * k, 3 * k + 3), 4 * k);
        bytes[4 * k + 3] = 255;
      }
      return out;
    });
  const rgbOf: Record<PaletteMode, Uint32Array[]> = {
    combined: packed("combined"),
    separate: packed("separate"),
  };

  // The layer: W slots (a ring over the column sequence) of H cells each,
  // highest price first. It is stored transposed, one texel row per slot,
  // so that a column is contiguous in every array and in the image, and
  // blitted with a transposing transform. Index of (cell row r from the
  // bottom, slot s): s * H + H - 1 - r.
  let W = 0, H = 0;
  let total = new Float64Array(0);
  // The same cells as 32-bit words: a value's high word is at 2 · i + 1.
  let words = new Uint32Array(0);
  // Palette index per band of 20 top bits, for the scale in force.
  const lut = new Uint8Array(1 << 20);
  let lutFor = NaN;
  let lutScale: HeatScale = "log";
  let side = new Uint8Array(0);
  let slotCol: (HeatColumn | undefined)[] = [];
  let image: ImageData | null = null;
  let px32 = new Uint32Array(0);
  let canvas: LayerCanvas | null = null;
  let lctx:
    | OffscreenCanvasRenderingContext2D
    | CanvasRenderingContext2D
    | null = null;
  // What the layer holds: `count` columns written since the rebuild (the
  // newest in slot (count - 1) % W), the newest's ts and object.
  let count = 0;
  let lastTs = -Infinity;
  let lastCol: HeatColumn | null = null;
  let key = "";
  let grid: CellGrid = { bucketMultiple: 1, rowLow: 0, rows: 0 };
  let bucketSize = 0;
  // Colouring in force and the counts that keep `top` honest: over the
  // visible sequence range [vA, vB], non-empty cells, cells ≤ top, < top.
  let scale: HeatScale = "log";
  let clip = 0.99;
  let pal: Uint32Array[] = rgbOf.combined;
  let top = 0, bottom = 0, maxSize = 0;
  let vA = 0, vB = -1;
  let nCells = 0, nLe = 0, nLt = 0;
  const out: CellOut = { total, side, offset: 0, stride: 0 };

  const stats: HeatmapDrawStats = {
    columns: 0,
    cells: 0,
    rects: 0,
    maxSize: 0,
    top: 0,
    bottom: 0,
    ms: 0,
    appendMs: 0,
    full: false,
    view: null,
  };

  /** End of a column's span, ms. */
  function spanEnd(src: ColumnSource, c: number, n: number): number {
    const t0 = src.at(c).ts;
    if (c + 1 < n) {
      const t1 = src.at(c + 1).ts;
      // Across a gap in the stream the rest stays empty instead of
      // stretching stale liquidity.
      if (t1 - t0 <= 2 * tickMs) return t1;
    }
    return t0 + tickMs;
  }

  function writeSlot(seq: number, col: HeatColumn): void {
    const s = seq % W;
    slotCol[s] = col;
    out.offset = s * H + H - 1;
    if (col.bucketSize !== bucketSize) {
      // Another grid (the bucket size changed): the column stays empty.
      total.fill(0, s * H, s * H + H);
      return;
    }
    mergeColumn(col, grid, out);
  }

  /** Adds (`sign` 1) or removes (-1) a slot's cells from the counts. */
  function countSlot(seq: number, sign: number): void {
    const s = seq % W;
    for (let o = s * H, end = o + H; o < end; o++) {
      const v = total[o];
      if (v > 0) {
        nCells += sign;
        if (v <= top) {
          nLe += sign;
          if (v < top) nLt += sign;
        }
        if (sign > 0 && v > maxSize) maxSize = v;
      }
    }
  }

  /**
   * Colours the slots of sequence range [a, b]; with `recount`, counts
   * their cells against `top` afresh on the way.
   */
  function colourSlots(a: number, b: number, recount: boolean): void {
    if (lutFor !== top || lutScale !== scale) {
      // New colour scale: every band is unknown again.
      lut.fill(LUT_UNKNOWN);
      lutFor = top;
      lutScale = scale;
    }
    const cfg = { scale, top, bottom, paletteSize };
    const p0 = pal[0], p1 = pal.length > 1 ? pal[1] : pal[0];
    const t0 = top;
    // Locals, not the closure's variables: the loop then keeps them in
    // registers across the calls it may make.
    const tot = total, wd = words, sd = side, px = px32, table = lut;
    const w = W, h = H;
    let n = 0, le = 0, lt = 0;
    for (let seq = a; seq <= b; seq++) {
      const s = seq % w;
      for (let o = s * h, end = o + h; o < end; o++) {
        const v = tot[o];
        if (!(v > 0)) {
          px[o] = 0;
          continue;
        }
        if (recount) {
          n++;
          if (v <= t0) {
            le++;
            if (v < t0) lt++;
          }
        }
        // The band of the value's top 20 bits gives its colour, unless a
        // colour boundary falls inside the band.
        const band = wd[2 * o + 1] >>> 12;
        let k = table[band];
        if (k >= LUT_SPLIT) {
          if (k === LUT_UNKNOWN) k = table[band] = bandColour(band, cfg);
          if (k === LUT_SPLIT) k = colorIndex(v, cfg);
        }
        // Separate palettes: bids (side 1) in the first, asks in the second.
        px[o] = sd[o] === 1 ? p0[k] : p1[k];
      }
    }
    if (recount) {
      nCells = n;
      nLe = le;
      nLt = lt;
    }
  }

  /** Exact top, bottom and max over the visible slots. */
  function measure(): void {
    // The visible slots are one run of the slot ring, wrapping at most once.
    const s0 = vA % W, s1 = vB % W;
    const ranges: [number, number][] = s0 <= s1
      ? [[s0 * H, (s1 + 1) * H]]
      : [[s0 * H, W * H], [0, (s1 + 1) * H]];
    const r = sizePercentile(total, clip, { ranges });
    maxSize = r.max;
    top = r.value;
    bottom = scaleBottom(top, { scale, logDecades });
  }

  /** Whether the drawn top still ranks near the exact percentile. */
  function topHolds(): boolean {
    if (nCells === 0) return top === 0;
    const rank = Math.max(1, Math.ceil(clip * nCells));
    const slack = Math.floor(RANK_SLACK * (nCells - rank));
    return nLt < rank + slack && nLe >= rank - slack;
  }

  /** Colours and counts every visible slot, and puts the whole layer. */
  function recolourAll(): void {
    colourSlots(vA, vB, true);
    lctx!.putImageData(image!, 0, 0);
  }

  /** Puts the slots of sequence range [a, b] on the layer canvas. */
  function putSlots(a: number, b: number): void {
    if (b - a + 1 >= W) {
      lctx!.putImageData(image!, 0, 0);
      return;
    }
    const sa = a % W, sb = b % W;
    if (sa <= sb) lctx!.putImageData(image!, 0, 0, 0, sa, H, sb - sa + 1);
    else {
      lctx!.putImageData(image!, 0, 0, 0, sa, H, W - sa);
      lctx!.putImageData(image!, 0, 0, 0, 0, H, sb + 1);
    }
  }

  function rebuild(
    src: ColumnSource,
    cFirst: number,
    cLast: number,
    width: number,
  ): void {
    const rows = grid.rows;
    if (width !== W || rows !== H || !canvas) {
      W = width;
      H = rows;
      total = new Float64Array(W * H);
      words = new Uint32Array(total.buffer);
      side = new Uint8Array(W * H);
      slotCol = new Array(W);
      image = new ImageData(H, W);
      px32 = new Uint32Array(image.data.buffer);
      canvas = makeCanvas(H, W);
      lctx = canvas.getContext("2d") as typeof lctx;
    }
    out.total = total;
    out.side = side;
    out.stride = -1;
    // The columns from the first in view to the newest get sequence numbers
    // 0, 1, …; the ones in view are counted and coloured.
    const n = src.length;
    count = 0;
    for (let c = cFirst; c < n; c++) writeSlot(count++, src.at(c));
    lastCol = src.at(n - 1);
    lastTs = lastCol.ts;
    vA = 0;
    vB = cLast - cFirst;
    measure();
    recolourAll();
  }

  /**
   * Takes appended or replaced columns and a moved view as one-column
   * changes: `"columns"` when it did, `"recoloured"` when `top` moved too far
   * and the layer was recoloured, `"rebuild"` when the layer does not hold
   * what is in view.
   */
  function update(
    src: ColumnSource,
    cFirst: number,
    cLast: number,
    fresh: number,
  ): "columns" | "recoloured" | "rebuild" {
    const n = src.length;
    const oldNewest = n - 1 - fresh; // the layer's newest, if it is held
    if (count === 0 || oldNewest < 0 || src.at(oldNewest).ts !== lastTs) {
      return "rebuild";
    }
    const after = count + fresh;
    const nA = after - 1 - (n - 1 - cFirst), nB = after - 1 - (n - 1 - cLast);
    if (nA < 0 || after - nA > W) return "rebuild";
    // The columns must be the ones written, not others with the same ts
    // (a ring refilled after a seek): checked at the oldest in view and
    // next to the newest (the only one the ring replaces in place).
    if (nA < count && slotCol[nA % W] !== src.at(cFirst)) return "rebuild";
    const before = oldNewest - 1, seqBefore = count - 2;
    if (
      before >= cFirst && seqBefore >= 0 &&
      slotCol[seqBefore % W] !== src.at(before)
    ) return "rebuild";
    const replaced = src.at(oldNewest) !== lastCol ? count - 1 : -1;
    if (fresh === 0 && replaced < 0 && nA === vA && nB === vB) {
      return "columns";
    }

    const started = performance.now();
    // Out of the counts: slots leaving the view, and the one rewritten.
    for (let seq = vA; seq <= vB; seq++) {
      if (seq < nA || seq > nB || seq === replaced) countSlot(seq, -1);
    }
    if (replaced >= 0) writeSlot(replaced, src.at(oldNewest));
    for (let c = oldNewest + 1; c < n; c++) writeSlot(count++, src.at(c));
    lastCol = src.at(n - 1);
    lastTs = lastCol.ts;
    // Into the counts: slots entering the view, and the one rewritten.
    let dirtyLo = Infinity, dirtyHi = -Infinity;
    for (let seq = nA; seq <= nB; seq++) {
      if (seq < vA || seq > vB || seq === replaced) {
        countSlot(seq, 1);
        if (seq < dirtyLo) dirtyLo = seq;
        dirtyHi = seq;
      }
    }
    vA = nA;
    vB = nB;
    if (!topHolds()) {
      measure();
      recolourAll();
      return "recoloured";
    }
    if (dirtyLo <= dirtyHi) colourSlots(dirtyLo, dirtyHi, false);
    if (dirtyLo <= dirtyHi) putSlots(dirtyLo, dirtyHi);
    stats.appendMs = performance.now() - started;
    return "columns";
  }

  function draw(u: uPlot): void {
    const started = performance.now();
    const src = getColumns();
    const n = src.length;
    const xMin = u.scales.x.min, xMax = u.scales.x.max;
    const yMin = u.scales.y.min, yMax = u.scales.y.max;
    const { left, top: bTop, width, height } = u.bbox;
    let cFirst = 0, cLast = n - 1;
    if (
      n > 0 && xMin != null && xMax != null && yMin != null && yMax != null &&
      xMax > xMin && yMax > yMin && width > 0 && height > 0
    ) {
      const x0 = xMin * 1000, x1 = xMax * 1000;
      while (cFirst < n && spanEnd(src, cFirst, n) <= x0) cFirst++;
      while (cLast >= cFirst && src.at(cLast).ts >= x1) cLast--;
    } else cLast = -1;
    if (cLast < cFirst) {
      count = 0;
      lastCol = null;
      lastTs = -Infinity;
      key = "";
      stats.columns = stats.cells = stats.rects = 0;
      stats.maxSize = stats.top = stats.bottom = 0;
      stats.full = false;
      stats.view = null;
      stats.ms = performance.now() - started;
      onDraw?.({ ...stats });
      return;
    }

    // The grid: cells of m buckets, at least a device pixel tall.
    const bs = src.at(cLast).bucketSize;
    const bLo = Math.floor(yMin! / bs), bHi = Math.ceil(yMax! / bs) - 1;
    let m = Math.max(1, Math.floor(getMultiple()));
    const need = Math.ceil((bHi - bLo + 1) / Math.floor(height));
    if (need > m) m = need;
    const rowLow = Math.floor(bLo / m), rowHigh = Math.floor(bHi / m);
    const sc = getScale();
    const c0 = getClip();
    const q = c0 >= 1 ? 1 : c0 > 0.5 ? c0 : 0.5;
    const mode = getPalettes();
    const nextKey = `${bs}|${m}|${rowLow}|${rowHigh}|${sc}|${q}|${mode}`;

    let fresh = 0; // newest columns the layer does not hold
    while (fresh < n && src.at(n - 1 - fresh).ts > lastTs) fresh++;
    const done = nextKey === key
      ? update(src, cFirst, cLast, fresh)
      : "rebuild";
    stats.full = done !== "columns";
    if (done === "rebuild") {
      key = nextKey;
      scale = sc;
      clip = q;
      pal = rgbOf[mode];
      bucketSize = bs;
      grid = { bucketMultiple: m, rowLow, rows: rowHigh - rowLow + 1 };
      let w = 64;
      while (w < n - cFirst + 64) w *= 2;
      rebuild(src, cFirst, cLast, w);
    }
    // Column i holds sequence number count - 1 - (n - 1 - i).
    const slotOf = (i: number) => (count - n + i) % W;

    // Blit runs of evenly spaced columns, each stretched over its span.
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, bTop, width, height);
    ctx.clip();
    ctx.imageSmoothingEnabled = false;
    const yT = u.valToPos((rowHigh + 1) * m * bs, "y", true);
    const yB = u.valToPos(rowLow * m * bs, "y", true);
    let blits = 0;
    let c = cFirst;
    while (c <= cLast) {
      // A run: the same spacing (within 1 %), no gap, no wrap of the slots.
      let e = c;
      const step = c < cLast ? src.at(c + 1).ts - src.at(c).ts : 0;
      while (e < cLast) {
        const d = src.at(e + 1).ts - src.at(e).ts;
        if (
          d > 2 * tickMs || Math.abs(d - step) > step * 0.01 ||
          slotOf(e + 1) === 0
        ) break;
        e++;
      }
      const te = src.at(e).ts;
      const endMs = e > c
        ? te + Math.min(step, spanEnd(src, e, n) - te)
        : spanEnd(src, e, n);
      const xa = u.valToPos(src.at(c).ts / 1000, "x", true);
      const xb = u.valToPos(endMs / 1000, "x", true);
      // The layer is transposed: texel x (cell, highest price first) runs
      // down the plot from yT, texel y (slot) across it from xa.
      ctx.setTransform(0, 1, 1, 0, xa, yT);
      ctx.drawImage(
        canvas!,
        0,
        slotOf(c),
        H,
        e - c + 1,
        0,
        0,
        yB - yT,
        Math.max(1, xb - xa),
      );
      blits++;
      c = e + 1;
    }
    ctx.restore();

    stats.columns = cLast - cFirst + 1;
    stats.cells = nCells;
    stats.rects = blits;
    stats.maxSize = maxSize;
    stats.top = top;
    stats.bottom = bottom;
    stats.view = {
      from: src.at(cFirst).ts,
      to: src.at(cLast).ts,
      bucketSize: bs,
      bucketMultiple: m,
      rowLow,
      rowHigh,
    };
    stats.ms = performance.now() - started;
    onDraw?.({ ...stats });
  }

  return { hooks: { drawClear: draw } };
}
