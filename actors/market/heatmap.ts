/**
 * Price-bucket heatmap columns: resting liquidity and traded volume per
 * bucket for one tick, plus BBO and mid. Also the columnar packing used to
 * move columns between actors as one transferable buffer.
 *
 * @module
 */

import type { BookSide, OrderBook } from "./book.ts";
import type { Market } from "./events.ts";

/**
 * Index of the bucket holding `price`: `floor(price / bucketSize)`, with a
 * tolerance so decimal prices that sit exactly on a bucket edge (0.3513 with
 * size 0.0001) land in their own bucket despite binary rounding.
 * @param price quote currency.
 * @param bucketSize quote currency per bucket.
 */
export function bucketOf(price: number, bucketSize: number): number {
  return Math.floor(price / bucketSize + 1e-9);
}

/**
 * Default bucket size for a price: a power of ten near 0.01–0.1 % of it
 * (60 000 → 10, 3 000 → 1, 0.35 → 0.0001).
 * @param price a representative price (mid), quote currency.
 */
export function defaultBucketSize(price: number): number {
  return 10 ** (Math.floor(Math.log10(price)) - 3);
}

/**
 * The mid of a best bid and best ask: their midpoint, else whichever of the
 * two is known (a one-sided book), else NaN.
 * @param bestBid quote currency, NaN when there is no bid.
 * @param bestAsk quote currency, NaN when there is no ask.
 * @returns the mid, quote currency; NaN when both are missing.
 * @example
 * ```ts
 * midPrice(100, 102); // 101
 * midPrice(NaN, 102); // 102
 * ```
 */
export function midPrice(bestBid: number, bestAsk: number): number {
  if (bestBid === bestBid) {
    return bestAsk === bestAsk ? (bestBid + bestAsk) / 2 : bestBid;
  }
  return bestAsk;
}

/**
 * How far above zero, in buckets, a mid may sit when it sizes a column's
 * window. Bucket sizes are 0.01–0.1 % of the price they were fixed at
 * (1 000–10 000 buckets), so a mid past 100 000 buckets is a book whose mid
 * is nonsense (a best ask at 1e8 over bids at 60 000) or a price that moved
 * 10× since; either way the window keeps the width it would have at 100 000
 * buckets (`2 · range · 100 000` buckets, 10 001 at `range` 0.05), centred on
 * the mid as always, instead of growing with the mid (the 1e8 ask made a
 * 500 000-bucket, 16 MB column).
 */
export const MAX_MID_BUCKETS = 100_000;

/**
 * Liquidation volume in one bucket of one tick, base currency. A long
 * position is liquidated by a forced sell, a short one by a forced buy.
 */
export interface LiquidationBucket {
  /** Bucket index (`bucketOf` of the price), absolute like `lo`. */
  readonly bucket: number;
  /** Longs liquidated (forced sells) in the bucket during the tick. */
  readonly longs: number;
  /** Shorts liquidated (forced buys) in the bucket during the tick. */
  readonly shorts: number;
}

/**
 * Sums liquidation buckets by bucket, keeping those in `[lo, lo + n)`: one
 * venue's tick (its buckets in any order) or the venues merged into a
 * consolidated column.
 * @param lists liquidation buckets; undefined entries are skipped.
 * @param lo first bucket kept.
 * @param n number of buckets kept.
 * @returns the sums ascending by bucket, or undefined when none is left.
 * @example
 * ```ts
 * mergeLiquidations([[{ bucket: 6001, longs: 2, shorts: 0 }],
 *   [{ bucket: 6001, longs: 1, shorts: 3 }]], 6000, 10);
 * // [{ bucket: 6001, longs: 3, shorts: 3 }]
 * ```
 */
