/**
 * The history store as a replay source: any time range of stored history
 * for chosen exchanges and symbols, read page by page through the
 * `replayRange` and `replayEvents` history queries
 * (`actors/store/queries/replay.ts`) of the actor that owns the database.
 * Books start exact at the range's start (or a seek's instant): the
 * keyframe before it and the changes after it, pushed as a `Clear` then
 * every level; then every stored book change, keyframe, trade and
 * liquidation follows in event-time order, one batch per exchange per
 * {@link StoreSource.take}. The next page is fetched while the current one
 * is applied. The source keeps every series' book (sorted, as the keepers
 * do), so it can bucket them on the ticks (`sampleBooks`) as a connection
 * actor does for the aggregator.
 *
 * ```ts
 * // in the replay actor, over its `history` link to the writer
 * const src = await openStoreSource(
 *   (method, params) => portRequest(history, method, params),
 *   { exchanges: ["okx"], symbols: ["BTC-USDT"] },
 * );
 * await src.seek(src.start);
 * ```
 *
 * @module
 */

import { BatchBuilder, type EventBatch, Kind } from "../market/batch.ts";
import { OrderBook } from "../market/book.ts";
import type { DumpBook, ReplayDump } from "../market/requests.ts";
import {
  type BookColumns,
  BookSampler,
  type BucketSizes,
  type OwnedBook,
  type SamplingConfig,
} from "../market/sampler.ts";
import type {
  HistoryRequests,
  ReplayCursor,
  ReplayPage,
  ReplaySeries,
} from "../store/queries.ts";
import type { ReplaySource } from "./source.ts";

/** The history requests a store source makes. */
export type StoreRequests = Pick<
  HistoryRequests,
  "replayRange" | "replayEvents"
>;

/**
 * How a store source reaches the database: one history request, answered
 * asynchronously (`portRequest` over the replay actor's `history` link, or
 * the query functions on a database in tests and benches).
 * @param method `replayRange` or `replayEvents`.
 * @param params its parameters.
 * @returns its result; rejects with the query's `RequestError`.
 */
export type StoreQuery = <K extends keyof StoreRequests>(
  method: K,
  params: StoreRequests[K]["params"],
) => Promise<StoreRequests[K]["result"]>;

/** Options of {@link openStoreSource}. */
export interface StoreSourceOptions {
  /** Exchange ids. */
  exchanges: string[];
  /** The venues' symbols (`BTCUSDT`) or selectors (`BTC-USDT`). */
  symbols: string[];
  /**
   * Start of the range, ms (event time).
   * @default the first stored event of the series
   */
  from?: number;
  /**
   * End of the range (exclusive), ms.
   * @default just after the last stored event
   */
  to?: number;
  /**
   * Stored rows per page.
   * @default 50000
   */
  pageRows?: number;
}

/**
 * Opens a replay of stored history: resolves the series and the range
 * (`replayRange`), nothing is read yet; call `seek` first.
 * @param query how requests reach the database owner.
 * @param options exchanges, symbols, range and page size.
 * @returns the source; `start` and `end` are the first and last stored
 * event times in the range.
 * @throws {RequestError} `not_found` when nothing of the series is stored
 * in the range, `bad_request` for bad lists or times (from the query).
 * @example
 * ```ts
 * const src = await openStoreSource((m, p) => handlers[m](p), { exchanges: ["bybit"], symbols: ["BTCUSD"] });
 * await src.seek(src.start);
 * await src.advance(src.start + 1000, 100_000);
 * const batches = src.take(src.start + 1000);
 * ```
 */
export async function openStoreSource(
  query: StoreQuery,
  options: StoreSourceOptions,
): Promise<StoreSource> {
  const range = await query("replayRange", {
    exchanges: options.exchanges,
    symbols: options.symbols,
    from: options.from,
    to: options.to,
  });
  return new StoreSource(query, {
    series: range.series,
    start: options.from ?? range.start,
    end: range.end,
    to: options.to ?? range.end + 1,
    pageRows: options.pageRows ?? 50_000,
  });
}

/** What a {@link StoreSource} replays, resolved. */
export interface StoreSourceInit {
  /** The series, each exchange's in order. */
  series: ReplaySeries[];
  /** Start of the range, ms. */
  start: number;
  /** Time of the last stored event in the range, ms. */
  end: number;
  /** End of the range (exclusive), ms. */
  to: number;
  /** Stored rows per page. */
  pageRows: number;
}

