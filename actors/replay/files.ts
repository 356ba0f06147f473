/**
 * Capture files as a replay source: the recorded frames go through the same
 * pure adapters and book keeper as live, without sockets, in recorded
 * order, on the recorded clock.
 *
 * Per exchange, the capture's adapter version and symbols are read from the
 * recording (`actors/capture/plan.ts`), the instruments from its recorded
 * metadata, and the symbols split into the venue's connection groups as live
 * (`connectionGroups`): each group has its own parser and book keeper, and
 * takes the frames of the recorded connections on its WebSocket path (every
 * group takes frames whose connection is unknown, e.g. a plain tardis.dev
 * file). A recorded REST snapshot is offered, at its recorded time, to the
 * books it is for while they wait for one; a book that asks later gets the
 * latest one recorded (what the exchange simulator answers). Frames the
 * keeper would send (resubscribe, socket snapshot requests) are dropped: the
 * recording holds the venue's answers already. A parser or keeper that needs
 * a reconnect starts over with a fresh parser and unsynced books, counted as
 * a reconnect. When an exchange's recording ends before another's, its
 * books leave the heatmap (a `Clear` each, as a disconnect live; the dump
 * keeps them); the last one stays on its final state. Every `keyframeMs` of event time each book is pushed in full,
 * as a live connection does for the store. Asked to (`sampleBooks`), each
 * exchange buckets its books at every tick end its clock crosses, as a
 * connection actor does for the aggregator.
 *
 * @module
 */

import type { Adapter } from "../adapters/adapter.ts";
import {
  MalformedFrameError,
  ResyncError,
  VenueError,
} from "../adapters/adapter.ts";
import { connectionGroups, versionDate } from "../adapters/mod.ts";
import {
  type Capture,
  readCaptures,
  type TimedRecord,
} from "../capture/capture.ts";
import { captureAdapter, captureSymbols } from "../capture/plan.ts";
import { BookKeeper, type Followed } from "../connection/book_keeper.ts";
import { type ConnectionCounters, newCounters } from "../connection/stats.ts";
import { BatchBuilder, type EventBatch, Kind } from "../market/batch.ts";
import { restKey } from "../market/clock.ts";
import {
  eventJson,
  type Instrument,
  type MarketEvent,
} from "../market/events.ts";
import type { ReplayDump } from "../market/requests.ts";
import {
  type BookColumns,
  BookSampler,
  type BucketSizes,
  type OwnedBook,
  type SamplingConfig,
} from "../market/sampler.ts";
import { resolveSymbols } from "../market/symbols.ts";
import type { ReplaySource } from "./source.ts";
import type { LogFields } from "../../runtime/log.ts";

/** The events of a frame the book keeper applied from its scan. */
const NO_EVENTS: readonly MarketEvent[] = [];

/** Options for {@link FileSource.open}. */
export interface FileSourceOptions {
  /** Exchange ids to replay; default every exchange of the files. */
  exchanges?: readonly string[];
  /**
   * Symbols (venue names or selectors) to follow on every exchange;
   * default what each capture followed.
   */
  symbols?: readonly string[];
  /** Keep every applied event as NDJSON for {@link FileSource.events}. */
  emitEvents?: boolean;
  /**
   * Every book is pushed in full when the event clock crosses a multiple
   * of this, ms.
   * @default 60000
   */
  keyframeMs?: number;
  /**
   * Logs a warning (malformed frames, resyncs), with the fields `exchange`
   * and, about one book, `symbol`.
   */
  warn?: (msg: string, fields?: LogFields) => void;
}

/** A group's parser state and books: one live connection's worth. */
interface Group {
  readonly exchange: string;
  /** Its connection group (see `Adapter.connectionGroup`). */
  readonly name: string;
  readonly keeper: BookKeeper;
  readonly counters: ConnectionCounters;
  parser: ReturnType<Adapter["parser"]>;
  /** Set by a keeper hook: start over after the current frame. */
  reconnect: boolean;
  /** Books that asked for a snapshot since the last frame. */
  readonly wanted: Set<Followed>;
}

