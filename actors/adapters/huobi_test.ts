/**
 * HTX spot adapters on real frames: the April 2021 cryptofeed capture (gzip
 * binary frames and their decoded text, `depth.step0`: huobi_step0.ts) and
 * tardis-node's HTX test inputs (`mbp.150` increments and a `req` refresh:
 * huobi.ts). Expected values follow the HTX market WebSocket docs:
 * `depth.step0` is a full image (bids best first), sizes in base;
 * `trade.detail` `direction` is the taker side; an `mbp.N` increment links
 * its `prevSeqNum` to the previous `seqNum`, and a refresh at `seqNum` S is
 * followed by the increment whose `prevSeqNum` is S.
 */

import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { OrderBook } from "../market/book.ts";
import { BookSync } from "../market/book_sync.ts";
import { parseCaptureText, type RecvRecord } from "../capture/capture.ts";
import type {
  BookSnapshot,
  Instrument,
  MarketEvent,
} from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { huobiAdapter } from "./huobi.ts";
import { huobiStep0Adapter } from "./huobi_step0.ts";
import { adapterFor } from "./mod.ts";
import { assertSane, assertVenueErrors, docFrames } from "./_testing.ts";

const CAPTURES = "../shared/data/captures/cryptofeed";
const TARDIS = "../shared/data/samples/tardis-node-inputs/huobi.ndjson";

function spot(exchangeSymbol: string, base: string, quote: string): Instrument {
  return {
    exchange: "huobi",
    exchangeSymbol,
    symbol: `${base}-${quote}`,
    base,
    quote,
    market: "spot",
    contractSize: 1,
  };
}

function table(...insts: Instrument[]): Map<string, Instrument> {
  return new Map(insts.map((i) => [i.exchangeSymbol, i]));
}

async function received(path: string): Promise<RecvRecord[]> {
  const out: RecvRecord[] = [];
  for (const r of parseCaptureText(await Deno.readTextFile(path), path)) {
    if (r.kind === "recv") out.push(r);
  }
  return out;
}

async function captureInstruments(): Promise<Map<string, Instrument>> {
  const line = (await Deno.readTextFile(`${CAPTURES}/HUOBI.0`)).split("\n")
    .find((l) => l.includes("/v1/common/symbols -> "))!;
  const body = line.slice(line.indexOf(": ") + 2);
  const insts = huobiAdapter.instruments([body]);
  // Both versions read the same symbol list.
  assert.deepEqual(huobiStep0Adapter.instruments([body]), insts);
  return table(...insts);
}

Deno.test("huobi: instruments from v1/common/symbols, offline pairs left out", async () => {
  const insts = await captureInstruments();
  // The recorded list has 883 online and 55 offline pairs.
  assert.equal(insts.size, 883);
  assert.deepEqual(insts.get("trioeth"), spot("trioeth", "TRIO", "ETH"));
  assert.deepEqual(insts.get("yfihusd"), spot("yfihusd", "YFI", "HUSD"));
  assert.throws(
    () => huobiAdapter.instruments(['{"status":"error","err-msg":"x"}']),
    MalformedFrameError,
  );
});

Deno.test("huobi: the capture's date picks the depth.step0 version; today picks mbp", async () => {
  const [first] = await received(`${CAPTURES}/HUOBI.ws.44.0`);
  assert.equal(adapterFor("huobi", first.ts), huobiStep0Adapter);
  assert.equal(
    adapterFor("huobi", Date.UTC(2021, 11, 31, 12)),
    huobiStep0Adapter,
  );
  assert.equal(adapterFor("huobi", Date.UTC(2022, 0, 1)), huobiAdapter);
  assert.equal(adapterFor("huobi"), huobiAdapter);
});

Deno.test("huobi step0: one connection, depth.step0 and trade.detail per symbol", () => {
  const a = huobiStep0Adapter;
  assert.equal(a.connectionGroup, undefined);
  assert.equal(a.url(["btcusdt"]), "wss://api.huobi.pro/ws");
  assert.deepEqual(
    a.subscribe(["btcusdt"]).map((f) => JSON.parse(f)),
    [
      { sub: "market.btcusdt.depth.step0", id: "btcusdt.b" },
      { sub: "market.btcusdt.trade.detail", id: "btcusdt.t" },
    ],
  );
  assert.deepEqual(a.book.sync, { kind: "snapshots" });
});

