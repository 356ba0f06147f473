/**
 * The heatmap hub on the main thread: keeps recent consolidated ticks per
 * symbol and fans them out to viewers, summing only the exchanges a viewer
 * selected.
 *
 * @module
 */

import { mergeColumns } from "../market/consolidate.ts";
import {
  type Column,
  type ColumnBatch,
  type ColumnInit,
  decodeColumns,
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
}

/** Receives ticks from the consolidator and serves them to viewers. */
export class HeatmapHub {
  readonly #history: number;
  readonly #ticks = new Map<string, Tick[]>();
  readonly #subs = new Set<{ symbol: string; cb: (t: Tick) => void }>();

  /** @param history ticks kept per symbol. */
  constructor(history: number) {
    this.#history = history;
  }

  /**
   * Takes one consolidated tick.
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
    for (const total of totals) {
      const t: Tick = {
        ts: b.ts,
        parts: bySymbol.get(total.symbol) ?? [],
        total,
      };
      let ring = this.#ticks.get(total.symbol);
      if (!ring) this.#ticks.set(total.symbol, ring = []);
      ring.push(t);
      if (ring.length > this.#history) ring.shift();
      for (const s of this.#subs) if (s.symbol === total.symbol) s.cb(t);
    }
  }

  /** Symbols with data and the exchanges seen for each. */
  symbols(): { symbol: string; exchanges: string[] }[] {
    return [...this.#ticks].map(([symbol, ring]) => {
      const ex = new Set<string>();
      for (const t of ring) for (const p of t.parts) ex.add(p.exchange);
      return { symbol, exchanges: [...ex].sort() };
    }).sort((a, b) => a.symbol.localeCompare(b.symbol));
  }

  /**
   * Streams a symbol's columns: first the kept history, then each new tick.
   * @param symbol consolidation key.
   * @param exchanges exchanges to include; null for all.
   * @param cb receives each payload.
   * @returns a function that ends the subscription.
   */
  subscribe(
    symbol: string,
    exchanges: string[] | null,
    cb: (p: ColumnPayload) => void,
  ): () => void {
    const emit = (t: Tick) => {
      const p = payload(t, exchanges);
      if (p) cb(p);
    };
    for (const t of this.#ticks.get(symbol) ?? []) emit(t);
    const sub = { symbol, cb: emit };
    this.#subs.add(sub);
    return () => this.#subs.delete(sub);
  }
}

function payload(t: Tick, exchanges: string[] | null): ColumnPayload | null {
  let col: ColumnInit = t.total;
  if (exchanges) {
    const parts = t.parts.filter((p) => exchanges.includes(p.exchange));
    if (parts.length === 0) return null;
    if (parts.length !== t.parts.length) col = mergeColumns(parts);
  }
  const num = (v: number) => (v === v ? v : null);
  const round = (a: Float64Array) => Array.from(a, (v) => +v.toPrecision(6));
  const bb = num(col.bestBid);
  const ba = num(col.bestAsk);
  return {
    ts: t.ts,
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
  };
}