/** One exchange of the source. */
interface Venue {
  readonly exchange: string;
  readonly adapter: Adapter;
  /** Group name → the instruments it follows (its symbols, as live). */
  readonly groupInstruments: ReadonlyMap<string, readonly Instrument[]>;
  /** The groups' WebSocket paths (null: not known before a handshake). */
  readonly paths: ReadonlyMap<string, string | null>;
  readonly metadataKeys: ReadonlySet<string>;
  readonly batch: BatchBuilder;
  /** Index of its first and last record in the merged records. */
  firstRecord: number;
  lastRecord: number;
  groups: Group[];
  /** Recorded connection URL → the groups that take its frames. */
  routes: Map<string, Group[]>;
  /** REST snapshot key → the books it is for. */
  snapshotBooks: Map<string, { group: Group; f: Followed }[]>;
  /** REST snapshot key → the latest recorded body and its time. */
  lastSnapshot: Map<string, { body: string; ts: number }>;
  /** Books → the snapshot body offered to them last (not offered twice). */
  offered: WeakMap<Followed, string>;
  keyPeriod: number;
  /** Samples its books on the ticks (see `sampleBooks`); null: not now. */
  sampler: BookSampler | null;
  /** Its books as the sampler reads them (none once its recording ended). */
  readonly owned: Iterable<OwnedBook>;
  /** Its recording ended before the others': its books left the heatmap. */
  ended: boolean;
}

/** Path and query of a URL, or null when it is not one. */
function keyOf(url: string): string | null {
  try {
    return restKey(url);
  } catch {
    return null;
  }
}

/** The pathname of a URL, or null. */
function pathOf(url: string): string | null {
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}

/**
 * Capture files (cryptofeed's raw format, and what `readCaptures` reads) as
 * a {@link ReplaySource}.
 *
 * @example
 * ```ts
 * const src = await FileSource.open(["BINANCE.0", "BINANCE.http.0.0", "BINANCE.ws.1.0"]);
 * await src.seek(src.start);
 * src.advance(Infinity, Infinity);
 * const [batch] = src.take(src.end);
 * src.dump(10).books.binance.NKNUSDT.bids[0]; // [price, size]
 * ```
 */
export class FileSource implements ReplaySource {
  readonly exchanges: readonly string[];
  readonly start: number;
  readonly end: number;
  readonly #venues: Venue[];
  readonly #opts: FileSourceOptions;
  /** Every timed record of every capture, merged in time order. */
  readonly #records: TimedRecord[];
  /** The venue of each record. */
  readonly #owner: Uint16Array;
  #cursor = 0;
  /** How books are sampled, once asked ({@link sampleBooks}). */
  #sampling: { cfg: SamplingConfig; sizes: BucketSizes } | null = null;
  /** The cursor right after the last seek: records before it were not played. */
  #seekCursor = 0;
  #events: string[] = [];

  private constructor(
    venues: Venue[],
    records: TimedRecord[],
    owner: Uint16Array,
    options: FileSourceOptions,
  ) {
    this.#venues = venues;
    this.#records = records;
    this.#owner = owner;
    this.#opts = options;
    this.exchanges = venues.map((v) => v.exchange);
    let start = Infinity;
    let end = -Infinity;
    for (const r of records) {
      if (r.kind !== "recv") continue;
      if (r.ts < start) start = r.ts;
      if (r.ts > end) end = r.ts;
    }
    this.start = start === Infinity ? 0 : start;
    this.end = end === -Infinity ? this.start : end;
  }

  /**
   * Reads capture files and plans their replay.
   * @param paths capture files of one or more exchanges (a path named twice
   *   is read once).
   * @param options exchanges, symbols, event output.
   * @returns the source, before its first {@link seek}.
   * @throws {Error} for an unreadable or unsupported capture, an exchange
   *   asked for that the files lack, missing instrument metadata, or symbols
   *   none of which the venue lists.
   */
  static async open(
    paths: readonly string[],
    options: FileSourceOptions = {},
  ): Promise<FileSource> {
    return FileSource.of(await readCaptures([...new Set(paths)]), options);
  }

