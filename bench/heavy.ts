/**
 * `deno task bench`, the heavy workload: where ingest time goes on a stream
 * shaped like BTCUSDT at its busiest. 100,000 format-exact Binance spot
 * combined-stream `depthUpdate` frames (prices and sizes with 8 decimals, as
 * Binance sends them) carry 5–40 level changes per side (about 45 a frame,
 * about 22% of them deletions) around a 1,000-level-a-side book whose mid
 * random-walks, from a seeded PRNG: every run measures the same frames.
 *
 * In one process run, on the same frames, it times `JSON.parse` of each frame
 * alone, then the real path with its stages added one at a time (adapter
 * parse; + sync; + book; + columnar batch; + sampling and merging columns:
 * the owner of the book samples it into book columns at each 1 s tick end
 * its clock crosses, and the aggregator merges those with the tick's trades,
 * as the connection actor and the aggregator do),
 * then the same path with the Binance depth scanner in place of the adapter's
 * parse (and its book stage once more on sorted arrays, the layout before the
 * price ladder, for comparison), then the connection stage as it runs live
 * and in a capture replay (the adapter's parser and a `BookKeeper`: parse →
 * keeper, and the wired scanner path scanBook → keeper → book → batch).
 * Every stage is warmed up, run 3 times (interleaved), and its median printed
 * as frames/s, as a ratio to `JSON.parse`, and as the nanoseconds it adds to
 * the stage it builds on.
 *
 * A second table puts each venue scanner (Binance, Bybit v5 and v2, OKX,
 * Coinbase Pro, KuCoin, HTX) beside `JSON.parse` and the adapter's parse on
 * the real book frames of the shared data.
 *
 * Usage: `deno run -A bench/heavy.ts [frames] [--repeat N]`
 *
 * @module
 */

import process from "node:process";
import { gunzipSync, inflateRawSync } from "node:zlib";
import type { Adapter } from "../actors/adapters/adapter.ts";
import { binanceAdapter } from "../actors/adapters/binance.ts";
import { binanceFuturesAdapter } from "../actors/adapters/binance_futures.ts";
import { BinanceDepthScanner } from "../actors/adapters/binance_scan.ts";
import { bybitAdapter } from "../actors/adapters/bybit.ts";
import { BybitBookScanner } from "../actors/adapters/bybit_scan.ts";
import { bybitV2Adapter } from "../actors/adapters/bybit_v2.ts";
import { BybitV2BookScanner } from "../actors/adapters/bybit_v2_scan.ts";
import { coinbaseProAdapter } from "../actors/adapters/coinbase_pro.ts";
import { CoinbaseL2Scanner } from "../actors/adapters/coinbase_scan.ts";
import { HuobiStep0Scanner } from "../actors/adapters/huobi_scan.ts";
import { huobiSwapAdapter } from "../actors/adapters/huobi_swap.ts";
import { kucoinAdapter } from "../actors/adapters/kucoin.ts";
import { KucoinL2Scanner } from "../actors/adapters/kucoin_scan.ts";
import { okxChecksumAdapter } from "../actors/adapters/okx_checksum.ts";
import { OkxBookScanner } from "../actors/adapters/okx_scan.ts";
import { Aggregator, AggregatorConfig } from "../actors/market/aggregate.ts";
import { decodeBytesLiteral } from "../actors/capture/capture.ts";
import { BookKeeper } from "../actors/connection/book_keeper.ts";
import { newCounters } from "../actors/connection/stats.ts";
import { BatchBuilder, Kind, tradesOnly } from "../actors/market/batch.ts";
import { OrderBook } from "../actors/market/book.ts";
import { BookSync } from "../actors/market/book_sync.ts";
import {
  BookSampler,
  BucketSizes,
  type OwnedBook,
} from "../actors/market/sampler.ts";
import type {
  BookDelta,
  BookSnapshot,
  Instrument,
} from "../actors/market/events.ts";

const args = [...Deno.args];
const repeatAt = args.indexOf("--repeat");
const REPEAT = repeatAt >= 0 ? Number(args.splice(repeatAt, 2)[1]) : 3;
const FRAMES = Number(args[0] ?? 100_000);
/** Levels per side of the book the stream starts from and hovers around. */
const DEPTH = 1000;
/** Receive time of the first frame, ms: frame `f` arrives at `T0 + f·100`. */
const T0 = 1_700_000_000_000;
/** Frames per batch to the aggregator: one batch closes one 1 s tick. */
const FRAMES_PER_BATCH = 10;

