import assert from "node:assert/strict";
import type { Instrument } from "../market/events.ts";
import { MalformedFrameError, ResyncError } from "./adapter.ts";
import { coinbaseAdapter } from "./coinbase.ts";
import { coinbaseProAdapter } from "./coinbase_pro.ts";
import { adapterFor } from "./mod.ts";
import {
  assertSane,
  assertVenueErrors,
  capturedTexts,
  docFrames,
  tardisInputs,
} from "./_testing.ts";

const SAMPLES =
  "../shared/data/samples/nautilus_trader/crates/adapters/coinbase/test_data";
const TARDIS = "../shared/data/samples/tardis-node-inputs/coinbase.ndjson";
const CAPTURES = "../shared/data/captures/cryptofeed";

const spot = (
  exchangeSymbol: string,
  base: string,
  quote: string,
): Instrument => ({
  exchange: "coinbase",
  exchangeSymbol,
  symbol: `${base}-${quote}`,
  base,
  quote,
  market: "spot",
  contractSize: 1,
});
const btcUsd = spot("BTC-USD", "BTC", "USD");
const table = (...insts: Instrument[]) =>
  new Map(insts.map((i) => [i.exchangeSymbol, i]));

// ---- Advanced Trade (current API) ----

Deno.test("coinbase: l2_data snapshot then update (nautilus samples) → book_snapshot, book_delta", async () => {
  const p = coinbaseAdapter.parser(table(btcUsd));
  const snap = p.parse(
    await Deno.readTextFile(`${SAMPLES}/ws_l2_data_snapshot.json`),
    1000,
  );
  assertSane(snap, { positiveTimes: true });
  assert.deepEqual(snap, [{
    type: "book_snapshot",
    exchange: "coinbase",
    exchangeSymbol: "BTC-USD",
    symbol: "BTC-USD",
    market: "spot",
    // The message timestamp, microseconds truncated.
    exchangeTs: Date.UTC(2026, 3, 7, 14, 30, 0, 123),
    localTs: 1000,
    sequence: -1,
    // "bid" levels, worst first (the book stores the best last).
    bids: [68899, 2.3, 68899.5, 0.75, 68900, 1.5],
    // "offer" levels, worst first.
    asks: [68902, 0.8, 68901.5, 1.2, 68901, 0.5],
    contractSize: 1,
  }]);
  const upd = p.parse(
    await Deno.readTextFile(`${SAMPLES}/ws_l2_data_update.json`),
    2000,
  );
  assertSane(upd, { positiveTimes: true });
  assert.deepEqual(upd, [{
    type: "book_delta",
    exchange: "coinbase",
    exchangeSymbol: "BTC-USD",
    symbol: "BTC-USD",
    market: "spot",
    exchangeTs: Date.UTC(2026, 3, 7, 14, 30, 1, 456),
    localTs: 2000,
    first: -1,
    last: -1,
    prev: -1,
    // new_quantity is the level's new size; "0.00000000" removes it.
    bids: [68900, 2],
    asks: [68901, 0],
    contractSize: 1,
  }]);
});

Deno.test("coinbase: market_trades sample → trades with the taker side (side is the maker's)", async () => {
  const p = coinbaseAdapter.parser(table(btcUsd));
  const events = p.parse(
    await Deno.readTextFile(`${SAMPLES}/ws_market_trades.json`),
    7,
  );
  assertSane(events, { positiveTimes: true });
  const base = {
    type: "trade",
    exchange: "coinbase",
    exchangeSymbol: "BTC-USD",
    symbol: "BTC-USD",
    market: "spot",
    localTs: 7,
  };
  assert.deepEqual(events, [
    {
      ...base,
      exchangeTs: Date.UTC(2026, 3, 7, 14, 30, 2, 789),
      id: "995098700",
      price: 68900.5,
      size: 0.0015,
      rawSize: 0.0015,
      side: "sell", // a BUY maker was hit
    },
    {
      ...base,
      exchangeTs: Date.UTC(2026, 3, 7, 14, 30, 2, 800),
      id: "995098701",
      price: 68900,
      size: 0.05,
      rawSize: 0.05,
      side: "buy", // a SELL maker was lifted
    },
  ]);
});

