/**
 * Bybit adapters on real messages: v5 (`bybit` derivatives, `bybit-spot`)
 * from nautilus_trader's and tardis-node's test inputs and a real 500-level
 * daily file, v2 (retired) from tardis-node's inputs and the cryptofeed
 * capture's metadata. Expected values are worked out from Bybit's docs:
 * linear and spot sizes are in base; inverse sizes are 1-USD contracts, so
 * base = contracts / price; a liquidation's `S`/`side` names the liquidated
 * position, so "Buy" is a sell order.
 */

import assert from "node:assert/strict";
import { inflateRawSync } from "node:zlib";
import { OrderBook } from "../market/book.ts";
import { BookSync } from "../market/book_sync.ts";
import type { Instrument, MarketEvent, Trade } from "../market/events.ts";
import { type InstrumentTable, MalformedFrameError } from "./adapter.ts";
import { bybitAdapter } from "./bybit.ts";
import { bybitSpotAdapter } from "./bybit_spot.ts";
import { bybitV2Adapter } from "./bybit_v2.ts";
import { adapterFor } from "./mod.ts";
import {
  assertSane,
  assertVenueErrors,
  capturedTexts,
  docFrames,
} from "./_testing.ts";

const SAMPLES = "../shared/data/samples";
const TARDIS = `${SAMPLES}/tardis-node-inputs`;
const NAUTILUS = `${SAMPLES}/nautilus_trader/crates/adapters/bybit/test_data`;
const OB500 =
  `${SAMPLES}/nautilus_trader/tests/test_data/bybit/xrpusdt-ob500.data.zip`;
const CAPTURES = "../shared/data/captures/cryptofeed";
const T = 1_700_000_000_000; // local receive time passed to the parsers

function lines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l.trim());
}

function table(insts: readonly Instrument[]): InstrumentTable {
  return new Map(insts.map((i) => [i.exchangeSymbol, i]));
}

// ---- v5 instruments (response shape from the instruments-info docs) ----

const v5Entry = (
  symbol: string,
  contractType: string,
  baseCoin: string,
  quoteCoin: string,
  deliveryTime = "0",
) => ({
  symbol,
  contractType,
  status: "Trading",
  baseCoin,
  quoteCoin,
  launchTime: "1585526400000",
  deliveryTime,
  priceFilter: { tickSize: "0.10" },
  lotSizeFilter: { qtyStep: "0.001" },
  settleCoin: quoteCoin,
});
const LINEAR_BODY = JSON.stringify({
  retCode: 0,
  retMsg: "OK",
  result: {
    category: "linear",
    list: [
      v5Entry("BTCUSDT", "LinearPerpetual", "BTC", "USDT"),
      v5Entry("LTCUSDT", "LinearPerpetual", "LTC", "USDT"),
      v5Entry("XRPUSDT", "LinearPerpetual", "XRP", "USDT"),
      v5Entry("GALAUSDT", "LinearPerpetual", "GALA", "USDT"),
      v5Entry("PIPPINUSDT", "LinearPerpetual", "PIPPIN", "USDT"),
      v5Entry("BTCPERP", "LinearPerpetual", "BTC", "USDC"),
      v5Entry("BTC-27JUN25", "LinearFutures", "BTC", "USDC", "1751011200000"),
    ],
    nextPageCursor: "",
  },
  retExtInfo: {},
  time: 1707186451514,
});
const INVERSE_BODY = JSON.stringify({
  retCode: 0,
  retMsg: "OK",
  result: {
    category: "inverse",
    list: [
      v5Entry("BTCUSD", "InversePerpetual", "BTC", "USD"),
      v5Entry("XRPUSD", "InversePerpetual", "XRP", "USD"),
      v5Entry("BTCUSDH25", "InverseFutures", "BTC", "USD", "1743148800000"),
    ],
    nextPageCursor: "",
  },
});
const SPOT_BODY = JSON.stringify({
  retCode: 0,
  result: {
    category: "spot",
    list: [
      {
        symbol: "BTCUSDT",
        baseCoin: "BTC",
        quoteCoin: "USDT",
        status: "Trading",
      },
      {
        symbol: "BTCUSDC",
        baseCoin: "BTC",
        quoteCoin: "USDC",
        status: "Trading",
      },
    ],
  },
});
const V5 = bybitAdapter.instruments([LINEAR_BODY, INVERSE_BODY]);
const V5_TABLE = table(V5);
const SPOT_TABLE = table(bybitSpotAdapter.instruments([SPOT_BODY]));
const byName = (s: string) => V5_TABLE.get(s)!;

