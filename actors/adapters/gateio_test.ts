import assert from "node:assert/strict";
import { BookSync } from "../market/book_sync.ts";
import type { BookDelta, BookSnapshot, Instrument } from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { gateioAdapter } from "./gateio.ts";
import {
  assertSane,
  assertVenueErrors,
  capturedTexts,
  docFrames,
  tardisInputs,
} from "./_testing.ts";

const TARDIS = "../shared/data/samples/tardis-node-inputs";
const CAPTURES = "../shared/data/captures/cryptofeed";

const wsLines = (await Deno.readTextFile(`${CAPTURES}/GATEIO.ws.1.0`)).split(
  "\n",
);
/** The text of the first received capture frame containing `needle`. */
function captured(needle: string): string {
  const line = wsLines.find((l) =>
    !l.startsWith("wss://") && l.includes(needle)
  );
  assert.ok(line, needle);
  return line.slice(line.indexOf(": ") + 2);
}

const metaLine = (await Deno.readTextFile(`${CAPTURES}/GATEIO.0`)).split(
  "\n",
)[0];
const insts = gateioAdapter.instruments([
  metaLine.slice(metaLine.indexOf(": ") + 2),
]);
const pair = (id: string): Instrument =>
  insts.find((i) => i.exchangeSymbol === id)!;
const followed = [
  "INK_USDT",
  "NEO_BTC",
  "OMG_USDT",
  "QTUM3S_USDT",
  "HAI_ETH",
  "DIS_USDT",
  "FAST_USDT",
  "BTC_USDC",
  "NANO_USDT",
  "ZKS_ETH",
];
const parser = gateioAdapter.parser(
  new Map(followed.map((s) => [s, pair(s)])),
);

Deno.test("gateio: currency_pairs from the capture: BASE-QUOTE spot instruments, untradable pairs left out", () => {
  assert.deepEqual(pair("INK_USDT"), {
    exchange: "gateio",
    exchangeSymbol: "INK_USDT",
    symbol: "INK-USDT",
    base: "INK",
    quote: "USDT",
    market: "spot",
    contractSize: 1,
  });
  // 1458 pairs listed, 44 of them untradable (SAL_USDT among them).
  assert.equal(insts.length, 1458 - 44);
  assert.equal(pair("SAL_USDT"), undefined);
  for (const s of followed) assert.ok(pair(s), s);
  assert.deepEqual(gateioAdapter.metadataUrls, [
    metaLine.slice(0, metaLine.indexOf(" -> ")),
  ]);
  assert.throws(() => gateioAdapter.instruments(["{"]), MalformedFrameError);
});

Deno.test("gateio: order_book_update from the capture → book_delta covering U..u", () => {
  const events = parser.parse(captured(`"U":69526944,"u":69526951`), 1000);
  assertSane(events);
  assert.deepEqual(events, [{
    type: "book_delta",
    exchange: "gateio",
    exchangeSymbol: "QTUM3S_USDT",
    symbol: "QTUM3S-USDT",
    market: "spot",
    exchangeTs: 1619093533174, // t, ms
    localTs: 1000,
    bids: [0.216914, 0, 0.215708, 2585.43, 0.208711, 0, 0.202164, 4674.47],
    asks: [0.231375, 0, 0.268011, 0, 0.271111, 12002.94, 0.290094, 6585.26],
    contractSize: 1,
    first: 69526944,
    last: 69526951,
    prev: -1,
  }]);
});

Deno.test("gateio: a whole-book push (docs example, full: true) is a snapshot at u", () => {
  const btc: Instrument = {
    ...pair("BTC_USDC"),
    exchangeSymbol: "BTC_USDT",
    symbol: "BTC-USDT",
    quote: "USDT",
  };
  const p = gateioAdapter.parser(new Map([["BTC_USDT", btc]]));
  const [s] = p.parse(
    `{"time":1606294781,"time_ms":1606294781236,"channel":"spot.order_book_update","event":"update","result":{"t":1606294781123,"full":true,"l":"100","e":"depthUpdate","E":1606294781,"s":"BTC_USDT","U":48776301,"u":48776306,"b":[["19137.74","0.0001"],["19088.37","0"]],"a":[["19137.75","0.6135"]]}}`,
    7,
  ) as BookSnapshot[];
  assert.deepEqual(s, {
    type: "book_snapshot",
    exchange: "gateio",
    exchangeSymbol: "BTC_USDT",
    symbol: "BTC-USDT",
    market: "spot",
    exchangeTs: 1606294781123,
    localTs: 7,
    bids: [19137.74, 0.0001, 19088.37, 0],
    asks: [19137.75, 0.6135],
    contractSize: 1,
    sequence: 48776306,
  });
  // The same update without `full` (the docs' incremental case) is a delta.
  const [d] = p.parse(
    `{"channel":"spot.order_book_update","event":"update","result":{"t":1606294781123,"s":"BTC_USDT","U":48776301,"u":48776306,"b":[],"a":[]}}`,
    7,
  ) as BookDelta[];
  assert.deepEqual([d.type, d.first, d.last], [
    "book_delta",
    48776301,
    48776306,
  ]);
});

