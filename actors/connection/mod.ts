/**
 * Connection actor: one per exchange connection. Fetches instrument metadata,
 * runs the WebSocket session with keepalive, reconnect and backoff, feeds
 * frames to the venue's pure adapter, keeps every followed book exact with
 * the shared sync algorithm (REST or in-stream snapshots, sequence and
 * checksum checks, resync on any failure), and streams applied changes to the
 * aggregator as columnar batches.
 *
 * Requests: `book {symbol, depth}`, `books {depth}`, `stats`.
 *
 * @module
 */

import { z } from "zod";
import { type ActorContext, runActor } from "../../runtime/actor.ts";
import { backoffDelay, sleep } from "../../runtime/backoff.ts";
import { BatchBuilder, Kind } from "../market/batch.ts";
import { OrderBook } from "../market/book.ts";
import { BookSync } from "../market/book_sync.ts";
import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  Levels,
  MarketEvent,
} from "../market/events.ts";
import { type Adapter, type Parser, ResyncError } from "../adapters/adapter.ts";
import { adapterFor } from "../adapters/mod.ts";
import { resolveSymbols } from "../market/symbols.ts";
import { runSocket } from "./socket.ts";

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

/**
 * Counters a connection actor publishes; summed across restarts by the
 * supervisor. `resyncs` counts every resync; its causes are counted in
 * `gaps`, `checksumFailures` and `crossedBooks` (and the log names each).
 */
export interface ConnectionCounters {
  frames: number;
  bookUpdates: number;
  trades: number;
  liquidations: number;
  gaps: number;
  resyncs: number;
  checksumFailures: number;
  /** Books found crossed after an update (each resynced). */
  crossedBooks: number;
  malformed: number;
  reconnects: number;
}

interface Followed {
  inst: Instrument;
  book: OrderBook;
  sync: BookSync;
  fetching: boolean;
  /** When the book last lost sync (or was created), ms; 0 while synced. */
  unsyncedSince: number;
}

/** Replaces the origin of `url` with `origin` when given. */
function rewrite(url: string, origin: string | undefined): string {
  if (!origin) return url;
  const u = new URL(url);
  return origin.replace(/\/$/, "") + u.pathname + u.search;
}

function errorText(e: unknown): string {
  const err = e as Error;
  const cause = (err.cause as Error | undefined)?.message;
  return cause ? `${err.message}: ${cause}` : String(err.message ?? e);
}

class Connection {
  readonly #cfg: ConnectionConfig;
  readonly #ad: Adapter;
  readonly #ctx: ActorContext;
  readonly #abort = new AbortController();
  readonly #batch: BatchBuilder;
  readonly counters: ConnectionCounters = {
    frames: 0,
    bookUpdates: 0,
    trades: 0,
    liquidations: 0,
    gaps: 0,
    resyncs: 0,
    checksumFailures: 0,
    crossedBooks: 0,
    malformed: 0,
    reconnects: 0,
  };
  readonly followed = new Map<string, Followed>();
  /** False on a connection group that carries no books (trades, liquidations only). */
  readonly #books: boolean;
  #parser: Parser | null = null;
  #send: ((frame: string) => void) | null = null;
  #session: AbortController | null = null;
  #port: MessagePort | null = null;
  #events: string[] = [];
  #state: "connecting" | "connected" | "disconnected" = "connecting";
  #lastMessageTs = 0;
  #lastError = "";
  /** Frames and time at the last stats publish, for the message rate. */
  #rateMark = { frames: 0, ts: Date.now() };
  #timers: ReturnType<typeof setInterval>[] = [];

  constructor(cfg: ConnectionConfig, ctx: ActorContext) {
    this.#cfg = cfg;
    this.#ad = adapterFor(cfg.exchange, cfg.apiDate);
    this.#books = !this.#ad.booklessGroups?.includes(cfg.group);
    this.#ctx = ctx;
    this.#batch = new BatchBuilder(cfg.exchange);
  }