  /**
   * Plans the replay of captures already read ({@link FileSource.open}
   * without the reading): the records are only read, so one set of
   * captures can back several sources.
   * @param captures captures of one or more exchanges (`readCaptures`).
   * @param options exchanges, symbols, event output.
   * @returns the source, before its first {@link seek}.
   * @throws {Error} as {@link FileSource.open}, but for reading.
   */
  static of(
    captures: readonly Capture[],
    options: FileSourceOptions = {},
  ): FileSource {
    let caps = captures;
    if (options.exchanges?.length) {
      const have = new Set(caps.map((c) => c.exchange));
      const lacking = options.exchanges.filter((e) => !have.has(e));
      if (lacking.length) {
        throw new Error(
          `The files hold no ${lacking.join(", ")} (they hold ${
            [...have].join(", ") || "nothing"
          })`,
        );
      }
      caps = caps.filter((c) => options.exchanges!.includes(c.exchange));
    }
    const venues = caps.map((cap) => plan(cap, options.symbols));
    const lists = caps.map((c) => c.records);
    const total = lists.reduce((n, l) => n + l.length, 0);
    const records: TimedRecord[] = new Array(total);
    const owner = new Uint16Array(total);
    // A k-way merge by time; ties keep the order of the files given.
    const at = new Array(lists.length).fill(0);
    for (let k = 0; k < total; k++) {
      let best = -1;
      for (let i = 0; i < lists.length; i++) {
        if (at[i] >= lists[i].length) continue;
        if (best < 0 || lists[i][at[i]].ts < lists[best][at[best]].ts) {
          best = i;
        }
      }
      records[k] = lists[best][at[best]++];
      owner[k] = best;
      if (venues[best].firstRecord < 0) venues[best].firstRecord = k;
      venues[best].lastRecord = k;
    }
    return new FileSource(venues, records, owner, options);
  }

