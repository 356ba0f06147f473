/**
 * The heatmap hub on the main thread: keeps recent consolidated ticks per
 * symbol and fans them out to viewers, summing only the exchanges a viewer
 * selected.
 *
 * Memory is bounded twice: at most `history` ticks per symbol and at most
 * `historyBytes` over every symbol (oldest ticks first). Each tick keeps a
 * compact copy of its own columns, never a view into the consolidator's
 * batch buffer (a view would keep the whole batch, every symbol's columns,
 * alive for as long as the tick stays; a symbol that ticks rarely or stopped
 * would pin hundreds of them).
 *
 * Viewers read through a {@link ColumnFeed}: a cursor over the symbol's ring,
 * not a queue of their own. Each column is serialized once per exchange
 * selection in use (all-exchanges viewers share one form) as the SSE event
 * bytes, cached on the tick and counted against `historyBytes`; every
 * viewer is handed the same bytes. A viewer that falls behind loses the
 * oldest columns (the ring moved on, or it lags more than `maxLag` once
 * live) and is told how many with the chunk's `skipped`.
 *
 * For `/metrics` the hub counts the columns its feeds skipped, the event
 * bytes it handed them, and the time from a tick's arrival to the hand-over
 * of its column to a live feed (a stream enqueues what it takes at once:
 * the SSE write), on the main thread's monotonic clock.
 *
 * @module
 */

import {
  LatencyHistogram,
  type LatencySnapshot,
} from "../../runtime/latency.ts";
import { mergeColumns } from "../market/consolidate.ts";
import {
  type Column,
  type ColumnBatch,
  type ColumnInit,
  decodeColumns,
  type LiquidationBucket,
} from "../market/heatmap.ts";

/** One tick of one symbol: the per-exchange columns and their merge. */
interface Tick {
  ts: number;
  parts: Column[];
  total: ColumnInit;
}

/**
 * A heatmap column as viewers receive it (JSON). Bucket `i` covers prices
 * `[(lo + i) · bucketSize, (lo + i + 1) · bucketSize)`; sizes in base currency.
 */
export interface ColumnPayload {
  ts: number;
  symbol: string;
  bucketSize: number;
  lo: number;
  bids: number[];
  asks: number[];
  buys: number[];
  sells: number[];
  bestBid: number | null;
  bestAsk: number | null;
  mid: number | null;
  exchanges: string[];
  /**
   * How the column was consolidated: consensus mid, excluded venues (mid,
   * deviation, reason), `crossed` with the two venues; null for a column
   * that was not merged.
   */
  consolidation: ColumnInit["consolidation"] | null;
  /**
   * Liquidations during the tick by bucket (absolute bucket index, like
   * `lo`; longs are forced sells, shorts forced buys, base currency),
   * ascending; empty when there were none.
   */
  liquidations: LiquidationBucket[];
}

/** Bytes counted per column header (meta object, array views). */
const META_BYTES = 256;
/** Bytes counted per cached event besides its own (map entry, view). */
const EVENT_BYTES = 64;
/** Cache key of the all-exchanges form of a column. */
const ALL = "*";
/**
 * Columns per history block: a feed at a block boundary with the block's
 * events serialized already gets the block as one chunk, shared with every
 * feed of its form (the HTTP server's cost is per chunk).
 */
const BLOCK = 16;
/** Columns in each cached block. */
const blockColumns = new WeakMap<Uint8Array, number>();

/** A kept tick with its bookkeeping. */
interface Slot {
  /** Position in its ring's sequence (contiguous per symbol). */
  readonly index: number;
  /** Hub-wide push order: the smallest is the oldest tick kept. */
  readonly order: number;
  readonly tick: Tick;
  /** Bytes of the tick's columns (arrays and headers). */
  readonly size: number;
  /** When the tick arrived, `performance.now()`. */
  readonly arrivedAt: number;
  /** SSE event bytes by selection key; null when the selection has no part. */
  readonly events: Map<string, Uint8Array | null>;
}

