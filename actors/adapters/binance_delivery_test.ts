import assert from "node:assert/strict";
import { BookSync } from "../market/book_sync.ts";
import type { BookDelta, Instrument, MarketEvent } from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { binanceDeliveryAdapter } from "./binance_delivery.ts";
import { binanceFuturesAdapter } from "./binance_futures.ts";
import { assertSane } from "./_testing.ts";

const SAMPLES =
  "../shared/data/samples/tardis-node-inputs/binance-delivery.ndjson";
const lines = (await Deno.readTextFile(SAMPLES)).trim().split("\n");
const objs = lines.map((l) => JSON.parse(l));

/** exchangeInfo as in the COIN-M docs (fields the adapter does not read trimmed). */
const EXCHANGE_INFO = JSON.stringify({
  timezone: "UTC",
  serverTime: 1592265600000,
  symbols: [
    {
      symbol: "BTCUSD_200925",
      pair: "BTCUSD",
      contractType: "CURRENT_QUARTER",
      deliveryDate: 1601020800000,
      onboardDate: 1590739200000,
      contractStatus: "TRADING",
      contractSize: 100,
      marginAsset: "BTC",
      baseAsset: "BTC",
      quoteAsset: "USD",
    },
    {
      symbol: "BTCUSD_PERP",
      pair: "BTCUSD",
      contractType: "PERPETUAL",
      deliveryDate: 4133404800000,
      onboardDate: 1597042800000,
      contractStatus: "TRADING",
      contractSize: 100,
      marginAsset: "BTC",
      baseAsset: "BTC",
      quoteAsset: "USD",
    },
    {
      symbol: "ETHUSD_PERP",
      pair: "ETHUSD",
      contractType: "PERPETUAL",
      deliveryDate: 4133404800000,
      onboardDate: 1597042800000,
      contractStatus: "TRADING",
      contractSize: 10,
      marginAsset: "ETH",
      baseAsset: "ETH",
      quoteAsset: "USD",
    },
  ],
});

const insts = binanceDeliveryAdapter.instruments([EXCHANGE_INFO]);
const quarterly = insts[0];
const table = new Map(insts.map((i) => [i.exchangeSymbol, i]));
const base = {
  exchange: "binance-delivery",
  exchangeSymbol: "BTCUSD_200925",
  symbol: "BTC-USD",
  market: "future",
} as const;

function parse(i: number, frame = lines[i]): MarketEvent[] {
  const ev = binanceDeliveryAdapter.parser(table).parse(frame, 1000 + i);
  assertSane(ev);
  return ev;
}

Deno.test("binance-delivery: exchangeInfo → inverse instruments with contractSize in USD and expiry for quarterlies", () => {
  assert.deepEqual(insts, [{
    exchange: "binance-delivery",
    exchangeSymbol: "BTCUSD_200925",
    symbol: "BTC-USD",
    base: "BTC",
    quote: "USD",
    market: "future",
    contractSize: 100,
    inverse: true,
    expiry: 1601020800000,
  }, {
    exchange: "binance-delivery",
    exchangeSymbol: "BTCUSD_PERP",
    symbol: "BTC-USD",
    base: "BTC",
    quote: "USD",
    market: "perpetual",
    contractSize: 100,
    inverse: true,
  }, {
    exchange: "binance-delivery",
    exchangeSymbol: "ETHUSD_PERP",
    symbol: "ETH-USD",
    base: "ETH",
    quote: "USD",
    market: "perpetual",
    contractSize: 10,
    inverse: true,
  }]);
  assert.throws(
    () => binanceDeliveryAdapter.instruments([`{"code":-1121}`]),
    MalformedFrameError,
  );
});

Deno.test("binance-delivery: depthUpdate → inverse book_delta: size = contracts × 100 / price", () => {
  assert.deepEqual(parse(2), [{
    type: "book_delta",
    ...base,
    exchangeTs: 1592265600420, // T, the transaction time
    localTs: 1002,
    first: 37471290,
    last: 37471292,
    prev: 37471291,
    bids: [9498.9, 13 * 100 / 9498.9], // 13 contracts of 100 USD in BTC
    asks: [],
    contractSize: 100,
    inverse: true,
  }]);
});

