import assert from "node:assert/strict";
import { OrderBook } from "../market/book.ts";
import type { BookDelta, BookSnapshot, Instrument } from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { adapterFor } from "./mod.ts";
import { krakenAdapter } from "./kraken.ts";
import { krakenV1Adapter } from "./kraken_v1.ts";
import { crc32 } from "node:zlib";
import { krakenChecksum, krakenSeconds } from "./_kraken.ts";
import {
  assertSane,
  assertVenueErrors,
  capturedTexts,
  docFrames,
  tardisInputs,
} from "./_testing.ts";

const SAMPLES =
  "../shared/data/samples/nautilus_trader/crates/adapters/kraken/test_data";
const TARDIS = "../shared/data/samples/tardis-node-inputs/kraken.ndjson";
const CAPTURES = "../shared/data/captures/cryptofeed";
const FIXTURES = "tests/fixtures/kraken";

/** The AssetPairs body recorded in the 2021 capture. */
async function assetPairs(): Promise<string> {
  const line = (await Deno.readTextFile(`${CAPTURES}/KRAKEN.0`)).split("\n")
    .find((l) => l.includes("/0/public/AssetPairs -> "))!;
  return line.slice(line.indexOf(": ") + 2);
}

/** Parsers of both versions over the capture's instruments. */
async function parsers() {
  const body = await assetPairs();
  const table = (insts: Instrument[]) =>
    new Map(insts.map((i) => [i.exchangeSymbol, i]));
  return {
    v1: krakenV1Adapter.parser(table(krakenV1Adapter.instruments([body]))),
    v2: krakenAdapter.parser(table(krakenAdapter.instruments([body]))),
  };
}

const btcUsd = {
  exchange: "kraken",
  exchangeSymbol: "BTC/USD",
  symbol: "BTC-USD",
  market: "spot",
} as const;

Deno.test("kraken: AssetPairs from the capture → BASE-QUOTE with XBT/XDG renamed; v1 keeps wsname, v2 the v2 symbol", async () => {
  const body = await assetPairs();
  const v1 = krakenV1Adapter.instruments([body]);
  const v2 = krakenAdapter.instruments([body]);
  assert.deepEqual(v1.find((i) => i.symbol === "BTC-CHF"), {
    exchange: "kraken",
    exchangeSymbol: "XBT/CHF",
    symbol: "BTC-CHF",
    base: "BTC",
    quote: "CHF",
    market: "spot",
    contractSize: 1,
  });
  assert.equal(
    v2.find((i) => i.symbol === "BTC-CHF")?.exchangeSymbol,
    "BTC/CHF",
  );
  assert.equal(
    v2.find((i) => i.symbol === "DOGE-USD")?.exchangeSymbol,
    "DOGE/USD",
  );
  assert.equal(
    v1.find((i) => i.symbol === "DOGE-USD")?.exchangeSymbol,
    "XDG/USD",
  );
  // 304 pairs, 11 of them `.d` dark-pool books without a wsname.
  assert.equal(v1.length, 293);
  assert.ok(!v1.some((i) => i.exchangeSymbol.includes(".d")));
  assert.throws(
    () => krakenAdapter.instruments([`{"error":["EGeneral:Busy"]}`]),
    MalformedFrameError,
  );
});

Deno.test("kraken: the capture's date picks v1, today picks v2 (cutover at the start of 2024)", () => {
  assert.equal(adapterFor("kraken", 1618678132358), krakenV1Adapter);
  assert.equal(
    adapterFor("kraken", Date.UTC(2023, 11, 31, 12)),
    krakenV1Adapter,
  );
  assert.equal(adapterFor("kraken", Date.UTC(2024, 0, 1)), krakenAdapter);
  assert.equal(adapterFor("kraken"), krakenAdapter);
});

Deno.test("kraken: CRC-32 and v1 timestamps", () => {
  assert.equal(crc32("123456789"), 0xcbf43926); // the CRC-32 check value
  assert.equal(krakenSeconds("1618678142.557535"), 1618678142557);
  assert.equal(krakenSeconds("1618678142.5"), 1618678142500);
  assert.equal(krakenSeconds("1618678142"), 1618678142000);
  assert.ok(Number.isNaN(krakenSeconds("x.5")));
});

