/**
 * One fuzz run: a mutated stream fed through an adapter's parser into a
 * `BookKeeper`, the way the connection actor feeds it, with a simulated
 * venue behind it and the properties checked on the way:
 *
 * - no crash: a parser throws only `MalformedFrameError`, `ResyncError` or
 *   `VenueError`, and the keeper never throws;
 * - no NaN, Infinity, negative size, out-of-range price or unreadable time
 *   in any event a parser returns or the keeper applies, in any book, or in
 *   the batch sent to the aggregator;
 * - every rejected frame counted (malformed, resync, venue error), and a
 *   `MalformedFrameError` that names a symbol names a followed book;
 * - a frame in which one scalar became a value no number may take
 *   (`""`, `"0x10"`, `1e400`, …) is rejected, or yields the prices and sizes
 *   the untouched frame yields (the parser did not read that scalar);
 * - every book that claims `synced` is uncrossed and equals an independent
 *   rebuild (plain Maps) from the events the keeper applied, truncated to the
 *   venue's depth, restarted at every snapshot; and those applied updates
 *   link by the venue's sequence rule.
 *
 * The simulated venue replays the untouched corpus alongside (the "truth":
 * the same parser and keeper on the clean frames). It answers the snapshots
 * the fuzzed connection asks for: a REST snapshot of the truth's book at the
 * newest frame delivered, or, for in-stream venues, the fresh snapshot a
 * resubscribe or reconnect brings.
 *
 * @module
 */

import { gunzipSync } from "node:zlib";
import {
  type BookSpec,
  MalformedFrameError,
  ResyncError,
  VenueError,
} from "../../actors/adapters/adapter.ts";
import {
  decimalValue,
  MAX_PRICE,
  MAX_SIZE,
} from "../../actors/adapters/_common.ts";
import {
  BookKeeper,
  type Followed,
} from "../../actors/connection/book_keeper.ts";
import { newCounters } from "../../actors/connection/stats.ts";
import { BatchBuilder, columns } from "../../actors/market/batch.ts";
import type { BookSide } from "../../actors/market/book.ts";
import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  Levels,
  MarketEvent,
} from "../../actors/market/events.ts";
import type { Corpus } from "./corpus.ts";
import type { Fed } from "./mutate.ts";

/** A property the run broke; the message says which and where. */
export class FuzzFailure extends Error {
  /**
   * Creates the failure.
   * @param message what broke, with the frame and the values.
   */
  constructor(message: string) {
    super(message);
    this.name = "FuzzFailure";
  }
}

/** What a run fed and saw; summed over runs by the driver. */
export interface RunStats {
  /** Frames fed to the parser. */
  frames: number;
  /** Of those, frames whose content was mutated. */
  mutated: number;
  /** Frames the parser read (events or none). */
  accepted: number;
  /** Frames rejected as malformed. */
  malformed: number;
  /** Of those, rejections naming the book that lost an update. */
  malformedBook: number;
  /** Frames that made the connection resync (ResyncError). */
  resyncErrors: number;
  /** Frames reporting a venue error. */
  venueErrors: number;
  /** Events the parser returned. */
  events: number;
  /** Events the keeper applied (books) or passed on (trades). */
  applied: number;
  /** Simulated reconnects. */
  reconnects: number;
  /** Book resyncs (gaps, checksums, crossed books, malformed book frames). */
  resyncs: number;
  /** Snapshots the simulated venue served. */
  snapshotsServed: number;
  /** Synced books compared with their rebuild. */
  bookChecks: number;
  /** Frames with a strict edge value checked against the untouched frame. */
  strictChecks: number;
  /**
   * Book frames of one followed symbol, still JSON after one value was
   * spliced in, rejected without naming their book.
   */
  unattributed: number;
  /** Books synced at the end of the run. */
  syncedAtEnd: number;
}

/**
 * Fresh, zeroed run stats.
 * @returns the stats.
 * @example
 * ```ts
 * const total = newStats();
 * ```
 */
export function newStats(): RunStats {
  return {
    frames: 0,
    mutated: 0,
    accepted: 0,
    malformed: 0,
    malformedBook: 0,
    resyncErrors: 0,
    venueErrors: 0,
    events: 0,
    applied: 0,
    reconnects: 0,
    resyncs: 0,
    snapshotsServed: 0,
    bookChecks: 0,
    strictChecks: 0,
    unattributed: 0,
    syncedAtEnd: 0,
  };
}

