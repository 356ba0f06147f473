/**
 * Bars for the viewer's lower panes, built from heatmap columns: traded
 * volume per column (the volume pane) and OHLCV candles from the columns'
 * trades when no store answers `/api/v1/ohlcv` (a replay session). Pure,
 * tested without a browser.
 *
 * @module
 */

import type { HeatColumn } from "../columns.ts";

/** Buy and sell volume of one column, base units. */
export interface ColumnVolume {
  /** The column's time, ms. */
  ts: number;
  /** Bought (taker buys). */
  buy: number;
  /** Sold (taker sells). */
  sell: number;
}

/**
 * Sums a column's traded volume.
 * @param col the column.
 * @returns its buy and sell volume.
 * @example
 * ```ts
 * columnVolume(col); // {ts: col.ts, buy: 1.2, sell: 0.4}
 * ```
 */
export function columnVolume(col: HeatColumn): ColumnVolume {
  let buy = 0, sell = 0;
  for (let i = 0; i < col.buys.length; i++) buy += col.buys[i];
  for (let i = 0; i < col.sells.length; i++) sell += col.sells[i];
  return { ts: col.ts, buy, sell };
}

/** One OHLCV bar. */
export interface Candle {
  /** Bar start, ms. */
  ts: number;
  /** First traded price. */
  open: number;
  /** Highest traded price. */
  high: number;
  /** Lowest traded price. */
  low: number;
  /** Last traded price. */
  close: number;
  /** Traded volume, base units. */
  volume: number;
}

/**
 * Candles from columns' trades. A column keeps trades by price bucket, not
 * one by one: a bucket's price is its middle, a column's open and close its
 * volume-weighted price (the order within a tick is gone). Columns without
 * trades add nothing.
 * @param cols columns, oldest first.
 * @param timeframeMs bar length, ms.
 * @returns bars, oldest first, one per timeframe with trades.
 * @throws {RangeError} if `timeframeMs` is not positive.
 * @example One-minute bars
 * ```ts
 * candlesFromColumns(columns, 60_000);
 * ```
 */
export function candlesFromColumns(
  cols: Iterable<HeatColumn>,
  timeframeMs: number,
): Candle[] {
  if (!(timeframeMs > 0)) {
    throw new RangeError(`Timeframe must be positive, got ${timeframeMs}`);
  }
  const out: Candle[] = [];
  for (const col of cols) {
    let volume = 0, notional = 0, high = -Infinity, low = Infinity;
    const n = col.buys.length;
    for (let i = 0; i < n; i++) {
      const v = col.buys[i] + col.sells[i];
      if (!(v > 0)) continue;
      const price = (col.lo + i + 0.5) * col.bucketSize;
      volume += v;
      notional += v * price;
      if (price > high) high = price;
      if (price < low) low = price;
    }
    if (volume === 0) continue;
    const vwap = notional / volume;
    const ts = Math.floor(col.ts / timeframeMs) * timeframeMs;
    const last = out[out.length - 1];
    if (last && last.ts === ts) {
      if (high > last.high) last.high = high;
      if (low < last.low) last.low = low;
      last.close = vwap;
      last.volume += volume;
    } else {
      out.push({ ts, open: vwap, high, low, close: vwap, volume });
    }
  }
  return out;
}
