import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { BookSync } from "../market/book_sync.ts";
import { OrderBook } from "../market/book.ts";
import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  MarketEvent,
} from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { mexcAdapter } from "./mexc.ts";
import { MEXC_PUSH_DESCRIPTOR } from "./mexc_proto/descriptor.ts";
import { assertSane, assertVenueErrors, docFrames } from "./_testing.ts";

const SAMPLES = "../shared/data/samples/tardis-node-inputs/mexc.ndjson";
const PROTO = "actors/adapters/mexc_proto/PushDataV3ApiWrapper.proto";

const btc: Instrument = {
  exchange: "mexc",
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  base: "BTC",
  quote: "USDT",
  market: "spot",
  contractSize: 1,
};
const base = {
  exchange: "mexc",
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  market: "spot",
} as const;

/** The sample lines: the protobuf pushes as protobuf's JSON form (tardis decodes them before storing). */
const lines = (await Deno.readTextFile(SAMPLES)).trim().split("\n");
const objs = lines.map((l) => JSON.parse(l));

function parseAll(from = 0, to = lines.length): MarketEvent[][] {
  const p = mexcAdapter.parser(new Map([["BTCUSDT", btc]]));
  const out: MarketEvent[][] = [];
  for (let i = from; i < to; i++) {
    const ev = p.parse(lines[i], 1000 + i);
    assertSane(ev);
    out.push(ev);
  }
  return out;
}

function delta(
  first: number,
  last: number,
  exchangeTs: number,
  localTs: number,
  bids: number[],
  asks: number[],
): BookDelta {
  return {
    type: "book_delta",
    ...base,
    exchangeTs,
    localTs,
    first,
    last,
    prev: -1,
    bids,
    asks,
    contractSize: 1,
  };
}

Deno.test("mexc: descriptor.ts is the .proto files in mexc_proto/", () => {
  const fromFiles = protobuf.loadSync(PROTO).toJSON();
  assert.deepEqual(MEXC_PUSH_DESCRIPTOR.nested, fromFiles.nested);
});

Deno.test("mexc: aggregated deals → trades; tradeType 1 is a taker buy, 2 a taker sell", () => {
  const [ev] = parseAll(3, 4);
  assert.deepEqual(ev, [{
    type: "trade",
    ...base,
    exchangeTs: 1710000000001, // the deal's own time
    localTs: 1003,
    id: "698165549569396736X0_698165549569396737X0",
    price: 100.1,
    size: 0.2,
    rawSize: 0.2,
    side: "buy",
  }, {
    type: "trade",
    ...base,
    exchangeTs: 1710000000002,
    localTs: 1003,
    id: "698165549569396738X0_698165549569396739X0",
    price: 100.2,
    size: 0.3,
    rawSize: 0.3,
    side: "sell",
  }]);
  // A push of five deals without trade ids (the last sample line).
  const [last] = parseAll(lines.length - 1);
  assert.equal(last.length, 5);
  assert.deepEqual(
    last.map((t) => t.type === "trade" && [t.side, t.price, t.size, t.id]),
    [
      ["sell", 62383.56, 0.00008235, ""],
      ["buy", 62383.57, 0.00019595, ""],
      ["buy", 62383.57, 0.00059353, ""],
      ["sell", 62383.56, 0.00027168, ""],
      ["sell", 62383.57, 0.00002555, ""],
    ],
  );
});

