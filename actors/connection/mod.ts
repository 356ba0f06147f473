/**
 * Connection actor: one per exchange connection. It composes the session
 * loop (`session.ts`: instruments, WebSocket, reconnect with backoff), the
 * venue's pure adapter (frames in, normalized events out), the book keeper
 * (`book_keeper.ts`: sync, verify, truncate, resync), the snapshot loop
 * (`snapshots.ts`) and the stats (`stats.ts`), and streams applied changes
 * to the aggregator as columnar batches.
 *
 * Requests: `book {symbol, depth}`, `books {depth}`, `stats`.
 *
 * @module
 */

import { z } from "zod";
import { type ActorContext, runActor } from "../../runtime/actor.ts";
import { RequestError } from "../../runtime/protocol.ts";
import {
  type Adapter,
  MalformedFrameError,
  type Parser,
  ResyncError,
  VenueError,
} from "../adapters/adapter.ts";
import { adapterFor } from "../adapters/mod.ts";
import { BatchBuilder } from "../market/batch.ts";
import { eventJson, type MarketEvent } from "../market/events.ts";
import type {
  BookView,
  ConnectionErrorCode,
  ConnectionRequests,
} from "../market/requests.ts";
import { BookKeeper } from "./book_keeper.ts";
import { errorText } from "./rest.ts";
import { Session } from "./session.ts";
import { SnapshotLoops } from "./snapshots.ts";
import {
  type ConnectionCounters,
  type ConnectionStats,
  ConnectionStatsTracker,
  type HealthStatus,
} from "./stats.ts";

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
  /** Reconnect after this long without a data frame (heartbeats do not count), ms. */
  silenceMs: z.number().positive().default(30_000),
  /** A book unsynced for longer marks the connection degraded. */
  syncTimeoutMs: z.number().positive().default(30_000),
  /** Also send every applied event as NDJSON on the `events` output channel. */
  emitEvents: z.boolean().default(false),
  /** Speak the API version in force at this date, ms (a replayed capture's date); default now. */
  apiDate: z.number().optional(),
});
/** Parsed connection actor config. */
export type ConnectionConfig = z.infer<typeof ConnectionConfig>;

/** One connection: the parts wired together. */
class Connection {
  readonly #cfg: ConnectionConfig;
  readonly #ad: Adapter;
  readonly #ctx: ActorContext;
  readonly #abort = new AbortController();
  readonly #batch: BatchBuilder;
  readonly #stats: ConnectionStatsTracker;
  readonly #keeper: BookKeeper;
  readonly #snapshots: SnapshotLoops;
  readonly #session: Session;
  #parser: Parser | null = null;
  #port: MessagePort | null = null;
  #events: string[] = [];
  #timers: ReturnType<typeof setInterval>[] = [];

