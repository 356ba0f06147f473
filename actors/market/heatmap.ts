/**
 * Price-bucket heatmap columns: resting liquidity and traded volume per
 * bucket for one tick, plus BBO and mid. Also the columnar packing used to
 * move columns between actors as one transferable buffer.
 *
 * @module
 */

import type { OrderBook } from "./book.ts";
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

/** Header of one column; the arrays live in a {@link ColumnBatch} buffer. */
export interface ColumnMeta {
  /** Exchange id, or `consolidated` for a merged column. */
  readonly exchange: string;
  readonly exchangeSymbol: string;
  /** Consolidation key, e.g. `BTC-USDT`. */
  readonly symbol: string;
  readonly market: Market | "mixed";
  /** Tick time, ms since epoch. */
  readonly ts: number;
  readonly bucketSize: number;
  /** Bucket index of the first bucket (`bucketOf` of its lowest price). */
  readonly lo: number;
  /** Number of buckets. */
  readonly n: number;
  readonly bestBid: number;
  readonly bestAsk: number;
  /** Start of this column's arrays in the batch buffer, in Float64 units. */
  readonly offset: number;
  /** For a consolidated column, the exchanges merged into it. */
  readonly parts?: string[];
}

/**
 * Columns of one tick. For column `c`, the Float64 buffer holds at
 * `c.offset`: bid size[n], ask size[n], buy volume[n], sell volume[n]; sizes
 * in base currency.
 */
export interface ColumnBatch {
  readonly type: "columns";
  readonly ts: number;
  readonly columns: ColumnMeta[];
  readonly buf: ArrayBuffer;
}

/** A decoded column with its arrays. */
export interface Column extends ColumnMeta {
  readonly bids: Float64Array;
  readonly asks: Float64Array;
  readonly buys: Float64Array;
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

/**
 * Packs columns into one batch buffer.
 * @param ts tick time, ms.
 * @param cols columns to pack.
 */
export function encodeColumns(
  ts: number,
  cols: readonly ColumnInit[],
): ColumnBatch {
  let total = 0;
  for (const c of cols) total += 4 * c.n;
  const all = new Float64Array(total);
  const metas: ColumnMeta[] = [];
  let off = 0;
  for (const c of cols) {
    all.set(c.bids, off);
    all.set(c.asks, off + c.n);
    all.set(c.buys, off + 2 * c.n);
    all.set(c.sells, off + 3 * c.n);
    const { bids: _b, asks: _a, buys: _u, sells: _s, ...meta } = c;
    metas.push({ ...meta, offset: off });
    off += 4 * c.n;
  }
  return { type: "columns", ts, columns: metas, buf: all.buffer };
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
  lo: number;
  bids: Float64Array;
  asks: Float64Array;
  bestBid: number;
  bestAsk: number;
}

/**
 * Sums resting size per bucket over `mid × (1 ± range)`.
 * @param book the L2 book.
 * @param options bucket size and range.
 * @returns the sample, or null when the book is empty.
 */
export function sampleBook(
  book: OrderBook,
  options: SampleOptions,
): BookSample | null {
  const bs = options.bucketSize;
  const range = options.range ?? 0.05;
  const bestBid = book.bids.best();
  const bestAsk = book.asks.best();
  const mid = bestBid === bestBid
    ? (bestAsk === bestAsk ? (bestBid + bestAsk) / 2 : bestBid)
    : bestAsk;
  if (mid !== mid) return null;
  const lo = bucketOf(mid * (1 - range), bs);
  const hi = bucketOf(mid * (1 + range), bs);
  const n = hi - lo + 1;
  const bids = new Float64Array(n);
  const asks = new Float64Array(n);
  const b = book.bids;
  for (let i = b.length - 1; i >= 0; i--) {
    const k = bucketOf(b.prices[i], bs) - lo;
    if (k < 0) break;
    if (k < n) bids[k] += b.sizes[i];
  }
  const a = book.asks;
  for (let i = a.length - 1; i >= 0; i--) {
    const k = bucketOf(a.prices[i], bs) - lo;
    if (k >= n) break;
    if (k >= 0) asks[k] += a.sizes[i];
  }
  return { lo, bids, asks, bestBid, bestAsk };
}
