/**
 * Hyperliquid adapter on real messages from tardis-node's test inputs,
 * nautilus_trader's test data and the hyperliquid-python-sdk cassette.
 * Expected values follow the docs: every `l2Book` message is the whole book
 * (bids first, best first), sizes are in coins, a trade's side is the
 * aggressor's (`B` buys, `A` sells).
 */

import assert from "node:assert/strict";
import type { MarketEvent } from "../market/events.ts";
import { type InstrumentTable, MalformedFrameError } from "./adapter.ts";
import { hyperliquidAdapter } from "./hyperliquid.ts";
import {
  assertSane,
  assertVenueErrors,
  docFrames,
  tardisInputs,
} from "./_testing.ts";

const SAMPLES = "../shared/data/samples";
const T = 1_700_000_000_000;

// `POST /info {"type":"meta"}` and `{"type":"spotMeta"}`, shaped as in the
// info-endpoint docs and the python SDK's Meta/SpotMeta types.
const META = JSON.stringify({
  universe: [
    { name: "BTC", szDecimals: 5, maxLeverage: 40 },
    { name: "FXS", szDecimals: 1, maxLeverage: 5 },
    { name: "BANANA", szDecimals: 1, maxLeverage: 5 },
    { name: "SHIA", szDecimals: 0, maxLeverage: 3 },
    { name: "DYDX", szDecimals: 1, maxLeverage: 10 },
    { name: "OLD", szDecimals: 0, maxLeverage: 3, isDelisted: true },
  ],
});
const SPOT_META = JSON.stringify({
  universe: [
    { name: "PURR/USDC", tokens: [1, 0], index: 0, isCanonical: true },
    { name: "@107", tokens: [150, 0], index: 107, isCanonical: false },
  ],
  tokens: [
    { name: "USDC", szDecimals: 8, weiDecimals: 8, index: 0 },
    { name: "PURR", szDecimals: 0, weiDecimals: 5, index: 1 },
    { name: "HYPE", szDecimals: 2, weiDecimals: 8, index: 150 },
  ],
});
const INSTS = hyperliquidAdapter.instruments([META, SPOT_META]);
const TABLE: InstrumentTable = new Map(
  INSTS.map((i) => [i.exchangeSymbol, i]),
);
const perp = (coin: string) => ({
  exchange: "hyperliquid",
  exchangeSymbol: coin,
  symbol: `${coin}-USDC`,
  market: "perpetual",
  localTs: T,
});

Deno.test("hyperliquid: instruments from meta (perpetuals) and spotMeta, fetched by POST", () => {
  assert.deepEqual(hyperliquidAdapter.metadataUrls, [
    "https://api.hyperliquid.xyz/info",
    "https://api.hyperliquid.xyz/info",
  ]);
  assert.deepEqual(
    hyperliquidAdapter.metadataBodies!.map((b) => JSON.parse(b!)),
    [{ type: "meta" }, { type: "spotMeta" }],
  );
  // The delisted perpetual is left out.
  assert.deepEqual(INSTS.map((i) => i.exchangeSymbol), [
    "BTC",
    "FXS",
    "BANANA",
    "SHIA",
    "DYDX",
    "PURR/USDC",
    "@107",
  ]);
  assert.deepEqual(TABLE.get("BTC"), {
    exchange: "hyperliquid",
    exchangeSymbol: "BTC",
    symbol: "BTC-USDC",
    base: "BTC",
    quote: "USDC",
    market: "perpetual",
    contractSize: 1,
  });
  // Spot pairs other than the first are named "@<index>".
  assert.deepEqual(TABLE.get("@107"), {
    exchange: "hyperliquid",
    exchangeSymbol: "@107",
    symbol: "HYPE-USDC",
    base: "HYPE",
    quote: "USDC",
    market: "spot",
    contractSize: 1,
  });
  assert.equal(TABLE.get("PURR/USDC")!.symbol, "PURR-USDC");
  assert.throws(
    () => hyperliquidAdapter.instruments(["{}", SPOT_META]),
    MalformedFrameError,
  );
});

Deno.test("hyperliquid: subscribe to l2Book and trades per coin; full-book sync", () => {
  assert.deepEqual(
    hyperliquidAdapter.subscribe(["BTC", "@107"]).map((f) => JSON.parse(f)),
    [
      { method: "subscribe", subscription: { type: "l2Book", coin: "BTC" } },
      { method: "subscribe", subscription: { type: "trades", coin: "BTC" } },
      { method: "subscribe", subscription: { type: "l2Book", coin: "@107" } },
      { method: "subscribe", subscription: { type: "trades", coin: "@107" } },
    ],
  );
  assert.equal(hyperliquidAdapter.url(["BTC"]), "wss://api.hyperliquid.xyz/ws");
  assert.deepEqual(hyperliquidAdapter.book.sync, { kind: "snapshots" });
  assert.equal(hyperliquidAdapter.keepalive?.frame, '{"method":"ping"}');
});