Deno.test("bybit v5: instruments from instruments-info, linear and inverse", () => {
  assert.equal(V5.length, 10);
  assert.deepEqual(byName("BTCUSDT"), {
    exchange: "bybit",
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    base: "BTC",
    quote: "USDT",
    market: "perpetual",
    contractSize: 1,
  });
  // USDC perpetuals and futures are linear too.
  assert.equal(byName("BTCPERP").symbol, "BTC-USDC");
  assert.deepEqual(byName("BTC-27JUN25"), {
    exchange: "bybit",
    exchangeSymbol: "BTC-27JUN25",
    symbol: "BTC-USDC",
    base: "BTC",
    quote: "USDC",
    market: "future",
    contractSize: 1,
    expiry: Date.UTC(2025, 5, 27, 8),
  });
  // Inverse: 1 USD contracts.
  assert.deepEqual(byName("BTCUSD"), {
    exchange: "bybit",
    exchangeSymbol: "BTCUSD",
    symbol: "BTC-USD",
    base: "BTC",
    quote: "USD",
    market: "perpetual",
    contractSize: 1,
    inverse: true,
  });
  assert.equal(byName("BTCUSDH25").market, "future");
  assert.equal(byName("BTCUSDH25").expiry, Date.UTC(2025, 2, 28, 8));
  // Spot is its own exchange id.
  assert.deepEqual(SPOT_TABLE.get("BTCUSDT"), {
    exchange: "bybit-spot",
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    base: "BTC",
    quote: "USDT",
    market: "spot",
    contractSize: 1,
  });
  assert.throws(
    () => bybitAdapter.instruments(['{"retCode":10001}', INVERSE_BODY]),
    MalformedFrameError,
  );
});

Deno.test("bybit v5: linear and inverse symbols get their own connection and endpoint", () => {
  const group = bybitAdapter.connectionGroup!;
  for (const s of ["BTC-USDT", "BTC-USDT-PERP", "BTCUSDT", "BTCPERP"]) {
    assert.equal(group(s), "linear", s);
  }
  for (const s of ["ETH-USDC-PERP", "BTC-27JUN25", "BTCUSDT-27JUN25"]) {
    assert.equal(group(s), "linear", s);
  }
  for (const s of ["BTC-USD", "BTC-USD-PERP", "BTC-USD-250328", "BTCUSD"]) {
    assert.equal(group(s), "inverse", s);
  }
  assert.equal(group("BTCUSDH25"), "inverse");
  assert.equal(
    bybitAdapter.url(["BTCUSD", "XRPUSD"]),
    "wss://stream.bybit.com/v5/public/inverse",
  );
  assert.equal(
    bybitAdapter.url(["BTCUSDT", "BTCPERP"]),
    "wss://stream.bybit.com/v5/public/linear",
  );
  assert.equal(
    bybitSpotAdapter.url(["BTCUSDT"]),
    "wss://stream.bybit.com/v5/public/spot",
  );
  // v2: inverse on /realtime, USDT on /realtime_public (the capture's paths).
  assert.equal(bybitV2Adapter.connectionGroup!("EOS-USD"), "inverse");
  assert.equal(bybitV2Adapter.connectionGroup!("BCH-USDT"), "linear");
  assert.equal(
    bybitV2Adapter.url(["BTCUSD"]),
    "wss://stream.bybit.com/realtime",
  );
  assert.equal(
    bybitV2Adapter.url(["BTCUSDT"]),
    "wss://stream.bybit.com/realtime_public",
  );
});

