/**
 * The live cache: what the HTTP layer answers "now" from without asking the
 * database. It folds the streams the writer publishes on the bus (event
 * batches, closed 1 s bars, columns, health events) into each book, the
 * recent trades, liquidations, bars, imbalances and health events, and
 * builds the inference frame of a symbol in the shape of the stored one
 * (`frame` in `actors/store/queries/frame.ts`), so live and historical
 * answers compare field by field.
 *
 * What it keeps, per venue book (exchange × venue symbol): the full book,
 * the newest {@link LIVE_LIMIT} trades and liquidations; per series
 * (venue, and `consolidated` per key): the bars of every frame timeframe and
 * the per-tick imbalances of the last {@link LIVE_WINDOW_MS}; the newest
 * {@link LIVE_LIMIT} health events.
 *
 * A book is `unsynced` until its first keyframe (a `Clear` followed by the
 * book's levels in the same group): a process that starts following
 * mid-stream has every book within one keyframe interval (60 s).
 *
 * @module
 */

import { columns, type EventBatch, Kind } from "../market/batch.ts";
import { OrderBook } from "../market/book.ts";
import { consolidationKey } from "../market/consolidate.ts";
import type { HealthEvent } from "../market/events.ts";
import { type ColumnBatch, decodeColumns } from "../market/heatmap.ts";
import { imbalanceOf } from "../market/imbalance.ts";
import type { BookView } from "../market/requests.ts";
import type { Market } from "../market/events.ts";
import {
  CONSOLIDATED,
  floorTo,
  historyError,
  type Series,
} from "../store/queries/_common.ts";
import {
  type Frame,
  FRAME_DEPTH,
  FRAME_TIMEFRAMES,
  frameQuality,
  type FrameTimeframe,
  type HealthRow,
} from "../store/queries/frame.ts";
import type { ImbalanceRow } from "../store/queries/imbalances.ts";
import { type Bar, TIMEFRAME_MS } from "../store/queries/ohlcv.ts";
import type { TradeRow } from "../store/queries/trades.ts";
import { tradeProblem } from "../store/validate.ts";

/** The longest window a live frame covers, ms (15 minutes). */
export const LIVE_WINDOW_MS = 900_000;

/** The most rows of each list a live frame holds. */
export const LIVE_LIMIT = 1000;

/** Levels per side a live book keeps for answers (the book itself is whole). */
export const LIVE_DEPTH = 1000;

/** Options for {@link LiveState}. */
export interface LiveStateOptions {
  /**
   * Quote aliases of the consolidation keys, e.g. `{USDT: "USD"}`.
   * @default {}
   */
  quoteAliases?: Readonly<Record<string, string>>;
  /**
   * Half-width of the imbalance band, fraction of the mid.
   * @default 0.001
   */
  imbalanceDepth?: number;
}

/** Parameters of {@link LiveState.frame}. */
export interface LiveFrameParams {
  /** Consolidation key (`BTC-USDT`) or a venue's symbol (`BTCUSDT`). */
  symbol: string;
  /** Window length, ms, at most {@link LIVE_WINDOW_MS}. */
  windowMs: number;
  /** Only these exchanges (`consolidated` for the consolidated series). */
  exchanges?: string[];
  /**
   * Book levels per side.
   * @default 10
   */
  depth?: number;
  /**
   * Most rows of each list, at most {@link LIVE_LIMIT}.
   * @default 1000
   */
  limit?: number;
}

/** One venue book and its recent prints. */
interface Venue {
  readonly exchange: string;
  readonly exchangeSymbol: string;
  /** Normalized `BASE-QUOTE`. */
  readonly symbol: string;
  readonly key: string;
  readonly market: Market;
  readonly book: OrderBook;
  /** `none` before any keyframe, then `synced` or `unsynced`. */
  state: "none" | "synced" | "unsynced";
  /** Exchange and receive time of the last `Clear` (its group). */
  clearTs: number;
  clearLocal: number;
  readonly trades: TradeRow[];
  readonly liquidations: TradeRow[];
}

