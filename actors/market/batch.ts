/**
 * Columnar event batches: book level changes, trades and liquidations of one
 * exchange packed into one transferable `ArrayBuffer`, so bulk data crosses
 * actors without object graphs.
 *
 * Layout of `buf` for `n` records (all Float64):
 * `price[n] size[n] ts[n] local[n] code[n]` where `code = symbolIndex * 8 +
 * kind`, `ts` is the exchange time and `local` the local receive time (the
 * event clock: in a capture replay, the recorded receive time), both ms since
 * the Unix epoch.
 *
 * @module
 */

import type { Market } from "./events.ts";

/** Record kinds. `Clear` empties a book (before a snapshot, or on resync). */
export const Kind = {
  Bid: 0,
  Ask: 1,
  Clear: 2,
  Buy: 3,
  Sell: 4,
  LiquidationBuy: 5,
  LiquidationSell: 6,
} as const;

/** A symbol referenced by a batch. */
export interface SymbolRef {
  readonly exchangeSymbol: string;
  /** Normalized `BASE-QUOTE`. */
  readonly symbol: string;
  readonly market: Market;
  /**
   * Base units per contract (see `Instrument.contractSize`); absent means 1.
   * The raw (venue) size of a record is `size / contractSize`, or
   * `size × price / contractSize` when `inverse`.
   */
  readonly contractSize?: number;
  /** True for an inverse contract. */
  readonly inverse?: boolean;
}

/** A columnar batch as sent between actors; `buf` is transferred. */
export interface EventBatch {
  readonly type: "batch";
  readonly exchange: string;
  readonly symbols: SymbolRef[];
  readonly n: number;
  readonly buf: ArrayBuffer;
  /**
   * The sender's event clock when the batch was taken, ms: every record of
   * this batch has `local` ≤ `clock`, and every later batch's records have
   * `local` ≥ `clock`. A batch with no records still advances the clock.
   */
  readonly clock: number;
}

/**
 * Accumulates records and packs them into an {@link EventBatch}.
 *
 * @example
 * ```ts
 * const b = new BatchBuilder("binance");
 * const s = b.symbol({ exchangeSymbol: "BTCUSDT", symbol: "BTC-USDT", market: "spot" });
 * b.clock = recvTs; // the receive time of the frame being applied
 * b.push(s, Kind.Bid, 60000, 1.5, exchangeTs);
 * const batch = b.take();
 * port.postMessage(batch, [batch.buf]);
 * ```
 */
