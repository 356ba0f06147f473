import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { OrderBook } from "../market/book.ts";
import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  MarketEvent,
} from "../market/events.ts";
import { resolveSymbols } from "../market/symbols.ts";
import { MalformedFrameError, ResyncError } from "./adapter.ts";
import { bitfinexAdapter } from "./bitfinex.ts";
import {
  assertSane,
  assertVenueErrors,
  capturedTexts,
  docFrames,
  tardisInputs,
} from "./_testing.ts";

const INPUTS = "../shared/data/samples/tardis-node-inputs";
const CAPTURES = "../shared/data/captures/cryptofeed";

/** Real instruments from the capture's pair lists. */
async function instruments(): Promise<Map<string, Instrument>> {
  const lines = (await Deno.readTextFile(`${CAPTURES}/BITFINEX.0`)).split(
    "\n",
  );
  const body = (url: string) => {
    const l = lines.find((x) => x.startsWith(url + " -> "))!;
    return l.slice(l.indexOf(": ") + 2);
  };
  const insts = bitfinexAdapter.instruments(
    bitfinexAdapter.metadataUrls.map(body),
  );
  return new Map(insts.map((i) => [i.exchangeSymbol, i]));
}

async function lines(file: string): Promise<string[]> {
  return (await Deno.readTextFile(`${INPUTS}/${file}`)).trim().split("\n");
}

/** Applies book events as the connection does. */
function applyTo(book: OrderBook, e: MarketEvent): void {
  assert.ok(e.type === "book_snapshot" || e.type === "book_delta");
  if (e.type === "book_snapshot") book.clear();
  book.apply(e.bids, e.asks, e.raw);
}

/** Bitfinex's documented checksum string, built from raw [price, count, amount] rows. */
function checksumString(rows: number[][]): string {
  const bids = rows.filter((r) => r[2] > 0).sort((a, b) => b[0] - a[0]);
  const asks = rows.filter((r) => r[2] < 0).sort((a, b) => a[0] - b[0]);
  const parts: number[] = [];
  for (let i = 0; i < 25; i++) {
    if (bids[i]) parts.push(bids[i][0], bids[i][2]);
    if (asks[i]) parts.push(asks[i][0], asks[i][2]);
  }
  return parts.join(":");
}

Deno.test("bitfinex: instruments from the pair lists; UST is USDT, F0 marks perpetuals", async () => {
  const insts = await instruments();
  assert.equal(insts.size, 293 + 35);
  const pick = (s: string) => {
    const i = insts.get(s)!;
    return [i.symbol, i.base, i.quote, i.market, i.contractSize];
  };
  assert.deepEqual(pick("tBTCUSD"), ["BTC-USD", "BTC", "USD", "spot", 1]);
  assert.deepEqual(pick("tBTCUST"), ["BTC-USDT", "BTC", "USDT", "spot", 1]);
  assert.deepEqual(pick("tAAVE:UST"), ["AAVE-USDT", "AAVE", "USDT", "spot", 1]);
  assert.deepEqual(pick("tBCHN:USD"), ["BCH-USD", "BCH", "USD", "spot", 1]);
  assert.deepEqual(pick("tTESTBTC:TESTUSD"), [
    "TESTBTC-TESTUSD",
    "TESTBTC",
    "TESTUSD",
    "spot",
    1,
  ]);
  assert.deepEqual(pick("tBTCF0:USTF0"), [
    "BTC-USDT",
    "BTC",
    "USDT",
    "perpetual",
    1,
  ]);
  assert.deepEqual(pick("tIOTETH"), ["IOT-ETH", "IOT", "ETH", "spot", 1]);
  const { found, missing } = resolveSymbols(
    ["BTC-USDT-PERP", "BTC-USDT", "IOT-ETH", "tTESTBTC:TESTUSD", "NOPE-USD"],
    [...insts.values()],
  );
  assert.deepEqual(found.map((i) => i.exchangeSymbol), [
    "tBTCF0:USTF0",
    "tBTCUST",
    "tIOTETH",
    "tTESTBTC:TESTUSD",
  ]);
  assert.deepEqual(missing, ["NOPE-USD"]);
  assert.throws(
    () =>
      bitfinexAdapter.instruments([
        '["error",10020,"symbol: invalid"]',
        "[[]]",
      ]),
    MalformedFrameError,
  );
});