/** One symbol's kept ticks and viewers. */
interface Ring {
  readonly symbol: string;
  readonly slots: Slot[];
  /** Index the next pushed tick gets. */
  count: number;
  /** Followers by selection key (the all-exchanges key counts every follower). */
  readonly keys: Map<string, number>;
  /** Wakes followers waiting for the next tick. */
  readonly waiters: Set<() => void>;
  followers: number;
}

/** Options for {@link HeatmapHub}. */
export interface HubOptions {
  /**
   * Bytes kept over every symbol: columns plus their serialized events;
   * the oldest ticks are dropped past it.
   * @default 268435456 (256 MiB)
   */
  historyBytes?: number;
}

/** What the hub holds, for `/healthz` and tests. */
export interface HubStats {
  /** Symbols with at least one kept tick. */
  symbols: number;
  /** Ticks kept over every symbol. */
  ticks: number;
  /** Bytes counted against `historyBytes`. */
  bytes: number;
  /** Feeds open. */
  followers: number;
  /** Columns the feeds skipped (fell behind), cumulative. */
  dropped: number;
  /** SSE event bytes handed to the feeds, cumulative. */
  served: number;
}

/** Options for {@link HeatmapHub.follow}. */
export interface FollowOptions {
  /**
   * Columns a feed may fall behind the newest once it has caught up; past
   * it, the oldest are skipped.
   * @default Infinity
   */
  maxLag?: number;
}

/** Limits of one {@link ColumnFeed.take}. */
export interface TakeOptions {
  /**
   * Most columns in one chunk.
   * @default 64
   */
  maxColumns?: number;
  /**
   * Bytes after which the chunk ends.
   * @default 262144
   */
  maxBytes?: number;
  /**
   * Milliseconds of serializing after which the chunk ends, so the main
   * thread is never held long.
   * @default 4
   */
  budgetMs?: number;
}

/** What one {@link ColumnFeed.take} hands over. */
export interface FeedChunk {
  /** Columns lost since the last chunk (the feed fell behind). */
  skipped: number;
  /**
   * SSE `column` events, one per array, or a block of them in one array;
   * shared with every viewer of the same form: never modify.
   */
  events: Uint8Array[];
  /** Columns in `events`. */
  columns: number;
}

/**
 * A viewer's cursor over one symbol's columns: first the kept history, then
 * each new tick.
 */
export interface ColumnFeed {
  /** The symbol followed. */
  readonly symbol: string;
  /**
   * The columns ready now, in order, as SSE event bytes.
   * @param options chunk limits.
   * @returns the chunk; empty `events` when the feed is caught up.
   */
  take(options?: TakeOptions): FeedChunk;
  /**
   * Waits for the next tick of the symbol.
   * @returns when a tick arrived or the feed was closed.
   */
  wait(): Promise<void>;
  /** Ends the feed; its waiter is woken. Idempotent. */
  close(): void;
}

/**
 * Receives ticks from the consolidator and serves them to viewers.
 *
 * @example
 * ```ts
 * const hub = new HeatmapHub(600, { historyBytes: 256 * 2 ** 20 });
 * hub.push(batch); // from the consolidator
 * const feed = hub.follow("BTC-USDT", null, { maxLag: 60 });
 * for (const bytes of feed.take().events) write(bytes);
 * feed.close();
 * ```
 */
export class HeatmapHub {
  readonly #history: number;
  readonly #maxBytes: number;
  readonly #rings = new Map<string, Ring>();
  #bytes = 0;
  #order = 0;
  #followers = 0;
  #dropped = 0;
  #served = 0;
  readonly #columnToSse = new LatencyHistogram();
  readonly #enc = new TextEncoder();

  /**
   * Makes an empty hub.
   * @param history ticks kept per symbol.
   * @param options the byte cap.
   * @example
   * ```ts
   * const hub = new HeatmapHub(600, { historyBytes: 256 * 2 ** 20 });
   * ```
   */
  constructor(history: number, options: HubOptions = {}) {
    this.#history = history;
    this.#maxBytes = options.historyBytes ?? 256 * 2 ** 20;
  }