Deno.test("kraken v2: the checksum guide's worked example parses with full-precision strings and checks to 3310070434", async () => {
  const { v2 } = await parsers();
  const pretty = await Deno.readTextFile(
    `${FIXTURES}/v2_book_checksum_docs.json`,
  );
  // Compact, as Kraken sends frames (the fast path), and pretty-printed (the
  // fallback for any other layout) parse alike.
  const compact = pretty.replace(/\s+/g, "");
  assert.ok(compact.startsWith(`{"channel":"book"`));
  const [snap] = v2.parse(compact, 1) as BookSnapshot[];
  assert.deepEqual(v2.parse(pretty, 1), [snap]);
  assertSane([snap]);
  assert.equal(snap.type, "book_snapshot");
  assert.equal(snap.exchangeSymbol, "BTC/USD");
  assert.equal(snap.symbol, "BTC-USD");
  assert.equal(snap.sequence, -1);
  assert.equal(snap.exchangeTs, Date.UTC(2023, 9, 6, 17, 35, 55, 440));
  assert.equal(snap.checksum, 3310070434);
  assert.deepEqual(snap.bids.slice(0, 4), [45283.5, 0.1, 45283.4, 1.54582015]);
  assert.deepEqual(snap.asks.slice(0, 2), [45285.2, 0.001]);
  // The wire text, not the float: "0.10000000" and "45281.0" keep their zeros.
  assert.deepEqual(snap.raw!.bids.slice(0, 8), [
    "45283.5",
    "0.10000000",
    "45283.4",
    "1.54582015",
    "45282.1",
    "0.10000000",
    "45281.0",
    "0.10000000",
  ]);
  const book = new OrderBook(true);
  book.apply(snap.bids, snap.asks, snap.raw);
  assert.equal(krakenChecksum(book), 3310070434);
  // The guide's first ask, alone: "45285.2" + "0.00100000" → "452852" + "100000".
  const one = new OrderBook(true);
  one.apply([], [45285.2, 0.001], {
    bids: [],
    asks: ["45285.2", "0.00100000"],
  });
  assert.equal(krakenChecksum(one), crc32("452852100000"));
});

Deno.test("kraken v2: nautilus book snapshot and update samples → events (pretty-printed frames parse too)", async () => {
  const { v2 } = await parsers();
  const snap = v2.parse(
    await Deno.readTextFile(`${SAMPLES}/ws_book_snapshot.json`),
    7,
  );
  assertSane(snap);
  assert.deepEqual(snap, [{
    type: "book_snapshot",
    ...btcUsd,
    exchangeTs: 1696613755440,
    localTs: 7,
    bids: [105944.2, 0.136, 105935.4, 0.024, 105920.1, 0.052],
    asks: [105944.3, 0.136, 105946.9, 0.095, 105955.8, 0.003],
    contractSize: 1,
    checksum: 2439117997,
    raw: {
      bids: ["105944.20", "0.136", "105935.40", "0.024", "105920.10", "0.052"],
      asks: ["105944.30", "0.136", "105946.90", "0.095", "105955.80", "0.003"],
    },
    sequence: -1,
  }]);
  const upd = v2.parse(
    await Deno.readTextFile(`${SAMPLES}/ws_book_update.json`),
    8,
  );
  assertSane(upd);
  assert.deepEqual(upd, [{
    type: "book_delta",
    ...btcUsd,
    exchangeTs: 1696613755440,
    localTs: 8,
    bids: [105944.2, 0.25],
    asks: [],
    contractSize: 1,
    checksum: 2114181697,
    raw: { bids: ["105944.20", "0.250"], asks: [] },
    first: -1,
    last: -1,
    prev: -1,
  }]);
});

