/**
 * Heatmap columns as the browser receives them, and the ring that keeps the
 * most recent ones for the chart.
 *
 * @module
 */

import type { ColumnPayload } from "../actors/system/hub.ts";

/**
 * One heatmap column (one tick of one symbol), as sent by
 * `GET /api/v1/heatmap/stream` in `column` events. Bucket `i` covers prices
 * `[(lo + i) · bucketSize, (lo + i + 1) · bucketSize)`. `bids` / `asks` are the
 * resting size in base currency at the end of the tick, `buys` / `sells` the
 * volume traded during the tick. All four arrays have the same length.
 */
export type HeatColumn = Readonly<ColumnPayload>;

/** Read access to an ordered run of columns, oldest first. */
export interface ColumnSource {
  /** Number of columns. */
  readonly length: number;
  /**
   * The column at a position.
   * @param i position, `0` is the oldest.
   * @returns the column.
   */
  at(i: number): HeatColumn;
}

/**
 * A ring of columns in time order. Pushing past capacity drops the oldest
 * column; older columns loaded from history are prepended with
 * {@linkcode ColumnRing.prepend}, which grows the ring to hold them. It also
 * remembers, per column, the lowest and highest price with resting size, so
 * the chart can range its price axis without scanning every bucket on every
 * frame.
 *
 * @example Keep the last two columns
 * ```ts
 * const ring = new ColumnRing(2);
 * ring.push(col1); ring.push(col2); ring.push(col3);
 * ring.length; // 2
 * ring.at(0) === col2; // true
 * ```
 */
export class ColumnRing implements ColumnSource {
  #capacity: number;
  #cols: (HeatColumn | undefined)[];
  #lo: Float64Array;
  #hi: Float64Array;
  #head = 0;
  #len = 0;

  /**
   * Creates an empty ring.
   * @param capacity maximum number of columns kept.
   * @throws {RangeError} if `capacity` is not a positive integer.
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Capacity must be a positive integer, got ${capacity}`,
      );
    }
    this.#capacity = capacity;
    this.#cols = new Array(capacity);
    this.#lo = new Float64Array(capacity);
    this.#hi = new Float64Array(capacity);
  }

  /**
   * Maximum number of columns kept: the constructor's, or more once
   * {@linkcode prepend} grew the ring.
   */
  get capacity(): number {
    return this.#capacity;
  }

  /** Number of columns held. */
  get length(): number {
    return this.#len;
  }

  /**
   * The column at a position.
   * @param i position, `0` is the oldest; must be below {@linkcode length}.
   * @returns the column.
   */
  at(i: number): HeatColumn {
    return this.#cols[(this.#head + i) % this.#capacity]!;
  }

  /**
   * Lowest price with resting size in a column.
   * @param i position, `0` is the oldest.
   * @returns the price, or `Infinity` when the column is empty.
   */
  priceLow(i: number): number {
    return this.#lo[(this.#head + i) % this.#capacity];
  }

  /**
   * Highest price with resting size in a column (top edge of its bucket).
   * @param i position, `0` is the oldest.
   * @returns the price, or `-Infinity` when the column is empty.
   */
  priceHigh(i: number): number {
    return this.#hi[(this.#head + i) % this.#capacity];
  }

  /**
   * Appends a column. A column older than the newest one is ignored (the
   * stream replays its backlog after a reconnect); one with the same `ts`
   * replaces the newest.
   * @param col the column.
   * @returns `true` if the column was stored.
   */
  push(col: HeatColumn): boolean {
    let slot: number;
    if (this.#len > 0) {
      const last = (this.#head + this.#len - 1) % this.#capacity;
      const lastTs = this.#cols[last]!.ts;
      if (col.ts < lastTs) return false;
      if (col.ts === lastTs) slot = last;
      else slot = this.#append();
    } else {
      slot = this.#append();
    }
    this.#place(slot, col);
    return true;
  }

  /**
   * Prepends older columns (loaded from history) before the oldest held,
   * growing the ring when they do not fit, so no newer column is dropped.
   * Columns at or after the oldest held one are ignored, as are columns out
   * of time order.
   * @param cols older columns, oldest first.
   * @returns how many were prepended.
   * @example Prepend the columns the history answered
   * ```ts
   * const ring = new ColumnRing(600);
   * ring.push(col3);
   * ring.prepend([col1, col2]); // 2
   * ring.at(0) === col1; // true
   * ```
   */
  prepend(cols: readonly HeatColumn[]): number {
    // The longest run, in order, ending before the oldest held column.
    let end = cols.length;
    const first = this.#len > 0 ? this.at(0).ts : Infinity;
    while (end > 0 && !(cols[end - 1].ts < first)) end--;
    let start = end - 1;
    while (start > 0 && cols[start - 1].ts < cols[start].ts) start--;
    const k = end - Math.max(start, 0);
    if (k <= 0) return 0;
    if (this.#len + k > this.#capacity) this.#grow(this.#len + k);
    for (let j = end - 1; j >= start; j--) {
      this.#head = (this.#head - 1 + this.#capacity) % this.#capacity;
      this.#len++;
      this.#place(this.#head, cols[j]);
    }
    return k;
  }

  /** Stores a column in a slot with its price extent. */
  #place(slot: number, col: HeatColumn): void {
    this.#cols[slot] = col;
    // Extent of non-empty buckets, computed once per column.
    const bids = col.bids, asks = col.asks, n = bids.length;
    let first = -1, last = -1;
    for (let i = 0; i < n; i++) {
      if (bids[i] + asks[i] > 0) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0) {
      this.#lo[slot] = Infinity;
      this.#hi[slot] = -Infinity;
    } else {
      this.#lo[slot] = (col.lo + first) * col.bucketSize;
      this.#hi[slot] = (col.lo + last + 1) * col.bucketSize;
    }
  }

  /** Re-lays the ring out, oldest at slot 0, with room for `capacity`. */
  #grow(capacity: number): void {
    const cols = new Array<HeatColumn | undefined>(capacity);
    const lo = new Float64Array(capacity);
    const hi = new Float64Array(capacity);
    for (let i = 0; i < this.#len; i++) {
      const from = (this.#head + i) % this.#capacity;
      cols[i] = this.#cols[from];
      lo[i] = this.#lo[from];
      hi[i] = this.#hi[from];
    }
    this.#cols = cols;
    this.#lo = lo;
    this.#hi = hi;
    this.#head = 0;
    this.#capacity = capacity;
  }

  /** Drops every column. */
  clear(): void {
    this.#cols.fill(undefined);
    this.#head = 0;
    this.#len = 0;
  }

  #append(): number {
    if (this.#len < this.#capacity) {
      return (this.#head + this.#len++) % this.#capacity;
    }
    const slot = this.#head;
    this.#head = (this.#head + 1) % this.#capacity;
    return slot;
  }
}
