import assert from "node:assert/strict";
import { OrderBook } from "../market/book.ts";
import { BookSync } from "../market/book_sync.ts";
import type { BookDelta, BookSnapshot, Instrument } from "../market/events.ts";
import { resolveSymbols } from "../market/symbols.ts";
import { MalformedFrameError, ResyncError } from "./adapter.ts";
import { adapterFor } from "./mod.ts";
import { okxAdapter } from "./okx.ts";
import { okxChecksumAdapter } from "./okx_checksum.ts";
import { okxChecksum, okxInstruments, okxSubscribe } from "./_okx.ts";
import {
  assertSane,
  assertVenueErrors,
  capturedTexts,
  docFrames,
  tardisInputs,
} from "./_testing.ts";

const NAUTILUS =
  "../shared/data/samples/nautilus_trader/crates/adapters/okx/test_data";
const TARDIS = "../shared/data/samples/tardis-node-inputs";
const CAPTURES = "../shared/data/captures/cryptofeed";

const captureLines = (await Deno.readTextFile(`${CAPTURES}/OKX.ws.1.0`))
  .split("\n");
/** The text of the first received capture frame containing `needle`. */
function captured(needle: string): string {
  const line = captureLines.find((l) =>
    !l.startsWith("wss://") && l.includes(needle)
  );
  assert.ok(line, needle);
  return line.slice(line.indexOf(": ") + 2);
}

const metaBodies = (await Deno.readTextFile(`${CAPTURES}/OKX.0`)).split("\n")
  .slice(0, 3).map((l) => l.slice(l.indexOf(": ") + 2));
const insts = okxInstruments(metaBodies);
const byId = (id: string) => insts.find((i) => i.exchangeSymbol === id)!;

// From the capture's metadata: UNI-USD-SWAP is inverse, 10 USD a contract;
// BTC-USD-220527 inverse, 100 USD a contract.
const uniSwap = byId("UNI-USD-SWAP");
const btcFuture = byId("BTC-USD-220527");
const btcUsdt = byId("BTC-USDT");
const table = new Map([uniSwap, btcFuture, btcUsdt].map((i) => [
  i.exchangeSymbol,
  i,
]));
const legacy = okxChecksumAdapter.parser(table);

Deno.test("okx: instruments from the capture's metadata: spot, linear and inverse swaps, dated futures", () => {
  assert.deepEqual(btcUsdt, {
    exchange: "okx",
    exchangeSymbol: "BTC-USDT",
    symbol: "BTC-USDT",
    base: "BTC",
    quote: "USDT",
    market: "spot",
    contractSize: 1,
  });
  // ctType linear, ctVal 0.01 ctValCcy BTC: sizes × 0.01 are BTC.
  assert.deepEqual(byId("BTC-USDT-SWAP"), {
    exchange: "okx",
    exchangeSymbol: "BTC-USDT-SWAP",
    symbol: "BTC-USDT",
    base: "BTC",
    quote: "USDT",
    market: "perpetual",
    contractSize: 0.01,
  });
  // ctType inverse, ctVal 10 ctValCcy USD.
  assert.deepEqual(uniSwap, {
    exchange: "okx",
    exchangeSymbol: "UNI-USD-SWAP",
    symbol: "UNI-USD",
    base: "UNI",
    quote: "USD",
    market: "perpetual",
    contractSize: 10,
    inverse: true,
  });
  // expTime 1653638400000 = 2022-05-27T08:00Z.
  assert.deepEqual(btcFuture, {
    exchange: "okx",
    exchangeSymbol: "BTC-USD-220527",
    symbol: "BTC-USD",
    base: "BTC",
    quote: "USD",
    market: "future",
    contractSize: 100,
    inverse: true,
    expiry: 1653638400000,
  });
  // The metadata URLs are the recorded ones (the simulator matches them exactly).
  const recorded = (Deno.readTextFileSync(`${CAPTURES}/OKX.0`)).split("\n")
    .slice(0, 3).map((l) => l.slice(0, l.indexOf(" -> ")));
  assert.deepEqual(okxAdapter.metadataUrls, recorded);
  // cryptofeed's BTC-USD-22K27 / UNI-USD-PERP / BTC-USDT as selectors.
  const { found, missing } = resolveSymbols(
    ["BTC-USD-220527", "UNI-USD-PERP", "BTC-USDT"],
    insts,
  );
  assert.deepEqual(missing, []);
  assert.deepEqual(found.map((i) => i.exchangeSymbol), [
    "BTC-USD-220527",
    "UNI-USD-SWAP",
    "BTC-USDT",
  ]);
  assert.throws(
    () => okxInstruments(['{"code":"50011","data":[]}']),
    MalformedFrameError,
  );
});

