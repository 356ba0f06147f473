/**
 * Consolidation: which exchange symbols count as the same asset pair, and how
 * their heatmap columns merge into one around a consensus price.
 *
 * The consensus mid of a tick is the liquidity-weighted median of the venues'
 * mids ({@link weightedMedian}, weights from {@link venueWeight}). A venue
 * whose mid deviates from it by more than `outlierThreshold` is left out of
 * that tick's consolidated column, and the column spans only `range` around
 * the consensus mid, so one stale or wrong venue can neither stretch the
 * column (a best ask at 1e8 once made it 6.5 M buckets, 198 MiB) nor cross
 * the merged BBO. A cross between venues that agree with the consensus is an
 * arbitrage and is reported, not hidden.
 *
 * @module
 */

import {
  bucketOf,
  type Column,
  type ColumnBatch,
  type ColumnInit,
  type ColumnMeta,
  type ConsolidationInfo,
  type Cross,
  decodeColumns,
  type Exclusion,
  type LiquidationBucket,
  mergeLiquidations,
  midPrice,
  type VenueMid,
} from "./heatmap.ts";

/**
 * The consolidation key of a normalized symbol: `BASE-QUOTE` with the quote
 * mapped through `aliases` (stated in config, never guessed).
 * @param symbol normalized `BASE-QUOTE`.
 * @param aliases quote currency → the quote it counts as, e.g. `{USDT: "USD"}`.
 * @returns e.g. `BTC-USD` for `BTC-USDT` with `{USDT: "USD"}`.
 * @example
 * ```ts
 * consolidationKey("BTC-USDT", { USDT: "USD" }); // "BTC-USD"
 * ```
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
 * The lower weighted median: the smallest value such that the values at or
 * below it carry at least half of the total weight. It is always one of the
 * values (so a consensus price is always some venue's own mid, and at least
 * that venue agrees with it), and a value of zero weight is never chosen
 * while any weight is positive. With every weight zero (or none finite) the
 * values count equally. Values that are not finite are ignored; weights
 * that are not finite or negative count as zero. With exactly half the
 * weight on each side of a gap the lower value is chosen.
 * @param values the values, e.g. venues' mids (quote currency).
 * @param weights one weight per value, e.g. resting size (base currency).
 * @returns the weighted median; NaN when no value is finite.
 * @throws {RangeError} when the two arrays differ in length.
 * @example
 * ```ts
 * weightedMedian([100, 101, 150], [5, 4, 3]); // 101: 9 of 12 at or below it
 * weightedMedian([100, 101, 150], [1, 1, 10]); // 150
 * ```
 */
export function weightedMedian(
  values: ArrayLike<number>,
  weights: ArrayLike<number>,
): number {
  if (values.length !== weights.length) {
    throw new RangeError(
      `Values and weights differ in length: ${values.length} vs ${weights.length}`,
    );
  }
  const idx: number[] = [];
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    idx.push(i);
    const w = weights[i];
    if (Number.isFinite(w) && w > 0) total += w;
  }
  if (idx.length === 0) return NaN;
  const equal = !(total > 0);
  const weightOf = (i: number) => {
    if (equal) return 1;
    const w = weights[i];
    return Number.isFinite(w) && w > 0 ? w : 0;
  };
  if (equal) total = idx.length;
  idx.sort((a, b) => values[a] - values[b]);
  let cum = 0;
  for (const i of idx) {
    cum += weightOf(i);
    if (cum * 2 >= total) return values[i];
  }
  return values[idx[idx.length - 1]];
}

/**
 * A venue's weight in the consensus: its resting size near its own touch,
 * i.e. bids plus asks (base currency) in the buckets of its column that
 * overlap `mid ± band · mid`, `mid` being the venue's own mid. Liquidity that
 * a venue really quotes near its price counts; a stale or one-sided book
 * whose mid sits in an empty gap (best ask at 1e8 over bids at 60 000)
 * weighs nothing.
 * @param col the venue's column.
 * @param band half-width, fraction of the venue's mid.
 * @returns base currency; 0 when the column has no mid.
 * @example
 * ```ts
 * venueWeight(col, 0.02); // BTC resting within ±2 % of the venue's mid
 * ```
 */
