import assert from "node:assert/strict";
import type { HeatColumn } from "./columns.ts";
import {
  crossText,
  excludedVenues,
  exclusionTitle,
  percent,
} from "./consolidation.ts";

function col(consolidation: HeatColumn["consolidation"]): HeatColumn {
  return {
    ts: 1000,
    symbol: "BTC-USD",
    bucketSize: 10,
    lo: 2872,
    bids: [],
    asks: [],
    buys: [],
    sells: [],
    bestBid: 30236.1,
    bestAsk: 30236.2,
    mid: 30236.15,
    exchanges: ["okx", "okx"],
    consolidation,
    liquidations: [],
  };
}

const venue = {
  exchange: "bybit",
  exchangeSymbol: "BTCUSD",
  mid: 60622.75,
  weight: 287.8,
  deviation: 1.005,
};

Deno.test("excludedVenues names each excluded exchange with its reasons", () => {
  const c = col({
    mid: 30236.15,
    range: 0.05,
    outlierThreshold: 0.02,
    venues: [venue],
    excluded: [
      { ...venue, reason: "mid 60622.75 is 100.50% above" },
      {
        ...venue,
        exchangeSymbol: "BTCUSDT",
        reason: "mid 60600 is 100.42% above",
      },
    ],
    crossed: false,
    cross: null,
  });
  const m = excludedVenues(c);
  assert.deepEqual([...m.keys()], ["bybit"]);
  assert.equal(
    m.get("bybit"),
    "BTCUSD: mid 60622.75 is 100.50% above\nBTCUSDT: mid 60600 is 100.42% above",
  );
  assert.equal(excludedVenues(null).size, 0);
  assert.equal(excludedVenues(col(null)).size, 0);
  assert.equal(crossText(c), null);
});

Deno.test("crossText names the two venues of a cross", () => {
  const c = col({
    mid: 30236.15,
    range: 0.05,
    outlierThreshold: 0.02,
    venues: [],
    excluded: [],
    crossed: true,
    cross: {
      bid: { exchange: "okx-b", exchangeSymbol: "X", price: 30244.5147 },
      ask: { exchange: "okx", exchangeSymbol: "Y", price: 30236.2 },
    },
  });
  assert.equal(crossText(c), "crossed: bid 30244.515 okx-b > ask 30236.2 okx");
});

Deno.test("exclusionTitle says since when, the mid and the deviation", () => {
  assert.equal(
    exclusionTitle([{
      symbol: "BTC-USD",
      exchangeSymbol: "BTCUSD",
      since: 10_000,
      mid: 60622.75,
      consensusMid: 30236.15,
      deviation: 1.00497,
    }], 22_400),
    "excluded from BTC-USD (BTCUSD) for 12s: mid 60622.75, +100.50% vs consensus 30236.15",
  );
  assert.equal(percent(-0.0312), "-3.12%");
  assert.equal(percent(null), "–");
});
