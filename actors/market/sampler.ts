/**
 * Bucketing where the book lives: the owner of a set of books (a connection
 * actor, or a replay source's book keepers) samples them into book columns
 * (resting bid and ask size per price bucket, BBO) each time its event clock
 * crosses a tick end, and sends those columns instead of the per-level
 * changes; the aggregation (`aggregate.ts`) keeps no copy of any book, it
 * merges the latest columns with the tick's trades and liquidations.
 *
 * Tick boundary: tick ends are multiples of `tickMs` on the owner's event
 * clock. The sample for tick end `T` is the books after every record
 * received before `T`: it is taken when the owner's clock first reaches
 * `T` or more, before the record that moved it there is applied. When one
 * step of the clock crosses several tick ends, one sample (stamped with the
 * latest of them) serves them all: nothing was applied in between.
 *
 * Bucket sizes: every venue of one consolidation key must sample at the same
 * size (`mergeColumns` throws otherwise). A size configured (`buckets`, by
 * key or base asset) is known to every owner. Otherwise a {@link BucketSizes}
 * fixes it at the first price it sees (`defaultBucketSize` of a mid, or of a
 * trade's price) and keeps it. The aggregator's table is the authority: when
 * it fixes a key it sends a {@link BucketSizeMessage} back down every input
 * link (MessagePorts are two-way), and the owners take that size from then
 * on; a column that still arrives in another size is re-bucketed exactly
 * when the key's size is a whole multiple of it ({@link rebucket}), else
 * counted and dropped for that tick. In one thread (a replay session) the
 * owners and the aggregation share one table, so they always agree.
 *
 * Traffic: one sample is one transferable Float64 buffer (`bids[n] asks[n]`
 * per column), a few kB per book per tick, whatever the book's churn.
 *
 * @module
 */

import { z } from "zod";
import type { SymbolRef } from "./batch.ts";
import type { OrderBook } from "./book.ts";
import { consolidationKey } from "./consolidate.ts";
import type { Market } from "./events.ts";
import {
  bookWindow,
  defaultBucketSize,
  midPrice,
  sumAsks,
  sumBids,
} from "./heatmap.ts";

/**
 * How books are sampled: the settings the owners of books and the
 * aggregation share (the aggregator's config holds them too).
 */
export const SamplingConfig = z.object({
  /** Tick length, ms: tick ends are its multiples on the event clock. */
  tickMs: z.number().positive().default(1000),
  /** Half-width of the sampled range around mid, fraction of mid. */
  range: z.number().positive().max(1).default(0.05),
  /** Bucket size by base asset (`BTC`) or consolidation key (`BTC-USD`). */
  buckets: z.record(z.string(), z.number().positive()).default({
    BTC: 10,
    ETH: 1,
  }),
  /** Quote aliases for consolidation, e.g. `{USDT: "USD"}`. */
  quoteAliases: z.record(z.string(), z.string()).default({}),
});
/** Parsed sampling config. */
export type SamplingConfig = z.infer<typeof SamplingConfig>;

/** One book column of a {@link BookColumns} sample. */
export interface BookColumnMeta {
  /** The venue's symbol. */
  readonly exchangeSymbol: string;
  /** Normalized `BASE-QUOTE`. */
  readonly symbol: string;
  /** Market type. */
  readonly market: Market;
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
  /** Start of its arrays in the buffer (bids[n], then asks[n]), Float64 units. */
  readonly offset: number;
}

/**
 * The book columns of one owner at one instant, sent on the owner's link to
 * the aggregator (transfer `buf`). Only non-empty books have a column.
 */
export interface BookColumns {
  /** Message discriminator. */
  readonly type: "books";
  /** Exchange id. */
  readonly exchange: string;
  /**
   * A tick sample: the latest tick end its clock step crossed, ms (it
   * serves every tick end since the previous sample). The answer to a
   * {@link SampleRequest}: the owner's clock when it sampled.
   */
  readonly ts: number;
  /**
   * A tick sample serves the tick ends after this, ms: the previous
   * sample's `ts`, or for the first one the owner's first clock (so the
   * aggregation's first tick can be the one holding it); `ts` for the
   * answer to a request.
   */
  readonly from: number;
  /** The columns' headers, in buffer order. */
  readonly columns: readonly BookColumnMeta[];
  /** Every column's arrays (Float64). */
  readonly buf: ArrayBuffer;
  /** Set on the answer to a {@link SampleRequest}: its id. */
  readonly request?: number;
}

/** Aggregator → owner: a consolidation key's bucket size, fixed. */
export interface BucketSizeMessage {
  /** Message discriminator. */
  readonly type: "bucketSize";
  /** Consolidation key, e.g. `BTC-USD`. */
  readonly key: string;
  /** Quote currency per bucket. */
  readonly size: number;
}

/**
 * Aggregator → owner: sample the books now (a `columns` request between
 * ticks); answered with a {@link BookColumns} carrying `request: id`.
 */