Deno.test("coinbase: a sequence_num gap or repeat on the connection throws ResyncError", async () => {
  const p = coinbaseAdapter.parser(table(btcUsd));
  p.parse(await Deno.readTextFile(`${SAMPLES}/ws_l2_data_snapshot.json`), 0); // 0
  p.parse(await Deno.readTextFile(`${SAMPLES}/ws_l2_data_update.json`), 0); // 1
  // The trades sample is sequence_num 5: messages 2-4 of the connection were lost.
  const trades = await Deno.readTextFile(`${SAMPLES}/ws_market_trades.json`);
  assert.throws(() => p.parse(trades, 0), ResyncError);
  const q = coinbaseAdapter.parser(table(btcUsd));
  q.parse(trades, 0);
  assert.throws(() => q.parse(trades, 0), ResyncError); // 5 again
});

Deno.test("coinbase: acks, heartbeats, trade snapshots and unfollowed products yield nothing", () => {
  const p = coinbaseAdapter.parser(table(btcUsd));
  const frames = [
    `{"channel":"subscriptions","client_id":"","timestamp":"2026-04-07T14:30:00Z","sequence_num":0,"events":[{"subscriptions":{"level2":["BTC-USD"],"market_trades":["BTC-USD"]}}]}`,
    `{"channel":"heartbeats","client_id":"","timestamp":"2026-04-07T14:30:10Z","sequence_num":1,"events":[{"current_time":"2026-04-07 14:30:10.000000000 +0000 UTC","heartbeat_counter":42}]}`,
    // Trades from before the subscription: re-sent on every reconnect.
    `{"channel":"market_trades","client_id":"","timestamp":"2026-04-07T14:30:10Z","sequence_num":2,"events":[{"type":"snapshot","trades":[{"trade_id":"1","product_id":"BTC-USD","price":"1","size":"1","side":"BUY","time":"2026-04-07T14:30:09Z"}]}]}`,
    `{"channel":"l2_data","client_id":"","timestamp":"2026-04-07T14:30:10Z","sequence_num":3,"events":[{"type":"update","product_id":"ETH-USD","updates":[{"side":"bid","event_time":"2026-04-07T14:30:10Z","price_level":"1","new_quantity":"1"}]}]}`,
    `{"channel":"ticker","client_id":"","timestamp":"2026-04-07T14:30:10Z","sequence_num":4,"events":[{"type":"update","tickers":[{"product_id":"BTC-USD","price":"1"}]}]}`,
  ];
  for (const f of frames) assert.deepEqual(p.parse(f, 0), [], f);
});

Deno.test("coinbase: unreadable frames and levels throw MalformedFrameError", () => {
  const p = coinbaseAdapter.parser(table(btcUsd));
  assert.throws(() => p.parse(`{"channel":"l2_da`, 0), MalformedFrameError);
  assert.throws(
    () => p.parse(new Uint8Array([1, 2]), 0),
    MalformedFrameError,
  );
  // The docs name the sides "bid" and "offer"; "ask" is not one of them.
  assert.throws(
    () =>
      p.parse(
        `{"channel":"l2_data","timestamp":"2026-04-07T14:30:10Z","sequence_num":0,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"ask","price_level":"1","new_quantity":"1"}]}]}`,
        0,
      ),
    MalformedFrameError,
  );
  assert.throws(
    () =>
      p.parse(
        `{"channel":"l2_data","timestamp":"2026-04-07T14:30:10Z","sequence_num":1,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","price_level":"x","new_quantity":"1"}]}]}`,
        0,
      ),
    MalformedFrameError,
  );
});

/**
 * A products body in the documented shape, cut to the fields the adapter
 * reads: BTC-USD, its USDC alias, a nano perpetual marked EXPIRING (as
 * Coinbase lists it) and a dated nano future of 0.01 BTC per contract.
 */
const PRODUCTS = JSON.stringify({
  products: [
    {
      product_id: "BTC-USD",
      base_currency_id: "BTC",
      quote_currency_id: "USD",
      product_type: "SPOT",
      display_name: "BTC-USD",
      alias: "",
      alias_to: ["BTC-USDC"],
    },
    {
      product_id: "BTC-USDC",
      base_currency_id: "BTC",
      quote_currency_id: "USDC",
      product_type: "SPOT",
      display_name: "BTC-USDC",
      alias: "BTC-USD",
      alias_to: [],
    },
    {
      product_id: "BIP-20DEC30-CDE",
      base_currency_id: "",
      quote_currency_id: "USD",
      product_type: "FUTURE",
      display_name: "BTC PERP",
      alias: "",
      future_product_details: {
        contract_root_unit: "BTC",
        contract_size: "0.01",
        contract_expiry: "2030-12-20T16:00:00Z",
        contract_expiry_type: "EXPIRING",
        funding_rate: "0.000013",
      },
    },
    {
      product_id: "BIT-24APR26-CDE",
      base_currency_id: "",
      quote_currency_id: "USD",
      product_type: "FUTURE",
      display_name: "BTC 24 APR 26",
      alias: "",
      future_product_details: {
        contract_root_unit: "BTC",
        contract_size: "0.01",
        contract_expiry: "2026-04-24T15:00:00Z",
        contract_expiry_type: "EXPIRING",
        funding_rate: "",
      },
    },
  ],
  num_products: 4,
});

