/**
 * Consolidation: which exchange symbols count as the same asset pair, and how
 * their heatmap columns merge into one.
 *
 * @module
 */

import type { Column, ColumnInit } from "./heatmap.ts";

/**
 * The consolidation key of a normalized symbol: `BASE-QUOTE` with the quote
 * mapped through `aliases` (stated in config, never guessed).
 * @param symbol normalized `BASE-QUOTE`.
 * @param aliases quote currency → the quote it counts as, e.g. `{USDT: "USD"}`.
 * @returns e.g. `BTC-USD` for `BTC-USDT` with `{USDT: "USD"}`.
 */
export function consolidationKey(
  symbol: string,
  aliases: Readonly<Record<string, string>>,
): string {
  const dash = symbol.lastIndexOf("-");
  if (dash < 0) return symbol;
  const quote = symbol.slice(dash + 1);
  return `${symbol.slice(0, dash)}-${aliases[quote] ?? quote}`;
}

/**
 * Merges columns of the same key and tick (same bucket size) into one,
 * summing every array over the union of their bucket ranges. The BBO is the
 * best bid and best ask across the parts.
 * @param cols at least one column; all with one bucket size.
 * @returns the consolidated column, exchange `consolidated`, with `parts`.
 * @throws {Error} when `cols` is empty or bucket sizes differ.
 */
export function mergeColumns(cols: readonly Column[]): ColumnInit {
  if (cols.length === 0) throw new Error("No columns to merge");
  const bs = cols[0].bucketSize;
  let lo = Infinity;
  let hi = -Infinity;
  let bestBid = NaN;
  let bestAsk = NaN;
  for (const c of cols) {
    if (c.bucketSize !== bs) {
      throw new Error(
        `Bucket sizes differ: ${bs} vs ${c.bucketSize} (${c.exchange})`,
      );
    }
    lo = Math.min(lo, c.lo);
    hi = Math.max(hi, c.lo + c.n - 1);
    if (!(c.bestBid <= bestBid)) bestBid = c.bestBid;
    if (!(c.bestAsk >= bestAsk)) bestAsk = c.bestAsk;
  }
  const n = hi - lo + 1;
  const bids = new Float64Array(n);
  const asks = new Float64Array(n);
  const buys = new Float64Array(n);
  const sells = new Float64Array(n);
  for (const c of cols) {
    const o = c.lo - lo;
    for (let i = 0; i < c.n; i++) {
      bids[o + i] += c.bids[i];
      asks[o + i] += c.asks[i];
      buys[o + i] += c.buys[i];
      sells[o + i] += c.sells[i];
    }
  }
  return {
    exchange: "consolidated",
    exchangeSymbol: cols[0].symbol,
    symbol: cols[0].symbol,
    market: cols.every((c) => c.market === cols[0].market)
      ? cols[0].market
      : "mixed",
    ts: cols[0].ts,
    bucketSize: bs,
    lo,
    n,
    bestBid,
    bestAsk,
    parts: cols.map((c) => c.exchange),
    bids,
    asks,
    buys,
    sells,
  };
}