export function venueWeight(col: ColumnInit, band: number): number {
  const mid = midPrice(col.bestBid, col.bestAsk);
  if (!(mid > 0) || col.n === 0) return 0;
  const from = Math.max(0, bucketOf(mid * (1 - band), col.bucketSize) - col.lo);
  const to = Math.min(
    col.n - 1,
    bucketOf(mid * (1 + band), col.bucketSize) - col.lo,
  );
  let w = 0;
  for (let i = from; i <= to; i++) w += col.bids[i] + col.asks[i];
  return w;
}

/** Options for {@link mergeColumns}. */
export interface MergeOptions {
  /**
   * Half-width of the consolidated column around the consensus mid,
   * fraction of it (config `range`).
   * @default 0.05
   */
  range?: number;
  /**
   * A venue whose mid deviates from the consensus mid by more than this
   * fraction of it is left out of the column (config `outlierThreshold`).
   * It is also the band of the venues' weights ({@link venueWeight}), at
   * most `range`.
   * @default 0.02
   */
  outlierThreshold?: number;
}

/** The market of merged columns: theirs when they share one, else `mixed`. */
function market(cols: readonly ColumnInit[]): ColumnInit["market"] {
  return cols.every((c) => c.market === cols[0].market)
    ? cols[0].market
    : "mixed";
}

/** Formats a price with at most 8 significant digits. */
function px(v: number): string {
  return String(+v.toPrecision(8));
}

/**
 * Merges the columns of one key and tick (one bucket size) into the
 * consolidated column:
 *
 * 1. each column's own mid ({@link midPrice}) and weight ({@link venueWeight}
 *    with band `outlierThreshold`, at most `range`);
 * 2. the consensus mid: the {@link weightedMedian} of the mids;
 * 3. a column whose mid deviates from the consensus by more than
 *    `outlierThreshold` (or that has no price) is excluded, with its mid,
 *    deviation and a reason in the metadata;
 * 4. the included columns are summed over `consensus ± range · consensus`,
 *    clipped to the buckets they cover, so the column never exceeds
 *    `2 · range · consensus / bucketSize + 1` buckets whatever a venue quotes;
 * 5. the BBO is the best bid and best ask over the included columns; if the
 *    bid is above the ask, two agreeing venues cross (an arbitrage) and the
 *    metadata says `crossed: true` with both venues; the BBO is left crossed.
 * @param cols at least one column; all with one bucket size.
 * @param options range and outlier threshold.
 * @returns the consolidated column, exchange `consolidated`, with the
 *   included exchanges in `parts` and the rest in `consolidation`.
 * @throws {Error} when `cols` is empty or bucket sizes differ.
 * @example
 * ```ts
 * const total = mergeColumns(cols, { range: 0.05, outlierThreshold: 0.02 });
 * total.consolidation!.excluded; // [{exchange: "stale", deviation: 0.5, …}]
 * ```
 */
export function mergeColumns(
  cols: readonly ColumnInit[],
  options: MergeOptions = {},
): ColumnInit {
  const { meta, included } = planMerge(cols, options);
  const n = meta.n;
  const all = new Float64Array(4 * n);
  fillMerge(meta, included, all);
  return {
    ...meta,
    bids: all.subarray(0, n),
    asks: all.subarray(n, 2 * n),
    buys: all.subarray(2 * n, 3 * n),
    sells: all.subarray(3 * n),
  };
}

/**
 * A consolidated column's header and the columns it merges, before its
 * arrays are summed (see {@link mergeColumns}).
 */
interface MergePlan {
  /** The consolidated column without its arrays. */
  meta: Omit<ColumnInit, "bids" | "asks" | "buys" | "sells">;
  /** The included columns, to sum over `meta.lo … meta.lo + meta.n − 1`. */
  included: readonly ColumnInit[];
}

