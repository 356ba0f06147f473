/**
 * The rows a connection's event batches and health events become: `trades`,
 * `liquidations`, `book_snapshots`, `book_changes` and `health_events`
 * (see docs/history.md), validated first (`validate.ts`).
 *
 * Book records are read as frames: consecutive records of one symbol with
 * the same exchange time and receive time form one group (a `Clear` always
 * starts a new one). A group that starts with `Clear` is a keyframe (the
 * book keeper sends `Clear` and then the whole book after a snapshot, on a
 * resync and to a new link; a `Clear` alone marks the book unsynced) and
 * becomes a `book_snapshots` row; any other group is one venue update and
 * becomes a `book_changes` row.
 *
 * @module
 */

import { columns, type EventBatch, Kind } from "../market/batch.ts";
import type { HealthEvent } from "../market/events.ts";
import { BinaryCopyWriter } from "./copy.ts";
import type { CopyPart } from "./db.ts";
import {
  crossedProblem,
  levelProblem,
  Rejections,
  type RejectReason,
  tradeProblem,
  validTime,
} from "./validate.ts";
import { BOOK_COLUMNS, HEALTH_COLUMNS, TRADE_COLUMNS } from "./tables.ts";

const DAY_MS = 86_400_000;

/** Where the next row of one book goes in `(ts, seq)` order. */
interface BookClock {
  /** `ts` of the book's last row, whole ms. */
  ts: number;
  /** `seq` of the book's last row. */
  seq: number;
}

/** Options for {@link EventRows}. */
export interface EventRowsOptions {
  /**
   * Where rejected rows are counted.
   * @default a new `Rejections`
   */
  rejections?: Rejections;
}

/**
 * Turns event batches and health events into COPY rows.
 *
 * - `trades` / `liquidations`: one row per `Buy`/`Sell` /
 *   `LiquidationBuy`/`LiquidationSell` record: `ts` its receive time
 *   (`local`), `exchange_ts` its venue time, `symbol` the venue's symbol,
 *   `price`, `size` (base currency), `raw_size` in the venue's unit (the
 *   symbol's `contractSize` and `inverse`), `side` `buy`/`sell` (the taker's
 *   side; for a liquidation, the liquidation order's).
 * - `book_snapshots`: a keyframe group, its levels folded into the book they
 *   make (size 0 removes a level), best first; both sides empty when the
 *   group is a lone `Clear` (the book is not synced).
 * - `book_changes`: any other group, bids and asks as flat
 *   `[price, size, …]` in the order sent (size 0 deletes the level).
 * - `seq` numbers the book rows (both tables) of one book that share a `ts`
 *   from 0, so `(ts, seq)` orders them; the count restarts when `ts` moves.
 * - `health_events`: one row per {@link HealthEvent}.
 *
 * A row that fails validation (a bad price, size or time anywhere in it, a
 * keyframe whose best bid is not below its best ask) is counted in
 * {@link EventRows.rejections} and not written.
 *
 * @example
 * ```ts
 * const rows = new EventRows();
 * rows.onBatch(batch);
 * const parts = rows.take(); // non-empty parts only
 * await db.writeBatch(id, parts);
 * ```
 */
export class EventRows {
  /** Rejected rows by reason. */
  readonly rejections: Rejections;
  #days = new Set<number>();
  /** Start of the UTC day of the last row, ms (to skip the set lookups). */
  #day = NaN;
  readonly #trades = new BinaryCopyWriter("trades", TRADE_COLUMNS);
  readonly #liquidations = new BinaryCopyWriter("liquidations", TRADE_COLUMNS);
  readonly #snapshots = new BinaryCopyWriter("book_snapshots", BOOK_COLUMNS);
  readonly #changes = new BinaryCopyWriter("book_changes", BOOK_COLUMNS);
  readonly #health = new BinaryCopyWriter("health_events", HEALTH_COLUMNS);
  /** Per book (`exchange \t symbol`), its last row's `(ts, seq)`. */
  readonly #books = new Map<string, BookClock>();
  /** Scratch for a book update's flat bids, reused row after row. */
  #bids = new Float64Array(64);
  /** Scratch for a book update's flat asks. */
  #asks = new Float64Array(64);

  /** @param options where rejections are counted. */
  constructor(options: EventRowsOptions = {}) {
    this.rejections = options.rejections ?? new Rejections();
  }