Deno.test("okx: the API version is picked by date: the 2022 capture speaks the checksum feed", () => {
  assert.equal(adapterFor("okx", Date.UTC(2022, 4, 13)), okxChecksumAdapter);
  assert.equal(
    adapterFor("okx", Date.UTC(2026, 5, 22, 23)),
    okxChecksumAdapter,
  );
  assert.equal(adapterFor("okx", Date.UTC(2026, 5, 23)), okxAdapter);
  assert.equal(adapterFor("okx"), okxAdapter);
});

Deno.test("okx_checksum: capture books on an inverse swap: size = contracts × 10 USD / price, checksums verify", () => {
  const [snap] = legacy.parse(
    captured(`"instId":"UNI-USD-SWAP"},"action":"snapshot"`),
    1000,
  ) as BookSnapshot[];
  assertSane([snap]);
  assert.equal(snap.type, "book_snapshot");
  assert.equal(snap.sequence, -1); // 2022: no seqId yet
  assert.equal(snap.checksum, 555605283);
  assert.equal(snap.exchangeTs, 1652459225363);
  assert.equal(snap.bids.length, 121 * 2);
  // Best bid ["5.14","251"]: 251 contracts × 10 USD at 5.14 USD/UNI.
  assert.deepEqual(snap.bids.slice(0, 2), [5.14, 2510 / 5.14]);
  assert.deepEqual(snap.raw!.bids.slice(0, 2), ["5.14", "251"]);
  assert.deepEqual(snap.asks.slice(0, 2), [5.148, 600 / 5.148]);

  const [delta] = legacy.parse(
    `{"arg":{"channel":"books","instId":"UNI-USD-SWAP"},"action":"update","data":[{"asks":[["5.158","129","0","2"],["5.233","240","0","1"]],"bids":[["5.14","427","0","4"],["5.138","26","0","2"],["5.117","0","0","0"]],"ts":"1652459225464","checksum":1361161687}]}`,
    2000,
  );
  assert.deepEqual(delta, {
    type: "book_delta",
    exchange: "okx",
    exchangeSymbol: "UNI-USD-SWAP",
    symbol: "UNI-USD",
    market: "perpetual",
    exchangeTs: 1652459225464,
    localTs: 2000,
    bids: [5.14, 4270 / 5.14, 5.138, 260 / 5.138, 5.117, 0],
    asks: [5.158, 1290 / 5.158, 5.233, 2400 / 5.233],
    contractSize: 10,
    inverse: true,
    checksum: 1361161687,
    raw: {
      bids: ["5.14", "427", "5.138", "26", "5.117", "0"],
      asks: ["5.158", "129", "5.233", "240"],
    },
    first: -1,
    last: -1,
    prev: -1,
  });
  // The venue's own checksums validate a book kept with the strings as sent.
  const book = new OrderBook(true);
  book.apply(snap.bids, snap.asks, snap.raw);
  assert.equal(okxChecksum(book), snap.checksum);
  const d = delta as BookDelta;
  book.apply(d.bids, d.asks, d.raw);
  assert.equal(okxChecksum(book), d.checksum);
  assert.equal(okxChecksumAdapter.book.checksum, okxChecksum);
});

Deno.test("okx: checksum string of the docs' worked examples (25 levels interleaved, short side skipped)", () => {
  const book = new OrderBook(true);
  book.apply([3366.1, 7, 3366, 6], [3366.8, 9, 3368, 8], {
    bids: ["3366.1", "7", "3366", "6"],
    asks: ["3366.8", "9", "3368", "8"],
  });
  // crc32("3366.1:7:3366.8:9:3366:6:3368:8") as a signed int.
  assert.equal(okxChecksum(book), -1881014294);
  const short = new OrderBook(true);
  short.apply([3366.1, 7], [3366.8, 9, 3368, 8, 3372, 8], {
    bids: ["3366.1", "7"],
    asks: ["3366.8", "9", "3368", "8", "3372", "8"],
  });
  // crc32("3366.1:7:3366.8:9:3368:8:3372:8").
  assert.equal(okxChecksum(short), 831078360);
  assert.throws(() => okxChecksum(new OrderBook(false)), Error);
});

