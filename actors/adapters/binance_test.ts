import assert from "node:assert/strict";
import type { Instrument, MarketEvent } from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { binanceAdapter } from "./binance.ts";
import { binanceFuturesAdapter } from "./binance_futures.ts";

const SAMPLES =
  "../shared/data/samples/nautilus_trader/crates/adapters/binance/test_data/futures/market_data_json";
const CAPTURES = "../shared/data/captures/cryptofeed";

const btcPerp: Instrument = {
  exchange: "binance-futures",
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  base: "BTC",
  quote: "USDT",
  market: "perpetual",
  contractSize: 1,
};
const futures = binanceFuturesAdapter.parser(new Map([["BTCUSDT", btcPerp]]));

function assertSane(events: MarketEvent[]): void {
  for (const e of events) {
    for (const [k, v] of Object.entries(e)) {
      if (typeof v === "number") assert.ok(Number.isFinite(v), `${k} is ${v}`);
    }
  }
}

Deno.test("binance-futures: depthUpdate sample → book_delta with U/u/pu (docs example)", async () => {
  const raw = await Deno.readTextFile(`${SAMPLES}/depth_update_stream.json`);
  const events = futures.parse(raw, 1000);
  assertSane(events);
  assert.deepEqual(events, [{
    type: "book_delta",
    exchange: "binance-futures",
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "perpetual",
    exchangeTs: 123456788, // T, the transaction time
    localTs: 1000,
    first: 157,
    last: 160,
    prev: 149,
    bids: [0.0024, 10],
    asks: [0.0026, 100],
    contractSize: 1,
  }]);
});

Deno.test("binance-futures: aggTrade and trade samples: m=true means the taker sold", async () => {
  for (const f of ["agg_trade_stream.json", "trade_stream.json"]) {
    const [t] = futures.parse(await Deno.readTextFile(`${SAMPLES}/${f}`), 5);
    assert.equal(t.type, "trade");
    if (t.type !== "trade") return;
    assert.equal(t.side, "sell");
    assert.equal(t.price, 0.001);
    assert.equal(t.size, 100);
    assert.equal(t.rawSize, 100);
    assert.equal(t.exchangeTs, 123456785);
    assert.equal(t.id, "5933014");
  }
});

Deno.test("binance-futures: forceOrder sample → liquidation at the average price, filled size", async () => {
  const [l] = futures.parse(
    await Deno.readTextFile(`${SAMPLES}/liquidation_stream.json`),
    7,
  );
  assert.deepEqual(l, {
    type: "liquidation",
    exchange: "binance-futures",
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "perpetual",
    exchangeTs: 1568014460893,
    localTs: 7,
    price: 9910.12345678,
    size: 0.014,
    rawSize: 0.014,
    side: "sell",
  });
});

Deno.test("binance: exchangeInfo from the capture normalizes symbols to BASE-QUOTE", async () => {
  const line =
    (await Deno.readTextFile(`${CAPTURES}/BINANCE.0`)).split("\n")[0];
  const body = line.slice(line.indexOf(": ") + 2);
  const insts = binanceAdapter.instruments([body]);
  const nkn = insts.find((i) => i.exchangeSymbol === "NKNUSDT");
  assert.deepEqual(nkn, {
    exchange: "binance",
    exchangeSymbol: "NKNUSDT",
    symbol: "NKN-USDT",
    base: "NKN",
    quote: "USDT",
    market: "spot",
    contractSize: 1,
  });
  const fline =
    (await Deno.readTextFile(`${CAPTURES}/BINANCE_FUTURES.0`)).split("\n")[0];
  const finsts = binanceFuturesAdapter.instruments([
    fline.slice(fline.indexOf(": ") + 2),
  ]);
  assert.equal(
    finsts.find((i) => i.exchangeSymbol === "SUSHIUSDT")?.market,
    "perpetual",
  );
  const dated = finsts.find((i) => /_\d{6}$/.test(i.exchangeSymbol));
  assert.equal(dated?.market, "future");
  assert.ok(dated?.expiry! > 1.6e12);
});

Deno.test("binance: frames that carry nothing yield no events; broken ones throw MalformedFrameError", () => {
  const spot = binanceAdapter.parser(new Map());
  assert.deepEqual(spot.parse(`{"result":null,"id":1}`, 0), []);
  // A followed channel we do not normalize (bookTicker) and an unfollowed symbol.
  assert.deepEqual(
    futures.parse(
      `{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}}`,
      0,
    ),
    [],
  );
  assert.deepEqual(
    futures.parse(
      `{"data":{"e":"depthUpdate","s":"ETHUSDT","U":1,"u":2,"b":[],"a":[]}}`,
      0,
    ),
    [],
  );
  assert.throws(
    () => futures.parse(`{"stream":"btcusdt@depth`, 0),
    MalformedFrameError,
  );
  assert.throws(
    () =>
      futures.parse(
        `{"data":{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["x","1"]],"a":[]}}`,
        0,
      ),
    MalformedFrameError,
  );
});