  /**
   * Starts over at the beginning, then applies every record before `t`
   * without keeping its batches, and pushes every book in full at `t`.
   * @param t event time, ms.
   */
  seek(t: number): Promise<void> {
    // Nothing is sampled on the way to `t`.
    for (const v of this.#venues) v.sampler = null;
    // Back before what was applied (or never built): play from the start.
    if (this.#cursor === 0 || this.#records[this.#cursor - 1].ts >= t) {
      this.#reset();
    }
    const rs = this.#records;
    while (this.#cursor < rs.length && rs[this.#cursor].ts < t) {
      this.#apply(this.#cursor++);
      for (const v of this.#venues) {
        if (v.batch.length > 65_536) v.batch.take();
      }
    }
    this.#events = [];
    this.#seekCursor = this.#cursor;
    const sampling = this.#sampling;
    for (const v of this.#venues) {
      v.batch.take();
      v.batch.clock = t;
      if (sampling) {
        v.sampler = new BookSampler(v.exchange, sampling.cfg, sampling.sizes);
        v.sampler.cross(t, v.owned);
      }
      // Only a recording under way has books at `t`.
      if (v.firstRecord >= this.#cursor || v.lastRecord < this.#cursor) {
        continue;
      }
      for (const g of v.groups) g.keeper.keyframe(t);
    }
    return Promise.resolve();
  }

  /** Time of the next record, ms; Infinity at the end. */
  next(): number {
    const r = this.#records[this.#cursor];
    return r === undefined ? Infinity : r.ts;
  }

  /** Time of the last record applied since the last seek, ms; -Infinity before any. */
  last(): number {
    return this.#cursor > this.#seekCursor
      ? this.#records[this.#cursor - 1].ts
      : -Infinity;
  }

  /**
   * Applies the records before `until`, stopping after about `budget`
   * events (a frame counts at least one).
   * @param until event time, ms (exclusive).
   * @param budget events to stop after.
   * @returns events applied.
   */
  advance(until: number, budget: number): number {
    const rs = this.#records;
    let applied = 0;
    while (
      applied < budget && this.#cursor < rs.length &&
      rs[this.#cursor].ts < until
    ) {
      const v = this.#venues[this.#owner[this.#cursor]];
      const before = v.batch.length;
      this.#apply(this.#cursor++);
      applied += Math.max(1, v.batch.length - before);
    }
    return applied;
  }

  /**
   * One batch per exchange of what was applied, stamped `clock`.
   * @param clock the event clock, ms.
   */
  take(clock: number): EventBatch[] {
    return this.#venues.map((v) => {
      v.sampler?.cross(clock, v.owned);
      v.batch.clock = clock;
      return v.batch.take();
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
    for (const v of this.#venues) if (v.sampler) out.push(...v.sampler.take());
    return out;
  }

  /**
   * The books now and the counters, per exchange.
   * @param depth levels per side.
   */
  dump(depth: number): ReplayDump {
    const out: ReplayDump = { books: {}, stats: {} };
    for (const v of this.#venues) {
      const books: ReplayDump["books"][string] = {};
      const stats: Record<string, number> = {};
      for (const g of v.groups) {
        if (g.keeper.keepsBooks) {
          for (const f of g.keeper.followed.values()) {
            const b = g.keeper.view(f, depth);
            books[b.exchangeSymbol] = {
              state: b.state,
              bids: b.bids,
              asks: b.asks,
              lastSequence: b.lastSequence,
            };
          }
        }
        for (const [k, n] of Object.entries(g.counters)) {
          stats[k] = (stats[k] ?? 0) + n;
        }
      }
      out.books[v.exchange] = books;
      out.stats[v.exchange] = stats;
    }
    return out;
  }

  /** NDJSON of the events applied since the last call ("" when off). */
  events(): string {
    if (!this.#events.length) return "";
    const s = this.#events.join("\n") + "\n";
    this.#events = [];
    return s;
  }

  /** Nothing to free: the records are in memory. */
  close(): void {}

  /** Fresh parsers, keepers and batches; the cursor at the first record. */
  #reset(): void {
    this.#cursor = 0;
    this.#events = [];
    for (const v of this.#venues) this.#build(v);
  }

  #build(v: Venue): void {
    v.batch.take();
    v.groups = [];
    v.routes = new Map();
    v.snapshotBooks = new Map();
    v.lastSnapshot = new Map();
    v.offered = new WeakMap();
    v.keyPeriod = -1;
    v.ended = false;
    for (const [group, insts] of v.groupInstruments) {
      if (!insts.length) continue;
      const counters = newCounters();
      const warnOpt = this.#opts.warn;
      const warn = (msg: string, fields?: LogFields) =>
        warnOpt?.(msg, { exchange: v.exchange, ...fields });
      const g: Group = {
        exchange: v.exchange,
        name: group,
        counters,
        parser: v.adapter.parser(new Map()),
        reconnect: false,
        wanted: new Set(),
        keeper: new BookKeeper({
          exchange: v.exchange,
          spec: v.adapter.book,
          books: !v.adapter.booklessGroups?.includes(group),
          batch: v.batch,
          counters,
          hooks: {
            needSnapshot: (f) => g.wanted.add(f),
            send: () => true,
            reconnect: () => {
              g.reconnect = true;
            },
            warn,
            emit: this.#opts.emitEvents
              ? (ev) => this.#events.push(JSON.stringify(eventJson(ev)))
              : undefined,
          },
        }),
      };
      g.keeper.follow(insts, 0);
      g.parser = v.adapter.parser(
        new Map(insts.map((i) => [i.exchangeSymbol, i])),
      );
      v.groups.push(g);
      const snap = v.adapter.book.snapshotUrl;
      if (snap && g.keeper.keepsBooks) {
        for (const f of g.keeper.followed.values()) {
          const key = keyOf(snap(f.inst.exchangeSymbol));
          if (key === null) continue;
          const list = v.snapshotBooks.get(key) ?? [];
          list.push({ group: g, f });
          v.snapshotBooks.set(key, list);
        }
      }
    }
  }

  /** The groups that take the frames of a recorded connection URL. */
  #route(v: Venue, conn: string): Group[] {
    let gs = v.routes.get(conn);
    if (gs) return gs;
    const path = pathOf(conn);
    const names = [...v.paths].filter(([, p]) => p !== null && p === path)
      .map(([n]) => n);
    if (!names.length) {
      names.push(...[...v.paths].filter(([, p]) => p === null).map(([n]) => n));
    }
    gs = path === null || !names.length
      ? v.groups
      : v.groups.filter((g) => names.includes(g.name));
    v.routes.set(conn, gs);
    return gs;
  }

  #apply(i: number): void {
    const r = this.#records[i];
    const v = this.#venues[this.#owner[i]];
    this.#record(v, r);
    if (i === v.lastRecord && i < this.#records.length - 1) {
      this.#ended(v, r.ts);
    }
  }

  /**
   * An exchange's recording ended before the others': its books leave the
   * heatmap (a `Clear` each, as a disconnect live), while the keepers keep
   * them for the dump. The recordings that end last stay on their final
   * state.
   */
  #ended(v: Venue, ts: number): void {
    v.sampler?.cross(ts, v.owned);
    v.batch.clock = ts;
    v.ended = true;
    for (const g of v.groups) {
      if (!g.keeper.keepsBooks) continue;
      for (const f of g.keeper.followed.values()) {
        v.batch.push(v.batch.symbol(f.inst), Kind.Clear, 0, 0, ts);
      }
    }
  }