const inst: Instrument = {
  exchange: "binance",
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  base: "BTC",
  quote: "USDT",
  market: "spot",
  contractSize: 1,
};
const instruments = new Map([["BTCUSDT", inst]]);

/** Deterministic PRNG (LCG) so every run measures the same stream. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

/** The heavy stream and what it holds. */
interface Stream {
  snapshot: string;
  frames: string[];
  bytes: number;
  changes: number;
  deletions: number;
  /** Mean levels per side after each frame. */
  meanDepth: number;
}

/**
 * One side of the generator's book: live prices in ticks (cents), best
 * first (bids descending, asks ascending).
 */
class GenSide {
  ticks: number[] = [];
  constructor(readonly bid: boolean) {}
  /** Index of `tick`, or `-(insertion point) - 1`. */
  find(tick: number): number {
    const a = this.ticks;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      // Best first: bids descend, asks ascend.
      const before = this.bid ? a[mid] > tick : a[mid] < tick;
      if (a[mid] === tick) return mid;
      if (before) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }
  set(tick: number, live: boolean): void {
    const i = this.find(tick);
    if (live && i < 0) this.ticks.splice(-i - 1, 0, tick);
    else if (!live && i >= 0) this.ticks.splice(i, 1);
  }
}

const price = (tick: number) => (tick / 100).toFixed(8);

function makeStream(n: number): Stream {
  const r = rng(7);
  const size = () => ((1 + Math.floor(r() * 2e8)) / 1e8).toFixed(8);
  let mid = 6_000_000; // ticks of 0.01: 60,000.00
  const sides = [new GenSide(true), new GenSide(false)];
  /** Tick `d` ticks away from the mid on a side (d ≥ 1). */
  const at = (s: GenSide, d: number) => s.bid ? mid - d : mid + d;
  const snap: string[][][] = [[], []];
  for (let k = 0; k < 2; k++) {
    const s = sides[k];
    for (let d = 1; s.ticks.length < DEPTH; d++) {
      if (r() < 0.5) {
        s.ticks.push(at(s, d));
        snap[k].push([price(at(s, d)), size()]);
      }
    }
  }
  const snapshot = JSON.stringify({
    lastUpdateId: 1000,
    bids: snap[0],
    asks: snap[1],
  });
  const frames: string[] = [];
  let u = 1000;
  let bytes = 0;
  let changes = 0;
  let deletions = 0;
  let depthSum = 0;
  for (let f = 0; f < n; f++) {
    mid += Math.floor(r() * 7) - 3;
    const out: string[][][] = [[], []];
    for (let k = 0; k < 2; k++) {
      const s = sides[k];
      /** This frame's changes: tick → size ("0.00000000" deletes). */
      const ch = new Map<number, string>();
      // Trade-through: levels the mid moved across are deleted.
      for (const t of s.ticks) {
        if (s.bid ? t < mid : t > mid) break;
        ch.set(t, "0.00000000");
      }
      const want = 5 + Math.floor(r() * 36);
      while (ch.size < want) {
        const len = s.ticks.length;
        const x = r();
        // Deletions and inserts balance around DEPTH levels (inserts track
        // the shortfall); the rest update live levels, mostly near the top.
        const insert = Math.min(
          0.6,
          Math.max(0.05, 0.22 + (DEPTH - len) / 100),
        );
        if (x < 0.22 && len > 0) {
          ch.set(s.ticks[Math.floor(r() ** 2 * len)], "0.00000000");
        } else if (x < 0.22 + insert || len === 0) {
          ch.set(at(s, 1 + Math.floor(r() ** 1.5 * 2 * DEPTH)), size());
        } else {
          // A level the mid moved across stays deleted: the book the frame
          // leaves is never crossed.
          const t = s.ticks[Math.floor(r() ** 3 * len)];
          if (ch.get(t) !== "0.00000000") ch.set(t, size());
        }
      }
      // As Binance spot lists them: bids descending, asks ascending.
      const ticks = [...ch.keys()].sort((a, b) => s.bid ? b - a : a - b);
      for (const t of ticks) {
        const q = ch.get(t)!;
        const del = q === "0.00000000";
        s.set(t, !del);
        out[k].push([price(t), q]);
        if (del) deletions++;
      }
      changes += ticks.length;
      depthSum += s.ticks.length;
    }
    const U = u + 1;
    u += out[0].length + out[1].length + Math.floor(r() * 5);
    const frame = JSON.stringify({
      stream: "btcusdt@depth@100ms",
      data: {
        e: "depthUpdate",
        E: T0 + f * 100 + 3,
        s: "BTCUSDT",
        U,
        u,
        b: out[0],
        a: out[1],
      },
    });
    bytes += frame.length;
    frames.push(frame);
  }
  return {
    snapshot,
    frames,
    bytes,
    changes,
    deletions,
    meanDepth: depthSum / n / 2,
  };
}

