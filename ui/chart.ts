/**
 * The heatmap chart: a uPlot instance (time × price) with the heatmap
 * plugin, the overlays (BBO and mid lines, trade bubbles, depth profile,
 * excluded venues; `overlays.ts`) and a crosshair tooltip (`tooltip.ts`),
 * fed from a ring of recent columns. Columns can be pushed at any rate; the
 * chart calls `setData` at most once per animation frame.
 *
 * While following live, the time axis ends a strip past the newest column,
 * where the depth profile (the newest column's book) stands.
 *
 * Navigation: the wheel zooms time (anchored at the live edge while
 * following, else at the cursor); with Shift, or over the price axis, it
 * zooms price at the cursor. A drag pans both axes. A double-click, or
 * {@linkcode HeatmapChart.resetView}, goes back to following live with the
 * default price range. While the view is back in time, new columns are held
 * aside and the view stays still ({@linkcode HeatmapChartOptions.onFollow}
 * says `false`); once the view reaches the live edge again they are added
 * and the chart follows live again.
 *
 * History: when the view reaches before the oldest column held, older
 * columns are loaded (`GET /api/v1/heatmap/history`, see
 * {@linkcode fetchHeatmapHistory}) and prepended. A replay session has no
 * store behind it (its columns are in its own hub only), so a chart
 * following a session loads none.
 *
 * For browser tests the chart's root element (`.uplot`) carries
 * `data-following`, `data-columns` (columns held), `data-oldest` (`ts` of the
 * oldest), `data-x-min` / `data-x-max` (s) and `data-y-min` / `data-y-max`
 * (price) of the view, and `data-price-labels` (JSON, the price axis labels
 * last laid out).
 *
 * @module
 */

import uPlot from "uplot";
import { ColumnRing, type HeatColumn } from "./columns.ts";
import {
  type HeatmapDrawStats,
  heatmapPlugin,
  type HeatScale,
  type PaletteMode,
} from "./plugins/heatmap.ts";
import { columnAt, midOf, overlayPlugin } from "./overlays.ts";
import { priceDecimals, priceLabels, priceSteps } from "./price_axis.ts";
import { createTooltip, type Tooltip } from "./tooltip.ts";
import { timeAxisLabels } from "./time.ts";

export { priceDecimals };

/** Display settings that can change while the chart runs. */
export interface ChartSettings {
  /** Colour scale of resting size. */
  scale: HeatScale;
  /**
   * Price axis half-width around the mid range, as a fraction of mid
   * (`0.01` = ±1 %), while the price axis is not zoomed by hand. `Infinity`
   * shows every bucket with resting size.
   */
  zoom: number;
  /** Percentile of the cell sizes in view that saturates the palette, 0.5–1. */
  clip: number;
  /** One palette over both sides, or bids and asks apart. */
  palettes: PaletteMode;
  /** Stored buckets summed into one drawn cell (1, 2, 5, 10, …). */
  bucketMultiple: number;
  /** Whether trades are drawn as bubbles. */
  trades: boolean;
  /** Smallest traded volume drawn, base currency: smaller trades are not. */
  minTradeSize: number;
}

/** Summary handed to {@linkcode HeatmapChartOptions.onUpdate} after each `setData`. */
export interface ChartUpdate {
  /** Columns held. */
  columns: number;
  /** The newest column held, `null` when empty. */
  last: HeatColumn | null;
}

/** A range of older columns to load: `[from, to)`, ms since epoch. */
export interface HistoryRange {
  /** The symbol (consolidation key) of the columns held. */
  symbol: string;
  /** Start, inclusive, ms since epoch. */
  from: number;
  /** End, exclusive, ms since epoch. */
  to: number;
}

/**
 * Loads older columns.
 * @param range what to load.
 * @returns the columns, oldest first.
 */
export type HistoryLoader = (range: HistoryRange) => Promise<HeatColumn[]>;