export function mergeLiquidations(
  lists: Iterable<readonly LiquidationBucket[] | undefined>,
  lo: number,
  n: number,
): LiquidationBucket[] | undefined {
  const sums = new Map<number, { longs: number; shorts: number }>();
  for (const list of lists) {
    for (const l of list ?? []) {
      if (l.bucket < lo || l.bucket >= lo + n) continue;
      const s = sums.get(l.bucket);
      if (s) {
        s.longs += l.longs;
        s.shorts += l.shorts;
      } else sums.set(l.bucket, { longs: l.longs, shorts: l.shorts });
    }
  }
  if (sums.size === 0) return undefined;
  return [...sums].sort((a, b) => a[0] - b[0]).map(([bucket, s]) => ({
    bucket,
    ...s,
  }));
}

/** Header of one column; the arrays live in a {@link ColumnBatch} buffer. */
export interface ColumnMeta {
  /** Exchange id, or `consolidated` for a merged column. */
  readonly exchange: string;
  /** The venue's symbol; for a consolidated column, its key. */
  readonly exchangeSymbol: string;
  /** Consolidation key, e.g. `BTC-USDT`. */
  readonly symbol: string;
  /** Market type; `mixed` for a consolidated column of several. */
  readonly market: Market | "mixed";
  /** Tick time, ms since epoch. */
  readonly ts: number;
  /** Quote currency per bucket. */
  readonly bucketSize: number;
  /** Bucket index of the first bucket (`bucketOf` of its lowest price). */
  readonly lo: number;
  /** Number of buckets. */
  readonly n: number;
  /** Best bid, quote currency; NaN when there is none. */
  readonly bestBid: number;
  /** Best ask, quote currency; NaN when there is none. */
  readonly bestAsk: number;
  /**
   * Start of this column's arrays in the batch buffer, in Float64 units.
   * Columns may share a region (a consolidated column of one venue points
   * at that venue's column), so treat the arrays as read-only.
   */
  readonly offset: number;
  /**
   * For a consolidated column, the exchanges merged into it (one entry per
   * merged column; excluded venues are not among them).
   */
  readonly parts?: string[];
  /**
   * Liquidations during the tick in the column's buckets, ascending by
   * bucket; absent when there were none. Sparse, since most ticks have none.
   */
  readonly liquidations?: readonly LiquidationBucket[];
  /**
   * For a consolidated column: its consensus mid, the venues left out and
   * whether the venues cross (see `mergeColumns`).
   */
  readonly consolidation?: ConsolidationInfo;
}

/** One venue's column as consolidation saw it. */
export interface VenueMid {
  /** Exchange id. */
  readonly exchange: string;
  /** The venue's symbol. */
  readonly exchangeSymbol: string;
  /** The venue's own mid (see {@link midPrice}), quote currency. */
  readonly mid: number;
  /**
   * Its weight in the consensus: resting size (bids + asks, base currency)
   * in its column's buckets within `outlierThreshold` (at most `range`) of
   * its own mid.
   */
  readonly weight: number;
  /** `mid / consensus mid - 1`: signed fraction of the consensus mid. */
  readonly deviation: number;
}

/** A venue left out of one tick's consolidated column. */
export interface Exclusion extends VenueMid {
  /** Why, in words: `mid 90000 is 50.00% above the consensus mid 60000 (threshold 2%)`. */
  readonly reason: string;
}

/** One side of the consolidated BBO and the venue quoting it. */
export interface VenueQuote {
  /** Exchange id. */
  readonly exchange: string;
  /** The venue's symbol. */
  readonly exchangeSymbol: string;
  /** Quote currency. */
  readonly price: number;
}

/** The merged book is crossed: one venue bids above another's ask. */
export interface Cross {
  /** The venue with the best (highest) bid. */
  readonly bid: VenueQuote;
  /** The venue with the best (lowest) ask, below that bid. */
  readonly ask: VenueQuote;
}