Deno.test("bitfinex: conf first (SEQ_ALL | OB_CHECKSUM | TIMESTAMP), then book and trades per symbol, then liq:global", () => {
  assert.equal(bitfinexAdapter.url([]), "wss://api-pub.bitfinex.com/ws/2");
  assert.deepEqual(
    bitfinexAdapter.subscribe(["tBTCUSD", "tBTCF0:USTF0"]).map((f) =>
      JSON.parse(f)
    ),
    [
      { event: "conf", flags: 65536 + 131072 + 32768 },
      {
        event: "subscribe",
        channel: "book",
        symbol: "tBTCUSD",
        prec: "P0",
        freq: "F0",
        len: "250",
      },
      { event: "subscribe", channel: "trades", symbol: "tBTCUSD" },
      {
        event: "subscribe",
        channel: "book",
        symbol: "tBTCF0:USTF0",
        prec: "P0",
        freq: "F0",
        len: "250",
      },
      { event: "subscribe", channel: "trades", symbol: "tBTCF0:USTF0" },
      { event: "subscribe", channel: "status", key: "liq:global" },
    ],
  );
  assert.deepEqual(bitfinexAdapter.book.sync, { kind: "stream", link: "none" });
});

Deno.test("bitfinex: tardis-node spot samples → te trades and P0 book events; tu, snapshots of trades, hb, tickers yield nothing", async () => {
  const insts = await instruments();
  const parser = bitfinexAdapter.parser(insts);
  const out = (await lines("bitfinex.ndjson")).map((l) => parser.parse(l, 5));
  for (const evs of out) assertSane(evs);
  // 1: unknown channel; 2: subscribed; 3: the trades snapshot (history).
  assert.deepEqual(out.slice(0, 3), [[], [], []]);
  // 4: te — a positive amount is a buy by the taker.
  assert.deepEqual(out[3], [{
    type: "trade",
    exchange: "bitfinex",
    exchangeSymbol: "tBTCUSD",
    symbol: "BTC-USD",
    market: "spot",
    exchangeTs: 1564617600709,
    localTs: 5,
    id: "382489563",
    price: 10087.98969503,
    size: 0.00705845,
    rawSize: 0.00705845,
    side: "buy",
  }]);
  // 5: tu repeats the te; 6: subscribed book.
  assert.deepEqual(out.slice(4, 6), [[], []]);
  // 7: the book snapshot; amount > 0 bid, < 0 ask. No conf reply was seen,
  // so no sequence is read (-1) and the exchange time is the receive time.
  assert.deepEqual(out[6], [{
    type: "book_snapshot",
    exchange: "bitfinex",
    exchangeSymbol: "tETHUSD",
    symbol: "ETH-USD",
    market: "spot",
    exchangeTs: 5,
    localTs: 5,
    sequence: -1,
    bids: [216, 31.52],
    asks: [218.75, 13.33333333, 218.76, 2],
    contractSize: 1,
    raw: {
      bids: ["216", "31.52"],
      asks: ["218.75", "-13.33333333", "218.76", "-2"],
    },
  }]);
  const levels = (e: MarketEvent[]) => {
    const d = e[0] as BookDelta;
    assert.equal(d.type, "book_delta");
    return [d.bids, d.asks];
  };
  assert.deepEqual(levels(out[7]), [[], [219.11, 18.10913638]]);
  // count 0 removes; the amount ±1 only names the side.
  assert.deepEqual(levels(out[8]), [[], [218.99, 0]]);
  assert.deepEqual(levels(out[9]), [[218.03, 0], []]);
  // hb, ticker subscriptions and ticker data (not followed).
  assert.deepEqual(out.slice(10), [[], [], [], [], []]);
});

