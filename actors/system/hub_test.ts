/**
 * The heatmap hub: memory bounded by ticks and by bytes, ticks that keep only
 * their own columns (not the consolidator's whole batch), one serialization
 * per exchange selection shared by every viewer, and cursors that skip what
 * a slow viewer missed instead of queueing it.
 */

import assert from "node:assert/strict";
import {
  type ColumnBatch,
  type ColumnInit,
  encodeColumns,
} from "../market/heatmap.ts";
import { HeatmapHub } from "./hub.ts";

/** One exchange's column of `symbol` with `n` buckets, values from `seed`. */
function column(
  exchange: string,
  symbol: string,
  ts: number,
  n: number,
  seed: number,
): ColumnInit {
  const arr = (k: number) =>
    Float64Array.from(
      { length: n },
      (_, i) => ((i * 7 + seed * 13 + k) % 17) / 4,
    );
  // (values repeat every 17 buckets: enough to tell columns apart)
  return {
    exchange,
    exchangeSymbol: symbol.replace("-", ""),
    symbol,
    market: "spot",
    ts,
    bucketSize: 10,
    lo: 6000 - Math.floor(n / 2),
    n,
    bestBid: 59_990 + seed,
    bestAsk: 60_010 + seed,
    bids: arr(0),
    asks: arr(1),
    buys: arr(2),
    sells: arr(3),
  };
}

/**
 * A consolidator tick as the hub receives it: the per-exchange columns, then
 * one consolidated column per symbol (the parts summed; they share a range).
 */
function tick(ts: number, cols: [string, string, number][]): ColumnBatch {
  const parts = cols.map(([ex, sym, n]) => column(ex, sym, ts, n, ts / 1000));
  const totals: ColumnInit[] = [];
  for (const sym of new Set(parts.map((p) => p.symbol))) {
    const of = parts.filter((p) => p.symbol === sym);
    const sum = (k: "bids" | "asks" | "buys" | "sells") =>
      Float64Array.from(
        of[0][k],
        (_, i) => of.reduce((s, p) => s + p[k][i], 0),
      );
    totals.push({
      ...of[0],
      exchange: "consolidated",
      exchangeSymbol: sym,
      market: "mixed",
      parts: of.map((p) => p.exchange),
      bids: sum("bids"),
      asks: sum("asks"),
      buys: sum("buys"),
      sells: sum("sells"),
    });
  }
  return encodeColumns(ts, [...parts, ...totals]);
}

const MiB = 2 ** 20;

Deno.test("hub: the ring's bytes stay under historyBytes over a long run of ticks", () => {
  const cap = 4 * MiB;
  const hub = new HeatmapHub(600, { historyBytes: cap });
  const feed = hub.follow("BTC-USDT", null);
  let peak = 0;
  for (let i = 0; i < 1500; i++) {
    hub.push(tick(i * 1000, [
      ["binance", "BTC-USDT", 600],
      ["okx", "BTC-USDT", 600],
      ["kraken", "ETH-USD", 400],
    ]));
    // A viewer reading along adds the serialized events to what is kept.
    if (i % 7 === 0) feed.take({ maxColumns: 1000, budgetMs: 1000 });
    peak = Math.max(peak, hub.stats().bytes);
  }
  const s = hub.stats();
  assert.ok(peak <= cap, `peak ${peak} > cap ${cap}`);
  assert.ok(hub.retainedBytes() <= cap, `retained ${hub.retainedBytes()}`);
  assert.ok(s.ticks > 20 && s.ticks < 600, `ticks kept: ${s.ticks}`);
  assert.equal(s.symbols, 2);
  feed.close();
});

Deno.test("hub: at most `history` ticks per symbol", () => {
  const hub = new HeatmapHub(50, { historyBytes: 512 * MiB });
  for (let i = 0; i < 400; i++) {
    hub.push(tick(i * 1000, [["binance", "BTC-USDT", 100]]));
  }
  assert.equal(hub.stats().ticks, 50);
});

Deno.test("hub: a symbol that ticks rarely or stopped does not pin whole batches", () => {
  // Each batch holds a big BTC column and, every 25th tick, a small SPARSE
  // one. A tick kept as a view into its batch would keep the whole batch
  // alive: 50 SPARSE ticks would pin 1,250 batches (≈ 120 MB here).
  const hub = new HeatmapHub(50, { historyBytes: 4096 * MiB });
  let batchBytes = 0;
  for (let i = 0; i < 1250; i++) {
    const cols: [string, string, number][] = [["binance", "BTC-USDT", 3000]];
    if (i % 25 === 0) cols.push(["kraken", "SPARSE-USD", 10]);
    const b = tick(i * 1000, cols);
    batchBytes = b.buf.byteLength;
    hub.push(b);
  }
  const own = 50 * 4 * 3000 * 8 + 50 * 4 * 10 * 8;
  const retained = hub.retainedBytes();
  assert.ok(
    retained <= own * 1.01,
    `retained ${retained} bytes; the ticks' own columns are ${own}, a batch ${batchBytes}`,
  );
  assert.ok(hub.stats().bytes < own * 1.05);
});