  /**
   * The UTC days the pending rows fall on (by `ts`), as each day's start in
   * ms since epoch: the day partitions their write needs.
   */
  get days(): ReadonlySet<number> {
    return this.#days;
  }

  /** Rows pending since the last {@link take}, over every table. */
  get rows(): number {
    return this.#trades.rows + this.#liquidations.rows +
      this.#snapshots.rows + this.#changes.rows + this.#health.rows;
  }

  /**
   * Adds the rows of one event batch.
   * @param b a connection actor's batch (prices quote currency, sizes base
   *   currency, times ms since epoch).
   */
  onBatch(b: EventBatch): void {
    const v: View = { b, ...columns(b), clocks: [] };
    const { code, ts, local } = v;
    const n = b.n;
    let i = 0;
    while (i < n) {
      const kind = code[i] % 8;
      const s = (code[i] - kind) / 8;
      if (kind >= Kind.Buy) {
        this.#trade(v, i, s, kind);
        i++;
        continue;
      }
      // The group: this symbol's levels sent at the same times.
      const bid = s * 8 + Kind.Bid;
      const ask = s * 8 + Kind.Ask;
      let j = i + 1;
      while (
        j < n && (code[j] === bid || code[j] === ask) &&
        ts[j] === ts[i] && local[j] === local[i]
      ) j++;
      if (kind === Kind.Clear) this.#keyframe(v, i, j, s);
      else this.#change(v, i, j, s);
      i = j;
    }
  }

  /**
   * Adds one health event's row.
   * @param h the event (`ts` on the sender's event clock, ms).
   */
  onHealth(h: HealthEvent): void {
    if (!validTime(h.ts)) {
      this.rejections.add(
        "bad time",
        `${h.exchange} ${h.kind} health event at ${h.ts}`,
      );
      return;
    }
    const w = this.#health.row().time(h.ts).text(h.exchange)
      .text(h.connection).text(h.kind);
    if (h.symbol === undefined) w.null();
    else w.text(h.symbol);
    w.text(h.detail);
    this.#span(h.ts);
  }

  /**
   * The pending rows, one part per table that has any, and a fresh start
   * ({@link days} empty).
   * @returns parts in the order trades, liquidations, book_snapshots,
   *   book_changes, health_events.
   */
  take(): CopyPart[] {
    const parts: CopyPart[] = [];
    for (
      const w of [
        this.#trades,
        this.#liquidations,
        this.#snapshots,
        this.#changes,
        this.#health,
      ]
    ) if (w.rows > 0) parts.push(w.take());
    this.#days = new Set();
    this.#day = NaN;
    return parts;
  }

  #trade(v: View, i: number, s: number, kind: number): void {
    const liq = kind === Kind.LiquidationBuy || kind === Kind.LiquidationSell;
    const { b, price, size, ts, local } = v;
    const p = price[i];
    const q = size[i];
    const why = tradeProblem(p, q, local[i], ts[i]);
    if (why) {
      this.rejections.add(
        why,
        `${b.exchange} ${b.symbols[s].exchangeSymbol} ${
          liq ? "liquidation" : "trade"
        } price ${p} size ${q} at ${local[i]} (venue ${ts[i]})`,
      );
      return;
    }
    const ref = b.symbols[s];
    const cs = ref.contractSize ?? 1;
    const raw = ref.inverse ? q * p / cs : q / cs;
    const buy = kind === Kind.Buy || kind === Kind.LiquidationBuy;
    (liq ? this.#liquidations : this.#trades).row()
      .time(local[i]).time(ts[i]).text(b.exchange).text(ref.exchangeSymbol)
      .float8(p).float8(q).float8(raw).text(buy ? "buy" : "sell");
    this.#span(local[i]);
  }