export interface SampleRequest {
  /** Message discriminator. */
  readonly type: "sample";
  /** Echoed in the answer. */
  readonly id: number;
}

/** A book column with its arrays (views into the sample's buffer). */
export interface BookColumn extends BookColumnMeta {
  /** Resting bid size per bucket, base currency. */
  readonly bids: Float64Array;
  /** Resting ask size per bucket, base currency. */
  readonly asks: Float64Array;
}

/**
 * Views the columns of a sample.
 * @param s the sample.
 * @returns its columns with their arrays.
 * @example
 * ```ts
 * for (const c of bookColumns(sample)) c.bids[0]; // size in bucket c.lo
 * ```
 */
export function bookColumns(s: BookColumns): BookColumn[] {
  const all = new Float64Array(s.buf);
  return s.columns.map((c) => ({
    ...c,
    bids: all.subarray(c.offset, c.offset + c.n),
    asks: all.subarray(c.offset + c.n, c.offset + 2 * c.n),
  }));
}

/**
 * The bucket size of each consolidation key: configured, assigned (by the
 * aggregator), else fixed at the first price seen. One table per thread.
 *
 * @example
 * ```ts
 * const sizes = new BucketSizes(SamplingConfig.parse({}));
 * sizes.of("SOL-USDT", 151.2); // 0.1, fixed from now on
 * sizes.assign("SOL-USDT", 1); // the aggregator's size wins
 * ```
 */
export class BucketSizes {
  readonly #cfg: SamplingConfig;
  readonly #sizes = new Map<string, number>();
  /** Consolidation key by normalized symbol (computed once each). */
  readonly #keys = new Map<string, string>();

  /** @param cfg the buckets configured and the quote aliases. */
  constructor(cfg: SamplingConfig) {
    this.#cfg = cfg;
  }

  /**
   * The consolidation key of a normalized symbol.
   * @param symbol `BASE-QUOTE`.
   * @returns the key, quote aliases applied.
   */
  key(symbol: string): string {
    let k = this.#keys.get(symbol);
    if (k === undefined) {
      k = consolidationKey(symbol, this.#cfg.quoteAliases);
      this.#keys.set(symbol, k);
    }
    return k;
  }

  /**
   * The size of a key, fixing it at `price` when it has none yet.
   * @param key consolidation key.
   * @param price a representative price (used only the first time), quote
   *   currency.
   * @returns quote currency per bucket.
   */
  of(key: string, price: number): number {
    let bs = this.#sizes.get(key);
    if (bs === undefined) {
      bs = this.configured(key) ?? defaultBucketSize(price);
      this.#sizes.set(key, bs);
    }
    return bs;
  }

  /**
   * The size fixed for a key.
   * @param key consolidation key.
   * @returns the size, or undefined before it is fixed.
   */
  get(key: string): number | undefined {
    return this.#sizes.get(key);
  }

  /**
   * The size configured for a key (by key, else by base asset).
   * @param key consolidation key.
   * @returns the size, or undefined when none is configured.
   */
  configured(key: string): number | undefined {
    const base = key.slice(0, key.lastIndexOf("-"));
    return this.#cfg.buckets[key] ?? this.#cfg.buckets[base];
  }

  /**
   * Sets a key's size (the aggregator fixed it).
   * @param key consolidation key.
   * @param size quote currency per bucket.
   */
  assign(key: string, size: number): void {
    this.#sizes.set(key, size);
  }

  /** Every fixed size, key → size. */
  entries(): IterableIterator<[string, number]> {
    return this.#sizes.entries();
  }
}

/** A book the owner samples, and its symbol. */
export interface OwnedBook {
  readonly ref: SymbolRef;
  readonly book: OrderBook;
}

/**
 * One owner's sampler: watches its event clock and samples its books at
 * every tick end the clock crosses (see the module doc).
 *
 * @example
 * ```ts
 * const sampler = new BookSampler("binance", cfg, sizes);
 * // before applying a record received at recvTs:
 * sampler.cross(recvTs, books());
 * // at each flush, before the batch:
 * for (const s of sampler.take()) port.postMessage(s, [s.buf]);
 * ```
 */
export class BookSampler {
  readonly #exchange: string;
  readonly #tickMs: number;
  readonly #range: number;
  readonly #sizes: BucketSizes;
  /** The tick end the next sample is due at, ms; NaN before the first clock. */
  #due = NaN;
  /** The first clock, then the last sample's stamp, ms. */
  #from = NaN;
  #out: BookColumns[] = [];

  /**
   * @param exchange exchange id stamped on each sample.
   * @param cfg tick length and range.
   * @param sizes the bucket sizes (shared by the owners of a thread).
   */
  constructor(exchange: string, cfg: SamplingConfig, sizes: BucketSizes) {
    this.#exchange = exchange;
    this.#tickMs = cfg.tickMs;
    this.#range = cfg.range;
    this.#sizes = sizes;
  }

