/**
 * The book sampler on a real book: the final full-depth BTC-USDT book of the
 * OKX capture, replayed through the adapter and book keeper.
 */

import assert from "node:assert/strict";
import { playToEnd } from "../replay/files.ts";
import { Aggregator, AggregatorConfig } from "./aggregate.ts";
import { OrderBook } from "./book.ts";
import { mergeColumns } from "./consolidate.ts";
import { bucketOf, type ColumnInit, sampleBook } from "./heatmap.ts";
import {
  type BookColumn,
  bookColumns,
  BookSampler,
  BucketSizes,
  rebucket,
  SamplingConfig,
} from "./sampler.ts";

const DIR = "../shared/data/captures/cryptofeed";
const T = 1_700_000_000_000;
const ref = {
  exchangeSymbol: "BTC-USDT",
  symbol: "BTC-USDT",
  market: "spot",
} as const;

let real: Promise<OrderBook> | undefined;

/** A fresh copy of the capture's final BTCUSDT book, every level. */
async function btcBook(): Promise<OrderBook> {
  const levels = await (real ??= (async () => {
    const dump = await playToEnd(
      ["OKX.0", "OKX.ws.1.0"]
        .map((f) => `${DIR}/${f}`),
      { depth: 1_000_000 },
    );
    const b = dump.books.okx["BTC-USDT"];
    const book = new OrderBook();
    for (const [p, s] of b.bids) book.bids.set(p, s);
    for (const [p, s] of b.asks) book.asks.set(p, s);
    return book;
  })());
  const copy = new OrderBook();
  for (const [p, s] of levels.bids.top(Infinity)) copy.bids.set(p, s);
  for (const [p, s] of levels.asks.top(Infinity)) copy.asks.set(p, s);
  return copy;
}

/** Asserts a column's buckets hold the book's sizes, bucket by bucket. */
function assertExact(c: BookColumn, book: OrderBook, what: string): void {
  const sums = (levels: [number, number][]) => {
    const out = new Float64Array(c.n);
    for (const [p, s] of levels) {
      const k = bucketOf(p, c.bucketSize) - c.lo;
      if (k >= 0 && k < c.n) out[k] += s;
    }
    return out;
  };
  const bids = sums(book.bids.top(Infinity));
  const asks = sums(book.asks.top(Infinity));
  let filled = 0;
  for (let k = 0; k < c.n; k++) {
    assert.ok(Math.abs(c.bids[k] - bids[k]) <= 1e-9 * Math.max(1, bids[k]));
    assert.ok(Math.abs(c.asks[k] - asks[k]) <= 1e-9 * Math.max(1, asks[k]));
    if (bids[k] > 0 || asks[k] > 0) filled++;
  }
  assert.ok(filled > 10, `${what}: only ${filled} buckets with size`);
  assert.equal(c.bestBid, book.bids.best());
  assert.equal(c.bestAsk, book.asks.best());
}

Deno.test("BookSampler: the sample of a tick end is the book before the record that crosses it; one sample serves the ends one step crosses", async () => {
  const cfg = SamplingConfig.parse({});
  const sampler = new BookSampler("okx", cfg, new BucketSizes(cfg));
  const book = new OrderBook();
  const owned = [{ ref, book }];
  sampler.cross(T + 100, owned); // the first clock
  const full = await btcBook();
  for (const [p, s] of full.bids.top(Infinity)) book.bids.set(p, s);
  for (const [p, s] of full.asks.top(Infinity)) book.asks.set(p, s);
  sampler.cross(T + 999, owned);
  assert.deepEqual(sampler.take(), [], "no tick end reached");
  sampler.cross(T + 1000, owned);
  // The record received at T + 1000 (the best bid pulled) is after it.
  const best = book.bids.best();
  book.bids.set(best, 0);
  sampler.cross(T + 4500, owned); // crosses T + 2000, 3000 and 4000
  const [first, second, ...rest] = sampler.take();
  assert.equal(rest.length, 0);
  assert.deepEqual([first.ts, first.from], [T + 1000, T + 100]);
  assert.deepEqual([second.ts, second.from], [T + 4000, T + 1000]);
  const [a] = bookColumns(first);
  const [b] = bookColumns(second);
  assert.equal(a.bucketSize, 10); // configured for BTC
  assert.equal(a.bestBid, best);
  assert.ok(b.bestBid < best);
  assertExact(b, book, "after the pull");
  book.bids.set(best, 1);
  assertExact(a, full, "before the pull");
});

