/**
 * The book keeper of one connection: applies normalized events to the
 * followed L2 books with the shared sync algorithm (`BookSync`), verifies
 * each update (venue checksum, uncrossed book), truncates books to the
 * venue's depth, resyncs on any failure, and writes every applied change to
 * the columnar batch for the aggregator.
 *
 * Pure: no sockets, fetches or timers, and no clock; times come from the
 * events (their local receive time) or from the caller, and each record's
 * receive time from the batch's clock, which the connection sets. What needs I/O — a
 * REST snapshot, a resubscribe frame, a reconnect — goes out through
 * {@link KeeperHooks}.
 *
 * @module
 */

import type { BookSpec, ColumnarDelta, Parser } from "../adapters/adapter.ts";
import { type BatchBuilder, Kind } from "../market/batch.ts";
import { type BookSide, OrderBook } from "../market/book.ts";
import { BookSync } from "../market/book_sync.ts";
import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  Levels,
  MarketEvent,
} from "../market/events.ts";
import type { BookView } from "../market/requests.ts";
import type { LatencyHistogram } from "../../runtime/latency.ts";
import type { LogFields } from "../../runtime/log.ts";
import {
  type BookHealth,
  type ConnectionCounters,
  countResync,
  type ResyncCause,
} from "./stats.ts";

/** One followed instrument and, on a connection with books, its book. */
export interface Followed {
  /** The instrument. */
  readonly inst: Instrument;
  /** The L2 book; empty while unsynced. */
  readonly book: OrderBook;
  /** The sequence state machine. */
  readonly sync: BookSync;
  /** When the book last lost sync (or was created), ms; 0 while synced. */
  unsyncedSince: number;
}

/** What the keeper asks of the connection. */
export interface KeeperHooks {
  /** A book is buffering and needs a snapshot (REST, or asked over the socket). */
  needSnapshot(f: Followed): void;
  /**
   * Sends frames on the socket.
   * @returns false when no socket is open.
   */
  send(frames: readonly string[]): boolean;
  /** The connection must reconnect (the only way to resync a book). */
  reconnect(): void;
  /**
   * Logs a warning.
   * @param msg the line.
   * @param fields its fields: `symbol` when it is about one book.
   */
  warn(msg: string, fields?: LogFields): void;
  /** Receives every applied event, when event output is on. */
  emit?(ev: MarketEvent): void;
  /**
   * A book lost sync (`resync`, with its cause) or failed the venue's
   * checksum (`checksum`, followed by its `resync`).
   */
  health?(kind: "resync" | "checksum", f: Followed, detail: string): void;
}

/** Options for {@link BookKeeper}. */
export interface BookKeeperOptions {
  /** Exchange id, for log lines. */
  exchange: string;
  /** The venue's sync rule, checksum, depth and resync frames. */
  spec: BookSpec;
  /**
   * False on a connection group that carries no books (trades only): book
   * events are ignored and no book state is kept or reported.
   * @default true
   */
  books?: boolean;
  /** Where applied changes go. */
  batch: BatchBuilder;
  /** Counters, updated in place. */
  counters: ConnectionCounters;
  /**
   * Counts each book update's and trade's latency from the exchange's
   * timestamp to the local receive time, ms; none when absent.
   */
  exchangeToReceive?: LatencyHistogram;
  /** Requests for I/O. */
  hooks: KeeperHooks;
}

/**
 * Keeps the books of one connection exact.
 *
 * @example
 * ```ts
 * const keeper = new BookKeeper({ exchange: "binance", spec: binanceAdapter.book, batch, counters, hooks });
 * keeper.follow(instruments, Date.now());
 * for (const ev of parser.parse(frame, recvTs)) keeper.onEvent(ev);
 * ```
 */
export class BookKeeper {
  /** Followed instruments by exchange symbol. */
  readonly followed = new Map<string, Followed>();
  readonly #o: BookKeeperOptions;
  readonly #books: boolean;
  /** The levels an image changed, reused by {@link #applyImage}. */
  readonly #changed: { bids: Levels; asks: Levels } = { bids: [], asks: [] };
  /** A side's prices as `#pushSide` reads them, best first (grown). */
  #levels = new Float64Array(0);
  /** Their sizes. */
  #sizes = new Float64Array(0);