/** One imbalance tick. */
interface Tick {
  readonly ts: number;
  readonly bidSize: number;
  readonly askSize: number;
  readonly imbalance: number | null;
}

/** Bars and imbalance ticks of one series. */
interface SeriesState {
  readonly exchange: string;
  readonly symbol: string;
  /** Bars by timeframe, oldest first. */
  readonly bars: Record<FrameTimeframe, Bar[]>;
  readonly ticks: Tick[];
  /** Newest time a column or bar named the series, ms. */
  seen: number;
  /** The consolidation key of a venue series (itself for consolidated). */
  key: string;
}

/**
 * The live cache of one process.
 *
 * @example
 * ```ts
 * const live = new LiveState({ quoteAliases: { USDT: "USD" } });
 * live.onBatch(batch); // and onBars, onColumns, onHealth, from the bus
 * const f = live.frame({ symbol: "BTC-USD", windowMs: 60_000 });
 * ```
 */
export class LiveState {
  readonly #aliases: Readonly<Record<string, string>>;
  readonly #depth: number;
  readonly #venues = new Map<string, Venue>();
  readonly #series = new Map<string, SeriesState>();
  readonly #health: HealthRow[] = [];
  /** The newest consolidated column per key, as its bus key's JSON. */
  readonly #columns = new Map<string, string>();
  #at = -Infinity;

  /**
   * Creates an empty cache.
   * @param options quote aliases and the imbalance band.
   */
  constructor(options: LiveStateOptions = {}) {
    this.#aliases = options.quoteAliases ?? {};
    this.#depth = options.imbalanceDepth ?? 0.001;
  }

  /**
   * The newest event time seen (the clock of the newest batch, in whole ms
   * as the store keeps times), ms; -Infinity before any.
   */
  get at(): number {
    return this.#at;
  }

