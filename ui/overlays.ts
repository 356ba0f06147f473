/**
 * uPlot plugin drawing what sits on top of the heatmap: the best bid, best
 * ask and mid as step lines, taker trades as bubbles, the newest column's
 * book as a depth profile at the right edge, and the venues left out of
 * consolidation.
 *
 * - **BBO and mid:** each column's best bid (white), best ask (magenta) and
 *   mid (white, dashed) are held flat across the column's span, so the
 *   lines reach the right edge of the newest column. Each line is stroked
 *   over a dark halo, so it stands out from every heatmap palette.
 * - **Trades:** one bubble per (column, bucket, taker side) with volume;
 *   the bubble's area is proportional to the volume (radius ∝ √volume,
 *   the largest in view at {@linkcode OverlayOptions.maxTradeRadius}),
 *   buys green and sells red, each outlined in white. Volumes below
 *   `minTradeSize` (base units) are not drawn.
 * - **Liquidations:** one marker per (column, bucket, side) with volume,
 *   apart from the trades: a triangle pointing down (orange) for longs
 *   liquidated by a forced sell, pointing up (cyan) for shorts liquidated
 *   by a forced buy, its area proportional to the volume (the largest in
 *   view at {@linkcode OverlayOptions.maxLiquidationSize}), outlined in
 *   black. The trade-size minimum does not hide them.
 * - **Depth profile:** horizontal bars at the right edge, one per bucket of
 *   the newest column in view, their length its resting size (bids and asks
 *   in their own colours).
 * - **Excluded venues:** the newest column in view names, at the top left,
 *   each venue its consolidation left out (mid and deviation), and marks
 *   its mid with an amber triangle on the right edge.
 *
 * Positions come from `u.valToPos`, so zoom and pan stay right.
 *
 * @module
 */

import type uPlot from "uplot";
import type { ColumnSource, HeatColumn } from "./columns.ts";

/** Options for {@linkcode overlayPlugin}. */
export interface OverlayOptions {
  /** The columns drawn by the heatmap, read at every draw. */
  columns: () => ColumnSource;
  /**
   * Whether to draw trade bubbles, read at every draw.
   * @default {() => true}
   */
  trades?: () => boolean;
  /**
   * Smallest traded volume drawn, base currency, read at every draw.
   * @default {() => 0}
   */
  minTradeSize?: () => number;
  /**
   * Tick width in ms: the newest column's width, and the longest span a
   * column stretches to (as the heatmap draws it).
   * @default {1000}
   */
  tickMs?: number;
  /**
   * Radius of the largest bubble in view, CSS pixels.
   * @default {9}
   */
  maxTradeRadius?: number;
  /**
   * Half-height of the largest liquidation marker in view, CSS pixels.
   * @default {11}
   */
  maxLiquidationSize?: number;
  /**
   * Longest depth-profile bar, CSS pixels.
   * @default {90}
   */
  depthWidth?: number;
}

/** Colours of the overlays: none of them is in a heatmap palette's ramp. */
export const OVERLAY_COLORS = {
  bid: "#ffffff",
  ask: "#ff3df2",
  mid: "rgba(255,255,255,0.75)",
  halo: "rgba(0,0,0,0.85)",
  buy: "rgba(38,222,129,0.85)",
  sell: "rgba(255,71,87,0.85)",
  depthBid: "rgba(255,255,255,0.8)",
  depthAsk: "rgba(255,61,242,0.8)",
  excluded: "#ffb020",
  longLiquidation: "#ff8c1a",
  shortLiquidation: "#2ec8ff",
  liquidationEdge: "rgba(0,0,0,0.9)",
} as const;

/**
 * Radius of a trade bubble whose area is proportional to its volume.
 * @param volume the volume, base currency.
 * @param maxVolume the largest volume in view (drawn at `maxRadius`).
 * @param maxRadius the largest radius.
 * @returns the radius; 0 for no volume.
 * @example A quarter of the largest volume gets half its radius
 * ```ts
 * tradeRadius(1, 4, 10); // 5
 * ```
 */
export function tradeRadius(
  volume: number,
  maxVolume: number,
  maxRadius: number,
): number {
  if (!(volume > 0) || !(maxVolume > 0)) return 0;
  return maxRadius * Math.sqrt(volume / maxVolume);
}

/**
 * The time a column spans, seconds: to the next column, or one tick for the
 * newest and across a gap of more than two ticks (as the heatmap draws it).
 * @param src the columns.
 * @param c the column's position.
 * @param tickS tick width, seconds.
 * @returns `[start, end]`, seconds since epoch.
 * @example The newest column spans one tick
 * ```ts
 * columnSpan(ring, ring.length - 1, 1); // [ts / 1000, ts / 1000 + 1]
 * ```
 */
