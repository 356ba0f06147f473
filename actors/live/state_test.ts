import assert from "node:assert/strict";
import { BatchBuilder, Kind } from "../market/batch.ts";
import { encodeColumns } from "../market/heatmap.ts";
import { RequestError } from "../../runtime/protocol.ts";
import type { Bar } from "../store/queries/ohlcv.ts";
import { LIVE_WINDOW_MS, LiveState } from "./state.ts";

const T0 = Date.UTC(2026, 11, 2, 12);
const REF = {
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  market: "spot" as const,
};

/** A batch of one frame: records `[kind, price, size]` at receive time `at`. */
function frame(at: number, records: [number, number, number][]) {
  const b = new BatchBuilder("binance");
  const s = b.symbol(REF);
  b.clock = at;
  for (const [k, p, q] of records) b.push(s, k, p, q, at - 5);
  return b.take();
}

function bar(
  ts: number,
  exchange: string,
  symbol: string,
  o: number,
  c: number,
  v: number,
): Bar {
  return {
    ts,
    exchange,
    symbol,
    open: o,
    high: Math.max(o, c) + 1,
    low: Math.min(o, c) - 1,
    close: c,
    volume: v,
    buyVolume: v / 4,
    sellVolume: (3 * v) / 4,
    trades: 2,
  };
}

Deno.test("live state: a book is served only from its keyframe on, and a lone Clear unsyncs it", () => {
  const live = new LiveState();
  // Deltas before any keyframe (a follower joining mid-stream): no book.
  live.onBatch(frame(T0, [[Kind.Bid, 59_990, 1]]));
  assert.equal(live.book("binance", "BTCUSDT", 10), null);
  live.onBatch(frame(T0 + 10, [
    [Kind.Clear, 0, 0],
    [Kind.Bid, 60_000, 1.5],
    [Kind.Bid, 59_990, 2],
    [Kind.Ask, 60_010, 0.7],
  ]));
  live.onBatch(frame(T0 + 20, [[Kind.Bid, 60_000, 0], [Kind.Ask, 60_005, 3]]));
  assert.deepEqual(live.book("binance", "BTCUSDT", 10), {
    exchange: "binance",
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "spot",
    state: "synced",
    lastSequence: -1,
    bids: [[59_990, 2]],
    asks: [[60_005, 3], [60_010, 0.7]],
  });
  // A resync starts with a bare Clear: unsynced, no levels served.
  live.onBatch(frame(T0 + 30, [[Kind.Clear, 0, 0]]));
  const b = live.book("binance", "BTCUSDT", 10)!;
  assert.equal(b.state, "unsynced");
  assert.deepEqual([b.bids, b.asks], [[], []]);
});

Deno.test("live state: the frame holds the window's trades, bars rolled up, books and the consolidated series", () => {
  const live = new LiveState({ quoteAliases: { USDT: "USD" } });
  assert.throws(
    () => live.frame({ symbol: "BTC-USD", windowMs: 60_000 }),
    (e) => e instanceof RequestError && e.code === "not_found",
  );
  live.onBatch(
    frame(T0, [[Kind.Clear, 0, 0], [Kind.Bid, 60_000, 1], [
      Kind.Ask,
      60_010,
      2,
    ]]),
  );
  for (let i = 1; i <= 90; i++) {
    live.onBatch(
      frame(T0 + i * 1000, [[
        i % 2 ? Kind.Buy : Kind.Sell,
        60_000 + i,
        0.01 * i,
      ]]),
    );
  }
  const bars: Bar[] = [];
  for (let i = 0; i < 90; i++) {
    bars.push(
      bar(T0 + i * 1000, "binance", "BTCUSDT", 60_000 + i, 60_001 + i, 1),
    );
    bars.push(
      bar(T0 + i * 1000, "consolidated", "BTC-USD", 60_000 + i, 60_001 + i, 1),
    );
  }
  live.onBars(bars);
  live.onColumns(encodeColumns(T0 + 90_000, [{
    exchange: "binance",
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USD",
    market: "spot",
    ts: T0 + 90_000,
    bucketSize: 10,
    lo: 5998,
    n: 4,
    bestBid: 60_000,
    bestAsk: 60_010,
    bids: new Float64Array([0, 0, 1, 0]),
    asks: new Float64Array([0, 0, 0, 2]),
    buys: new Float64Array(4),
    sells: new Float64Array(4),
  }]));
  const f = live.frame({ symbol: "BTC-USD", windowMs: 30_000, depth: 1 });
  assert.equal(f.symbol, "BTC-USD");
  assert.equal(f.at, T0 + 90_000);
  assert.equal(f.from, T0 + 60_000);
  assert.deepEqual(f.series, [
    { exchange: "binance", symbol: "BTCUSDT" },
    { exchange: "consolidated", symbol: "BTC-USD" },
  ]);
  // Trades in [from, at]: seconds 60..90.
  assert.deepEqual(
    f.trades.map((t) => t.ts),
    Array.from({ length: 31 }, (_, i) => T0 + (60 + i) * 1000),
  );
  assert.equal(f.trades[0].side, "sell");
  // 1 s bars opening in the window; 1 m bars from the minute holding `from`.
  assert.equal(f.ohlcv["1s"].length, 2 * 30);
  const minute = f.ohlcv["1m"].filter((b) => b.exchange === "binance");
  assert.deepEqual(
    minute.map((b) => [b.ts, b.open, b.close, b.volume, b.trades]),
    [
      [T0 + 60_000, 60_060, 60_090, 30, 60],
    ],
  );
  assert.equal(
    f.ohlcv["1h"].filter((b) => b.exchange === "binance")[0].volume,
    90,
  );
  assert.deepEqual(f.books.map((b) => [b.bids, b.asks]), [[[[60_000, 1]], [[
    60_010,
    2,
  ]]]]);
  assert.deepEqual(f.quality.exchanges, ["binance"]);
  assert.equal(f.imbalances.length, 1);
  assert.equal(f.imbalances[0].bidSize, 1);
  // Newest `limit` rows, oldest first.
  const g = live.frame({ symbol: "BTCUSDT", windowMs: 30_000, limit: 5 });
  assert.deepEqual(
    g.trades.map((t) => t.ts),
    [86, 87, 88, 89, 90].map((s) => T0 + s * 1000),
  );
  assert.deepEqual(g.series, [{ exchange: "binance", symbol: "BTCUSDT" }]);
  // An exchange asked for that named nothing is missing, not an error.
  const h = live.frame({
    symbol: "BTC-USD",
    windowMs: 30_000,
    exchanges: ["binance", "okx"],
  });
  assert.deepEqual(h.quality.missing, ["okx"]);
  assert.deepEqual(h.quality.unsynced, ["okx"]);
});

Deno.test("live state: a window or limit past the cache is a bad request", () => {
  const live = new LiveState();
  for (
    const p of [{ windowMs: LIVE_WINDOW_MS + 1 }, {
      windowMs: 1000,
      limit: 1001,
    }]
  ) {
    assert.throws(
      () => live.frame({ symbol: "BTC-USDT", ...p }),
      (e) =>
        e instanceof RequestError && e.code === "bad_request" &&
        /live/.test(e.message),
    );
  }
});