  /**
   * Takes one consolidated tick: copies each symbol's columns out of the
   * batch, drops what exceeds the caps and wakes the symbol's feeds.
   * @param b the consolidator's batch.
   */
  push(b: ColumnBatch): void {
    const bySymbol = new Map<string, Column[]>();
    const totals: Column[] = [];
    for (const c of decodeColumns(b)) {
      if (c.exchange === "consolidated") {
        totals.push(c);
        continue;
      }
      const g = bySymbol.get(c.symbol);
      if (g) g.push(c);
      else bySymbol.set(c.symbol, [c]);
    }
    const woken: Ring[] = [];
    const arrivedAt = performance.now();
    for (const total of totals) {
      const { tick, size } = compact(
        b.ts,
        bySymbol.get(total.symbol) ?? [],
        total,
      );
      let ring = this.#rings.get(total.symbol);
      if (!ring) this.#rings.set(total.symbol, ring = newRing(total.symbol));
      ring.slots.push({
        index: ring.count++,
        order: this.#order++,
        tick,
        size,
        arrivedAt,
        events: new Map(),
      });
      this.#bytes += size;
      while (ring.slots.length > this.#history) this.#drop(ring);
      woken.push(ring);
    }
    this.#trim();
    for (const ring of woken) {
      for (const wake of ring.waiters) wake();
      ring.waiters.clear();
    }
  }

  /**
   * Whether the hub has columns of a symbol.
   * @param symbol consolidation key, e.g. `BTC-USDT`.
   * @returns true when at least one tick is kept.
   */
  has(symbol: string): boolean {
    return (this.#rings.get(symbol)?.slots.length ?? 0) > 0;
  }

  /**
   * Symbols with data, the exchanges seen for each and how many columns are
   * kept.
   * @returns sorted by symbol.
   */
  symbols(): { symbol: string; exchanges: string[]; columns: number }[] {
    const out: { symbol: string; exchanges: string[]; columns: number }[] = [];
    for (const [symbol, ring] of this.#rings) {
      if (ring.slots.length === 0) continue;
      const ex = new Set<string>();
      for (const s of ring.slots) {
        for (const p of s.tick.parts) ex.add(p.exchange);
      }
      out.push({
        symbol,
        exchanges: [...ex].sort(),
        columns: ring.slots.length,
      });
    }
    return out.sort((a, b) => a.symbol.localeCompare(b.symbol));
  }

  /**
   * The per-exchange columns of one kept tick of a symbol: the newest tick
   * at or before `ts` (a viewer hovering a column asks for its `ts`).
   * @param symbol consolidation key, e.g. `BTC-USDT`.
   * @param ts event time, ms since epoch.
   * @returns the tick's time and one payload per exchange (in merge order,
   *   `consolidation` null), or null when no kept tick is at or before `ts`.
   * @example The exchanges' columns of the newest tick
   * ```ts
   * const at = hub.columnsAt("BTC-USDT", Date.now());
   * at?.columns.map((c) => c.exchanges[0]); // ["binance", "okx"]
   * ```
   */
  columnsAt(
    symbol: string,
    ts: number,
  ): { ts: number; columns: ColumnPayload[] } | null {
    const slots = this.#rings.get(symbol)?.slots;
    if (!slots || slots.length === 0 || !(slots[0].tick.ts <= ts)) return null;
    // Ticks are kept in time order: the last one at or before `ts`.
    let lo = 0, hi = slots.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (slots[mid].tick.ts <= ts) lo = mid;
      else hi = mid - 1;
    }
    const tick = slots[lo].tick;
    return {
      ts: tick.ts,
      columns: tick.parts.map((p) => toPayload(tick.ts, p)),
    };
  }

  /**
   * What the hub holds now; cheap enough for every `/healthz`.
   * @returns counts and bytes.
   */
  stats(): HubStats {
    let symbols = 0;
    let ticks = 0;
    for (const ring of this.#rings.values()) {
      if (ring.slots.length) symbols++;
      ticks += ring.slots.length;
    }
    return {
      symbols,
      ticks,
      bytes: this.#bytes,
      followers: this.#followers,
      dropped: this.#dropped,
      served: this.#served,
    };
  }

  /**
   * Column → SSE write latency: from a tick's arrival to its column handed
   * to a feed that had caught up (history a viewer catches up on is not a
   * latency), ms.
   * @returns the cumulative histogram.
   */
  latency(): LatencySnapshot {
    return this.#columnToSse.snapshot();
  }

  /**
   * Bytes of the distinct ArrayBuffers the kept ticks hold: what they keep
   * alive, as opposed to what they count. Walks every tick; for tests and
   * diagnostics.
   * @returns bytes.
   */
  retainedBytes(): number {
    const buffers = new Set<ArrayBufferLike>();
    for (const ring of this.#rings.values()) {
      for (const s of ring.slots) {
        for (const p of s.tick.parts) buffers.add(p.bids.buffer);
        buffers.add(s.tick.total.bids.buffer);
        for (const e of s.events.values()) if (e) buffers.add(e.buffer);
      }
    }
    let n = 0;
    for (const b of buffers) n += b.byteLength;
    return n;
  }

  /**
   * Follows a symbol's columns: the kept history first, then each new
   * tick. A symbol with no data yet is followed from its first tick.
   * @param symbol consolidation key.
   * @param exchanges exchanges to include; null for all.
   * @param options lag cap.
   * @returns the feed; close it when the viewer leaves.
   * @example
   * ```ts
   * const feed = hub.follow("BTC-USDT", null, { maxLag: 60 });
   * const { skipped, events } = feed.take();
   * ```
   */
  follow(
    symbol: string,
    exchanges: readonly string[] | null,
    options: FollowOptions = {},
  ): ColumnFeed {
    let ring = this.#rings.get(symbol);
    if (!ring) this.#rings.set(symbol, ring = newRing(symbol));
    const r = ring;
    const sel = exchanges ? [...new Set(exchanges)].sort() : null;
    const own = sel ? sel.join(",") : ALL;
    const keys = own === ALL ? [ALL, `#${ALL}`] : [ALL, own, `#${own}`];
    for (const k of keys) r.keys.set(k, (r.keys.get(k) ?? 0) + 1);
    r.followers++;
    this.#followers++;
    const maxLag = options.maxLag ?? Infinity;
    let next = r.slots[0]?.index ?? r.count;
    let live = false;
    let closed = false;
    let waiting: Promise<void> | null = null;
    let wake: (() => void) | null = null;
    return {
      symbol,
      take: (opt: TakeOptions = {}): FeedChunk => {
        const events: Uint8Array[] = [];
        let skipped = 0;
        let columns = 0;
        if (closed) return { skipped, events, columns };
        const maxColumns = opt.maxColumns ?? 64;
        const maxBytes = opt.maxBytes ?? 262_144;
        const deadline = performance.now() + (opt.budgetMs ?? 4);
        let bytes = 0;
        while (columns < maxColumns && bytes < maxBytes) {
          const first = r.slots[0]?.index ?? r.count;
          if (next < first) {
            skipped += first - next;
            next = first;
          }
          if (live && r.count - next > maxLag) {
            skipped += r.count - maxLag - next;
            next = r.count - maxLag;
          }
          if (next >= r.count) {
            live = true;
            break;
          }
          if (
            columns === 0 && next % BLOCK === 0 && next + BLOCK <= r.count
          ) {
            const block = this.#block(r, next - first, sel, own);
            if (block !== undefined) {
              next += BLOCK;
              if (block) {
                events.push(block);
                columns += blockColumns.get(block) ?? 0;
              }
              break;
            }
          }
          const slot = r.slots[next - first];
          next++;
          const e = this.#event(r, slot, sel, own);
          if (e) {
            events.push(e);
            columns++;
            bytes += e.byteLength;
            if (live) {
              this.#columnToSse.record(performance.now() - slot.arrivedAt);
            }
          }
          if (performance.now() > deadline) break;
        }
        this.#dropped += skipped;
        for (const e of events) this.#served += e.byteLength;
        return { skipped, events, columns };
      },
      wait: (): Promise<void> => {
        if (closed || next < r.count) return Promise.resolve();
        // One waiter per feed however often it is asked (a ping timer may
        // win the race many times before a tick comes).
        return waiting ??= new Promise<void>((resolve) => {
          wake = () => {
            r.waiters.delete(wake!);
            wake = null;
            waiting = null;
            resolve();
          };
          r.waiters.add(wake);
        });
      },
      close: () => {
        if (closed) return;
        closed = true;
        wake?.();
        r.followers--;
        this.#followers--;
        for (const k of keys) {
          const n = (r.keys.get(k) ?? 1) - 1;
          if (n > 0) {
            r.keys.set(k, n);
            continue;
          }
          r.keys.delete(k);
          // Nobody reads this form any more: free it on every kept tick.
          for (const s of r.slots) {
            const e = s.events.get(k);
            if (e === undefined) continue;
            s.events.delete(k);
            this.#bytes -= EVENT_BYTES + (e?.byteLength ?? 0);
          }
        }
        if (r.followers === 0 && r.slots.length === 0) {
          this.#rings.delete(symbol);
        }
      },
    };
  }

  /** The SSE event of a slot for a selection, serialized once and cached. */
  #event(
    r: Ring,
    s: Slot,
    sel: string[] | null,
    own: string,
  ): Uint8Array | null {
    const key = this.#key(s, sel, own);
    let e = s.events.get(key);
    if (e !== undefined) return e;
    const p = payload(s.tick, key === ALL ? null : sel);
    e = p
      ? this.#enc.encode(`event: column\ndata: ${JSON.stringify(p)}\n\n`)
      : null;
    s.events.set(key, e);
    this.#bytes += EVENT_BYTES + (e?.byteLength ?? 0);
    // The slot may be the one dropped; the caller holds the bytes already.
    if (r.slots.length) this.#trim();
    return e;
  }

