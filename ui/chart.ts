/**
 * The heatmap chart: a uPlot instance (time × price, best bid / ask lines)
 * with the heatmap plugin, fed from a ring of recent columns. Columns can be
 * pushed at any rate; the chart calls `setData` at most once per animation
 * frame.
 *
 * @module
 */

import uPlot from "uplot";
import { ColumnRing, type HeatColumn } from "./columns.ts";
import {
  type HeatmapDrawStats,
  heatmapPlugin,
  type HeatScale,
} from "./plugins/heatmap.ts";
import { formatTime, timeAxisLabels } from "./time.ts";

/** Display settings that can change while the chart runs. */
export interface ChartSettings {
  /** Colour scale of resting size. */
  scale: HeatScale;
  /** Whether trades are drawn as circles. */
  trades: boolean;
  /**
   * Price axis half-width around the mid range, as a fraction of mid
   * (`0.01` = ±1 %). `Infinity` shows every bucket with resting size.
   */
  zoom: number;
}

/** Summary handed to {@linkcode HeatmapChartOptions.onUpdate} after each `setData`. */
export interface ChartUpdate {
  /** Columns held. */
  columns: number;
  /** The newest column, `null` when empty. */
  last: HeatColumn | null;
}

/** Options for {@linkcode createHeatmapChart}. */
export interface HeatmapChartOptions {
  /**
   * Columns kept; older ones are dropped.
   * @default {600}
   */
  capacity?: number;
  /**
   * Tick width in ms.
   * @default {1000}
   */
  tickMs?: number;
  /**
   * Initial settings.
   * @default {{ scale: "log", trades: true, zoom: 0.01 }}
   */
  settings?: Partial<ChartSettings>;
  /**
   * Label times in UTC with the date on the first label and on each new day
   * (a replay: the recording's time), rather than in local time of day (live).
   * @default {false}
   */
  utc?: boolean;
  /**
   * Whether a chart that has held no column and was given no time
   * ({@linkcode HeatmapChart.setTime}) shows the last minute of the wall
   * clock (live); if not (a replay, whose time is the recording's), its time
   * axis stays unlabelled until a time is known.
   * @default {true}
   */
  wallClock?: boolean;
  /** Called after each `setData` (at most once per animation frame). */
  onUpdate?: (update: ChartUpdate) => void;
  /** Called after each heatmap draw. */
  onDraw?: (stats: HeatmapDrawStats) => void;
  /** Called with the time axis labels each time uPlot lays the axis out. */
  onTimeLabels?: (labels: string[]) => void;
}

/** A running heatmap chart. */
export interface HeatmapChart {
  /**
   * Adds a column; the chart redraws on the next animation frame.
   * @param col the column.
   */
  push(col: HeatColumn): void;
  /**
   * Drops every column (for a new symbol or exchange selection, or a replay
   * that seeked).
   * @param at the event time, ms, the empty chart's time axis ends at (a
   *   replay's seek target); default the end of the columns dropped.
   */
  clear(at?: number): void;
  /**
   * Sets the event time, ms, the time axis ends at while the chart has no
   * columns (a replay's position before its first column).
   * @param at ms since epoch.
   */
  setTime(at: number): void;
  /**
   * Changes display settings.
   * @param settings the settings to change.
   */
  configure(settings: Partial<ChartSettings>): void;
  /**
   * Resizes the chart.
   * @param width CSS pixels.
   * @param height CSS pixels.
   */
  resize(width: number, height: number): void;
  /** Removes the chart from the page and stops pending redraws. */
  destroy(): void;
}

/**
 * Time axis steps, seconds: whole seconds at the finest, as the labels show
 * at most `HH:MM:SS` (a chart of a few columns would otherwise get
 * sub-second steps whose labels repeat).
 */
const TIME_INCRS = [
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  10800,
  21600,
  43200,
  86400,
];

/**
 * The middle of a column's book: for a consolidated column the consensus mid
 * (its BBO may be crossed between venues, or come from one venue only),
 * else the mid of its BBO.
 * @param col the column.
 * @returns mid, else whichever best price is known, else `null`.
 */