  /**
   * Applies a connection's event batch: book records to the books, trades
   * and liquidations to the recent lists (invalid ones are skipped, as the
   * writer rejects them).
   * @param b the batch (prices quote currency, sizes base currency).
   */
  onBatch(b: EventBatch): void {
    const { price, size, ts, local, code } = columns(b);
    const venues: Venue[] = [];
    for (let i = 0; i < b.n; i++) {
      const kind = code[i] % 8;
      const s = (code[i] - kind) / 8;
      const v = venues[s] ??= this.#venue(b, s);
      if (kind === Kind.Clear) {
        v.book.clear();
        v.state = "unsynced";
        v.clearTs = ts[i];
        v.clearLocal = local[i];
      } else if (kind === Kind.Bid || kind === Kind.Ask) {
        if (
          v.state === "unsynced" && ts[i] === v.clearTs &&
          local[i] === v.clearLocal
        ) v.state = "synced";
        (kind === Kind.Bid ? v.book.bids : v.book.asks).set(price[i], size[i]);
      } else {
        const p = price[i];
        const q = size[i];
        if (tradeProblem(p, q, local[i], ts[i])) continue;
        const ref = b.symbols[s];
        const cs = ref.contractSize ?? 1;
        const liq = kind === Kind.LiquidationBuy ||
          kind === Kind.LiquidationSell;
        // Times at the store's precision (whole ms, truncated).
        push(liq ? v.liquidations : v.trades, {
          ts: Math.trunc(local[i]),
          exchangeTs: ts[i] === ts[i] ? Math.trunc(ts[i]) : null,
          exchange: b.exchange,
          symbol: v.exchangeSymbol,
          price: p,
          size: q,
          rawSize: ref.inverse ? q * p / cs : q / cs,
          side: kind === Kind.Buy || kind === Kind.LiquidationBuy
            ? "buy"
            : "sell",
        }, LIVE_LIMIT);
      }
    }
    if (b.clock > this.#at) this.#at = Math.trunc(b.clock);
  }

  /**
   * Adds closed 1 s bars (the writer's, as stored in `ohlcv_1s`) and rolls
   * them into the longer timeframes.
   * @param bars bars in time order.
   */
  onBars(bars: readonly Bar[]): void {
    for (const bar of bars) {
      const s = this.#seriesOf(bar.exchange, bar.symbol);
      if (bar.ts > s.seen) s.seen = bar.ts;
      for (const tf of FRAME_TIMEFRAMES) {
        const list = s.bars[tf];
        const open = floorTo(bar.ts, TIMEFRAME_MS[tf]);
        const last = list.at(-1);
        if (last && last.ts === open) {
          if (bar.high > last.high) last.high = bar.high;
          if (bar.low < last.low) last.low = bar.low;
          last.close = bar.close;
          last.volume += bar.volume;
          last.buyVolume += bar.buyVolume;
          last.sellVolume += bar.sellVolume;
          last.trades += bar.trades;
        } else if (!last || open > last.ts) list.push({ ...bar, ts: open });
        const keep = floorTo(bar.ts - LIVE_WINDOW_MS, TIMEFRAME_MS[tf]);
        let drop = 0;
        while (drop < list.length && list[drop].ts < keep) drop++;
        if (drop) list.splice(0, drop);
      }
    }
  }

  /**
   * Adds a tick's columns: each column's imbalance and the series it names.
   * @param c the batch (read now, not kept).
   */
  onColumns(c: ColumnBatch): void {
    for (const col of decodeColumns(c)) {
      const s = this.#seriesOf(col.exchange, col.exchangeSymbol);
      s.key = col.symbol;
      if (col.ts > s.seen) s.seen = col.ts;
      if (col.exchange === CONSOLIDATED) {
        this.#columns.set(
          col.symbol,
          JSON.stringify({
            ts: col.ts,
            symbol: col.symbol,
            bucketSize: col.bucketSize,
            lo: col.lo,
            bestBid: col.bestBid === col.bestBid ? col.bestBid : null,
            bestAsk: col.bestAsk === col.bestAsk ? col.bestAsk : null,
            bids: [...col.bids],
            asks: [...col.asks],
            buys: [...col.buys],
            sells: [...col.sells],
          }),
        );
      }
      const { bidSize, askSize, imbalance } = imbalanceOf(col, this.#depth);
      s.ticks.push({ ts: col.ts, bidSize, askSize, imbalance });
      let drop = 0;
      while (s.ticks[drop].ts < col.ts - LIVE_WINDOW_MS - 1000) drop++;
      if (drop) s.ticks.splice(0, drop);
    }
  }

  /**
   * Adds a feed's health event.
   * @param h the event.
   */
  onHealth(h: HealthEvent): void {
    push(this.#health, {
      ts: Math.trunc(h.ts),
      exchange: h.exchange,
      connection: h.connection || null,
      kind: h.kind,
      symbol: h.symbol ?? null,
      detail: h.detail,
    }, LIVE_LIMIT);
  }

  /**
   * One venue book as `GET /api/v1/book` serves it.
   * @param exchange exchange id.
   * @param symbol the venue's symbol.
   * @param depth levels per side.
   * @returns the book (`lastSequence` -1: the bus carries no venue update
   * ids), or null when none was received.
   */
  book(exchange: string, symbol: string, depth: number): BookView | null {
    const v = this.#venues.get(`${exchange}\t${symbol}`);
    return v && v.state !== "none"
      ? view(v, Math.min(depth, LIVE_DEPTH))
      : null;
  }