Deno.test("bitfinex: derivatives samples → perpetual trades, book updates and executed liquidations", async () => {
  const insts = await instruments();
  const parser = bitfinexAdapter.parser(insts);
  const src = await lines("bitfinex-derivatives.ndjson");
  // tardis recorded these book and trades channels without their
  // `subscribed` events; these two are written from the docs' format.
  parser.parse(
    '{"event":"subscribed","channel":"book","chanId":23918,"symbol":"tBTCF0:USTF0","prec":"P0","freq":"F0","len":"100","pair":"BTCF0:USTF0"}',
    1,
  );
  parser.parse(
    '{"event":"subscribed","channel":"trades","chanId":23916,"symbol":"tBTCF0:USTF0","pair":"BTCF0:USTF0"}',
    1,
  );
  // Lines 19-20 come from a connection whose `subscribed` the sample lacks:
  // replayed on the liq:global channel of line 17.
  src[18] = src[18].replace("[907,", "[386841,");
  src[19] = src[19].replace("[907,", "[386841,");
  const out = src.map((l) => parser.parse(l, 9));
  for (const evs of out) assertSane(evs);
  // 1-7: derivative status (not followed), hb, an unknown channel.
  assert.deepEqual(out.slice(0, 7), [[], [], [], [], [], [], []]);
  assert.deepEqual(out[7].map((e) => [e.type, (e as BookDelta).bids]), [[
    "book_delta",
    [9163.7, 0],
  ]]);
  // 9-11: raw book, status, hb: not followed.
  assert.deepEqual(out.slice(8, 11), [[], [], []]);
  assert.deepEqual(out[11], [{
    type: "trade",
    exchange: "bitfinex",
    exchangeSymbol: "tBTCF0:USTF0",
    symbol: "BTC-USDT",
    market: "perpetual",
    exchangeTs: 1590593199934,
    localTs: 9,
    id: "452025730",
    price: 9135.5,
    size: 0.005,
    rawSize: 0.005,
    side: "buy",
  }]);
  // 13: tu; 14-16: liquidations before any liq:global subscription.
  assert.deepEqual(out.slice(12, 16), [[], [], [], []]);
  // 17: subscribed; 18: the channel's first message, a snapshot of
  // liquidations 12 hours old: skipped.
  assert.deepEqual(out.slice(16, 18), [[], []]);
  // 19: an execution (IS_MATCH 1) of a short ETH position: bought back
  // 4.56671421 at the acquired price 235.52.
  assert.deepEqual(out[18], [{
    type: "liquidation",
    exchange: "bitfinex",
    exchangeSymbol: "tETHF0:USTF0",
    symbol: "ETH-USDT",
    market: "perpetual",
    exchangeTs: 1594036710543,
    localTs: 9,
    price: 235.52,
    size: 4.56671421,
    rawSize: 4.56671421,
    side: "buy",
  }]);
  // 20: the trigger (IS_MATCH 0) of the same position: not an execution.
  assert.deepEqual(out[19], []);
});

Deno.test("bitfinex: the whole capture parses with a contiguous sequence; a lost message resyncs", async () => {
  const insts = await instruments();
  const frames = (await Deno.readTextFile(`${CAPTURES}/BITFINEX.ws.11.0`))
    .split("\n").filter((l) => /^\d/.test(l)).map((l) =>
      l.slice(l.indexOf(": ") + 2)
    );
  const parser = bitfinexAdapter.parser(insts);
  const counts: Record<string, number> = {};
  for (const f of frames) {
    // Includes heartbeats on channel 232954 before its `subscribed` event.
    for (const e of parser.parse(f, 1)) {
      counts[e.type] = (counts[e.type] ?? 0) + 1;
    }
  }
  assert.deepEqual(counts, { book_snapshot: 7, book_delta: 1593 });

  const again = bitfinexAdapter.parser(insts);
  const lost = frames.findIndex((f) => f.startsWith("[225206,[279380,1,"));
  assert.ok(lost > 0);
  for (let i = 0; i < lost; i++) again.parse(frames[i], 1);
  // Frame `lost` (sequence 19) never arrives: the next array message,
  // sequence 20, is a gap (the `subscribed` event between carries none).
  let err: Error | undefined;
  for (let i = lost + 1; i < frames.length && !err; i++) {
    try {
      again.parse(frames[i], 1);
    } catch (e) {
      err = e as Error;
    }
  }
  assert.ok(err instanceof ResyncError, String(err));
  assert.match(err.message, /sequence 20 after 18/);
});