Deno.test("huobi: books (mbp.150) on /feed, trades on /ws; the trades connection keeps no books", () => {
  const a = huobiAdapter;
  assert.deepEqual(a.connectionGroup!("btcusdt"), ["books", "trades"]);
  assert.deepEqual(a.booklessGroups, ["trades"]);
  assert.equal(
    a.url(["btcusdt", "ethusdt"], undefined, "books"),
    "wss://api.huobi.pro/feed",
  );
  assert.equal(
    a.url(["btcusdt", "ethusdt"], undefined, "trades"),
    "wss://api.huobi.pro/ws",
  );
  assert.deepEqual(
    a.subscribe(["btcusdt", "ethusdt"], "books").map((f) => JSON.parse(f)),
    [
      { sub: "market.btcusdt.mbp.150", id: "btcusdt.b" },
      { sub: "market.ethusdt.mbp.150", id: "ethusdt.b" },
    ],
  );
  assert.deepEqual(
    a.subscribe(["btcusdt"], "trades").map((f) => JSON.parse(f)),
    [{ sub: "market.btcusdt.trade.detail", id: "btcusdt.t" }],
  );
  assert.throws(() => a.url(["btcusdt"]), /Unknown HTX spot connection group/);
  assert.throws(() => a.subscribe(["btcusdt"], "x"), /"x"/);
  // Increments cover (prevSeqNum, seqNum]; the refresh is asked for with a
  // `req` of the subscribed topic on the same connection.
  assert.deepEqual(a.book.sync, { kind: "rest", link: "prev", align: 1 });
  assert.equal(a.book.snapshotUrl, undefined);
  assert.deepEqual(
    a.book.requestSnapshot!("btcusdt").map((f) => JSON.parse(f)),
    [{ req: "market.btcusdt.mbp.150", id: "btcusdt.r" }],
  );
  assert.equal(a.book.maxDepth, 150);
});

Deno.test("huobi step0: every gzip frame of the capture parses like its decoded text; pings get the recorded pongs", async () => {
  const insts = await captureInstruments();
  const bin = await received(`${CAPTURES}/HUOBI.ws.44.0`);
  const txt = await received(`${CAPTURES}/decoded/HUOBI.ws.44.0`);
  assert.equal(bin.length, txt.length);
  const a = huobiStep0Adapter.parser(insts);
  const b = huobiStep0Adapter.parser(insts);
  const pongs: string[] = [];
  let snapshots = 0;
  let trades = 0;
  for (let i = 0; i < bin.length; i++) {
    assert.ok(bin[i].binary instanceof Uint8Array, `frame ${i} is binary`);
    const ea = a.parse(bin[i].binary!, bin[i].ts);
    const eb = b.parse(txt[i].text!, txt[i].ts);
    assert.deepEqual(ea, eb, `frame ${i}`);
    assertSane(ea);
    assert.deepEqual(a.outbox, b.outbox);
    pongs.push(...a.outbox!);
    a.outbox!.length = 0;
    b.outbox!.length = 0;
    for (const e of ea) {
      if (e.type === "book_snapshot") snapshots++;
      else if (e.type === "trade") trades++;
      else assert.fail(`unexpected ${e.type}`);
    }
  }
  assert.equal(snapshots, 292);
  assert.equal(trades, 73);
  // cryptofeed answered each `{"ping": ts}` with `{"pong": ts}`; so do we.
  const sent = (await Deno.readTextFile(`${CAPTURES}/HUOBI.ws.44.0`)).split(
    "\n",
  ).filter((l) => l.includes(" <- ") && l.includes('"pong"'))
    .map((l) => l.slice(l.indexOf(": ") + 2));
  assert.equal(pongs.length, 6);
  assert.deepEqual(pongs, sent);
});