Deno.test("rebucket: a column in buckets 10× narrower sums exactly into the key's buckets; a size that is no whole multiple is refused", async () => {
  const book = await btcBook();
  const fine = SamplingConfig.parse({ buckets: { BTC: 1 } });
  const coarse = SamplingConfig.parse({ buckets: { BTC: 10 } });
  const owned = [{ ref, book }];
  const at = (cfg: SamplingConfig) =>
    bookColumns(
      new BookSampler("okx", cfg, new BucketSizes(cfg)).sample(
        T,
        owned,
      ),
    )[0];
  const narrow = at(fine);
  const wide = at(coarse);
  const r = rebucket(narrow, 10)!;
  assert.equal(r.bucketSize, 10);
  // Only the wide buckets the narrow column covers in full.
  assert.ok(
    r.lo * 10 >= narrow.lo && (r.lo + r.n) * 10 <= narrow.lo + narrow.n,
  );
  assert.ok(r.n > 100);
  for (let j = 0; j < r.n; j++) {
    const k = r.lo + j - wide.lo;
    if (k < 0 || k >= wide.n) continue;
    assert.ok(
      Math.abs(r.bids[j] - wide.bids[k]) <= 1e-9 * Math.max(1, wide.bids[k]),
    );
    assert.ok(
      Math.abs(r.asks[j] - wide.asks[k]) <= 1e-9 * Math.max(1, wide.asks[k]),
    );
  }
  assert.equal(rebucket(narrow, 2.5), null);
  assert.equal(rebucket(wide, 1), null);
});

Deno.test("Aggregator: the key's size goes back to the owners; a column in another size is re-bucketed when it divides, else dropped and counted", async () => {
  const book = await btcBook();
  // Nothing configured: the first column fixes BTC-USDT's size (10 at 30 000).
  const cfg = AggregatorConfig.parse({ buckets: {} });
  const told: [string, number][] = [];
  const ticks: ColumnInit[][] = [];
  const agg = new Aggregator(cfg, {
    onTick: (_ts, cols) => ticks.push(cols),
    onBucketSize: (key, size) => told.push([key, size]),
  });
  const owner = (exchange: string, size?: number) => {
    const sizes = new BucketSizes(cfg);
    if (size !== undefined) sizes.assign("BTC-USDT", size);
    return {
      sizes,
      sampler: new BookSampler(exchange, cfg, sizes),
      owned: [{ ref, book }],
    };
  };
  const a = owner("a");
  const b = owner("b", 1); // fixed 1 before it heard the key's size
  const c = owner("c", 3); // 10 is no multiple of 3
  const tick = (t: number) => {
    for (const [name, o] of [["a", a], ["b", b], ["c", c]] as const) {
      o.sampler.cross(t, o.owned);
      for (const s of o.sampler.take()) agg.onBooks(s, name);
      agg.onBatch({
        type: "batch",
        exchange: name,
        symbols: [],
        n: 0,
        buf: new ArrayBuffer(0),
        clock: t,
      }, name);
    }
  };
  tick(T + 100);
  tick(T + 1000);
  assert.deepEqual(told, [["BTC-USDT", 10]]);
  assert.deepEqual(agg.counters.rebucketed, 1);
  assert.deepEqual(agg.counters.mismatched, 1);
  assert.deepEqual(ticks[0].map((col) => col.exchange), ["a", "b"]);
  const merged = mergeColumns(ticks[0]); // one size: does not throw
  assert.equal(merged.bucketSize, 10);
  // The owners take the size they are told.
  for (const [key, size] of told) {
    b.sizes.assign(key, size);
    c.sizes.assign(key, size);
  }
  tick(T + 2000);
  assert.deepEqual(ticks[1].map((col) => col.exchange), ["a", "b", "c"]);
  assert.deepEqual(agg.counters.rebucketed, 1);
  assert.deepEqual(agg.counters.mismatched, 1);
  const [ca, cb, cc] = ticks[1];
  assert.deepEqual(ca.bids, cb.bids);
  assert.deepEqual(ca.asks, cc.asks);
});

Deno.test("BookSampler: its columns are sampleBook's, and its sums those of every level's bucket, at every bucket size and range", async () => {
  const book = await btcBook();
  // One side thinned to every third level, so buckets hold uneven levels.
  let i = 0;
  for (const [p] of book.asks.top(Infinity)) if (i++ % 3) book.asks.set(p, 0);
  for (const bucketSize of [0.01, 0.5, 1, 10, 100]) {
    for (const range of [0.001, 0.05, 1]) {
      const cfg = SamplingConfig.parse({ buckets: { BTC: bucketSize }, range });
      const sampler = new BookSampler("okx", cfg, new BucketSizes(cfg));
      const [c] = bookColumns(sampler.sample(T, [{ ref, book }]));
      const want = sampleBook(book, { bucketSize, range })!;
      const what = `${bucketSize} ${range}`;
      assert.equal(c.lo, want.lo, what);
      assert.deepEqual(c.bids, want.bids, what);
      assert.deepEqual(c.asks, want.asks, what);
      assert.deepEqual([c.bestBid, c.bestAsk], [want.bestBid, want.bestAsk]);
      // The sums skip most divisions: they equal `bucketOf` of every level,
      // added best first.
      const naive = (levels: [number, number][]) => {
        const out = new Float64Array(c.n);
        for (const [p, size] of levels) {
          const k = bucketOf(p, bucketSize) - c.lo;
          if (k >= 0 && k < c.n) out[k] += size;
        }
        return out;
      };
      assert.deepEqual(c.bids, naive(book.bids.top(Infinity)), what);
      assert.deepEqual(c.asks, naive(book.asks.top(Infinity)), what);
    }
  }
});
