/**
 * Columnar event batches: book level changes, trades and liquidations of one
 * exchange packed into one transferable `ArrayBuffer`, so bulk data crosses
 * actors without object graphs.
 *
 * Layout of `buf` for `n` records (all Float64): `price[n] size[n] ts[n] code[n]`
 * where `code = symbolIndex * 8 + kind` and `ts` is the exchange time in ms.
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
}

/** A columnar batch as sent between actors; `buf` is transferred. */
export interface EventBatch {
  readonly type: "batch";
  readonly exchange: string;
  readonly symbols: SymbolRef[];
  readonly n: number;
  readonly buf: ArrayBuffer;
}

/**
 * Accumulates records and packs them into an {@link EventBatch}.
 *
 * @example
 * ```ts
 * const b = new BatchBuilder("binance");
 * const s = b.symbol({ exchangeSymbol: "BTCUSDT", symbol: "BTC-USDT", market: "spot" });
 * b.push(s, Kind.Bid, 60000, 1.5, Date.now());
 * port.postMessage(b.take(), [b.lastBuffer!]);
 * ```
 */
export class BatchBuilder {
  readonly #exchange: string;
  #symbols: SymbolRef[] = [];
  #index = new Map<string, number>();
  #price = new Float64Array(1024);
  #size = new Float64Array(1024);
  #ts = new Float64Array(1024);
  #code = new Float64Array(1024);
  /** Records pushed since the last `take`. */
  length = 0;

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
   * @param ts exchange time, ms.
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
    this.#code[n] = sym * 8 + kind;
    this.length = n + 1;
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
    this.#code = g(this.#code);
  }

  /**
   * Packs the pending records into a batch and starts a new one.
   * @returns the batch; transfer `batch.buf` when posting it.
   */
  take(): EventBatch {
    const n = this.length;
    const out = new Float64Array(n * 4);
    out.set(this.#price.subarray(0, n), 0);
    out.set(this.#size.subarray(0, n), n);
    out.set(this.#ts.subarray(0, n), 2 * n);
    out.set(this.#code.subarray(0, n), 3 * n);
    const batch: EventBatch = {
      type: "batch",
      exchange: this.#exchange,
      symbols: this.#symbols,
      n,
      buf: out.buffer,
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
 * @returns typed-array views; `code[i] % 8` is the kind, `Math.floor(code[i] / 8)` the symbol index.
 */
export function columns(
  b: EventBatch,
): {
  price: Float64Array;
  size: Float64Array;
  ts: Float64Array;
  code: Float64Array;
} {
  const all = new Float64Array(b.buf);
  const n = b.n;
  return {
    price: all.subarray(0, n),
    size: all.subarray(n, 2 * n),
    ts: all.subarray(2 * n, 3 * n),
    code: all.subarray(3 * n, 4 * n),
  };
}
