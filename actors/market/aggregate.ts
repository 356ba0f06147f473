/**
 * The aggregation algorithm: every tick of the event clock, it merges each
 * exchange × symbol's latest book columns (sampled by the owner of the book:
 * the connection actor, or a replay source; see `sampler.ts`) with the buy
 * and sell volume traded during the tick and the tick's liquidations (longs
 * and shorts) by price bucket, BBO and mid. It keeps no copy of any book:
 * book-level records (`Bid`, `Ask`, `Clear`) in its batches are skipped.
 * Pure (no worker, no I/O): the aggregator actor (`actors/aggregator.ts`)
 * and the replay sessions (`actors/replay/`) run it.
 *
 * Ticks follow the event clock, not the wall clock: tick
 * `[tickEnd − tickMs, tickEnd)` closes once every input has reported a clock
 * (`EventBatch.clock`) at or past `tickEnd`, so every record received before
 * `tickEnd` is in, and so is each input's book sample for `tickEnd` (an owner
 * sends the sample its clock took on crossing `tickEnd` before the batch
 * carrying that clock); its columns are stamped `tickEnd` (the books at that
 * instant, the trades of the tick). Live, the clock is the local receive
 * time; in a replay the recorded one, so a replay gives the same columns at
 * any speed. An input that lags behind the others for `stallMs` of wall time
 * stops holding the ticks back: its latest sample stands for its books, and
 * its records (and samples) that then arrive for ticks already closed go
 * into the current tick and are counted as `late`.
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
import {
  bucketOf,
  type ColumnInit,
  defaultBucketSize,
  mergeLiquidations,
} from "./heatmap.ts";
import {
  type BookColumn,
  type BookColumns,
  bookColumns,
  BucketSizes,
  rebucket,
  SamplingConfig,
} from "./sampler.ts";

/** Config of the aggregator: the sampling settings, the stall limit and the expected inputs. */
export const AggregatorConfig = SamplingConfig.extend({
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
 * ticks are skipped (their trades dropped).
 */
export const MAX_TICKS_PER_JUMP = 1000;

/** One exchange × symbol: its trades and liquidations of the open tick. */
interface Entry {
  exchange: string;
  ref: SymbolRef;
  key: string;
  buys: Map<number, number>;
  sells: Map<number, number>;
  /** Liquidation volume of the tick by bucket, base currency. */
  liquidations: Map<number, { bucket: number; longs: number; shorts: number }>;
  /** Its book's column for the tick being put together; null otherwise. */
  pick: BookColumn | null;
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

/** A received book sample, its columns at the key's bucket size. */
interface Sample {
  /** The latest tick end it serves, ms (`BookColumns.ts`). */
  readonly ts: number;
  /** Exchange id. */
  readonly exchange: string;
  readonly columns: readonly BookColumn[];
  /** The exchange × symbol of each column, aligned with `columns`. */
  readonly entries: readonly Entry[];
}

/** One input: a connection actor's stream of batches and book samples. */
interface Input {
  readonly id: string;
  /** Its clock: the latest `EventBatch.clock`, ms; 0 until it reports one. */
  clock: number;
  /** Batches with records at or past the current tick's end. */
  readonly queue: Pending[];
  /** Book samples for the open tick and later ones, oldest first. */
  readonly samples: Sample[];
  /** The latest sample for a tick already closed; null before any. */
  current: Sample | null;
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
  /**
   * The bucket-size table; pass the one the owners of the books use when
   * they run in the same thread (a replay session), so they agree from the
   * first sample.
   * @default a table of its own
   */
  sizes?: BucketSizes;
  /**
   * Called when the aggregation fixes a key's bucket size that is not
   * configured: the actor sends it to every input (`BucketSizeMessage`).
   */
  onBucketSize?(key: string, size: number): void;
}

/** What the aggregator counts. */
export interface AggregatorCounters {
  /** Ticks closed (emitted). */
  ticks: number;
  /** Ticks skipped in jumps of more than {@link MAX_TICKS_PER_JUMP}. */
  skippedTicks: number;
  /**
   * Records, and book samples, that arrived after their tick had closed (a
   * lagging input).
   */
  late: number;
  /** Book columns re-bucketed to their key's size (a whole multiple of theirs). */
  rebucketed: number;
  /**
   * Book columns dropped: sampled at a bucket size their key's size is not
   * a whole multiple of (an owner that had not heard the key's size yet).
   */
  mismatched: number;
}

/**
 * The aggregator's state: trades of the open tick, the inputs' book samples
 * and the tick clock; exported for tests and the bench.
 *
 * @example
 * ```ts
 * const agg = new Aggregator(AggregatorConfig.parse({ tickMs: 250 }), {
 *   onTick: (ts, cols) => port.postMessage(encodeColumns(ts, cols)),
 * });
 * agg.link("conn:binance");
 * agg.onBooks(sample, "conn:binance"); // the books at a tick end
 * agg.onBatch(batch, "conn:binance"); // closes every tick its clock passed
 * ```
 */
export class Aggregator {
  readonly #cfg: AggregatorConfig;
  readonly #onTick: (ts: number, columns: ColumnInit[]) => void;
  readonly #now: () => number;
  readonly #onBucketSize: ((key: string, size: number) => void) | undefined;
  /** Trades and liquidations of the open tick by exchange and exchange symbol. */
  readonly entries = new Map<string, Entry>();
  /** `entries` in the order they were first seen (the columns' order). */
  readonly #order: Entry[] = [];
  /** The bucket size of each consolidation key. */
  readonly sizes: BucketSizes;
  readonly #inputs = new Map<string, Input>();
  /** End of the open tick, ms; undefined until the clock is known. */
  #tickEnd: number | undefined;
  /** End of the last closed (or skipped) tick; records before it are late. */
  #closedUpTo = -Infinity;
  /** End of the last tick emitted, ms. */
  #emittedUpTo = -Infinity;
  /** The earliest record or clock seen before the first tick, ms. */
  #earliest = Infinity;
  /** Wall time since which a due tick waits for a lagging input. */
  #blockedSince: number | undefined;
  /** Counters, cumulative. */
  readonly counters: AggregatorCounters = {
    ticks: 0,
    skippedTicks: 0,
    late: 0,
    rebucketed: 0,
    mismatched: 0,
  };

  /**
   * @param cfg parsed config.
   * @param options where closed ticks go, the wall clock and the bucket sizes.
   */
  constructor(cfg: AggregatorConfig, options: AggregatorOptions) {
    this.#cfg = cfg;
    this.#onTick = options.onTick;
    this.#now = options.now ?? (() => performance.now());
    this.#onBucketSize = options.onBucketSize;
    this.sizes = options.sizes ?? new BucketSizes(cfg);
    for (const id of cfg.inputs) this.#add(id, false);
  }

  /**
   * The instant the trades show, ms since epoch: every record before it
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
   * over: its queued batches and its book samples are dropped (its books
   * are gone until it samples them again), and it holds the ticks back until
   * it reports a clock (or the stall limit).
   * @param connection the connection's actor id (e.g. `conn:bybit:linear`).
   */
  link(connection: string): void {
    const known = this.#inputs.get(connection);
    if (known && !known.linked) {
      known.linked = true;
      return;
    }
    this.#add(connection, true);
  }

  #add(id: string, linked: boolean): void {
    this.#inputs.set(id, {
      id,
      clock: 0,
      queue: [],
      samples: [],
      current: null,
      linkedAt: this.#now(),
      linked,
      stalled: false,
    });
  }

  /**
   * Takes a batch from a connection actor (linking it if new): its trade
   * and liquidation records are applied in order as far as the open tick
   * reaches, the rest wait for later ticks (book-level records are
   * skipped: books arrive as samples, {@link onBooks}); every tick the
   * inputs' clocks now pass is closed.
   * @param b the batch.
   * @param connection the sending connection's actor id.
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
   * Takes a book sample from a connection actor (linking it if new); send
   * it before the batch whose clock passes its tick end. Its columns are
   * kept at their key's bucket size: a key without one takes the column's
   * (announced through `onBucketSize` when not configured); a column in
   * another size is re-bucketed when the key's size is a whole multiple of
   * it, else dropped and counted (`mismatched`).
   * @param s the sample.
   * @param connection the sending connection's actor id.
   */
  onBooks(s: BookColumns, connection: string): void {
    if (!this.#inputs.get(connection)?.linked) this.link(connection);
    const inp = this.#inputs.get(connection)!;
    // Late: a tick it was for has gone out without it (not merely skipped).
    if (s.ts <= this.#emittedUpTo) this.counters.late++;
    if (this.#tickEnd === undefined && s.from > 0 && s.from < this.#earliest) {
      this.#earliest = s.from;
    }
    const sample = this.#sample(s);
    const q = inp.samples;
    // Out of clock order (not sent by a sampler): the newer one wins.
    while (q.length && q[q.length - 1].ts >= s.ts) q.pop();
    q.push(sample);
  }

  /**
   * A sample's columns at their keys' bucket sizes (see {@link onBooks}),
   * with their entries.
   */
  #sample(s: BookColumns): Sample {
    const columns: BookColumn[] = [];
    const entries: Entry[] = [];
    for (const c of bookColumns(s)) {
      const e = this.#entry(s.exchange, c);
      const want = this.#fix(this.sizes.key(c.symbol), c.bucketSize);
      const r = c.bucketSize === want ? c : rebucket(c, want);
      if (r === null) {
        this.counters.mismatched++;
        continue;
      }
      if (r !== c) this.counters.rebucketed++;
      columns.push(r);
      entries.push(e);
    }
    return { ts: s.ts, exchange: s.exchange, columns, entries };
  }

  /**
   * The bucket size of a key, fixing it when it has none: the configured
   * one, else `proposed` (a sample's size, or the default for a trade's
   * price), announced through `onBucketSize`.
   */
  #fix(key: string, proposed: number): number {
    let bs = this.sizes.get(key);
    if (bs === undefined) {
      const configured = this.sizes.configured(key);
      bs = configured ?? proposed;
      this.sizes.assign(key, bs);
      if (configured === undefined) this.#onBucketSize?.(key, bs);
    }
    return bs;
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
    const cols = this.#columns(ts, true, (inp) => this.#sampleFor(inp, ts));
    this.#closedUpTo = ts;
    this.#emittedUpTo = ts;
    this.#tickEnd = ts + this.#cfg.tickMs;
    this.#blockedSince = undefined;
    this.counters.ticks++;
    this.#onTick(ts, cols);
    this.#applyAll(this.#tickEnd);
  }

  /**
   * An input's books at tick end `ts`: its first sample stamped `ts` or
   * later (taken when its clock crossed `ts`); the samples before it are
   * done with. An input without one (stalled, or its clock began past
   * `ts`) shows its latest sample, if any.
   */
  #sampleFor(inp: Input, ts: number): Sample | null {
    const q = inp.samples;
    while (q.length && q[0].ts < ts) inp.current = q.shift()!;
    return q.length ? q[0] : inp.current;
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
        const i = this.#apply(p, end);
        p.i = i;
        if (i < p.n) break;
        q.shift();
      }
    }
  }

  /**
   * Applies a batch's trade and liquidation records from `p.i` while they
   * were received before `end` (book-level records are skipped).
   * @returns the index of the first record not applied.
   */
  #apply(p: Pending, end: number): number {
    const { price, size, local, code, refs, n } = p;
    const closed = this.#closedUpTo;
    let i = p.i;
    for (; i < n && local[i] < end; i++) {
      // Codes are small whole numbers: bit operations beat `%` on doubles.
      const c = code[i];
      const kind = c & 7;
      if (kind < Kind.Buy) continue;
      if (local[i] < closed) this.counters.late++;
      const e = refs[c >>> 3];
      // A symbol's first trade may come before its first sample.
      const k = bucketOf(
        price[i],
        this.sizes.get(e.key) ??
          this.#fix(e.key, defaultBucketSize(price[i])),
      );
      if (kind === Kind.Buy || kind === Kind.Sell) {
        const m = kind === Kind.Buy ? e.buys : e.sells;
        m.set(k, (m.get(k) ?? 0) + size[i]);
      } else if (
        kind === Kind.LiquidationBuy || kind === Kind.LiquidationSell
      ) {
        let l = e.liquidations.get(k);
        if (!l) e.liquidations.set(k, l = { bucket: k, longs: 0, shorts: 0 });
        // A forced sell liquidates a long, a forced buy a short.
        if (kind === Kind.LiquidationSell) l.longs += size[i];
        else l.shorts += size[i];
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
        key: this.sizes.key(ref.symbol),
        buys: new Map(),
        sells: new Map(),
        liquidations: new Map(),
        pick: null,
      };
      this.entries.set(id, e);
      this.#order.push(e);
    }
    return e;
  }

  /**
   * The columns between ticks (the aggregator's `columns` request): each
   * input's books as `fresh` gives them (an owner's answer to a sample
   * request), else its latest sample, with the open tick's trades so far
   * (not restarted).
   * @param ts the time to stamp, ms since epoch.
   * @param fresh samples taken now, by input id.
   * @returns one column per non-empty book.
   */
  sample(ts: number, fresh?: ReadonlyMap<string, BookColumns>): ColumnInit[] {
    return this.#columns(ts, false, (inp) => {
      const now = fresh?.get(inp.id);
      if (now) return this.#sample(now);
      const q = inp.samples;
      return q.length ? q[q.length - 1] : inp.current;
    });
  }

  /**
   * Merges each input's book columns with the trades and liquidations of
   * their exchange × symbol; `close` restarts the trades of the books that
   * got a column (the others keep theirs until their book shows).
   */
  #columns(
    ts: number,
    close: boolean,
    books: (inp: Input) => Sample | null,
  ): ColumnInit[] {
    // The inputs' samples first (reading one may throw), then each book's
    // column from them (a later input's wins), marked on its entry.
    const samples: Sample[] = [];
    for (const inp of this.#inputs.values()) {
      const s = books(inp);
      if (s) samples.push(s);
    }
    for (const s of samples) {
      for (let k = 0; k < s.columns.length; k++) {
        s.entries[k].pick = s.columns[k];
      }
    }
    // In the order the books were first seen, packed into one buffer as
    // `encodeColumns` lays a batch out, so that it takes them without a copy.
    const picked: Entry[] = [];
    const cols: BookColumn[] = [];
    let total = 0;
    const order = this.#order;
    for (let k = 0; k < order.length; k++) {
      const e = order[k];
      const c = e.pick;
      if (c === null) continue;
      e.pick = null;
      picked.push(e);
      cols.push(c);
      total += 4 * c.n;
    }
    const all = new Float64Array(total);
    const out: ColumnInit[] = [];
    let off = 0;
    for (let k = 0; k < picked.length; k++) {
      const e = picked[k];
      const c = cols[k];
      const n = c.n;
      const bids = all.subarray(off, off + n);
      const asks = all.subarray(off + n, off + 2 * n);
      const buys = all.subarray(off + 2 * n, off + 3 * n);
      const sells = all.subarray(off + 3 * n, off + 4 * n);
      off += 4 * n;
      bids.set(c.bids);
      asks.set(c.asks);
      addInto(e.buys, c.lo, buys);
      addInto(e.sells, c.lo, sells);
      const liquidations = e.liquidations.size
        ? mergeLiquidations([[...e.liquidations.values()]], c.lo, n)
        : undefined;
      if (close) {
        e.buys.clear();
        e.sells.clear();
        e.liquidations.clear();
      }
      out.push({
        exchange: e.exchange,
        exchangeSymbol: c.exchangeSymbol,
        symbol: e.key,
        market: c.market,
        ts,
        bucketSize: c.bucketSize,
        lo: c.lo,
        n,
        bestBid: c.bestBid,
        bestAsk: c.bestAsk,
        bids,
        asks,
        buys,
        sells,
        ...(liquidations && { liquidations }),
      });
    }
    return out;
  }
}

/**
 * Adds a tick's volume by bucket into a column's array: the buckets `lo …
 * lo + out.length − 1` of `by` (the others lie outside the column).
 */
function addInto(
  by: ReadonlyMap<number, number>,
  lo: number,
  out: Float64Array,
): void {
  if (by.size === 0) return;
  by.forEach((v, k) => {
    if (k >= lo && k < lo + out.length) out[k - lo] += v;
  });
}
