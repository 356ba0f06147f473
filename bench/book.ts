/**
 * `deno run -A bench/book.ts [frames]`: the L2 book alone (`OrderBook.apply`)
 * on a realistic level-change stream, one core.
 *
 * The stream (seeded, so every run applies the same changes): a book of
 * 1,000 or 5,000 levels a side on a 0.01 tick grid whose mid random-walks;
 * about 45 changes a frame, about 22% of them deletions. Most changes land
 * near the top (offsets from the best drawn from an exponential with a mean
 * of 20 ticks); when the mid moves, the levels it trades through are deleted
 * from the top of one side and new levels open at the top of the other.
 * Frames are flat `[price, size, …]` arrays per side, as the adapters hand
 * them to the book keeper, each side listed best first as the venues send
 * it (one line also shuffles them); with `raw`, the venue's strings come
 * along too (checksum venues: OKX, Kraken, Bitfinex).
 *
 * Prints, per book depth and layout (the price ladder every side without
 * venue strings uses, and the sorted arrays the others keep), nanoseconds
 * per level change and changes per second (best of five passes).
 *
 * @module
 */

import { OrderBook } from "../actors/market/book.ts";
import type { Levels } from "../actors/market/events.ts";

const CMD = "deno run -A bench/book.ts";
const FRAMES = Number(Deno.args[0] ?? 20_000);
const PASSES = 5;

/** Deterministic PRNG (an LCG) so every run measures the same stream. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

/** One frame: flat levels per side and, for checksum venues, their strings. */
interface Frame {
  bids: Levels;
  asks: Levels;
  raw: { bids: string[]; asks: string[] };
}

/** A generated stream: the initial image, the frames and what they hold. */
interface Stream {
  snapshot: Frame;
  frames: Frame[];
  changes: number;
  deletes: number;
  tradeThrough: number;
}

/**
 * Generates the stream on integer ticks (price = tick / 100), keeping the
 * set of live levels so that deletions hit existing levels.
 * @param depth levels per side at the start.
 * @param n frames.
 */
function makeStream(depth: number, n: number): Stream {
  const r = rng(depth);
  const bids = new Set<number>();
  const asks = new Set<number>();
  let bestBid = 6_000_000; // 60,000.00
  let bestAsk = bestBid + 1;
  const price = (t: number) => t / 100;
  const size = () => Math.round(r() * 5e8) / 1e8 + 1e-8;
  // The frame being built, one change per price (the last one wins).
  const pending = [new Map<number, number>(), new Map<number, number>()];
  const put = (bid: boolean, t: number, s: number) => {
    pending[bid ? 0 : 1].set(t, s);
    const set = bid ? bids : asks;
    if (s === 0) set.delete(t);
    else set.add(t);
  };
  // Each side best first, as the venues list them (Binance, OKX, …).
  const flush = (): Frame => {
    const f: Frame = { bids: [], asks: [], raw: { bids: [], asks: [] } };
    for (const bid of [true, false]) {
      const m = pending[bid ? 0 : 1];
      const ticks = [...m.keys()].sort((a, b) => bid ? b - a : a - b);
      for (const t of ticks) {
        const p = price(t);
        const sz = m.get(t)!;
        (bid ? f.bids : f.asks).push(p, sz);
        (bid ? f.raw.bids : f.raw.asks).push(p.toFixed(2), sz.toFixed(8));
      }
      m.clear();
    }
    return f;
  };
  for (let i = 0; i < depth; i++) {
    put(true, bestBid - i, size());
    put(false, bestAsk + i, size());
  }
  const snapshot = flush();
  const frames: Frame[] = [];
  let changes = 0;
  let deletes = 0;
  let tradeThrough = 0;
  for (let k = 0; k < n; k++) {
    // The mid walks: a move of 1–3 ticks trades through the top of one side.
    if (r() < 0.3) {
      const d = 1 + Math.floor(r() * 3);
      const up = r() < 0.5;
      const gone = up ? asks : bids;
      const from = up ? bestAsk : bestBid;
      for (let i = 0; i < d; i++) {
        const t = up ? from + i : from - i;
        if (gone.has(t)) {
          put(!up, t, 0);
          tradeThrough++;
        }
      }
      if (up) {
        bestAsk += d;
        for (let t = bestBid + 1; t < bestAsk && t <= bestBid + d; t++) {
          put(true, t, size());
        }
        bestBid = Math.min(bestBid + d, bestAsk - 1);
      } else {
        bestBid -= d;
        for (let t = bestAsk - 1; t > bestBid && t >= bestAsk - d; t--) {
          put(false, t, size());
        }
        bestAsk = Math.max(bestAsk - d, bestBid + 1);
      }
    }
    const m = 50 + Math.floor(r() * 25); // 50–74 draws, about 45 distinct prices
    for (let j = 0; j < m; j++) {
      const bid = r() < 0.5;
      const set = bid ? bids : asks;
      const off = Math.floor(-Math.log(1 - r()) * 20);
      let t = bid ? bestBid - off : bestAsk + off;
      if (r() < 0.27) {
        // A delete: the nearest live level at or beyond the offset.
        for (let i = 0; i < 50 && !set.has(t); i++) t += bid ? -1 : 1;
        if (!set.has(t) || t === (bid ? bestBid : bestAsk)) continue;
        put(bid, t, 0);
      } else {
        // Some updates open a level in a hole left by earlier deletes, so
        // the depth holds steady.
        if (r() < 0.3) {
          for (let i = 0; i < 50 && set.has(t); i++) t += bid ? -1 : 1;
        }
        put(bid, t, size());
      }
    }
    const f = flush();
    frames.push(f);
    changes += (f.bids.length + f.asks.length) / 2;
    for (let i = 1; i < f.bids.length; i += 2) if (f.bids[i] === 0) deletes++;
    for (let i = 1; i < f.asks.length; i += 2) if (f.asks[i] === 0) deletes++;
  }
  return { snapshot, frames, changes, deletes, tradeThrough };
}

