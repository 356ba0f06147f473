import assert from "node:assert/strict";
import { ColumnRing, type HeatColumn } from "./columns.ts";

function col(ts: number, sizes: number[] = [0, 1, 0, 2, 0]): HeatColumn {
  const zeros = sizes.map(() => 0);
  return {
    ts,
    symbol: "BTC-USDT",
    bucketSize: 0.5,
    lo: 100,
    bids: sizes,
    asks: zeros,
    buys: zeros,
    sells: zeros,
    bestBid: 51,
    bestAsk: 51.5,
    mid: 51.25,
    exchanges: ["binance"],
    consolidation: null,
    liquidations: [],
  };
}

Deno.test("ColumnRing keeps the newest columns in order", () => {
  const ring = new ColumnRing(3);
  for (let ts = 1000; ts <= 5000; ts += 1000) {
    assert.equal(ring.push(col(ts)), true);
  }
  assert.equal(ring.length, 3);
  assert.deepEqual([ring.at(0).ts, ring.at(1).ts, ring.at(2).ts], [
    3000,
    4000,
    5000,
  ]);
});

Deno.test("ColumnRing ignores replayed columns and replaces a same-ts one", () => {
  const ring = new ColumnRing(4);
  ring.push(col(1000));
  ring.push(col(2000));
  assert.equal(ring.push(col(1000)), false);
  const again = col(2000, [3, 0, 0, 0, 0]);
  assert.equal(ring.push(again), true);
  assert.equal(ring.length, 2);
  assert.equal(ring.at(1), again);
});

Deno.test("ColumnRing tracks the price extent of non-empty buckets", () => {
  const ring = new ColumnRing(2);
  ring.push(col(1000));
  // Buckets 1 and 3 hold size: prices [50.5, 51) and [51.5, 52).
  assert.equal(ring.priceLow(0), 50.5);
  assert.equal(ring.priceHigh(0), 52);
  ring.push(col(2000, [0, 0, 0, 0, 0]));
  assert.equal(ring.priceLow(1), Infinity);
  assert.equal(ring.priceHigh(1), -Infinity);
});

Deno.test("ColumnRing.clear empties the ring", () => {
  const ring = new ColumnRing(2);
  ring.push(col(1000));
  ring.clear();
  assert.equal(ring.length, 0);
  assert.equal(ring.push(col(500)), true);
});

Deno.test("ColumnRing rejects a bad capacity", () => {
  assert.throws(
    () => new ColumnRing(0),
    /Capacity must be a positive integer, got 0/,
  );
});

Deno.test("ColumnRing.prepend puts older columns first and grows instead of dropping newer ones", () => {
  const ring = new ColumnRing(3);
  for (let ts = 4000; ts <= 6000; ts += 1000) ring.push(col(ts));
  // Full: the older columns make it grow; the ones at or after 4000 are not older.
  const older = [1000, 2000, 3000, 4000, 5000].map((ts) =>
    col(ts, [0, 0, ts / 1000, 0, 0])
  );
  assert.equal(ring.prepend(older), 3);
  assert.equal(ring.length, 6);
  assert.equal(ring.capacity, 6);
  const ts = Array.from({ length: ring.length }, (_, i) => ring.at(i).ts);
  assert.deepEqual(ts, [1000, 2000, 3000, 4000, 5000, 6000]);
  assert.equal(ring.at(0), older[0]);
  // Their price extents are tracked too: bucket 2 is [51, 51.5).
  assert.equal(ring.priceLow(0), 51);
  assert.equal(ring.priceHigh(0), 51.5);
  assert.equal(ring.priceLow(3), 50.5);
  // Nothing older than the oldest: nothing prepended.
  assert.equal(ring.prepend([col(1000), col(7000)]), 0);
  // Live columns keep coming; the oldest go first again.
  ring.push(col(7000));
  assert.equal(ring.length, 6);
  assert.equal(ring.at(0).ts, 2000);
  assert.equal(ring.at(5).ts, 7000);
});

Deno.test("ColumnRing.prepend into a ring with room, and an empty one", () => {
  const ring = new ColumnRing(10);
  assert.equal(ring.prepend([col(1000), col(2000)]), 2);
  ring.push(col(3000));
  assert.equal(ring.prepend([col(500), col(400)]), 1);
  assert.equal(ring.capacity, 10);
  const ts = Array.from({ length: ring.length }, (_, i) => ring.at(i).ts);
  assert.deepEqual(ts, [400, 1000, 2000, 3000]);
});