  /**
   * The owner's clock moves to `clock`: call before applying anything
   * received at `clock`. When it reaches the tick end due (or several), the
   * books are sampled now, once, stamped with the latest tick end reached.
   * The first clock only sets the first tick end due (nothing was applied
   * before it that a tick before it could show).
   * @param clock event time, ms (a lower one than before does nothing).
   * @param books the owner's books as they are now (read only when due).
   */
  cross(clock: number, books: Iterable<OwnedBook>): void {
    if (!(clock >= this.#due)) {
      if (this.#due !== this.#due && clock > 0) {
        this.#due = Math.floor(clock / this.#tickMs) * this.#tickMs +
          this.#tickMs;
        this.#from = clock;
      }
      return;
    }
    const end = Math.floor(clock / this.#tickMs) * this.#tickMs;
    this.#out.push(this.#sample(end, this.#from, books));
    this.#due = end + this.#tickMs;
    this.#from = end;
  }

  /**
   * Takes the tick samples made since the last take, oldest first.
   * @returns the samples; transfer their `buf`s when posting them.
   */
  take(): BookColumns[] {
    const out = this.#out;
    if (out.length) this.#out = [];
    return out;
  }

  /**
   * Samples books now, each at its key's bucket size within `range` of its
   * own mid (see `sampleBook`); empty books get no column.
   * @param ts the stamp, ms.
   * @param books the books.
   * @param request the id of the request this answers, if any.
   * @returns the sample (`from` = `ts`).
   */
  sample(
    ts: number,
    books: Iterable<OwnedBook>,
    request?: number,
  ): BookColumns {
    const s = this.#sample(ts, ts, books);
    return request === undefined ? s : { ...s, request };
  }

  /**
   * Samples each non-empty book straight into one buffer: the window
   * (`bookWindow`) and sums (`sumBids`, `sumAsks`) of `sampleBook`
   * (`heatmap.ts`), without its per-book arrays.
   */
  #sample(ts: number, from: number, books: Iterable<OwnedBook>): BookColumns {
    const metas: BookColumnMeta[] = [];
    const sides: OrderBook[] = [];
    const range = this.#range;
    let total = 0;
    for (const { ref, book } of books) {
      const mid = midPrice(book.bids.best(), book.asks.best());
      if (mid !== mid) continue;
      const bs = this.#sizes.of(this.#sizes.key(ref.symbol), mid);
      const { lo, n, bestBid: bb, bestAsk: ba } = bookWindow(
        book,
        bs,
        range,
      )!;
      metas.push({
        exchangeSymbol: ref.exchangeSymbol,
        symbol: ref.symbol,
        market: ref.market,
        bucketSize: bs,
        lo,
        n,
        bestBid: bb,
        bestAsk: ba,
        offset: total,
      });
      sides.push(book);
      total += 2 * n;
    }
    const all = new Float64Array(total);
    for (let i = 0; i < metas.length; i++) {
      const { bucketSize, lo, n, offset } = metas[i];
      sumBids(
        sides[i].bids,
        bucketSize,
        lo,
        n,
        all.subarray(offset, offset + n),
      );
      sumAsks(
        sides[i].asks,
        bucketSize,
        lo,
        n,
        all.subarray(offset + n, offset + 2 * n),
      );
    }
    return {
      type: "books",
      exchange: this.#exchange,
      ts,
      from,
      columns: metas,
      buf: all.buffer,
    };
  }
}

/**
 * A column's buckets merged into buckets `m` times as wide (`size = m ·
 * c.bucketSize`, `m` a whole number): bucket `j` of the result is the sum of
 * the source's buckets `j·m … j·m + m − 1`, so it is exact. Only the wide
 * buckets the source covers in full are kept (an edge bucket half outside
 * the sampled range would be short).
 * @param c the column.
 * @param size the wider bucket size, quote currency.
 * @returns the re-bucketed column, or null when `size` is not a whole
 * multiple of `c.bucketSize`.
 * @example
 * ```ts
 * rebucket(col1, 10); // a column of 1-wide buckets as 10-wide ones
 * ```
 */
export function rebucket(c: BookColumn, size: number): BookColumn | null {
  const m = Math.round(size / c.bucketSize);
  if (m < 1 || Math.abs(m * c.bucketSize - size) > 1e-9 * size) return null;
  if (m === 1) return { ...c, bucketSize: size };
  const lo = Math.ceil(c.lo / m);
  const n = Math.max(0, Math.floor((c.lo + c.n) / m) - lo);
  const bids = new Float64Array(n);
  const asks = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const from = (lo + j) * m - c.lo;
    for (let k = from; k < from + m; k++) {
      bids[j] += c.bids[k];
      asks[j] += c.asks[k];
    }
  }
  return { ...c, bucketSize: size, lo, n, bids, asks, offset: 0 };
}