/** One series as the source applies it. */
interface Track {
  readonly series: ReplaySeries;
  /** Index into the exchanges (and builders). */
  readonly exchange: number;
  /** The book as applied so far. */
  readonly book: OrderBook;
  /** `synced` after a keyframe with levels, `unsynced` after a bare `Clear`. */
  state: string;
  /** True once anything of it was pushed since the source was opened. */
  seen: boolean;
  /** Its symbol index in its builder's current batch; -1 before use. */
  sym: number;
}

/** A page being applied: its columns and how far. */
interface Applying {
  price: Float64Array;
  size: Float64Array;
  ts: Float64Array;
  local: Float64Array;
  code: Float64Array;
  n: number;
  at: number;
}

/**
 * A {@link ReplaySource} over the history store (see the module doc).
 * Series `i` of a page is `exchanges[e] × symbols[s]` with `i = e ×
 * symbols + s`, over the venue symbols the range resolved. Counters per
 * exchange in {@link dump}: `events` (records applied) and `keyframes`
 * (`Clear`s applied).
 */
export class StoreSource implements ReplaySource {
  /** Exchange ids, in first-series order. */
  readonly exchanges: readonly string[];
  /** Start of the range, ms. */
  readonly start: number;
  /** Time of the last stored event in the range, ms. */
  readonly end: number;
  readonly #query: StoreQuery;
  readonly #to: number;
  readonly #limit: number;
  /** The venue symbols, for the page requests. */
  readonly #symbols: string[];
  /** Series by page series index (`e × symbols + s`); undefined: not one. */
  readonly #tracks: (Track | undefined)[];
  #builders: BatchBuilder[];
  /** How books are sampled, once asked ({@link sampleBooks}). */
  #sampling: { cfg: SamplingConfig; sizes: BucketSizes } | null = null;
  /** One sampler per exchange while sampling (none during a seek). */
  #samplers: BookSampler[] | null = null;
  /** Each exchange's books, as its sampler reads them. */
  readonly #owned: Iterable<OwnedBook>[];
  #page: Applying | null = null;
  /** The cursor of the page after the current one; null: none left. */
  #cursor: ReplayCursor | null = null;
  /** The next page, being fetched or fetched. */
  #ahead: Promise<ReplayPage> | null = null;
  /** The next page once it arrived (so `next()` can see it). */
  #ready: ReplayPage | null = null;
  /** Time of the last event applied since the last seek, ms. */
  #last = -Infinity;
  /** Bumped by each seek and by close: replies of older requests are void. */
  #epoch = 0;
  readonly #counters: Record<string, number>[];