Deno.test("coinbase: products → spot, alias, perpetual and dated future with contract sizes", () => {
  const insts = coinbaseAdapter.instruments([PRODUCTS]);
  assert.deepEqual(insts, [
    btcUsd,
    { ...spot("BTC-USDC", "BTC", "USDC"), alias: "BTC-USD" },
    {
      exchange: "coinbase",
      exchangeSymbol: "BIP-20DEC30-CDE",
      symbol: "BTC-USD",
      base: "BTC",
      quote: "USD",
      market: "perpetual",
      contractSize: 0.01,
    },
    {
      exchange: "coinbase",
      exchangeSymbol: "BIT-24APR26-CDE",
      symbol: "BTC-USD",
      base: "BTC",
      quote: "USD",
      market: "future",
      contractSize: 0.01,
      expiry: Date.UTC(2026, 3, 24, 15),
    },
  ]);
  assert.throws(
    () => coinbaseAdapter.instruments([`{"error":"x"}`]),
    MalformedFrameError,
  );
});

Deno.test("coinbase: futures sizes convert from contracts; a USDC alias is fed by its USD frames", () => {
  const insts = coinbaseAdapter.instruments([PRODUCTS]);
  const byId = new Map(insts.map((i) => [i.exchangeSymbol, i]));
  const p = coinbaseAdapter.parser(
    table(byId.get("BIT-24APR26-CDE")!, byId.get("BTC-USDC")!),
  );
  const events = p.parse(
    `{"channel":"l2_data","timestamp":"2026-04-07T14:30:10Z","sequence_num":0,"events":[{"type":"update","product_id":"BIT-24APR26-CDE","updates":[{"side":"bid","event_time":"2026-04-07T14:30:10Z","price_level":"69165","new_quantity":"3"}]}]}`,
    0,
  );
  assertSane(events, { positiveTimes: true });
  assert.equal(events.length, 1);
  const d = events[0];
  assert.ok(d.type === "book_delta");
  assert.deepEqual(d.bids, [69165, 0.03]); // 3 contracts × 0.01 BTC
  assert.equal(d.contractSize, 0.01);
  const [t] = p.parse(
    `{"channel":"market_trades","timestamp":"2026-04-07T14:30:10Z","sequence_num":1,"events":[{"type":"update","trades":[{"trade_id":"9","product_id":"BIT-24APR26-CDE","price":"69170","size":"2","side":"SELL","time":"2026-04-07T14:30:09.5Z"}]}]}`,
    0,
  );
  assert.ok(t.type === "trade");
  assert.equal(t.size, 0.02);
  assert.equal(t.rawSize, 2);
  assert.equal(t.side, "buy");
  // Following BTC-USDC: the venue sends its book labelled BTC-USD.
  const [s] = p.parse(
    `{"channel":"l2_data","timestamp":"2026-04-07T14:30:10Z","sequence_num":2,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"68900","new_quantity":"1"},{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"68901","new_quantity":"2"}]}]}`,
    0,
  );
  assert.ok(s.type === "book_snapshot");
  assert.equal(s.exchangeSymbol, "BTC-USDC");
  assert.equal(s.symbol, "BTC-USDC");
  assert.deepEqual([s.bids, s.asks], [[68900, 1], [68901, 2]]);
});

Deno.test("coinbase: subscribe frames name level2, market_trades and heartbeats", () => {
  assert.deepEqual(
    coinbaseAdapter.subscribe(["BTC-USD", "ETH-USD"]).map((f) => JSON.parse(f)),
    [
      {
        type: "subscribe",
        product_ids: ["BTC-USD", "ETH-USD"],
        channel: "level2",
      },
      {
        type: "subscribe",
        product_ids: ["BTC-USD", "ETH-USD"],
        channel: "market_trades",
      },
      { type: "subscribe", channel: "heartbeats" },
    ],
  );
  assert.deepEqual(
    coinbaseAdapter.book.resubscribe!("BTC-USD").map((f) => JSON.parse(f).type),
    ["unsubscribe", "subscribe"],
  );
});

