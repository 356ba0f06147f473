/**
 * `deno task bench`: ingest throughput on one core. A long synthetic Binance
 * spot stream in the exact wire format (combined-stream `depthUpdate` frames,
 * 100 ms diffs around a BTC-like price) goes through the real path: adapter
 * parse → sequence sync → L2 book → columnar batch → the book sampled into
 * price buckets at each tick end (as the connection actor does) → the
 * aggregator merging the columns with the trades. Frames are received 100 ms
 * apart on the event clock and the samples and a batch go to the aggregator
 * every 10 frames, so each batch closes one 1 s heatmap tick. Prints frames
 * per second and the command.
 *
 * @module
 */

import { binanceAdapter } from "../actors/adapters/binance.ts";
import { Aggregator, AggregatorConfig } from "../actors/market/aggregate.ts";
import { BatchBuilder, Kind, tradesOnly } from "../actors/market/batch.ts";
import { OrderBook } from "../actors/market/book.ts";
import { BookSync } from "../actors/market/book_sync.ts";
import type { Instrument } from "../actors/market/events.ts";
import { BookSampler, BucketSizes } from "../actors/market/sampler.ts";

const FRAMES = Number(Deno.args[0] ?? 200_000);
const inst: Instrument = {
  exchange: "binance",
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  base: "BTC",
  quote: "USDT",
  market: "spot",
  contractSize: 1,
};

/** Deterministic PRNG so every run measures the same stream. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

function makeStream(n: number): { snapshot: string; frames: string[] } {
  const r = rng(42);
  const mid = 60_000;
  const lv = (side: number, i: number) =>
    (mid + side * (0.5 + i * 0.1)).toFixed(2);
  const snapBids: string[][] = [];
  const snapAsks: string[][] = [];
  for (let i = 0; i < 1000; i++) {
    snapBids.push([lv(-1, i), (r() * 5).toFixed(8)]);
    snapAsks.push([lv(1, i), (r() * 5).toFixed(8)]);
  }
  const snapshot = JSON.stringify({
    lastUpdateId: 1000,
    bids: snapBids,
    asks: snapAsks,
  });
  const frames: string[] = [];
  let u = 1000;
  for (let f = 0; f < n; f++) {
    const b: string[][] = [];
    const a: string[][] = [];
    const k = 2 + Math.floor(r() * 12);
    for (let j = 0; j < k; j++) {
      const i = Math.floor(r() ** 2 * 1000);
      const q = r() < 0.2 ? "0.00000000" : (r() * 5).toFixed(8);
      // Bids below mid, asks above: the book never crosses.
      if (r() < 0.5) b.push([lv(-1, i), q]);
      else a.push([lv(1, i), q]);
    }
    const U = u + 1;
    u += k;
    const data = {
      e: "depthUpdate",
      E: 1700000000000 + f * 100,
      s: "BTCUSDT",
      U,
      u,
      b,
      a,
    };
    frames.push(JSON.stringify({ stream: "btcusdt@depth@100ms", data }));
  }
  return { snapshot, frames };
}

const { snapshot, frames } = makeStream(FRAMES);
const bytes = frames.reduce((s, f) => s + f.length, 0);
const parser = binanceAdapter.parser(new Map([["BTCUSDT", inst]]));
const sync = new BookSync(binanceAdapter.book.sync);
const book = new OrderBook();
const batch = new BatchBuilder("binance");
let cells = 0;
const cfg = AggregatorConfig.parse({});
const agg = new Aggregator(cfg, {
  onTick: (_ts, cols) => {
    for (const c of cols) cells += c.n;
  },
});
const sampler = new BookSampler("binance", cfg, new BucketSizes(cfg));
const owned = [{ ref: inst, book }];
/** Receive time of the first frame, ms: frame `f` arrives at `T0 + f·100`. */
const T0 = 1_700_000_000_000;

const t0 = performance.now();
const snap = binanceAdapter.book.parseSnapshot!(snapshot, 0, inst);
sync.snapshot(snap);
book.apply(snap.bids, snap.asks);
let applied = 0;
for (let f = 0; f < frames.length; f++) {
  sampler.cross(T0 + f * 100, owned);
  batch.clock = T0 + f * 100;
  const events = parser.parse(frames[f], batch.clock);
  for (const ev of events) {
    if (ev.type !== "book_delta" || sync.delta(ev) !== "apply") continue;
    book.apply(ev.bids, ev.asks);
    applied++;
    const s = batch.symbol(inst);
    for (let i = 0; i < ev.bids.length; i += 2) {
      batch.push(s, Kind.Bid, ev.bids[i], ev.bids[i + 1], ev.exchangeTs);
    }
    for (let i = 0; i < ev.asks.length; i += 2) {
      batch.push(s, Kind.Ask, ev.asks[i], ev.asks[i + 1], ev.exchangeTs);
    }
  }
  if (f % 10 === 9) {
    for (const s of sampler.take()) agg.onBooks(s, "conn:binance");
    agg.onBatch(tradesOnly(batch.take()), "conn:binance");
  }
}
const secs = (performance.now() - t0) / 1000;
if (applied !== FRAMES) {
  throw new Error(
    `Applied ${applied} of ${FRAMES} frames: the stream lost sync`,
  );
}
console.log(`deno task bench  (deno run -A bench/ingest.ts ${FRAMES})`);
console.log(
  `ingest: ${
    Math.round(FRAMES / secs).toLocaleString("en")
  } depth frames/s on one core ` +
    `(${
      (bytes / secs / 1e6).toFixed(1)
    } MB/s of JSON; parse → sync → book → batch → sampled buckets → merge; ` +
    `${FRAMES} frames, ${cells} bucket cells sampled, ${secs.toFixed(2)} s)`,
);