  /**
   * Prefer {@link openStoreSource}, which resolves the series first.
   * @param query how requests reach the database owner.
   * @param init the resolved series and range.
   */
  constructor(query: StoreQuery, init: StoreSourceInit) {
    this.#query = query;
    this.#to = init.to;
    this.#limit = init.pageRows;
    this.start = init.start;
    this.end = init.end;
    const exchanges: string[] = [];
    const symbols: string[] = [];
    for (const s of init.series) {
      if (!exchanges.includes(s.exchange)) exchanges.push(s.exchange);
      if (!symbols.includes(s.ref.exchangeSymbol)) {
        symbols.push(s.ref.exchangeSymbol);
      }
    }
    this.exchanges = exchanges;
    this.#symbols = symbols;
    this.#tracks = new Array(exchanges.length * symbols.length);
    for (const s of init.series) {
      const e = exchanges.indexOf(s.exchange);
      this.#tracks[e * symbols.length + symbols.indexOf(s.ref.exchangeSymbol)] =
        {
          series: s,
          exchange: e,
          book: new OrderBook(),
          state: "unsynced",
          seen: false,
          sym: -1,
        };
    }
    this.#builders = exchanges.map((e) => new BatchBuilder(e));
    this.#counters = exchanges.map(() => ({ events: 0, keyframes: 0 }));
    this.#owned = exchanges.map((_, e) => ({
      [Symbol.iterator]: () => this.#ownedBooks(e),
    }));
  }

  /** The books of exchange `e` that were seen, as its sampler reads them. */
  *#ownedBooks(e: number): Generator<OwnedBook> {
    for (const tr of this.#tracks) {
      if (tr && tr.exchange === e && tr.seen) {
        yield { ref: tr.series.ref, book: tr.book };
      }
    }
  }

  /**
   * Re-opens the replay at `t`: books exact at `t` (every stored row before
   * it applied), pushed as a `Clear` then every level at `local = t` into
   * the next take (a book seen before that has no keyframe before `t` gets
   * a bare `Clear`), then the events from `t` on. What was applied but not
   * taken is dropped.
   * @param t event time, ms, within `[start, to)`.
   * @throws {RequestError} from the query (`bad_request` outside the range).
   */
  async seek(t: number): Promise<void> {
    const epoch = ++this.#epoch;
    this.#samplers = null;
    this.#page = null;
    this.#ready = null;
    this.#ahead = null;
    this.#cursor = null;
    const page = await this.#fetch(t, undefined);
    if (epoch !== this.#epoch) return;
    this.#builders = this.exchanges.map((e) => new BatchBuilder(e));
    for (const tr of this.#tracks) {
      if (!tr) continue;
      tr.sym = -1;
      tr.book.clear();
      tr.state = "unsynced";
    }
    const books = page.books!;
    const pushed = new Set<Track>();
    this.#apply(columnsOf(books.n, books.buf), Infinity, Infinity, pushed);
    for (const tr of this.#tracks) {
      if (!tr || !tr.seen || pushed.has(tr)) continue;
      const b = this.#builders[tr.exchange];
      b.clock = t;
      b.push(this.#symOf(tr), Kind.Clear, 0, 0, t);
    }
    // The books at t are a state, not events.
    this.#last = -Infinity;
    const sampling = this.#sampling;
    if (sampling) {
      this.#samplers = this.exchanges.map((e, i) => {
        const sampler = new BookSampler(e, sampling.cfg, sampling.sizes);
        sampler.cross(t, this.#owned[i]);
        return sampler;
      });
    }
    this.#use(page);
  }

  /**
   * Time of the next event not applied yet, ms; while the next page is
   * still on its way, the time it starts at (no event is before it);
   * Infinity at the end.
   */
  next(): number {
    for (;;) {
      const p = this.#page;
      if (p && p.at < p.n) return p.local[p.at];
      if (this.#ready) this.#use(this.#ready);
      else return this.#cursor ? this.#cursor.ts : Infinity;
    }
  }

  /**
   * Time of the last event applied since the last seek, ms; -Infinity
   * before any (the books a seek pushes are not events).
   */
  last(): number {
    return this.#last;
  }

  /**
   * Applies the events before `until`, about `budget` of them (whole
   * milliseconds: the one the budget ends in is finished).
   * @param until event time, ms (exclusive).
   * @param budget events to stop after.
   * @returns events applied; a promise when the next page must be awaited.
   */
  advance(until: number, budget: number): number | Promise<number> {
    let done = 0;
    for (;;) {
      const p = this.#page;
      if (p && p.at < p.n) {
        done += this.#apply(p, until, budget - done);
        if (p.at < p.n) return done;
      }
      if (done >= budget) return done;
      if (this.#ready) {
        this.#use(this.#ready);
        continue;
      }
      const ahead = this.#ahead;
      if (!ahead || !this.#cursor || this.#cursor.ts >= until) return done;
      const epoch = this.#epoch;
      return ahead.then(async (page) => {
        if (epoch !== this.#epoch) return done;
        if (this.#ahead === ahead) this.#use(page);
        return done + await this.advance(until, budget - done);
      });
    }
  }

  /**
   * Takes what was applied since the last take: one batch per exchange (in
   * {@link exchanges} order, empty ones included), each stamped `clock`.
   * @param clock the event clock, ms (no later event is before it).
   * @returns the batches; transfer their `buf`s when posting them.
   */
  take(clock: number): EventBatch[] {
    for (const tr of this.#tracks) if (tr) tr.sym = -1;
    return this.#builders.map((b, e) => {
      this.#samplers?.[e].cross(clock, this.#owned[e]);
      b.clock = clock;
      return b.take();
    });
  }

  /**
   * Samples the books on the ticks of `cfg` from the next seek on.
   * @param cfg tick, range, buckets and aliases.
   * @param sizes the bucket sizes.
   */
  sampleBooks(cfg: SamplingConfig, sizes: BucketSizes): void {
    this.#sampling = { cfg, sizes };
  }

  /** The book samples made since the last call, exchange by exchange. */
  takeBooks(): BookColumns[] {
    const out: BookColumns[] = [];
    for (const s of this.#samplers ?? []) out.push(...s.take());
    return out;
  }

  /**
   * The books as applied so far (top `depth` levels a side, best first;
   * `lastSequence` -1: the store keeps no venue sequence) and the
   * counters per exchange: `events` and `keyframes`.
   * @param depth levels per side.
   * @returns the dump.
   */
  dump(depth: number): ReplayDump {
    const books: Record<string, Record<string, DumpBook>> = {};
    const stats: Record<string, Record<string, number>> = {};
    this.exchanges.forEach((e, i) => {
      books[e] = {};
      stats[e] = { ...this.#counters[i] };
    });
    for (const tr of this.#tracks) {
      if (!tr || !tr.seen) continue;
      books[tr.series.exchange][tr.series.ref.exchangeSymbol] = {
        state: tr.state,
        bids: tr.book.bids.top(depth),
        asks: tr.book.asks.top(depth),
        lastSequence: -1,
      };
    }
    return { books, stats };
  }

  /** Drops the pages held and voids the requests under way. */
  close(): void {
    this.#epoch++;
    this.#page = null;
    this.#ready = null;
    this.#ahead = null;
    this.#cursor = null;
  }

  /** Requests one page from `at` (the books too without a cursor). */
  #fetch(at: number, after: ReplayCursor | undefined): Promise<ReplayPage> {
    return this.#query("replayEvents", {
      exchanges: [...this.exchanges],
      symbols: this.#symbols,
      from: after ? this.start : at,
      to: this.#to,
      after,
      limit: this.#limit,
    });
  }

  /** Makes `page` the current one and requests the one after it. */
  #use(page: ReplayPage): void {
    this.#page = columnsOf(page.events.n, page.events.buf);
    this.#ready = null;
    this.#cursor = page.next;
    const next = page.next;
    if (!next) {
      this.#ahead = null;
      return;
    }
    const epoch = this.#epoch;
    const ahead = this.#fetch(next.ts, next);
    this.#ahead = ahead;
    ahead.then((p) => {
      if (epoch === this.#epoch && this.#ahead === ahead) this.#ready = p;
    }, () => {
      // Reported to whoever awaits it (advance).
    });
  }

  /**
   * Pushes records of `p` from `p.at` while `local < until`, stopping once
   * `budget` are pushed and the millisecond changes.
   * @returns records pushed.
   */
  #apply(
    p: Applying,
    until: number,
    budget: number,
    pushed?: Set<Track>,
  ): number {
    const { price, size, ts, local, code, n } = p;
    const tracks = this.#tracks;
    const builders = this.#builders;
    const counters = this.#counters;
    const samplers = this.#samplers;
    const owned = this.#owned;
    let i = p.at;
    const from = i;
    let stopAt = Infinity;
    for (; i < n; i++) {
      const t = local[i];
      if (t >= until) break;
      if (i - from >= budget) {
        if (stopAt === Infinity) stopAt = t;
        if (t !== stopAt) break;
      }
      const c = code[i];
      const kind = c % 8;
      const tr = tracks[(c - kind) / 8];
      if (!tr) throw new Error(`Replay record of unknown series ${c}`);
      const b = builders[tr.exchange];
      samplers?.[tr.exchange].cross(t, owned[tr.exchange]);
      b.clock = t;
      const s = tr.sym >= 0 ? tr.sym : this.#symOf(tr);
      b.push(s, kind, price[i], size[i], ts[i]);
      counters[tr.exchange].events++;
      if (kind === Kind.Bid) {
        tr.book.bids.set(price[i], size[i]);
        tr.state = "synced";
      } else if (kind === Kind.Ask) {
        tr.book.asks.set(price[i], size[i]);
        tr.state = "synced";
      } else if (kind === Kind.Clear) {
        tr.book.clear();
        tr.state = "unsynced";
        counters[tr.exchange].keyframes++;
        pushed?.add(tr);
      }
      tr.seen = true;
    }
    p.at = i;
    if (i > from) this.#last = local[i - 1];
    return i - from;
  }

  /** The series' symbol index in its builder's current batch. */
  #symOf(tr: Track): number {
    tr.sym = this.#builders[tr.exchange].symbol(tr.series.ref);
    return tr.sym;
  }
}

/** Column views of `n` records in the `EventBatch` layout. */
function columnsOf(n: number, buf: ArrayBuffer): Applying {
  const all = new Float64Array(buf);
  return {
    price: all.subarray(0, n),
    size: all.subarray(n, 2 * n),
    ts: all.subarray(2 * n, 3 * n),
    local: all.subarray(3 * n, 4 * n),
    code: all.subarray(4 * n, 5 * n),
    n,
    at: 0,
  };
}