Deno.test("huobi step0: depth.step0 image → book_snapshot, bids and asks best first, sizes in base", async () => {
  const p = huobiStep0Adapter.parser(table(spot("trioeth", "TRIO", "ETH")));
  const frame = (await received(`${CAPTURES}/HUOBI.ws.44.0`))[1];
  const [s] = p.parse(frame.binary!, 1618678070733.5591) as BookSnapshot[];
  assert.equal(s.type, "book_snapshot");
  assert.equal(s.exchange, "huobi");
  assert.equal(s.exchangeSymbol, "trioeth");
  assert.equal(s.symbol, "TRIO-ETH");
  assert.equal(s.market, "spot");
  assert.equal(s.exchangeTs, 1618678069868); // tick.ts, the book's time
  assert.equal(s.localTs, 1618678070733.5591);
  assert.equal(s.sequence, 100182534697); // tick.version
  assert.equal(s.contractSize, 1);
  assert.equal(s.inverse, undefined);
  assert.equal(s.bids.length, 27 * 2);
  assert.equal(s.asks.length, 150 * 2);
  assert.deepEqual(s.bids.slice(0, 4), [9.121e-7, 92730.24, 9.12e-7, 66053.68]);
  assert.deepEqual(s.bids.slice(-2), [1e-10, 220000000]);
  assert.deepEqual(s.asks.slice(0, 4), [9.28e-7, 4342.25, 9.429e-7, 47545.64]);
  assert.deepEqual(s.asks.slice(-2), [4.3e-5, 260.37]);
});

Deno.test("huobi step0: trade.detail → trades: tradeId, taker direction, amount in base", async () => {
  const p = huobiStep0Adapter.parser(table(spot("borusdt", "BOR", "USDT")));
  const frames = (await received(`${CAPTURES}/decoded/HUOBI.ws.44.0`)).filter(
    (r) => r.text!.startsWith('{"ch":"market.borusdt.trade.detail"'),
  );
  assert.deepEqual(p.parse(frames[0].text!, 5), [{
    type: "trade",
    exchange: "huobi",
    exchangeSymbol: "borusdt",
    symbol: "BOR-USDT",
    market: "spot",
    exchangeTs: 1618678048496,
    localTs: 5,
    id: "1311318",
    price: 716,
    size: 0.078924,
    rawSize: 0.078924,
    side: "sell",
  }]);
});

Deno.test("huobi: tardis-node inputs: images, old-style step0 updates, trades without tradeId, unfollowed channels", async () => {
  const lines = (await Deno.readTextFile(TARDIS)).trim().split("\n");
  const p = huobiAdapter.parser(table(
    spot("mexbtc", "MEX", "BTC"),
    spot("waxpbtc", "WAXP", "BTC"),
    spot("ontusdt", "ONT", "USDT"),
    spot("xmrbtc", "XMR", "BTC"),
    spot("dtabtc", "DTA", "BTC"),
  ));
  const out = lines.map((l) => p.parse(l, 42));
  for (const e of out) assertSane(e);
  // 0 subbed ack, 1 `detail` ticker, 2/4 futures books, 3 futures trade,
  // 13/14 futures high_freq, 22/23 bbo: acks, unfollowed symbols or channels.
  for (const i of [0, 1, 2, 3, 4, 13, 14, 22, 23]) {
    assert.deepEqual(out[i], [], `line ${i + 1}`);
  }
  assert.deepEqual(out[5], [{
    type: "book_snapshot",
    exchange: "huobi",
    exchangeSymbol: "mexbtc",
    symbol: "MEX-BTC",
    market: "spot",
    exchangeTs: 1572911920032,
    localTs: 42,
    sequence: 100033171703,
    bids: [6.22e-8, 45542.05, 6.21e-8, 663504.55],
    asks: [6.35e-8, 1033141.41, 6.4e-8, 269808.94],
    contractSize: 1,
  }]);
  assert.deepEqual(
    [...out[6], ...out[7]].map((t) => t.type === "trade" && [t.id, t.side]),
    [["100027416191", "buy"], ["100027416192", "buy"]],
  );
  // `"update": true` frames carry only changes; an empty one yields nothing.
  assert.deepEqual(out[8], []);
  assert.equal(out[9][0].type, "book_snapshot");
  // Trades recorded before `tradeId` existed keep their string `id`.
  assert.deepEqual(
    [...out[10], ...out[11]].map((t) => t.type === "trade" && t.id),
    ["10020171792852100010452", "100201717928521000104525"],
  );
  assert.deepEqual(out[12], [{
    type: "book_delta",
    exchange: "huobi",
    exchangeSymbol: "dtabtc",
    symbol: "DTA-BTC",
    market: "spot",
    exchangeTs: 1572912002002,
    localTs: 42,
    first: -1,
    last: -1,
    prev: -1,
    bids: [4.37e-8, 731389.72],
    asks: [1.55e-7, 437407.32, 4.75e-8, 0],
    contractSize: 1,
  }]);
});