export function columnSpan(
  src: ColumnSource,
  c: number,
  tickS: number,
): [number, number] {
  const t0 = src.at(c).ts / 1000;
  let t1 = c + 1 < src.length ? src.at(c + 1).ts / 1000 : t0 + tickS;
  if (t1 - t0 > 2 * tickS) t1 = t0 + tickS;
  return [t0, t1];
}

/**
 * The middle of a column's book: for a consolidated column the consensus mid
 * (its BBO may be crossed between venues), else the mid of its BBO.
 * @param col the column.
 * @returns the mid, else whichever best price is known, else `null`.
 * @example A column with a BBO
 * ```ts
 * midOf({ ...col, bestBid: 100, bestAsk: 102, mid: null, consolidation: null }); // 101
 * ```
 */
export function midOf(col: HeatColumn): number | null {
  const consensus = col.consolidation?.mid;
  if (consensus != null && Number.isFinite(consensus)) return consensus;
  if (col.mid != null) return col.mid;
  if (col.bestBid != null && col.bestAsk != null) {
    return (col.bestBid + col.bestAsk) / 2;
  }
  return col.bestBid ?? col.bestAsk;
}

/**
 * Position of the newest column starting at or before a time.
 * @param src the columns, oldest first.
 * @param t seconds since epoch.
 * @returns the position, or -1 when every column starts after `t`.
 * @example The column under a time
 * ```ts
 * columnAt(ring, Date.now() / 1000); // ring.length - 1
 * ```
 */