Deno.test("kraken v2: trade samples → one trade per item, side is the taker's", async () => {
  const { v2 } = await parsers();
  const trades = v2.parse(
    await Deno.readTextFile(`${SAMPLES}/ws_trade_update.json`),
    9,
  );
  assertSane(trades);
  assert.deepEqual(trades, [{
    type: "trade",
    ...btcUsd,
    exchangeTs: 1696613755440,
    localTs: 9,
    id: "10218208",
    price: 105944.2,
    size: 0.00027625,
    rawSize: 0.00027625,
    side: "buy",
  }, {
    type: "trade",
    ...btcUsd,
    exchangeTs: 1696613756123,
    localTs: 9,
    id: "10218209",
    price: 105910.5,
    size: 0.0001246,
    rawSize: 0.0001246,
    side: "sell",
  }]);
});

Deno.test("kraken: tardis-node inputs (v2 then v1 frames)", async () => {
  const { v1, v2 } = await parsers();
  const lines = (await Deno.readTextFile(TARDIS)).trim().split("\n");
  // v2 trade snapshot: history before subscribing, not new trades.
  assert.deepEqual(v2.parse(lines[0], 1), []);
  const [t] = v2.parse(lines[1], 1);
  assert.equal(t.type === "trade" && t.id, "123");
  // AAPLx/USD is not a 2021 pair: nothing.
  assert.deepEqual(v2.parse(lines[2], 1), []);
  // A v2 update without checksum.
  const [d] = v2.parse(lines[3], 1) as BookDelta[];
  assert.deepEqual([d.bids, d.asks, d.checksum], [[99.9, 0.5], [], undefined]);
  assert.deepEqual(v2.parse(lines[4], 1), []); // ticker
  assert.deepEqual(v2.parse(lines[5], 1), []);

  const [ltc] = v1.parse(lines[6], 2);
  assert.deepEqual(ltc, {
    type: "trade",
    exchange: "kraken",
    exchangeSymbol: "LTC/XBT",
    symbol: "LTC-BTC",
    market: "spot",
    exchangeTs: 1561939201587,
    localTs: 2,
    id: "",
    price: 0.011365,
    size: 2.51146536,
    rawSize: 2.51146536,
    side: "sell",
  });
  const two = v1.parse(lines[7], 2);
  assert.deepEqual(
    two.map((e) => e.type === "trade" && [e.side, e.price, e.exchangeTs]),
    [["sell", 9482.4, 1561939258512], ["buy", 9488.2, 1561939258557]],
  );
  // Both sides in one frame, asks object first; deletes have size 0.
  const events = v1.parse(lines[9], 3);
  assertSane(events);
  assert.deepEqual(events, [{
    type: "book_delta",
    exchange: "kraken",
    exchangeSymbol: "BCH/USD",
    symbol: "BCH-USD",
    market: "spot",
    localTs: 3,
    exchangeTs: 1561939258534, // the latest level time
    first: -1,
    last: -1,
    prev: -1,
    bids: [400, 3.38983321],
    asks: [413.9, 27.71904764, 403.5, 0, 400.3, 0],
    contractSize: 1,
    raw: {
      bids: ["400.000000", "3.38983321"],
      asks: [
        "413.900000",
        "27.71904764",
        "403.500000",
        "0.00000000",
        "400.300000",
        "0.00000000",
      ],
    },
  }]);
  // A snapshot followed by a null payload slot (ADA/CAD was not listed in
  // 2021: follow it by hand).
  const adaCad = krakenV1Adapter.parser(
    new Map([["ADA/CAD", {
      exchange: "kraken",
      exchangeSymbol: "ADA/CAD",
      symbol: "ADA-CAD",
      base: "ADA",
      quote: "CAD",
      market: "spot",
      contractSize: 1,
    }]]),
  );
  assert.deepEqual(v1.parse(lines[11], 4), []);
  const [snap] = adaCad.parse(lines[11], 4) as BookSnapshot[];
  assert.deepEqual(
    [snap.type, snap.exchangeSymbol, snap.bids, snap.asks, snap.exchangeTs],
    ["book_snapshot", "ADA/CAD", [0.10281, 2], [0.102987, 3], 1561939199992],
  );
  assert.equal(snap.checksum, undefined); // v1 snapshots carry none
  assert.deepEqual(v1.parse(lines[12], 4), []); // spread
  assert.deepEqual(v1.parse(lines[13], 4), []);
});