Deno.test("bitfinex: checksum of the top 25 levels matches the documented string's CRC-32", async () => {
  const insts = await instruments();
  const parser = bitfinexAdapter.parser(insts);
  const out = (await lines("bitfinex.ndjson")).map((l) => parser.parse(l, 5));
  const book = new OrderBook(true);
  applyTo(book, out[6][0]);
  // Bids and asks interleaved, asks with their negative amounts.
  const s0 = "216:31.52:218.75:-13.33333333:218.76:-2";
  assert.equal(bitfinexAdapter.book.checksum!(book), crc32(s0) | 0);
  applyTo(book, out[7][0]);
  assert.equal(
    bitfinexAdapter.book.checksum!(book),
    crc32(`${s0}:219.11:-18.10913638`) | 0,
  );

  // A real 200-level snapshot: only the best 25 of each side count.
  const line = (await Deno.readTextFile(`${CAPTURES}/BITFINEX.ws.11.0`))
    .split("\n").find((l) => l.includes(": [232955,[["))!;
  const rows: number[][] = JSON.parse(line.slice(line.indexOf(": ") + 2))[1];
  assert.equal(rows.length, 200);
  const iot = bitfinexAdapter.parser(insts);
  iot.parse(
    '{"event":"subscribed","channel":"book","chanId":232955,"symbol":"tIOTETH","prec":"P0","freq":"F0","len":"100","pair":"IOTETH"}',
    1,
  );
  const deep = new OrderBook(true);
  const [snap] = iot.parse(JSON.stringify([232955, rows]), 1);
  applyTo(deep, snap);
  assert.equal(deep.bids.length + deep.asks.length, 200);
  const want = crc32(checksumString(rows)) | 0;
  assert.equal(bitfinexAdapter.book.checksum!(deep), want);

  // A `cs` frame ([CHAN_ID, "cs", CHECKSUM, SEQ]) becomes an empty delta
  // carrying the venue's value, which the connection compares.
  iot.parse('{"event":"conf","status":"OK","flags":196608}', 1);
  const [cs] = iot.parse(JSON.stringify([232955, "cs", want, 41]), 2);
  assert.deepEqual(cs, {
    type: "book_delta",
    exchange: "bitfinex",
    exchangeSymbol: "tIOTETH",
    symbol: "IOT-ETH",
    market: "spot",
    exchangeTs: 2,
    localTs: 2,
    first: 41,
    last: 41,
    prev: -1,
    bids: [],
    asks: [],
    contractSize: 1,
    checksum: want,
  });
  // One changed amount changes the checksum.
  const [upd] = iot.parse(
    JSON.stringify([232955, [rows[0][0], 1, rows[0][2] + 1], 42]),
    3,
  );
  applyTo(deep, upd);
  assert.notEqual(bitfinexAdapter.book.checksum!(deep), want);
});

