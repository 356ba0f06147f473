/**
 * The aggregation algorithm: mirrors every exchange × symbol book from the
 * connections' batches and, every tick of the event clock, samples each into
 * price buckets: resting bid and ask size, buy and sell volume traded during
 * the tick, liquidations during the tick (longs and shorts), BBO and mid. Pure (no worker, no I/O): the aggregator actor
 * (`actors/aggregator.ts`) and the replay sessions (`actors/replay/`) run it.
 *
 * Ticks follow the event clock, not the wall clock: tick
 * `[tickEnd − tickMs, tickEnd)` closes once every input has reported a clock
 * (`EventBatch.clock`) at or past `tickEnd`, so every record received before
 * `tickEnd` is in; its columns are stamped `tickEnd` (the books at that
 * instant, the trades of the tick). Live, the clock is the local receive
 * time; in a replay the recorded one, so a replay gives the same columns at
 * any speed. An input that lags behind the others for `stallMs` of wall time
 * stops holding the ticks back; its records that then arrive for ticks
 * already closed go into the current tick and are counted as `late`.
 *
 * @module
 */

import { z } from "zod";
import {
  columns as batchColumns,
  type EventBatch,
  Kind,
  type SymbolRef,
} from "./batch.ts";
import { OrderBook } from "./book.ts";
import { consolidationKey } from "./consolidate.ts";
import {
  bucketOf,
  type ColumnInit,
  defaultBucketSize,
  mergeLiquidations,
  midPrice,
  sampleBook,
} from "./heatmap.ts";

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
  /**
   * Wall time, ms, after which an input that is behind (or has never
   * reported a clock) stops holding the ticks back.
   */
  stallMs: z.number().positive().default(5000),
  /**
   * The connection actor ids expected to link (the topology's). The first
   * tick waits until each has reported a clock or passed its stall limit
   * (counted from the aggregator's start), so a connection that links late
   * at start-up is not left behind; with none listed, only the inputs
   * linked so far are waited for.
   */
  inputs: z.array(z.string()).default([]),
});
/** Parsed aggregator config. */
export type AggregatorConfig = z.infer<typeof AggregatorConfig>;

/**
 * Most ticks emitted for one jump of the event clock; beyond it the older
 * ticks are skipped (their book changes applied, their trades dropped).
 */
export const MAX_TICKS_PER_JUMP = 1000;

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
  /** Liquidation volume of the tick by bucket, base currency. */
  liquidations: Map<number, { bucket: number; longs: number; shorts: number }>;
}

/** A received batch not yet fully applied. */
interface Pending {
  readonly n: number;
  readonly price: Float64Array;
  readonly size: Float64Array;
  readonly local: Float64Array;
  readonly code: Float64Array;
  readonly refs: Entry[];
  /** The next record to apply. */
  i: number;
}

/** One input: a connection actor's stream of batches. */
interface Input {
  readonly id: string;
  /** Its clock: the latest `EventBatch.clock`, ms; 0 until it reports one. */
  clock: number;
  /** Batches with records at or past the current tick's end. */
  readonly queue: Pending[];
  /**
   * When it was linked (or, expected but not linked yet, when the
   * aggregator started), wall ms: the stall limit of a silent input.
   */
  readonly linkedAt: number;
  /** False for an expected input that has not linked yet. */
  linked: boolean;
  /** Left behind by the safety valve: does not hold ticks back. */
  stalled: boolean;
}

/** Options for {@link Aggregator}. */
export interface AggregatorOptions {
  /**
   * Receives each closed tick: its time (ms since epoch, the tick's end)
   * and one column per non-empty book.
   */
  onTick(ts: number, columns: ColumnInit[]): void;
  /**
   * Monotonic wall time, ms, for the stall limits.
   * @default performance.now
   */
  now?: () => number;
}