Deno.test("bybit v5: subscribe frames carry at most 10 topics; resubscribe asks for one book", () => {
  const syms = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"];
  const frames = bybitAdapter.subscribe(syms).map((f) => JSON.parse(f));
  assert.equal(frames.length, 2);
  assert.deepEqual(frames[0].args.slice(0, 3), [
    "orderbook.200.BTCUSDT",
    "publicTrade.BTCUSDT",
    "allLiquidation.BTCUSDT",
  ]);
  assert.equal(frames[0].args.length, 10);
  assert.equal(frames[1].args.length, 2);
  for (const f of frames) assert.equal(f.op, "subscribe");
  // Spot has no liquidations.
  assert.deepEqual(
    JSON.parse(bybitSpotAdapter.subscribe(["BTCUSDT"])[0]).args,
    ["orderbook.200.BTCUSDT", "publicTrade.BTCUSDT"],
  );
  assert.deepEqual(bybitAdapter.book.resubscribe!("BTCUSDT"), [
    '{"op":"unsubscribe","args":["orderbook.200.BTCUSDT"]}',
    '{"op":"subscribe","args":["orderbook.200.BTCUSDT"]}',
  ]);
  assert.deepEqual(bybitAdapter.keepalive, {
    frame: '{"op":"ping"}',
    intervalMs: 20_000,
  });
});

Deno.test("bybit v5: nautilus order book snapshot and delta", () => {
  const p = bybitAdapter.parser(V5_TABLE);
  const snap = p.parse(
    Deno.readTextFileSync(`${NAUTILUS}/ws_orderbook_snapshot.json`),
    T,
  );
  const base = {
    exchange: "bybit",
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "perpetual",
    localTs: T,
    contractSize: 1,
  };
  assert.deepEqual(snap, [{
    type: "book_snapshot",
    ...base,
    exchangeTs: 1709891679000,
    sequence: 123456789,
    bids: [27450, 0.5, 27449.5, 1],
    asks: [27451, 0.75, 27451.5, 0.9],
  }]);
  const delta = p.parse(
    Deno.readTextFileSync(`${NAUTILUS}/ws_orderbook_delta.json`),
    T,
  );
  assert.deepEqual(delta, [{
    type: "book_delta",
    ...base,
    exchangeTs: 1709891679500,
    first: 123456790,
    last: 123456790,
    prev: -1,
    bids: [27450, 0.4],
    asks: [27451, 0],
  }]);
  // Its trade fixture names the topic "trade.linear.BTCUSDT", which is not a
  // Bybit topic (Bybit's is publicTrade.{symbol}): nothing comes out.
  assert.deepEqual(
    p.parse(Deno.readTextFileSync(`${NAUTILUS}/ws_public_trade.json`), T),
    [],
  );
});