Deno.test("kraken v1: capture snapshot + updates match the venue's checksums", async () => {
  const { v1 } = await parsers();
  const lines = (await Deno.readTextFile(`${CAPTURES}/KRAKEN.ws.50.0`))
    .split("\n").filter((l) => l.includes('"XMR/USD"]'));
  const book = new OrderBook(true);
  let checked = 0;
  for (const line of lines) {
    const events = v1.parse(line.slice(line.indexOf(": ") + 2), 0);
    assertSane(events);
    for (const e of events) {
      if (e.type === "book_snapshot") book.clear();
      if (e.type !== "book_snapshot" && e.type !== "book_delta") continue;
      book.apply(e.bids, e.asks, e.raw);
      if (e.checksum !== undefined) {
        assert.equal(krakenChecksum(book), e.checksum);
        checked++;
      }
    }
  }
  assert.equal(checked, 846); // every XMR/USD update of the capture
});

Deno.test('kraken v1: a republished level ("r") is applied as an update; the checksum rides in the last object', async () => {
  const { v1 } = await parsers();
  const [d] = v1.parse(
    `[992,{"a":[["358.35000000","0.05000000","1618678133.763790","r"]],"c":"1453093704"},"book-1000","XMR/USD"]`,
    0,
  ) as BookDelta[];
  assert.deepEqual([d.asks, d.bids, d.checksum], [
    [358.35, 0.05],
    [],
    1453093704,
  ]);
});

Deno.test("kraken: frames that carry nothing yield no events; broken ones throw MalformedFrameError", async () => {
  const { v1, v2 } = await parsers();
  for (
    const f of [
      `{"event":"heartbeat"}`,
      `{"connectionID":18239578009413566319,"event":"systemStatus","status":"online","version":"1.8.3"}`,
      `{"channelID":1665,"channelName":"trade","event":"subscriptionStatus","pair":"WAVES/EUR","status":"subscribed","subscription":{"name":"trade"}}`,
      `[1668,{"a":["13.253900",35,"35.72892241"],"b":["13.232900",185,"185.18432037"]},"ticker","WAVES/EUR"]`,
      // A followed channel of a pair we do not follow.
      `[1,[["1.0","1.0","1618678142.557535","s","l",""]],"trade","ETH/XBT"]`,
    ]
  ) {
    assert.deepEqual(
      krakenV1Adapter.parser(new Map()).parse(f, 0),
      [],
      f,
    );
  }
  assert.deepEqual(v1.parse(`{"event":"pong","reqid":1}`, 0), []);
  for (
    const f of [
      `{"channel":"heartbeat"}`,
      `{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"online","version":"2.0.0"}]}`,
      `{"method":"subscribe","result":{"channel":"book","depth":1000,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z"}`,
      `{"method":"pong","time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"}`,
    ]
  ) assert.deepEqual(v2.parse(f, 0), [], f);
  for (
    const [p, f] of [
      [v1, `[992,{"a":[["358.35`],
      [v1, `[992,{"a":[["x","1.0","1618678133.7"]]},"book-1000","XMR/USD"]`],
      [
        v1,
        `[992,{"a":[["1.0","1.0","1618678133.7"]],"c":"zz"},"book-1000","XMR/USD"]`,
      ],
      [v1, `[992,"book-1000"]`],
      [v1, `42`],
      [
        v2,
        `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":"x","qty":1}]}]}`,
      ],
      [v2, `{"channel":"trade","type":"update","data":7}`],
      [v2, `[1,2]`],
    ] as const
  ) assert.throws(() => p.parse(f, 0), MalformedFrameError, f);
  assert.throws(
    () => v2.parse(new Uint8Array([1, 2]), 0),
    MalformedFrameError,
  );
});