  /** @param options the venue's book spec, the batch, counters and hooks. */
  constructor(options: BookKeeperOptions) {
    this.#o = options;
    this.#books = options.books ?? true;
  }

  /** True when this connection keeps books. */
  get keepsBooks(): boolean {
    return this.#books;
  }

  /**
   * Starts following instruments; their books wait for a snapshot.
   * @param insts the instruments.
   * @param now current time, ms (when the books start waiting).
   */
  follow(insts: readonly Instrument[], now: number): void {
    const keepRaw = this.#o.spec.checksum !== undefined;
    for (const inst of insts) {
      this.followed.set(inst.exchangeSymbol, {
        inst,
        book: new OrderBook(keepRaw),
        sync: new BookSync(this.#o.spec.sync),
        unsyncedSince: this.#books ? now : 0,
      });
    }
  }

  /**
   * Applies one normalized event: book events through the sync rule, trades
   * and liquidations straight to the batch. Events of unfollowed symbols,
   * and book events on a bookless connection, are ignored.
   * @param ev the event.
   */
  onEvent(ev: MarketEvent): void {
    if (ev.type === "disconnect") return;
    const f = this.followed.get(ev.exchangeSymbol);
    if (!f) return;
    const { batch, counters } = this.#o;
    // A venue without event times reports `exchangeTs = localTs`: no latency.
    if (ev.exchangeTs !== ev.localTs) {
      this.#o.exchangeToReceive?.record(ev.localTs - ev.exchangeTs);
    }
    switch (ev.type) {
      case "book_snapshot": {
        if (!this.#books) return;
        // An in-stream snapshot; under the `rest` rule it aligns with the
        // buffered deltas like a REST one (Gate.io `full` pushes).
        const wasSynced = f.sync.state === "synced";
        const v = f.sync.snapshot(ev);
        if (v.result === "synced") {
          this.#applySnapshot(f, ev, v.apply, wasSynced);
        } else this.#o.hooks.needSnapshot(f);
        break;
      }
      case "book_delta": {
        if (!this.#books) return;
        const verdict = f.sync.delta(ev);
        if (verdict === "apply") this.#applyDelta(f, ev);
        else if (verdict === "gap") {
          counters.gaps++;
          this.resync(
            f,
            `sequence gap at ${ev.first} (prev ${ev.prev})`,
            ev.localTs,
            "gap",
          );
        } else if (verdict === "buffered") this.#o.hooks.needSnapshot(f);
        break;
      }
      case "trade":
      case "liquidation": {
        const liq = ev.type === "liquidation";
        if (liq) counters.liquidations++;
        else counters.trades++;
        const kind = liq
          ? (ev.side === "buy" ? Kind.LiquidationBuy : Kind.LiquidationSell)
          : (ev.side === "buy" ? Kind.Buy : Kind.Sell);
        batch.push(
          batch.symbol(f.inst),
          kind,
          ev.price,
          ev.size,
          ev.exchangeTs,
        );
        this.#o.hooks.emit?.(ev);
        break;
      }
    }
  }

  /**
   * Offers a snapshot fetched over REST to a buffering book.
   * @param f the book.
   * @param snap the parsed snapshot.
   * @returns `synced` when it aligned and was applied; otherwise the verdict
   * (`stale`, `ahead`, …): the caller fetches again.
   */
  offerSnapshot(f: Followed, snap: BookSnapshot): string {
    const wasSynced = f.sync.state === "synced";
    const v = f.sync.snapshot(snap);
    if (v.result === "synced") this.#applySnapshot(f, snap, v.apply, wasSynced);
    return v.result;
  }

  /**
   * Drops a book and starts over from a fresh snapshot: fetched over REST,
   * asked for with a resubscribe, by reconnecting, or (rule `snapshots`)
   * the next message.
   * @param f the book.
   * @param why the cause, for the log.
   * @param now current time (the receive time of the event that failed), ms.
   * @param cause the cause as counted (`resyncs.<cause>`).
   */
  resync(
    f: Followed,
    why: string,
    now: number,
    cause: ResyncCause = "other",
  ): void {
    const { batch, counters, hooks, spec } = this.#o;
    countResync(counters, cause);
    hooks.warn(
      `${this.#o.exchange} ${f.inst.exchangeSymbol}: resync (${why})`,
      { symbol: f.inst.exchangeSymbol },
    );
    hooks.health?.("resync", f, why);
    f.book.clear();
    f.unsyncedSince ||= now;
    batch.push(batch.symbol(f.inst), Kind.Clear, 0, 0, now);
    // After a gap the sync has reset itself and kept the delta that showed
    // the gap, so no snapshot older than it can align: keep that.
    if (f.sync.state === "synced") f.sync.reset();
    const rule = spec.sync.kind;
    if (rule === "rest") hooks.needSnapshot(f);
    else if (rule === "stream") {
      const frames = spec.resubscribe?.(f.inst.exchangeSymbol);
      if (!frames || !hooks.send(frames)) hooks.reconnect();
    }
    // `snapshots`: the next message is a full book.
  }

  /**
   * The socket closed: every book is void until it syncs again.
   * @param now current time, ms.
   */
  disconnect(now: number): void {
    if (!this.#books) return;
    const batch = this.#o.batch;
    for (const f of this.followed.values()) {
      f.book.clear();
      // A new connection is a new stream: what the old one showed no longer
      // bounds the next snapshot (venues renumber after maintenance).
      f.sync.restart();
      f.unsyncedSince ||= now;
      batch.push(batch.symbol(f.inst), Kind.Clear, 0, 0, now);
    }
  }

  /**
   * Pushes every book in full: a `Clear`, then every level of a synced book
   * (an unsynced book gets the bare `Clear`): a keyframe every
   * `keyframeMs` of event time, which the store keeps as book snapshots.
   * @param now the connection's event clock, ms (the records' exchange time).
   */
  keyframe(now: number): void {
    if (!this.#books) return;
    const batch = this.#o.batch;
    for (const f of this.followed.values()) {
      const s = batch.symbol(f.inst);
      batch.push(s, Kind.Clear, 0, 0, now);
      if (f.sync.state === "synced") this.#pushBook(s, f, now);
    }
  }

  /**
   * Sync state of every book (empty on a bookless connection).
   * @returns exchange symbol → health.
   */
  health(): Map<string, BookHealth> {
    const out = new Map<string, BookHealth>();
    if (!this.#books) return out;
    for (const [sym, f] of this.followed) {
      out.set(sym, {
        state: f.sync.state,
        lastSequence: f.sync.lastSeq,
        unsyncedSince: f.unsyncedSince,
      });
    }
    return out;
  }

  /**
   * Finds the book of a symbol.
   * @param symbol the venue's symbol or the normalized one.
   * @returns the book, or undefined when this connection keeps no such book.
   */
  find(symbol: string): Followed | undefined {
    if (!this.#books) return undefined;
    const f = this.followed.get(symbol);
    if (f) return f;
    for (const x of this.followed.values()) {
      if (x.inst.symbol === symbol) return x;
    }
    return undefined;
  }

  /**
   * A book's top levels.
   * @param f the book.
   * @param depth levels per side.
   * @returns the book as the API serves it.
   */
  view(f: Followed, depth: number): BookView {
    return {
      exchange: this.#o.exchange,
      exchangeSymbol: f.inst.exchangeSymbol,
      symbol: f.inst.symbol,
      market: f.inst.market,
      state: f.sync.state,
      lastSequence: f.sync.lastSeq,
      bids: f.book.bids.top(depth),
      asks: f.book.asks.top(depth),
    };
  }

  /**
   * Applies a book delta frame through the parser's frame scanner
   * ({@link Parser.scanBook}) when it reads the frame and the delta follows
   * a synced book (or it is an image and the book is in sync): the levels
   * go from the scanner's typed arrays to the book and the batch, and no
   * event is built. The book, the batch, the
   * counters and the checks end exactly as after `parser.parse` and
   * {@link BookKeeper.onEvent}. Every other case (no scanner, a frame it
   * does not read, an unfollowed symbol, a book not synced, a delta that is
   * stale or leaves a gap, event output on) is left to that path, with
   * nothing changed.
   * @param parser the connection's parser.
   * @param frame the received frame.
   * @param recvTs local receive time, ms.
   * @returns true when the frame was applied; false: hand it to
   *   `parser.parse` and the events to `onEvent`.
   * @example
   * ```ts
   * if (!keeper.scan(parser, frame, recvTs)) {
   *   for (const ev of parser.parse(frame, recvTs)) keeper.onEvent(ev);
   * }
   * ```
   */
  scan(parser: Parser, frame: string | Uint8Array, recvTs: number): boolean {
    // Event output needs the event: the parse path builds it.
    if (!this.#books || this.#o.hooks.emit || !parser.scanBook) return false;
    const d = parser.scanBook(frame, recvTs);
    if (d === null) return false;
    const f = this.followed.get(d.inst.exchangeSymbol);
    if (f === undefined) return false;
    if (d.image) return this.#scanImage(f, d);
    if (!f.sync.advance(d)) return false;
    const { batch, counters } = this.#o;
    if (d.exchangeTs !== d.localTs) {
      this.#o.exchangeToReceive?.record(d.localTs - d.exchangeTs);
    }
    f.book.bids.applyColumns(d.bids);
    f.book.asks.applyColumns(d.asks);
    counters.bookUpdates++;
    const s = batch.symbol(f.inst);
    batch.pushLevels(s, Kind.Bid, d.bids, d.exchangeTs);
    batch.pushLevels(s, Kind.Ask, d.asks, d.exchangeTs);
    this.#truncate(f, s, d.exchangeTs);
    this.#verify(f, d.checksum, d.localTs);
    return true;
  }

  /**
   * A scanned image on a book in sync, under a rule that takes every image
   * as it comes (not `rest`, which aligns snapshots with buffered deltas):
   * what `onEvent` does with the parse path's `book_snapshot` then, down to
   * {@link BookKeeper.#applyImage}. Anything else is left to the parse path.
   * @returns true when applied.
   */
  #scanImage(f: Followed, d: ColumnarDelta): boolean {
    if (f.sync.state !== "synced" || this.#o.spec.sync.kind === "rest") {
      return false;
    }
    if (d.exchangeTs !== d.localTs) {
      this.#o.exchangeToReceive?.record(d.localTs - d.exchangeTs);
    }
    f.sync.snapshotAt(d.last);
    this.#image(
      f,
      d.exchangeTs,
      d.localTs,
      d.checksum,
      (changed) => f.book.replaceColumns(d.bids, d.asks, changed),
    );
    return true;
  }

  #applyDelta(f: Followed, d: BookDelta): void {
    const { batch, counters } = this.#o;
    f.book.apply(d.bids, d.asks, d.raw);
    counters.bookUpdates++;
    const s = batch.symbol(f.inst);
    this.#pushLevels(s, Kind.Bid, d.bids, d.exchangeTs);
    this.#pushLevels(s, Kind.Ask, d.asks, d.exchangeTs);
    this.#truncate(f, s, d.exchangeTs);
    this.#o.hooks.emit?.(d);
    this.#verify(f, d.checksum, d.localTs);
  }

  /**
   * Drops the levels a delta pushed out of the venue's depth, which gets no
   * delete for them, and tells the aggregator.
   */
  #truncate(f: Followed, s: number, ts: number): void {
    const depth = this.#o.spec.maxDepth;
    if (
      depth !== undefined &&
      (f.book.bids.length > depth || f.book.asks.length > depth)
    ) {
      const dropped: Levels = [];
      if (f.book.bids.truncate(depth, dropped)) {
        this.#pushLevels(s, Kind.Bid, dropped, ts);
        dropped.length = 0;
      }
      if (f.book.asks.truncate(depth, dropped)) {
        this.#pushLevels(s, Kind.Ask, dropped, ts);
      }
    }
  }

  #applySnapshot(
    f: Followed,
    snap: BookSnapshot,
    pending: BookDelta[],
    wasSynced: boolean,
  ): void {
    if (wasSynced && pending.length === 0) {
      this.#applyImage(f, snap);
      return;
    }
    const { batch, counters, hooks } = this.#o;
    f.book.clear();
    f.book.apply(snap.bids, snap.asks, snap.raw);
    f.unsyncedSince = 0;
    counters.bookUpdates++;
    hooks.emit?.(snap);
    const s = batch.symbol(f.inst);
    batch.push(s, Kind.Clear, 0, 0, snap.exchangeTs);
    for (const d of pending) {
      f.book.apply(d.bids, d.asks, d.raw);
      counters.bookUpdates++;
      hooks.emit?.(d);
    }
    const depth = this.#o.spec.maxDepth;
    if (depth !== undefined) {
      f.book.bids.truncate(depth);
      f.book.asks.truncate(depth);
    }
    this.#pushBook(s, f, snap.exchangeTs);
    const last = pending.length ? pending[pending.length - 1] : snap;
    this.#verify(f, last.checksum, last.localTs);
  }

  /**
   * A full image on a book that is in sync (HTX `depth.step0` and the
   * other image-only feeds send one every push): the book takes the image,
   * and only the levels that differ go to the batch, instead of a `Clear`
   * and the whole book. The book ends as a rebuild from the image would.
   */
  #applyImage(f: Followed, snap: BookSnapshot): void {
    this.#image(
      f,
      snap.exchangeTs,
      snap.localTs,
      snap.checksum,
      (changed) => f.book.replace(snap.bids, snap.asks, snap.raw, changed),
      snap,
    );
  }

  /**
   * Puts an image in the book with `replace` and sends only what changed.
   * @param replace replaces the book's levels, filling `changed`.
   * @param snap the parse path's event, for event output.
   */
  #image(
    f: Followed,
    exchangeTs: number,
    localTs: number,
    checksum: number | undefined,
    replace: (changed: { bids: Levels; asks: Levels }) => void,
    snap?: BookSnapshot,
  ): void {
    const { batch, counters, hooks } = this.#o;
    const changed = this.#changed;
    changed.bids.length = 0;
    changed.asks.length = 0;
    replace(changed);
    f.unsyncedSince = 0;
    counters.bookUpdates++;
    if (snap) hooks.emit?.(snap);
    const s = batch.symbol(f.inst);
    const depth = this.#o.spec.maxDepth;
    if (depth !== undefined) {
      f.book.bids.truncate(depth, changed.bids);
      f.book.asks.truncate(depth, changed.asks);
    }
    this.#pushLevels(s, Kind.Bid, changed.bids, exchangeTs);
    this.#pushLevels(s, Kind.Ask, changed.asks, exchangeTs);
    this.#verify(f, checksum, localTs);
  }