/**
 * Steps 1–3 and 5 of {@link mergeColumns}: the consensus, the exclusions,
 * the span and the BBO.
 * @throws {Error} when `cols` is empty or bucket sizes differ.
 */
function planMerge(
  cols: readonly ColumnInit[],
  options: MergeOptions,
): MergePlan {
  if (cols.length === 0) throw new Error("No columns to merge");
  const range = options.range ?? 0.05;
  const threshold = options.outlierThreshold ?? 0.02;
  const bs = cols[0].bucketSize;
  const mids = new Float64Array(cols.length);
  const weights = new Float64Array(cols.length);
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    if (c.bucketSize !== bs) {
      throw new Error(
        `Bucket sizes differ: ${bs} vs ${c.bucketSize} (${c.exchange})`,
      );
    }
    mids[i] = midPrice(c.bestBid, c.bestAsk);
    weights[i] = venueWeight(c, Math.min(threshold, range));
  }
  const consensus = weightedMedian(mids, weights);

  const venues: VenueMid[] = [];
  const excluded: Exclusion[] = [];
  const included: ColumnInit[] = [];
  let partLo = Infinity;
  let partHi = -Infinity;
  let bid: ColumnInit | null = null;
  let ask: ColumnInit | null = null;
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    const mid = mids[i];
    const deviation = mid / consensus - 1;
    const v: VenueMid = {
      exchange: c.exchange,
      exchangeSymbol: c.exchangeSymbol,
      mid,
      weight: weights[i],
      deviation,
    };
    venues.push(v);
    if (!(Math.abs(deviation) <= threshold)) {
      const reason = mid === mid
        ? `mid ${px(mid)} is ${(Math.abs(deviation) * 100).toFixed(2)}% ${
          deviation > 0 ? "above" : "below"
        } the consensus mid ${px(consensus)} (threshold ${+(threshold * 100)
          .toPrecision(6)}%)`
        : "no best bid or ask";
      excluded.push({ ...v, reason });
      continue;
    }
    included.push(c);
    partLo = Math.min(partLo, c.lo);
    partHi = Math.max(partHi, c.lo + c.n - 1);
    if (c.bestBid === c.bestBid && !(bid && bid.bestBid >= c.bestBid)) bid = c;
    if (c.bestAsk === c.bestAsk && !(ask && ask.bestAsk <= c.bestAsk)) ask = c;
  }

  let lo = 0;
  let n = 0;
  if (included.length > 0) {
    lo = Math.max(partLo, bucketOf(consensus * (1 - range), bs));
    const hi = Math.min(partHi, bucketOf(consensus * (1 + range), bs));
    n = Math.max(0, hi - lo + 1);
  }

  const bestBid = bid ? bid.bestBid : NaN;
  const bestAsk = ask ? ask.bestAsk : NaN;
  const cross: Cross | null = bid && ask && bestBid > bestAsk
    ? {
      bid: {
        exchange: bid.exchange,
        exchangeSymbol: bid.exchangeSymbol,
        price: bestBid,
      },
      ask: {
        exchange: ask.exchange,
        exchangeSymbol: ask.exchangeSymbol,
        price: bestAsk,
      },
    }
    : null;
  const consolidation: ConsolidationInfo = {
    mid: consensus,
    range,
    outlierThreshold: threshold,
    venues,
    excluded,
    crossed: cross !== null,
    cross,
  };
  const meta = {
    exchange: "consolidated",
    exchangeSymbol: cols[0].symbol,
    symbol: cols[0].symbol,
    market: market(included.length ? included : cols),
    ts: cols[0].ts,
    bucketSize: bs,
    lo,
    n,
    bestBid,
    bestAsk,
    parts: included.map((c) => c.exchange),
    consolidation,
    ...liquidationsOf(included, lo, n),
  };
  return { meta, included };
}

