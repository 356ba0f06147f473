/**
 * A price ladder: one side of an L2 book as a dense array of slots, one slot
 * per tick of the side's price grid, so that setting a level is an index and
 * a store, with no search and no move.
 *
 * The grid is found from the prices themselves: the smallest power of ten
 * `scale` (`10^0 … 10^15`) for which `Math.round(price · scale) / scale`
 * gives the price back. That integer is the level's key, and `key / scale`
 * is the level's price, the very double the venue's text parsed to: the key
 * is exact (below 2^53), one division of exact doubles rounds to the nearest
 * double of the decimal, and so does the parse. Keys rise with prices, so
 * slot order is price order, and a bitmap of live slots gives the levels in
 * order and the next best level after the best one leaves.
 *
 * A ladder takes what fits: a price off every grid, a side spanning more
 * than {@link MAX_SLOTS} ticks, or a sparse one (fewer than one level per
 * {@link MAX_SPREAD} ticks) is refused, and the caller keeps that side as
 * sorted arrays instead.
 *
 * @module
 */

/** Most ticks a ladder spans (a 2 MB array of sizes). */
export const MAX_SLOTS = 1 << 18;

/** A ladder spans at most this many ticks per live level (beyond its minimum). */
export const MAX_SPREAD = 32;

/** Slots a ladder spans at least, whatever its levels. */
const MIN_SLOTS = 1 << 8;

/** Most decimal places of a price grid. */
const MAX_DECIMALS = 15;

/** Keys stay below this, so that they are exact integers. */
const MAX_KEY = 2 ** 52;

/**
 * The grid scale that takes `price`: the smallest `10^d`, `d ≥ from`, with
 * `Math.round(price · 10^d) / 10^d === price`.
 * @returns the scale, or 0 when no grid up to 10^15 takes the price.
 */
function gridOf(price: number, from: number): number {
  for (let d = from; d <= MAX_DECIMALS; d++) {
    const s = 10 ** d;
    const key = Math.round(price * s);
    if (key / s === price && Math.abs(key) < MAX_KEY) return s;
  }
  return 0;
}

/**
 * One side of a book on a price grid. Bids have their best level at the
 * highest slot, asks at the lowest. Sizes are kept as given (a size of 0
 * removes a level); the caller holds the venue's strings, if any, elsewhere.
 *
 * @example
 * ```ts
 * const bids = new Ladder(true);
 * bids.set(100.5, 2); // true
 * bids.set(100.4, 1); // true
 * bids.best(); // 100.5
 * bids.set(100.5, 0); // true: removed
 * bids.best(); // 100.4
 * ```
 */
export class Ladder {
  /** Live levels (see {@link Ladder.count}). */
  #count = 0;
  /** Keys per unit of price (`10^d`); 0 until the first level. */
  #scale = 0;
  /** Key of slot 0 (a multiple of 32, so bitmap words align with keys). */
  #base = 0;
  /** Size per slot (valid only where the slot's bit is set). */
  #sizes = new Float64Array(0);
  /** Live slots, 32 to a word. */
  #bits = new Int32Array(0);
  /** Slot of the best level, or -1 when empty. */
  #best = -1;
  readonly #bid: boolean;

  /** @param isBid true for bids (best = highest price), false for asks. */
  constructor(isBid: boolean) {
    this.#bid = isBid;
  }

