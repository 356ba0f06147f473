import assert from "node:assert/strict";
import { BookSync } from "../market/book_sync.ts";
import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  MarketEvent,
} from "../market/events.ts";
import { resolveSymbols } from "../market/symbols.ts";
import { MalformedFrameError } from "./adapter.ts";
import { kucoinAdapter } from "./kucoin.ts";
import {
  assertSane,
  assertVenueErrors,
  capturedTexts,
  docFrames,
  tardisInputs,
} from "./_testing.ts";

const SAMPLES = "../shared/data/samples/tardis-node-inputs/kucoin.ndjson";
const CAPTURES = "../shared/data/captures/cryptofeed";

/** The body of a recorded REST line `<url> -> <ts>: <body>`. */
function restBody(line: string): string {
  return line.slice(line.indexOf(": ") + 2);
}

async function instruments(): Promise<Instrument[]> {
  const text = await Deno.readTextFile(`${CAPTURES}/KUCOIN.0`);
  return kucoinAdapter.instruments([restBody(text.split("\n")[0])]);
}

const btc: Instrument = {
  exchange: "kucoin",
  exchangeSymbol: "BTC-USDT",
  symbol: "BTC-USDT",
  base: "BTC",
  quote: "USDT",
  market: "spot",
  contractSize: 1,
};

Deno.test("kucoin: instruments come from base/quote currencies; BSV-USDT resolves to BCHSV-USDT", async () => {
  const insts = await instruments();
  // 634 symbols listed, one with enableTrading false.
  assert.equal(insts.length, 633);
  const bsv = insts.find((i) => i.exchangeSymbol === "BCHSV-USDT");
  assert.deepEqual(bsv, {
    exchange: "kucoin",
    exchangeSymbol: "BCHSV-USDT",
    symbol: "BSV-USDT",
    base: "BSV",
    quote: "USDT",
    market: "spot",
    contractSize: 1,
  });
  const { found, missing } = resolveSymbols(
    ["BSV-USDT", "LTX-USDT", "ETH-BTC", "NOPE-USDT"],
    insts,
  );
  assert.deepEqual(found.map((i) => i.exchangeSymbol), [
    "BCHSV-USDT",
    "LTX-USDT",
    "ETH-BTC",
  ]);
  assert.deepEqual(missing, ["NOPE-USDT"]);
  assert.throws(
    () => kucoinAdapter.instruments(['{"code":"400100","msg":"nope"}']),
    (e: Error) => e instanceof MalformedFrameError && /400100/.test(e.message),
  );
});

Deno.test("kucoin: the WebSocket URL comes from the bullet-public response", () => {
  assert.deepEqual(kucoinAdapter.connect, {
    method: "POST",
    url: "https://api.kucoin.com/api/v1/bullet-public",
  });
  // The response format of KuCoin's docs (apply-connect-token).
  const bullet = JSON.stringify({
    code: "200000",
    data: {
      token:
        "2neAiuYvAU61ZDXANAGAsiL4-iAExhsBXZxftpOeh_55i3Ysy2q2LEsEWU64mdzUOPusi34M_wGoSf7iNyEWJ4aBZXpWhrmY9jKtqhlogitY.v0J1X-TUyPs_pSyzKOO1DA==",
      instanceServers: [{
        endpoint: "wss://ws-api-spot.kucoin.com/",
        encrypt: true,
        protocol: "websocket",
        pingInterval: 18000,
        pingTimeout: 10000,
      }],
    },
  });
  assert.equal(
    kucoinAdapter.url(["BTC-USDT"], bullet),
    "wss://ws-api-spot.kucoin.com/?token=2neAiuYvAU61ZDXANAGAsiL4-iAExhsBXZxftpOeh_55i3Ysy2q2LEsEWU64mdzUOPusi34M_wGoSf7iNyEWJ4aBZXpWhrmY9jKtqhlogitY.v0J1X-TUyPs_pSyzKOO1DA==&connectId=coby",
  );
  assert.throws(
    () => kucoinAdapter.url([], '{"code":"429000","msg":"Too many requests"}'),
    (e: Error) => e instanceof MalformedFrameError && /429000/.test(e.message),
  );
  assert.throws(() => kucoinAdapter.url([]), /bullet-public/);
  assert.deepEqual(kucoinAdapter.keepalive, {
    frame: '{"id":"ping","type":"ping"}',
    intervalMs: 18_000,
  });
});

Deno.test("kucoin: subscriptions name at most 100 symbols per topic", () => {
  const symbols = Array.from({ length: 150 }, (_, i) => `S${i}-USDT`);
  const frames = kucoinAdapter.subscribe(symbols).map((f) => JSON.parse(f));
  assert.deepEqual(
    frames.map((f) => [f.topic.split(":")[0], f.topic.split(",").length]),
    [
      ["/market/level2", 100],
      ["/market/level2", 50],
      ["/market/match", 100],
      ["/market/match", 50],
    ],
  );
  assert.deepEqual(frames[0], {
    id: 1,
    type: "subscribe",
    topic: `/market/level2:${symbols.slice(0, 100).join(",")}`,
    privateChannel: false,
    response: true,
  });
  assert.equal(
    frames[3].topic,
    `/market/match:${symbols.slice(100).join(",")}`,
  );
});