  /** Records `at..to` of a keyframe: its `Clear` at `at`, then levels. */
  #keyframe(v: View, at: number, to: number, s: number): void {
    const { price, size, code } = v;
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (let k = at + 1; k < to; k++) {
      const why = levelProblem(price[k], size[k]);
      if (why) return this.#rejectBook(v, at, s, why, k);
      const side = code[k] % 8 === Kind.Bid ? bids : asks;
      if (size[k] === 0) side.delete(price[k]);
      else side.set(price[k], size[k]);
    }
    const flatBids = flatten(bids, true);
    const flatAsks = flatten(asks, false);
    const bestBid = flatBids.length ? flatBids[0] : NaN;
    const bestAsk = flatAsks.length ? flatAsks[0] : NaN;
    const crossed = crossedProblem(bestBid, bestAsk);
    if (crossed) {
      this.rejections.add(
        crossed,
        `${v.b.exchange} ${v.b.symbols[s].exchangeSymbol} keyframe at ${
          v.local[at]
        }: best bid ${bestBid} >= best ask ${bestAsk}`,
      );
      return;
    }
    this.#bookRow(
      this.#snapshots,
      v,
      at,
      s,
      flatBids,
      flatBids.length,
      flatAsks,
      flatAsks.length,
    );
  }

  /** Records `at..to` of a book update. */
  #change(v: View, at: number, to: number, s: number): void {
    const { price, size, code } = v;
    const room = 2 * (to - at);
    if (this.#bids.length < room) {
      this.#bids = new Float64Array(room * 2);
      this.#asks = new Float64Array(room * 2);
    }
    const bids = this.#bids;
    const asks = this.#asks;
    let nb = 0;
    let na = 0;
    for (let k = at; k < to; k++) {
      const p = price[k];
      const q = size[k];
      const why = levelProblem(p, q);
      if (why) return this.#rejectBook(v, at, s, why, k);
      if (code[k] % 8 === Kind.Bid) {
        bids[nb++] = p;
        bids[nb++] = q;
      } else {
        asks[na++] = p;
        asks[na++] = q;
      }
    }
    this.#bookRow(this.#changes, v, at, s, bids, nb, asks, na);
  }

  /**
   * Writes a book row with the times of record `at`, numbered in its book;
   * its levels are `bids[0..nb)` and `asks[0..na)`.
   */
  #bookRow(
    w: BinaryCopyWriter,
    v: View,
    at: number,
    s: number,
    bids: ArrayLike<number>,
    nb: number,
    asks: ArrayLike<number>,
    na: number,
  ): void {
    const t = v.local[at];
    const venue = v.ts[at];
    const sym = v.b.symbols[s].exchangeSymbol;
    if (!validTime(t) || !validTime(venue)) {
      this.rejections.add(
        "bad time",
        `${v.b.exchange} ${sym} book row at ${t} (venue ${venue})`,
      );
      return;
    }
    // Rows are stored at whole milliseconds: number those sharing one.
    const ms = Math.floor(t);
    let clock = v.clocks[s];
    if (!clock) {
      const key = `${v.b.exchange}\t${sym}`;
      clock = this.#books.get(key);
      if (!clock) this.#books.set(key, clock = { ts: ms, seq: -1 });
      v.clocks[s] = clock;
    }
    if (clock.ts !== ms) {
      clock.ts = ms;
      clock.seq = 0;
    } else clock.seq++;
    w.row().time(t).time(venue).text(v.b.exchange).text(sym)
      .int4(clock.seq).float8Array(bids, 0, nb).float8Array(asks, 0, na);
    this.#span(t);
  }

  /** Counts a book row rejected for its level `k`. */
  #rejectBook(
    v: View,
    at: number,
    s: number,
    why: RejectReason,
    k: number,
  ): void {
    this.rejections.add(
      why,
      `${v.b.exchange} ${v.b.symbols[s].exchangeSymbol} book ${
        v.code[at] % 8 === Kind.Clear ? "keyframe" : "update"
      } at ${v.local[at]}: level ${v.price[k]} × ${v.size[k]}`,
    );
  }

  /** Notes the day of a row at `t` (ms). */
  #span(t: number): void {
    if (t >= this.#day && t < this.#day + DAY_MS) return;
    this.#day = Math.floor(t / DAY_MS) * DAY_MS;
    this.#days.add(this.#day);
  }
}

/** A batch being read: its column views. */
interface View extends ReturnType<typeof columns> {
  readonly b: EventBatch;
  /** Each symbol's book clock, by symbol index, once looked up. */
  readonly clocks: (BookClock | undefined)[];
}

/**
 * One side of a folded book as flat `[price, size, …]`, best first.
 * @param side price → size (no zero sizes).
 * @param desc true for bids (highest price first).
 */
function flatten(side: Map<number, number>, desc: boolean): number[] {
  const prices = [...side.keys()].sort((a, b) => desc ? b - a : a - b);
  const out = new Array<number>(prices.length * 2);
  for (let i = 0; i < prices.length; i++) {
    out[2 * i] = prices[i];
    out[2 * i + 1] = side.get(prices[i])!;
  }
  return out;
}
