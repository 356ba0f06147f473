/**
 * Connection actor: one per exchange connection. It composes the session
 * loop (`session.ts`: instruments, WebSocket, reconnect with backoff), the
 * venue's pure adapter (frames in, normalized events out), the book keeper
 * (`book_keeper.ts`: sync, verify, truncate, resync), the snapshot loop
 * (`snapshots.ts`) and the stats (`stats.ts`). It streams applied changes
 * as columnar batches to the `store` link (the writer, which also gets the
 * feed's {@link HealthEvent}s, posted before the batch of the same flush),
 * and buckets its own books for the `events` link (the aggregator): each
 * time the event clock crosses a tick end (`sampling.tickMs`), before the
 * frame that crossed it is applied, the books are sampled into book columns
 * (`actors/market/sampler.ts`); each flush posts those samples, then the
 * batch's trades and liquidations (no book-level records) with the clock.
 * The aggregator talks back on the same link: the bucket size it fixed for
 * a key (`bucketSize`) and requests for a sample now (`sample`, answered
 * with the books' columns at once).
 *
 * Event clock: every record carries its receive time and every batch the
 * connection's clock (`EventBatch.clock`). With `clock: "wall"` (live) the
 * receive time is `Date.now()` and each flush advances the clock to now,
 * sending a batch even when empty, so a silent feed still moves time on.
 * With `clock: "recorded"` (a capture replay) the exchange simulator's clock
 * frames give the recorded receive times (`actors/market/clock.ts`) and a
 * REST snapshot is applied where the simulator answered it in the stream
 * (`sequencer.ts`), so a replay is the same at any speed. Every
 * `keyframeMs` of event time each book is pushed in full again.
 *
 * Recording: with `record` set, the connection's raw traffic (socket opens,
 * frames sent and received, REST metadata and snapshot responses) is written
 * in tardis format by a {@link Recorder}, each record at its receive time on
 * the event clock, in the order the connection applied it; the URLs are the
 * venue's, whatever `wsOrigin`/`restOrigin` point at, so a recording of a
 * replay is a capture of the venue. I/O errors are counted in the published
 * counters' `recordErrors`, records dropped for a stalled disk in
 * `recordDropped`.
 *
 * Requests: `book {symbol, depth}`, `books {depth}`, `stats`.
 *
 * @module
 */

import { z } from "zod";
import { type ActorContext, runActor } from "../../runtime/actor.ts";
import { RequestError } from "../../runtime/protocol.ts";
import {
  type LogFields,
  type Logger,
  recordLogger,
} from "../../runtime/log.ts";
import {
  type Adapter,
  FrameSyntaxError,
  MalformedFrameError,
  type Parser,
  ResyncError,
  VenueError,
} from "../adapters/adapter.ts";
import { adapterFor } from "../adapters/mod.ts";
import { BatchBuilder, tradesOnly } from "../market/batch.ts";
import { restKey } from "../market/clock.ts";
import {
  eventJson,
  type HealthEvent,
  type HealthKind,
  type MarketEvent,
} from "../market/events.ts";
import {
  BookSampler,
  type BucketSizeMessage,
  BucketSizes,
  type OwnedBook,
  type SampleRequest,
  SamplingConfig,
} from "../market/sampler.ts";
import type {
  BookView,
  ConnectionErrorCode,
  ConnectionRequests,
} from "../market/requests.ts";
import { BookKeeper } from "./book_keeper.ts";
import { Recorder } from "./recorder.ts";
import { errorText } from "./rest.ts";
import { StreamSequencer } from "./sequencer.ts";
import { Session } from "./session.ts";
import { SnapshotLoops } from "./snapshots.ts";
import {
  type ConnectionCounters,
  type ConnectionStats,
  ConnectionStatsTracker,
  countMalformed,
  countResync,
  type HealthStatus,
} from "./stats.ts";

/** The events of a frame the book keeper applied from its scan. */
const NO_EVENTS: readonly MarketEvent[] = [];