Deno.test("okx: docs book samples with seqId: checksum feed emits both; current feed ignores the snapshot and links prevSeqId", async () => {
  const snapText = await Deno.readTextFile(
    `${NAUTILUS}/ws_books_snapshot.json`,
  );
  const updText = await Deno.readTextFile(`${NAUTILUS}/ws_books_update.json`);
  const [s] = legacy.parse(snapText, 5) as BookSnapshot[];
  assert.equal(s.type, "book_snapshot");
  assert.equal(s.sequence, 123456);
  assert.equal(s.checksum, -855196043);
  // Spot: sizes are base currency already.
  assert.deepEqual(s.bids.slice(0, 4), [8476.97, 256, 8475.55, 101]);
  assert.deepEqual(s.asks.slice(0, 4), [8476.98, 415, 8477, 7]);
  const [u] = legacy.parse(updText, 6) as BookDelta[];
  assert.deepEqual([u.first, u.last, u.prev], [123457, 123457, 123456]);

  const current = okxAdapter.parser(table);
  // Snapshot action ignored ("ignore the first event received"); no checksum
  // (always 0 since 2026-06-23) and no level strings.
  assert.deepEqual(current.parse(snapText, 5), []);
  const [cu] = current.parse(updText, 6) as BookDelta[];
  assertSane([cu]);
  assert.deepEqual([cu.first, cu.last, cu.prev], [123457, 123457, 123456]);
  assert.equal(cu.checksum, undefined);
  assert.equal(cu.raw, undefined);
  assert.equal(cu.exchangeTs, 1597026383085);
  // A book update the current feed cannot link.
  assert.throws(
    () =>
      current.parse(
        `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[],"ts":"1","checksum":0}]}`,
        0,
      ),
    MalformedFrameError,
  );
});

Deno.test("okx: REST snapshot (docs example of GET /api/v5/market/books) and the seqId rule of the docs' sequence example", () => {
  assert.equal(
    okxAdapter.book.snapshotUrl!("BTC-USDT"),
    "https://www.okx.com/api/v5/market/books?instId=BTC-USDT&sz=400",
  );
  const snap = okxAdapter.book.parseSnapshot!(
    `{"code":"0","msg":"","data":[{"asks":[["41006.8","0.60038921","0","1"]],"bids":[["41006.3","0.30178218","0","2"]],"ts":"1629966436396","seqId":3235851742}]}`,
    9,
    btcUsdt,
  );
  assert.deepEqual(snap, {
    type: "book_snapshot",
    exchange: "okx",
    exchangeSymbol: "BTC-USDT",
    symbol: "BTC-USDT",
    market: "spot",
    exchangeTs: 1629966436396,
    localTs: 9,
    bids: [41006.3, 0.30178218],
    asks: [41006.8, 0.60038921],
    contractSize: 1,
    sequence: 3235851742,
  });
  assert.throws(
    () =>
      okxAdapter.book.parseSnapshot!(
        `{"code":"51001","msg":"Instrument ID does not exist","data":[]}`,
        0,
        btcUsdt,
      ),
    MalformedFrameError,
  );
  // The docs' sequence example: snapshot 10; update 10→15; no-change
  // heartbeat 15→15; maintenance reset 15→3; then 3→5.
  const p = okxAdapter.parser(table);
  const upd = (prev: number, seq: number) =>
    p.parse(
      `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[["1","1","0","1"]],"ts":"1","checksum":0,"prevSeqId":${prev},"seqId":${seq}}]}`,
      0,
    )[0] as BookDelta;
  const sync = new BookSync(okxAdapter.book.sync);
  assert.equal(sync.delta(upd(8, 10)), "buffered");
  assert.equal(sync.delta(upd(10, 15)), "buffered");
  // A REST snapshot at 10: the update with prevSeqId <= 10 < seqId goes on it.
  const v = sync.snapshot({ ...snap, sequence: 10 });
  assert.equal(v.result, "synced");
  assert.deepEqual(v.apply.map((d) => d.last), [15]);
  assert.equal(sync.delta(upd(15, 15)), "stale"); // heartbeat: nothing to apply
  // A reset would leave every later update "older" than the book: the parser
  // makes the connection start over instead.
  assert.throws(() => upd(15, 3), ResyncError);
  assert.equal(sync.delta(upd(15, 21)), "apply");
  assert.equal(sync.delta(upd(20, 25)), "gap");
  // A snapshot newer than the first buffered update's prevSeqId is too old.
  const late = new BookSync(okxAdapter.book.sync);
  late.delta(upd(20, 25));
  assert.equal(late.snapshot({ ...snap, sequence: 19 }).result, "too_old");
});