Deno.test("bybit v5: tardis-node inputs give trades, books and liquidations in base", () => {
  const all = lines(`${TARDIS}/bybit.ndjson`);
  // The file mixes v2 (2019-2022) and v5 (2023-) messages; v5 ones carry
  // "ts" or are tickers.
  const v5 = all.filter((l) => {
    const m = JSON.parse(l);
    return "ts" in m || m.topic?.startsWith("tickers.");
  });
  assert.equal(v5.length, 16);
  const p = bybitAdapter.parser(V5_TABLE);
  const out = v5.map((l) => p.parse(l, T));
  for (const evs of out) assertSane(evs);
  const common = (s: string) => ({
    exchange: "bybit",
    exchangeSymbol: s,
    symbol: byName(s).symbol,
    market: byName(s).market,
    localTs: T,
  });
  // publicTrade.BTCUSD (inverse): 5823 contracts of 1 USD at 28560.5.
  assert.equal(out[0].length, 3);
  assert.deepEqual(out[0][0], {
    type: "trade",
    ...common("BTCUSD"),
    exchangeTs: 1680673823564,
    id: "0cbf2330-952d-5d03-a462-4bf826c867af",
    price: 28560.5,
    size: 5823 / 28560.5,
    rawSize: 5823,
    side: "buy",
  });
  assert.deepEqual(out[0].map((e) => (e as { rawSize: number }).rawSize), [
    5823,
    3,
    5593,
  ]);
  // publicTrade.LTCUSDT (linear, base).
  assert.deepEqual(out[1], [{
    type: "trade",
    ...common("LTCUSDT"),
    exchangeTs: 1680688979983,
    id: "4c7b6bdc-b4a3-5716-9c7b-bbe01dc7072f",
    price: 94.53,
    size: 0.4,
    rawSize: 0.4,
    side: "buy",
  }]);
  // orderbook.1.BTCUSDT snapshot u=7003305, then delta u=7003306.
  assert.deepEqual(out[2], [{
    type: "book_snapshot",
    ...common("BTCUSDT"),
    exchangeTs: 1680673820717,
    sequence: 7003305,
    bids: [28552, 0.047],
    asks: [28552.1, 25.433],
    contractSize: 1,
  }]);
  assert.deepEqual(out[3], [{
    type: "book_delta",
    ...common("BTCUSDT"),
    exchangeTs: 1680673821137,
    first: 7003306,
    last: 7003306,
    prev: -1,
    bids: [28552, 0.012],
    asks: [],
    contractSize: 1,
  }]);
  // orderbook.50.BTCPERP (USDC perpetual).
  assert.equal(out[4][0].type, "book_snapshot");
  assert.equal((out[5][0] as { first: number }).first, 20683569);
  // tickers: not followed.
  for (let i = 6; i <= 10; i++) assert.deepEqual(out[i], [], `tickers ${i}`);
  // liquidation.GALAUSDT (the pre-2025 topic): "Buy" = a long was liquidated.
  assert.deepEqual(out[11], [{
    type: "liquidation",
    ...common("GALAUSDT"),
    exchangeTs: 1673251091822,
    price: 0.03803,
    size: 1637,
    rawSize: 1637,
    side: "sell",
  }]);
  // liquidation.XRPUSD (inverse): 6949 USD at 0.5149.
  assert.deepEqual(out[12], [{
    type: "liquidation",
    ...common("XRPUSD"),
    exchangeTs: 1680673944093,
    price: 0.5149,
    size: 6949 / 0.5149,
    rawSize: 6949,
    side: "buy",
  }]);
  // A delta removing two levels (size "0").
  assert.deepEqual(
    [
      (out[13][0] as { bids: number[] }).bids,
      (out[13][0] as {
        asks: number[];
      }).asks,
    ],
    [[27994.6, 0, 27991.7, 0.777], [27994.4, 0.058, 27994.8, 0]],
  );
  // allLiquidation.PIPPINUSDT: "Sell" = a short was liquidated.
  assert.deepEqual(out[14], [{
    type: "liquidation",
    ...common("PIPPINUSDT"),
    exchangeTs: 1740480207110,
    price: 0.02456,
    size: 2846,
    rawSize: 2846,
    side: "buy",
  }]);
});