/** What the aggregator counts. */
export interface AggregatorCounters {
  /** Ticks closed (emitted). */
  ticks: number;
  /** Ticks skipped in jumps of more than {@link MAX_TICKS_PER_JUMP}. */
  skippedTicks: number;
  /** Records applied after their tick had closed (a lagging input). */
  late: number;
}

/**
 * The aggregator's state: book mirrors, inputs and the tick clock; exported
 * for tests and the bench.
 *
 * @example
 * ```ts
 * const agg = new Aggregator(AggregatorConfig.parse({ tickMs: 250 }), {
 *   onTick: (ts, cols) => port.postMessage(encodeColumns(ts, cols)),
 * });
 * agg.link("conn:binance");
 * agg.onBatch(batch, "conn:binance"); // closes every tick its clock passed
 * ```
 */
export class Aggregator {
  readonly #cfg: AggregatorConfig;
  readonly #onTick: (ts: number, columns: ColumnInit[]) => void;
  readonly #now: () => number;
  /** Book mirrors by exchange and exchange symbol. */
  readonly entries = new Map<string, Entry>();
  readonly #bucketSizes = new Map<string, number>();
  readonly #inputs = new Map<string, Input>();
  /** End of the open tick, ms; undefined until the clock is known. */
  #tickEnd: number | undefined;
  /** End of the last closed (or skipped) tick; records before it are late. */
  #closedUpTo = -Infinity;
  /** The earliest record or clock seen before the first tick, ms. */
  #earliest = Infinity;
  /** Wall time since which a due tick waits for a lagging input. */
  #blockedSince: number | undefined;
  /** Counters, cumulative. */
  readonly counters: AggregatorCounters = {
    ticks: 0,
    skippedTicks: 0,
    late: 0,
  };

  /**
   * @param cfg parsed config.
   * @param options where closed ticks go, and the wall clock.
   */
  constructor(cfg: AggregatorConfig, options: AggregatorOptions) {
    this.#cfg = cfg;
    this.#onTick = options.onTick;
    this.#now = options.now ?? (() => performance.now());
    for (const id of cfg.inputs) this.#add(id, false);
  }

  /**
   * The instant the mirrors show, ms since epoch: every record before it
   * that has arrived is applied (0 before any input reported a clock).
   */
  get clock(): number {
    let lead = 0;
    for (const inp of this.#inputs.values()) {
      if (inp.clock > lead) lead = inp.clock;
    }
    return this.#tickEnd === undefined ? lead : Math.min(lead, this.#tickEnd);
  }

  /**
   * (Re)links an input. A relinked one (its connection restarted) starts
   * over: its queued batches are dropped, its book mirrors cleared, and it
   * holds the ticks back until it reports a clock (or the stall limit).
   * @param connection the connection's actor id (e.g. `conn:bybit:linear`).
   */
  link(connection: string): void {
    const known = this.#inputs.get(connection);
    if (known && !known.linked) {
      known.linked = true;
      return;
    }
    if (known) this.#reset(connection);
    this.#add(connection, true);
  }