/** Options for {@linkcode createHeatmapChart}. */
export interface HeatmapChartOptions {
  /**
   * Columns kept; older ones are dropped (columns loaded from history are
   * kept besides, until live columns push them out).
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
   * @default {{ scale: "log", zoom: 0.01, clip: 0.99, palettes: "combined", bucketMultiple: 1, trades: true, minTradeSize: 0 }}
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
  /**
   * The replay session the columns come from (its hub answers the tooltip's
   * per-exchange columns); null for live data.
   * @default the page's `?session=` parameter, as the viewer follows it
   */
  session?: string | null;
  /**
   * Loads older columns when the view reaches before the oldest held; null
   * loads none.
   * @default {@linkcode fetchHeatmapHistory} for live data; null for a
   * session (a replay session has no store to load from)
   */
  history?: HistoryLoader | null;
  /** Called after each `setData` (at most once per animation frame). */
  onUpdate?: (update: ChartUpdate) => void;
  /** Called after each heatmap draw with the plugin's stats. */
  onDraw?: (stats: HeatmapDrawStats) => void;
  /** Called with the time axis labels each time uPlot lays the axis out. */
  onTimeLabels?: (labels: string[]) => void;
  /**
   * Called when the chart starts or stops following live: `false` once the
   * user scrolled or zoomed back in time (live columns are held aside),
   * `true` when the view is back at the live edge (or reset).
   */
  onFollow?: (following: boolean) => void;
}