  /**
   * The block of `BLOCK` columns from slot `at` for a selection, joined once
   * and cached on its first slot; undefined while any of its events is not
   * serialized yet (the feed then sends them one by one, serializing them),
   * null when the selection has no part in any of them.
   */
  #block(
    r: Ring,
    at: number,
    sel: string[] | null,
    own: string,
  ): Uint8Array | null | undefined {
    const first = r.slots[at];
    const key = `#${own}`;
    const cached = first.events.get(key);
    if (cached !== undefined) return cached;
    const parts: Uint8Array[] = [];
    let n = 0;
    for (let i = at; i < at + BLOCK; i++) {
      const s = r.slots[i];
      const e = s.events.get(this.#key(s, sel, own));
      if (e === undefined) return undefined;
      if (e) {
        parts.push(e);
        n += e.byteLength;
      }
    }
    let block: Uint8Array | null = null;
    if (parts.length) {
      block = new Uint8Array(n);
      let off = 0;
      for (const e of parts) {
        block.set(e, off);
        off += e.byteLength;
      }
      blockColumns.set(block, parts.length);
    }
    first.events.set(key, block);
    this.#bytes += EVENT_BYTES + n;
    this.#trim();
    return block;
  }

  /** The cache key of a slot's event for a selection. */
  #key(s: Slot, sel: string[] | null, own: string): string {
    // A selection that covers every part of this tick is the shared form.
    return sel && !s.tick.parts.every((p) => sel.includes(p.exchange))
      ? own
      : ALL;
  }

  /** Drops the oldest ticks (over every symbol) while over the byte cap. */
  #trim(): void {
    while (this.#bytes > this.#maxBytes) {
      let oldest: Ring | null = null;
      for (const ring of this.#rings.values()) {
        const o = ring.slots[0]?.order;
        if (o !== undefined && (!oldest || o < oldest.slots[0].order)) {
          oldest = ring;
        }
      }
      if (!oldest) return;
      this.#drop(oldest);
      if (oldest.slots.length === 0 && oldest.followers === 0) {
        this.#rings.delete(oldest.symbol);
      }
    }
  }

  /** Drops a ring's oldest tick and its bytes. */
  #drop(ring: Ring): void {
    const s = ring.slots.shift();
    if (!s) return;
    this.#bytes -= s.size;
    for (const e of s.events.values()) {
      this.#bytes -= EVENT_BYTES + (e?.byteLength ?? 0);
    }
  }
}