Deno.test("hyperliquid: tardis-node inputs; the first trades message of a coin is the backlog", () => {
  const p = hyperliquidAdapter.parser(TABLE);
  const out = Deno.readTextFileSync(
    `${SAMPLES}/tardis-node-inputs/hyperliquid.ndjson`,
  ).split("\n").filter((l) => l).map((l) => p.parse(l, T));
  for (const evs of out) assertSane(evs);
  assert.equal(out.length, 10);
  // FXS: the first message (sent on subscribing) is skipped, the next is live.
  assert.deepEqual(out[0], []);
  assert.deepEqual(out[1], [{
    type: "trade",
    ...perp("FXS"),
    exchangeTs: 1730160059558,
    id: "809065877559592",
    price: 1.9014,
    size: 9.1,
    rawSize: 9.1,
    side: "sell",
  }]);
  // BTC likewise: three backlog trades skipped, then one live buy.
  assert.deepEqual(out[2], []);
  assert.deepEqual(out[3], [{
    type: "trade",
    ...perp("BTC"),
    exchangeTs: 1730160007572,
    id: "696560709859024",
    price: 69998,
    size: 0.00714,
    rawSize: 0.00714,
    side: "buy",
  }]);
  // An empty book is still a (whole, empty) book.
  assert.deepEqual(out[4], [{
    type: "book_snapshot",
    ...perp("SHIA"),
    exchangeTs: 1730160007687,
    sequence: -1,
    bids: [],
    asks: [],
    contractSize: 1,
  }]);
  assert.deepEqual(out[5], [{
    type: "book_snapshot",
    ...perp("BANANA"),
    exchangeTs: 1730160007687,
    sequence: -1,
    bids: [59.8, 3.4, 59.778, 1.6],
    asks: [59.811, 2.9, 59.832, 17.6],
    contractSize: 1,
  }]);
  // activeAssetCtx, activeSpotAssetCtx, bbo: not followed.
  for (let i = 6; i < 10; i++) assert.deepEqual(out[i], [], `line ${i}`);
});

Deno.test("hyperliquid: nautilus and python-sdk books", () => {
  const p = hyperliquidAdapter.parser(TABLE);
  // nautilus' ws_book_data.json is the `data` of an l2Book message.
  const nautilus = Deno.readTextFileSync(
    `${SAMPLES}/nautilus_trader/crates/adapters/hyperliquid/test_data/ws_book_data.json`,
  );
  const [b] = p.parse(`{"channel":"l2Book","data":${nautilus}}`, T);
  assert.deepEqual(b, {
    type: "book_snapshot",
    ...perp("BTC"),
    exchangeTs: 1703875200000,
    sequence: -1,
    bids: [
      98450.5,
      2.5,
      98449.75,
      1.8,
      98449,
      0.75,
      98448.25,
      3.2,
      98447.5,
      1.1,
    ],
    asks: [98451, 1.5, 98451.75, 2.1, 98452.5, 0.9, 98453.25, 1.7, 98454, 2.8],
    contractSize: 1,
  });
  // The SDK's recorded l2Book (DYDX, 20 levels a side) has the same shape.
  const sdk = Deno.readTextFileSync(
    `${SAMPLES}/hyperliquid-python-sdk/tests/cassettes/info_test/test_get_l2_snapshot.response.json`,
  );
  const [d] = p.parse(`{"channel":"l2Book","data":${sdk}}`, T) as {
    bids: number[];
    asks: number[];
    exchangeTs: number;
  }[];
  assertSane([d as unknown as MarketEvent]);
  assert.equal(d.bids.length, 40);
  assert.equal(d.asks.length, 40);
  assert.deepEqual(d.bids.slice(0, 2), [2.111, 134.4]);
  assert.deepEqual(d.asks.slice(0, 2), [2.1124, 352.3]);
  assert.equal(d.exchangeTs, 1689630203930);
  // nautilus' user-fill liquidation comes on a user channel: not a public feed.
  const fill = Deno.readTextFileSync(
    `${SAMPLES}/nautilus_trader/crates/adapters/hyperliquid/test_data/ws_user_fill_liquidation.json`,
  );
  assert.deepEqual(p.parse(fill, T), []);
});

Deno.test("hyperliquid: acks and pongs yield nothing; bad frames throw", () => {
  const p = hyperliquidAdapter.parser(TABLE);
  for (
    const f of [
      '{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"trades","coin":"SOL"}}}',
      '{"channel":"pong"}',
      "Websocket connection established.",
      '{"channel":"l2Book","data":{"coin":"ETH","time":1,"levels":[[],[]]}}',
    ]
  ) assert.deepEqual(p.parse(f, T), [], f);
  assert.throws(() => p.parse('{"channel":"l2Bo', T), MalformedFrameError);
  assert.throws(
    () =>
      p.parse(
        '{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[{"px":"x","sz":"1","n":1}],[]]}}',
        T,
      ),
    MalformedFrameError,
  );
});

Deno.test("hyperliquid: isHeartbeat is true for the pong, false for tardis' real frames and nautilus' book sample", async () => {
  const data = [
    ...await tardisInputs("hyperliquid"),
    JSON.stringify(
      JSON.parse(
        Deno.readTextFileSync(
          `${SAMPLES}/nautilus_trader/crates/adapters/hyperliquid/test_data/ws_book_data.json`,
        ),
      ),
    ),
    "Websocket connection established.",
  ];
  for (const f of data) {
    assert.equal(hyperliquidAdapter.isHeartbeat(f), false, f.slice(0, 60));
  }
  const { heartbeats } = await docFrames("hyperliquid", "v1");
  assert.ok(heartbeats.length > 0);
  for (const f of heartbeats) {
    assert.ok(hyperliquidAdapter.isHeartbeat(f), f);
    assert.deepEqual(hyperliquidAdapter.parser(TABLE).parse(f, T), []);
  }
});

Deno.test("hyperliquid: the error channel throws VenueError with the venue's data", async () => {
  assertVenueErrors(
    hyperliquidAdapter.parser(TABLE),
    (await docFrames("hyperliquid", "v1")).errors,
  );
});