Deno.test("huobi: mbp.150 increment and req refresh → book_delta over (prevSeqNum, seqNum], book_snapshot at seqNum", async () => {
  const lines = (await Deno.readTextFile(TARDIS)).trim().split("\n");
  const p = huobiAdapter.parser(table(spot("btcusdt", "BTC", "USDT")));
  const [d] = p.parse(lines[18], 7);
  assert.deepEqual(d, {
    type: "book_delta",
    exchange: "huobi",
    exchangeSymbol: "btcusdt",
    symbol: "BTC-USDT",
    market: "spot",
    exchangeTs: 1593561600901, // the frame's ts (the tick has none)
    localTs: 7,
    first: 109409288161, // prevSeqNum + 1
    last: 109409288204, // seqNum
    prev: 109409288160, // prevSeqNum
    bids: [9134.5, 0.002232, 9134.4, 0.164064, 9126.94, 0],
    asks: [
      9138.6,
      0,
      9138.61,
      0,
      9138.67,
      0.033924,
      9144,
      0.05,
      9146.84,
      1,
      9146.9,
      0.001598,
    ],
    contractSize: 1,
  });
  // The reply to {"req":"market.btcusdt.mbp.150"}: the image at seqNum.
  const [s] = p.parse(lines[20], 8);
  assert.deepEqual(s, {
    type: "book_snapshot",
    exchange: "huobi",
    exchangeSymbol: "btcusdt",
    symbol: "BTC-USDT",
    market: "spot",
    exchangeTs: 1593561601666,
    localTs: 8,
    sequence: 109409288160,
    bids: [
      9137.67,
      4.683547,
      9137.35,
      0.0089,
      9137.17,
      0.00606,
      9137.06,
      0.11,
    ],
    asks: [
      9137.68,
      0.190075,
      9137.75,
      0.01,
      9138.23,
      0.010945,
      9138.27,
      0.131941,
      9138.47,
      0.003,
      9138.6,
      0.010259,
      9138.61,
      0.01767,
      9138.62,
      0.0074,
      9138.67,
      0.014126,
    ],
    contractSize: 1,
  });
  assertSane([d, s]);
  // A refresh for a symbol not followed, and a failed req, as HTX words it.
  assert.deepEqual(
    p.parse(
      '{"id":"x","rep":"market.ethusdt.mbp.150","status":"ok","ts":1,"data":{"seqNum":1,"bids":[],"asks":[]}}',
      1,
    ),
    [],
  );
  assert.throws(
    () =>
      p.parse(
        '{"id":"btcusdt.r","rep":"market.btcusdt.mbp.150","status":"ok","ts":1,"data":{"bids":[],"asks":[]}}',
        1,
      ),
    (e: Error) => e instanceof MalformedFrameError && /seqNum/.test(e.message),
  );
});

/**
 * What the connection actor does with the book events of one symbol, without
 * the actor: BookSync under the adapter's rule, an OrderBook, and the frames
 * it would send to ask for a refresh whenever the book is buffering.
 */
class MbpBook {
  readonly sync = new BookSync(huobiAdapter.book.sync);
  readonly book = new OrderBook();
  readonly sent: string[] = [];

  feed(events: MarketEvent[]): string[] {
    const verdicts: string[] = [];
    for (const e of events) {
      if (e.type === "book_delta") {
        const v = this.sync.delta(e);
        if (v === "apply") this.book.apply(e.bids, e.asks);
        if (v === "gap") this.book.clear();
        verdicts.push(v);
      } else if (e.type === "book_snapshot") {
        const v = this.sync.snapshot(e);
        if (v.result === "synced") {
          this.book.clear();
          this.book.apply(e.bids, e.asks);
          for (const d of v.apply) this.book.apply(d.bids, d.asks);
        }
        verdicts.push(`${v.result}:${v.apply.map((d) => d.last).join(",")}`);
      }
    }
    // Asked again (with backoff) for as long as the book buffers.
    if (this.sync.state === "buffering") {
      this.sent.push(...huobiAdapter.book.requestSnapshot!("btcusdt"));
    }
    return verdicts;
  }
}