  /** Applies one record of a venue. */
  #record(v: Venue, r: TimedRecord): void {
    if (r.kind === "recv") {
      this.#clock(v, r.ts);
      const frame = r.text ?? r.binary!;
      for (const g of this.#route(v, r.conn)) this.#frame(v, g, frame, r.ts);
    } else if (r.kind === "http") {
      const key = keyOf(r.url);
      if (key === null || v.metadataKeys.has(key)) return;
      const books = v.snapshotBooks.get(key);
      if (!books) return;
      this.#clock(v, r.ts);
      v.lastSnapshot.set(key, { body: r.body, ts: r.ts });
      for (const { group, f } of books) {
        if (f.sync.state === "buffering") this.#offer(v, group, f, key);
      }
    }
  }

  /** Moves an exchange's event clock on and pushes a keyframe when due. */
  #clock(v: Venue, ts: number): void {
    v.sampler?.cross(ts, v.owned);
    v.batch.clock = ts;
    const period = Math.floor(
      v.batch.clock / (this.#opts.keyframeMs ?? 60_000),
    );
    if (v.keyPeriod < 0) v.keyPeriod = period;
    else if (period > v.keyPeriod) {
      v.keyPeriod = period;
      for (const g of v.groups) g.keeper.keyframe(v.batch.clock);
    }
  }

  /** Offers the latest recorded snapshot of `key` to a book, once per body. */
  #offer(v: Venue, g: Group, f: Followed, key: string): void {
    const snap = v.lastSnapshot.get(key);
    if (!snap || v.offered.get(f) === snap.body) return;
    v.offered.set(f, snap.body);
    const spec = v.adapter.book;
    try {
      const verdict = g.keeper.offerSnapshot(
        f,
        spec.parseSnapshot!(snap.body, v.batch.clock, f.inst),
      );
      if (verdict !== "synced") g.counters.resyncs++;
    } catch (e) {
      g.counters.malformed++;
      this.#opts.warn?.(
        `${v.exchange} ${f.inst.exchangeSymbol}: snapshot unreadable (${
          (e as Error).message
        })`,
        { exchange: v.exchange, symbol: f.inst.exchangeSymbol },
      );
    }
  }

  #frame(v: Venue, g: Group, frame: string | Uint8Array, ts: number): void {
    g.counters.frames++;
    let events: readonly MarketEvent[] = NO_EVENTS;
    let scanned = false;
    try {
      // A book delta the parser's scanner reads is applied without events.
      scanned = g.keeper.scan(g.parser, frame, ts);
      if (!scanned) events = g.parser.parse(frame, ts);
    } catch (e) {
      this.#parseError(g, e, ts);
    }
    // A frame the scanner applied is a book delta, never a heartbeat: only
    // the others pay for the venue's heartbeat test.
    if (!scanned && v.adapter.isHeartbeat(frame)) g.counters.heartbeats++;
    if (g.parser.outbox?.length) g.parser.outbox.length = 0;
    for (let k = 0; k < events.length; k++) g.keeper.onEvent(events[k]);
    if (g.wanted.size) {
      const snap = v.adapter.book.snapshotUrl;
      for (const f of g.wanted) {
        if (f.sync.state !== "buffering" || !snap) continue;
        const key = keyOf(snap(f.inst.exchangeSymbol));
        if (key !== null) this.#offer(v, g, f, key);
      }
      g.wanted.clear();
    }
    if (g.reconnect) this.#restart(v, g, ts, "keeper asked to reconnect");
  }

  #parseError(g: Group, e: unknown, ts: number): void {
    const c = g.counters;
    if (e instanceof ResyncError) {
      c.gaps++;
      c.resyncs++;
      g.reconnect = true;
    } else if (e instanceof VenueError) {
      c.venueErrors++;
    } else {
      c.malformed++;
      this.#opts.warn?.(
        `${g.exchange}: malformed frame (${(e as Error)?.message ?? e})`,
        {
          exchange: g.exchange,
          symbol: e instanceof MalformedFrameError ? e.symbol : undefined,
        },
      );
      const sym = e instanceof MalformedFrameError ? e.symbol : undefined;
      const f = sym === undefined ? undefined : g.keeper.find(sym);
      if (f && f.sync.state === "synced") {
        g.keeper.resync(f, "malformed book frame", ts);
      }
    }
  }

  /** A reconnect: unsynced books and a fresh parser, on the same recording. */
  #restart(v: Venue, g: Group, ts: number, why: string): void {
    g.reconnect = false;
    g.counters.reconnects++;
    this.#opts.warn?.(`${v.exchange}: ${why}; books resync`, {
      exchange: v.exchange,
    });
    g.keeper.disconnect(ts);
    g.parser = v.adapter.parser(
      new Map([...g.keeper.followed].map(([s, f]) => [s, f.inst])),
    );
  }
}