/** Fresh path state, synced to the snapshot, for one timed run. */
interface Path {
  sync: BookSync;
  book: OrderBook;
  batch: BatchBuilder;
  agg: Aggregator;
  /** Samples the book at each tick end, as the connection does. */
  sampler: BookSampler;
  /** The book as the sampler reads it. */
  owned: OwnedBook[];
  /** The batch's index of the symbol. */
  sym: number;
}

const sink = { n: 0 };

/** A moment on both clocks: process CPU seconds and wall seconds. */
type Moment = readonly [cpu: number, wall: number];

function now(): Moment {
  const u = process.cpuUsage();
  return [(u.user + u.system) / 1e6, performance.now() / 1000];
}

/** Seconds since `t0`, on both clocks. */
function since(t0: Moment): Moment {
  const t = now();
  return [t[0] - t0[0], t[1] - t0[1]];
}

/**
 * Fresh path state, synced to the snapshot.
 * @param ladder the book's sides on price ladders (as coby keeps them);
 *   false: sorted arrays, for comparison.
 */
function freshPath(snap: BookSnapshot, ladder = true): Path {
  const sync = new BookSync(binanceAdapter.book.sync);
  sync.snapshot(snap);
  const book = new OrderBook(false, ladder);
  book.apply(snap.bids, snap.asks);
  const batch = new BatchBuilder("binance");
  batch.clock = T0 - 100;
  const sym = batch.symbol(inst);
  const cfg = AggregatorConfig.parse({});
  const agg = new Aggregator(cfg, {
    onTick: (_ts, cols) => {
      sink.n += cols.length;
    },
  });
  const sampler = new BookSampler("binance", cfg, new BucketSizes(cfg));
  const owned = [{ ref: inst, book }];
  sampler.cross(batch.clock, owned);
  return { sync, book, batch, agg, sampler, owned, sym };
}

/** How far down the path a run goes: each stage adds to the ones before. */
const Upto = { Parse: 0, Sync: 1, Book: 2, Batch: 3, Aggregator: 4 } as const;
type Upto = number;

/**
 * The adapter's path: `parser.parse` → sync → book → batch → aggregator,
 * cut after `upto`.
 * @returns CPU and wall seconds for the frames.
 */
function runAdapter(
  frames: string[],
  snap: BookSnapshot,
  upto: Upto,
): Moment {
  const parser = binanceAdapter.parser(instruments);
  const p = freshPath(snap);
  const { sync, book, batch } = p;
  const sym = p.sym;
  let n = 0;
  const t0 = now();
  for (let f = 0; f < frames.length; f++) {
    if (upto >= Upto.Batch && f > 0 && f % FRAMES_PER_BATCH === 0) {
      n += flush(p, upto);
    }
    const clock = T0 + f * 100;
    if (upto >= Upto.Aggregator) p.sampler.cross(clock, p.owned);
    const events = parser.parse(frames[f], clock);
    for (let e = 0; e < events.length; e++) {
      const ev = events[e];
      if (ev.type !== "book_delta") continue;
      n += ev.bids.length;
      if (upto < Upto.Sync || sync.delta(ev) !== "apply") continue;
      if (upto < Upto.Book) continue;
      book.apply(ev.bids, ev.asks);
      if (upto < Upto.Batch) continue;
      batch.clock = clock;
      const b = ev.bids;
      const a = ev.asks;
      const ts = ev.exchangeTs;
      for (let i = 0; i < b.length; i += 2) {
        batch.push(sym, Kind.Bid, b[i], b[i + 1], ts);
      }
      for (let i = 0; i < a.length; i += 2) {
        batch.push(sym, Kind.Ask, a[i], a[i + 1], ts);
      }
    }
  }
  const secs = since(t0);
  check(p, upto, frames.length);
  sink.n += n;
  return secs;
}