  /**
   * The latest state as bus keys (see `STREAMS` in `bus.ts`): per venue book
   * `book:<exchange>:<symbol>` (top 50 levels) and `bbo:<exchange>:<symbol>`
   * (`{ts, bid, ask, mid}`, null sides when empty), per series
   * `bars:<exchange>:<symbol>` (the newest bar per frame timeframe), per key
   * `column:<key>` (the newest consolidated column).
   * @returns `[key, JSON]` pairs.
   */
  latest(): [string, string][] {
    const out: [string, string][] = [];
    for (const v of this.#venues.values()) {
      if (v.state === "none") continue;
      const id = `${v.exchange}:${v.exchangeSymbol}`;
      const b = view(v, 50);
      out.push([`book:${id}`, JSON.stringify(b)]);
      const bid = b.bids[0]?.[0] ?? null;
      const ask = b.asks[0]?.[0] ?? null;
      out.push([
        `bbo:${id}`,
        JSON.stringify({
          ts: this.#at,
          bid,
          ask,
          mid: bid !== null && ask !== null ? (bid + ask) / 2 : null,
        }),
      ]);
    }
    for (const s of this.#series.values()) {
      const last: Partial<Record<FrameTimeframe, Bar>> = {};
      for (const tf of FRAME_TIMEFRAMES) {
        const b = s.bars[tf].at(-1);
        if (b) last[tf] = b;
      }
      if (last["1s"]) {
        out.push([`bars:${s.exchange}:${s.symbol}`, JSON.stringify(last)]);
      }
    }
    for (const [key, json] of this.#columns) out.push([`column:${key}`, json]);
    return out;
  }

  /**
   * The exchanges whose books this cache holds.
   * @returns exchange ids, sorted.
   */
  exchanges(): string[] {
    return [...new Set([...this.#venues.values()].map((v) => v.exchange))]
      .sort();
  }

  /**
   * The inference frame of a symbol over the last `windowMs` up to
   * {@link at}, in the stored frame's shape: the same as `frame(db, {at})`
   * would answer once the same data is stored.
   * @param p symbol, window and optionally exchanges, depth, limit.
   * @returns the frame; lists oldest first.
   * @throws {RequestError} `bad_request` for a window or limit past the
   * cache ({@link LIVE_WINDOW_MS}, {@link LIVE_LIMIT}); `not_found` when
   * nothing names the symbol in the window.
   */
  frame(p: LiveFrameParams): Frame {
    if (
      !Number.isInteger(p.windowMs) || p.windowMs < 1 ||
      p.windowMs > LIVE_WINDOW_MS
    ) {
      throw historyError(
        "bad_request",
        `window ${p.windowMs} must be from 1 to ${LIVE_WINDOW_MS} ms live (ask with at= for more)`,
      );
    }
    const limit = p.limit ?? LIVE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIVE_LIMIT) {
      throw historyError(
        "bad_request",
        `limit ${limit} must be from 1 to ${LIVE_LIMIT} live (ask with at= for more)`,
      );
    }
    const depth = p.depth ?? FRAME_DEPTH;
    const at = this.#at;
    const from = at - p.windowMs;
    const { key, series } = this.#resolve(p, from);
    if (series.length === 0) {
      throw historyError(
        "not_found",
        `Nothing names ${p.symbol} in the last ${p.windowMs} ms`,
      );
    }
    const states = series.map((s) =>
      this.#series.get(`${s.exchange}\t${s.symbol}`)
    );
    const ohlcv = {} as Record<FrameTimeframe, Bar[]>;
    for (const tf of FRAME_TIMEFRAMES) {
      const lo = floorTo(from, TIMEFRAME_MS[tf]);
      const lists: Bar[][] = [];
      for (const s of states) {
        const bars = s?.bars[tf] ?? [];
        const i = firstAtOrAfter(bars, lo);
        // The last bar of a timeframe still grows: a copy.
        if (i < bars.length) {
          lists.push([...bars.slice(i, -1), { ...bars[bars.length - 1] }]);
        }
      }
      ohlcv[tf] = mergeNewest(lists, limit);
    }
    const imbalances: ImbalanceRow[][] = [];
    const lo = floorTo(from, 1000);
    for (const s of states) {
      if (!s) continue;
      const rows: ImbalanceRow[] = [];
      imbalances.push(rows);
      let i = firstAtOrAfter(s.ticks, lo);
      while (i < s.ticks.length && s.ticks[i].ts <= at) {
        const w = floorTo(s.ticks[i].ts, 1000);
        let n = 0, bid = 0, ask = 0, ni = 0, imb = 0;
        for (; i < s.ticks.length && s.ticks[i].ts <= at; i++) {
          const t = s.ticks[i];
          if (floorTo(t.ts, 1000) !== w) break;
          n++;
          bid += t.bidSize;
          ask += t.askSize;
          if (t.imbalance !== null) {
            ni++;
            imb += t.imbalance;
          }
        }
        rows.push({
          ts: w,
          exchange: s.exchange,
          symbol: s.symbol,
          depth: this.#depth,
          bidSize: bid / n,
          askSize: ask / n,
          imbalance: ni ? imb / ni : null,
        });
      }
    }
    const venues = series.filter((s) => s.exchange !== CONSOLIDATED);
    const books: BookView[] = [];
    const unsynced: string[] = [];
    const trades: TradeRow[][] = [];
    const liquidations: TradeRow[][] = [];
    for (const s of venues) {
      const v = this.#venues.get(`${s.exchange}\t${s.symbol}`);
      if (!v || v.state === "none") {
        unsynced.push(s.exchange);
        continue;
      }
      books.push(view(v, depth));
      if (v.state !== "synced") unsynced.push(s.exchange);
      trades.push(v.trades.filter((t) => t.ts >= from && t.ts <= at));
      liquidations.push(
        v.liquidations.filter((t) => t.ts >= from && t.ts <= at),
      );
    }
    const names = new Set([key, ...venues.map((s) => s.symbol)]);
    const exchanges = new Set(venues.map((s) => s.exchange));
    const health = this.#health.filter((h) =>
      exchanges.has(h.exchange) && h.ts >= from && h.ts <= at &&
      (h.symbol === null || names.has(h.symbol))
    ).sort((a, b) => a.ts - b.ts || cmp(a.exchange, b.exchange));
    if (health.length > limit) health.splice(0, health.length - limit);
    const imbalanceRows = mergeNewest(imbalances, limit);
    const tradeRows = mergeNewest(trades, limit);
    const liquidationRows = mergeNewest(liquidations, limit);
    return {
      symbol: key,
      at,
      from,
      series,
      ohlcv,
      books,
      imbalances: imbalanceRows,
      trades: tradeRows,
      liquidations: liquidationRows,
      quality: frameQuality(
        { ohlcv, books, imbalances: imbalanceRows, trades: tradeRows },
        [...exchanges],
        unsynced,
        health,
      ),
    };
  }

  /**
   * The series a frame reads, as the stored frame resolves them: venues
   * whose columns or bars in the window name `symbol` (as key or venue
   * symbol), exchanges asked for that named nothing, and the consolidated
   * series when `symbol` is a key.
   */
  #resolve(
    p: LiveFrameParams,
    from: number,
  ): { key: string; series: Series[] } {
    const named: SeriesState[] = [];
    for (const s of this.#series.values()) {
      if (s.seen < from || s.seen > this.#at) continue;
      if (p.exchanges && !p.exchanges.includes(s.exchange)) continue;
      if (
        s.exchange === CONSOLIDATED ? s.symbol === p.symbol : (
          s.key === p.symbol || s.symbol === p.symbol
        )
      ) named.push(s);
    }
    named.sort((a, b) =>
      cmp(a.exchange, b.exchange) || cmp(a.symbol, b.symbol)
    );
    const keys = new Set(named.map((s) => s.key));
    const series: Series[] = named
      .filter((s) => s.exchange !== CONSOLIDATED)
      .map((s) => ({ exchange: s.exchange, symbol: s.symbol }));
    for (const e of p.exchanges ?? []) {
      if (e !== CONSOLIDATED && !series.some((s) => s.exchange === e)) {
        series.push({ exchange: e, symbol: p.symbol });
      }
    }
    const consolidated = !p.exchanges || p.exchanges.includes(CONSOLIDATED);
    if (consolidated && keys.has(p.symbol)) {
      series.push({ exchange: CONSOLIDATED, symbol: p.symbol });
    }
    return { key: keys.size === 1 ? [...keys][0] : p.symbol, series };
  }

  /** The venue of symbol `s` of a batch, created when new. */
  #venue(b: EventBatch, s: number): Venue {
    const ref = b.symbols[s];
    const id = `${b.exchange}\t${ref.exchangeSymbol}`;
    let v = this.#venues.get(id);
    if (!v) {
      v = {
        exchange: b.exchange,
        exchangeSymbol: ref.exchangeSymbol,
        symbol: ref.symbol,
        key: consolidationKey(ref.symbol, this.#aliases),
        market: ref.market,
        book: new OrderBook(),
        state: "none",
        clearTs: NaN,
        clearLocal: NaN,
        trades: [],
        liquidations: [],
      };
      this.#venues.set(id, v);
    }
    return v;
  }

  /** The series of `exchange` × `symbol`, created when new. */
  #seriesOf(exchange: string, symbol: string): SeriesState {
    const id = `${exchange}\t${symbol}`;
    let s = this.#series.get(id);
    if (!s) {
      s = {
        exchange,
        symbol,
        bars: { "1s": [], "1m": [], "5m": [], "15m": [], "1h": [] },
        ticks: [],
        seen: -Infinity,
        key: exchange === CONSOLIDATED
          ? symbol
          : this.#venues.get(id)?.key ?? symbol,
      };
      this.#series.set(id, s);
    }
    return s;
  }
}

/** A venue's book as served. */
function view(v: Venue, depth: number): BookView {
  const synced = v.state === "synced";
  return {
    exchange: v.exchange,
    exchangeSymbol: v.exchangeSymbol,
    symbol: v.symbol,
    market: v.market,
    state: v.state,
    lastSequence: -1,
    bids: synced ? v.book.bids.top(depth) : [],
    asks: synced ? v.book.asks.top(depth) : [],
  };
}

/** Appends to a list kept at `max` newest entries. */
function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > 2 * max) list.splice(0, list.length - max);
}