Deno.test("huobi: mbp.150 sync: buffer, align the req refresh, apply, gap → buffer and ask again", async () => {
  const lines = (await Deno.readTextFile(TARDIS)).trim().split("\n");
  const p = huobiAdapter.parser(table(spot("btcusdt", "BTC", "USDT")));
  const m = new MbpBook();
  const req = '{"req":"market.btcusdt.mbp.150","id":"btcusdt.r"}';
  // HTX's procedure: subscribe, cache the increments, ask for the refresh.
  // seqNums 130, 160, 204, 226 (…109409288xxx) arrive before the reply.
  for (const i of [16, 17, 18, 19]) {
    assert.deepEqual(m.feed(p.parse(lines[i], 0)), ["buffered"]);
  }
  assert.deepEqual(m.sent, [req, req, req, req]);
  // The refresh at 160: increments up to 160 are older and dropped; 204
  // (prevSeqNum 160) and 226 (prevSeqNum 204) are applied on top.
  assert.deepEqual(m.feed(p.parse(lines[20], 0)), [
    "synced:109409288204,109409288226",
  ]);
  // 253 (prevSeqNum 226; recorded first in the file) follows.
  assert.deepEqual(m.feed(p.parse(lines[15], 0)), ["apply"]);
  m.sent.length = 0;
  // The book worked out by hand: the refresh, then 204, 226 and 253.
  assert.deepEqual(m.book.bids.top(Infinity), [
    [9137.67, 4.683547],
    [9137.35, 0.0089],
    [9137.17, 0.00606],
    [9137.06, 0.11],
    [9135.96, 0.0622], // added by 226
    [9134.5, 0.002232], // added by 204
    [9134.4, 0.164064], // added by 204
    [9131.7, 0.007665], // added by 226
  ]);
  assert.deepEqual(m.book.asks.top(Infinity), [
    [9137.68, 0.190075],
    [9137.75, 0.01],
    [9138.23, 0.010945],
    [9138.27, 0.131941],
    [9138.47, 0.003],
    // 9138.6 and 9138.61 deleted by 204
    [9138.62, 0.0074],
    [9138.67, 0.036178], // 204, 226, then 253
    [9144, 0.069238], // 204 then 226
    [9145.4, 0.030582], // 226
    [9146.18, 0.132209], // 226
    [9146.84, 1], // 204; 9146.9 added by 204, deleted by 226
  ]);
  assert.equal(m.book.crossed(), false);
  // An increment with nothing changed (both sides empty, as the 150-level
  // feed pushes every 100 ms) still moves the sequence.
  const empty = (seq: number, prev: number) =>
    JSON.stringify({
      ch: "market.btcusdt.mbp.150",
      ts: 1593561601200,
      tick: { seqNum: seq, prevSeqNum: prev, bids: [], asks: [] },
    });
  assert.deepEqual(m.feed(p.parse(empty(109409288260, 109409288253), 0)), [
    "apply",
  ]);
  assert.deepEqual(m.sent, []);
  // 576 links to 500, not 260: a gap. The book is dropped, 576 buffered,
  // and the refresh asked for again.
  assert.deepEqual(m.feed(p.parse(lines[21], 0)), ["gap"]);
  assert.equal(m.sync.state, "buffering");
  assert.equal(m.book.bids.length + m.book.asks.length, 0);
  assert.deepEqual(m.sent, [req]);
  // A hand-made refresh older than the buffered increment (its seqNum 400 is
  // before 576's prevSeqNum 500): too old, so the request is repeated.
  const refresh = (seq: number) =>
    JSON.stringify({
      id: "btcusdt.r",
      rep: "market.btcusdt.mbp.150",
      status: "ok",
      ts: 1593561601800,
      data: {
        seqNum: seq,
        bids: [[9137.5, 1], [9137.67, 0.5]],
        asks: [[9137.68, 2], [9137.9, 0.25]],
      },
    });
  assert.deepEqual(m.feed(p.parse(refresh(109409288400), 0)), ["too_old:"]);
  assert.deepEqual(m.sent, [req, req]);
  // The hand-made refresh at 500 aligns with 576 (prevSeqNum 500).
  assert.deepEqual(m.feed(p.parse(refresh(109409288500), 0)), [
    "synced:109409288576",
  ]);
  assert.deepEqual(m.sent, [req, req]);
  assert.equal(m.sync.lastSeq, 109409288576);
  assert.deepEqual(m.book.bids.top(Infinity), [
    [9137.67, 2.389677], // 576
    [9137.5, 1],
  ]);
  assert.deepEqual(m.book.asks.top(Infinity), [
    [9137.68, 3.691799], // 576
    [9137.9, 0.25],
  ]);
  // A refresh with no increment after it: the next one must link to it.
  const fresh = new MbpBook();
  assert.deepEqual(fresh.feed(p.parse(refresh(109409288500), 0)), [
    "synced:",
  ]);
  assert.deepEqual(fresh.feed(p.parse(lines[21], 0)), ["apply"]);
});