/** How a consolidated column was built; carried in its metadata. */
export interface ConsolidationInfo {
  /**
   * Consensus mid, quote currency: the liquidity-weighted median of the
   * venues' mids; NaN when no venue has a price.
   */
  readonly mid: number;
  /** Half-width of the column around the consensus mid, fraction of it. */
  readonly range: number;
  /** A venue whose mid deviates more than this (fraction of the consensus mid) is excluded. */
  readonly outlierThreshold: number;
  /** Every venue's mid, weight and deviation, in the order merged. */
  readonly venues: readonly VenueMid[];
  /** The venues excluded from this column, with why. */
  readonly excluded: readonly Exclusion[];
  /**
   * True when the best bid over the included venues is above their best ask:
   * a real cross between venues, shown as such (the BBO is not adjusted).
   */
  readonly crossed: boolean;
  /** The two venues of the cross; null when not crossed. */
  readonly cross: Cross | null;
}

/**
 * Columns of one tick. For column `c`, the Float64 buffer holds at
 * `c.offset`: bid size[n], ask size[n], buy volume[n], sell volume[n]; sizes
 * in base currency.
 */
export interface ColumnBatch {
  /** Message discriminator. */
  readonly type: "columns";
  /** Tick time, ms since epoch. */
  readonly ts: number;
  /** The columns' headers (their regions may repeat; see `offset`). */
  readonly columns: ColumnMeta[];
  /** Every column's arrays (Float64); transferred between actors. */
  readonly buf: ArrayBuffer;
  /**
   * Half-width around mid the columns were sampled with, fraction of mid
   * (the aggregator's `range`); consolidation keeps its columns within it.
   */
  readonly range?: number;
}

/** A decoded column with its arrays. */
export interface Column extends ColumnMeta {
  /** Resting bid size per bucket, base currency. */
  readonly bids: Float64Array;
  /** Resting ask size per bucket, base currency. */
  readonly asks: Float64Array;
  /** Volume bought (taker buys) per bucket during the tick, base currency. */
  readonly buys: Float64Array;
  /** Volume sold (taker sells) per bucket during the tick, base currency. */
  readonly sells: Float64Array;
}

/**
 * Views the columns of a batch.
 * @param b the batch.
 */
export function decodeColumns(b: ColumnBatch): Column[] {
  const all = new Float64Array(b.buf);
  return b.columns.map((c) => ({
    ...c,
    bids: all.subarray(c.offset, c.offset + c.n),
    asks: all.subarray(c.offset + c.n, c.offset + 2 * c.n),
    buys: all.subarray(c.offset + 2 * c.n, c.offset + 3 * c.n),
    sells: all.subarray(c.offset + 3 * c.n, c.offset + 4 * c.n),
  }));
}

/** A column under construction; arrays are owned by the caller. */
export type ColumnInit = Omit<Column, "offset">;

/** Options for {@link encodeColumns}. */
export interface EncodeOptions {
  /**
   * The range the columns were sampled with, stamped on the batch
   * ({@link ColumnBatch.range}); none when omitted.
   */
  range?: number;
}

/**
 * Packs columns into one batch buffer. Columns whose arrays already are,
 * in order, the whole of one buffer laid out as a batch (bids, asks, buys,
 * sells of each column; the aggregator builds its ticks so) are taken as
 * they are: the batch's `buf` is then that buffer, not a copy (and
 * transferring it detaches the caller's arrays).
 * @param ts tick time, ms.
 * @param cols columns to pack.
 * @param options the sampling range to stamp on the batch.
 * @returns the batch; transfer `buf` when posting it.
 * @example
 * ```ts
 * const b = encodeColumns(ts, agg.sample(ts, true), { range: 0.05 });
 * port.postMessage(b, [b.buf]);
 * ```
 */