function newRing(symbol: string): Ring {
  return {
    symbol,
    slots: [],
    count: 0,
    keys: new Map(),
    waiters: new Set(),
    followers: 0,
  };
}

/**
 * Copies a tick's columns into one buffer of its own. A consolidated column
 * equal to its only part shares the part's arrays.
 */
function compact(
  ts: number,
  parts: readonly Column[],
  total: Column,
): { tick: Tick; size: number } {
  const one = parts.length === 1 && sameArrays(parts[0], total)
    ? parts[0]
    : null;
  let floats = one ? 0 : 4 * total.n;
  for (const p of parts) floats += 4 * p.n;
  const buf = new Float64Array(floats);
  let off = 0;
  const place = (c: Column): Column => {
    const at = off;
    buf.set(c.bids, at);
    buf.set(c.asks, at + c.n);
    buf.set(c.buys, at + 2 * c.n);
    buf.set(c.sells, at + 3 * c.n);
    off += 4 * c.n;
    return {
      ...c,
      offset: at,
      bids: buf.subarray(at, at + c.n),
      asks: buf.subarray(at + c.n, at + 2 * c.n),
      buys: buf.subarray(at + 2 * c.n, at + 3 * c.n),
      sells: buf.subarray(at + 3 * c.n, at + 4 * c.n),
    };
  };
  const kept = parts.map(place);
  let t: ColumnInit;
  if (one) {
    const { offset: _o, bids: _b, asks: _a, buys: _u, sells: _s, ...meta } =
      total;
    const [k] = kept;
    t = { ...meta, bids: k.bids, asks: k.asks, buys: k.buys, sells: k.sells };
  } else {
    const { offset: _o, ...rest } = place(total);
    t = rest;
  }
  return {
    tick: { ts, parts: kept, total: t },
    size: buf.byteLength + META_BYTES * (parts.length + 1),
  };
}