  constructor(cfg: ConnectionConfig, ctx: ActorContext) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    const ad = this.#ad = adapterFor(cfg.exchange, cfg.apiDate);
    this.#batch = new BatchBuilder(cfg.exchange);
    this.#stats = new ConnectionStatsTracker(
      cfg.exchange,
      cfg.syncTimeoutMs,
      Date.now(),
    );
    const warn = (msg: string) => ctx.log("warn", msg);
    this.#session = new Session({
      adapter: ad,
      symbols: cfg.symbols,
      group: cfg.group,
      wsOrigin: cfg.wsOrigin,
      restOrigin: cfg.restOrigin,
      silenceMs: cfg.silenceMs,
      signal: this.#abort.signal,
      warn,
      onInstruments: (found, missing) => {
        if (missing.length) {
          warn(`${cfg.exchange}: unknown symbols ${missing.join(", ")}`);
        }
        this.#keeper.follow(found, Date.now());
      },
      onState: (state, why) => {
        if (state === "connecting") {
          // Each session gets a fresh parser: channel state dies with the socket.
          this.#parser = ad.parser(
            new Map([...this.#keeper.followed].map(([s, f]) => [s, f.inst])),
          );
        }
        this.#report(this.#stats.setState(state, why));
      },
      onOpen: () => this.#report(this.#stats.setState("connected", "")),
      onFrame: (f, ts, hb) => this.#onFrame(f, ts, hb),
    });
    this.#keeper = new BookKeeper({
      exchange: cfg.exchange,
      spec: ad.book,
      books: !ad.booklessGroups?.includes(cfg.group),
      batch: this.#batch,
      counters: this.#stats.counters,
      hooks: {
        needSnapshot: (f) => void this.#snapshots.request(f),
        send: (frames) => this.#session.send(frames),
        reconnect: () => this.#session.reconnect(),
        warn,
        emit: cfg.emitEvents ? (ev) => this.#emit(ev) : undefined,
      },
    });
    this.#snapshots = new SnapshotLoops({
      spec: ad.book,
      keeper: this.#keeper,
      counters: this.#stats.counters,
      get: (url) => this.#session.get(url),
      send: (frames) => this.#session.send(frames),
      now: Date.now,
      warn,
      signal: this.#abort.signal,
    });
  }

  start(): void {
    this.#timers.push(setInterval(() => this.flush(), this.#cfg.flushMs));
    this.#timers.push(setInterval(() => this.#publish(), this.#cfg.statsMs));
    this.#session.run((why) => this.#disconnect(why));
  }

  #onFrame(frame: string | Uint8Array, recvTs: number, hb: boolean): void {
    this.#stats.frame(recvTs, hb);
    const parser = this.#parser!;
    let events: MarketEvent[];
    try {
      events = parser.parse(frame, recvTs);
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
  }

  /** A frame that did not parse: a resync, the venue's error, or malformed. */
  #parseError(e: unknown, recvTs: number): void {
    const ex = this.#cfg.exchange;
    const counters = this.#stats.counters;
    if (e instanceof ResyncError) {
      counters.gaps++;
      counters.resyncs++;
      this.#ctx.log("warn", `${ex}: resync by reconnect (${e.message})`);
      this.#session.reconnect();
    } else if (e instanceof VenueError) {
      this.#stats.venueError({
        message: e.message,
        symbol: e.symbol,
        ts: recvTs,
      });
      this.#ctx.log("warn", `${ex}: venue error: ${e.message}`);
      this.#publish();
    } else {
      // A frame we cannot read is counted and logged; it never stops the actor.
      counters.malformed++;
      this.#ctx.log("warn", `${ex}: malformed frame (${errorText(e)})`);
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
    const now = Date.now();
    this.#keeper.disconnect(now);
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

  #report(h: HealthStatus): void {
    this.#ctx.status(h.state, h.detail);
  }

  /** Attaches the aggregator link; a new aggregator gets every book in full. */
  attach(port: MessagePort): void {
    this.#port?.close();
    this.#port = port;
    this.#keeper.resend(Date.now());
  }

  flush(): void {
    if (this.#events.length) {
      this.#ctx.output("events", this.#events.join("\n") + "\n");
      this.#events = [];
    }
    if (!this.#port || this.#batch.length === 0) return;
    const b = this.#batch.take();
    this.#port.postMessage(b, [b.buf]);
  }

  /** Publishes stats now (so the supervisor is current) and returns the counters. */
  publish(): ConnectionCounters {
    return this.#publish().counters;
  }

  #publish(): ConnectionStats {
    const now = Date.now();
    const books = this.#keeper.health();
    const h = this.#stats.health(now, books);
    if (h) this.#report(h);
    const stats = this.#stats.snapshot(now, books);
    this.#ctx.stats(stats as unknown as Record<string, unknown>);
    return stats;
  }

  /** Every book this connection keeps. */
  books(depth: number): BookView[] {
    const k = this.#keeper;
    return k.keepsBooks
      ? [...k.followed.values()].map((f) => k.view(f, depth))
      : [];
  }

  /**
   * One book's top levels.
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

  stop(): void {
    this.#abort.abort();
    this.flush();
    this.#publish();
    for (const t of this.#timers) clearInterval(t);
  }
}

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let conn: Connection | null = null;
  runActor<ConnectionRequests>({
    init(config, ctx) {
      conn = new Connection(ConnectionConfig.parse(config), ctx);
      conn.start();
    },
    link(_name, _peer, role, port) {
      if (role === "out") conn?.attach(port);
    },
    requests: {
      book: ({ symbol, depth = 50 }) => conn!.book(symbol, depth),
      books: ({ depth = Infinity }) => conn!.books(depth),
      stats: () => ({ ...conn!.publish() }),
    },
    stop() {
      conn?.stop();
    },
  });
}
