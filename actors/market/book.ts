/**
 * An exact L2 order book with a bid and an ask side.
 *
 * A side without the venue's strings lives on a price ladder (`ladder.ts`)
 * while its prices fit one: one slot per tick of its price grid, so a level
 * change is an index and a store. Sides with strings (checksum venues), and
 * sides whose prices fit no ladder (off a decimal grid, too wide or too
 * sparse a span), are sorted `(price, size)` levels in typed arrays, best
 * level last, so the frequent updates near the BBO move little memory;
 * readers see those sorted arrays either way (a laddered side writes them
 * out when they are read). A side that takes a whole image (`replace`)
 * stays on sorted arrays until it is cleared, as image venues (HTX) replace
 * it every push.
 *
 * On sorted arrays, updates cluster near the best level, and most venues
 * list a frame's levels best first. So a frame listed that way is merged
 * into the top of the side in one pass (down to its worst price); other
 * frames go level by level, each search galloping from where the last change
 * landed or from the best level before it bisects. A venue that sends whole
 * images (HTX `depth.step0`) replaces the side and learns which levels
 * changed. `deno run -A bench/book.ts` measures both layouts on a realistic
 * change stream.
 *
 * @module
 */

import type { Levels, RawLevels } from "./events.ts";
import { Ladder } from "./ladder.ts";

/**
 * Moves of at most this many levels are done with a loop, longer ones with
 * `copyWithin` (whose call costs more than a short loop).
 */
const SHORT_MOVE = 16;

/**
 * Fewest levels in a frame for which a laddered side makes room for all of
 * them at once (a snapshot), rather than level by level.
 */
const RESERVE_MIN = 64;

/** Fewest levels that {@link BookSide.apply} applies by merging. */
const MERGE_MIN = 4;

/**
 * {@link BookSide.apply} merges while the top it rewrites holds at most this
 * many book levels per listed level taken; deeper, it sets level by level.
 */
const MERGE_SPAN = 8;

/**
 * Finds `price` in ascending `a[0..n)`, galloping down from the end.
 * @returns its index, or `-(insertion point) - 1` when absent.
 */
function findAscending(
  a: Float64Array,
  n: number,
  price: number,
  hint: number,
): number {
  let hi = n - 1;
  if (hi < 0 || a[hi] < price) return -n - 1;
  if (a[hi] === price) return hi;
  // a[hi] > price. Start from the hint when it is below the best: a
  // frame lists its levels best first, so the next one lies just below it.
  let lo = 0;
  if (hint < hi) {
    const v = a[hint];
    if (v === price) return hint;
    if (v > price) hi = hint;
    else lo = hint + 1;
  }
  // Gallop down from hi to a level at or beyond the price.
  for (let step = 1;; step <<= 1) {
    const j = hi - step;
    if (j < lo) break;
    const v = a[j];
    if (v > price) {
      hi = j;
      continue;
    }
    if (v === price) return j;
    lo = j + 1;
    break;
  }
  // Bisect [lo, hi): the price lies between a[lo - 1] and a[hi].
  hi--;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid];
    if (v < price) lo = mid + 1;
    else if (v > price) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

/**
 * Finds `price` in descending `a[0..n)`, galloping down from the end.
 * @returns its index, or `-(insertion point) - 1` when absent.
 */
function findDescending(
  a: Float64Array,
  n: number,
  price: number,
  hint: number,
): number {
  let hi = n - 1;
  if (hi < 0 || a[hi] > price) return -n - 1;
  if (a[hi] === price) return hi;
  // a[hi] < price. Start from the hint when it is below the best: a
  // frame lists its levels best first, so the next one lies just below it.
  let lo = 0;
  if (hint < hi) {
    const v = a[hint];
    if (v === price) return hint;
    if (v < price) hi = hint;
    else lo = hint + 1;
  }
  // Gallop down from hi to a level at or beyond the price.
  for (let step = 1;; step <<= 1) {
    const j = hi - step;
    if (j < lo) break;
    const v = a[j];
    if (v < price) {
      hi = j;
      continue;
    }
    if (v === price) return j;
    lo = j + 1;
    break;
  }
  // Bisect [lo, hi): the price lies between a[lo - 1] and a[hi].
  hi--;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid];
    if (v > price) lo = mid + 1;
    else if (v < price) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