function midOf(col: HeatColumn): number | null {
  const consensus = col.consolidation?.mid;
  if (consensus != null && Number.isFinite(consensus)) return consensus;
  if (col.mid != null) return col.mid;
  if (col.bestBid != null && col.bestAsk != null) {
    return (col.bestBid + col.bestAsk) / 2;
  }
  return col.bestBid ?? col.bestAsk;
}

/**
 * Decimals needed to print prices on a bucket grid.
 * @param bucketSize the bucket width.
 * @returns a digit count in `[0, 10]`.
 * @example Decimals of a bucket size
 * ```ts
 * priceDecimals(0.0001); // 4
 * priceDecimals(10); // 0
 * ```
 */
export function priceDecimals(bucketSize: number): number {
  if (!(bucketSize > 0)) return 2;
  const d = Math.ceil(-Math.log10(bucketSize) - 1e-9);
  return d < 0 ? 0 : d > 10 ? 10 : d;
}

/**
 * Creates a heatmap chart inside an element, sized to the element.
 * @param el the element to draw in; the chart appends its root to it.
 * @param options capacity, tick width, initial settings and callbacks.
 * @returns the chart.
 * @throws {RangeError} if `capacity` is not a positive integer.
 * @example Feed it from the heatmap stream
 * ```ts
 * const chart = createHeatmapChart(document.getElementById("chart")!);
 * source.addEventListener("column", (e) => chart.push(JSON.parse(e.data)));
 * ```
 */