  start(): void {
    this.#timers.push(setInterval(() => this.flush(), this.#cfg.flushMs));
    this.#timers.push(setInterval(() => this.#publish(), this.#cfg.statsMs));
    this.#run();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      this.#session = new AbortController();
      const session = AbortSignal.any([signal, this.#session.signal]);
      try {
        if (this.followed.size === 0) await this.#loadInstruments();
        this.#setState("connecting", "");
        const symbols = [...this.followed.keys()];
        const c = this.#ad.connect;
        const endpoint = c ? await this.#get(c.url, c.method) : undefined;
        const url = this.#ad.url(symbols, endpoint, this.#cfg.group);
        this.#parser = this.#ad.parser(
          new Map([...this.followed].map(([s, f]) => [s, f.inst])),
        );
        this.#lastError = await runSocket({
          url: rewrite(url, this.#cfg.wsOrigin),
          subscribe: this.#ad.subscribe(symbols, this.#cfg.group),
          keepalive: this.#ad.keepalive,
          silenceMs: this.#cfg.silenceMs,
          maxAgeMs: this.#ad.maxConnectionAgeMs,
          signal: session,
          onOpen: (send) => {
            attempt = 0;
            this.#send = send;
            this.#setState("connected", "");
          },
          onFrame: (f, ts) => this.#onFrame(f, ts),
        });
      } catch (e) {
        this.#lastError = errorText(e);
      }
      this.#send = null;
      if (signal.aborted) break;
      this.counters.reconnects++;
      this.#disconnect(this.#lastError);
      const delay = backoffDelay(attempt++);
      this.#ctx.log(
        "warn",
        `${this.#cfg.exchange}: ${this.#lastError}; retrying in ${
          Math.round(delay)
        } ms`,
      );
      await sleep(delay, signal);
    }
  }

  async #loadInstruments(): Promise<void> {
    const bodies = await Promise.all(
      this.#ad.metadataUrls.map((u, i) => {
        const body = this.#ad.metadataBodies?.[i];
        return body == null ? this.#get(u) : this.#get(u, "POST", body);
      }),
    );
    const { found, missing } = resolveSymbols(
      this.#cfg.symbols,
      this.#ad.instruments(bodies),
    );
    if (missing.length) {
      this.#ctx.log(
        "warn",
        `${this.#cfg.exchange}: unknown symbols ${missing.join(", ")}`,
      );
    }
    if (!found.length) {
      throw new Error(
        `None of the symbols ${this.#cfg.symbols.join(", ")} is listed`,
      );
    }
    const keepRaw = this.#ad.book.checksum !== undefined;
    for (const inst of found) {
      this.followed.set(inst.exchangeSymbol, {
        inst,
        book: new OrderBook(keepRaw),
        sync: new BookSync(this.#ad.book.sync),
        fetching: false,
        unsyncedSince: this.#books ? Date.now() : 0,
      });
    }
  }

  async #get(url: string, method = "GET", payload?: string): Promise<string> {
    const res = await fetch(rewrite(url, this.#cfg.restOrigin), {
      method,
      body: payload,
      headers: payload === undefined
        ? undefined
        : { "content-type": "application/json" },
      signal: this.#abort.signal,
    });
    const body = await res.text();
    if (!res.ok) {
      throw new Error(
        `${method} ${url}: HTTP ${res.status} ${body.slice(0, 120)}`,
      );
    }
    return body;
  }

  #onFrame(frame: string | Uint8Array, recvTs: number): void {
    this.counters.frames++;
    this.#lastMessageTs = recvTs;
    const parser = this.#parser!;
    let events: MarketEvent[];
    try {
      events = parser.parse(frame, recvTs);
    } catch (e) {
      if (e instanceof ResyncError) {
        this.counters.gaps++;
        this.counters.resyncs++;
        this.#ctx.log(
          "warn",
          `${this.#cfg.exchange}: resync by reconnect (${e.message})`,
        );
        this.#session?.abort();
        return;
      }
      // A frame we cannot read is counted and logged; it never stops the actor.
      this.counters.malformed++;
      this.#ctx.log(
        "warn",
        `${this.#cfg.exchange}: malformed frame (${errorText(e)})`,
      );
      return;
    } finally {
      const out = parser.outbox;
      if (out?.length) {
        for (const f of out) this.#send?.(f);
        out.length = 0;
      }
    }
    for (const ev of events) this.#onEvent(ev);
  }

  #onEvent(ev: MarketEvent): void {
    if (ev.type === "disconnect") return;
    const f = this.followed.get(ev.exchangeSymbol);
    if (
      !f ||
      (!this.#books &&
        (ev.type === "book_snapshot" || ev.type === "book_delta"))
    ) return;
    switch (ev.type) {
      case "book_snapshot": {
        // An in-stream snapshot; under the `rest` rule it aligns with the
        // buffered deltas like a REST one (Gate.io `full` pushes).
        const v = f.sync.snapshot(ev);
        if (v.result === "synced") this.#applySnapshot(f, ev, v.apply);
        else this.#fetchSnapshot(f);
        break;
      }
      case "book_delta": {
        const verdict = f.sync.delta(ev);
        if (verdict === "apply") this.#applyDelta(f, ev);
        else if (verdict === "gap") {
          this.counters.gaps++;
          this.#resync(f, `sequence gap at ${ev.first} (prev ${ev.prev})`);
        } else if (verdict === "buffered") this.#fetchSnapshot(f);
        break;
      }
      case "trade":
      case "liquidation": {
        const liq = ev.type === "liquidation";
        if (liq) this.counters.liquidations++;
        else this.counters.trades++;
        const kind = liq
          ? (ev.side === "buy" ? Kind.LiquidationBuy : Kind.LiquidationSell)
          : (ev.side === "buy" ? Kind.Buy : Kind.Sell);
        this.#batch.push(
          this.#batch.symbol(f.inst),
          kind,
          ev.price,
          ev.size,
          ev.exchangeTs,
        );
        this.#emit(ev);
        break;
      }
    }
  }

  #applyDelta(f: Followed, d: BookDelta): void {
    f.book.apply(d.bids, d.asks, d.raw);
    this.counters.bookUpdates++;
    const s = this.#batch.symbol(f.inst);
    this.#pushLevels(s, Kind.Bid, d.bids, d.exchangeTs);
    this.#pushLevels(s, Kind.Ask, d.asks, d.exchangeTs);
    const depth = this.#ad.book.maxDepth;
    if (
      depth !== undefined &&
      (f.book.bids.length > depth || f.book.asks.length > depth)
    ) {
      // Levels pushed out of the venue's depth get no delete: drop them here
      // and tell the aggregator.
      const dropped: Levels = [];
      if (f.book.bids.truncate(depth, dropped)) {
        this.#pushLevels(s, Kind.Bid, dropped, d.exchangeTs);
        dropped.length = 0;
      }
      if (f.book.asks.truncate(depth, dropped)) {
        this.#pushLevels(s, Kind.Ask, dropped, d.exchangeTs);
      }
    }
    this.#emit(d);
    this.#verify(f, d.checksum);
  }

  /** Checks the venue checksum and an uncrossed book; resyncs on failure. */
  #verify(f: Followed, checksum: number | undefined): void {
    const fn = this.#ad.book.checksum;
    if (checksum !== undefined && fn) {
      const ours = fn(f.book);
      if (ours !== checksum) {
        this.counters.checksumFailures++;
        this.#resync(f, `checksum ${ours} != venue ${checksum}`);
        return;
      }
    }
    if (f.book.crossed()) {
      this.counters.crossedBooks++;
      this.#resync(
        f,
        `crossed book ${f.book.bids.best()} >= ${f.book.asks.best()}`,
      );
    }
  }

  #pushLevels(sym: number, kind: number, levels: Levels, ts: number): void {
    for (let i = 0; i < levels.length; i += 2) {
      this.#batch.push(sym, kind, levels[i], levels[i + 1], ts);
    }
  }

  #resync(f: Followed, why: string): void {
    this.counters.resyncs++;
    this.#ctx.log(
      "warn",
      `${this.#cfg.exchange} ${f.inst.exchangeSymbol}: resync (${why})`,
    );
    f.book.clear();
    f.unsyncedSince ||= Date.now();
    this.#batch.push(this.#batch.symbol(f.inst), Kind.Clear, 0, 0, Date.now());
    f.sync.reset();
    const rule = this.#ad.book.sync.kind;
    if (rule === "rest") this.#fetchSnapshot(f);
    else if (rule === "stream") {
      const frames = this.#ad.book.resubscribe?.(f.inst.exchangeSymbol);
      if (frames && this.#send) { for (const fr of frames) this.#send(fr); }
      else this.#session?.abort(); // no way to ask for one book: reconnect
    }
    // `snapshots`: the next message is a full book.
  }

  /**
   * Gets a snapshot for a buffering book until one aligns: over REST, or by
   * asking over the socket (`requestSnapshot`; the reply arrives as an event).
   */
  async #fetchSnapshot(f: Followed): Promise<void> {
    const { snapshotUrl, parseSnapshot, requestSnapshot } = this.#ad.book;
    if (f.fetching || !(requestSnapshot || (snapshotUrl && parseSnapshot))) {
      return;
    }
    f.fetching = true;
    const signal = this.#abort.signal;
    const sym = f.inst.exchangeSymbol;
    try {
      for (
        let attempt = 0;
        !signal.aborted && f.sync.state === "buffering";
        attempt++
      ) {
        if (requestSnapshot) {
          if (this.#send) {
            for (const fr of requestSnapshot(sym)) this.#send(fr);
          }
          await sleep(
            backoffDelay(attempt, { baseMs: 1000, maxMs: 10_000 }),
            signal,
          );
          continue;
        }
        try {
          const snap = parseSnapshot!(
            await this.#get(snapshotUrl!(sym)),
            Date.now(),
            f.inst,
          );
          const v = f.sync.snapshot(snap);
          if (v.result === "synced") {
            this.#applySnapshot(f, snap, v.apply);
            return;
          }
          this.counters.resyncs++;
          this.#ctx.log(
            "warn",
            `${this.#cfg.exchange} ${sym}: snapshot ${v.result}, refetching`,
          );
        } catch (e) {
          if (signal.aborted) return;
          this.#ctx.log(
            "warn",
            `${this.#cfg.exchange} ${sym}: snapshot failed (${errorText(e)})`,
          );
        }
        await sleep(
          backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 }),
          signal,
        );
      }
    } finally {
      f.fetching = false;
    }
  }

  #applySnapshot(f: Followed, snap: BookSnapshot, pending: BookDelta[]): void {
    f.book.clear();
    f.book.apply(snap.bids, snap.asks, snap.raw);
    f.unsyncedSince = 0;
    this.counters.bookUpdates++;
    this.#emit(snap);
    const s = this.#batch.symbol(f.inst);
    this.#batch.push(s, Kind.Clear, 0, 0, snap.exchangeTs);
    for (const d of pending) {
      f.book.apply(d.bids, d.asks, d.raw);
      this.counters.bookUpdates++;
      this.#emit(d);
    }
    const depth = this.#ad.book.maxDepth;
    if (depth !== undefined) {
      f.book.bids.truncate(depth);
      f.book.asks.truncate(depth);
    }
    this.#pushBook(s, f, snap.exchangeTs);
    this.#verify(
      f,
      pending.length ? pending[pending.length - 1].checksum : snap.checksum,
    );
  }

  /** Sends the whole book as levels (after a snapshot or to a new aggregator). */
  #pushBook(sym: number, f: Followed, ts: number): void {
    const { bids, asks } = f.book;
    for (let i = 0; i < bids.length; i++) {
      this.#batch.push(sym, Kind.Bid, bids.prices[i], bids.sizes[i], ts);
    }
    for (let i = 0; i < asks.length; i++) {
      this.#batch.push(sym, Kind.Ask, asks.prices[i], asks.sizes[i], ts);
    }
  }

  #disconnect(reason: string): void {
    this.#setState("disconnected", reason);
    const now = Date.now();
    for (const f of this.#books ? this.followed.values() : []) {
      f.book.clear();
      f.sync.reset();
      f.unsyncedSince ||= now;
      this.#batch.push(this.#batch.symbol(f.inst), Kind.Clear, 0, 0, now);
    }
    this.#emit({
      type: "disconnect",
      exchange: this.#cfg.exchange,
      localTs: now,
      reason,
    });
  }

  #emit(ev: MarketEvent): void {
    if (!this.#cfg.emitEvents) return;
    this.#events.push(JSON.stringify(eventJson(ev)));
  }

  #setState(
    state: "connecting" | "connected" | "disconnected",
    why: string,
  ): void {
    this.#state = state;
    this.#ctx.status(
      state === "connected" ? "running" : "degraded",
      why ? `${state}: ${why}` : state,
    );
  }

  /** Attaches the aggregator link; a new aggregator gets every book in full. */
  attach(port: MessagePort): void {
    this.#port?.close();
    this.#port = port;
    for (const f of this.#books ? this.followed.values() : []) {
      const s = this.#batch.symbol(f.inst);
      this.#batch.push(s, Kind.Clear, 0, 0, Date.now());
      if (f.sync.state === "synced") this.#pushBook(s, f, Date.now());
    }
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
    this.#publish();
    return { ...this.counters };
  }

  #publish(): void {
    const now = Date.now();
    const books: Record<string, { state: string; lastSequence: number }> = {};
    let stuck = 0;
    for (const [sym, f] of this.#books ? this.followed : []) {
      books[sym] = { state: f.sync.state, lastSequence: f.sync.lastSeq };
      if (f.unsyncedSince && now - f.unsyncedSince > this.#cfg.syncTimeoutMs) {
        stuck++;
      }
    }
    if (this.#state === "connected") {
      if (stuck) {
        this.#ctx.status("degraded", `connected: ${stuck} book(s) cannot sync`);
      } else this.#ctx.status("running", "connected");
    }
    const dt = (now - this.#rateMark.ts) / 1000;
    const messageRate = dt > 0
      ? (this.counters.frames - this.#rateMark.frames) / dt
      : 0;
    this.#rateMark = { frames: this.counters.frames, ts: now };
    this.#ctx.stats({
      exchange: this.#cfg.exchange,
      connection: this.#state,
      messageRate: Math.round(messageRate * 10) / 10,
      lastMessageTs: this.#lastMessageTs,
      lastError: this.#lastError,
      counters: { ...this.counters },
      books,
    });
  }

  /** Exchange symbols whose books this connection keeps. */
  bookSymbols(): string[] {
    return this.#books ? [...this.followed.keys()] : [];
  }

  book(symbol: string, depth: number): unknown {
    const f = this.#books
      ? this.followed.get(symbol) ??
        [...this.followed.values()].find((x) => x.inst.symbol === symbol)
      : undefined;
    if (!f) {
      const why = this.followed.size === 0
        ? ` (instruments not loaded yet: ${this.#lastError || "connecting"})`
        : "";
      throw new Error(
        `Symbol ${symbol} is not followed on ${this.#cfg.exchange}${why}`,
      );
    }
    return {
      exchange: this.#cfg.exchange,
      exchangeSymbol: f.inst.exchangeSymbol,
      symbol: f.inst.symbol,
      market: f.inst.market,
      state: f.sync.state,
      lastSequence: f.sync.lastSeq,
      bids: f.book.bids.top(depth),
      asks: f.book.asks.top(depth),
    };
  }

  stop(): void {
    this.#abort.abort();
    this.flush();
    this.#publish();
    for (const t of this.#timers) clearInterval(t);
  }
}