  /** Checks the venue checksum and an uncrossed book; resyncs on failure. */
  #verify(f: Followed, checksum: number | undefined, now: number): void {
    const fn = this.#o.spec.checksum;
    const counters = this.#o.counters;
    if (checksum !== undefined && fn) {
      const ours = fn(f.book);
      if (ours !== checksum) {
        counters.checksumFailures++;
        const why = `checksum ${ours} != venue ${checksum}`;
        this.#o.hooks.health?.("checksum", f, why);
        this.resync(f, why, now, "checksum");
        return;
      }
    }
    if (f.book.crossed()) {
      counters.crossedBooks++;
      this.resync(
        f,
        `crossed book ${f.book.bids.best()} >= ${f.book.asks.best()}`,
        now,
        "crossed",
      );
    }
  }

  #pushLevels(sym: number, kind: number, levels: Levels, ts: number): void {
    const batch = this.#o.batch;
    for (let i = 0; i < levels.length; i += 2) {
      batch.push(sym, kind, levels[i], levels[i + 1], ts);
    }
  }

  /**
   * Sends the whole book as levels (after a snapshot, in a keyframe), each
   * side worst first.
   */
  #pushBook(sym: number, f: Followed, ts: number): void {
    this.#pushSide(sym, Kind.Bid, f.book.bids, ts);
    this.#pushSide(sym, Kind.Ask, f.book.asks, ts);
  }

  /** Pushes a side's levels worst first, as `BookSide.prices` lists them. */
  #pushSide(sym: number, kind: number, side: BookSide, ts: number): void {
    if (this.#levels.length < side.length) {
      this.#levels = new Float64Array(2 * side.length);
      this.#sizes = new Float64Array(2 * side.length);
    }
    const prices = this.#levels;
    const sizes = this.#sizes;
    const n = side.bestLevels(prices, sizes);
    const batch = this.#o.batch;
    for (let i = n - 1; i >= 0; i--) {
      batch.push(sym, kind, prices[i], sizes[i], ts);
    }
  }
}
