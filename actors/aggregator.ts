/**
 * Aggregator actor: mirrors every exchange × symbol book from the connection
 * actors' batches and, every tick, samples each into price buckets: resting
 * bid and ask size, buy and sell volume traded during the tick, BBO and mid.
 * Sends the tick's columns to the consolidator as one transferable buffer.
 *
 * Requests: `columns` (a sample of now, without closing the tick).
 *
 * @module
 */

import { z } from "zod";
import { runActor } from "../runtime/actor.ts";
import {
  columns as batchColumns,
  type EventBatch,
  Kind,
  type SymbolRef,
} from "./market/batch.ts";
import { OrderBook } from "./market/book.ts";
import { consolidationKey } from "./market/consolidate.ts";
import type { AggregatorRequests } from "./market/requests.ts";
import {
  bucketOf,
  type ColumnInit,
  decodeColumns,
  defaultBucketSize,
  encodeColumns,
  midPrice,
  sampleBook,
} from "./market/heatmap.ts";

/** Config of the aggregator. */
export const AggregatorConfig = z.object({
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
/** Parsed aggregator config. */
export type AggregatorConfig = z.infer<typeof AggregatorConfig>;

interface Entry {
  exchange: string;
  ref: SymbolRef;
  key: string;
  book: OrderBook;
  /**
   * The connection whose book levels this mirror holds (HTX sends one
   * symbol's book and trades on two connections); null until one does.
   */
  owner: string | null;
  buys: Map<number, number>;
  sells: Map<number, number>;
}

/** The aggregator's state; exported for tests and the bench. */
export class Aggregator {
  readonly #cfg: AggregatorConfig;
  readonly entries = new Map<string, Entry>();
  readonly #bucketSizes = new Map<string, number>();

  /** @param cfg parsed config. */
  constructor(cfg: AggregatorConfig) {
    this.#cfg = cfg;
  }

  /**
   * Applies a batch from a connection actor.
   * @param b the batch.
   * @param connection the sending connection's actor id (e.g.
   * `conn:bybit:linear`); its book mirrors are the ones {@link reset} drops.
   */
  onBatch(b: EventBatch, connection: string): void {
    const { price, size, code } = batchColumns(b);
    const refs: Entry[] = b.symbols.map((r) => this.#entry(b.exchange, r));
    for (let i = 0; i < b.n; i++) {
      const c = code[i];
      const kind = c % 8;
      const e = refs[(c - kind) / 8];
      switch (kind) {
        case Kind.Bid:
          e.owner = connection;
          e.book.bids.set(price[i], size[i]);
          break;
        case Kind.Ask:
          e.owner = connection;
          e.book.asks.set(price[i], size[i]);
          break;
        case Kind.Clear:
          e.owner = connection;
          e.book.clear();
          break;
        case Kind.Buy:
        case Kind.Sell: {
          const bs = this.#bucketSizes.get(e.key);
          if (bs === undefined) break;
          const m = kind === Kind.Buy ? e.buys : e.sells;
          const k = bucketOf(price[i], bs);
          m.set(k, (m.get(k) ?? 0) + size[i]);
          break;
        }
      }
    }
  }

  #entry(exchange: string, ref: SymbolRef): Entry {
    const id = `${exchange}\u0000${ref.exchangeSymbol}`;
    let e = this.entries.get(id);
    if (!e) {
      e = {
        exchange,
        ref,
        key: consolidationKey(ref.symbol, this.#cfg.quoteAliases),
        book: new OrderBook(),
        owner: null,
        buys: new Map(),
        sells: new Map(),
      };
      this.entries.set(id, e);
    }
    return e;
  }

  /**
   * Forgets the book mirrors one connection fed (it restarted and will send
   * them again in full). The mirrors of its sibling connections on the same
   * exchange are kept: they are not re-sent.
   * @param connection the connection's actor id.
   */
  reset(connection: string): void {
    for (const e of this.entries.values()) {
      if (e.owner !== connection) continue;
      e.book.clear();
      e.owner = null;
    }
  }

  /** The bucket size of a consolidation key, fixed at its first sample. */
  bucketSize(key: string, mid: number): number {
    let bs = this.#bucketSizes.get(key);
    if (bs === undefined) {
      const base = key.slice(0, key.lastIndexOf("-"));
      bs = this.#cfg.buckets[key] ?? this.#cfg.buckets[base] ??
        defaultBucketSize(mid);
      this.#bucketSizes.set(key, bs);
    }
    return bs;
  }

  /**
   * Samples every book into columns: each within `range` around its own
   * mid, at most `2 · range · MAX_MID_BUCKETS + 1` buckets (see
   * `sampleBook`), whatever the book quotes.
   * @param ts tick time, ms.
   * @param close true to end the tick: trade volumes restart from zero.
   * @returns one column per non-empty book.
   */
  sample(ts: number, close: boolean): ColumnInit[] {
    const out: ColumnInit[] = [];
    for (const e of this.entries.values()) {
      const bb = e.book.bids.best();
      const ba = e.book.asks.best();
      const mid = midPrice(bb, ba);
      if (mid !== mid) continue;
      const bucketSize = this.bucketSize(e.key, mid);
      const s = sampleBook(e.book, { bucketSize, range: this.#cfg.range })!;
      const n = s.bids.length;
      const buys = new Float64Array(n);
      const sells = new Float64Array(n);
      for (const [k, v] of e.buys) {
        if (k >= s.lo && k < s.lo + n) buys[k - s.lo] += v;
      }
      for (const [k, v] of e.sells) {
        if (k >= s.lo && k < s.lo + n) sells[k - s.lo] += v;
      }
      if (close) {
        e.buys.clear();
        e.sells.clear();
      }
      out.push({
        exchange: e.exchange,
        exchangeSymbol: e.ref.exchangeSymbol,
        symbol: e.key,
        market: e.ref.market,
        ts,
        bucketSize,
        lo: s.lo,
        n,
        bestBid: s.bestBid,
        bestAsk: s.bestAsk,
        bids: s.bids,
        asks: s.asks,
        buys,
        sells,
      });
    }
    return out;
  }
}

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let agg: Aggregator;
  let out: MessagePort | null = null;
  const peers = new Map<string, MessagePort>();
  runActor<AggregatorRequests>({
    init(config, ctx) {
      const cfg = AggregatorConfig.parse(config);
      agg = new Aggregator(cfg);
      setInterval(() => {
        const ts = Math.floor(Date.now() / cfg.tickMs) * cfg.tickMs;
        // The range travels with the batch: the consolidator keeps its
        // columns within the same range around the consensus mid.
        const batch = encodeColumns(ts, agg.sample(ts, true), {
          range: cfg.range,
        });
        out?.postMessage(batch, [batch.buf]);
        ctx.stats({ counters: {}, books: agg.entries.size });
      }, cfg.tickMs);
    },
    link(_name, peer, role, port) {
      if (role === "out") {
        out?.close();
        out = port;
        return;
      }
      const old = peers.get(peer);
      if (old) {
        old.close();
        agg.reset(peer);
      }
      peers.set(peer, port);
      port.onmessage = (ev) => agg.onBatch(ev.data as EventBatch, peer);
    },
    requests: {
      columns: () => {
        const ts = Date.now();
        return decodeColumns(encodeColumns(ts, agg.sample(ts, false)));
      },
    },
  });
}