Deno.test("okx: trades: spot sample in base, inverse future in contracts of 100 USD", async () => {
  const btcUsd: Instrument = {
    ...btcUsdt,
    exchangeSymbol: "BTC-USD",
    symbol: "BTC-USD",
    quote: "USD",
  };
  const p = okxChecksumAdapter.parser(new Map([["BTC-USD", btcUsd]]));
  const [t] = p.parse(await Deno.readTextFile(`${NAUTILUS}/ws_trades.json`), 3);
  assert.deepEqual(t, {
    type: "trade",
    exchange: "okx",
    exchangeSymbol: "BTC-USD",
    symbol: "BTC-USD",
    market: "spot",
    exchangeTs: 1630048897897,
    localTs: 3,
    id: "130639474",
    price: 42219.9,
    size: 0.12060306,
    rawSize: 0.12060306,
    side: "buy",
  });
  const [f] = legacy.parse(captured(`"tradeId":"7849"`), 4);
  assert.deepEqual(f, {
    type: "trade",
    exchange: "okx",
    exchangeSymbol: "BTC-USD-220527",
    symbol: "BTC-USD",
    market: "future",
    exchangeTs: 1652459199958,
    localTs: 4,
    id: "7849",
    price: 30218.8,
    size: 100 / 30218.8, // 1 contract = 100 USD
    rawSize: 1,
    side: "buy",
  });
  const [s] = legacy.parse(captured(`"tradeId":"12883020"`), 4);
  assert.equal(s.type === "trade" && s.side, "sell");
  assert.equal(s.type === "trade" && s.size, 1000 / 5.123); // 100 × 10 USD
});

Deno.test("okx: liquidation-orders (tardis sample): inverse future, bankruptcy price, order side", async () => {
  const lines = (await Deno.readTextFile(`${TARDIS}/okex-futures.ndjson`))
    .split("\n");
  const frame = lines.find((l) => l.includes(`"liquidation-orders"`))!;
  // XRP-USD futures are inverse, 10 USD a contract (as XRP-USD-220527 in the capture).
  const xrp: Instrument = {
    ...byId("XRP-USD-220527"),
    exchangeSymbol: "XRP-USD-230929",
    expiry: Date.UTC(2023, 8, 29, 8),
  };
  assert.equal(xrp.contractSize, 10);
  const p = okxChecksumAdapter.parser(new Map([["XRP-USD-230929", xrp]]));
  const events = p.parse(frame, 11);
  assertSane(events);
  assert.deepEqual(events, [{
    type: "liquidation",
    exchange: "okx",
    exchangeSymbol: "XRP-USD-230929",
    symbol: "XRP-USD",
    market: "future",
    exchangeTs: 1680173247614,
    localTs: 11,
    price: 0.55205,
    size: 390 / 0.55205, // 39 contracts × 10 USD at the bankruptcy price
    rawSize: 39,
    side: "buy", // a short was liquidated
  }]);
  // Liquidations of instruments we do not follow, and the retired
  // `liquidations` channel, yield nothing.
  assert.deepEqual(legacy.parse(frame, 0), []);
  for (const l of lines.filter((l) => l.includes(`"channel":"liquidations"`))) {
    assert.deepEqual(p.parse(l, 0), []);
  }
});