/** Whether two columns have the same range and the same numbers. */
function sameArrays(a: Column, b: Column): boolean {
  if (a.lo !== b.lo || a.n !== b.n) return false;
  for (let i = 0; i < a.n; i++) {
    if (
      a.bids[i] !== b.bids[i] || a.asks[i] !== b.asks[i] ||
      a.buys[i] !== b.buys[i] || a.sells[i] !== b.sells[i]
    ) return false;
  }
  return true;
}

function payload(t: Tick, exchanges: string[] | null): ColumnPayload | null {
  let col: ColumnInit = t.total;
  if (exchanges) {
    const parts = t.parts.filter((p) => exchanges.includes(p.exchange));
    if (parts.length === 0) return null;
    if (parts.length !== t.parts.length) {
      col = mergeColumns(parts, t.total.consolidation);
    }
  }
  return toPayload(t.ts, col);
}

/** A column as viewers receive it, sizes rounded to 6 significant digits. */
function toPayload(ts: number, col: ColumnInit): ColumnPayload {
  const num = (v: number) => (v === v ? v : null);
  const round = (a: Float64Array) => Array.from(a, (v) => +v.toPrecision(6));
  const bb = num(col.bestBid);
  const ba = num(col.bestAsk);
  return {
    ts,
    symbol: col.symbol,
    bucketSize: col.bucketSize,
    lo: col.lo,
    bids: round(col.bids),
    asks: round(col.asks),
    buys: round(col.buys),
    sells: round(col.sells),
    bestBid: bb,
    bestAsk: ba,
    mid: bb !== null && ba !== null ? (bb + ba) / 2 : bb ?? ba,
    exchanges: col.parts ?? [col.exchange],
    consolidation: col.consolidation ?? null,
    liquidations: (col.liquidations ?? []).map((l) => ({
      bucket: l.bucket,
      longs: +l.longs.toPrecision(6),
      shorts: +l.shorts.toPrecision(6),
    })),
  };
}
