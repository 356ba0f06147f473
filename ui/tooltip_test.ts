import assert from "node:assert/strict";
import { ColumnRing, type HeatColumn } from "./columns.ts";
import type { ColumnPayload } from "../actors/system/hub.ts";
import { bucketSums, cellAt, exchangeSizes, formatSize } from "./tooltip.ts";

function col(ts: number, lo: number, bids: number[], asks: number[]) {
  const zeros = bids.map(() => 0);
  return {
    ts,
    symbol: "BTC-USDT",
    bucketSize: 0.5,
    lo,
    bids,
    asks,
    buys: bids.map((_, i) => i === 1 ? 0.25 : 0),
    sells: zeros,
    bestBid: null,
    bestAsk: null,
    mid: null,
    exchanges: ["binance"],
    consolidation: null,
    liquidations: [],
  } satisfies HeatColumn;
}

Deno.test("cellAt: the column and bucket under the cursor, with its sizes, trades and liquidations", () => {
  const ring = new ColumnRing(4);
  ring.push(col(1000, 200, [1, 2, 0, 0], [0, 0, 3, 4]));
  ring.push(col(2000, 200, [5, 6, 0, 0], [0, 0, 7, 8]));
  // Bucket 201 is [100.5, 101).
  const c = cellAt(ring, 1.5, 100.7, 1, 1000)!;
  assert.deepEqual(c, {
    column: 0,
    ts: 1000,
    priceLow: 100.5,
    priceHigh: 101,
    bid: 2,
    ask: 0,
    buy: 0.25,
    sell: 0,
    longs: 0,
    shorts: 0,
  });
  // Two buckets a cell: buckets 202–203, [101, 102).
  const m = cellAt(ring, 2.2, 101.9, 2, 1000)!;
  assert.equal(m.column, 1);
  assert.deepEqual([m.priceLow, m.priceHigh, m.bid, m.ask], [101, 102, 0, 15]);
  // Liquidations count in the cell of their bucket only.
  const liq = {
    ...col(3000, 200, [1, 0, 0, 0], [0, 0, 1, 0]),
    liquidations: [
      { bucket: 201, longs: 0.4, shorts: 0 },
      { bucket: 202, longs: 1, shorts: 2 },
      { bucket: 203, longs: 0, shorts: 0.5 },
    ],
  };
  const lr = new ColumnRing(1);
  lr.push(liq);
  const l = cellAt(lr, 3.5, 101.2, 2, 1000)!;
  assert.deepEqual([l.priceLow, l.longs, l.shorts], [101, 1, 2.5]);
  // Before the first column and past the newest one's tick: none.
  assert.equal(cellAt(ring, 0.5, 100.7, 1, 1000), null);
  assert.equal(cellAt(ring, 3.5, 100.7, 1, 1000), null);
});

Deno.test("exchangeSizes sums each exchange's own buckets, whatever its range", () => {
  const a = { ...col(1000, 200, [1, 2, 0], [0, 0, 3]), exchanges: ["a"] };
  // Exchange b's column starts one bucket higher.
  const b = { ...col(1000, 201, [4, 0, 0], [0, 5, 6]), exchanges: ["b"] };
  const cols = [a, b] as ColumnPayload[];
  assert.deepEqual(exchangeSizes(cols, 100.5, 101), [
    { exchange: "a", bid: 2, ask: 0 },
    { exchange: "b", bid: 4, ask: 0 },
  ]);
  assert.deepEqual(exchangeSizes(cols, 100, 102), [
    { exchange: "a", bid: 3, ask: 3 },
    { exchange: "b", bid: 4, ask: 11 },
  ]);
  assert.deepEqual(bucketSums(a, 200, 300), {
    bid: 0,
    ask: 0,
    buy: 0,
    sell: 0,
  });
});

Deno.test("formatSize keeps four significant digits", () => {
  assert.equal(formatSize(0), "0");
  assert.equal(formatSize(1.23456), "1.235");
  assert.equal(formatSize(0.000123456), "0.0001235");
  assert.equal(formatSize(123456.7), "123457");
});