Deno.test("mexc: aggregated depth → book_delta over fromVersion..toVersion; absent sides are empty", () => {
  const ev = parseAll(0, 11);
  // The ack, the two XENUSDT frames without a body, tardis' generated REST
  // snapshot (not a venue frame) and the bookTicker frame carry nothing.
  for (const i of [0, 1, 2, 6, 7]) assert.deepEqual(ev[i], [], `line ${i}`);
  assert.deepEqual(ev[4], [
    delta(101, 101, 1710000000000, 1004, [99.9, 0.5], []),
  ]);
  assert.deepEqual(ev[5], [
    delta(102, 102, 1710000000001, 1005, [99.7, 1.1], [100.1, 0]),
  ]);
  assert.deepEqual(ev[8], [
    delta(103, 103, 1710000000003, 1008, [99.7, 1.1], [100.1, 0]),
  ]);
  assert.deepEqual(ev[9], [
    delta(104, 104, 1710000000005, 1009, [], [100.3, 0.4]),
  ]);
  assert.deepEqual(ev[10], [
    delta(105, 105, 1710000000006, 1010, [99.6, 0.8], []),
  ]);
  // Versions past 2^32 (real BTCUSDT numbering) stay exact.
  const [[big]] = parseAll(13, 14);
  assert.equal(big.type === "book_delta" && big.first, 74483042021);
  assert.equal(big.type === "book_delta" && big.last, 74483042022);
  // Book tickers are not followed.
  assert.deepEqual(parseAll(11, 13), [[], []]);
});

Deno.test("mexc: REST snapshot + diffs sync by the docs' rule and build the expected book", () => {
  const ev = parseAll(0, 11);
  // The REST body shape {lastUpdateId, bids, asks, timestamp}, as tardis
  // stored it in its generated snapshot line.
  const snap = mexcAdapter.book.parseSnapshot!(
    JSON.stringify(objs[6].publicAggreDepthsSnapshot),
    2000,
    btc,
  );
  assert.deepEqual(
    snap,
    {
      type: "book_snapshot",
      ...base,
      exchangeTs: 1710000000002,
      localTs: 2000,
      sequence: 100,
      bids: [99.8, 2.3],
      asks: [100.1, 1.2],
      contractSize: 1,
    } satisfies BookSnapshot,
  );
  const sync = new BookSync(mexcAdapter.book.sync);
  const book = new OrderBook();
  // Diffs 101 and 102 arrive before the snapshot at 100: buffered, then
  // applied after it (fromVersion 101 <= 100 + 1).
  assert.equal(sync.delta(ev[4][0] as BookDelta), "buffered");
  assert.equal(sync.delta(ev[5][0] as BookDelta), "buffered");
  const v = sync.snapshot(snap);
  assert.equal(v.result, "synced");
  book.apply(snap.bids, snap.asks);
  for (const d of v.apply) book.apply(d.bids, d.asks);
  for (const i of [8, 9, 10]) {
    const d = ev[i][0] as BookDelta;
    assert.equal(sync.delta(d), "apply", `line ${i}`);
    book.apply(d.bids, d.asks);
  }
  assert.equal(sync.lastSeq, 105);
  assert.deepEqual(book.bids.top(10), [
    [99.9, 0.5],
    [99.8, 2.3],
    [99.7, 1.1],
    [99.6, 0.8],
  ]);
  // 100.1 was removed by diff 102; 100.3 added by 104.
  assert.deepEqual(book.asks.top(10), [[100.3, 0.4]]);
  assert.ok(!book.crossed());
});

Deno.test("mexc: a diff that skips a version is a gap (101 then 103 after snapshot 100)", () => {
  const ev = parseAll(15, 18);
  const sync = new BookSync(mexcAdapter.book.sync);
  assert.equal(sync.delta(ev[0][0] as BookDelta), "buffered");
  assert.equal(sync.delta(ev[1][0] as BookDelta), "buffered");
  assert.deepEqual(ev[2], []); // the generated snapshot line
  const snap = mexcAdapter.book.parseSnapshot!(
    JSON.stringify(objs[17].publicAggreDepthsSnapshot),
    0,
    btc,
  );
  assert.deepEqual([snap.sequence, snap.bids, snap.asks], [100, [], []]);
  assert.equal(sync.snapshot(snap).result, "gap");
  // The last pair: snapshot 74891313262, then the diff 74891313263 applies.
  const [[d]] = parseAll(20, 21);
  const s2 = new BookSync(mexcAdapter.book.sync);
  assert.equal(
    s2.snapshot(
      mexcAdapter.book.parseSnapshot!(
        JSON.stringify(objs[19].publicAggreDepthsSnapshot),
        0,
        btc,
      ),
    ).result,
    "synced",
  );
  assert.equal(s2.delta(d as BookDelta), "apply");
});