/**
 * The same path with the depth scanner in place of the adapter's parse:
 * frames it does not recognise would go to `parser.parse` (none here). The
 * sync sees a header-only delta; levels go from the scanner's typed arrays
 * straight into the book and the batch.
 * @param ladder the book's sides on price ladders; false: sorted arrays.
 * @returns CPU and wall seconds for the frames.
 */
function runScanner(
  frames: string[],
  snap: BookSnapshot,
  upto: Upto,
  ladder = true,
): Moment {
  const parser = binanceAdapter.parser(instruments);
  const scanner = new BinanceDepthScanner();
  const p = freshPath(snap, ladder);
  const { sync, book, batch } = p;
  const sym = p.sym;
  /** One reusable header for the sync: it reads first, last and prev. */
  const head = {
    type: "book_delta",
    exchange: "binance",
    exchangeSymbol: "",
    symbol: "",
    market: "spot",
    exchangeTs: 0,
    localTs: 0,
    first: 0,
    last: 0,
    prev: -1,
    bids: [],
    asks: [],
    contractSize: 1,
  } as BookDelta & { first: number; last: number; prev: number };
  const bids = scanner.bids;
  const asks = scanner.asks;
  let n = 0;
  const t0 = now();
  for (let f = 0; f < frames.length; f++) {
    if (upto >= Upto.Batch && f > 0 && f % FRAMES_PER_BATCH === 0) {
      n += flush(p, upto);
    }
    const clock = T0 + f * 100;
    if (upto >= Upto.Aggregator) p.sampler.cross(clock, p.owned);
    const frame = frames[f];
    if (!scanner.scan(frame)) {
      sink.n += parser.parse(frame, clock).length; // the general path
      continue;
    }
    // Spot: sizes are base already (contracts would go through
    // `toBaseSide`, as `scanBook` does).
    if (!instruments.has(scanner.symbol)) continue;
    const e = scanner.eventTime;
    const ts = e > 0 ? e : clock;
    n += bids.count;
    if (upto < Upto.Sync) continue;
    head.first = scanner.first;
    head.last = scanner.last;
    head.prev = scanner.prev === scanner.prev ? scanner.prev : -1;
    if (sync.delta(head) !== "apply" || upto < Upto.Book) continue;
    // As the book keeper's `scan` does.
    book.bids.applyColumns(bids);
    book.asks.applyColumns(asks);
    if (upto < Upto.Batch) continue;
    batch.clock = clock;
    batch.pushLevels(sym, Kind.Bid, bids, ts);
    batch.pushLevels(sym, Kind.Ask, asks, ts);
  }
  const secs = since(t0);
  check(p, upto, frames.length);
  sink.n += n;
  return secs;
}

/**
 * The connection stage as the connection actor and the capture replay run
 * it: the Binance adapter's parser and a `BookKeeper` (sync, book, checks,
 * batch), frame by frame. With `scan`, `keeper.scan` tries the adapter's
 * depth scanner (`Parser.scanBook`) first and the parse path takes what it
 * leaves; without, every frame goes `parser.parse` → `keeper.onEvent`.
 * @returns CPU and wall seconds for the frames.
 */
function runKeeper(
  frames: string[],
  snap: BookSnapshot,
  scan: boolean,
): Moment {
  const parser = binanceAdapter.parser(instruments);
  const batch = new BatchBuilder("binance");
  const counters = newCounters();
  const keeper = new BookKeeper({
    exchange: "binance",
    spec: binanceAdapter.book,
    batch,
    counters,
    hooks: {
      needSnapshot: () => {},
      send: () => true,
      reconnect: () => {},
      warn: () => {},
    },
  });
  keeper.follow([inst], T0 - 300);
  const f = keeper.followed.get(inst.exchangeSymbol)!;
  batch.clock = T0 - 200;
  keeper.offerSnapshot(f, snap);
  let n = batch.take().n;
  const t0 = now();
  for (let i = 0; i < frames.length; i++) {
    if (i > 0 && i % FRAMES_PER_BATCH === 0) n += batch.take().n;
    const clock = T0 + i * 100;
    batch.clock = clock;
    const frame = frames[i];
    if (scan && keeper.scan(parser, frame, clock)) continue;
    const events = parser.parse(frame, clock);
    for (let e = 0; e < events.length; e++) keeper.onEvent(events[e]);
  }
  const secs = since(t0);
  if (f.sync.state !== "synced" || counters.resyncs !== 0) {
    throw new Error(`The keeper over ${frames.length} frames lost sync`);
  }
  sink.n += n + counters.bookUpdates;
  return secs;
}