Deno.test("gateio: REST snapshots: the URL is the recorded one for every pair; the body's id is the sequence", async () => {
  const http = (await Deno.readTextFile(`${CAPTURES}/GATEIO.http.0.0`)).split(
    "\n",
  )
    .filter((l) => l.includes(" -> "));
  assert.equal(http.length, 10);
  for (const line of http) {
    const url = line.slice(0, line.indexOf(" -> "));
    const sym = new URL(url).searchParams.get("currency_pair")!;
    assert.equal(gateioAdapter.book.snapshotUrl!(sym), url);
  }
  const hai = http.find((l) => l.includes("HAI_ETH"))!;
  const snap = gateioAdapter.book.parseSnapshot!(
    hai.slice(hai.indexOf(": ", hai.indexOf(" -> ")) + 2),
    5,
    pair("HAI_ETH"),
  );
  assertSane([snap]);
  assert.equal(snap.sequence, 2691446);
  assert.equal(snap.exchangeTs, 5); // 2021 bodies carry no time
  assert.deepEqual(snap.asks.slice(0, 4), [
    0.00010396,
    5876.967,
    0.0001052,
    16944.291,
  ]);
  assert.equal(snap.bids.length, 35 * 2);
  assert.equal(snap.asks.length, 38 * 2);
  // Current bodies have `update` (ms).
  const cur = gateioAdapter.book.parseSnapshot!(
    `{"id":5,"current":1700000000123,"update":1700000000100,"asks":[],"bids":[["1","2"]]}`,
    0,
    pair("HAI_ETH"),
  );
  assert.deepEqual([cur.sequence, cur.exchangeTs, cur.bids], [
    5,
    1700000000100,
    [1, 2],
  ]);
  assert.throws(
    () =>
      gateioAdapter.book.parseSnapshot!(
        `{"label":"INVALID_CURRENCY_PAIR"}`,
        0,
        pair("HAI_ETH"),
      ),
    MalformedFrameError,
  );
});

Deno.test("gateio: the sync rule on the capture's QTUM3S_USDT: drop u <= id, start at U <= id+1 <= u, then U == u+1", () => {
  const sync = new BookSync(gateioAdapter.book.sync);
  const deltas = wsLines.filter((l) =>
    l.includes(`"s":"QTUM3S_USDT"`) && l.includes("order_book_update")
  )
    .slice(0, 4)
    .map((l) => parser.parse(l.slice(l.indexOf(": ") + 2), 0)[0] as BookDelta);
  assert.deepEqual(deltas.map((d) => [d.first, d.last]), [
    [69526943, 69526943],
    [69526944, 69526951],
    [69526952, 69526959],
    [69526960, 69526967],
  ]);
  for (const d of deltas.slice(0, 3)) assert.equal(sync.delta(d), "buffered");
  // The recorded REST snapshot has id 69526951.
  const v = sync.snapshot({ sequence: 69526951 } as BookSnapshot);
  assert.equal(v.result, "synced");
  assert.deepEqual(v.apply.map((d) => d.first), [69526952]);
  assert.equal(sync.delta(deltas[3]), "apply");
  assert.equal(
    sync.delta({ ...deltas[3], first: 69526969, last: 69526970 }),
    "gap",
  );
});

Deno.test("gateio: trades: capture (2021) and tardis (2023) frames; side is the taker's", async () => {
  const [t] = parser.parse(captured(`"id":816995772`), 3);
  assert.deepEqual(t, {
    type: "trade",
    exchange: "gateio",
    exchangeSymbol: "DIS_USDT",
    symbol: "DIS-USDT",
    market: "spot",
    exchangeTs: 1619093543708, // create_time_ms "1619093543708.2642"
    localTs: 3,
    id: "816995772",
    price: 121.58,
    size: 0.201,
    rawSize: 0.201,
    side: "sell",
  });
  const tlos = (await Deno.readTextFile(`${TARDIS}/gate-io.ndjson`)).split("\n")
    .find((l) => l.includes(`"channel":"spot.trades"`))!;
  const p = gateioAdapter.parser(
    new Map([["TLOS_BTC", {
      ...pair("NEO_BTC"),
      exchangeSymbol: "TLOS_BTC",
      symbol: "TLOS-BTC",
      base: "TLOS",
    }]]),
  );
  const [u] = p.parse(tlos, 4);
  assertSane([u]);
  assert.deepEqual(u, {
    type: "trade",
    exchange: "gateio",
    exchangeSymbol: "TLOS_BTC",
    symbol: "TLOS-BTC",
    market: "spot",
    exchangeTs: 1682689046123,
    localTs: 4,
    id: "5541729598",
    price: 0.00000644,
    size: 89.238,
    rawSize: 89.238,
    side: "buy",
  });
});