/** A running heatmap chart. */
export interface HeatmapChart {
  /**
   * Adds a column; the chart redraws on the next animation frame. While the
   * view is back in time the column is held aside until it follows again.
   * @param col the column.
   */
  push(col: HeatColumn): void;
  /**
   * Drops every column (for a new symbol or exchange selection, or a replay
   * that seeked) and goes back to following live.
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
   * Changes display settings. A new `zoom` drops a price range zoomed by
   * hand.
   * @param settings the settings to change.
   */
  configure(settings: Partial<ChartSettings>): void;
  /**
   * Goes back to following live with the default time span and price
   * range; columns held aside meanwhile are added.
   */
  resetView(): void;
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

/** Ticks loaded from history per request (at most the route's limit). */
const HISTORY_TICKS = 600;
/** The narrowest time span a zoom reaches, in ticks. */
const MIN_TICKS = 5;
/** The widest time span a zoom reaches, seconds. */
const MAX_SPAN_S = 7 * 86_400;
/** Width of the depth profile at the right edge, CSS pixels. */
const DEPTH_PX = 90;
/** How much one wheel notch (100 px of `deltaY`) scales an axis. */
const WHEEL_STEP = 1.25;

/**
 * Loads stored consolidated columns through
 * `GET /api/v1/heatmap/history?symbol=&exchanges=consolidated&from=&to=&resolution=tick`.
 * They are the consolidated columns over every venue: a view of some venues
 * only shows every venue in its older part.
 * @param range what to load.
 * @returns the columns, oldest first.
 * @throws {Error} when the server answers an error (503 `no_history` where
 *   no history is kept).
 * @example Load the minute before the oldest column
 * ```ts
 * const older = await fetchHeatmapHistory({ symbol: "BTC-USDT", from: t - 60_000, to: t });
 * ```
 */
export async function fetchHeatmapHistory(
  range: HistoryRange,
): Promise<HeatColumn[]> {
  const params = new URLSearchParams({
    symbol: range.symbol,
    exchanges: "consolidated",
    from: String(Math.floor(range.from)),
    to: String(Math.ceil(range.to)),
    resolution: "tick",
    limit: String(HISTORY_TICKS),
  });
  const url = `/api/v1/heatmap/history?${params}`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} failed with status ${res.status}`);
  return await res.json() as HeatColumn[];
}

/**
 * Creates a heatmap chart inside an element, sized to the element.
 * @param el the element to draw in; the chart appends its root to it.
 * @param options capacity, tick width, initial settings, history and
 *   callbacks.
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
  const tickS = tickMs / 1000;
  const ring = new ColumnRing(options.capacity ?? 600);
  const settings: ChartSettings = {
    scale: "log",
    zoom: 0.01,
    clip: 0.99,
    palettes: "combined",
    bucketMultiple: 1,
    trades: true,
    minTradeSize: 0,
    ...options.settings,
  };
  const utc = options.utc ?? false;
  const wallClock = options.wallClock ?? true;
  const session = options.session !== undefined
    ? options.session
    : new URLSearchParams(location.search).get("session");
  const loader = options.history !== undefined
    ? options.history
    : session
    ? null
    : fetchHeatmapHistory;
  let decimals = 2;
  let tick = 0;
  let frame = 0;
  // Where the time axis of an empty chart ends, event time ms: the end of the
  // last columns held or a time the caller set; null until either is known.
  let anchor: number | null = null;
  // The view. Following: the time axis ends at the live edge and spans
  // `xSpan` seconds (null: every column held). Else it is `xView`, and new
  // columns wait in `held`. `yView` is a price range set by hand, else null.
  let following = true;
  let xSpan: number | null = null;
  let xView: [number, number] = [0, 0];
  let yView: [number, number] | null = null;
  const held: HeatColumn[] = [];
  // History: a load at a time; `floor`, ms: nothing stored before it was
  // found below the oldest column (loads go on below it). `generation`
  // drops the answer of a load started before a `clear`.
  let loading = false;
  let floor = Infinity;
  let generation = 0;
  let historyOn = loader !== null;
  // The oldest column the stream sent since the last clear, ms: older ones
  // came from the history store, and the server's hub keeps none of them.
  let streamFrom = Infinity;
  // Effective bucket multiple of the last draw (the plugin raises it).
  let drawnMultiple = settings.bucketMultiple;

  /** End of the live edge, seconds. */
  function liveEnd(): number {
    const n = ring.length;
    if (n > 0) return ring.at(n - 1).ts / 1000 + tickS;
    return (anchor ?? (wallClock ? Date.now() : 0)) / 1000;
  }

  /**
   * Seconds of the time axis past the live edge that leave the depth
   * profile's strip empty, for a data span of `span` seconds.
   */
  function rightPad(span: number): number {
    const w = over?.clientWidth ?? 0;
    return w > 2 * DEPTH_PX ? span * DEPTH_PX / (w - DEPTH_PX) : 0;
  }

  /**
   * The time axis of the view, seconds. Following, it ends a strip past the
   * live edge, where the depth profile stands beside the newest column.
   */
  function xBounds(): [number, number] {
    if (!following) return xView;
    const end = liveEnd();
    const n = ring.length;
    const span = xSpan ?? (n > 0 ? end - ring.at(0).ts / 1000 : 60);
    return [end - span, end + rightPad(span)];
  }

  function xRange(): uPlot.Range.MinMax {
    return xBounds();
  }

  function yRange(
    _u: uPlot,
    dataMin: number,
    dataMax: number,
  ): uPlot.Range.MinMax {
    if (yView) return yView;
    // The columns in view: the mids they span, widened by the zoom setting,
    // within the prices with resting size.
    const n = ring.length;
    const [x0, x1] = xBounds();
    let c0 = columnAt(ring, x0);
    if (c0 < 0) c0 = 0;
    const c1 = columnAt(ring, x1);
    let lo = Infinity, hi = -Infinity, mLo = Infinity, mHi = -Infinity;
    for (let i = c0; i <= c1 && i < n; i++) {
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
      // The mids: they range the price axis when no column has resting
      // size; the overlays draw the lines.
      { label: "mid", paths: () => null, points: { show: false } },
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
        // Steps on the price grid (bucket × multiple), so no two labels
        // print the same price at any zoom.
        incrs: () => tick > 0 ? priceSteps(tick) : priceSteps(0.01),
        values: (u, splits) => {
          const labels = priceLabels(splits, decimals);
          u.root.dataset.priceLabels = JSON.stringify(labels);
          return labels;
        },
      },
    ],
    plugins: [
      heatmapPlugin({
        columns: () => ring,
        scale: () => settings.scale,
        clip: () => settings.clip,
        palettes: () => settings.palettes,
        bucketMultiple: () => settings.bucketMultiple,
        tickMs,
        onDraw: (stats) => {
          drawnMultiple = stats.view?.bucketMultiple ?? settings.bucketMultiple;
          options.onDraw?.(stats);
        },
      }),
      overlayPlugin({
        columns: () => ring,
        trades: () => settings.trades,
        minTradeSize: () => settings.minTradeSize,
        tickMs,
        depthWidth: DEPTH_PX,
      }),
    ],
    hooks: {
      setCursor: [(u) => {
        const { left, top } = u.cursor;
        if (
          dragging || left == null || top == null || left < 0 || top < 0 ||
          ring.length === 0
        ) {
          tooltip?.show(null);
          return;
        }
        tooltip?.show({
          t: u.posToVal(left, "x"),
          price: u.posToVal(top, "y"),
          left,
          top,
        });
      }],
      draw: [(u) => {
        const d = u.root.dataset;
        d.following = String(following);
        d.columns = String(ring.length);
        d.oldest = ring.length > 0 ? String(ring.at(0).ts) : "";
        d.xMin = String(u.scales.x.min);
        d.xMax = String(u.scales.x.max);
        d.yMin = String(u.scales.y.min);
        d.yMax = String(u.scales.y.max);
      }],
    },
  };

  let dragging = false;
  // Made once the plot exists; uPlot lays the axes and cursor out before.
  let tooltip: Tooltip | null = null;
  let over: HTMLElement | null = null;
  const u = new uPlot(opts, [[], []], el);
  over = u.over;
  tooltip = createTooltip(u.over, {
    columns: () => ring,
    decimals: () => decimals,
    bucketMultiple: () => drawnMultiple,
    tickMs,
    utc,
    session,
    kept: (ts) => ts >= streamFrom,
  });

  function flush(): void {
    frame = 0;
    const n = ring.length;
    const xs = new Array<number>(n);
    const mids = new Array<number | null>(n);
    for (let i = 0; i < n; i++) {
      const c = ring.at(i);
      xs[i] = c.ts / 1000;
      mids[i] = midOf(c);
    }
    const last = n > 0 ? ring.at(n - 1) : null;
    if (last) {
      tick = last.bucketSize * Math.max(1, settings.bucketMultiple);
      decimals = priceDecimals(tick);
    }
    u.setData([xs, mids]);
    options.onUpdate?.({ columns: n, last });
  }

  function schedule(): void {
    if (frame === 0) frame = requestAnimationFrame(flush);
  }

  /** Starts or stops following live; catching up adds the held columns. */
  function setFollowing(on: boolean): void {
    if (on === following) return;
    following = on;
    if (on) {
      for (const c of held) ring.push(c);
      held.length = 0;
    }
    options.onFollow?.(on);
  }

  /** Sets the time axis; at or past the live edge the chart follows live. */
  function setX(x0: number, x1: number): void {
    let span = x1 - x0;
    if (span < MIN_TICKS * tickS) span = MIN_TICKS * tickS;
    if (span > MAX_SPAN_S) span = MAX_SPAN_S;
    const end = liveEnd();
    if (x0 + span >= end - tickS / 2) {
      // The data's share of the view; the rest is the depth strip.
      const w = over?.clientWidth ?? 0;
      xSpan = w > 2 * DEPTH_PX ? span * (w - DEPTH_PX) / w : span;
      setFollowing(true);
    } else {
      xView = [x0, x0 + span];
      setFollowing(false);
    }
    schedule();
    loadOlder();
  }

  /** Loads older columns while the view reaches before the oldest held. */
  async function loadOlder(): Promise<void> {
    if (!loader || !historyOn || loading || ring.length === 0) return;
    const [x0, x1] = xBounds();
    const to = Math.min(ring.at(0).ts, floor);
    if (!(x0 * 1000 < to)) return;
    // The part of the view missing, and as much again, in one request of at
    // most HISTORY_TICKS ticks (the route keeps the earliest past its limit).
    const want = to - (x0 * 1000 - (x1 - x0) * 1000);
    const from = to - Math.min(want, HISTORY_TICKS * tickMs);
    const gen = generation;
    loading = true;
    let cols: HeatColumn[];
    try {
      cols = await loader({ symbol: ring.at(0).symbol, from, to });
    } catch {
      // No history here (503 no_history) or it failed: stop asking.
      historyOn = false;
      return;
    } finally {
      loading = false;
    }
    if (gen !== generation || ring.length === 0) return;
    floor = from;
    if (ring.prepend(cols) > 0) schedule();
    if (cols.length > 0) loadOlder();
  }

  /** The current axes, from uPlot's scales. */
  function scales(): { x: [number, number]; y: [number, number] } {
    return {
      x: [u.scales.x.min ?? 0, u.scales.x.max ?? 1],
      y: [u.scales.y.min ?? 0, u.scales.y.max ?? 1],
    };
  }

  function zoomY(py: number, factor: number): void {
    const [y0, y1] = scales().y;
    const p = u.posToVal(py, "y");
    let a = p - (p - y0) * factor, b = p + (y1 - p) * factor;
    // At least a few cells tall.
    const min = 4 * (tick || (y1 - y0) / 1000);
    if (b - a < min) {
      a = p - min / 2;
      b = p + min / 2;
    }
    yView = [a, b];
    schedule();
  }

  function zoomX(px: number, factor: number): void {
    const [x0, x1] = scales().x;
    if (following) {
      // Anchored at the live edge: the view keeps following.
      setX(x1 - (x1 - x0) * factor, x1);
      return;
    }
    const t = u.posToVal(px, "x");
    setX(t - (t - x0) * factor, t + (x1 - t) * factor);
  }

  function onWheel(e: WheelEvent): void {
    const r = u.over.getBoundingClientRect();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    if (px < 0 || py < 0 || py > r.height) return;
    e.preventDefault();
    // Shift turns the wheel sideways in some browsers.
    const delta = e.deltaY !== 0 ? e.deltaY : e.deltaX;
    const scale = e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? 400 : 1;
    const factor = WHEEL_STEP ** (delta * scale / 100);
    if (e.shiftKey || px > r.width) zoomY(py, factor);
    else zoomX(px, factor);
  }

  let dragFrom: {
    px: number;
    py: number;
    x: [number, number];
    y: [number, number];
  } | null = null;

  function onDown(e: MouseEvent): void {
    if (e.button !== 0) return;
    dragFrom = { px: e.clientX, py: e.clientY, ...scales() };
  }

  function onMove(e: MouseEvent): void {
    if (!dragFrom) return;
    const dx = e.clientX - dragFrom.px, dy = e.clientY - dragFrom.py;
    if (!dragging && Math.abs(dx) + Math.abs(dy) < 3) return;
    dragging = true;
    tooltip?.show(null);
    const r = u.over.getBoundingClientRect();
    const [x0, x1] = dragFrom.x, [y0, y1] = dragFrom.y;
    const dt = -dx * (x1 - x0) / r.width;
    const dp = dy * (y1 - y0) / r.height;
    if (dy !== 0) yView = [y0 + dp, y1 + dp];
    if (dx !== 0) setX(x0 + dt, x1 + dt);
    else schedule();
  }

  function onUp(): void {
    dragFrom = null;
    dragging = false;
  }

  function resetView(): void {
    xSpan = null;
    yView = null;
    setFollowing(true);
    schedule();
  }

  u.root.addEventListener("wheel", onWheel, { passive: false });
  u.over.addEventListener("mousedown", onDown);
  globalThis.addEventListener("mousemove", onMove);
  globalThis.addEventListener("mouseup", onUp);
  u.over.addEventListener("dblclick", resetView);

  return {
    push(col) {
      if (col.ts < streamFrom) streamFrom = col.ts;
      if (!following) {
        // The view holds still; catch up when it follows again.
        held.push(col);
        if (held.length > ring.capacity) held.shift();
        return;
      }
      if (ring.push(col)) schedule();
    },
    clear(at) {
      const n = ring.length;
      if (at !== undefined) anchor = at;
      else if (n > 0) anchor = ring.at(n - 1).ts + tickMs;
      ring.clear();
      held.length = 0;
      generation++;
      floor = Infinity;
      streamFrom = Infinity;
      historyOn = loader !== null;
      resetView();
    },
    setTime(at) {
      anchor = at;
      if (ring.length === 0) schedule();
    },
    configure(next) {
      if (next.zoom !== undefined && next.zoom !== settings.zoom) {
        yView = null;
      }
      Object.assign(settings, next);
      schedule();
    },
    resetView,
    resize(width, height) {
      u.setSize({ width: Math.max(100, width), height: Math.max(100, height) });
    },
    destroy() {
      if (frame !== 0) cancelAnimationFrame(frame);
      frame = 0;
      globalThis.removeEventListener("mousemove", onMove);
      globalThis.removeEventListener("mouseup", onUp);
      tooltip?.destroy();
      u.destroy();
    },
  };
}
