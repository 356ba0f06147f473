/**
 * Order-book imbalance near the mid, from one heatmap column: what the
 * writer stores per tick (`imbalances`) and the live frame serves.
 *
 * @module
 */

import { bucketOf, type Column, midPrice } from "./heatmap.ts";

/** One column's imbalance; sizes in base currency. */
export interface Imbalance {
  /** Resting bid size in the buckets from `mid·(1 − depth)` up to the mid's bucket. */
  bidSize: number;
  /** Resting ask size in the buckets from the mid's bucket up to `mid·(1 + depth)`. */
  askSize: number;
  /**
   * `(bid − ask) / (bid + ask)`, from −1 (all asks) to 1 (all bids); null
   * when both are 0 or the column has no mid.
   */
  imbalance: number | null;
}

/**
 * The imbalance of a column within `depth` of its mid.
 * @param c the column (bucket `i` is `[(lo + i)·bucketSize, …)`).
 * @param depth half-width of the band, fraction of the mid (0.001: ±0.1 %).
 * @returns bid and ask size in the band and their imbalance.
 * @example
 * ```ts
 * const { imbalance } = imbalanceOf(column, 0.001);
 * ```
 */
export function imbalanceOf(c: Column, depth: number): Imbalance {
  const mid = midPrice(c.bestBid, c.bestAsk);
  let bid = 0;
  let ask = 0;
  if (mid === mid && c.n > 0) {
    const bs = c.bucketSize;
    const m = bucketOf(mid, bs) - c.lo;
    const from = Math.max(0, bucketOf(mid * (1 - depth), bs) - c.lo);
    const to = Math.min(c.n - 1, bucketOf(mid * (1 + depth), bs) - c.lo);
    for (let i = from, end = Math.min(m, c.n - 1); i <= end; i++) {
      bid += c.bids[i];
    }
    for (let i = Math.max(m, 0); i <= to; i++) ask += c.asks[i];
  }
  const total = bid + ask;
  return {
    bidSize: bid,
    askSize: ask,
    imbalance: total > 0 ? (bid - ask) / total : null,
  };
}