/**
 * Takes the batch of the last {@link FRAMES_PER_BATCH} frames and, as the
 * connection's flush does, hands the aggregator the book samples made since
 * the last flush, then the batch's trades (or, when the run stops at the
 * batch, drops it).
 * @returns the batch's record count.
 */
function flush(p: Path, upto: Upto): number {
  const taken = p.batch.take();
  p.sym = p.batch.symbol(inst);
  if (upto >= Upto.Aggregator) {
    for (const s of p.sampler.take()) p.agg.onBooks(s, "conn:binance");
    p.agg.onBatch(tradesOnly(taken), "conn:binance");
  }
  return taken.n;
}

/** Fails the bench when a run lost sync or left the book crossed. */
function check(p: Path, upto: Upto, frames: number): void {
  if (upto < Upto.Sync) return;
  if (p.sync.state !== "synced" || p.book.crossed()) {
    throw new Error(`A run over ${frames} frames lost sync or crossed`);
  }
  // One tick a second of event time, each with the book's column.
  if (upto >= Upto.Aggregator && p.agg.counters.ticks < frames / 10 - 2) {
    throw new Error(`${p.agg.counters.ticks} ticks over ${frames} frames`);
  }
}

/** JSON.parse of each frame, touching the result so it is not elided. */
function runJson(frames: string[]): Moment {
  let n = 0;
  const t0 = now();
  for (let f = 0; f < frames.length; f++) n += JSON.parse(frames[f]).data.u;
  const secs = since(t0);
  sink.n += n;
  return secs;
}

interface Stage {
  name: string;
  run: (frames: string[]) => Moment;
  /** The stage this one adds to (its "added" column); JSON.parse if none. */
  after?: string;
}

const stream = makeStream(FRAMES);
const snap = binanceAdapter.book.parseSnapshot!(
  stream.snapshot,
  T0 - 200,
  inst,
);
const stages: Stage[] = [
  { name: "JSON.parse of each frame, nothing else", run: runJson },
  ...([
    "adapter parse",
    "+ sync",
    "+ book",
    "+ columnar batch",
    "+ sampling and merging columns",
  ] as const).map((name, upto, names) => ({
    name,
    run: (fr: string[]) => runAdapter(fr, snap, upto),
    after: names[upto - 1],
  })),
  ...([
    "scanner parse",
    "+ sync",
    "+ book",
    "+ columnar batch",
    "+ sampling and merging columns",
  ] as const).map((name, upto, names) => ({
    name: name === "scanner parse" ? name : `scanner ${name}`,
    run: (fr: string[]) => runScanner(fr, snap, upto),
    after: upto > 1 ? `scanner ${names[upto - 1]}` : names[upto - 1],
  })),
  {
    // The book as it was before the price ladder, for comparison.
    name: "scanner + book on sorted arrays",
    run: (fr: string[]) => runScanner(fr, snap, Upto.Book, false),
    after: "scanner + sync",
  },
  {
    name: "connection stage, parse → keeper",
    run: (fr: string[]) => runKeeper(fr, snap, false),
  },
  {
    name: "connection stage, scanBook → keeper",
    run: (fr: string[]) => runKeeper(fr, snap, true),
  },
];