Deno.test("bybit v5: u = 1 (service restart) is a fresh snapshot; acks and pongs yield nothing", () => {
  const p = bybitAdapter.parser(V5_TABLE);
  // Docs: "Occasionally you'll receive u=1, which is a snapshot due to the
  // restart of the service: overwrite your local orderbook".
  const restart = p.parse(
    '{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["100.0","1"]],"a":[["101.0","2"]],"u":1,"seq":5},"cts":1}',
    T,
  );
  assert.equal(restart[0].type, "book_snapshot");
  assert.equal((restart[0] as { sequence: number }).sequence, 1);
  // Unfollowed symbol.
  assert.deepEqual(
    p.parse(
      '{"topic":"orderbook.200.ETHUSDT","type":"snapshot","ts":1,"data":{"s":"ETHUSDT","b":[],"a":[],"u":9,"seq":1}}',
      T,
    ),
    [],
  );
  // Subscription ack and the linear and spot pongs (docs examples).
  for (
    const f of [
      '{"success":true,"ret_msg":"","conn_id":"cejreaspqfh3sjdnldmg-p","req_id":"","op":"subscribe"}',
      '{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","req_id":"","op":"ping"}',
      '{"req_id":"","op":"pong","args":["1675418560633"],"conn_id":"cfcb4ocsvfriu23r3er0-1b"}',
    ]
  ) assert.deepEqual(p.parse(f, T), [], f);
  assert.throws(
    () => p.parse('{"topic":"orderbook.200', T),
    MalformedFrameError,
  );
  assert.throws(
    () =>
      p.parse(
        '{"topic":"orderbook.200.BTCUSDT","type":"delta","data":{"s":"BTCUSDT","b":[["x","1"]],"a":[],"u":7}}',
        T,
      ),
    MalformedFrameError,
  );
});

/** The first file of a zip archive (stored or deflated). */
function unzipFirst(path: string): string {
  const z = Deno.readFileSync(path);
  const v = new DataView(z.buffer, z.byteOffset, z.byteLength);
  assert.equal(v.getUint32(0, true), 0x04034b50, "zip local header");
  const method = v.getUint16(8, true);
  const size = v.getUint32(18, true);
  const start = 30 + v.getUint16(26, true) + v.getUint16(28, true);
  const data = z.subarray(start, start + size);
  assert.ok(method === 0 || method === 8, `zip method ${method}`);
  return new TextDecoder().decode(method === 0 ? data : inflateRawSync(data));
}

Deno.test("bybit v5: a real 500-level file (1 snapshot + 49 deltas) links with no gap and matches a plain rebuild", () => {
  const frames = unzipFirst(OB500).split("\n").filter((l) => l);
  assert.equal(frames.length, 50);
  const p = bybitAdapter.parser(V5_TABLE);
  const sync = new BookSync(bybitAdapter.book.sync);
  const book = new OrderBook();
  // The independent rebuild: price string → size string, per the docs
  // (snapshot replaces, size "0" deletes).
  const bids = new Map<string, string>();
  const asks = new Map<string, string>();
  for (const f of frames) {
    const evs = p.parse(f, T);
    assertSane(evs);
    assert.equal(evs.length, 1);
    const ev = evs[0];
    if (ev.type === "book_snapshot") {
      sync.snapshot(ev);
      book.clear();
      book.apply(ev.bids, ev.asks);
    } else if (ev.type === "book_delta") {
      assert.equal(sync.delta(ev), "apply", `u=${ev.first}`);
      book.apply(ev.bids, ev.asks);
    } else assert.fail(ev.type);
    assert.ok(!book.crossed(), "uncrossed");
    // Bybit deletes (size "0") the levels pushed out of the subscribed
    // depth, so the book keeps exactly 500 a side with no truncation.
    assert.equal(book.bids.length, 500);
    assert.equal(book.asks.length, 500);
    const m = JSON.parse(f);
    if (m.type === "snapshot") {
      bids.clear();
      asks.clear();
    }
    for (const [px, q] of m.data.b) {
      q === "0" ? bids.delete(px) : bids.set(px, q);
    }
    for (const [px, q] of m.data.a) {
      q === "0" ? asks.delete(px) : asks.set(px, q);
    }
  }
  assert.equal(sync.state, "synced");
  assert.equal(sync.lastSeq, 20254869 + 49);
  const sorted = (m: Map<string, string>, desc: boolean) =>
    [...m].map(([px, q]) => [+px, +q]).sort((a, b) =>
      desc ? b[0] - a[0] : a[0] - b[0]
    );
  assert.deepEqual(book.bids.top(Infinity), sorted(bids, true));
  assert.deepEqual(book.asks.top(Infinity), sorted(asks, false));
  assert.ok(bids.size > 400 && asks.size > 400);
});