  /**
   * Sets the size at `price`; 0 removes the level.
   * @param price price in quote currency.
   * @param size size in base currency.
   * @returns false, with nothing changed, when the price does not fit the
   *   ladder (off its grid, or too far or too sparse a span): keep the
   *   side another way.
   */
  set(price: number, size: number): boolean {
    const s = this.#scale;
    const key = Math.round(price * s);
    let slot = key - this.#base;
    if (key / s !== price || !(slot >= 0 && slot < this.#sizes.length)) {
      // Not in the window: an absent level stays absent.
      if (size === 0) return true;
      if (!this.#fit(price, price, 1)) return false;
      slot = Math.round(price * this.#scale) - this.#base;
    }
    const w = slot >> 5;
    const m = 1 << (slot & 31);
    const bits = this.#bits;
    if (size === 0) {
      if ((bits[w] & m) !== 0) {
        bits[w] ^= m;
        this.#count--;
        if (slot === this.#best) this.#best = this.#nextWorse(slot);
      }
      return true;
    }
    this.#sizes[slot] = size;
    if ((bits[w] & m) === 0) {
      bits[w] |= m;
      this.#count++;
      const b = this.#best;
      if (b < 0 || (this.#bid ? slot > b : slot < b)) this.#best = slot;
    }
    return true;
  }

  /** Live levels. */
  get count(): number {
    return this.#count;
  }

  /** Best price, or NaN when empty. */
  best(): number {
    const b = this.#best;
    return b < 0 ? NaN : (this.#base + b) / this.#scale;
  }

  /**
   * Makes room at once for a frame of many levels (a snapshot) between two
   * prices, instead of widening the window level by level.
   * @param lo the frame's lowest price of a level to set, quote currency.
   * @param hi its highest.
   * @param levels how many levels it sets at most.
   * @returns false when the ladder cannot hold them (off every grid, too
   *   wide or too sparse a span); nothing is changed then.
   */
  reserve(lo: number, hi: number, levels: number): boolean {
    const s = this.#scale;
    const a = Math.round(lo * s) - this.#base;
    const b = Math.round(hi * s) - this.#base;
    const n = this.#sizes.length;
    if (
      Math.round(lo * s) / s === lo && Math.round(hi * s) / s === hi &&
      a >= 0 && a < n && b >= 0 && b < n
    ) return true;
    return this.#fit(lo, hi, levels);
  }

  /** Removes every level (the grid is kept). */
  clear(): void {
    this.#bits.fill(0);
    this.#count = 0;
    this.#best = -1;
  }

  /**
   * Writes the levels in sorted-side order, worst first and best last
   * (bids ascending, asks descending), into `prices[0…count)` and
   * `sizes[0…count)`.
   * @param prices receives prices in quote currency (at least `count` long).
   * @param sizes receives sizes, aligned with `prices`.
   */
  write(prices: Float64Array, sizes: Float64Array): void {
    const bits = this.#bits;
    const src = this.#sizes;
    const base = this.#base;
    const scale = this.#scale;
    let n = 0;
    if (this.#bid) {
      for (let w = 0; w < bits.length; w++) {
        let x = bits[w];
        while (x !== 0) {
          const t = x & -x;
          const slot = (w << 5) + 31 - Math.clz32(t);
          prices[n] = (base + slot) / scale;
          sizes[n++] = src[slot];
          x ^= t;
        }
      }
    } else {
      for (let w = bits.length - 1; w >= 0; w--) {
        let x = bits[w];
        while (x !== 0) {
          const i = 31 - Math.clz32(x);
          const slot = (w << 5) + i;
          prices[n] = (base + slot) / scale;
          sizes[n++] = src[slot];
          x ^= 1 << i;
        }
      }
    }
  }

  /**
   * Writes levels best first (bids from the highest price down, asks from
   * the lowest up), stopping after `max` of them or before the first one
   * worse than `bound`.
   * @param prices receives prices in quote currency.
   * @param sizes receives sizes, aligned with `prices`.
   * @param max most levels to write (no more than the arrays hold are).
   * @param bound the worst price to write: below it for bids, above it for
   *   asks, a level is not written (NaN: no bound).
   * @returns how many levels were written.
   */
  writeBest(
    prices: Float64Array,
    sizes: Float64Array,
    max: number,
    bound: number,
  ): number {
    max = Math.min(max, prices.length, sizes.length);
    const best = this.#best;
    const bits = this.#bits;
    const src = this.#sizes;
    const base = this.#base;
    const scale = this.#scale;
    let n = 0;
    if (best < 0) return 0;
    if (this.#bid) {
      for (let w = best >> 5; w >= 0; w--) {
        let x = bits[w];
        while (x !== 0) {
          if (n >= max) return n;
          const i = 31 - Math.clz32(x);
          const slot = (w << 5) + i;
          const p = (base + slot) / scale;
          if (p < bound) return n;
          prices[n] = p;
          sizes[n++] = src[slot];
          x ^= 1 << i;
        }
      }
    } else {
      for (let w = best >> 5; w < bits.length; w++) {
        let x = bits[w];
        while (x !== 0) {
          if (n >= max) return n;
          const t = x & -x;
          const slot = (w << 5) + 31 - Math.clz32(t);
          const p = (base + slot) / scale;
          if (p > bound) return n;
          prices[n] = p;
          sizes[n++] = src[slot];
          x ^= t;
        }
      }
    }
    return n;
  }

  /**
   * Drops the worst levels so that at most `depth` remain.
   * @param depth levels to keep (0 or less, or NaN: none).
   * @param dropped receives the dropped levels as deletes `[price, 0, …]`,
   *   worst first.
   * @returns how many levels were dropped.
   */
  truncate(depth: number, dropped?: number[]): number {
    const excess = this.#count - (depth > 0 ? depth : 0);
    if (!(excess > 0)) return 0;
    const bits = this.#bits;
    let left = excess;
    // The worst end: the lowest slots of bids, the highest of asks.
    for (
      let w = this.#bid ? 0 : bits.length - 1;
      left > 0;
      w += this.#bid ? 1 : -1
    ) {
      while (left > 0 && bits[w] !== 0) {
        const x = bits[w];
        const i = this.#bid ? 31 - Math.clz32(x & -x) : 31 - Math.clz32(x);
        bits[w] = x ^ (1 << i);
        dropped?.push((this.#base + (w << 5) + i) / this.#scale, 0);
        left--;
      }
    }
    this.#count -= excess;
    if (this.#count === 0) this.#best = -1;
    return excess;
  }

  /**
   * The live slot next worse than `slot`: below it for bids, above it for
   * asks.
   * @returns the slot, or -1 when there is none.
   */
  #nextWorse(slot: number): number {
    const bits = this.#bits;
    let w = slot >> 5;
    const b = slot & 31;
    if (this.#bid) {
      let x = bits[w] & ((1 << b) - 1);
      while (x === 0) {
        if (--w < 0) return -1;
        x = bits[w];
      }
      return (w << 5) + 31 - Math.clz32(x);
    }
    let x = b === 31 ? 0 : bits[w] & ~((2 << b) - 1);
    while (x === 0) {
      if (++w >= bits.length) return -1;
      x = bits[w];
    }
    return (w << 5) + 31 - Math.clz32(x & -x);
  }

  /**
   * Makes room for live levels at `pLo` and `pHi` (and `more` levels in
   * all): a finer grid when a price is off the current one, a window that
   * spans them and every live level.
   * @returns false when no grid takes the prices, or the span would be too
   *   wide or too sparse (nothing is changed then).
   */
  #fit(pLo: number, pHi: number, more: number): boolean {
    let scale = this.#scale;
    for (const price of [pLo, pHi]) {
      if (scale === 0 || Math.round(price * scale) / scale !== price) {
        const d = scale === 0 ? 0 : Math.round(Math.log10(scale)) + 1;
        scale = gridOf(price, d);
        if (scale === 0) return false;
      }
    }
    // The live keys on the new grid: old keys times the ratio of the grids
    // (both exact powers of ten, so the ratio is exact).
    const times = this.#scale === 0 ? 1 : scale / this.#scale;
    let lo = Math.round(pLo * scale);
    let hi = Math.round(pHi * scale);
    const first = this.#firstSlot();
    if (first >= 0) {
      lo = Math.min(lo, (this.#base + first) * times);
      hi = Math.max(hi, (this.#base + this.#lastSlot()) * times);
    }
    const span = hi - lo + 1;
    if (
      !(hi < MAX_KEY && -lo < MAX_KEY) ||
      // Room for the centring below, which rounds the base down to a word:
      // the window then holds every key from lo to hi.
      span > MAX_SLOTS - 64 ||
      span > MIN_SLOTS + MAX_SPREAD * (this.#count + more)
    ) return false;
    // Room on both sides, so a drifting book rarely moves its window.
    let cap = MIN_SLOTS;
    while (cap < 2 * span && cap < MAX_SLOTS) cap *= 2;
    const base = Math.floor((lo - ((cap - span) >> 1)) / 32) * 32;
    const sizes = new Float64Array(cap);
    const bits = new Int32Array(cap >> 5);
    const old = this.#bits;
    const oldSizes = this.#sizes;
    for (let w = 0; w < old.length; w++) {
      let x = old[w];
      while (x !== 0) {
        const t = x & -x;
        const slot = (w << 5) + 31 - Math.clz32(t);
        const to = (this.#base + slot) * times - base;
        sizes[to] = oldSizes[slot];
        bits[to >> 5] |= 1 << (to & 31);
        x ^= t;
      }
    }
    const best = this.#best;
    this.#best = best < 0 ? -1 : (this.#base + best) * times - base;
    this.#scale = scale;
    this.#base = base;
    this.#sizes = sizes;
    this.#bits = bits;
    return true;
  }

  /** Lowest live slot, or -1. */
  #firstSlot(): number {
    const bits = this.#bits;
    for (let w = 0; w < bits.length; w++) {
      const x = bits[w];
      if (x !== 0) return (w << 5) + 31 - Math.clz32(x & -x);
    }
    return -1;
  }

  /** Highest live slot, or -1. */
  #lastSlot(): number {
    const bits = this.#bits;
    for (let w = bits.length - 1; w >= 0; w--) {
      const x = bits[w];
      if (x !== 0) return (w << 5) + 31 - Math.clz32(x);
    }
    return -1;
  }
}