export function encodeColumns(
  ts: number,
  cols: readonly ColumnInit[],
  options: EncodeOptions = {},
): ColumnBatch {
  let total = 0;
  for (const c of cols) total += 4 * c.n;
  const packed = packedBuffer(cols, total);
  const all = packed ? null : new Float64Array(total);
  const metas: ColumnMeta[] = [];
  let off = 0;
  for (const c of cols) {
    if (all) {
      all.set(c.bids, off);
      all.set(c.asks, off + c.n);
      all.set(c.buys, off + 2 * c.n);
      all.set(c.sells, off + 3 * c.n);
    }
    const { bids: _b, asks: _a, buys: _u, sells: _s, ...meta } = c;
    metas.push({ ...meta, offset: off });
    off += 4 * c.n;
  }
  const batch: ColumnBatch = {
    type: "columns",
    ts,
    columns: metas,
    buf: packed ?? all!.buffer as ArrayBuffer,
  };
  return options.range === undefined
    ? batch
    : { ...batch, range: options.range };
}

/**
 * The buffer `cols` are already packed in: every array a view of one plain
 * `ArrayBuffer` of exactly `total` doubles, at the offsets a batch gives it.
 * @returns that buffer, or null when they are laid out any other way.
 */
function packedBuffer(
  cols: readonly ColumnInit[],
  total: number,
): ArrayBuffer | null {
  if (cols.length === 0) return null;
  const buf = cols[0].bids.buffer;
  if (!(buf instanceof ArrayBuffer) || buf.byteLength !== 8 * total) {
    return null;
  }
  let off = 0;
  for (const c of cols) {
    const n = c.n;
    const arrays = [c.bids, c.asks, c.buys, c.sells];
    for (let k = 0; k < 4; k++) {
      const a = arrays[k];
      if (
        a.buffer !== buf || a.length !== n || a.byteOffset !== 8 * (off + k * n)
      ) return null;
    }
    off += 4 * n;
  }
  return buf;
}

/** Options for {@link sampleBook}. */
export interface SampleOptions {
  /** Quote currency per bucket. */
  bucketSize: number;
  /**
   * Half-width of the sampled range around mid, as a fraction of mid.
   * @default 0.05
   */
  range?: number;
}

/** Bucketed book: bucket `lo` is the first; arrays have one entry per bucket. */
export interface BookSample {
  /** Bucket index of the first bucket. */
  lo: number;
  /** Resting bid size per bucket, base currency. */
  bids: Float64Array;
  /** Resting ask size per bucket, base currency. */
  asks: Float64Array;
  /** Best bid, quote currency; NaN when there is none. */
  bestBid: number;
  /** Best ask, quote currency; NaN when there is none. */
  bestAsk: number;
}

/**
 * Sums resting size per bucket over `mid ± range · mid`, the book's own mid
 * ({@link midPrice}). The half-width is capped at `range` times
 * {@link MAX_MID_BUCKETS} buckets, so a book with a nonsense mid (its best
 * ask at 1e8 over bids at 60 000) gets a column of bounded size centred on
 * that mid, not one that grows with it.
 * @param book the L2 book.
 * @param options bucket size and range.
 * @returns the sample, or null when the book is empty.
 * @example
 * ```ts
 * const s = sampleBook(book, { bucketSize: 10, range: 0.05 });
 * ```
 */
export function sampleBook(
  book: OrderBook,
  options: SampleOptions,
): BookSample | null {
  const bs = options.bucketSize;
  const w = bookWindow(book, bs, options.range ?? 0.05);
  if (!w) return null;
  const bids = new Float64Array(w.n);
  const asks = new Float64Array(w.n);
  sumBids(book.bids, bs, w.lo, w.n, bids);
  sumAsks(book.asks, bs, w.lo, w.n, asks);
  return { lo: w.lo, bids, asks, bestBid: w.bestBid, bestAsk: w.bestAsk };
}

/** The buckets a book is sampled over, and its BBO. */
export interface BookWindow {
  /** Bucket index of the first bucket. */
  lo: number;
  /** Number of buckets. */
  n: number;
  /** Best bid, quote currency; NaN when there is none. */
  bestBid: number;
  /** Best ask, quote currency; NaN when there is none. */
  bestAsk: number;
}