// ---- Pro (retired API, the 2021 capture) ----

async function proInstruments(): Promise<Map<string, Instrument>> {
  const line = (await Deno.readTextFile(`${CAPTURES}/COINBASE.0`)).split(
    "\n",
  )[0];
  const insts = coinbaseProAdapter.instruments([
    line.slice(line.indexOf(": ") + 2),
  ]);
  return new Map(insts.map((i) => [i.exchangeSymbol, i]));
}

Deno.test("coinbase-pro: the capture's date picks the Pro adapter; today picks Advanced Trade", () => {
  assert.equal(
    adapterFor("coinbase", Date.UTC(2021, 3, 17, 16, 43)),
    coinbaseProAdapter,
  );
  assert.equal(
    adapterFor("coinbase", Date.UTC(2022, 11, 31, 23)),
    coinbaseProAdapter,
  );
  assert.equal(adapterFor("coinbase", Date.UTC(2023, 1, 9)), coinbaseAdapter);
  assert.equal(adapterFor("coinbase"), coinbaseAdapter);
});

Deno.test("coinbase-pro: /products from the capture normalizes to BASE-QUOTE spot", async () => {
  const insts = await proInstruments();
  assert.deepEqual(insts.get("SKL-USD"), spot("SKL-USD", "SKL", "USD"));
  assert.deepEqual(insts.get("1INCH-USD"), spot("1INCH-USD", "1INCH", "USD"));
});

Deno.test("coinbase-pro: tardis-node inputs → trade, deltas, snapshots; tickers yield nothing", async () => {
  const p = coinbaseProAdapter.parser(await proInstruments());
  const lines = (await Deno.readTextFile(TARDIS)).trim().split("\n");
  const out = lines.map((l) => p.parse(l, 5000));
  for (const evs of out) assertSane(evs, { positiveTimes: true });
  const at = (sym: string, market = "spot") => ({
    exchange: "coinbase",
    exchangeSymbol: sym,
    symbol: sym,
    market,
    localTs: 5000,
  });
  assert.deepEqual(out[0], [{
    type: "trade",
    ...at("ETC-GBP"),
    exchangeTs: Date.UTC(2019, 7, 1, 0, 0, 3, 816),
    id: "216544",
    price: 4.978,
    size: 0.97133855,
    rawSize: 0.97133855,
    side: "sell", // side "buy" is the maker's: a seller took it
  }]);
  const delta = (
    sym: string,
    exchangeTs: number,
    bids: number[],
    asks: number[],
  ) => [{
    type: "book_delta",
    ...at(sym),
    exchangeTs,
    first: -1,
    last: -1,
    prev: -1,
    bids,
    asks,
    contractSize: 1,
  }];
  assert.deepEqual(
    out[1],
    delta("BTC-EUR", Date.UTC(2019, 7, 1, 0, 0, 3, 818), [], [9202.54, 0.432]),
  );
  assert.deepEqual(
    out[2],
    delta("ETH-USD", Date.UTC(2019, 7, 1, 0, 0, 3, 869), [
      218.21,
      20.79816319,
    ], []),
  );
  const snapshot = (sym: string, bids: number[], asks: number[]) => [{
    type: "book_snapshot",
    ...at(sym),
    exchangeTs: 5000, // no time on the snapshot: the receive time
    sequence: -1,
    bids,
    asks,
    contractSize: 1,
  }];
  assert.deepEqual(
    out[3],
    snapshot("BAT-USDC", [0.247175, 5299], [0.257175, 12]),
  );
  // "time":"0001-01-01T00:00:00.000000Z" is no event time: the receive time.
  assert.deepEqual(
    out[4],
    delta("BTC-EUR", 5000, [9202.7, 0.5866786], [9222.39, 0.00459825]),
  );
  // The level sized "0.-10000" is dropped, as tardis-node does.
  assert.deepEqual(
    out[5],
    snapshot("YFI-USD", [40533.24, 0.020416], [40584.89, 0.039985]),
  );
  for (let i = 6; i < lines.length; i++) assert.deepEqual(out[i], [], lines[i]);
});