/**
 * Adds `b` into `a`.
 * @param a the total, updated in place.
 * @param b a run's stats.
 * @example
 * ```ts
 * addStats(total, runStream(corpus, fed));
 * ```
 */
export function addStats(a: RunStats, b: RunStats): void {
  for (const k of Object.keys(a) as (keyof RunStats)[]) a[k] += b[k];
}

/** A frame's text: gzip inflated, other bytes read as UTF-8. */
function frameText(data: string | Uint8Array): string {
  if (typeof data === "string") return data;
  try {
    return new TextDecoder().decode(
      data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data,
    );
  } catch {
    return "";
  }
}

/** A frame, shortened for a failure message. */
function show(data: string | Uint8Array): string {
  if (typeof data !== "string") return `<${data.length} bytes>`;
  return data.length > 300 ? `${data.slice(0, 300)}…` : data;
}

/** JSON of a value for a failure message (NaN and Infinity kept visible). */
function dump(v: unknown): string {
  const s = JSON.stringify(
    v,
    (_, x) => typeof x === "number" && !Number.isFinite(x) ? String(x) : x,
  );
  return s.length > 400 ? `${s.slice(0, 400)}…` : s;
}

/** Why a level list is insane, or undefined. */
function badLevels(levels: unknown): string | undefined {
  if (!Array.isArray(levels) || levels.length % 2 !== 0) {
    return "levels are not flat pairs";
  }
  for (let i = 0; i < levels.length; i += 2) {
    const p = levels[i];
    const s = levels[i + 1];
    if (typeof p !== "number" || !(p > 0 && p < MAX_PRICE)) {
      return `price ${p} at ${i}`;
    }
    if (
      typeof s !== "number" || !(s >= 0 && s <= MAX_SIZE) || Object.is(s, -0)
    ) {
      return `size ${Object.is(s, -0) ? "-0" : s} at ${i + 1}`;
    }
  }
  return undefined;
}

const isSeq = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= -1;

/**
 * Why an event is insane, or undefined: NaN, Infinity, a negative or
 * out-of-range number anywhere, fields that do not match its instrument.
 */
function badEvent(
  ev: MarketEvent,
  recvTs: number | undefined,
  exchange: string,
  table: ReadonlyMap<string, Instrument>,
): string | undefined {
  if (ev.type === "disconnect") return "a parser returned a disconnect";
  const inst = table.get(ev.exchangeSymbol);
  if (inst === undefined) return `unfollowed symbol ${ev.exchangeSymbol}`;
  if (
    ev.exchange !== exchange || ev.symbol !== inst.symbol ||
    ev.market !== inst.market
  ) return "exchange, symbol or market differ from the instrument's";
  if (
    !(typeof ev.exchangeTs === "number" && ev.exchangeTs > 0 &&
      ev.exchangeTs < 253402300800000)
  ) {
    return `exchangeTs ${ev.exchangeTs}`;
  }
  if (recvTs !== undefined && ev.localTs !== recvTs) {
    return `localTs ${ev.localTs}`;
  }
  switch (ev.type) {
    case "book_snapshot":
    case "book_delta": {
      if (ev.contractSize !== inst.contractSize) return "contractSize";
      if ((ev.inverse === true) !== (inst.inverse === true)) return "inverse";
      if (ev.type === "book_snapshot" && !isSeq(ev.sequence)) {
        return `sequence ${ev.sequence}`;
      }
      if (
        ev.type === "book_delta" &&
        (!isSeq(ev.first) || !isSeq(ev.last) || !isSeq(ev.prev))
      ) return `first/last/prev ${ev.first}/${ev.last}/${ev.prev}`;
      const why = badLevels(ev.bids) ?? badLevels(ev.asks);
      if (why) return why;
      if (ev.checksum !== undefined && !Number.isInteger(ev.checksum)) {
        return `checksum ${ev.checksum}`;
      }
      if (
        ev.raw !== undefined &&
        (ev.raw.bids.length !== ev.bids.length ||
          ev.raw.asks.length !== ev.asks.length ||
          ev.raw.bids.some((s, i) =>
            typeof s !== "string" ||
            (i % 2 === 0 && decimalValue(s) !== ev.bids[i])
          ) ||
          ev.raw.asks.some((s, i) =>
            typeof s !== "string" ||
            (i % 2 === 0 && decimalValue(s) !== ev.asks[i])
          ))
      ) return "raw level strings do not match the levels";
      return undefined;
    }
    case "trade":
    case "liquidation": {
      if (
        !(typeof ev.price === "number" && ev.price > 0 && ev.price < MAX_PRICE)
      ) {
        return `price ${ev.price}`;
      }
      for (const s of [ev.size, ev.rawSize]) {
        if (
          !(typeof s === "number" && s >= 0 && s <= MAX_SIZE) ||
          Object.is(s, -0)
        ) {
          return `size ${s}`;
        }
      }
      if (ev.side !== "buy" && ev.side !== "sell") return `side ${ev.side}`;
      if (ev.type === "trade" && typeof ev.id !== "string") return "id";
      return undefined;
    }
    default:
      return `unknown type ${(ev as { type: unknown }).type}`;
  }
}