export class BatchBuilder {
  readonly #exchange: string;
  #symbols: SymbolRef[] = [];
  #index = new Map<string, number>();
  #price = new Float64Array(1024);
  #size = new Float64Array(1024);
  #ts = new Float64Array(1024);
  #local = new Float64Array(1024);
  #code = new Float64Array(1024);
  /** Records pushed since the last `take`. */
  length = 0;
  /**
   * The event clock, ms: the local receive time of the data being pushed
   * (stamped on each record as `local`). Set it before pushing a frame's
   * records; it never goes back (a lower value is ignored).
   */
  get clock(): number {
    return this.#clock;
  }
  set clock(ts: number) {
    if (ts > this.#clock) this.#clock = ts;
  }
  #clock = 0;

  /** @param exchange exchange id stamped on every batch. */
  constructor(exchange: string) {
    this.#exchange = exchange;
  }

  /**
   * Index of `ref` in this batch's symbol table, adding it if new.
   * @param ref the symbol.
   */
  symbol(ref: SymbolRef): number {
    let i = this.#index.get(ref.exchangeSymbol);
    if (i === undefined) {
      i = this.#symbols.length;
      this.#symbols.push(ref);
      this.#index.set(ref.exchangeSymbol, i);
    }
    return i;
  }

  /**
   * Appends one record.
   * @param sym index from {@link BatchBuilder.symbol}.
   * @param kind one of {@link Kind}.
   * @param price quote currency (0 for `Clear`).
   * @param size base currency (0 for `Clear`).
   * @param ts exchange time, ms (the record's `local` is {@link clock}).
   */
  push(
    sym: number,
    kind: number,
    price: number,
    size: number,
    ts: number,
  ): void {
    const n = this.length;
    if (n === this.#price.length) this.#grow();
    this.#price[n] = price;
    this.#size[n] = size;
    this.#ts[n] = ts;
    this.#local[n] = this.#clock;
    this.#code[n] = sym * 8 + kind;
    this.length = n + 1;
  }

  /**
   * Appends one record per level of one side, as `push` of each in order:
   * for levels read into typed arrays (the venue scanners), copied in bulk.
   * @param sym index from {@link BatchBuilder.symbol}.
   * @param kind `Kind.Bid` or `Kind.Ask`.
   * @param levels the first `count` entries of `prices` (quote currency)
   *   and `sizes` (base currency; 0 deletes the level).
   * @param ts exchange time, ms (each record's `local` is {@link clock}).
   * @example
   * ```ts
   * b.pushLevels(s, Kind.Ask, { prices, sizes, count: 2 }, exchangeTs);
   * ```
   */
  pushLevels(
    sym: number,
    kind: number,
    levels: {
      readonly prices: Float64Array;
      readonly sizes: Float64Array;
      readonly count: number;
    },
    ts: number,
  ): void {
    const count = levels.count;
    if (count === 0) return;
    const n = this.length;
    const end = n + count;
    while (end > this.#price.length) this.#grow();
    // One loop: a frame's few dozen levels cost less than the views and
    // calls of `set` and `fill`.
    const price = this.#price;
    const size = this.#size;
    const tsCol = this.#ts;
    const local = this.#local;
    const code = this.#code;
    const { prices, sizes } = levels;
    const clock = this.#clock;
    const c = sym * 8 + kind;
    for (let i = 0, j = n; i < count; i++, j++) {
      price[j] = prices[i];
      size[j] = sizes[i];
      tsCol[j] = ts;
      local[j] = clock;
      code[j] = c;
    }
    this.length = end;
  }

  #grow(): void {
    const cap = this.#price.length * 2;
    const g = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.#price = g(this.#price);
    this.#size = g(this.#size);
    this.#ts = g(this.#ts);
    this.#local = g(this.#local);
    this.#code = g(this.#code);
  }

  /**
   * Packs the pending records into a batch and starts a new one (an empty
   * batch carries only the clock).
   * @returns the batch, stamped with {@link clock}; transfer `batch.buf`
   * when posting it.
   */
  take(): EventBatch {
    const n = this.length;
    const out = new Float64Array(n * 5);
    out.set(this.#price.subarray(0, n), 0);
    out.set(this.#size.subarray(0, n), n);
    out.set(this.#ts.subarray(0, n), 2 * n);
    out.set(this.#local.subarray(0, n), 3 * n);
    out.set(this.#code.subarray(0, n), 4 * n);
    const batch: EventBatch = {
      type: "batch",
      exchange: this.#exchange,
      symbols: this.#symbols,
      n,
      buf: out.buffer,
      clock: this.#clock,
    };
    this.#symbols = [];
    this.#index = new Map();
    this.length = 0;
    return batch;
  }
}

/**
 * Column views over a received batch.
 * @param b the batch.
 * @returns typed-array views (`ts` exchange time, `local` receive time);
 * `code[i] % 8` is the kind, `Math.floor(code[i] / 8)` the symbol index.
 */
export function columns(
  b: EventBatch,
): {
  price: Float64Array;
  size: Float64Array;
  ts: Float64Array;
  local: Float64Array;
  code: Float64Array;
} {
  const all = new Float64Array(b.buf);
  const n = b.n;
  return {
    price: all.subarray(0, n),
    size: all.subarray(n, 2 * n),
    ts: all.subarray(2 * n, 3 * n),
    local: all.subarray(3 * n, 4 * n),
    code: all.subarray(4 * n, 5 * n),
  };
}

/**
 * The trade and liquidation records of a batch, without its book-level
 * ones (`Bid`, `Ask`, `Clear`): what a connection sends the aggregator,
 * which gets its books as sampled columns (`sampler.ts`) instead.
 * @param b the batch (not modified).
 * @returns a new batch with the same exchange, symbols and clock; transfer
 * its `buf` when posting it.
 * @example
 * ```ts
 * const trades = tradesOnly(batch);
 * events.postMessage(trades, [trades.buf]);
 * ```
 */
export function tradesOnly(b: EventBatch): EventBatch {
  const { price, size, ts, local, code } = columns(b);
  const n = b.n;
  // `code & 7` is the kind: codes are small whole numbers (cheaper than `%`).
  let m = 0;
  for (let i = 0; i < n; i++) if ((code[i] & 7) >= Kind.Buy) m++;
  const out = new Float64Array(m * 5);
  for (let i = 0, j = 0; i < n; i++) {
    if ((code[i] & 7) < Kind.Buy) continue;
    out[j] = price[i];
    out[m + j] = size[i];
    out[2 * m + j] = ts[i];
    out[3 * m + j] = local[i];
    out[4 * m + j] = code[i];
    j++;
  }
  return { ...b, n: m, buf: out.buffer };
}