Deno.test("bybit-spot: tardis-node inputs (v5 spot) parse; the retired spot v1 frames yield nothing", () => {
  const p = bybitSpotAdapter.parser(SPOT_TABLE);
  const out = lines(`${TARDIS}/bybit-spot.ndjson`).map((l) => p.parse(l, T));
  for (const evs of out) assertSane(evs);
  // Spot v1 (topic "depth"/"trade"/"bookTicker" with params) is another API.
  for (let i = 0; i < 5; i++) assert.deepEqual(out[i], [], `v1 line ${i}`);
  const spot = {
    exchange: "bybit-spot",
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "spot",
    localTs: T,
  };
  assert.equal(out[5].length, 4);
  assert.deepEqual(out[5][0], {
    type: "trade",
    ...spot,
    exchangeTs: 1680652847524,
    id: "2290000000050703789",
    price: 28165.38,
    size: 0.041732,
    rawSize: 0.041732,
    side: "sell",
  });
  assert.equal((out[6][0] as Trade).exchangeSymbol, "BTCUSDC");
  assert.deepEqual(out[7], [{
    type: "book_snapshot",
    ...spot,
    exchangeTs: 1680652806504,
    sequence: 20404754,
    bids: [28165.07, 0.175231],
    asks: [28165.08, 0.996816],
    contractSize: 1,
  }]);
  assert.deepEqual(out[10], [{
    type: "book_delta",
    ...spot,
    exchangeTs: 1680652808085,
    first: 59438061,
    last: 59438061,
    prev: -1,
    bids: [28161.04, 0.177474, 28145.71, 0],
    asks: [28184.33, 0],
    contractSize: 1,
  }]);
});

// ---- v2 (retired) ----

const V2_META = Deno.readTextFileSync(`${CAPTURES}/BYBIT.0`);
const V2 = bybitV2Adapter.instruments([
  V2_META.slice(V2_META.indexOf(": ") + 2, V2_META.indexOf("\n")),
]);
const V2_TABLE = table(V2);

Deno.test("bybit: the v2 adapter serves dates up to its retirement, v5 after", () => {
  assert.equal(adapterFor("bybit", Date.UTC(2021, 3, 17)), bybitV2Adapter);
  assert.equal(adapterFor("bybit", Date.UTC(2023, 9, 15)), bybitV2Adapter);
  assert.equal(adapterFor("bybit", Date.UTC(2023, 9, 17)), bybitAdapter);
  assert.equal(adapterFor("bybit"), bybitAdapter);
  assert.equal(adapterFor("bybit-spot"), bybitSpotAdapter);
});

Deno.test("bybit v2: instruments from the capture's /v2/public/symbols", () => {
  assert.equal(V2.length, 15);
  assert.deepEqual(V2_TABLE.get("BTCUSD"), {
    exchange: "bybit",
    exchangeSymbol: "BTCUSD",
    symbol: "BTC-USD",
    base: "BTC",
    quote: "USD",
    market: "perpetual",
    contractSize: 1,
    inverse: true,
  });
  assert.deepEqual(V2_TABLE.get("BCHUSDT"), {
    exchange: "bybit",
    exchangeSymbol: "BCHUSDT",
    symbol: "BCH-USDT",
    base: "BCH",
    quote: "USDT",
    market: "perpetual",
    contractSize: 1,
  });
  // BTCUSDM21, alias BTCUSD0625: delivered 25 June 2021, 08:00 UTC.
  assert.equal(V2_TABLE.get("BTCUSDM21")!.market, "future");
  assert.equal(V2_TABLE.get("BTCUSDM21")!.expiry, Date.UTC(2021, 5, 25, 8));
  assert.equal(V2_TABLE.get("BTCUSDU21")!.expiry, Date.UTC(2021, 8, 24, 8));
});

