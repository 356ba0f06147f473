/**
 * What a connection actor sends the aggregator, for tests and benches that
 * drive an `Aggregator` directly: an owner of real `OrderBook`s applies
 * level records in clock order, samples its books with the connection's
 * `BookSampler` at each tick end its clock crosses (before the record that
 * crosses it), and hands the aggregator those samples, then a batch of its
 * trades and liquidations with its clock, as `Connection.flush` does.
 *
 * @module
 */

import type { Aggregator } from "../actors/market/aggregate.ts";
import { BatchBuilder, Kind, type SymbolRef } from "../actors/market/batch.ts";
import { OrderBook } from "../actors/market/book.ts";
import {
  BookSampler,
  BucketSizes,
  type OwnedBook,
  type SamplingConfig,
} from "../actors/market/sampler.ts";

/**
 * One connection's books, sampler and batch.
 *
 * @example
 * ```ts
 * const a = new BookOwner("binance", cfg);
 * a.record(ref, Kind.Bid, 100, 1, T + 10);
 * a.send(agg, "conn:binance", T + 1000); // the sample of T + 1000, then the batch
 * ```
 */
export class BookOwner {
  readonly #exchange: string;
  readonly #cfg: SamplingConfig;
  readonly #sizes: BucketSizes;
  #books = new Map<string, { ref: SymbolRef; book: OrderBook }>();
  #sampler: BookSampler;
  #batch: BatchBuilder;

  /**
   * @param exchange exchange id.
   * @param cfg the sampling settings (the aggregator's).
   * @param sizes the bucket sizes (default: a table of its own, as a
   *   connection in its own worker has).
   */
  constructor(exchange: string, cfg: SamplingConfig, sizes?: BucketSizes) {
    this.#exchange = exchange;
    this.#cfg = cfg;
    this.#sizes = sizes ?? new BucketSizes(cfg);
    this.#sampler = new BookSampler(exchange, cfg, this.#sizes);
    this.#batch = new BatchBuilder(exchange);
  }

  /** The books, as the sampler reads them. */
  *#owned(): Generator<OwnedBook> {
    yield* this.#books.values();
  }

  /** Moves the clock to `ts`, sampling first when it reaches a tick end. */
  #advance(ts: number): void {
    this.#sampler.cross(ts, this.#owned());
    this.#batch.clock = ts;
  }

  /**
   * Applies one record received at `local`: a level or `Clear` to the
   * book, a trade or liquidation to the batch.
   * @param ref the symbol.
   * @param kind one of `Kind`.
   * @param price quote currency.
   * @param size base currency (0 deletes a level).
   * @param local receive time, ms.
   */
  record(
    ref: SymbolRef,
    kind: number,
    price: number,
    size: number,
    local: number,
  ): void {
    this.#advance(local);
    let b = this.#books.get(ref.exchangeSymbol);
    if (!b) {
      this.#books.set(ref.exchangeSymbol, b = { ref, book: new OrderBook() });
    }
    if (kind === Kind.Bid) b.book.bids.set(price, size);
    else if (kind === Kind.Ask) b.book.asks.set(price, size);
    else if (kind === Kind.Clear) b.book.clear();
    else this.#batch.push(this.#batch.symbol(ref), kind, price, size, local);
  }

  /**
   * Moves the clock to `clock` and hands the aggregator the samples made
   * since the last send, then the batch.
   * @param agg the aggregator.
   * @param connection the input's id.
   * @param clock the batch's clock, ms.
   */
  send(agg: Aggregator, connection: string, clock: number): void {
    this.#advance(clock);
    for (const s of this.#sampler.take()) agg.onBooks(s, connection);
    agg.onBatch(this.#batch.take(), connection);
  }

  /** A restarted connection: no books, a fresh clock. */
  restart(): void {
    this.#books = new Map();
    this.#sampler = new BookSampler(this.#exchange, this.#cfg, this.#sizes);
    this.#batch = new BatchBuilder(this.#exchange);
  }
}