/**
 * Wall time a new connection holds its output for the configured links
 * (`ConnectionConfig.outputs`), ms; past it, what is attached gets it.
 */
export const LINK_WAIT_MS = 10_000;

/** Config of a connection actor. */
export const ConnectionConfig = z.object({
  exchange: z.string(),
  /** Symbols: exchange names (`BTCUSDT`) or selectors (`BTC-USDT`, `BTC-USD-PERP`, `BTC-USD-220527`). */
  symbols: z.array(z.string()).min(1),
  /** The connection group (see `Adapter.connectionGroup`); "" for most venues. */
  group: z.string().default(""),
  /** Replaces the adapter's WebSocket origin (simulator, proxy). */
  wsOrigin: z.string().optional(),
  /** Replaces the adapter's REST origin. */
  restOrigin: z.string().optional(),
  flushMs: z.number().positive().default(20),
  statsMs: z.number().positive().default(1000),
  /**
   * Reconnect after this long without a data frame (heartbeats do not
   * count), ms. Not on the recorded clock: a recording that has ended is
   * silent, and reconnecting would play it again.
   */
  silenceMs: z.number().positive().default(30_000),
  /** A book unsynced for longer marks the connection degraded. */
  syncTimeoutMs: z.number().positive().default(30_000),
  /** Also send every applied event as NDJSON on the `events` output channel. */
  emitEvents: z.boolean().default(false),
  /** Speak the API version in force at this date, ms (a replayed capture's date); default now. */
  apiDate: z.number().optional(),
  /**
   * The event clock: `wall` (receive time = `Date.now()`, live) or
   * `recorded` (the exchange simulator's clock frames, a capture replay).
   */
  clock: z.enum(["wall", "recorded"]).default("wall"),
  /** Every book is pushed in full when the event clock crosses a multiple of this, ms. */
  keyframeMs: z.number().positive().default(60_000),
  /**
   * How the books are sampled for the aggregator: its tick, range, bucket
   * sizes and quote aliases (the topology passes the aggregator's).
   */
  sampling: SamplingConfig.prefault({}),
  /**
   * The actor's id, named by its health events; default
   * `conn:<exchange>[:<group>]`.
   */
  id: z.string().optional(),
  /**
   * The out links the topology will attach (`events`, and `store` when
   * history is kept). Until each is attached, batches and health events
   * wait here, so an actor that becomes ready later (the writer) misses
   * nothing; after {@link LINK_WAIT_MS} they go to the links attached.
   */
  outputs: z.array(z.string()).default(["events"]),
  /**
   * Record the raw traffic (see `recorder.ts`) under `dir`, in files of at
   * most about `maxBytes` (uncompressed) and `maxAgeMs`; absent: nothing is
   * recorded.
   */
  record: z.object({
    dir: z.string().min(1),
    maxBytes: z.number().positive(),
    maxAgeMs: z.number().positive(),
  }).optional(),
});
/** Parsed connection actor config. */
export type ConnectionConfig = z.infer<typeof ConnectionConfig>;

/**
 * One connection: the parts wired together. The worker below runs one;
 * exported so tests can run one against the exchange simulator.
 *
 * @example
 * ```ts
 * const conn = new Connection(ConnectionConfig.parse({ exchange: "binance", symbols: ["BTC-USDT"] }), ctx);
 * conn.attach("events", port); // EventBatch messages; `store` also gets HealthEvent
 * conn.start();
 * conn.stop();
 * ```
 */