/**
 * Plans one capture: its adapter version, instruments and groups.
 * @throws {Error} naming a missing metadata URL or unlisted symbols.
 */
function plan(cap: Capture, wanted: readonly string[] | undefined): Venue {
  const adapter = captureAdapter(cap);
  const symbols = wanted?.length ? [...wanted] : captureSymbols(cap, adapter);
  const bodies = new Map<string, string>();
  for (const r of cap.records) {
    if (r.kind !== "http") continue;
    const key = keyOf(r.url);
    if (key !== null && !bodies.has(key)) bodies.set(key, r.body);
  }
  const metadataKeys = new Set<string>();
  const meta = adapter.metadataUrls.map((url, i) => {
    const key = keyOf(url)!;
    metadataKeys.add(key);
    const body = adapter.metadataBodies?.[i] == null
      ? bodies.get(key)
      : undefined;
    if (body === undefined) {
      throw new Error(
        `The capture of ${cap.exchange} (${
          cap.files.join(", ")
        }) lacks the instrument metadata ${url}: replay it with the venue's metadata file (cryptofeed's X.0, or a coby recording)`,
      );
    }
    return body;
  });
  const instruments = adapter.instruments(meta);
  const { found } = resolveSymbols(symbols, instruments);
  if (!found.length) {
    throw new Error(
      `None of the symbols ${symbols.join(", ")} is listed by ${cap.exchange}`,
    );
  }
  const groupSymbols = connectionGroups(
    cap.exchange,
    symbols,
    versionDate(adapter),
  );
  const paths = new Map<string, string | null>();
  const groupInstruments = new Map<string, Instrument[]>();
  for (const [group, syms] of groupSymbols) {
    const insts = resolveSymbols(syms, instruments).found;
    groupInstruments.set(group, insts);
    const names = insts.map((i) => i.exchangeSymbol);
    let path: string | null = null;
    try {
      path = new URL(adapter.url(names, undefined, group)).pathname;
    } catch {
      // The URL depends on a REST handshake (KuCoin's bullet token).
    }
    paths.set(group, path);
  }
  const venue: Venue = {
    exchange: cap.exchange,
    adapter,
    groupInstruments,
    paths,
    metadataKeys,
    batch: new BatchBuilder(cap.exchange),
    firstRecord: -1,
    lastRecord: -1,
    groups: [],
    routes: new Map(),
    snapshotBooks: new Map(),
    lastSnapshot: new Map(),
    offered: new WeakMap(),
    keyPeriod: -1,
    sampler: null,
    owned: { [Symbol.iterator]: () => ownedBooks(venue) },
    ended: false,
  };
  return venue;
}

/** A venue's books, as its sampler reads them: none once its recording ended. */
function* ownedBooks(v: Venue): Generator<OwnedBook> {
  if (v.ended) return;
  for (const g of v.groups) {
    if (!g.keeper.keepsBooks) continue;
    for (const f of g.keeper.followed.values()) {
      yield { ref: f.inst, book: f.book };
    }
  }
}

/**
 * Plays capture files to their end at full speed, without pacing, and
 * returns the books and counters (what `deno task replay --dump` writes).
 * @param paths capture files.
 * @param options exchanges, symbols; `depth` levels per side (default 50).
 * @returns the final books and counters.
 * @throws {Error} as {@link FileSource.open}.
 * @example
 * ```ts
 * const dump = await playToEnd(["../shared/data/captures/cryptofeed/KRAKEN.0", …]);
 * dump.books.kraken["XBT/USD"].state; // "synced"
 * ```
 */
export async function playToEnd(
  paths: readonly string[],
  options: FileSourceOptions & { depth?: number } = {},
): Promise<ReplayDump> {
  const src = await FileSource.open(paths, options);
  await src.seek(src.start);
  src.advance(Infinity, Infinity);
  return src.dump(options.depth ?? 50);
}