Deno.test("bitfinex: with TIMESTAMP the exchange time follows the sequence number", async () => {
  const insts = await instruments();
  const parser = bitfinexAdapter.parser(insts);
  // Bitfinex's conf reply and messages laid out as documented for
  // SEQ_ALL | OB_CHECKSUM | TIMESTAMP, levels taken from the samples.
  const frames = [
    '{"event":"conf","status":"OK","flags":229376}',
    '{"event":"subscribed","channel":"book","chanId":6959,"symbol":"tETHUSD","prec":"P0","freq":"F0","len":"250","pair":"ETHUSD"}',
    '{"event":"subscribed","channel":"trades","chanId":89,"symbol":"tETHUSD","pair":"ETHUSD"}',
    "[6959,[[216,2,31.52],[218.75,1,-13.33333333]],1,1564617600541]",
    "[89,[[382489562,1564617598688,0.01302607,218.7]],2,1564617600542]",
    "[6959,[219.11,3,-18.10913638],3,1564617601214]",
    '[6959,"hb",4,1564617601300]',
    '[89,"te",[382489563,1564617600709,-0.5,218.75],5,1564617600784]',
    '[6959,"cs",-1234,6,1564617600800]',
  ];
  const out = frames.map((f) => parser.parse(f, 9));
  assert.equal((out[3][0] as BookSnapshot).exchangeTs, 1564617600541);
  assert.equal((out[3][0] as BookSnapshot).sequence, 1);
  assert.deepEqual(out[4], []);
  const d = out[5][0] as BookDelta;
  assert.deepEqual([d.first, d.last, d.exchangeTs], [3, 3, 1564617601214]);
  assert.deepEqual(out[6], []);
  assert.equal(out[7][0].type, "trade");
  assert.equal((out[7][0] as { side: string }).side, "sell");
  assert.deepEqual(
    [(out[8][0] as BookDelta).checksum, (out[8][0] as BookDelta).exchangeTs],
    [-1234, 1564617600800],
  );
  assert.throws(
    () => parser.parse('[6959,"hb",8,1564617601900]', 9),
    ResyncError,
  );
});

Deno.test("bitfinex: info 20051/20061 reconnect; garbage is malformed", async () => {
  const parser = bitfinexAdapter.parser(await instruments());
  assert.deepEqual(
    parser.parse(
      '{"event":"info","version":2,"serverId":"x","platform":{"status":1}}',
      1,
    ),
    [],
  );
  assert.deepEqual(
    parser.parse(
      '{"event":"info","code":20060,"msg":"Entering maintenance mode"}',
      1,
    ),
    [],
  );
  for (const code of [20051, 20061]) {
    assert.throws(
      () => parser.parse(`{"event":"info","code":${code},"msg":"x"}`, 1),
      ResyncError,
    );
  }
  assert.throws(() => parser.parse("[1,", 1), MalformedFrameError);
  parser.parse(
    '{"event":"subscribed","channel":"book","chanId":5,"symbol":"tBTCUSD","prec":"P0"}',
    1,
  );
  assert.throws(() => parser.parse('[5,[1,1,"x"]]', 1), MalformedFrameError);
  assert.throws(
    () => parser.parse(new Uint8Array([1, 2]), 1),
    MalformedFrameError,
  );
});

Deno.test("bitfinex: isHeartbeat is true for the capture's and tardis' [chanId,\"hb\"…] frames only, which still carry the sequence", async () => {
  const frames = [
    ...await capturedTexts("BITFINEX.ws.11.0"),
    ...await tardisInputs("bitfinex"),
    ...await tardisInputs("bitfinex-derivatives"),
  ];
  let beats = 0;
  for (const f of frames) {
    // The oracle: the whole frame read as JSON.
    const msg = JSON.parse(f);
    const beat = Array.isArray(msg) && msg[1] === "hb";
    assert.equal(bitfinexAdapter.isHeartbeat(f), beat, f.slice(0, 80));
    if (beat) beats++;
  }
  assert.ok(beats > 3 && frames.length - beats > 1000, `${beats} heartbeats`);
  assert.equal(
    bitfinexAdapter.isHeartbeat(new TextEncoder().encode('[1,"hb"]')),
    false,
  );
  // The capture replayed with heartbeats parsed too: the connection-wide
  // sequence they carry links without a gap (skipping them would not).
  const parser = bitfinexAdapter.parser(await instruments());
  for (const f of await capturedTexts("BITFINEX.ws.11.0")) parser.parse(f, 1);
});

Deno.test("bitfinex: error events throw VenueError with Bitfinex's msg and the echoed symbol", async () => {
  const parser = bitfinexAdapter.parser(await instruments());
  assertVenueErrors(parser, (await docFrames("bitfinex", "v2")).errors);
  // The capture's own events (info, conf, subscribed) are no errors.
  for (const f of await capturedTexts("BITFINEX.ws.11.0")) {
    if (f.startsWith("{")) assert.deepEqual(parser.parse(f, 1), [], f);
  }
});