/** The prices and sizes an event carries, for comparing two parses. */
function sameNumbers(
  a: MarketEvent,
  b: MarketEvent,
  dropsBadSnapshotLevels: boolean,
): boolean {
  if (a.type !== b.type || a.type === "disconnect" || b.type === "disconnect") {
    return a.type === b.type;
  }
  if (a.exchangeSymbol !== b.exchangeSymbol) return false;
  if (a.type === "book_snapshot" || a.type === "book_delta") {
    const bb = b as BookSnapshot | BookDelta;
    // Coinbase Pro drops a snapshot level it cannot read.
    const eq = dropsBadSnapshotLevels && a.type === "book_snapshot"
      ? subsequenceOfLevels
      : equalLevels;
    return eq(a.bids, bb.bids) && eq(a.asks, bb.asks);
  }
  const bt = b as typeof a;
  return a.price === bt.price && a.size === bt.size &&
    a.rawSize === bt.rawSize && a.side === bt.side;
}

function equalLevels(a: Levels, b: Levels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function subsequenceOfLevels(a: Levels, b: Levels): boolean {
  let j = 0;
  for (let i = 0; i < a.length; i += 2) {
    while (j < b.length && (b[j] !== a[i] || b[j + 1] !== a[i + 1])) j += 2;
    if (j >= b.length) return false;
    j += 2;
  }
  return true;
}

/** Whether `sub`'s events appear in `all`, in order, with the same numbers. */
function subsequence(
  sub: readonly MarketEvent[],
  all: readonly MarketEvent[],
  quirk: boolean,
): boolean {
  let j = 0;
  for (const e of sub) {
    while (j < all.length && !sameNumbers(e, all[j], quirk)) j++;
    if (j === all.length) return false;
    j++;
  }
  return true;
}

/** An independent book: price → size per side, and the sequence it is at. */
interface Rebuild {
  readonly bids: Map<number, number>;
  readonly asks: Map<number, number>;
  seq: number;
  /** Right after a snapshot, before its first delta. */
  fresh: boolean;
}

function applyLevels(side: Map<number, number>, levels: Levels): void {
  for (let i = 0; i < levels.length; i += 2) {
    if (levels[i + 1] === 0) side.delete(levels[i]);
    else side.set(levels[i], levels[i + 1]);
  }
}

/** Keeps the best `depth` prices of a side (bids: highest, asks: lowest). */
function truncate(side: Map<number, number>, depth: number, bid: boolean) {
  if (side.size <= depth) return;
  const prices = [...side.keys()].sort((x, y) => bid ? y - x : x - y);
  for (let i = depth; i < prices.length; i++) side.delete(prices[i]);
}

/** What the untouched corpus parses to, computed once per corpus. */
interface CleanParse {
  /** The events of each frame (none for a frame the parser rejects). */
  readonly events: readonly MarketEvent[][];
  /** The recorded REST snapshots, parsed (undefined when unreadable). */
  readonly snapshots: readonly (BookSnapshot | undefined)[];
}

const cleanParses = new WeakMap<Corpus, CleanParse>();

/** The untouched corpus, parsed once: the same for every run. */
function cleanParse(corpus: Corpus): CleanParse {
  let c = cleanParses.get(corpus);
  if (c !== undefined) return c;
  const table = new Map(corpus.instruments.map((i) => [i.exchangeSymbol, i]));
  const parser = corpus.adapter.parser(table);
  const events = corpus.frames.map((f) => {
    try {
      return parser.parse(f.data, f.ts);
    } catch {
      return []; // the recording's own unreadable frames
    } finally {
      if (parser.outbox) parser.outbox.length = 0;
    }
  });
  const snapshots = corpus.snapshots.map((s) => {
    const inst = table.get(s.symbol)!;
    try {
      return corpus.adapter.book.parseSnapshot!(
        s.body,
        corpus.frames[Math.min(s.at, corpus.frames.length - 1)]?.ts ?? 0,
        inst,
      );
    } catch {
      return undefined;
    }
  });
  c = { events, snapshots };
  cleanParses.set(corpus, c);
  return c;
}

/**
 * The simulated venue's view: the same keeper on the untouched corpus (its
 * events parsed once per corpus), kept at the newest frame the fuzzed stream
 * has delivered. It syncs from the recorded REST snapshots, or, when the
 * corpus recorded none (or none newer) for a symbol, from an empty book
 * aligned with the first buffered update.
 */
class Truth {
  readonly #corpus: Corpus;
  readonly #clean: CleanParse;
  readonly #keeper: BookKeeper;
  readonly #need = new Set<string>();
  readonly #firstBuffered = new Map<string, BookDelta>();
  readonly #offered = new Map<string, number>();
  /** Indexes into the corpus snapshots, per symbol. */
  readonly #recorded = new Map<string, number[]>();
  #next = 0;

  constructor(corpus: Corpus) {
    this.#corpus = corpus;
    this.#clean = cleanParse(corpus);
    this.#keeper = new BookKeeper({
      exchange: corpus.adapter.id,
      spec: corpus.adapter.book,
      batch: new BatchBuilder(corpus.adapter.id),
      counters: newCounters(),
      hooks: {
        needSnapshot: (f) => this.#need.add(f.inst.exchangeSymbol),
        send: () => true,
        reconnect: () => {},
        warn: () => {},
      },
    });
    this.#keeper.follow(corpus.instruments, 0);
    corpus.snapshots.forEach((s, k) => {
      const list = this.#recorded.get(s.symbol) ?? [];
      list.push(k);
      this.#recorded.set(s.symbol, list);
    });
  }

  /** The events the untouched frame `i` parses to, after the frames before it. */
  output(i: number): MarketEvent[] | undefined {
    return this.#clean.events[i];
  }

  /** Reads the untouched frames up to and including `i`. */
  advance(i: number): void {
    const n = this.#corpus.frames.length;
    while (this.#next <= i && this.#next < n) this.#read(this.#next++);
  }

  #read(i: number): void {
    const events = this.#clean.events[i];
    for (const ev of events) {
      if (ev.type === "book_delta") {
        const f = this.#keeper.followed.get(ev.exchangeSymbol);
        if (
          f && f.sync.state === "buffering" &&
          !this.#firstBuffered.has(ev.exchangeSymbol)
        ) this.#firstBuffered.set(ev.exchangeSymbol, ev);
      }
      this.#keeper.onEvent(ev);
    }
    for (const sym of this.#need) this.#serve(sym, i);
    this.#need.clear();
  }

  /** Syncs a buffering truth book: recorded snapshot, else an aligned empty one. */
  #serve(sym: string, i: number): void {
    const f = this.#keeper.followed.get(sym);
    if (!f || f.sync.state !== "buffering") return;
    const inst = f.inst;
    const recorded = this.#recorded.get(sym);
    if (recorded) {
      // The newest snapshot fetched by now, offered once; until one is
      // fetched, wait for it.
      let k = -1;
      for (const j of recorded) if (this.#corpus.snapshots[j].at <= i) k = j;
      if (k < 0) return;
      const snap = this.#clean.snapshots[k];
      if (this.#offered.get(sym) !== k && snap !== undefined) {
        this.#offered.set(sym, k);
        if (this.#keeper.offerSnapshot(f, snap) === "synced") return;
        // Too old for the updates buffered: the next update tries again.
        this.#firstBuffered.delete(sym);
        return;
      }
    }
    const d = this.#firstBuffered.get(sym);
    const rule = this.#corpus.adapter.book.sync;
    if (d === undefined || rule.kind !== "rest") return;
    this.#firstBuffered.delete(sym);
    const sequence = rule.link === "prev" && d.prev >= 0
      ? d.prev
      : d.first - rule.align;
    this.#keeper.offerSnapshot(f, {
      type: "book_snapshot",
      exchange: inst.exchange,
      exchangeSymbol: sym,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs: d.exchangeTs,
      localTs: d.localTs,
      sequence,
      bids: [],
      asks: [],
      contractSize: inst.contractSize,
      ...(inst.inverse ? { inverse: true } : {}),
    });
  }

  /**
   * The snapshot the venue would serve now: the truth's synced book of
   * `sym`, at its sequence; undefined while the truth is not synced.
   */
  snapshot(sym: string, now: number): BookSnapshot | undefined {
    const f = this.#keeper.followed.get(sym);
    if (!f || f.sync.state !== "synced") return undefined;
    const inst = f.inst;
    const bids: Levels = [];
    const asks: Levels = [];
    const raw = { bids: [] as string[], asks: [] as string[] };
    const keepRaw = this.#corpus.adapter.book.checksum !== undefined;
    const copy = (side: BookSide, out: Levels, strings: string[]) => {
      for (let i = 0; i < side.length; i++) {
        out.push(side.prices[i], side.sizes[i]);
        if (keepRaw) strings.push(side.rawPrices![i], side.rawSizes![i]);
      }
    };
    copy(f.book.bids, bids, raw.bids);
    copy(f.book.asks, asks, raw.asks);
    return {
      type: "book_snapshot",
      exchange: inst.exchange,
      exchangeSymbol: sym,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs: now,
      localTs: now,
      sequence: f.sync.lastSeq,
      bids,
      asks,
      contractSize: inst.contractSize,
      ...(inst.inverse ? { inverse: true } : {}),
      ...(keepRaw ? { raw } : {}),
    };
  }
}