Deno.test("coinbase-pro: capture frames: match, l2update, snapshot; last_match, acks, tickers yield nothing", async () => {
  const p = coinbaseProAdapter.parser(await proInstruments());
  const lines = (await Deno.readTextFile(`${CAPTURES}/COINBASE.ws.28.0`))
    .split("\n");
  const frame = (pred: (l: string) => boolean) => {
    const l = lines.find(pred)!;
    return l.slice(l.indexOf(": ") + 2);
  };
  const [m] = p.parse(frame((l) => l.includes('"trade_id":280232')), 1);
  assert.deepEqual(m, {
    type: "trade",
    exchange: "coinbase",
    exchangeSymbol: "SKL-BTC",
    symbol: "SKL-BTC",
    market: "spot",
    exchangeTs: Date.UTC(2021, 3, 17, 16, 43, 37, 89),
    localTs: 1,
    id: "280232",
    price: 0.00001305,
    size: 985,
    rawSize: 985,
    side: "buy", // a sell maker was lifted
  });
  const [d] = p.parse(
    frame((l) => l.includes('"changes":[["sell","0.00001306","660.5"]]')),
    2,
  );
  assert.ok(d.type === "book_delta");
  assert.deepEqual([d.bids, d.asks], [[], [0.00001306, 660.5]]);
  assert.equal(d.exchangeTs, Date.UTC(2021, 3, 17, 16, 43, 37, 75));
  const [s] = p.parse(
    frame((l) => l.includes('"snapshot","product_id":"BAND-GBP"')),
    3,
  );
  assertSane([s], { positiveTimes: true });
  assert.ok(s.type === "book_snapshot");
  assert.equal(s.bids.length, 2 * 152);
  assert.equal(s.asks.length, 2 * 166);
  // Best levels last: bid 14.7693 × 27.51, ask 14.8024 × 12.77 (the frame's first).
  assert.deepEqual(s.bids.slice(-2), [14.7693, 27.51]);
  assert.deepEqual(s.asks.slice(-2), [14.8024, 12.77]);
  for (
    const t of ['"type":"last_match"', '"type":"subscriptions"', '"ticker"']
  ) {
    assert.deepEqual(p.parse(frame((l) => l.includes(t)), 4), [], t);
  }
  assert.deepEqual(
    p.parse(`{"type":"heartbeat","sequence":1,"product_id":"SKL-BTC"}`, 5),
    [],
  );
  assert.throws(
    () =>
      p.parse(
        `{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","x","1"]],"time":"2021-04-17T16:43:37Z"}`,
        0,
      ),
    MalformedFrameError,
  );
});

Deno.test("coinbase: isHeartbeat is true for the docs' heartbeats message, false for the real l2_data and market_trades samples", async () => {
  const data = [
    "ws_l2_data_snapshot",
    "ws_l2_data_update",
    "ws_market_trades",
  ].map((n) =>
    JSON.stringify(JSON.parse(Deno.readTextFileSync(`${SAMPLES}/${n}.json`)))
  );
  for (const f of data) assert.equal(coinbaseAdapter.isHeartbeat(f), false, f);
  const { heartbeats } = await docFrames("coinbase", "advanced");
  assert.ok(heartbeats.length > 0);
  for (const f of heartbeats) {
    assert.ok(coinbaseAdapter.isHeartbeat(f), f);
    // Parsed all the same: its sequence_num numbers the connection.
    assert.deepEqual(coinbaseAdapter.parser(table(btcUsd)).parse(f, 1), []);
  }
});

Deno.test("coinbase-pro: isHeartbeat is true for the docs' heartbeat, false for every frame of the capture and tardis' inputs", async () => {
  const frames = [
    ...await capturedTexts("COINBASE.ws.28.0"),
    ...await tardisInputs("coinbase"),
  ];
  assert.ok(frames.length > 1000);
  for (const f of frames) {
    // The oracle: the whole frame read as JSON (the capture has none).
    const beat = JSON.parse(f).type === "heartbeat";
    assert.equal(coinbaseProAdapter.isHeartbeat(f), beat, f.slice(0, 80));
  }
  const { heartbeats } = await docFrames("coinbase", "pro");
  const p = coinbaseProAdapter.parser(await proInstruments());
  for (const f of heartbeats) {
    assert.ok(coinbaseProAdapter.isHeartbeat(f), f);
    assert.deepEqual(p.parse(f, 1), []);
  }
});

Deno.test("coinbase and coinbase-pro: error messages throw VenueError with Coinbase's message and reason", async () => {
  assertVenueErrors(
    coinbaseAdapter.parser(table(btcUsd)),
    (await docFrames("coinbase", "advanced")).errors,
  );
  assertVenueErrors(
    coinbaseProAdapter.parser(await proInstruments()),
    (await docFrames("coinbase", "pro")).errors,
  );
});