Deno.test("mexc: binary frames: every sample encoded with protobufjs parses to the same events as its JSON form", () => {
  const W = protobuf.loadSync(PROTO).lookupType("PushDataV3ApiWrapper");
  const p = mexcAdapter.parser(new Map([["BTCUSDT", btc]]));
  const q = mexcAdapter.parser(new Map([["BTCUSDT", btc]]));
  let bodies = 0;
  for (let i = 0; i < lines.length; i++) {
    if (objs[i].publicAggreDepths === undefined && !objs[i].publicAggreDeals) {
      continue;
    }
    bodies++;
    const bytes = W.encode(W.fromObject(objs[i])).finish();
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual(p.parse(bytes, i), q.parse(lines[i], i), `line ${i}`);
  }
  assert.equal(bodies, 12); // 10 depth pushes, 2 deals pushes
});

Deno.test("mexc: a hand-built frame decodes by the official field numbers", () => {
  // PushDataV3ApiWrapper { channel(1), symbol(3), sendTime(6),
  //   publicAggreDeals(314) { deals(1) { price(1), quantity(2),
  //   tradeType(3), time(4), tradeId(5) } } }, written byte by byte.
  const deal = [
    ...str(1, "64526.18"),
    ...str(2, "0.5"),
    ...varintField(3, 2n),
    ...varintField(4, 1781740800130n),
    ...str(5, "7"),
  ];
  const frame = new Uint8Array([
    ...str(1, "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"),
    ...str(3, "BTCUSDT"),
    ...varintField(6, 1781740800131n),
    ...bytesField(314, bytesField(1, deal)),
  ]);
  const p = mexcAdapter.parser(new Map([["BTCUSDT", btc]]));
  assert.deepEqual(p.parse(frame, 5), [{
    type: "trade",
    ...base,
    exchangeTs: 1781740800130,
    localTs: 5,
    id: "7",
    price: 64526.18,
    size: 0.5,
    rawSize: 0.5,
    side: "sell",
  }]);
  // The same for a depth body (313) { asks(1) { price, quantity },
  // fromVersion(4), toVersion(5) }.
  const depth = new Uint8Array([
    ...str(1, "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"),
    ...str(3, "BTCUSDT"),
    ...varintField(6, 1781740800131n),
    ...bytesField(
      313,
      [
        ...bytesField(1, [...str(1, "64530"), ...str(2, "0")]),
        ...str(4, "74483042021"),
        ...str(5, "74483042022"),
      ],
    ),
  ]);
  assert.deepEqual(p.parse(depth, 6), [
    delta(74483042021, 74483042022, 1781740800131, 6, [], [64530, 0]),
  ]);
});

Deno.test("mexc: acks, pongs and unfollowed symbols yield nothing; garbage throws MalformedFrameError", () => {
  const p = mexcAdapter.parser(new Map([["BTCUSDT", btc]]));
  assert.deepEqual(p.parse(`{"id":0,"code":0,"msg":"PONG"}`, 0), []);
  // An XENUSDT depth push: not followed.
  assert.deepEqual(
    p.parse(
      JSON.stringify({
        ...objs[4],
        channel: "spot@public.aggre.depth.v3.api.pb@10ms@XENUSDT",
        symbol: "XENUSDT",
      }),
      0,
    ),
    [],
  );
  assert.throws(() => p.parse("{", 0), MalformedFrameError);
  assert.throws(() => p.parse("3", 0), MalformedFrameError);
  assert.throws(
    () => p.parse(new Uint8Array([0x0a, 0x20, 0x41]), 0), // truncated string
    MalformedFrameError,
  );
  assert.throws(
    () =>
      p.parse(
        JSON.stringify({
          ...objs[4],
          publicAggreDepths: { ...objs[4].publicAggreDepths, fromVersion: "" },
        }),
        0,
      ),
    MalformedFrameError,
  );
});