export function columnAt(src: ColumnSource, t: number): number {
  let lo = 0, hi = src.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (src.at(mid).ts / 1000 <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Creates the overlay plugin; it draws in the `draw` hook, above the
 * heatmap and the grid.
 * @param options where the columns come from and what to draw.
 * @returns a uPlot plugin.
 * @example Overlays over the heatmap of a ring
 * ```ts
 * const plugins = [heatmapPlugin({ columns: () => ring }), overlayPlugin({ columns: () => ring })];
 * ```
 */
export function overlayPlugin(options: OverlayOptions): uPlot.Plugin {
  const getColumns = options.columns;
  const getTrades = options.trades ?? (() => true);
  const getMinTrade = options.minTradeSize ?? (() => 0);
  const tickS = (options.tickMs ?? 1000) / 1000;
  const maxTradeRadius = options.maxTradeRadius ?? 9;
  const depthWidth = options.depthWidth ?? 90;
  const maxLiquidationSize = options.maxLiquidationSize ?? 11;

  function draw(u: uPlot): void {
    const src = getColumns();
    const n = src.length;
    const xMin = u.scales.x.min, xMax = u.scales.x.max;
    const yMin = u.scales.y.min, yMax = u.scales.y.max;
    if (
      n === 0 || xMin == null || xMax == null || yMin == null || yMax == null
    ) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const dpr = devicePixelRatio;
    const x = (t: number) => u.valToPos(t, "x", true);
    const y = (p: number) => u.valToPos(p, "y", true);
    // Columns in view.
    let c0 = columnAt(src, xMin);
    if (c0 < 0) c0 = 0;
    const c1 = columnAt(src, xMax);
    if (c1 < 0) return;

    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();

    // BBO and mid: a step line each, flat across each column's span.
    const bid = new Path2D(), ask = new Path2D(), mid = new Path2D();
    const step = (p: Path2D, v: number | null, x0: number, x1: number, pen: {
      on: boolean;
    }) => {
      if (v == null || !Number.isFinite(v)) {
        pen.on = false;
        return;
      }
      const yv = y(v);
      if (pen.on) p.lineTo(x0, yv);
      else p.moveTo(x0, yv);
      p.lineTo(x1, yv);
      pen.on = true;
    };
    const pens = [{ on: false }, { on: false }, { on: false }];
    let lastEnd = NaN;
    for (let c = c0; c <= c1; c++) {
      const col = src.at(c);
      const [t0, t1] = columnSpan(src, c, tickS);
      const x0 = x(t0), x1 = x(t1);
      // Across a gap the lines break.
      if (t0 !== lastEnd) { for (const p of pens) p.on = false; }
      lastEnd = t1;
      step(bid, col.bestBid, x0, x1, pens[0]);
      step(ask, col.bestAsk, x0, x1, pens[1]);
      step(mid, midOf(col), x0, x1, pens[2]);
    }
    ctx.lineJoin = "miter";
    ctx.strokeStyle = OVERLAY_COLORS.halo;
    ctx.lineWidth = 3.5 * dpr;
    ctx.stroke(bid);
    ctx.stroke(ask);
    ctx.lineWidth = 1.5 * dpr;
    ctx.strokeStyle = OVERLAY_COLORS.bid;
    ctx.stroke(bid);
    ctx.strokeStyle = OVERLAY_COLORS.ask;
    ctx.stroke(ask);
    ctx.setLineDash([4 * dpr, 4 * dpr]);
    ctx.lineWidth = 1 * dpr;
    ctx.strokeStyle = OVERLAY_COLORS.mid;
    ctx.stroke(mid);
    ctx.setLineDash([]);

    if (getTrades()) drawTrades(u, src, c0, c1, getMinTrade());
    drawLiquidations(u, src, c0, c1);

    // The book at the right edge: the newest column in view.
    const last = src.at(c1);
    drawDepth(ctx, last, left + width, y, depthWidth * dpr, yMin, yMax);
    ctx.restore();
    drawExcluded(ctx, last, u.bbox, y, dpr);
  }

  function drawTrades(
    u: uPlot,
    src: ColumnSource,
    c0: number,
    c1: number,
    minSize: number,
  ): void {
    const yMin = u.scales.y.min!, yMax = u.scales.y.max!;
    let maxV = 0;
    for (let c = c0; c <= c1; c++) {
      const col = src.at(c);
      const [i0, i1] = bucketsIn(col, yMin, yMax);
      for (let i = i0; i < i1; i++) {
        if (col.buys[i] > maxV) maxV = col.buys[i];
        if (col.sells[i] > maxV) maxV = col.sells[i];
      }
    }
    if (!(maxV > 0)) return;
    const dpr = devicePixelRatio;
    const rMax = maxTradeRadius * dpr;
    const buys = new Path2D(), sells = new Path2D();
    for (let c = c0; c <= c1; c++) {
      const col = src.at(c);
      const [t0, t1] = columnSpan(src, c, tickS);
      const xc = u.valToPos((t0 + t1) / 2, "x", true);
      const [i0, i1] = bucketsIn(col, yMin, yMax);
      for (let i = i0; i < i1; i++) {
        const b = col.buys[i], s = col.sells[i];
        if (b < minSize && s < minSize) continue;
        const yc = u.valToPos((col.lo + i + 0.5) * col.bucketSize, "y", true);
        if (b > 0 && b >= minSize) {
          const r = Math.max(tradeRadius(b, maxV, rMax), dpr);
          buys.moveTo(xc + r, yc);
          buys.arc(xc, yc, r, 0, 2 * Math.PI);
        }
        if (s > 0 && s >= minSize) {
          const r = Math.max(tradeRadius(s, maxV, rMax), dpr);
          sells.moveTo(xc + r, yc);
          sells.arc(xc, yc, r, 0, 2 * Math.PI);
        }
      }
    }
    const ctx = u.ctx;
    ctx.lineWidth = dpr;
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    fillAndStroke(ctx, buys, OVERLAY_COLORS.buy);
    fillAndStroke(ctx, sells, OVERLAY_COLORS.sell);
  }

  function drawLiquidations(
    u: uPlot,
    src: ColumnSource,
    c0: number,
    c1: number,
  ): void {
    const yMin = u.scales.y.min!, yMax = u.scales.y.max!;
    let maxV = 0;
    for (let c = c0; c <= c1; c++) {
      for (const l of src.at(c).liquidations ?? []) {
        if (l.longs > maxV) maxV = l.longs;
        if (l.shorts > maxV) maxV = l.shorts;
      }
    }
    if (!(maxV > 0)) return;
    const dpr = devicePixelRatio;
    const hMax = maxLiquidationSize * dpr;
    const longs = new Path2D(), shorts = new Path2D();
    // A triangle of half-height h around (x, y); `dir` 1 points down.
    const mark = (p: Path2D, x: number, y: number, h: number, dir: number) => {
      p.moveTo(x - h, y - dir * h);
      p.lineTo(x + h, y - dir * h);
      p.lineTo(x, y + dir * h);
      p.closePath();
    };
    for (let c = c0; c <= c1; c++) {
      const col = src.at(c);
      const [t0, t1] = columnSpan(src, c, tickS);
      const xc = u.valToPos((t0 + t1) / 2, "x", true);
      for (const l of col.liquidations ?? []) {
        const mid = (l.bucket + 0.5) * col.bucketSize;
        if (mid < yMin || mid > yMax) continue;
        const yc = u.valToPos(mid, "y", true);
        if (l.longs > 0) {
          mark(
            longs,
            xc,
            yc,
            Math.max(tradeRadius(l.longs, maxV, hMax), 3 * dpr),
            1,
          );
        }
        if (l.shorts > 0) {
          mark(
            shorts,
            xc,
            yc,
            Math.max(tradeRadius(l.shorts, maxV, hMax), 3 * dpr),
            -1,
          );
        }
      }
    }
    const ctx = u.ctx;
    ctx.lineWidth = 1.5 * dpr;
    ctx.lineJoin = "miter";
    ctx.strokeStyle = OVERLAY_COLORS.liquidationEdge;
    fillAndStroke(ctx, longs, OVERLAY_COLORS.longLiquidation);
    fillAndStroke(ctx, shorts, OVERLAY_COLORS.shortLiquidation);
  }

  return { hooks: { draw } };
}

/** Fills a path in `fill`, then outlines it with the context's stroke. */
function fillAndStroke(
  ctx: CanvasRenderingContext2D,
  path: Path2D,
  fill: string,
): void {
  ctx.fillStyle = fill;
  ctx.fill(path);
  ctx.stroke(path);
}

/** The buckets of a column inside a price range: `[first, end)`. */
function bucketsIn(
  col: HeatColumn,
  yMin: number,
  yMax: number,
): [number, number] {
  const n = col.bids.length;
  let i0 = Math.floor(yMin / col.bucketSize) - col.lo;
  let i1 = Math.ceil(yMax / col.bucketSize) - col.lo;
  if (i0 < 0) i0 = 0;
  if (i1 > n) i1 = n;
  return [i0, i1];
}

/** Horizontal bars of a column's resting size per bucket, from the right edge. */
function drawDepth(
  ctx: CanvasRenderingContext2D,
  col: HeatColumn,
  right: number,
  y: (p: number) => number,
  maxWidth: number,
  yMin: number,
  yMax: number,
): void {
  const [i0, i1] = bucketsIn(col, yMin, yMax);
  let max = 0;
  for (let i = i0; i < i1; i++) {
    const v = col.bids[i] + col.asks[i];
    if (v > max) max = v;
  }
  if (!(max > 0)) return;
  // A dark band behind the bars, so they read over any heatmap colour.
  ctx.fillStyle = "rgba(0,0,0,0.45)";
  ctx.fillRect(right - maxWidth, y(yMax), maxWidth, y(yMin) - y(yMax));
  const bids = new Path2D(), asks = new Path2D();
  for (let i = i0; i < i1; i++) {
    const b = col.bids[i], a = col.asks[i];
    if (!(b + a > 0)) continue;
    const yTop = y((col.lo + i + 1) * col.bucketSize);
    const yBot = y((col.lo + i) * col.bucketSize);
    const h = Math.max(1, yBot - yTop - (yBot - yTop > 3 ? 1 : 0));
    const wb = maxWidth * b / max, wa = maxWidth * a / max;
    if (wb > 0) bids.rect(right - wb, yTop, wb, h);
    if (wa > 0) asks.rect(right - wb - wa, yTop, wa, h);
  }
  ctx.fillStyle = OVERLAY_COLORS.depthBid;
  ctx.fill(bids);
  ctx.fillStyle = OVERLAY_COLORS.depthAsk;
  ctx.fill(asks);
}

/** Names the venues a column's consolidation left out; marks their mids. */
function drawExcluded(
  ctx: CanvasRenderingContext2D,
  col: HeatColumn,
  box: { left: number; top: number; width: number; height: number },
  y: (p: number) => number,
  dpr: number,
): void {
  const { left, top, width, height } = box;
  const excluded = col.consolidation?.excluded;
  if (!excluded || excluded.length === 0) return;
  ctx.save();
  ctx.font = `${11 * dpr}px sans-serif`;
  ctx.textBaseline = "top";
  ctx.fillStyle = OVERLAY_COLORS.excluded;
  const right = left + width;
  for (let k = 0; k < excluded.length; k++) {
    const e = excluded[k];
    const pct = (e.deviation * 100).toFixed(2);
    ctx.fillText(
      `excluded: ${e.exchange} mid ${e.mid} (${
        e.deviation >= 0 ? "+" : ""
      }${pct}%)`,
      left + 6 * dpr,
      top + (6 + 14 * k) * dpr,
    );
    const ym = y(e.mid);
    if (!(ym >= top && ym <= top + height)) continue;
    ctx.beginPath();
    ctx.moveTo(right, ym);
    ctx.lineTo(right - 8 * dpr, ym - 5 * dpr);
    ctx.lineTo(right - 8 * dpr, ym + 5 * dpr);
    ctx.closePath();
    ctx.fill();
  }
  ctx.restore();
}