Deno.test("kucoin: tardis-node sample frames → trades and deltas; acks, pongs, tickers yield nothing", async () => {
  const lines = (await Deno.readTextFile(SAMPLES)).trim().split("\n");
  const parser = kucoinAdapter.parser(new Map([["BTC-USDT", btc]]));
  const out = lines.map((l) => parser.parse(l, 42));
  for (const evs of out) assertSane(evs);
  // pong, welcome, ack
  assert.deepEqual(out.slice(0, 3), [[], [], []]);
  // match BTC-USDT: side is the taker's; time is ns → ms.
  assert.deepEqual(out[3], [{
    type: "trade",
    exchange: "kucoin",
    exchangeSymbol: "BTC-USDT",
    symbol: "BTC-USDT",
    market: "spot",
    exchangeTs: 1660608000026,
    localTs: 42,
    id: "62fade002e113d292303a18b",
    price: 24093.9,
    size: 0.00001255,
    rawSize: 0.00001255,
    side: "sell",
  }]);
  // LMR-BTC and XRP-USDT are not followed; the ticker is not a channel we use.
  assert.deepEqual(out.slice(4, 7), [[], [], []]);
  const delta = (e: MarketEvent[]) => {
    assert.equal(e.length, 1);
    assert.equal(e[0].type, "book_delta");
    const d = e[0] as BookDelta;
    return [d.first, d.last, d.bids, d.asks, d.exchangeTs];
  };
  // A price "0" change only advances the sequence: an empty delta.
  assert.deepEqual(delta(out[7]), [1636276321877, 1636276321877, [], [], 42]);
  assert.deepEqual(delta(out[8]), [
    1636276324353,
    1636276324353,
    [24081.2, 0.00265],
    [],
    42,
  ]);
  assert.deepEqual(delta(out[9]), [1636276324355, 1636276324355, [], [], 42]);
  assert.deepEqual(delta(out[10]), [
    1636276324356,
    1636276324356,
    [12, 0.12],
    [],
    42,
  ]);
  // Size 0 removes the level.
  assert.deepEqual(delta(out[11]), [
    1636276324361,
    1636276324361,
    [],
    [24088.8, 0],
    42,
  ]);
  // tardis-node's own generated `trade.l2Snapshot` is not a KuCoin frame.
  assert.deepEqual(out[12], []);
  assert.deepEqual(delta(out[13]), [
    1636276324362,
    1636276324363,
    [],
    [24088.8, 12],
    42,
  ]);
  assert.deepEqual(delta(out[14]), [1636276324364, 1636276324365, [], [], 42]);
  // Since 2023 l2update carries `time` (ms): the exchange time.
  assert.deepEqual(delta(out[15]), [
    1636276324364,
    1636276324363,
    [27309.8, 0.35127929],
    [],
    1685578980002,
  ]);
});

Deno.test("kucoin: capture frames and the recorded REST snapshot", async () => {
  const insts = await instruments();
  const bsv = insts.find((i) => i.exchangeSymbol === "BCHSV-USDT")!;
  const parser = kucoinAdapter.parser(new Map([["BCHSV-USDT", bsv]]));
  const ws = (await Deno.readTextFile(`${CAPTURES}/KUCOIN.ws.1.0`)).split("\n");
  const frame = (prefix: string) =>
    restBody(ws.find((l) => l.includes(prefix))!);
  assert.deepEqual(parser.parse(frame('"type":"welcome"'), 1), []);
  assert.deepEqual(parser.parse(frame('"type":"ack"'), 1), []);
  assert.deepEqual(parser.parse(frame('"subject":"trade.candles'), 1), []);
  assert.deepEqual(parser.parse(frame("/market/ticker:BCHSV-USDT"), 1), []);
  // The first recorded l2update: one price-0 change, sequence 1613277183874.
  assert.deepEqual(parser.parse(frame("/market/level2:BCHSV-USDT"), 7), [{
    type: "book_delta",
    exchange: "kucoin",
    exchangeSymbol: "BCHSV-USDT",
    symbol: "BSV-USDT",
    market: "spot",
    exchangeTs: 7, // no `time` in 2021
    localTs: 7,
    first: 1613277183874,
    last: 1613277183874,
    prev: -1,
    bids: [],
    asks: [],
    contractSize: 1,
  }]);
  // A DAPPT-BTC match is not followed here; the BCHSV-USDT one is.
  assert.deepEqual(parser.parse(frame("/market/match:DAPPT-BTC"), 1), []);
  assert.deepEqual(parser.parse(frame('"/market/match:BCHSV-USDT"'), 3), [{
    type: "trade",
    exchange: "kucoin",
    exchangeSymbol: "BCHSV-USDT",
    symbol: "BSV-USDT",
    market: "spot",
    exchangeTs: 1619378336197, // 1619378336197407320 ns
    localTs: 3,
    id: "6085c0a069bc50686d66da3c",
    price: 242.781,
    size: 0.14324938,
    rawSize: 0.14324938,
    side: "sell",
  }]);

  const http = (await Deno.readTextFile(`${CAPTURES}/KUCOIN.http.0.0`)).split(
    "\n",
  )[0];
  assert.ok(http.startsWith(kucoinAdapter.book.snapshotUrl!("BCHSV-USDT")));
  const snap = kucoinAdapter.book.parseSnapshot!(restBody(http), 9, bsv);
  assertSane([snap]);
  assert.equal(snap.sequence, 1613277183892);
  assert.equal(snap.exchangeTs, 1619378326628);
  assert.equal(snap.symbol, "BSV-USDT");
  assert.deepEqual(snap.bids.slice(0, 4), [242.649, 5, 242.646, 0.68148185]);
  assert.equal(snap.bids.length, 172 * 2);
  assert.equal(snap.asks.length, 399 * 2);
  assert.throws(
    () =>
      kucoinAdapter.book.parseSnapshot!(
        '{"code":"400003","msg":"KC-API-KEY not exists"}',
        9,
        bsv,
      ),
    (e: Error) => e instanceof MalformedFrameError && /400003/.test(e.message),
  );
});