Deno.test("binance-delivery: REST snapshot + pu chain: the first diff covers lastUpdateId, a broken pu is a gap", () => {
  // tardis' generated depthSnapshot line holds the /dapi/v1/depth body.
  const snap = binanceDeliveryAdapter.book.parseSnapshot!(
    JSON.stringify(objs[1].data),
    2000,
    quarterly,
  );
  assert.deepEqual(snap, {
    type: "book_snapshot",
    ...base,
    exchangeTs: 1592265600229,
    localTs: 2000,
    sequence: 37471290,
    bids: [9504.8, 181 * 100 / 9504.8],
    asks: [99999.0, 4090 * 100 / 99999.0],
    contractSize: 100,
    inverse: true,
  });
  assert.deepEqual(parse(1), []); // the generated line is not a venue frame
  const sync = new BookSync(binanceDeliveryAdapter.book.sync);
  assert.equal(sync.snapshot(snap).result, "synced");
  // U 37471290 <= lastUpdateId 37471290 <= u 37471292.
  assert.equal(sync.delta(parse(2)[0] as BookDelta), "apply");
  // The next sample has pu 37471321, not the previous u 37471292.
  const next = parse(5)[0] as BookDelta;
  assert.equal(next.prev, 37471321);
  assert.equal(sync.delta(next), "gap");
});

Deno.test("binance-delivery: trade and forceOrder → trade and liquidation in BTC, rawSize in contracts", () => {
  assert.deepEqual(parse(8), [{
    type: "trade",
    ...base,
    exchangeTs: 1592265616653,
    localTs: 1008,
    id: "173906",
    price: 9504.9,
    size: 1 * 100 / 9504.9,
    rawSize: 1,
    side: "buy", // m=false: the buyer took
  }]);
  // The filled quantity z=3 at the average price ap=9352.7.
  assert.deepEqual(parse(9), [{
    type: "liquidation",
    ...base,
    exchangeTs: 1594622954021,
    localTs: 1009,
    price: 9352.7,
    size: 3 * 100 / 9352.7,
    rawSize: 3,
    side: "sell",
  }]);
});

Deno.test("binance-delivery: acks, mark/index prices, tickers, open interest, book tickers yield nothing", () => {
  for (const i of [0, 3, 4, 6, 7, 11]) assert.deepEqual(parse(i), [], `${i}`);
  // An unfollowed symbol's trade.
  assert.deepEqual(parse(10), []);
});

Deno.test("binance futures trade stream: an ADL fill is not a market trade", () => {
  const etc: Instrument = {
    exchange: "binance-futures",
    exchangeSymbol: "ETCUSDT",
    symbol: "ETC-USDT",
    base: "ETC",
    quote: "USDT",
    market: "perpetual",
    contractSize: 1,
  };
  const p = binanceFuturesAdapter.parser(new Map([["ETCUSDT", etc]]));
  assert.equal(objs[10].data.X, "ADL");
  assert.deepEqual(p.parse(lines[10], 0), []);
  const market = JSON.stringify({
    ...objs[10],
    data: { ...objs[10].data, X: "MARKET" },
  });
  const [t] = p.parse(market, 0);
  assert.ok(t.type === "trade" && t.size === 0.05 && t.side === "sell");
});

Deno.test("binance-delivery: stream URL, snapshot URL and sync rule", () => {
  assert.equal(
    binanceDeliveryAdapter.url(["BTCUSD_PERP"]),
    "wss://dstream.binance.com/stream?streams=btcusd_perp@depth@100ms/btcusd_perp@aggTrade/btcusd_perp@forceOrder",
  );
  assert.equal(
    binanceDeliveryAdapter.book.snapshotUrl!("BTCUSD_231229"),
    "https://dapi.binance.com/dapi/v1/depth?symbol=BTCUSD_231229&limit=1000",
  );
  assert.deepEqual(binanceDeliveryAdapter.book.sync, {
    kind: "rest",
    link: "prev",
    align: 0,
  });
  assert.deepEqual(binanceDeliveryAdapter.metadataUrls, [
    "https://dapi.binance.com/dapi/v1/exchangeInfo",
  ]);
});