Deno.test("hub: every viewer of a selection gets the same bytes, serialized once; all-exchanges is shared", () => {
  const hub = new HeatmapHub(100);
  for (let i = 0; i < 10; i++) {
    hub.push(tick(i * 1000, [
      ["binance", "BTC-USDT", 300],
      ["okx", "BTC-USDT", 300],
    ]));
  }
  const a = hub.follow("BTC-USDT", null);
  const b = hub.follow("BTC-USDT", null);
  const both = hub.follow("BTC-USDT", ["okx", "binance"]);
  const one = hub.follow("BTC-USDT", ["binance"]);
  const one2 = hub.follow("BTC-USDT", ["binance", "binance"]);
  const take = (f: typeof a) => f.take({ maxColumns: 100, budgetMs: 1000 });
  const ea = take(a).events;
  const before = hub.stats().bytes;
  const eb = take(b).events;
  const eboth = take(both).events;
  assert.equal(hub.stats().bytes, before, "a second viewer serialized again");
  assert.equal(ea.length, 10);
  for (let i = 0; i < 10; i++) {
    assert.equal(eb[i], ea[i], "not the same bytes");
    assert.equal(eboth[i], ea[i], "every exchange named is the shared form");
  }
  const e1 = take(one).events;
  const e2 = take(one2).events;
  assert.equal(e1.length, 10);
  for (let i = 0; i < 10; i++) assert.equal(e2[i], e1[i]);
  assert.notEqual(e1[0], ea[0]);
  const col = JSON.parse(
    new TextDecoder().decode(e1[0]).split("data: ")[1],
  );
  assert.deepEqual(col.exchanges, ["binance"]);
  // The last viewers of a selection leave: its bytes go with them.
  const withOne = hub.stats().bytes;
  one.close();
  assert.equal(hub.stats().bytes, withOne);
  one2.close();
  assert.ok(hub.stats().bytes < withOne);
  for (const f of [a, b, both]) f.close();
  assert.equal(hub.stats().followers, 0);
  // Only the columns remain.
  assert.ok(hub.stats().bytes < before);
});

Deno.test("hub: a viewer that falls behind skips the oldest columns and is told how many", async () => {
  const hub = new HeatmapHub(100, { historyBytes: 512 * MiB });
  for (let i = 0; i < 30; i++) {
    hub.push(tick(i * 1000, [["binance", "BTC-USDT", 50]]));
  }
  const f = hub.follow("BTC-USDT", null, { maxLag: 5 });
  // History first, in full: 30 columns, no gap.
  let got = f.take({ maxColumns: 1000, budgetMs: 1000 });
  assert.equal(got.skipped, 0);
  assert.equal(got.events.length, 30);
  // Caught up: it waits for the next tick.
  let woke = false;
  f.wait().then(() => woke = true);
  await Promise.resolve();
  assert.equal(woke, false);
  hub.push(tick(30_000, [["binance", "BTC-USDT", 50]]));
  await Promise.resolve();
  assert.equal(woke, true);
  got = f.take();
  assert.deepEqual([got.skipped, got.events.length], [0, 1]);
  // Paused for 40 ticks: it resumes 5 behind live, 35 skipped.
  for (let i = 31; i < 71; i++) {
    hub.push(tick(i * 1000, [["binance", "BTC-USDT", 50]]));
  }
  got = f.take({ maxColumns: 1000 });
  assert.equal(got.skipped, 35);
  assert.equal(got.events.length, 5);
  const last = JSON.parse(
    new TextDecoder().decode(got.events[4]).split("data: ")[1],
  );
  assert.equal(last.ts, 70_000);
  // The ring moved past a viewer still in its history: skipped as well.
  const g = hub.follow("BTC-USDT", null);
  const start = g.take({ maxColumns: 10 }).columns;
  for (let i = 71; i < 300; i++) {
    hub.push(tick(i * 1000, [["binance", "BTC-USDT", 50]]));
  }
  got = g.take({ maxColumns: 1000, budgetMs: 1000 });
  assert.equal(got.skipped, 300 - 100 - start);
  assert.equal(got.columns, 100);
  f.close();
  g.close();
});