Deno.test("kucoin: the sync rule applies from snapshot.sequence + 1, then contiguous", () => {
  // Worked from KuCoin's calibration procedure: a snapshot at 16 already
  // holds update 16; the first delta to apply covers 17.
  const d = (first: number, last: number): BookDelta => ({
    type: "book_delta",
    exchange: "kucoin",
    exchangeSymbol: "BTC-USDT",
    symbol: "BTC-USDT",
    market: "spot",
    exchangeTs: 0,
    localTs: 0,
    first,
    last,
    prev: -1,
    bids: [],
    asks: [],
    contractSize: 1,
  });
  const snap = { sequence: 16 } as BookSnapshot;
  const sync = new BookSync(kucoinAdapter.book.sync);
  for (const [a, b] of [[15, 15], [16, 16], [17, 18]]) {
    assert.equal(sync.delta(d(a, b)), "buffered");
  }
  const v = sync.snapshot(snap);
  assert.equal(v.result, "synced");
  assert.deepEqual(v.apply.map((x) => [x.first, x.last]), [[17, 18]]);
  assert.equal(sync.delta(d(19, 19)), "apply");
  assert.equal(sync.delta(d(21, 21)), "gap");
});

Deno.test("kucoin: garbage is malformed", () => {
  const parser = kucoinAdapter.parser(new Map([["BTC-USDT", btc]]));
  assert.throws(() => parser.parse("{not json", 1), MalformedFrameError);
  assert.throws(
    () =>
      parser.parse(
        '{"type":"message","subject":"trade.l2update","data":{"symbol":"BTC-USDT","changes":{"asks":[],"bids":[]}}}',
        1,
      ),
    MalformedFrameError,
  );
  assert.throws(
    () =>
      parser.parse(
        '{"type":"message","subject":"trade.l2update","data":{"symbol":"BTC-USDT","sequenceStart":1,"sequenceEnd":1,"changes":{"asks":[["x","1","1"]],"bids":[]}}}',
        1,
      ),
    MalformedFrameError,
  );
});

Deno.test("kucoin: isHeartbeat is true for tardis' real pong only, false for every frame of the capture", async () => {
  const frames = [
    ...await capturedTexts("KUCOIN.ws.1.0"),
    ...await tardisInputs("kucoin"),
  ];
  let pongs = 0;
  for (const f of frames) {
    // The oracle: the whole frame read as JSON.
    const pong = JSON.parse(f).type === "pong";
    assert.equal(kucoinAdapter.isHeartbeat(f), pong, f.slice(0, 80));
    if (pong) pongs++;
  }
  assert.ok(pongs > 0 && frames.length > 4000, `${pongs} pongs`);
});

Deno.test("kucoin: error replies throw VenueError with KuCoin's data; the capture's welcome and acks do not", async () => {
  const parser = kucoinAdapter.parser(new Map([["BTC-USDT", btc]]));
  assertVenueErrors(parser, (await docFrames("kucoin", "v1")).errors);
  let control = 0;
  for (const f of await capturedTexts("KUCOIN.ws.1.0")) {
    if (f.includes(`"type":"message"`)) continue;
    control++;
    assert.deepEqual(parser.parse(f, 1), [], f);
  }
  assert.ok(control > 0);
});