/**
 * Step 4 of {@link mergeColumns}: sums the included columns into `out`,
 * the consolidated column's bids, asks, buys and sells one after another
 * (`4 · n` zeros on entry).
 */
function fillMerge(
  meta: MergePlan["meta"],
  included: readonly ColumnInit[],
  out: Float64Array,
): void {
  const { lo, n } = meta;
  for (const c of included) {
    const from = Math.max(0, lo - c.lo);
    const to = Math.min(c.n, lo + n - c.lo);
    const o = c.lo - lo;
    const { bids, asks, buys, sells } = c;
    for (let i = from; i < to; i++) {
      out[o + i] += bids[i];
      out[n + o + i] += asks[i];
      out[2 * n + o + i] += buys[i];
      out[3 * n + o + i] += sells[i];
    }
  }
}

/** The merged liquidations of `cols` within `[lo, lo + n)`, as a spread. */
function liquidationsOf(
  cols: readonly ColumnInit[],
  lo: number,
  n: number,
): { liquidations?: LiquidationBucket[] } {
  const liquidations = mergeLiquidations(
    cols.map((c) => c.liquidations),
    lo,
    n,
  );
  return liquidations ? { liquidations } : {};
}

/** Options for {@link consolidate}. */
export interface ConsolidateOptions {
  /**
   * Outlier threshold, fraction of the consensus mid.
   * @default 0.02
   */
  outlierThreshold?: number;
  /**
   * Half-width of the consolidated columns, fraction of the consensus mid.
   * @default the batch's `range`, else 0.05
   */
  range?: number;
}

/**
 * Adds one consolidated column per key to a tick's columns. A key with one
 * included column that spans the consolidated range as it is (a venue of
 * its own) points at that column's numbers rather than a copy; when every
 * key does, the result's buffer is `b.buf` itself.
 * @param b the aggregator's tick; the result may share its buffer, so do
 *   not use `b` after.
 * @param options outlier threshold and range.
 * @returns a batch holding the per-exchange columns then the consolidated
 *   ones (in key order), with the batch's `range`.
 * @example
 * ```ts
 * const out = consolidate(batch, { outlierThreshold: 0.02 });
 * ```
 */
export function consolidate(
  b: ColumnBatch,
  options: ConsolidateOptions = {},
): ColumnBatch {
  const cols = decodeColumns(b);
  const groups = new Map<string, Column[]>();
  for (const c of cols) {
    const g = groups.get(c.symbol);
    if (g) g.push(c);
    else groups.set(c.symbol, [c]);
  }
  const range = options.range ?? b.range ?? 0.05;
  const merge = { range, outlierThreshold: options.outlierThreshold ?? 0.02 };
  const input = new Float64Array(b.buf);
  const columns: ColumnMeta[] = [...b.columns];
  // A key whose one included column spans exactly the consolidated range
  // shares that column's numbers (a sum of one column is the column);
  // the others are summed after the exchanges' columns.
  const summed: [MergePlan, number][] = [];
  let total = input.length;
  for (const g of groups.values()) {
    const plan = planMerge(g, merge);
    const { meta, included } = plan;
    const only = included.length === 1 ? included[0] as Column : null;
    if (only !== null && only.lo === meta.lo && only.n === meta.n) {
      columns.push({ ...meta, offset: only.offset });
    } else {
      columns.push({ ...meta, offset: total });
      summed.push([plan, total]);
      total += 4 * meta.n;
    }
  }
  if (summed.length === 0) {
    return { type: "columns", ts: b.ts, columns, buf: b.buf, range };
  }
  // One buffer: the exchanges' columns as they were (one copy, same
  // offsets), then the summed consolidated columns.
  const all = new Float64Array(total);
  all.set(input);
  for (const [{ meta, included }, off] of summed) {
    fillMerge(meta, included, all.subarray(off, off + 4 * meta.n));
  }
  return { type: "columns", ts: b.ts, columns, buf: all.buffer, range };
}