export class Connection {
  readonly #cfg: ConnectionConfig;
  readonly #id: string;
  readonly #ad: Adapter;
  readonly #ctx: ActorContext;
  readonly #abort = new AbortController();
  readonly #batch: BatchBuilder;
  readonly #stats: ConnectionStatsTracker;
  readonly #keeper: BookKeeper;
  /** Samples the books at each tick end for the `events` link. */
  readonly #sampler: BookSampler;
  /** Bucket sizes; the aggregator's win (`bucketSize` messages). */
  readonly #sizes: BucketSizes;
  /** The books as the sampler reads them (lazily, when a sample is due). */
  readonly #owned: Iterable<OwnedBook> = {
    [Symbol.iterator]: () => this.#ownedBooks(),
  };
  readonly #snapshots: SnapshotLoops;
  readonly #session: Session;
  /** Recorded clock only: puts frames and REST responses in stream order. */
  readonly #seq: StreamSequencer | null;
  #parser: Parser | null = null;
  /** Writes the raw traffic when `record` is configured. */
  readonly #recorder: Recorder | null;
  /** Out links by name (`events`, `store`). */
  readonly #ports = new Map<string, MessagePort>();
  readonly #createdAt = performance.now();
  #linksComplete = false;
  #events: string[] = [];
  #health: HealthEvent[] = [];
  /** The clock of the last batch sent. */
  #sentClock = 0;
  /** `floor(clock / keyframeMs)` at the last keyframe; -1 before the clock is known. */
  #keyPeriod = -1;
  /** Recorded clock: a session opened; its `connect` waits for its first clock. */
  #connectPending = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  /** Lines of this connection: `exchange` bound. */
  readonly #logBase: Logger;
  /** This worker run's tag in correlation ids, 4 hex digits. */
  readonly #runTag = crypto.randomUUID().slice(0, 4);
  /** Sockets opened so far (0 until the first). */
  #incarnation = 0;
  /** Lines of the current incarnation: `exchange` and `cid` bound. */
  #log: Logger;

  /**
   * @param cfg parsed config.
   * @param ctx the actor context (status, stats, logs, outputs).
   * @throws {Error} from `adapterFor` when the exchange has no adapter.
   */
  constructor(cfg: ConnectionConfig, ctx: ActorContext) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    this.#id = cfg.id ??
      (cfg.group
        ? `conn:${cfg.exchange}:${cfg.group}`
        : `conn:${cfg.exchange}`);
    const ad = this.#ad = adapterFor(cfg.exchange, cfg.apiDate);
    this.#batch = new BatchBuilder(cfg.exchange);
    this.#sizes = new BucketSizes(cfg.sampling);
    this.#sampler = new BookSampler(cfg.exchange, cfg.sampling, this.#sizes);
    this.#seq = cfg.clock === "recorded" ? new StreamSequencer() : null;
    this.#stats = new ConnectionStatsTracker(
      cfg.exchange,
      cfg.syncTimeoutMs,
      Date.now(),
    );
    this.#logBase = recordLogger(ctx.log, { exchange: cfg.exchange });
    this.#log = this.#logBase.child({ cid: this.correlationId });
    const warn = (msg: string, fields?: LogFields) =>
      this.#log.warn(msg, fields);
    const rec = this.#recorder = cfg.record
      ? new Recorder({
        ...cfg.record,
        exchange: cfg.exchange,
        connection: this.#id,
        warn,
      })
      : null;
    this.#session = new Session({
      adapter: ad,
      symbols: cfg.symbols,
      group: cfg.group,
      wsOrigin: cfg.wsOrigin,
      restOrigin: cfg.restOrigin,
      silenceMs: cfg.clock === "recorded" ? Infinity : cfg.silenceMs,
      signal: this.#abort.signal,
      warn,
      clock: cfg.clock,
      onInstruments: (found, missing) => {
        if (missing.length) {
          warn(`${cfg.exchange}: unknown symbols ${missing.join(", ")}`);
        }
        this.#keeper.follow(found, this.#now());
      },
      onState: (state, why) => {
        if (state === "connecting") {
          // A new socket, a new correlation id for its lines.
          this.#incarnation++;
          this.#log = this.#logBase.child({ cid: this.correlationId });
          // Each session gets a fresh parser: channel state dies with the socket.
          this.#parser = ad.parser(
            new Map([...this.#keeper.followed].map(([s, f]) => [s, f.inst])),
          );
        }
        this.#report(this.#stats.setState(state, why));
      },
      onOpen: (_send, url, subscribed) => {
        this.#report(this.#stats.setState("connected", ""));
        this.#log.info(`${cfg.exchange}: socket open`);
        this.#inOrder(() => {
          if (rec) {
            const ts = this.#recordTs();
            rec.write({ kind: "open", url, ts });
            for (const text of subscribed) {
              rec.write({ kind: "sent", url, ts, text });
            }
          }
          if (this.#seq) this.#connectPending = true;
          else this.#healthEvent("connect", "socket open");
        });
      },
      onSent: rec
        ? (url, text) =>
          rec.write({ kind: "sent", url, ts: this.#recordTs(), text })
        : undefined,
      onMetadata: rec
        ? (url, body) =>
          rec.write({ kind: "http", url, ts: this.#recordTs(), body })
        : undefined,
      onFrame: (f, ts, hb) => {
        const parser = this.#parser!;
        // Arrival on this thread's monotonic clock: receive → book applied.
        const t0 = performance.now();
        this.#inOrder(() => this.#onFrame(f, ts, hb, parser, t0));
      },
      onClock: (ts, rest) => {
        const step = () => {
          this.#advance(ts);
          if (!this.#connectPending) return;
          this.#connectPending = false;
          this.#healthEvent("connect", "socket open");
        };
        if (rest === undefined) this.#seq?.run(step);
        else this.#seq?.marker(rest, step);
      },
    });
    this.#keeper = new BookKeeper({
      exchange: cfg.exchange,
      spec: ad.book,
      books: !ad.booklessGroups?.includes(cfg.group),
      batch: this.#batch,
      counters: this.#stats.counters,
      exchangeToReceive: this.#stats.exchangeToReceive,
      hooks: {
        needSnapshot: (f) => void this.#snapshots.request(f),
        send: (frames) => this.#session.send(frames),
        reconnect: () => this.#session.reconnect(),
        warn,
        emit: cfg.emitEvents ? (ev) => this.#emit(ev) : undefined,
        health: (kind, f, detail) =>
          this.#healthEvent(kind, detail, f.inst.exchangeSymbol),
      },
    });
    this.#snapshots = new SnapshotLoops({
      spec: ad.book,
      keeper: this.#keeper,
      counters: this.#stats.counters,
      fetch: (url, take) => this.#fetch(url, take),
      send: (frames) => this.#session.send(frames),
      onResync: (f, why) =>
        this.#healthEvent("resync", why, f.inst.exchangeSymbol),
      warn,
      signal: this.#abort.signal,
    });
  }

  /**
   * The correlation id of the connection's current socket, in its log
   * lines' `cid`: `<actor id>#<run tag>.<n>`, `n` counting the sockets this
   * worker opened (0 before the first), the run tag telling two runs of the
   * actor (restarts) apart.
   * @returns e.g. `conn:binance#9f3c.2`.
   */
  get correlationId(): string {
    return `${this.#id}#${this.#runTag}.${this.#incarnation}`;
  }

  /** Starts the flush and stats timers and the session loop. */
  start(): void {
    this.#timers.push(setInterval(() => this.flush(), this.#cfg.flushMs));
    this.#timers.push(setInterval(() => this.#publish(), this.#cfg.statsMs));
    this.#session.run((why) => this.#inOrder(() => this.#disconnect(why)));
  }

  /** Runs socket work in stream order (recorded clock) or now (wall clock). */
  #inOrder(fn: () => void): void {
    if (this.#seq) this.#seq.run(fn);
    else fn();
  }

  /**
   * The event clock now, ms: on the wall clock it first moves to
   * `Date.now()`; on the recorded clock it is the last recorded time applied
   * (0 before the first).
   */
  #now(): number {
    if (!this.#seq) this.#advance(Date.now());
    return this.#batch.clock;
  }

  /**
   * The time of a record that has none of its own: now on the wall clock;
   * on the recorded clock the last recorded time applied (0 before the
   * first: the recorder gives it the next record's time).
   */
  #recordTs(): number {
    return this.#seq ? this.#batch.clock : Date.now();
  }

  /**
   * Moves the event clock on (never back): samples the books first when it
   * reaches a tick end, and pushes a keyframe when it crosses one.
   */
  #advance(ts: number): void {
    const b = this.#batch;
    this.#sampler.cross(ts, this.#owned);
    b.clock = ts;
    if (b.clock <= 0) return;
    const period = Math.floor(b.clock / this.#cfg.keyframeMs);
    if (this.#keyPeriod < 0) this.#keyPeriod = period;
    else if (period > this.#keyPeriod) {
      this.#keyPeriod = period;
      this.#keeper.keyframe(b.clock);
    }
  }

  /**
   * A REST snapshot, applied (and recorded) at its receive time on the
   * event clock.
   */
  #fetch<T>(
    url: string,
    apply: (body: string, recvTs: number) => T,
  ): Promise<T> {
    const rec = this.#recorder;
    const take = rec
      ? (body: string, ts: number): T => {
        rec.write({ kind: "http", url, ts, body });
        return apply(body, ts);
      }
      : apply;
    const seq = this.#seq;
    if (!seq) {
      return this.#session.get(url).then((body) => take(body, this.#now()));
    }
    return seq.fetch(
      restKey(url),
      () => this.#session.get(url),
      (body) => take(body, this.#batch.clock),
    );
  }

  #onFrame(
    frame: string | Uint8Array,
    recvTs: number,
    hb: boolean,
    parser: Parser,
    arrivedAt: number,
  ): void {
    // Liveness and message rates are wall-clock matters, whatever the clock.
    this.#stats.frame(Date.now(), hb);
    this.#advance(recvTs);
    this.#recorder?.write(
      typeof frame === "string"
        ? { kind: "recv", ts: recvTs, text: frame }
        : { kind: "recv", ts: recvTs, binary: frame },
    );
    const counters = this.#stats.counters;
    const applied = counters.bookUpdates;
    let events: readonly MarketEvent[] = NO_EVENTS;
    try {
      // A book delta the parser's scanner reads is applied without events.
      if (!this.#keeper.scan(parser, frame, recvTs)) {
        events = parser.parse(frame, recvTs);
      }
    } catch (e) {
      this.#parseError(e, recvTs);
      return;
    } finally {
      const out = parser.outbox;
      if (out?.length) {
        this.#session.send(out);
        out.length = 0;
      }
    }
    for (let i = 0; i < events.length; i++) this.#keeper.onEvent(events[i]);
    if (counters.bookUpdates !== applied) {
      this.#stats.receiveToBook.record(performance.now() - arrivedAt);
    }
  }

  /** A frame that did not parse: a resync, the venue's error, or malformed. */
  #parseError(e: unknown, recvTs: number): void {
    const ex = this.#cfg.exchange;
    const counters = this.#stats.counters;
    if (e instanceof ResyncError) {
      counters.gaps++;
      countResync(counters, "reconnect");
      this.#log.warn(`${ex}: resync by reconnect (${e.message})`);
      this.#healthEvent("resync", `by reconnect: ${e.message}`);
      this.#session.reconnect();
    } else if (e instanceof VenueError) {
      this.#stats.venueError({
        message: e.message,
        symbol: e.symbol,
        ts: recvTs,
      });
      this.#log.warn(`${ex}: venue error: ${e.message}`, {
        symbol: e.symbol,
      });
      this.#publish();
    } else {
      // A frame we cannot read is counted and logged; it never stops the actor.
      countMalformed(
        counters,
        e instanceof FrameSyntaxError || e instanceof SyntaxError
          ? "syntax"
          : e instanceof MalformedFrameError
          ? "invalid"
          : "other",
      );
      this.#log.warn(`${ex}: malformed frame (${errorText(e)})`, {
        symbol: e instanceof MalformedFrameError ? e.symbol : undefined,
      });
      // A book update of a known symbol was lost: that book is stale until
      // it is realigned, so it must not stay `synced`.
      const sym = e instanceof MalformedFrameError ? e.symbol : undefined;
      const f = sym === undefined ? undefined : this.#keeper.find(sym);
      if (f && f.sync.state === "synced") {
        this.#keeper.resync(f, "malformed book frame", recvTs);
      }
    }
  }

  #disconnect(why: string): void {
    this.#stats.counters.reconnects++;
    this.#report(this.#stats.setState("disconnected", why));
    this.#connectPending = false;
    const now = this.#now();
    this.#keeper.disconnect(now);
    this.#healthEvent("disconnect", why);
    this.#emit({
      type: "disconnect",
      exchange: this.#cfg.exchange,
      localTs: now,
      reason: why,
    });
  }

  #emit(ev: MarketEvent): void {
    if (this.#cfg.emitEvents) this.#events.push(JSON.stringify(eventJson(ev)));
  }

  /**
   * Queues a health event for the `store` link, stamped with the event
   * clock; none before the clock is known (it would have no event time).
   */
  #healthEvent(kind: HealthKind, detail: string, symbol?: string): void {
    const ts = this.#now();
    if (ts <= 0) return;
    this.#health.push({
      type: "health",
      ts,
      exchange: this.#cfg.exchange,
      connection: this.#id,
      kind,
      ...(symbol === undefined ? {} : { symbol }),
      detail,
    });
  }

  #report(h: HealthStatus): void {
    this.#ctx.status(h.state, h.detail);
  }

  /** The books the sampler reads: every followed book (none when bookless). */
  *#ownedBooks(): Generator<OwnedBook> {
    if (!this.#keeper.keepsBooks) return;
    for (const f of this.#keeper.followed.values()) {
      yield { ref: f.inst, book: f.book };
    }
  }

  /**
   * Attaches an out link, replacing the one of the same name. The `events`
   * link (the aggregator) gets book samples and trades, and its messages
   * are taken: a key's bucket size, a request for a sample now (it reads
   * no book records, so a new one needs no keyframe); other links
   * (`store`) get the batches from now on.
   * @param name the link's name.
   * @param port its port.
   */
  attach(name: string, port: MessagePort): void {
    this.#ports.get(name)?.close();
    this.#ports.set(name, port);
    if (name !== "events") return;
    port.onmessage = (ev) => {
      const m = ev.data as BucketSizeMessage | SampleRequest;
      if (m.type === "bucketSize") this.#sizes.assign(m.key, m.size);
      else if (m.type === "sample") {
        const s = this.#sampler.sample(this.#now(), this.#owned, m.id);
        port.postMessage(s, [s.buf]);
      }
    };
  }

  /**
   * Sends what accumulated: event NDJSON, health events (to `store`), the
   * book samples (to `events`), then the batch to every out link (`events`
   * gets its trades and liquidations only); on the wall clock the clock
   * moves to now first. A batch without records goes out when the clock
   * moved since the last one.
   */
  flush(): void {
    if (this.#events.length) {
      this.#ctx.output("events", this.#events.join("\n") + "\n");
      this.#events = [];
    }
    if (!this.#seq) this.#advance(Date.now());
    if (this.#health.length && !this.#awaitingLinks()) {
      const store = this.#ports.get("store");
      if (store) { for (const h of this.#health) store.postMessage(h); }
      this.#health = [];
    }
    if (this.#awaitingLinks()) return;
    const events = this.#ports.get("events");
    // Samples wait for the links only; with no `events` link none is kept.
    for (const s of this.#sampler.take()) events?.postMessage(s, [s.buf]);
    if (this.#ports.size === 0) return;
    const b = this.#batch;
    if (b.length === 0 && (b.clock <= 0 || b.clock === this.#sentClock)) return;
    const batch = b.take();
    this.#sentClock = batch.clock;
    if (events) {
      const trades = tradesOnly(batch);
      events.postMessage(trades, [trades.buf]);
    }
    const ports = [...this.#ports].filter(([n]) => n !== "events");
    const last = ports.length - 1;
    for (let i = 0; i < last; i++) {
      const copy = { ...batch, buf: batch.buf.slice(0) };
      ports[i][1].postMessage(copy, [copy.buf]);
    }
    if (last >= 0) ports[last][1].postMessage(batch, [batch.buf]);
  }

  /** Whether a configured out link is still missing, within the wait. */
  #awaitingLinks(): boolean {
    if (this.#linksComplete) return false;
    this.#linksComplete =
      this.#cfg.outputs.every((name) => this.#ports.has(name)) ||
      performance.now() - this.#createdAt > LINK_WAIT_MS;
    return !this.#linksComplete;
  }

  /** Publishes stats now (so the supervisor is current) and returns the counters. */
  publish(): ConnectionCounters {
    return this.#publish().counters;
  }

  #publish(): ConnectionStats {
    const books = this.#keeper.health();
    // Books wait on the event clock; the message rate is per wall second.
    const h = this.#stats.health(this.#now(), books);
    if (h) this.#report(h);
    const stats = this.#stats.snapshot(Date.now(), books);
    // A recording connection also counts its recorder's I/O errors and the
    // records it dropped for a stalled disk.
    const published = this.#recorder
      ? {
        ...stats,
        counters: {
          ...stats.counters,
          recordErrors: this.#recorder.errors,
          recordDropped: this.#recorder.dropped,
        },
      }
      : stats;
    this.#ctx.stats(published as unknown as Record<string, unknown>);
    return published;
  }

  /**
   * Every book this connection keeps.
   * @param depth levels per side.
   * @returns one view per followed book (none on a bookless connection).
   */
  books(depth: number): BookView[] {
    const k = this.#keeper;
    return k.keepsBooks
      ? [...k.followed.values()].map((f) => k.view(f, depth))
      : [];
  }

  /**
   * One book's top levels.
   * @param symbol the venue's symbol or the normalized one.
   * @param depth levels per side.
   * @returns the book's view.
   * @throws {RequestError} `not_loaded` before the instrument list is in,
   * `not_followed` for a symbol this connection does not keep a book of.
   */
  book(symbol: string, depth: number): BookView {
    const f = this.#keeper.find(symbol);
    if (f) return this.#keeper.view(f, depth);
    const ex = this.#cfg.exchange;
    if (this.#keeper.followed.size === 0) {
      throw new RequestError<ConnectionErrorCode>(
        "not_loaded",
        `Instruments of ${ex} are not loaded yet (${
          this.#stats.lastError || "connecting"
        })`,
      );
    }
    throw new RequestError<ConnectionErrorCode>(
      "not_followed",
      `Symbol ${symbol} is not followed on ${ex}`,
    );
  }

  /**
   * Stops the session, applies what waits, flushes and publishes stats; a
   * recording connection then completes its last file and publishes again.
   * @returns when the last recording file is written out.
   */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#seq?.close();
    this.flush();
    this.#publish();
    for (const t of this.#timers) clearInterval(t);
    if (!this.#recorder) return;
    await this.#recorder.close();
    this.#publish(); // its final `recordErrors`
  }
}

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let conn: Connection | null = null;
  runActor<ConnectionRequests>({
    init(config, ctx) {
      conn = new Connection(ConnectionConfig.parse(config), ctx);
      conn.start();
    },
    link(name, _peer, role, port) {
      if (role === "out") conn?.attach(name, port);
    },
    requests: {
      book: ({ symbol, depth = 50 }) => conn!.book(symbol, depth),
      books: ({ depth = Infinity }) => conn!.books(depth),
      stats: () => ({ ...conn!.publish() }),
    },
    stop() {
      return conn?.stop();
    },
  });
}
