import assert from "node:assert/strict";
import type { HeatColumn } from "../columns.ts";
import { candlesFromColumns, columnVolume } from "./bars.ts";

/** A column whose trades are given as price → [buy, sell] on a 10-wide grid. */
function column(
  ts: number,
  trades: Record<number, [number, number]>,
): HeatColumn {
  const lo = 3000;
  const n = 10;
  const buys = new Array(n).fill(0), sells = new Array(n).fill(0);
  for (const [price, [b, s]] of Object.entries(trades)) {
    const i = Math.floor(Number(price) / 10) - lo;
    buys[i] += b;
    sells[i] += s;
  }
  return {
    ts,
    symbol: "BTC-USD",
    bucketSize: 10,
    lo,
    bids: new Array(n).fill(0),
    asks: new Array(n).fill(0),
    buys,
    sells,
    bestBid: null,
    bestAsk: null,
    mid: null,
    exchanges: ["a"],
    consolidation: null,
    liquidations: [],
  };
}

Deno.test("columnVolume: sums a column's buys and sells", () => {
  assert.deepEqual(
    columnVolume(column(5, { 30000: [1, 0.5], 30020: [2, 0] })),
    { ts: 5, buy: 3, sell: 0.5 },
  );
});

Deno.test("candlesFromColumns: bars by timeframe at the buckets' middles", () => {
  const cols = [
    column(60_000, { 30000: [1, 0] }), // 30005
    column(61_000, {}), // no trade: nothing
    column(62_000, { 30050: [0, 1], 30010: [1, 0] }), // vwap 30035
    column(119_000, { 30020: [2, 0] }), // 30025
    column(120_000, { 30090: [1, 1] }), // next bar
  ];
  const bars = candlesFromColumns(cols, 60_000);
  assert.equal(bars.length, 2);
  assert.deepEqual(bars[0], {
    ts: 60_000,
    open: 30005,
    high: 30055,
    low: 30005,
    close: 30025,
    volume: 5,
  });
  assert.deepEqual(bars[1], {
    ts: 120_000,
    open: 30095,
    high: 30095,
    low: 30095,
    close: 30095,
    volume: 2,
  });
  assert.throws(() => candlesFromColumns(cols, 0), RangeError);
});