Deno.test("mexc: metadata, subscriptions and REST URLs", () => {
  // exchangeInfo as documented (fields the adapter does not read trimmed).
  const insts = mexcAdapter.instruments([
    JSON.stringify({
      timezone: "CST",
      serverTime: 1653547186532,
      symbols: [{
        symbol: "BTCUSDT",
        status: "1",
        baseAsset: "BTC",
        baseAssetPrecision: 8,
        quoteAsset: "USDT",
        quotePrecision: 2,
        isSpotTradingAllowed: true,
      }],
    }),
  ]);
  assert.deepEqual(insts, [btc]);
  assert.equal(mexcAdapter.url(["BTCUSDT"]), "wss://wbs-api.mexc.com/ws");
  assert.deepEqual(
    mexcAdapter.subscribe(["BTCUSDT"]).map((s) => JSON.parse(s)),
    [{
      method: "SUBSCRIPTION",
      params: [
        "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT",
        "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
      ],
    }],
  );
  assert.deepEqual(mexcAdapter.keepalive?.frame, `{"method":"PING"}`);
  assert.equal(
    mexcAdapter.book.snapshotUrl!("BTCUSDT"),
    "https://api.mexc.com/api/v3/depth?symbol=BTCUSDT&limit=5000",
  );
  assert.deepEqual(mexcAdapter.book.sync, {
    kind: "rest",
    link: "next",
    align: 1,
  });
  assert.throws(() => mexcAdapter.instruments(["<html>"]), MalformedFrameError);
  assert.throws(
    () => mexcAdapter.book.parseSnapshot!(`{"code":-1}`, 0, btc),
    MalformedFrameError,
  );
});

// ---- a minimal protobuf writer for the hand-built frames ----

function varint(n: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return out;
}

function varintField(num: number, v: bigint): number[] {
  return [...varint(BigInt(num << 3)), ...varint(v)];
}

function bytesField(num: number, body: number[]): number[] {
  return [
    ...varint(BigInt((num << 3) | 2)),
    ...varint(BigInt(body.length)),
    ...body,
  ];
}

function str(num: number, s: string): number[] {
  return bytesField(num, [...new TextEncoder().encode(s)]);
}

Deno.test("mexc: isHeartbeat is true for the docs' PONG, false for tardis' real frames, their acks and binary pushes", async () => {
  for (const l of lines) {
    assert.equal(mexcAdapter.isHeartbeat(l), false, l.slice(0, 60));
  }
  // A binary push is market data (protobuf), never a heartbeat.
  const wrapper = protobuf.Root.fromJSON(MEXC_PUSH_DESCRIPTOR).lookupType(
    "PushDataV3ApiWrapper",
  );
  const push = wrapper.encode(wrapper.fromObject(objs[4])).finish();
  assert.equal(
    mexcAdapter.parser(new Map([["BTCUSDT", btc]])).parse(push, 1).length,
    1,
  );
  assert.equal(mexcAdapter.isHeartbeat(push), false);
  const { heartbeats } = await docFrames("mexc", "spot");
  assert.ok(heartbeats.length > 0);
  for (const f of heartbeats) {
    assert.ok(mexcAdapter.isHeartbeat(f), f);
    assert.deepEqual(mexcAdapter.parser(new Map()).parse(f, 0), []);
  }
});

Deno.test("mexc: a refused subscription throws VenueError with MEXC's msg and the one channel's symbol; acks do not", async () => {
  const p = mexcAdapter.parser(new Map([["BTCUSDT", btc]]));
  assertVenueErrors(p, (await docFrames("mexc", "spot")).errors);
  // tardis' real ack echoes the channel, code 0.
  assert.ok(lines[0].startsWith(`{"id":0,"code":0,"msg":"spot@`));
  assert.deepEqual(p.parse(lines[0], 0), []);
});