Deno.test("bybit v2: tardis-node inputs (inverse and USDT books, trades, liquidations)", () => {
  const all = lines(`${TARDIS}/bybit.ndjson`);
  const p = bybitV2Adapter.parser(V2_TABLE);
  const out: MarketEvent[][] = [];
  for (let i = 0; i < 38; i++) {
    // tardis-node generated these liquidations itself from REST polling
    // ("generated": true); Bybit never sent them.
    if (JSON.parse(all[i]).generated) {
      out.push([]);
      continue;
    }
    out.push(p.parse(all[i], T));
  }
  for (const evs of out) assertSane(evs);
  const common = (s: string) => ({
    exchange: "bybit",
    exchangeSymbol: s,
    symbol: V2_TABLE.get(s)!.symbol,
    market: "perpetual",
    localTs: T,
  });
  const inverse = { contractSize: 1, inverse: true };
  // Ack, instrument_info, orderBook_200 (not subscribed), BTCPERP (USDC
  // perpetual, another API): nothing.
  for (const i of [0, 1, 6, 7, 8, 11, 20, 21, 23, 25, 26, 27, 32]) {
    assert.deepEqual(out[i], [], `line ${i}`);
  }
  for (const i of [33, 34, 35, 36, 37]) {
    assert.deepEqual(out[i], [], `line ${i}`);
  }
  // Inverse snapshot: sizes are USD contracts.
  assert.deepEqual(out[2], [{
    type: "book_snapshot",
    ...common("BTCUSD"),
    exchangeTs: 1573044648627,
    sequence: 794201904,
    bids: [9353.5, 58486 / 9353.5],
    asks: [9366, 704729 / 9366],
    ...inverse,
  }]);
  assert.deepEqual(out[3], [{
    type: "book_delta",
    ...common("BTCUSD"),
    exchangeTs: 1573044650028,
    first: 794201917,
    last: 794201917,
    prev: -1,
    bids: [],
    asks: [9367, 674462 / 9367],
    ...inverse,
  }]);
  // Trade with only the ISO time (2019).
  assert.deepEqual(out[4], [{
    type: "trade",
    ...common("BTCUSD"),
    exchangeTs: Date.UTC(2019, 10, 6, 12, 50, 52),
    id: "8c53dd53-2df5-563d-8e3b-e0dbba7c55a0",
    price: 9366,
    size: 6000 / 9366,
    rawSize: 6000,
    side: "buy",
  }]);
  // delete (size 0), update and insert in one delta.
  assert.deepEqual(out[5], [{
    type: "book_delta",
    ...common("XRPUSD"),
    exchangeTs: 1573045141027,
    first: 322932462,
    last: 322932462,
    prev: -1,
    bids: [0.301, 224986 / 0.301],
    asks: [0.3013, 0, 0.3038, 41761 / 0.3038],
    ...inverse,
  }]);
  // USDT perpetual: strings for cross_seq and timestamp_e6, sizes in base.
  assert.deepEqual(out[9], [{
    type: "book_delta",
    ...common("BTCUSDT"),
    exchangeTs: 1590683460293,
    first: 177025198,
    last: 177025198,
    prev: -1,
    bids: [],
    asks: [9452.5, 9.95],
    contractSize: 1,
  }]);
  assert.deepEqual(out[10], [{
    type: "trade",
    ...common("BTCUSDT"),
    exchangeTs: 1590683462124,
    id: "bfbbb893-0971-5733-8eb2-aab164d0a552",
    price: 9452,
    size: 0.001,
    rawSize: 0.001,
    side: "sell",
  }]);
  assert.equal((out[12][0] as Trade).exchangeTs, 1590683463041); // numeric trade_time_ms
  assert.equal((out[12][0] as { size: number }).size, 1 / 215.15);
  // USDT snapshot wraps its rows in order_book.
  assert.deepEqual(out[15], [{
    type: "book_snapshot",
    ...common("BTCUSDT"),
    exchangeTs: 1590682503852,
    sequence: 176990958,
    bids: [],
    asks: [9483, 9.16],
    contractSize: 1,
  }]);
  // Liquidations: "Sell" = a short liquidated, a buy order.
  assert.deepEqual(out[29], [{
    type: "liquidation",
    ...common("ETHUSD"),
    exchangeTs: 1631608881954,
    price: 3384.15,
    size: 3655 / 3384.15,
    rawSize: 3655,
    side: "buy",
  }]);
  assert.deepEqual(out[31], [{
    type: "liquidation",
    ...common("BTCUSDT"),
    exchangeTs: 1632123952732,
    price: 45212.5,
    size: 0.009,
    rawSize: 0.009,
    side: "buy",
  }]);
});