// Warm-up: every stage once over a fifth of the frames.
const warm = stream.frames.slice(0, Math.max(1, Math.floor(FRAMES / 5)));
for (const s of stages) s.run(warm);
const cpu: number[][] = stages.map(() => []);
const wall: number[][] = stages.map(() => []);
for (let r = 0; r < REPEAT; r++) {
  for (let i = 0; i < stages.length; i++) {
    const [c, w] = stages[i].run(stream.frames);
    cpu[i].push(c);
    wall[i].push(w);
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[s.length >> 1]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fps = cpu.map((t) => FRAMES / median(t));
const wallFps = wall.map((t) => FRAMES / median(t));

console.log(
  `deno task bench  (deno run -A bench/heavy.ts ${FRAMES} --repeat ${REPEAT})`,
);
console.log(
  `heavy: ${FRAMES.toLocaleString("en")} Binance BTCUSDT depth frames, ` +
    `${(stream.changes / FRAMES).toFixed(1)} level changes a frame ` +
    `(${(100 * stream.deletions / stream.changes).toFixed(1)}% deletions), ` +
    `book ${Math.round(stream.meanDepth)} levels a side on average, ` +
    `${(stream.bytes / 1e6).toFixed(1)} MB of JSON; median of ${REPEAT} runs ` +
    `after a warm-up, one core. frames/s is per second of this process's ` +
    `CPU time (user + system, GC threads included), which a busy machine ` +
    `does not skew; wall-clock frames/s in the last column`,
);
const pad = (s: string, n: number) => s.padEnd(n);
console.log(
  `${pad("stage", 42)}${"frames/s".padStart(10)}${"ratio".padStart(7)}` +
    `${"ns/frame".padStart(10)}${"added".padStart(8)}${
      "wall f/s".padStart(10)
    }`,
);
for (let i = 0; i < stages.length; i++) {
  const ns = 1e9 / fps[i];
  // The stage it adds to, or JSON.parse.
  const after = stages[i].after;
  const base = after === undefined
    ? 0
    : stages.findIndex((s) => s.name === after);
  if (base < 0) throw new Error(`No stage ${after} before ${stages[i].name}`);
  const delta = Math.round(ns - 1e9 / fps[base]);
  const added = i === 0 ? "" : `${delta >= 0 ? "+" : ""}${delta}`;
  console.log(
    pad(stages[i].name, 42) +
      Math.round(fps[i]).toLocaleString("en").padStart(10) +
      (fps[i] / fps[0]).toFixed(2).padStart(7) +
      Math.round(ns).toLocaleString("en").padStart(10) +
      added.padStart(8) +
      Math.round(wallFps[i]).toLocaleString("en").padStart(10),
  );
}

// ---- the scanners on real frames ----

const DATA = new URL("../../shared/data/", import.meta.url);

/** The received text frames of a capture file (`<ts>: <text>` lines). */
function captured(file: string): string[] {
  const text = Deno.readTextFileSync(
    new URL(`captures/cryptofeed/${file}`, DATA),
  );
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^\d+(?:\.\d+)?: /.exec(line);
    if (m !== null) out.push(line.slice(m[0].length));
  }
  return out;
}

/** The first file of a zip archive (stored or deflated), as text. */
function unzipFirst(path: string): string {
  const z = Deno.readFileSync(new URL(path, DATA));
  const v = new DataView(z.buffer, z.byteOffset, z.byteLength);
  const method = v.getUint16(8, true);
  const size = v.getUint32(18, true);
  const start = 30 + v.getUint16(26, true) + v.getUint16(28, true);
  const data = z.subarray(start, start + size);
  return new TextDecoder().decode(method === 0 ? data : inflateRawSync(data));
}

/** A table that knows every symbol the frames name, contract size 1. */
function tableOf(symbols: Iterable<string>): Map<string, Instrument> {
  return new Map(
    [...symbols].map((s) => [s, { ...inst, exchangeSymbol: s, symbol: s }]),
  );
}

/** One venue's real book frames and how to read them. */
interface RealFrames {
  name: string;
  frames: string[];
  adapter: Adapter;
  symbols: Set<string>;
  scan: (frame: string) => boolean;
}

/** CPU seconds per pass of `fn` over the frames, after a warm-up. */
function perPass(fn: () => number): number {
  for (let k = 0; k < 50; k++) sink.n += fn();
  let passes = 0;
  const t0 = now();
  while (since(t0)[0] < 0.3) {
    sink.n += fn();
    passes++;
  }
  return since(t0)[0] / passes;
}

function realFrames(): RealFrames[] {
  const binance = captured("BINANCE_FUTURES.ws.1.0").filter((f) =>
    f.includes('"e":"depthUpdate"')
  );
  const bybit = unzipFirst(
    "samples/nautilus_trader/tests/test_data/bybit/xrpusdt-ob500.data.zip",
  ).split(/\r?\n/).filter((l) => l.includes('"type":"delta"'));
  const okx = captured("OKX.ws.1.0").filter((f) =>
    f.startsWith('{"arg":{"channel":"books"') && f.includes('"update"')
  );
  const b = new BinanceDepthScanner();
  const y = new BybitBookScanner();
  const o = new OkxBookScanner({ keepText: true });
  const coinbase = captured("COINBASE.ws.28.0").filter((f) =>
    f.startsWith('{"type":"l2update"')
  );
  const c = new CoinbaseL2Scanner();
  const kucoin = captured("KUCOIN.ws.1.0").filter((f) =>
    f.includes('"subject":"trade.l2update"')
  );
  const k = new KucoinL2Scanner();
  // HTX sends gzip: the frames as the parser reads them, inflated.
  const dec = new TextDecoder();
  const htx = ["HUOBI_SWAP.ws.1.0", "HUOBI_SWAP.ws.2.0"].flatMap(captured)
    .filter((f) => f.startsWith("b'") || f.startsWith('b"'))
    .map((f) => dec.decode(gunzipSync(decodeBytesLiteral(f))))
    .filter((f) =>
      f.startsWith('{"ch":"market.') && f.includes('.depth.step0","ts"')
    );
  const h = new HuobiStep0Scanner();
  const bybitV2 = ["BYBIT.ws.25.0", "BYBIT.ws.26.0"].flatMap(captured).filter(
    (f) => f.startsWith('{"topic":"orderBookL2_25.') && f.includes('"delta"'),
  );
  const y2 = new BybitV2BookScanner();
  return [{
    name: "binance-futures depthUpdate (capture)",
    frames: binance,
    adapter: binanceFuturesAdapter,
    symbols: new Set(binance.map((f) => JSON.parse(f).data.s)),
    scan: (f) => b.scan(f),
  }, {
    name: "bybit v5 orderbook.500 XRPUSDT deltas",
    frames: bybit,
    adapter: bybitAdapter,
    symbols: new Set(["XRPUSDT"]),
    scan: (f) => y.scan(f),
  }, {
    name: "okx books updates, strings kept (capture)",
    frames: okx,
    adapter: okxChecksumAdapter,
    symbols: new Set(okx.map((f) => JSON.parse(f).arg.instId)),
    scan: (f) => o.scan(f),
  }, {
    name: "coinbase pro l2update (capture)",
    frames: coinbase,
    adapter: coinbaseProAdapter,
    symbols: new Set(coinbase.map((f) => JSON.parse(f).product_id)),
    scan: (f) => c.scan(f),
  }, {
    name: "kucoin trade.l2update (capture)",
    frames: kucoin,
    adapter: kucoinAdapter,
    symbols: new Set(kucoin.map((f) => JSON.parse(f).data.symbol)),
    scan: (f) => k.scan(f),
  }, {
    name: "bybit v2 orderBookL2_25 deltas (capture)",
    frames: bybitV2,
    adapter: bybitV2Adapter,
    symbols: new Set(bybitV2.map((f) => JSON.parse(f).topic.split(".")[1])),
    scan: (f) => y2.scan(f),
  }, {
    name: "htx swap depth.step0 (capture, inflated)",
    frames: htx,
    adapter: huobiSwapAdapter,
    symbols: new Set(htx.map((f) => JSON.parse(f).ch.split(".")[1])),
    scan: (f) => h.scan(f),
  }];
}

console.log(
  "\nscanners on real book frames (frames/s per CPU second; ratio to JSON.parse)",
);
console.log(
  `${pad("frames", 50)}${"JSON.parse".padStart(11)}${"adapter".padStart(10)}` +
    `${"ratio".padStart(7)}${"scanner".padStart(10)}${"ratio".padStart(7)}`,
);
for (const r of realFrames()) {
  const fr = r.frames;
  const parser = r.adapter.parser(tableOf(r.symbols));
  const json = perPass(() => {
    let n = 0;
    for (let i = 0; i < fr.length; i++) n += JSON.parse(fr[i]) === null ? 0 : 1;
    return n;
  });
  const adapter = perPass(() => {
    let n = 0;
    for (let i = 0; i < fr.length; i++) n += parser.parse(fr[i], T0).length;
    return n;
  });
  const scanner = perPass(() => {
    let n = 0;
    for (let i = 0; i < fr.length; i++) if (r.scan(fr[i])) n++;
    if (n !== fr.length) throw new Error(`${r.name}: a frame not recognised`);
    return n;
  });
  const f = (secs: number) => Math.round(fr.length / secs).toLocaleString("en");
  console.log(
    pad(`${r.name} (${fr.length})`, 50) + f(json).padStart(11) +
      f(adapter).padStart(10) + (json / adapter).toFixed(2).padStart(7) +
      f(scanner).padStart(10) + (json / scanner).toFixed(2).padStart(7),
  );
}
if (sink.n === -1) console.log(sink.n); // keeps the results observable