  #add(id: string, linked: boolean): void {
    this.#inputs.set(id, {
      id,
      clock: 0,
      queue: [],
      linkedAt: this.#now(),
      linked,
      stalled: false,
    });
  }

  /**
   * Takes a batch from a connection actor (linking it if new): its records
   * are applied in order as far as the open tick reaches, the rest wait for
   * later ticks; every tick the inputs' clocks now pass is closed.
   * @param b the batch.
   * @param connection the sending connection's actor id; its book mirrors
   * are the ones a relink clears.
   */
  onBatch(b: EventBatch, connection: string): void {
    if (!this.#inputs.get(connection)?.linked) this.link(connection);
    const inp = this.#inputs.get(connection)!;
    if (b.n > 0) {
      const { price, size, local, code } = batchColumns(b);
      const refs: Entry[] = b.symbols.map((r) => this.#entry(b.exchange, r));
      inp.queue.push({ n: b.n, price, size, local, code, refs, i: 0 });
      if (this.#tickEnd === undefined) {
        // Records are in clock order: the first with a clock is the earliest.
        for (let i = 0; i < b.n; i++) {
          if (local[i] <= 0) continue;
          if (local[i] < this.#earliest) this.#earliest = local[i];
          break;
        }
      }
    }
    if (b.clock > inp.clock) inp.clock = b.clock;
    if (
      this.#tickEnd === undefined && b.clock > 0 && b.clock < this.#earliest
    ) this.#earliest = b.clock;
    this.#pump();
  }

  /**
   * Jumps the open tick to the one holding `t`, closing none of the ticks
   * in between (a replay skipping a silence: no input has a record before
   * `t` that is not applied yet, so those ticks would only repeat the last
   * books). Does nothing before the first tick or when `t` is in the open
   * tick.
   * @param t event time, ms.
   */
  jump(t: number): void {
    const end = this.#tickEnd;
    if (end === undefined || t < end) return;
    this.#skip(Math.floor((t - end) / this.#cfg.tickMs) + 1);
  }

  /**
   * The safety valve, for a timer: lets inputs past their stall limit stop
   * holding the ticks back, and closes what that allows.
   */
  check(): void {
    const end = this.#tickEnd;
    if (end === undefined || this.#watermark() >= end) {
      this.#blockedSince = undefined;
      this.#pump();
      return;
    }
    let lead = -Infinity;
    for (const inp of this.#inputs.values()) {
      if (inp.clock > lead) lead = inp.clock;
    }
    // Nothing is due yet: every input is before the tick's end.
    if (lead < end) {
      this.#blockedSince = undefined;
      return;
    }
    const now = this.#now();
    this.#blockedSince ??= now;
    if (now - this.#blockedSince <= this.#cfg.stallMs) return;
    for (const inp of this.#inputs.values()) {
      if (inp.clock < end) inp.stalled = true;
    }
    this.#blockedSince = undefined;
    this.#pump();
  }

  /** Applies what the open tick reaches and closes every tick that is due. */
  #pump(): void {
    if (this.#tickEnd === undefined && !this.#start()) return;
    const tickMs = this.#cfg.tickMs;
    this.#applyAll(this.#tickEnd!);
    for (;;) {
      const end = this.#tickEnd!;
      const wm = this.#watermark();
      if (!(wm >= end)) break;
      const behind = Math.floor((wm - end) / tickMs);
      if (behind > MAX_TICKS_PER_JUMP) this.#skip(behind - MAX_TICKS_PER_JUMP);
      this.#close();
    }
  }

  /**
   * Sets the first tick once every input has reported a clock (or is past
   * its stall limit): the one holding the earliest record or clock seen.
   */
  #start(): boolean {
    if (this.#earliest === Infinity) return false;
    const now = this.#now();
    for (const inp of this.#inputs.values()) {
      if (inp.clock <= 0 && now - inp.linkedAt < this.#cfg.stallMs) {
        return false;
      }
    }
    const tickMs = this.#cfg.tickMs;
    this.#tickEnd = Math.floor(this.#earliest / tickMs) * tickMs + tickMs;
    return true;
  }

  /**
   * The clock every holding input has reached: the least clock of the
   * inputs that hold ticks back (not stalled, and reported, or silent but
   * within their stall limit); -Infinity when none holds.
   */
  #watermark(): number {
    const end = this.#tickEnd!;
    const now = this.#now();
    let wm = Infinity;
    for (const inp of this.#inputs.values()) {
      if (inp.clock <= 0) {
        if (!inp.stalled && now - inp.linkedAt < this.#cfg.stallMs) {
          return -Infinity;
        }
        continue;
      }
      // A stalled input that caught up holds ticks again.
      if (inp.stalled && inp.clock >= end) inp.stalled = false;
      if (!inp.stalled && inp.clock < wm) wm = inp.clock;
    }
    return wm === Infinity ? -Infinity : wm;
  }

  /** Closes the open tick: its columns go out, the next tick opens. */
  #close(): void {
    const ts = this.#tickEnd!;
    const cols = this.sample(ts, true);
    this.#closedUpTo = ts;
    this.#tickEnd = ts + this.#cfg.tickMs;
    this.#blockedSince = undefined;
    this.counters.ticks++;
    this.#onTick(ts, cols);
    this.#applyAll(this.#tickEnd);
  }

  /** Moves past `n` ticks without emitting them (their trades are dropped). */
  #skip(n: number): void {
    const start = this.#tickEnd! + (n - 1) * this.#cfg.tickMs;
    this.#applyAll(start);
    for (const e of this.entries.values()) {
      e.buys.clear();
      e.sells.clear();
      e.liquidations.clear();
    }
    this.#closedUpTo = start;
    this.#tickEnd = start + this.#cfg.tickMs;
    this.counters.skippedTicks += n;
    this.#applyAll(this.#tickEnd);
  }

  /** Applies every input's queued records received before `end`. */
  #applyAll(end: number): void {
    for (const inp of this.#inputs.values()) {
      const q = inp.queue;
      while (q.length) {
        const p = q[0];
        const i = this.#apply(p, end, inp.id);
        p.i = i;
        if (i < p.n) break;
        q.shift();
      }
    }
  }

  /**
   * Applies a batch's records from `p.i` while they were received before
   * `end`.
   * @returns the index of the first record not applied.
   */
  #apply(p: Pending, end: number, connection: string): number {
    const { price, size, local, code, refs, n } = p;
    const closed = this.#closedUpTo;
    let i = p.i;
    for (; i < n && local[i] < end; i++) {
      if (local[i] < closed) this.counters.late++;
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
          // A symbol's first trade may come before its first sample.
          const bs = this.bucketSize(e.key, price[i]);
          const m = kind === Kind.Buy ? e.buys : e.sells;
          const k = bucketOf(price[i], bs);
          m.set(k, (m.get(k) ?? 0) + size[i]);
          break;
        }
        case Kind.LiquidationBuy:
        case Kind.LiquidationSell: {
          const bs = this.bucketSize(e.key, price[i]);
          const k = bucketOf(price[i], bs);
          let l = e.liquidations.get(k);
          if (!l) e.liquidations.set(k, l = { bucket: k, longs: 0, shorts: 0 });
          // A forced sell liquidates a long, a forced buy a short.
          if (kind === Kind.LiquidationSell) l.longs += size[i];
          else l.shorts += size[i];
          break;
        }
      }
    }
    return i;
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
        liquidations: new Map(),
      };
      this.entries.set(id, e);
    }
    return e;
  }

  /**
   * Forgets the book mirrors one connection fed (it restarted and will send
   * them again in full). The mirrors of its sibling connections on the same
   * exchange are kept: they are not re-sent.
   */
  #reset(connection: string): void {
    for (const e of this.entries.values()) {
      if (e.owner !== connection) continue;
      e.book.clear();
      e.owner = null;
    }
  }

  /**
   * The bucket size of a consolidation key: configured, else fixed by the
   * first price seen (its first sample's mid, or a trade before that).
   * @param key consolidation key, e.g. `BTC-USDT`.
   * @param mid a representative price, quote currency (used only the first time).
   * @returns quote currency per bucket.
   */
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
   * Samples every book as it is now into columns: each within `range`
   * around its own mid, at most `2 · range · MAX_MID_BUCKETS + 1` buckets
   * (see `sampleBook`), whatever the book quotes. Closing ticks calls it;
   * call it directly for a sample between ticks.
   * @param ts the time to stamp, ms since epoch.
   * @param close true to end a tick: trade volumes restart from zero.
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
      const liquidations = mergeLiquidations(
        [[...e.liquidations.values()]],
        s.lo,
        n,
      );
      if (close) {
        e.buys.clear();
        e.sells.clear();
        e.liquidations.clear();
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
        ...(liquidations && { liquidations }),
      });
    }
    return out;
  }
}