/** The index of the first row at or after `ts` in rows in time order. */
function firstAtOrAfter(rows: readonly { ts: number }[], ts: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid].ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The newest `limit` rows of several lists, each in time order, oldest
 * first, ordered by `ts` then exchange (as the stored frame's queries order
 * them); rows of one list keep their order.
 */
function mergeNewest<T extends { ts: number; exchange: string }>(
  lists: T[][],
  limit: number,
): T[] {
  const order = lists.filter((l) => l.length > 0).sort((a, b) =>
    cmp(a[0].exchange, b[0].exchange)
  );
  const pos = order.map((l) => l.length - 1);
  const out: T[] = [];
  while (out.length < limit) {
    // Walking back from the newest: on a tie the later exchange goes first.
    let best = -1;
    for (let k = order.length - 1; k >= 0; k--) {
      if (pos[k] < 0) continue;
      if (best < 0 || order[k][pos[k]].ts > order[best][pos[best]].ts) {
        best = k;
      }
    }
    if (best < 0) break;
    out.push(order[best][pos[best]--]);
  }
  return out.reverse();
}

/** Code-point order of two strings. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Params of the `liveBook` request. */
export interface LiveBookParams {
  /** Exchange id. */
  exchange: string;
  /** The venue's symbol. */
  symbol: string;
  /** Levels per side (at most {@link LIVE_DEPTH}). */
  depth: number;
}

/** The live cache's requests, answered by whoever holds one (the writer actor, or a serving process). */
export type LiveRequests = {
  /** {@link LiveState.frame}. */
  liveFrame: { params: LiveFrameParams; result: Frame };
  /** {@link LiveState.book}. */
  liveBook: { params: LiveBookParams; result: BookView | null };
};

/** A live request's name. */
export type LiveMethod = keyof LiveRequests;

/**
 * The handlers of {@link LiveRequests} over a cache.
 * @param live the cache, looked up at each request (an actor makes it at
 * init).
 * @returns one handler per request.
 * @example
 * ```ts
 * runActor<LiveRequests>({ init() {}, requests: liveHandlers(() => live) });
 * ```
 */
export function liveHandlers(
  live: () => LiveState,
): {
  [K in LiveMethod]: (
    p: LiveRequests[K]["params"],
  ) => LiveRequests[K]["result"];
} {
  return {
    liveFrame: (p) => live().frame(p),
    liveBook: (p) => live().book(p.exchange, p.symbol, p.depth),
  };
}