/**
 * Applies the stream to a fresh book `PASSES` times.
 * @returns the best pass, ms, and the final book's levels per side.
 */
function run(
  s: Stream,
  raw: boolean,
  ladder: boolean,
): { ms: number; levels: string } {
  let best = Infinity;
  let levels = "";
  for (let p = 0; p < PASSES; p++) {
    const book = new OrderBook(raw, ladder);
    book.apply(
      s.snapshot.bids,
      s.snapshot.asks,
      raw ? s.snapshot.raw : undefined,
    );
    const frames = s.frames;
    const t0 = performance.now();
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      book.apply(f.bids, f.asks, raw ? f.raw : undefined);
    }
    best = Math.min(best, performance.now() - t0);
    if (book.crossed()) throw new Error("The stream crossed the book");
    levels = `${book.bids.length}/${book.asks.length}`;
  }
  return { ms: best, levels };
}

/**
 * The same stream with each frame's levels in a seeded random order, as a
 * venue that does not sort its frames would send them.
 */
function shuffled(s: Stream): Stream {
  const r = rng(7);
  const mix = (l: Levels, raw: string[]) => {
    for (let i = l.length / 2 - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      for (const a of [l, raw] as (number | string)[][]) {
        [a[2 * i], a[2 * j]] = [a[2 * j], a[2 * i]];
        [a[2 * i + 1], a[2 * j + 1]] = [a[2 * j + 1], a[2 * i + 1]];
      }
    }
  };
  const frames = s.frames.map((f) => {
    const g: Frame = {
      bids: [...f.bids],
      asks: [...f.asks],
      raw: { bids: [...f.raw.bids], asks: [...f.raw.asks] },
    };
    mix(g.bids, g.raw.bids);
    mix(g.asks, g.raw.asks);
    return g;
  });
  return { ...s, frames };
}

if (import.meta.main) {
  console.log(
    `${CMD} ${FRAMES}  (OrderBook.apply only, ${FRAMES} frames, best of ${PASSES}, one core)`,
  );
  // [depth, raw strings, frames unsorted, price ladder]
  const cases = [
    [1000, false, false, true],
    [1000, false, false, false],
    [5000, false, false, true],
    [5000, false, false, false],
    [1000, true, false, false],
    [1000, false, true, true],
    [1000, false, true, false],
  ] as const;
  for (const [depth, raw, mixed, ladder] of cases) {
    const sorted = makeStream(depth, FRAMES);
    const s = mixed ? shuffled(sorted) : sorted;
    const { ms, levels } = run(s, raw, ladder);
    const ns = (ms * 1e6) / s.changes;
    const what = (raw ? " + raw strings" : mixed ? ", frames unsorted" : "") +
      (ladder ? ", ladder" : ", sorted arrays");
    console.log(
      `  ${`${depth} levels${what}`.padEnd(46)} ${
        ns.toFixed(1).padStart(6)
      } ns/change  ${
        Math.round(s.changes / (ms / 1000)).toLocaleString("en").padStart(11)
      } changes/s  (${(s.changes / FRAMES).toFixed(1)} changes/frame, ${
        (100 * s.deletes / s.changes).toFixed(0)
      }% deletes, ${
        (100 * s.tradeThrough / s.changes).toFixed(1)
      }% trade-through; ${levels} bid/ask levels at the end)`,
    );
  }
}