/** JSON form of an event for NDJSON output: levels as `[price, size, rawSize]`. */
function eventJson(ev: MarketEvent): unknown {
  if (ev.type !== "book_snapshot" && ev.type !== "book_delta") return ev;
  const triples = (l: Levels) => {
    const out: number[][] = [];
    for (let i = 0; i < l.length; i += 2) {
      const raw = ev.inverse
        ? l[i + 1] * l[i] / ev.contractSize
        : l[i + 1] / ev.contractSize;
      out.push([l[i], l[i + 1], raw]);
    }
    return out;
  };
  const { raw: _raw, ...rest } = ev;
  return { ...rest, bids: triples(ev.bids), asks: triples(ev.asks) };
}

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let conn: Connection | null = null;
  runActor({
    init(config, ctx) {
      conn = new Connection(ConnectionConfig.parse(config), ctx);
      conn.start();
    },
    link(_name, _peer, role, port) {
      if (role === "out") conn?.attach(port);
    },
    request(method, params) {
      const p = (params ?? {}) as { symbol?: string; depth?: number };
      if (method === "book") return conn!.book(String(p.symbol), p.depth ?? 50);
      if (method === "stats") return conn!.publish();
      if (method === "books") {
        return conn!.bookSymbols().map((s) =>
          conn!.book(s, p.depth ?? Infinity)
        );
      }
      throw new Error(`Unknown request ${method}`);
    },
    stop() {
      conn?.stop();
    },
  });
}