Deno.test("huobi: pings are answered, unreadable frames are malformed", () => {
  const p = huobiAdapter.parser(table(spot("btcusdt", "BTC", "USDT")));
  assert.deepEqual(p.parse('{"ping":1618678073643}', 1), []);
  assert.deepEqual(p.outbox, ['{"pong":1618678073643}']);
  assert.throws(() => p.parse("not json", 1), MalformedFrameError);
  assert.throws(
    () => p.parse(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), 1),
    MalformedFrameError,
  );
  assert.throws(
    () =>
      p.parse(
        '{"ch":"market.btcusdt.depth.step0","ts":1,"tick":{"bids":[null],"asks":[]}}',
        1,
      ),
    MalformedFrameError,
  );
  assert.throws(
    () =>
      p.parse(
        '{"ch":"market.btcusdt.depth.step0","ts":1,"tick":{"bids":[["x",1]],"asks":[]}}',
        1,
      ),
    MalformedFrameError,
  );
  assert.throws(
    () => p.parse('{"ch":"market.btcusdt.trade.detail","ts":1}', 1),
    MalformedFrameError,
  );
});

Deno.test("huobi: isHeartbeat is true for the capture's pings (gzip and decoded), false for every other frame and for tardis' inputs", async () => {
  let pings = 0;
  let others = 0;
  for (
    const path of [
      `${CAPTURES}/HUOBI.ws.44.0`,
      `${CAPTURES}/decoded/HUOBI.ws.44.0`,
    ]
  ) {
    for (const r of await received(path)) {
      const frame = r.binary ?? r.text!;
      // The oracle: every frame inflated and read as JSON.
      const msg = JSON.parse(
        r.binary ? new TextDecoder().decode(gunzipSync(r.binary)) : r.text!,
      );
      const ping = msg.ping !== undefined;
      for (const a of [huobiAdapter, huobiStep0Adapter]) {
        assert.equal(a.isHeartbeat(frame), ping, path);
      }
      if (ping) pings++;
      else others++;
    }
  }
  assert.ok(pings > 5 && others > 500, `${pings} pings, ${others} others`);
  for (const l of (await Deno.readTextFile(TARDIS)).trim().split("\n")) {
    assert.equal(huobiAdapter.isHeartbeat(l), false, l.slice(0, 60));
  }
});

Deno.test("huobi: status error replies throw VenueError with err-msg and the symbol of the id coby sent", async () => {
  const insts = await captureInstruments();
  const { errors } = await docFrames("huobi", "market");
  assertVenueErrors(huobiAdapter.parser(insts), errors);
  assertVenueErrors(huobiStep0Adapter.parser(insts), errors);
  // The capture's `subbed` acks are no errors.
  const p = huobiStep0Adapter.parser(insts);
  let acks = 0;
  for (const r of await received(`${CAPTURES}/decoded/HUOBI.ws.44.0`)) {
    if (!r.text!.includes(`"subbed"`)) continue;
    acks++;
    assert.deepEqual(p.parse(r.text!, 1), []);
  }
  assert.ok(acks > 0);
});