/** Whether a frame is a pong, read the slow way: the whole frame as JSON. */
function isPong(frame: string): boolean {
  const msg = JSON.parse(frame);
  return msg.ret_msg === "pong" || msg.op === "pong";
}

Deno.test("bybit v5 and spot: isHeartbeat is true for the docs' pongs, false for every real data frame", async () => {
  const data = [
    ...["ws_orderbook_snapshot", "ws_orderbook_delta", "ws_public_trade"].map((
      n,
    ) =>
      JSON.stringify(JSON.parse(Deno.readTextFileSync(`${NAUTILUS}/${n}.json`)))
    ),
    ...lines(`${TARDIS}/bybit-spot.ndjson`),
    ...unzipFirst(OB500).split("\n").filter((l) => l),
  ];
  assert.ok(data.length > 50);
  const { heartbeats } = await docFrames("bybit", "v5");
  for (const adapter of [bybitAdapter, bybitSpotAdapter]) {
    for (const f of data) {
      assert.equal(adapter.isHeartbeat(f), isPong(f), f.slice(0, 80));
    }
    for (const f of heartbeats) assert.ok(adapter.isHeartbeat(f), f);
  }
  for (const f of heartbeats) {
    assert.deepEqual(bybitAdapter.parser(V5_TABLE).parse(f, T), [], f);
  }
});

Deno.test("bybit v2: isHeartbeat is true for the legacy docs' pong, false for every frame of the capture and tardis' inputs", async () => {
  const frames = [
    ...await capturedTexts("BYBIT.ws.25.0"),
    ...await capturedTexts("BYBIT.ws.26.0"),
    ...lines(`${TARDIS}/bybit.ndjson`),
  ];
  let acks = 0;
  for (const f of frames) {
    assert.equal(bybitV2Adapter.isHeartbeat(f), isPong(f), f.slice(0, 80));
    if (f.startsWith(`{"success":true`)) acks++;
  }
  // The capture's subscription acks carry `ret_msg` too, empty.
  assert.ok(acks > 10 && frames.length > 1000);
  for (const f of (await docFrames("bybit", "v2")).heartbeats) {
    assert.ok(bybitV2Adapter.isHeartbeat(f), f);
    assert.deepEqual(bybitV2Adapter.parser(V2_TABLE).parse(f, T), [], f);
  }
});

Deno.test("bybit v5 and spot: success false throws VenueError with Bybit's ret_msg", async () => {
  const { errors } = await docFrames("bybit", "v5");
  assertVenueErrors(bybitAdapter.parser(V5_TABLE), errors);
  assertVenueErrors(bybitSpotAdapter.parser(SPOT_TABLE), errors);
});

Deno.test("bybit v2: a refused request throws VenueError naming the echoed topic's symbol; the capture's acks do not", async () => {
  const p = bybitV2Adapter.parser(V2_TABLE);
  assertVenueErrors(p, (await docFrames("bybit", "v2")).errors);
  for (const f of await capturedTexts("BYBIT.ws.25.0")) {
    if (f.startsWith(`{"success"`)) assert.deepEqual(p.parse(f, T), [], f);
  }
});