/**
 * The buckets of `mid ± range · mid` around the book's own mid
 * ({@link midPrice}), the half-width capped at `range` times
 * {@link MAX_MID_BUCKETS} buckets (see {@link sampleBook}).
 * @param book the L2 book.
 * @param bucketSize quote currency per bucket.
 * @param range half-width, fraction of mid.
 * @returns the window, or null when the book is empty.
 */
export function bookWindow(
  book: OrderBook,
  bucketSize: number,
  range: number,
): BookWindow | null {
  const bestBid = book.bids.best();
  const bestAsk = book.asks.best();
  const mid = midPrice(bestBid, bestAsk);
  if (mid !== mid) return null;
  const cap = MAX_MID_BUCKETS * bucketSize;
  const lo = bucketOf(
    mid > cap ? mid - range * cap : mid * (1 - range),
    bucketSize,
  );
  const hi = bucketOf(
    mid > cap ? mid + range * cap : mid * (1 + range),
    bucketSize,
  );
  return { lo, n: hi - lo + 1, bestBid, bestAsk };
}

/**
 * Bucket indices below this are far from the limits of a double's
 * precision: a price `1e-6` of a bucket inside a bucket's edge is surely in
 * it (see {@link sumBids}).
 */
const EXACT_BUCKETS = 1e8;

/**
 * Sums bid sizes into buckets `lo … lo + n − 1` of `out`, walking from the
 * best bid down, as `bucketOf` places each level. Levels are sorted, and
 * `bucketOf` is monotonic, so a level at least `1e-6` of a bucket above the
 * lower edge of the bucket of a level above it is in that same bucket: only
 * the levels near an edge pay for a division.
 */
export function sumBids(
  side: BookSide,
  bs: number,
  lo: number,
  n: number,
  out: Float64Array,
): void {
  // Only the levels down to a bucket below the window (the loop stops at
  // the first one outside it).
  const count = bestOf(side, (lo - 1) * bs);
  const prices = scratchPrices;
  const sizes = scratchSizes;
  let k = 0;
  let inside = Infinity;
  for (let i = 0; i < count; i++) {
    const p = prices[i];
    if (!(p >= inside)) {
      const b = bucketOf(p, bs);
      k = b - lo;
      if (k < 0) break;
      inside = b < EXACT_BUCKETS ? (b + 1e-6) * bs : Infinity;
    }
    if (k < n) out[k] += sizes[i];
  }
}

/**
 * Sums ask sizes into buckets `lo … lo + n − 1` of `out`, from the best ask
 * up (see {@link sumBids}).
 */
export function sumAsks(
  side: BookSide,
  bs: number,
  lo: number,
  n: number,
  out: Float64Array,
): void {
  // Only the levels up to a bucket above the window (the loop stops at the
  // first one outside it).
  const count = bestOf(side, (lo + n + 1) * bs);
  const prices = scratchPrices;
  const sizes = scratchSizes;
  let k = 0;
  let inside = -Infinity;
  for (let i = 0; i < count; i++) {
    const p = prices[i];
    if (!(p < inside)) {
      const b = bucketOf(p, bs);
      k = b - lo;
      if (k >= n) break;
      inside = b < EXACT_BUCKETS ? (b + 1 - 1e-6) * bs : -Infinity;
    }
    if (k >= 0) out[k] += sizes[i];
  }
}

/** The levels {@link sumBids} and {@link sumAsks} read, best first. */
let scratchPrices = new Float64Array(1024);
/** Their sizes. */
let scratchSizes = new Float64Array(1024);

/**
 * Writes a side's levels best first into the scratch arrays, down to
 * `bound` (see `BookSide.bestLevels`); the arrays grow to the side's length
 * only when the levels within the bound fill them.
 * @returns how many were written.
 */
function bestOf(side: BookSide, bound: number): number {
  const n = side.bestLevels(scratchPrices, scratchSizes, bound);
  if (n < scratchPrices.length || n === side.length) return n;
  scratchPrices = new Float64Array(side.length);
  scratchSizes = new Float64Array(side.length);
  return side.bestLevels(scratchPrices, scratchSizes, bound);
}