Deno.test("okx: subscriptions: books and trades per instrument, liquidation-orders per derivative type", () => {
  const [frame] = okxSubscribe(["BTC-USDT", "UNI-USD-SWAP", "BTC-USD-220527"]);
  assert.deepEqual(JSON.parse(frame), {
    op: "subscribe",
    args: [
      { channel: "books", instId: "BTC-USDT" },
      { channel: "trades", instId: "BTC-USDT" },
      { channel: "books", instId: "UNI-USD-SWAP" },
      { channel: "trades", instId: "UNI-USD-SWAP" },
      { channel: "books", instId: "BTC-USD-220527" },
      { channel: "trades", instId: "BTC-USD-220527" },
      { channel: "liquidation-orders", instType: "SWAP" },
      { channel: "liquidation-orders", instType: "FUTURES" },
    ],
  });
  assert.equal(JSON.parse(okxSubscribe(["BTC-USDT"])[0]).args.length, 2);
  const many = okxSubscribe(
    Array.from({ length: 120 }, (_, i) => `C${i}-USDT`),
  );
  assert.equal(many.length, 3); // 240 args, 100 a frame
  assert.deepEqual(
    okxChecksumAdapter.book.resubscribe!("BTC-USDT").map((f) =>
      JSON.parse(f).op
    ),
    ["unsubscribe", "subscribe"],
  );
  assert.deepEqual(okxAdapter.keepalive, { frame: "ping", intervalMs: 25_000 });
  assert.equal(okxAdapter.url([]), "wss://ws.okx.com:8443/ws/v5/public");
});

Deno.test("okx: frames that carry nothing yield no events; broken ones throw MalformedFrameError", async () => {
  for (const p of [legacy, okxAdapter.parser(table)]) {
    assert.deepEqual(p.parse("pong", 0), []); // keepalive answer
    assert.deepEqual(p.parse(captured(`{"event":"subscribe"`), 0), []);
    assert.deepEqual(
      p.parse(captured(`"channel":"tickers","instId":"BTC-USDT"},"data"`), 0),
      [],
    );
    assert.deepEqual(
      p.parse(await Deno.readTextFile(`${NAUTILUS}/ws_bbo_tbt.json`), 0),
      [],
    );
    assert.deepEqual(
      p.parse(
        `{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade."}`,
        0,
      ),
      [],
    );
    // Books of an instrument not followed.
    assert.deepEqual(
      p.parse(
        `{"arg":{"channel":"books","instId":"ETH-USDT"},"action":"update","data":[{"asks":[],"bids":[],"ts":"1","checksum":0,"prevSeqId":1,"seqId":2}]}`,
        0,
      ),
      [],
    );
    // The pre-v5 frames among tardis' inputs.
    for (
      const l of (await Deno.readTextFile(`${TARDIS}/okex.ndjson`)).split("\n")
    ) {
      if (l.includes(`"table"`)) assert.deepEqual(p.parse(l, 0), []);
    }
    assert.throws(
      () => p.parse(`{"arg":{"channel":"books"`, 0),
      MalformedFrameError,
    );
    assert.throws(() => p.parse(`null`, 0), MalformedFrameError);
    assert.throws(() => p.parse(new Uint8Array(3), 0), MalformedFrameError);
    assert.throws(
      () =>
        p.parse(
          `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["x","1","0","1"]],"bids":[],"ts":"1","checksum":0,"prevSeqId":1,"seqId":2}]}`,
          0,
        ),
      MalformedFrameError,
    );
    assert.throws(
      () =>
        p.parse(
          `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"px":"1","sz":"NaN"}]}`,
          0,
        ),
      MalformedFrameError,
    );
  }
});

Deno.test("okx: isHeartbeat is true for the text pong only, false for every frame of the capture and tardis' inputs", async () => {
  const frames = [
    ...await capturedTexts("OKX.ws.1.0"),
    ...await tardisInputs("okex"),
    ...await tardisInputs("okex-swap"),
    ...await tardisInputs("okex-futures"),
  ];
  assert.ok(frames.length > 400);
  const { heartbeats } = await docFrames("okx", "v5");
  for (const a of [okxAdapter, okxChecksumAdapter]) {
    for (const f of frames) assert.equal(a.isHeartbeat(f), false, f);
    for (const f of heartbeats) {
      assert.ok(a.isHeartbeat(f), f);
      assert.deepEqual(a.parser(table).parse(f, 0), []);
    }
  }
});

Deno.test("okx: error events throw VenueError with OKX's msg on both versions; the capture's acks do not", async () => {
  const { errors } = await docFrames("okx", "v5");
  for (const p of [legacy, okxAdapter.parser(table)]) {
    assertVenueErrors(p, errors);
    assert.deepEqual(p.parse(captured(`{"event":"subscribe"`), 0), []);
  }
});