/**
 * Levels given as columns: the first `count` entries of `prices` and
 * `sizes` (a venue scanner's typed arrays, reused frame after frame).
 */
export interface LevelColumns {
  /** Prices in quote currency. */
  readonly prices: Float64Array;
  /** Sizes in base currency, aligned with `prices`; 0 removes a level. */
  readonly sizes: Float64Array;
  /** How many levels the arrays hold. */
  readonly count: number;
  /** The venue's price strings, aligned with `prices` (checksum venues). */
  readonly priceText?: readonly string[];
  /** The venue's size strings, aligned with `sizes` (checksum venues). */
  readonly sizeText?: readonly string[];
}

/**
 * One side of a book. Bids are kept in ascending price and asks in
 * descending price, so index `length - 1` is always the best level.
 */
export class BookSide {
  /**
   * Prices, sorted so the best is last. On a ladder, a copy of its levels,
   * empty until `prices` or `sizes` is first read (or the side leaves its
   * ladder).
   */
  #p: Float64Array;
  /** Sizes in base currency, aligned with `#p`. */
  #s: Float64Array;
  /** Number of levels in `#p` and `#s`. */
  #n = 0;
  /**
   * The side as a price ladder, when its prices fit one (see `ladder.ts`);
   * null while it is kept as the sorted arrays alone.
   */
  #lad: Ladder | null = null;
  /** True when `#p`/`#s` lag the ladder's levels. */
  #stale = false;
  /** Whether the side may use a ladder (not for venue strings or scratch). */
  readonly #ladderable: boolean;
  /** The venue's price strings, aligned with `prices` (checksum venues only). */
  readonly rawPrices: string[] | null;
  /** The venue's size strings, aligned with `sizes` (checksum venues only). */
  readonly rawSizes: string[] | null;
  readonly #bid: boolean;
  /** Where the last change landed: where the next search starts. */
  #hint = 0;
  /** Where {@link replace} builds the next image (made on first use). */
  #next: BookSide | undefined;
  /** Scratch for {@link apply}'s merge, best first (grown on demand). */
  #mergePrices = new Float64Array(0);
  #mergeSizes = new Float64Array(0);
  #mergeRawPrices: string[] = [];
  #mergeRawSizes: string[] = [];
  /** Scratch for {@link apply}: flat levels split into columns. */
  #cols: {
    prices: Float64Array;
    sizes: Float64Array;
    count: number;
    priceText: string[] | undefined;
    sizeText: string[] | undefined;
  } = {
    prices: new Float64Array(0),
    sizes: new Float64Array(0),
    count: 0,
    priceText: undefined,
    sizeText: undefined,
  };
  #colText: [string[], string[]] = [[], []];

  /**
   * @param isBid true for the bid side (ascending prices), false for asks.
   * @param keepRaw also keep the venue's level strings, for checksums.
   * @param ladder keep the side as a price ladder while its prices fit one
   *   (the default unless `keepRaw`; a side with strings never does).
   */
  constructor(isBid: boolean, keepRaw = false, ladder = !keepRaw) {
    this.#bid = isBid;
    this.rawPrices = keepRaw ? [] : null;
    this.rawSizes = keepRaw ? [] : null;
    this.#ladderable = ladder && !keepRaw;
    if (this.#ladderable) this.#lad = new Ladder(isBid);
    // A ladder's sorted copy is made only when `prices` or `sizes` is read.
    const room = this.#lad !== null ? 0 : 256;
    this.#p = new Float64Array(room);
    this.#s = new Float64Array(room);
  }

  /**
   * Prices in quote currency, sorted so the best is last (`length` of them).
   * On a ladder, reading them writes out a sorted copy (kept, and written
   * again after a change): a reader that walks the levels on every tick
   * uses {@link BookSide.bestLevels} instead.
   */
  get prices(): Float64Array {
    if (this.#stale) this.#sync();
    return this.#p;
  }

  /** Sizes in base currency, aligned with {@link BookSide.prices}. */
  get sizes(): Float64Array {
    if (this.#stale) this.#sync();
    return this.#s;
  }

  /** Number of live levels. */
  get length(): number {
    const lad = this.#lad;
    return lad !== null ? lad.count : this.#n;
  }

  /** True while the side is kept as a price ladder. */
  get laddered(): boolean {
    return this.#lad !== null;
  }

  /** Copies the ladder's levels into the sorted arrays. */
  #sync(): void {
    const lad = this.#lad!;
    while (this.#p.length < lad.count) this.#grow();
    lad.write(this.#p, this.#s);
    this.#n = lad.count;
    this.#stale = false;
  }

  /** Keeps the side as sorted arrays from now on (until `clear`). */
  #leaveLadder(): void {
    if (this.#stale) this.#sync();
    this.#lad = null;
  }

  /**
   * Index of `price`, or `-(insertion point) - 1` when absent. Changes
   * cluster near the best level (the end), so the search gallops down from
   * the end (offsets 1, 2, 4, …) before it bisects: a level k places below
   * the best is found in O(log k) steps.
   */
  #find(price: number): number {
    return this.#bid
      ? findAscending(this.#p, this.#n, price, this.#hint)
      : findDescending(this.#p, this.#n, price, this.#hint);
  }

  /**
   * Sets the size at `price`; a size of 0 removes the level.
   * @param price price in quote currency.
   * @param size size in base currency.
   * @param rawPrice the venue's price string (kept when the side keeps raw strings).
   * @param rawSize the venue's size string.
   */
  set(price: number, size: number, rawPrice = "", rawSize = ""): void {
    const lad = this.#lad;
    if (lad !== null) {
      if (lad.set(price, size)) {
        this.#stale = true;
        return;
      }
      this.#leaveLadder();
    }
    const i = this.#find(price);
    const n = this.#n;
    this.#hint = i >= 0 ? i : -i - 1;
    const rp = this.rawPrices;
    const rs = this.rawSizes;
    if (i >= 0) {
      if (size === 0) {
        // Close the gap; near the best only a few levels move.
        const prices = this.#p;
        const sizes = this.#s;
        if (n - i <= SHORT_MOVE) {
          for (let j = i + 1; j < n; j++) {
            prices[j - 1] = prices[j];
            sizes[j - 1] = sizes[j];
          }
        } else {
          prices.copyWithin(i, i + 1, n);
          sizes.copyWithin(i, i + 1, n);
        }
        this.#n = n - 1;
        if (rp !== null && rs !== null) {
          rp.splice(i, 1);
          rs.splice(i, 1);
        }
      } else {
        this.#s[i] = size;
        if (rs !== null) rs[i] = rawSize;
      }
      return;
    }
    if (size === 0) return;
    const at = -i - 1;
    if (n === this.#p.length) this.#grow();
    const prices = this.#p;
    const sizes = this.#s;
    if (n - at <= SHORT_MOVE) {
      for (let j = n; j > at; j--) {
        prices[j] = prices[j - 1];
        sizes[j] = sizes[j - 1];
      }
    } else {
      prices.copyWithin(at + 1, at, n);
      sizes.copyWithin(at + 1, at, n);
    }
    prices[at] = price;
    sizes[at] = size;
    this.#n = n + 1;
    if (rp !== null && rs !== null) {
      rp.splice(at, 0, rawPrice);
      rs.splice(at, 0, rawSize);
    }
  }

  /**
   * Replaces the side with a full image, reporting only the levels that
   * differ: the side ends exactly as after `clear()` and `set()` of every
   * image level in order. For venues that push the whole book every time
   * (HTX `depth.step0`), so that only the changes travel on.
   * @param levels the image, flat `[price, size, …]` (a size of 0 removes,
   *   as in `set`).
   * @param raw the venue's strings for the same levels (checksum venues).
   * @param changes receives the levels that differ from the side before,
   *   `[price, size, …]` in the side's order (worst first), size 0 for a
   *   level that left.
   * @example
   * ```ts
   * const asks = new BookSide(false);
   * asks.apply([101, 1, 102, 2]);
   * const changes: number[] = [];
   * asks.replace([101, 1, 102, 3, 103, 1], undefined, changes);
   * changes; // [103, 1, 102, 3]
   * ```
   */
  replace(
    levels: Levels,
    raw: readonly string[] | undefined,
    changes: Levels,
  ): void {
    if (levels.length & 1) {
      // Not pairs: the image as `set` takes each level.
      const next = this.#scratch();
      next.clear();
      for (let k = 0; k < levels.length; k += 2) {
        next.set(levels[k], levels[k + 1], raw?.[k], raw?.[k + 1]);
      }
      this.#takeImage(next, changes);
      return;
    }
    this.replaceColumns(this.#columns(levels, raw), changes);
  }

  /**
   * {@link BookSide.replace} for an image given as columns (a venue
   * scanner's typed arrays): the same book and the same changes.
   * @param levels the image: prices in quote currency, sizes in base (a
   *   size of 0 removes), and the venue's strings (checksum venues).
   * @param changes receives the levels that differ, as `replace` gives them.
   * @example
   * ```ts
   * const changes: number[] = [];
   * asks.replaceColumns({ prices, sizes, count: 150 }, changes);
   * ```
   */
  replaceColumns(levels: LevelColumns, changes: Levels): void {
    const next = this.#scratch();
    next.#load(levels);
    this.#takeImage(next, changes);
  }

  /** The scratch side an image is loaded into (made on first use). */
  #scratch(): BookSide {
    return this.#next ??= new BookSide(
      this.#bid,
      this.rawPrices !== null,
      false,
    );
  }

  /**
   * Takes the image loaded into `next`: reports the levels that differ and
   * swaps arrays with it (its old ones hold the next image).
   */
  #takeImage(next: BookSide, changes: Levels): void {
    // Images are merged as sorted arrays.
    if (this.#lad !== null) this.#leaveLadder();
    const op = this.#p;
    const os = this.#s;
    const n = this.#n;
    const np = next.#p;
    const ns = next.#s;
    const m = next.#n;
    // Both sides are sorted best last: merge them.
    const dir = this.#bid ? 1 : -1;
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      const a = op[i] * dir;
      const b = np[j] * dir;
      if (a < b) changes.push(op[i++], 0);
      else if (a > b) {
        changes.push(np[j], ns[j]);
        j++;
      } else {
        if (os[i] !== ns[j]) changes.push(np[j], ns[j]);
        i++;
        j++;
      }
    }
    for (; i < n; i++) changes.push(op[i], 0);
    for (; j < m; j++) changes.push(np[j], ns[j]);
    // Take the image's arrays; the old ones hold the next image.
    this.#p = np;
    this.#s = ns;
    this.#n = m;
    next.#p = op;
    next.#s = os;
    next.#n = 0;
    const rp = this.rawPrices;
    const rs = this.rawSizes;
    if (rp !== null && rs !== null) {
      const nrp = next.rawPrices!;
      const nrs = next.rawSizes!;
      rp.length = m;
      rs.length = m;
      for (let k = 0; k < m; k++) {
        rp[k] = nrp[k];
        rs[k] = nrs[k];
      }
      next.clear();
    }
  }

  /**
   * Loads an image into this (scratch) side: an image listed strictly best
   * first or best last with every size above 0 (what the venues send) is
   * copied in order; any other goes through `set`.
   */
  #load(levels: LevelColumns): void {
    this.clear();
    const { prices: lp, sizes: ls, count } = levels;
    const lrp = levels.priceText;
    const lrs = levels.sizeText;
    let order = 0; // 1: ascending prices, -1: descending, NaN: neither
    for (let k = 0; k < count; k++) {
      if (!(ls[k] > 0)) {
        order = NaN;
        break;
      }
      if (k === 0) continue;
      const d = lp[k] - lp[k - 1];
      const o = d > 0 ? 1 : d < 0 ? -1 : NaN;
      if (order === 0) order = o;
      else if (o !== order) {
        order = NaN;
        break;
      }
    }
    if (order !== order) {
      for (let k = 0; k < count; k++) {
        this.set(lp[k], ls[k], lrp?.[k], lrs?.[k]);
      }
      return;
    }
    while (this.#p.length < count) this.#grow();
    const prices = this.#p;
    const sizes = this.#s;
    const rp = this.rawPrices;
    const rs = this.rawSizes;
    // Stored best last: ascending for bids, descending for asks.
    const reverse = order !== 0 && (order === 1) !== this.#bid;
    for (let k = 0; k < count; k++) {
      const src = reverse ? count - 1 - k : k;
      prices[k] = lp[src];
      sizes[k] = ls[src];
      if (rp !== null && rs !== null) {
        rp.push(lrp?.[src] ?? "");
        rs.push(lrs?.[src] ?? "");
      }
    }
    this.#n = count;
  }

  #grow(): void {
    const room = Math.max(256, this.#p.length * 2);
    const prices = new Float64Array(room);
    const sizes = new Float64Array(room);
    prices.set(this.#p);
    sizes.set(this.#s);
    this.#p = prices;
    this.#s = sizes;
  }

  /**
   * Applies flat levels `[price, size, …]` in order, with the result of
   * `set` on each (a size of 0 removes).
   * @param levels the levels, prices in quote currency, sizes in base.
   * @param raw the venue's strings for the same levels (checksum venues).
   * @example
   * ```ts
   * const bids = new BookSide(true);
   * bids.apply([100.5, 2, 100.4, 0, 100.3, 1.5]);
   * bids.best(); // 100.5
   * ```
   */
  apply(levels: Levels, raw?: readonly string[]): void {
    if (levels.length & 1) {
      // Not pairs: no merge; each level as `set` takes it.
      for (let i = 0; i < levels.length; i += 2) {
        this.set(levels[i], levels[i + 1], raw?.[i], raw?.[i + 1]);
      }
      return;
    }
    // As columns: one code path for the parsed events and the scanners'
    // typed arrays.
    this.applyColumns(this.#columns(levels, raw));
  }

  /** Flat levels (pairs) split into the scratch columns. */
  #columns(levels: Levels, raw: readonly string[] | undefined): LevelColumns {
    const k = levels.length >> 1;
    const cols = this.#cols;
    if (cols.prices.length < k) {
      cols.prices = new Float64Array(2 * k);
      cols.sizes = new Float64Array(2 * k);
    }
    const prices = cols.prices;
    const sizes = cols.sizes;
    for (let j = 0; j < k; j++) {
      prices[j] = levels[2 * j];
      sizes[j] = levels[2 * j + 1];
    }
    cols.count = k;
    if (raw === undefined) {
      cols.priceText = cols.sizeText = undefined;
    } else {
      const [pt, st] = this.#colText;
      for (let j = 0; j < k; j++) {
        pt[j] = raw[2 * j];
        st[j] = raw[2 * j + 1];
      }
      cols.priceText = pt;
      cols.sizeText = st;
    }
    return cols;
  }

  /**
   * Applies levels given as columns, in order, with the result of `set` on
   * each (a size of 0 removes): {@link BookSide.apply} for levels read
   * straight into typed arrays (the venue scanners), with no flat array
   * built. Entries past `count` are not read.
   * @param levels the levels, prices in quote currency, sizes in base, and
   *   the venue's strings for them (checksum venues).
   * @example
   * ```ts
   * const asks = new BookSide(false);
   * asks.applyColumns({
   *   prices: new Float64Array([101, 102]),
   *   sizes: new Float64Array([1, 2]),
   *   count: 2,
   * });
   * asks.best(); // 101
   * ```
   */
  applyColumns(levels: LevelColumns): void {
    const { prices, sizes, count, priceText: rp, sizeText: rs } = levels;
    let lad = this.#lad;
    if (lad !== null && count >= RESERVE_MIN && !this.#reserve(levels)) {
      this.#leaveLadder();
      lad = null;
    }
    if (lad !== null) {
      let j = 0;
      while (j < count && lad.set(prices[j], sizes[j])) j++;
      this.#stale = true;
      // A level the ladder refused: it and the rest on sorted arrays.
      for (; j < count; j++) this.set(prices[j], sizes[j], rp?.[j], rs?.[j]);
      return;
    }
    if (count >= MERGE_MIN && this.#merge(levels)) return;
    if (rp === undefined && rs === undefined) {
      for (let j = 0; j < count; j++) this.set(prices[j], sizes[j]);
      return;
    }
    for (let j = 0; j < count; j++) {
      this.set(prices[j], sizes[j], rp?.[j], rs?.[j]);
    }
  }

  /**
   * Makes the ladder room for a big frame's levels at once (see
   * `Ladder.reserve`).
   * @returns false when the ladder cannot hold them.
   */
  #reserve(levels: LevelColumns): boolean {
    const { prices, sizes, count } = levels;
    let lo = Infinity;
    let hi = -Infinity;
    let live = 0;
    for (let j = 0; j < count; j++) {
      if (sizes[j] === 0) continue;
      const p = prices[j];
      if (p < lo) lo = p;
      if (p > hi) hi = p;
      live++;
    }
    // NaN prices and the like are left to `set`, level by level.
    return live === 0 || !(lo <= hi) || this.#lad!.reserve(lo, hi, live);
  }

  /**
   * Applies levels listed strictly best first (as Binance, OKX, Bybit …
   * send them) in one pass over the top of the side: a merge instead of a
   * search and a move per level. The merge goes down while the book levels
   * it passes stay few for the listed levels it has taken (at most
   * {@link MERGE_SPAN} per level); the deeper rest of the listed levels,
   * all worse than what was merged, are then set level by level.
   * @returns false, with nothing done, for levels in another order.
   */
  #merge(levels: LevelColumns): boolean {
    const { prices: lp, sizes: ls, count: k } = levels;
    const lrp = levels.priceText;
    const lrs = levels.sizeText;
    const bid = this.#bid;
    for (let j = 1; j < k; j++) {
      if (bid ? !(lp[j] < lp[j - 1]) : !(lp[j] > lp[j - 1])) return false;
    }
    const n = this.#n;
    // At most MERGE_SPAN·k + 1 book levels and k listed ones are merged.
    const room = MERGE_SPAN * k + k + 1;
    if (this.#mergePrices.length < room) {
      this.#mergePrices = new Float64Array(room);
      this.#mergeSizes = new Float64Array(room);
    }
    const tp = this.#mergePrices;
    const ts = this.#mergeSizes;
    const prices = this.#p;
    const sizes = this.#s;
    // The strings (checksum venues) follow their levels, as in `set`: an
    // existing level keeps its price string and takes the size string.
    const rp = this.rawPrices;
    const rs = this.rawSizes;
    const keep = rp !== null && rs !== null;
    const trp = this.#mergeRawPrices;
    const trs = this.#mergeRawSizes;
    // Both from the best: the book from its end, the levels from their start.
    let i = n - 1;
    let j = 0;
    let r = 0;
    while (j < k && n - 1 - i <= MERGE_SPAN * (j + 1)) {
      const cp = lp[j];
      const bp = i >= 0 ? prices[i] : NaN;
      if (bp === cp) {
        // An existing level: keep its price (as `set` does), take the size.
        const s = ls[j];
        if (s !== 0) {
          if (keep) {
            trp[r] = rp[i];
            trs[r] = lrs?.[j] ?? "";
          }
          tp[r] = bp;
          ts[r++] = s;
        }
        i--;
        j++;
      } else if (bid ? bp > cp : bp < cp) {
        if (keep) {
          trp[r] = rp[i];
          trs[r] = rs[i];
        }
        tp[r] = bp;
        ts[r++] = sizes[i--];
      } else {
        // A new level (or the book is exhausted, bp NaN).
        const s = ls[j];
        if (s !== 0) {
          if (keep) {
            trp[r] = lrp?.[j] ?? "";
            trs[r] = lrs?.[j] ?? "";
          }
          tp[r] = cp;
          ts[r++] = s;
        }
        j++;
      }
    }
    // [lo, n) was merged into the r levels of the scratch.
    const lo = i + 1;
    while (this.#p.length < lo + r) this.#grow();
    const out = this.#p;
    const outSizes = this.#s;
    // Back in place, best last.
    const top = lo + r - 1;
    for (let q = 0; q < r; q++) {
      out[top - q] = tp[q];
      outSizes[top - q] = ts[q];
    }
    this.#n = lo + r;
    if (keep) {
      rp.length = lo + r;
      rs.length = lo + r;
      for (let q = 0; q < r; q++) {
        rp[top - q] = trp[q];
        rs[top - q] = trs[q];
      }
    }
    // Deeper than the merge went: level by level.
    if (lrp === undefined && lrs === undefined) {
      for (; j < k; j++) this.set(lp[j], ls[j]);
    } else {
      for (; j < k; j++) this.set(lp[j], ls[j], lrp?.[j], lrs?.[j]);
    }
    return true;
  }

  /** Best price, or NaN when the side is empty. */
  best(): number {
    const lad = this.#lad;
    if (lad !== null) return lad.best();
    return this.#n ? this.#p[this.#n - 1] : NaN;
  }

  /**
   * Drops the worst levels so that at most `depth` remain.
   * @param depth levels to keep (0 or less, or NaN: none).
   * @param dropped receives the dropped levels as deletes `[price, 0, …]`.
   * @returns how many levels were dropped.
   */
  truncate(depth: number, dropped?: Levels): number {
    const lad = this.#lad;
    if (lad !== null) {
      const k = lad.truncate(depth, dropped);
      if (k > 0) this.#stale = true;
      return k;
    }
    const excess = this.#n - (depth > 0 ? depth : 0);
    if (!(excess > 0)) return 0;
    // The worst levels sit at the front (best last).
    if (dropped) {
      for (let i = 0; i < excess; i++) dropped.push(this.#p[i], 0);
    }
    this.#p.copyWithin(0, excess, this.#n);
    this.#s.copyWithin(0, excess, this.#n);
    this.#n -= excess;
    this.rawPrices?.splice(0, excess);
    this.rawSizes?.splice(0, excess);
    return excess;
  }

  /** Removes every level. */
  clear(): void {
    this.#n = 0;
    this.#stale = false;
    this.rawPrices?.splice(0);
    this.rawSizes?.splice(0);
    // A side that left its ladder tries one again.
    if (this.#ladderable) {
      if (this.#lad === null) this.#lad = new Ladder(this.#bid);
      else this.#lad.clear();
    }
  }

  /**
   * Writes the levels best first into `prices` and `sizes`, as many as they
   * hold, stopping before the first level worse than `bound`: on a ladder
   * without writing out its sorted copy.
   * @param prices receives prices in quote currency.
   * @param sizes receives sizes in base currency, aligned with `prices`.
   * @param bound the worst price to write (bids below it and asks above it
   *   are not); NaN (the default) for no bound.
   * @returns how many levels were written.
   * @example
   * ```ts
   * const n = book.bids.bestLevels(prices, sizes, 59_000); // bids ≥ 59,000
   * ```
   */
  bestLevels(prices: Float64Array, sizes: Float64Array, bound = NaN): number {
    const max = Math.min(prices.length, sizes.length);
    const lad = this.#lad;
    if (lad !== null) return lad.writeBest(prices, sizes, max, bound);
    const p = this.#p;
    const s = this.#s;
    let n = 0;
    for (let i = this.#n - 1; i >= 0 && n < max; i--) {
      const x = p[i];
      if (this.#bid ? x < bound : x > bound) break;
      prices[n] = x;
      sizes[n++] = s[i];
    }
    return n;
  }

  /**
   * The best `depth` levels as `[price, size]` pairs, best first.
   * @param depth number of levels; Infinity for all.
   */
  top(depth: number): [number, number][] {
    const room = Math.max(0, Math.min(depth, this.length));
    const prices = new Float64Array(room);
    const sizes = new Float64Array(room);
    const n = this.bestLevels(prices, sizes);
    const out: [number, number][] = [];
    for (let i = 0; i < n; i++) out.push([prices[i], sizes[i]]);
    return out;
  }
}

/** An L2 book with bid and ask sides. */
export class OrderBook {
  readonly bids: BookSide;
  readonly asks: BookSide;

  /**
   * @param keepRaw also keep the venue's level strings, for checksums.
   * @param ladder keep each side as a price ladder while its prices fit one
   *   (the default unless `keepRaw`).
   */
  constructor(keepRaw = false, ladder = !keepRaw) {
    this.bids = new BookSide(true, keepRaw, ladder);
    this.asks = new BookSide(false, keepRaw, ladder);
  }

  /**
   * Applies flat levels `[price, size, …]` to both sides.
   * @param bids bid levels; size 0 removes.
   * @param asks ask levels; size 0 removes.
   * @param raw the venue's strings for the same levels (checksum venues).
   */
  apply(bids: Levels, asks: Levels, raw?: RawLevels): void {
    this.bids.apply(bids, raw?.bids);
    this.asks.apply(asks, raw?.asks);
  }

  /**
   * Replaces the book with a full image, touching only the levels that
   * differ: the book ends exactly as after `clear()` then `apply()`.
   * @param bids the image's bid levels `[price, size, …]`.
   * @param asks the image's ask levels.
   * @param raw the venue's strings for the same levels (checksum venues).
   * @param changes receives, per side, the levels that differ from the book
   *   before (`[price, size, …]`, size 0 for a level that left).
   * @example
   * ```ts
   * const changes = { bids: [], asks: [] };
   * book.replace([100, 2, 99, 1], [101, 3], undefined, changes);
   * ```
   */
  replace(
    bids: Levels,
    asks: Levels,
    raw: RawLevels | undefined,
    changes: { bids: Levels; asks: Levels },
  ): void {
    this.bids.replace(bids, raw?.bids, changes.bids);
    this.asks.replace(asks, raw?.asks, changes.asks);
  }

  /**
   * {@link OrderBook.replace} for an image given as columns (a venue
   * scanner's typed arrays).
   * @param bids the image's bid levels.
   * @param asks the image's ask levels.
   * @param changes receives, per side, the levels that differ.
   */
  replaceColumns(
    bids: LevelColumns,
    asks: LevelColumns,
    changes: { bids: Levels; asks: Levels },
  ): void {
    this.bids.replaceColumns(bids, changes.bids);
    this.asks.replaceColumns(asks, changes.asks);
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
