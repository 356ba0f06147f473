import assert from "node:assert/strict";
import type { Instrument } from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { binanceAdapter } from "./binance.ts";
import { binanceFuturesAdapter } from "./binance_futures.ts";
import { binanceDeliveryAdapter } from "./binance_delivery.ts";
import { binanceUsAdapter } from "./binance_us.ts";
import {
  assertSane,
  assertVenueErrors,
  capturedTexts,
  docFrames,
  tardisInputs,
} from "./_testing.ts";

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

const nknUsdt: Instrument = {
  exchange: "binance",
  exchangeSymbol: "NKNUSDT",
  symbol: "NKN-USDT",
  base: "NKN",
  quote: "USDT",
  market: "spot",
  contractSize: 1,
};

Deno.test('binance: an aggTrade without its id `a` is malformed, never a trade with id "undefined"', async () => {
  const spot = binanceAdapter.parser(new Map([["NKNUSDT", nknUsdt]]));
  const frame = (await capturedTexts("BINANCE.ws.1.0")).find((f) =>
    f.includes(`"e":"aggTrade"`) && f.includes(`"s":"NKNUSDT"`)
  )!;
  // The capture's frame as sent: a trade with its aggregate id.
  const [t] = spot.parse(frame, 1);
  assert.ok(t.type === "trade");
  assert.equal(t.id, String(JSON.parse(frame).data.a));
  // The same frame without `a`.
  const msg = JSON.parse(frame);
  delete msg.data.a;
  assert.throws(
    () => spot.parse(JSON.stringify(msg), 1),
    (e: Error) =>
      e instanceof MalformedFrameError &&
      e.message === "Bad trade id a of aggTrade NKNUSDT: undefined",
  );
  // Nor does a futures `trade` without `t` pass (tardis' real frame).
  const trade = (await tardisInputs("binance-futures")).find((l) =>
    l.includes(`"e":"trade"`) && l.includes(`"X":"MARKET"`)
  )!;
  const tmsg = JSON.parse(trade);
  assert.equal(futures.parse(trade, 1).length, 1);
  delete tmsg.data.t;
  assert.throws(
    () => futures.parse(JSON.stringify(tmsg), 1),
    (e: Error) =>
      e instanceof MalformedFrameError &&
      e.message === "Bad trade id t of trade BTCUSDT: undefined",
  );
});

Deno.test("binance: isHeartbeat is false for every frame of every Binance API (pings are WebSocket control frames)", async () => {
  const frames = [
    ...await capturedTexts("BINANCE.ws.1.0"),
    ...await capturedTexts("BINANCE_FUTURES.ws.1.0"),
    ...await tardisInputs("binance"),
    ...await tardisInputs("binance-futures"),
    ...await tardisInputs("binance-delivery"),
  ];
  assert.ok(frames.length > 1500);
  for (
    const a of [
      binanceAdapter,
      binanceUsAdapter,
      binanceFuturesAdapter,
      binanceDeliveryAdapter,
    ]
  ) {
    for (const f of frames) assert.equal(a.isHeartbeat(f), false, f);
  }
});

Deno.test("binance: error replies throw VenueError with Binance's msg on every Binance API; acks do not", async () => {
  const { errors } = await docFrames("binance", "spot");
  for (
    const a of [
      binanceAdapter,
      binanceUsAdapter,
      binanceFuturesAdapter,
      binanceDeliveryAdapter,
    ]
  ) {
    const p = a.parser(new Map());
    assertVenueErrors(p, errors);
    // tardis' real subscription ack.
    assert.deepEqual(
      p.parse((await tardisInputs("binance-delivery"))[0], 0),
      [],
    );
  }
});
