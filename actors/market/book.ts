/**
 * An exact L2 order book: two sorted sides of `(price, size)` levels kept in
 * typed arrays. Each side stores its best level last, so the frequent updates
 * near the BBO move little memory.
 *
 * @module
 */

import type { Levels, RawLevels } from "./events.ts";

/**
 * One side of a book. Bids are kept in ascending price and asks in
 * descending price, so index `length - 1` is always the best level.
 */
export class BookSide {
  /** Prices, sorted so the best is last. */
  prices: Float64Array;
  /** Sizes in base currency, aligned with `prices`. */
  sizes: Float64Array;
  /** Number of live levels. */
  length = 0;
  /** The venue's price strings, aligned with `prices` (checksum venues only). */
  readonly rawPrices: string[] | null;
  /** The venue's size strings, aligned with `sizes` (checksum venues only). */
  readonly rawSizes: string[] | null;
  readonly #dir: number;

  /**
   * @param isBid true for the bid side (ascending prices), false for asks.
   * @param keepRaw also keep the venue's level strings, for checksums.
   */
  constructor(isBid: boolean, keepRaw = false) {
    this.#dir = isBid ? 1 : -1;
    this.prices = new Float64Array(256);
    this.sizes = new Float64Array(256);
    this.rawPrices = keepRaw ? [] : null;
    this.rawSizes = keepRaw ? [] : null;
  }

  /** Index of `price`, or `-(insertion point) - 1` when absent. */
  #find(price: number): number {
    const key = price * this.#dir;
    const prices = this.prices;
    const dir = this.#dir;
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = prices[mid] * dir;
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  /**
   * Sets the size at `price`; a size of 0 removes the level.
   * @param price price in quote currency.
   * @param size size in base currency.
   * @param rawPrice the venue's price string (kept when the side keeps raw strings).
   * @param rawSize the venue's size string.
   */
  set(price: number, size: number, rawPrice = "", rawSize = ""): void {
    const i = this.#find(price);
    const rp = this.rawPrices;
    const rs = this.rawSizes;
    if (i >= 0) {
      if (size === 0) {
        this.prices.copyWithin(i, i + 1, this.length);
        this.sizes.copyWithin(i, i + 1, this.length);
        this.length--;
        rp?.splice(i, 1);
        rs?.splice(i, 1);
      } else {
        this.sizes[i] = size;
        if (rs) rs[i] = rawSize;
      }
      return;
    }
    if (size === 0) return;
    const at = -i - 1;
    if (this.length === this.prices.length) this.#grow();
    this.prices.copyWithin(at + 1, at, this.length);
    this.sizes.copyWithin(at + 1, at, this.length);
    this.prices[at] = price;
    this.sizes[at] = size;
    this.length++;
    rp?.splice(at, 0, rawPrice);
    rs?.splice(at, 0, rawSize);
  }

  #grow(): void {
    const prices = new Float64Array(this.prices.length * 2);
    const sizes = new Float64Array(this.sizes.length * 2);
    prices.set(this.prices);
    sizes.set(this.sizes);
    this.prices = prices;
    this.sizes = sizes;
  }

  /** Best price, or NaN when the side is empty. */
  best(): number {
    return this.length ? this.prices[this.length - 1] : NaN;
  }

  /**
   * Drops the worst levels so that at most `depth` remain.
   * @param depth levels to keep.
   * @param dropped receives the dropped levels as deletes `[price, 0, …]`.
   * @returns how many levels were dropped.
   */
  truncate(depth: number, dropped?: Levels): number {
    const excess = this.length - depth;
    if (excess <= 0) return 0;
    // The worst levels sit at the front (best last).
    if (dropped) {
      for (let i = 0; i < excess; i++) dropped.push(this.prices[i], 0);
    }
    this.prices.copyWithin(0, excess, this.length);
    this.sizes.copyWithin(0, excess, this.length);
    this.length -= excess;
    this.rawPrices?.splice(0, excess);
    this.rawSizes?.splice(0, excess);
    return excess;
  }

  /** Removes every level. */
  clear(): void {
    this.length = 0;
    this.rawPrices?.splice(0);
    this.rawSizes?.splice(0);
  }

  /**
   * The best `depth` levels as `[price, size]` pairs, best first.
   * @param depth number of levels; Infinity for all.
   */
  top(depth: number): [number, number][] {
    const out: [number, number][] = [];
    const end = Math.max(0, this.length - depth);
    for (let i = this.length - 1; i >= end; i--) {
      out.push([this.prices[i], this.sizes[i]]);
    }
    return out;
  }
}

/** An L2 book with bid and ask sides. */
export class OrderBook {
  readonly bids: BookSide;
  readonly asks: BookSide;

  /** @param keepRaw also keep the venue's level strings, for checksums. */
  constructor(keepRaw = false) {
    this.bids = new BookSide(true, keepRaw);
    this.asks = new BookSide(false, keepRaw);
  }

  /**
   * Applies flat levels `[price, size, …]` to both sides.
   * @param bids bid levels; size 0 removes.
   * @param asks ask levels; size 0 removes.
   * @param raw the venue's strings for the same levels (checksum venues).
   */
  apply(bids: Levels, asks: Levels, raw?: RawLevels): void {
    const rb = raw?.bids;
    const ra = raw?.asks;
    for (let i = 0; i < bids.length; i += 2) {
      this.bids.set(bids[i], bids[i + 1], rb?.[i], rb?.[i + 1]);
    }
    for (let i = 0; i < asks.length; i += 2) {
      this.asks.set(asks[i], asks[i + 1], ra?.[i], ra?.[i + 1]);
    }
  }

  /** Removes every level of both sides. */
  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  /** True when the best bid is at or above the best ask. */
  crossed(): boolean {
    return this.bids.length > 0 && this.asks.length > 0 &&
      this.bids.best() >= this.asks.best();
  }
}