Deno.test("hub: a followed symbol without data waits for its first tick; closing wakes the waiter", async () => {
  const hub = new HeatmapHub(10);
  const f = hub.follow("ETH-USD", null);
  assert.equal(hub.has("ETH-USD"), false);
  assert.deepEqual(hub.symbols(), []);
  const p = f.wait();
  assert.equal(f.wait(), p, "one waiter per feed");
  hub.push(tick(1000, [["kraken", "ETH-USD", 20]]));
  await p;
  assert.equal(f.take().events.length, 1);
  const q = f.wait();
  f.close();
  await q;
  assert.equal(hub.stats().followers, 0);
});

Deno.test("hub: history goes out in blocks joined once and shared by every viewer", () => {
  const hub = new HeatmapHub(600);
  for (let i = 0; i < 40; i++) {
    hub.push(tick(i * 1000, [["binance", "BTC-USDT", 50]]));
  }
  const all = (f: ReturnType<typeof hub.follow>) => {
    const chunks: Uint8Array[] = [];
    let columns = 0;
    for (;;) {
      const got = f.take({ maxColumns: 16, budgetMs: 1000 });
      if (!got.columns) return { chunks, columns };
      chunks.push(...got.events);
      columns += got.columns;
    }
  };
  // The first viewer serializes the columns one by one...
  const first = all(hub.follow("BTC-USDT", null));
  assert.equal(first.columns, 40);
  assert.equal(first.chunks.length, 40);
  // ... the next ones get blocks of 16, the same arrays for each, then the
  // columns past the last whole block one by one.
  const a = all(hub.follow("BTC-USDT", null));
  const b = all(hub.follow("BTC-USDT", null));
  assert.equal(a.columns, 40);
  assert.equal(a.chunks.length, 2 + 8);
  for (let i = 0; i < a.chunks.length; i++) {
    assert.equal(b.chunks[i], a.chunks[i]);
  }
  const text = (c: Uint8Array[]) =>
    c.map((x) => new TextDecoder().decode(x)).join("");
  assert.equal(text(a.chunks), text(first.chunks));
});

Deno.test("hub: columnsAt answers each exchange's own column of the tick at or before a time", () => {
  const hub = new HeatmapHub(10);
  const batches = [1000, 2000, 3000].map((ts) =>
    tick(ts, [["binance", "BTC-USDT", 8], ["okx", "BTC-USDT", 8]])
  );
  for (const b of batches) hub.push(b);
  assert.equal(hub.columnsAt("BTC-USDT", 999), null);
  assert.equal(hub.columnsAt("ETH-USDT", 2000), null);
  for (const [asked, want] of [[2000, 1], [2500, 1], [3000, 2], [9000, 2]]) {
    const at = hub.columnsAt("BTC-USDT", asked)!;
    const b = batches[want];
    assert.equal(at.ts, b.ts);
    assert.deepEqual(at.columns.map((c) => c.exchanges), [["binance"], [
      "okx",
    ]]);
    // Each payload holds its own exchange's arrays from the batch.
    const f = new Float64Array(b.buf);
    for (let k = 0; k < 2; k++) {
      const meta = b.columns[k];
      const c = at.columns[k];
      assert.equal(c.consolidation, null);
      assert.equal(c.lo, meta.lo);
      assert.equal(c.bestBid, meta.bestBid);
      assert.deepEqual(
        c.bids,
        Array.from(f.subarray(meta.offset, meta.offset + meta.n)),
      );
      assert.deepEqual(
        c.asks,
        Array.from(f.subarray(meta.offset + meta.n, meta.offset + 2 * meta.n)),
      );
    }
  }
});

Deno.test("hub: counts the columns its feeds skip, the bytes it hands them, and live columns' time from arrival to hand-over", () => {
  const hub = new HeatmapHub(100);
  const pair: [string, string, number][] = [["binance", "BTC-USDT", 40]];
  for (let i = 0; i < 3; i++) {
    hub.push(tick(1_700_000_000_000 + i * 1000, pair));
  }
  const feed = hub.follow("BTC-USDT", null, { maxLag: 2 });
  // The kept history: handed over, but not a latency (nothing was live).
  const history = feed.take();
  assert.equal(history.columns, 3);
  const served = history.events.reduce((s, e) => s + e.byteLength, 0);
  assert.equal(hub.stats().served, served);
  assert.equal(hub.latency().count, 0);
  // Caught up: the next tick is a live column, timed.
  hub.push(tick(1_700_000_003_000, pair));
  assert.equal(feed.take().columns, 1);
  assert.equal(hub.latency().count, 1);
  assert.ok(hub.latency().sum >= 0);
  // Five ticks while the viewer pauses: it keeps the newest 2, skips 3.
  for (let i = 4; i < 9; i++) {
    hub.push(tick(1_700_000_000_000 + i * 1000, pair));
  }
  const behind = feed.take();
  assert.equal(behind.skipped, 3);
  assert.equal(hub.stats().dropped, 3);
  assert.equal(hub.stats().followers, 1);
  feed.close();
  assert.equal(hub.stats().followers, 0);
});