/** Options for {@link runStream}: how the simulated venue answers. */
export interface RunOptions {
  /**
   * Frames between the keeper asking for a REST snapshot and the answer
   * arriving (the answer is the venue's book when asked, so updates that
   * arrive meanwhile are newer than it).
   * @default 0
   */
  readonly snapshotDelay?: number;
  /**
   * Also deliver, before each REST answer, the previous answer for the same
   * book again: an old response arriving late, which must be refused when
   * it would put the book behind the updates already received.
   * @default false
   */
  readonly staleSnapshots?: boolean;
  /**
   * Told of every book frame rejected without its symbol (see
   * {@link RunStats.unattributed}) instead of failing the run.
   * @default undefined
   */
  readonly unattributed?: (what: string) => void;
}

/**
 * Feeds one mutated stream and checks every property on the way.
 * @param corpus the corpus the stream was made from.
 * @param fed the stream ({@link applyPlan}).
 * @param options how the simulated venue answers snapshot requests.
 * @returns what the run fed and saw.
 * @throws {FuzzFailure} naming the property, the frame and the values when
 *   a property breaks.
 * @example
 * ```ts
 * const stats = runStream(corpus, applyPlan(corpus, plan));
 * ```
 */
export function runStream(
  corpus: Corpus,
  fed: readonly Fed[],
  options: RunOptions = {},
): RunStats {
  const unattributed = options.unattributed;
  const delay = options.snapshotDelay ?? 0;
  const stats = newStats();
  const adapter = corpus.adapter;
  const exchange = adapter.id;
  const rule = adapter.book.sync;
  const depth = adapter.book.maxDepth;
  const table = new Map(corpus.instruments.map((i) => [i.exchangeSymbol, i]));
  const truth = new Truth(corpus);
  // A stateless parser reads a frame the same whatever came before.
  const oracle = corpus.stateful ? undefined : adapter.parser(table);
  let parser = adapter.parser(table);
  const counters = newCounters();
  const batch = new BatchBuilder(exchange);
  const rebuilds = new Map<string, Rebuild>();
  const touched = new Set<string>();
  const needs = new Set<string>();
  /** REST answers in flight, by symbol: the snapshot and when it arrives. */
  const inFlight = new Map<string, { snap: BookSnapshot; due: number }>();
  /** The last REST answer delivered per symbol. */
  const answered = new Map<string, BookSnapshot>();
  /**
   * The newest update an untouched frame delivered per symbol (`rest`
   * venues): a synced book is never behind it.
   */
  const delivered = new Map<string, number>();
  const resubscribed: string[] = [];
  const control: string[] = [];
  const controlSeen = new Set<string>();
  let reconnectAsked = false;
  let where = "";

  const fail = (what: string): never => {
    throw new FuzzFailure(`${corpus.name}: ${what}${where}`);
  };

  const linked = (d: BookDelta, last: number) =>
    (rule as { link: string }).link === "next"
      ? d.first === last + 1
      : d.prev === last;

  /** Every event the keeper applies: rebuilt and its sequence checked. */
  const onApplied = (ev: MarketEvent) => {
    stats.applied++;
    const why = badEvent(ev, undefined, exchange, table);
    if (why) fail(`applied event is insane (${why}): ${dump(ev)}`);
    if (ev.type !== "book_snapshot" && ev.type !== "book_delta") return;
    const sym = ev.exchangeSymbol;
    touched.add(sym);
    let rb = rebuilds.get(sym);
    if (ev.type === "book_snapshot") {
      rb ??= { bids: new Map(), asks: new Map(), seq: -1, fresh: true };
      rebuilds.set(sym, rb);
      rb.bids.clear();
      rb.asks.clear();
      rb.seq = ev.sequence;
      rb.fresh = true;
    } else {
      if (rb === undefined) fail(`delta of ${sym} applied before any snapshot`);
      if (rule.kind === "rest") {
        const edge = rb!.seq + rule.align;
        const ok = rb!.fresh
          ? ev.last >= edge && (ev.first <= edge || linked(ev, rb!.seq))
          : linked(ev, rb!.seq);
        if (!ok) {
          fail(
            `applied delta ${ev.first}..${ev.last} (prev ${ev.prev}) of ${sym} does not follow ${
              rb!.fresh ? "the snapshot at" : "the update ending at"
            } ${rb!.seq}`,
          );
        }
        rb!.seq = ev.last;
      } else if (rule.kind === "stream" && rule.link !== "none") {
        if (!linked(ev, rb!.seq)) {
          fail(
            `applied delta ${ev.first}..${ev.last} (prev ${ev.prev}) of ${sym} does not link to ${
              rb!.seq
            }`,
          );
        }
        rb!.seq = ev.last;
      }
      rb!.fresh = false;
    }
    applyLevels(rb!.bids, ev.bids);
    applyLevels(rb!.asks, ev.asks);
    if (depth !== undefined) {
      truncate(rb!.bids, depth, true);
      truncate(rb!.asks, depth, false);
    }
  };

  const wrappedSpec: BookSpec = {
    ...adapter.book,
    ...(adapter.book.resubscribe
      ? {
        resubscribe: (s: string) => {
          resubscribed.push(s);
          return adapter.book.resubscribe!(s);
        },
      }
      : {}),
  };
  const keeper = new BookKeeper({
    exchange,
    spec: wrappedSpec,
    batch,
    counters,
    hooks: {
      needSnapshot: (f: Followed) => needs.add(f.inst.exchangeSymbol),
      send: () => true,
      reconnect: () => {
        reconnectAsked = true;
      },
      warn: () => {},
      emit: onApplied,
    },
  });
  keeper.follow(corpus.instruments, fed[0]?.ts ?? 0);

  const onEvent = (ev: MarketEvent) => {
    try {
      keeper.onEvent(ev);
    } catch (e) {
      fail(`the keeper threw ${(e as Error).stack} on ${dump(ev)}`);
    }
  };

  /** The venue sends a fresh snapshot of `sym` (resubscribe, reconnect). */
  const inject = (sym: string, now: number) => {
    const snap = truth.snapshot(sym, now);
    if (snap === undefined) return;
    stats.snapshotsServed++;
    onEvent(snap);
  };

  const reconnect = (now: number) => {
    stats.reconnects++;
    counters.reconnects++;
    keeper.disconnect(now);
    parser = adapter.parser(table);
    for (const t of control) {
      try {
        parser.parse(t, now);
      } catch {
        // as the venue sent it
      }
    }
    if (rule.kind === "stream") {
      for (const i of corpus.instruments) inject(i.exchangeSymbol, now);
    }
  };

  const offer = (f: Followed, snap: BookSnapshot) => {
    stats.snapshotsServed++;
    try {
      keeper.offerSnapshot(f, snap);
    } catch (e) {
      fail(`offerSnapshot threw ${(e as Error).stack}`);
    }
  };

  /** The I/O the keeper asked for during frame `k`, done before the next. */
  const settle = (now: number, k: number) => {
    for (let round = 0; round < 4; round++) {
      if (reconnectAsked) {
        reconnectAsked = false;
        resubscribed.length = 0;
        reconnect(now);
      }
      const subs = resubscribed.splice(0);
      for (const s of subs) inject(s, now);
      // A REST request: the venue's book now, answered `delay` frames on.
      for (const sym of needs) {
        if (inFlight.has(sym)) continue;
        const snap = truth.snapshot(sym, now);
        if (snap !== undefined) inFlight.set(sym, { snap, due: k + delay });
      }
      needs.clear();
      for (const [sym, { snap, due }] of inFlight) {
        if (due > k) continue;
        inFlight.delete(sym);
        const f = keeper.followed.get(sym)!;
        if (f.sync.state !== "buffering") continue;
        const old = answered.get(sym);
        if (options.staleSnapshots && old !== undefined) offer(f, old);
        if (f.sync.state === "buffering") offer(f, snap);
        answered.set(sym, snap);
      }
      if (!reconnectAsked && resubscribed.length === 0 && needs.size === 0) {
        return;
      }
    }
  };

  const compare = (sym: string) => {
    const f = keeper.followed.get(sym);
    if (!f || f.sync.state !== "synced") return;
    stats.bookChecks++;
    if (f.book.crossed()) {
      fail(
        `${sym} is synced but crossed: ${f.book.bids.best()} >= ${f.book.asks.best()}`,
      );
    }
    const rb = rebuilds.get(sym);
    if (rb === undefined) fail(`${sym} is synced but no snapshot was applied`);
    compareSide(sym, "bids", f.book.bids, rb!.bids, true);
    compareSide(sym, "asks", f.book.asks, rb!.asks, false);
  };

  const compareSide = (
    sym: string,
    name: string,
    side: BookSide,
    map: Map<number, number>,
    bid: boolean,
  ) => {
    for (let i = 0; i < side.length; i++) {
      const p = side.prices[i];
      const s = side.sizes[i];
      if (!(p > 0 && p < MAX_PRICE) || !(s > 0 && s <= MAX_SIZE)) {
        fail(`${sym} ${name} holds level ${p} x ${s}`);
      }
      if (i > 0 && !(bid ? side.prices[i - 1] < p : side.prices[i - 1] > p)) {
        fail(`${sym} ${name} is not sorted at ${i}`);
      }
      if (map.get(p) !== s) {
        fail(
          `${sym} ${name} at ${p}: book ${s}, rebuild ${
            map.get(p)
          } (book ${side.length} levels, rebuild ${map.size})`,
        );
      }
    }
    if (side.length !== map.size) {
      fail(`${sym} ${name}: book ${side.length} levels, rebuild ${map.size}`);
    }
  };

  /** The records sent to the aggregator hold no NaN, Infinity or negative number. */
  const checkBatch = () => {
    if (batch.length === 0) return;
    const c = columns(batch.take());
    for (let i = 0; i < c.price.length; i++) {
      if (
        !(c.price[i] >= 0 && c.price[i] < MAX_PRICE) ||
        !(c.size[i] >= 0 && c.size[i] <= MAX_SIZE) ||
        !Number.isFinite(c.ts[i])
      ) {
        fail(
          `batch record ${i}: price ${c.price[i]} size ${c.size[i]} ts ${
            c.ts[i]
          } kind ${c.code[i] % 8}`,
        );
      }
    }
  };

  let lockstep = true;
  for (let k = 0; k < fed.length; k++) {
    const f = fed[k];
    where = ` (stream position ${k}, corpus frame ${f.origin}${
      f.mutated ? ", mutated" : ""
    }: ${show(f.data)})`;
    truth.advance(f.origin);
    stats.frames++;
    if (f.mutated) stats.mutated++;
    const inStep = lockstep && f.origin === k;
    /** The events of the untouched frame, where they do not depend on history. */
    const untouched = (): MarketEvent[] | undefined => {
      if (oracle) {
        try {
          return oracle.parse(corpus.frames[f.origin].data, f.ts);
        } catch {
          return undefined;
        } finally {
          if (oracle.outbox) oracle.outbox.length = 0;
        }
      }
      return inStep ? truth.output(f.origin) : undefined;
    };
    let events: MarketEvent[];
    let accepted = false;
    try {
      events = parser.parse(f.data, f.ts);
      accepted = true;
      stats.accepted++;
    } catch (e) {
      if (e instanceof MalformedFrameError) {
        stats.malformed++;
        counters.malformed++;
        if (f.spliced !== undefined) {
          // Still JSON with its symbol: a book frame must name its book.
          const books = new Set<string>();
          for (const ev of untouched() ?? []) {
            if (ev.type === "book_snapshot" || ev.type === "book_delta") {
              books.add(ev.exchangeSymbol);
            }
          }
          const [book] = books;
          // A frame whose symbol was the value replaced names no book.
          if (
            books.size === 1 && e.symbol !== book &&
            frameText(f.data).includes(book)
          ) {
            stats.unattributed++;
            if (unattributed) {
              unattributed(`${corpus.name}: ${e.message}${where}`);
            } else {
              fail(
                `a book frame of ${book} was rejected without naming it: ${e.message}`,
              );
            }
          }
        }
        if (e.symbol !== undefined) {
          stats.malformedBook++;
          // As the connection does: that book lost an update.
          const fo = keeper.find(e.symbol);
          if (fo === undefined) {
            fail(`MalformedFrameError names ${e.symbol}, no followed book`);
          }
          if (fo!.sync.state === "synced") {
            keeper.resync(fo!, "malformed book frame", f.ts);
          }
        }
      } else if (e instanceof ResyncError) {
        stats.resyncErrors++;
        counters.gaps++;
        counters.resyncs++;
        reconnectAsked = true;
      } else if (e instanceof VenueError) {
        stats.venueErrors++;
        counters.venueErrors++;
      } else {
        fail(`the parser crashed: ${(e as Error)?.stack ?? e}`);
      }
      events = [];
    } finally {
      if (parser.outbox) parser.outbox.length = 0;
    }
    stats.events += events.length;
    for (const ev of events) {
      const why = badEvent(ev, f.ts, exchange, table);
      if (why) fail(`parsed event is insane (${why}): ${dump(ev)}`);
    }
    if (f.strict !== undefined && accepted) {
      // One scalar became a value no number may take, and the frame parsed:
      // the parser must not have read that scalar.
      const e0 = untouched();
      if (e0 !== undefined) {
        stats.strictChecks++;
        if (!subsequence(events, e0, corpus.dropsBadSnapshotLevels === true)) {
          fail(
            `a frame with ${f.strict} spliced in parsed to other prices or sizes: ${
              dump(events)
            } vs untouched ${dump(e0)}`,
          );
        }
      }
    }
    if (
      !f.mutated && events.length === 0 && typeof f.data === "string" &&
      corpus.replayOnReconnect?.(f.data) && !controlSeen.has(f.data)
    ) {
      controlSeen.add(f.data);
      control.push(f.data);
    }
    for (const ev of events) onEvent(ev);
    if (!f.mutated && rule.kind === "rest") {
      for (const ev of events) {
        if (
          ev.type === "book_delta" &&
          ev.last > (delivered.get(ev.exchangeSymbol) ?? -1)
        ) delivered.set(ev.exchangeSymbol, ev.last);
      }
    }
    settle(f.ts, k);
    if (rule.kind === "rest") {
      // A synced book is never behind an update the connection received.
      for (const [sym, last] of delivered) {
        const fo = keeper.followed.get(sym)!;
        if (fo.sync.state === "synced" && fo.sync.lastSeq < last) {
          fail(
            `${sym} is synced at ${fo.sync.lastSeq}, behind the update to ${last} already received`,
          );
        }
      }
    }
    for (const sym of touched) compare(sym);
    touched.clear();
    if (reconnectAsked || f.mutated || f.origin !== k) lockstep = false;
    if (stats.reconnects > 0) lockstep = false;
    if ((k & 511) === 511) checkBatch();
  }
  where = " (end of run)";
  for (const i of corpus.instruments) {
    compare(i.exchangeSymbol);
    if (keeper.followed.get(i.exchangeSymbol)?.sync.state === "synced") {
      stats.syncedAtEnd++;
    }
  }
  checkBatch();
  stats.resyncs = counters.resyncs;
  return stats;
}