Deno.test("gateio: subscriptions, keepalive and endpoint", () => {
  const frames = gateioAdapter.subscribe(["INK_USDT", "NEO_BTC"]).map((f) =>
    JSON.parse(f)
  );
  assert.deepEqual(frames, [
    {
      time: 0,
      channel: "spot.trades",
      event: "subscribe",
      payload: ["INK_USDT", "NEO_BTC"],
    },
    {
      time: 0,
      channel: "spot.order_book_update",
      event: "subscribe",
      payload: ["INK_USDT", "100ms"],
    },
    {
      time: 0,
      channel: "spot.order_book_update",
      event: "subscribe",
      payload: ["NEO_BTC", "100ms"],
    },
  ]);
  assert.equal(JSON.parse(gateioAdapter.keepalive!.frame).channel, "spot.ping");
  assert.equal(gateioAdapter.url([]), "wss://api.gateio.ws/ws/v4/");
});

Deno.test("gateio: frames that carry nothing yield no events; broken ones throw MalformedFrameError", async () => {
  assert.deepEqual(
    parser.parse(
      captured(`"event":"subscribe","result":{"status":"success"}`),
      0,
    ),
    [],
  );
  assert.deepEqual(
    parser.parse(captured(`"channel":"spot.tickers","event":"update"`), 0),
    [],
  );
  assert.deepEqual(
    parser.parse(captured(`"channel":"spot.candlesticks","event":"update"`), 0),
    [],
  );
  assert.deepEqual(
    parser.parse(
      `{"time":1545404023,"time_ms":1545404023123,"channel":"spot.pong","event":"","error":null,"result":null}`,
      0,
    ),
    [],
  );
  // An unfollowed pair.
  assert.deepEqual(
    parser.parse(
      `{"channel":"spot.order_book_update","event":"update","result":{"t":1,"s":"ETH_USDT","U":1,"u":2,"b":[],"a":[]}}`,
      0,
    ),
    [],
  );
  // tardis' inputs: v3 frames, book_ticker, spot.obu, tardis' own generated
  // snapshot record (not a venue frame), and pairs not followed here.
  for (
    const l of (await Deno.readTextFile(`${TARDIS}/gate-io.ndjson`)).split("\n")
  ) {
    if (l !== "") assert.deepEqual(parser.parse(l, 0), [], l.slice(0, 60));
  }
  assert.throws(
    () => parser.parse(`{"channel":"spot.trades"`, 0),
    MalformedFrameError,
  );
  assert.throws(() => parser.parse(`7`, 0), MalformedFrameError);
  assert.throws(() => parser.parse(new Uint8Array(2), 0), MalformedFrameError);
  assert.throws(
    () =>
      parser.parse(
        `{"channel":"spot.order_book_update","event":"update","result":{"t":1,"s":"INK_USDT","b":[],"a":[]}}`,
        0,
      ),
    MalformedFrameError,
  );
  assert.throws(
    () =>
      parser.parse(
        `{"channel":"spot.order_book_update","event":"update","result":{"t":1,"s":"INK_USDT","U":1,"u":1,"b":[["1","x"]],"a":[]}}`,
        0,
      ),
    MalformedFrameError,
  );
});

Deno.test("gateio: isHeartbeat is true for the docs' spot.pong, false for every frame of the capture and tardis' inputs", async () => {
  const frames = [
    ...await capturedTexts("GATEIO.ws.1.0"),
    ...await tardisInputs("gate-io"),
  ];
  assert.ok(frames.length > 200);
  for (const f of frames) {
    // The oracle: the whole frame read as JSON.
    const beat = JSON.parse(f).channel === "spot.pong";
    assert.equal(gateioAdapter.isHeartbeat(f), beat, f.slice(0, 80));
  }
  const { heartbeats } = await docFrames("gateio", "v4");
  assert.ok(heartbeats.length > 0);
  for (const f of heartbeats) {
    assert.ok(gateioAdapter.isHeartbeat(f), f);
    assert.deepEqual(parser.parse(f, 0), []);
  }
});

Deno.test("gateio: a non-null error throws VenueError with Gate's message; the capture's acks (error null) do not", async () => {
  assertVenueErrors(parser, (await docFrames("gateio", "v4")).errors);
  let acks = 0;
  for (const f of await capturedTexts("GATEIO.ws.1.0")) {
    if (!f.includes(`"event":"subscribe"`)) continue;
    acks++;
    assert.deepEqual(parser.parse(f, 0), [], f);
  }
  assert.ok(acks > 0);
});