Deno.test("kraken: subscriptions and the one-book resubscribe", () => {
  assert.equal(krakenAdapter.url(["BTC/USD"]), "wss://ws.kraken.com/v2");
  assert.deepEqual(
    krakenAdapter.subscribe(["BTC/USD", "ETH/USD"]).map((f) => JSON.parse(f)),
    [
      {
        method: "subscribe",
        params: {
          channel: "book",
          symbol: ["BTC/USD", "ETH/USD"],
          depth: 1000,
        },
      },
      {
        method: "subscribe",
        params: {
          channel: "trade",
          symbol: ["BTC/USD", "ETH/USD"],
          snapshot: false,
        },
      },
    ],
  );
  assert.deepEqual(
    krakenAdapter.book.resubscribe!("BTC/USD").map((f) => JSON.parse(f).method),
    ["unsubscribe", "subscribe"],
  );
  assert.equal(krakenV1Adapter.url(["XBT/USD"]), "wss://ws.kraken.com");
  assert.deepEqual(JSON.parse(krakenV1Adapter.subscribe(["XBT/USD"])[0]), {
    event: "subscribe",
    pair: ["XBT/USD"],
    subscription: { name: "book", depth: 1000 },
  });
  assert.deepEqual(
    krakenV1Adapter.book.resubscribe!("XBT/USD").map((f) =>
      JSON.parse(f).event
    ),
    ["unsubscribe", "subscribe"],
  );
});

Deno.test("kraken v1: isHeartbeat is true for the capture's heartbeats and the docs' pong, false for every other frame", async () => {
  const { v1 } = await parsers();
  let beats = 0;
  let others = 0;
  for (const file of ["KRAKEN.ws.48.0", "KRAKEN.ws.49.0", "KRAKEN.ws.50.0"]) {
    for (const f of await capturedTexts(file)) {
      // The oracle: the whole frame read as JSON.
      const msg = JSON.parse(f);
      const beat = !Array.isArray(msg) && msg.event === "heartbeat";
      assert.equal(krakenV1Adapter.isHeartbeat(f), beat, f.slice(0, 80));
      if (beat) {
        beats++;
        assert.deepEqual(v1.parse(f, 0), []);
      } else others++;
    }
  }
  assert.ok(
    beats > 0 && others > 1000,
    `${beats} heartbeats, ${others} others`,
  );
  for (const f of (await docFrames("kraken", "v1")).heartbeats) {
    assert.ok(krakenV1Adapter.isHeartbeat(f), f);
    assert.deepEqual(v1.parse(f, 0), [], f);
  }
});

Deno.test("kraken v2: isHeartbeat is true for the docs' heartbeat and pong, false for real book, trade and status frames", async () => {
  const { v2 } = await parsers();
  const data = [
    ...(await tardisInputs("kraken")).filter((l) => l.startsWith("{")),
    ...["ws_book_snapshot", "ws_book_update", "ws_trade_update"].map((n) =>
      JSON.stringify(JSON.parse(Deno.readTextFileSync(`${SAMPLES}/${n}.json`)))
    ),
  ];
  assert.ok(data.length > 5);
  for (const f of data) assert.equal(krakenAdapter.isHeartbeat(f), false, f);
  const { heartbeats } = await docFrames("kraken", "v2");
  assert.ok(heartbeats.length > 0);
  for (const f of heartbeats) {
    assert.ok(krakenAdapter.isHeartbeat(f), f);
    assert.deepEqual(v2.parse(f, 0), [], f);
  }
  // Binary frames are never heartbeats (Kraken sends text).
  assert.equal(
    krakenAdapter.isHeartbeat(new TextEncoder().encode(heartbeats[0])),
    false,
  );
});

Deno.test("kraken v2: a refused subscribe throws VenueError with Kraken's error and symbol; acks do not", async () => {
  const { v2 } = await parsers();
  assertVenueErrors(v2, (await docFrames("kraken", "v2")).errors);
  // An accepted subscription is no error.
  assert.deepEqual(
    v2.parse(
      `{"method":"subscribe","result":{"channel":"book","depth":1000,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z"}`,
      0,
    ),
    [],
  );
});

Deno.test("kraken v1: subscriptionStatus with status error throws VenueError with errorMessage and pair; the capture's acks do not", async () => {
  const { v1 } = await parsers();
  assertVenueErrors(v1, (await docFrames("kraken", "v1")).errors);
  let acks = 0;
  for (const f of await capturedTexts("KRAKEN.ws.50.0")) {
    if (!f.includes(`"event":"subscriptionStatus"`)) continue;
    acks++;
    assert.deepEqual(v1.parse(f, 0), [], f);
  }
  assert.ok(acks > 0);
});