export function createHeatmapChart(
  el: HTMLElement,
  options: HeatmapChartOptions = {},
): HeatmapChart {
  const tickMs = options.tickMs ?? 1000;
  const ring = new ColumnRing(options.capacity ?? 600);
  const settings: ChartSettings = {
    scale: "log",
    trades: true,
    zoom: 0.01,
    ...options.settings,
  };
  const utc = options.utc ?? false;
  const wallClock = options.wallClock ?? true;
  let decimals = 2;
  let frame = 0;
  // Where the time axis of an empty chart ends, event time ms: the end of the
  // last columns held or a time the caller set; null until either is known.
  let anchor: number | null = null;

  const readout = document.createElement("div");
  readout.className = "coby-readout";

  function xRange(): uPlot.Range.MinMax {
    const n = ring.length;
    if (n === 0) {
      // The x axis follows the data's time. Only a live view that has never
      // held a column has no time of its own yet: it waits at the wall clock.
      const end = (anchor ?? (wallClock ? Date.now() : 0)) / 1000;
      return [end - 60, end];
    }
    return [ring.at(0).ts / 1000, ring.at(n - 1).ts / 1000 + tickMs / 1000];
  }

  function yRange(
    _u: uPlot,
    dataMin: number,
    dataMax: number,
  ): uPlot.Range.MinMax {
    const n = ring.length;
    let lo = Infinity, hi = -Infinity, mLo = Infinity, mHi = -Infinity;
    for (let i = 0; i < n; i++) {
      const pl = ring.priceLow(i), ph = ring.priceHigh(i);
      if (pl < lo) lo = pl;
      if (ph > hi) hi = ph;
      const m = midOf(ring.at(i));
      if (m != null) {
        if (m < mLo) mLo = m;
        if (m > mHi) mHi = m;
      }
    }
    const z = settings.zoom;
    if (mLo <= mHi && Number.isFinite(z)) {
      const bLo = mLo * (1 - z), bHi = mHi * (1 + z);
      if (lo < bLo) lo = bLo;
      if (hi > bHi) hi = bHi;
      if (!(lo < hi)) {
        lo = bLo;
        hi = bHi;
      }
    }
    if (lo < hi) return [lo, hi];
    if (dataMin != null && dataMax != null && dataMin < dataMax) {
      return [dataMin, dataMax];
    }
    if (dataMin != null && Number.isFinite(dataMin)) {
      return [dataMin * 0.99, dataMin * 1.01];
    }
    return [0, 1];
  }

  const opts: uPlot.Options = {
    width: Math.max(100, el.clientWidth),
    height: Math.max(100, el.clientHeight),
    legend: { show: false },
    // The price axis is on the right; leave room on the left for the first
    // time label.
    padding: [12, null, null, 36],
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: true, range: xRange },
      y: { range: yRange },
    },
    series: [
      {},
      {
        label: "best bid",
        stroke: "#2ecc71",
        width: 1.5,
        points: { show: false },
      },
      {
        label: "best ask",
        stroke: "#ff4d4d",
        width: 1.5,
        points: { show: false },
      },
    ],
    axes: [
      {
        stroke: "#8b95a7",
        grid: { stroke: "rgba(255,255,255,0.06)", width: 1 },
        ticks: { stroke: "rgba(255,255,255,0.15)", width: 1 },
        incrs: TIME_INCRS,
        // Room for an `HH:MM:SS` label between ticks.
        space: 70,
        // The columns' event time: local time of day live (the columns cover
        // minutes, not days), UTC with the date in a replay.
        values: (_u, splits, _axis, _space, incr) => {
          if (ring.length === 0 && anchor === null && !wallClock) {
            return splits.map(() => "");
          }
          const ms = new Array<number>(splits.length);
          for (let i = 0; i < splits.length; i++) ms[i] = splits[i] * 1000;
          const labels = timeAxisLabels(ms, { utc, seconds: incr < 60 });
          options.onTimeLabels?.(labels);
          return labels;
        },
      },
      {
        side: 1,
        size: 80,
        stroke: "#8b95a7",
        grid: { stroke: "rgba(255,255,255,0.06)", width: 1 },
        ticks: { stroke: "rgba(255,255,255,0.15)", width: 1 },
        values: (_u, splits) => splits.map((v) => v.toFixed(decimals)),
      },
    ],
    plugins: [
      heatmapPlugin({
        columns: () => ring,
        scale: () => settings.scale,
        trades: () => settings.trades,
        tickMs,
        onDraw: options.onDraw,
      }),
    ],
    hooks: {
      setCursor: [(u) => {
        const { left, top } = u.cursor;
        if (
          left == null || top == null || left < 0 || top < 0 ||
          ring.length === 0
        ) {
          readout.textContent = "";
          return;
        }
        const t = formatTime(u.posToVal(left, "x") * 1000, {
          utc,
          seconds: true,
        });
        const p = u.posToVal(top, "y").toFixed(decimals);
        readout.textContent = `${t}  ${p}`;
      }],
    },
  };

  const u = new uPlot(opts, [[], [], []], el);
  u.over.appendChild(readout);

  function flush(): void {
    frame = 0;
    const n = ring.length;
    const xs = new Array<number>(n);
    const bids = new Array<number | null>(n);
    const asks = new Array<number | null>(n);
    for (let i = 0; i < n; i++) {
      const c = ring.at(i);
      xs[i] = c.ts / 1000;
      bids[i] = c.bestBid;
      asks[i] = c.bestAsk;
    }
    const last = n > 0 ? ring.at(n - 1) : null;
    if (last) decimals = priceDecimals(last.bucketSize);
    u.setData([xs, bids, asks]);
    options.onUpdate?.({ columns: n, last });
  }

  function schedule(): void {
    if (frame === 0) frame = requestAnimationFrame(flush);
  }

  return {
    push(col) {
      if (ring.push(col)) schedule();
    },
    clear(at) {
      const n = ring.length;
      if (at !== undefined) anchor = at;
      else if (n > 0) anchor = ring.at(n - 1).ts + tickMs;
      ring.clear();
      schedule();
    },
    setTime(at) {
      anchor = at;
      if (ring.length === 0) schedule();
    },
    configure(next) {
      const rerange = next.zoom !== undefined && next.zoom !== settings.zoom;
      Object.assign(settings, next);
      if (rerange) schedule();
      else u.redraw(false);
    },
    resize(width, height) {
      u.setSize({ width: Math.max(100, width), height: Math.max(100, height) });
    },
    destroy() {
      if (frame !== 0) cancelAnimationFrame(frame);
      frame = 0;
      u.destroy();
    },
  };
}
