/**
 * HTX spot adapter on real frames: the April 2021 cryptofeed capture (gzip
 * binary frames and their decoded text) and tardis-node's HTX test inputs.
 * Expected values follow the HTX market WebSocket docs: `depth.step0` is a
 * full image (bids best first), sizes in base; `trade.detail` `direction` is
 * the taker side; `mbp.N` increments link `prevSeqNum` to the previous
 * `seqNum`.
 */

import assert from "node:assert/strict";
import { BookSync } from "../../runtime/book_sync.ts";
import { parseCaptureText, type RecvRecord } from "../../runtime/capture.ts";
import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  MarketEvent,
} from "../../runtime/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { huobiAdapter } from "./huobi.ts";

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

/** No NaN or infinite number anywhere in the events, levels included. */
function assertSane(events: MarketEvent[]): void {
  for (const e of events) {
    for (const [k, v] of Object.entries(e)) {
      if (typeof v === "number") assert.ok(Number.isFinite(v), `${k} is ${v}`);
      if (Array.isArray(v)) {
        for (const x of v) assert.ok(Number.isFinite(x), `${k} holds ${x}`);
      }
    }
  }
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
  return table(...huobiAdapter.instruments([body]));
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

Deno.test("huobi: url and subscriptions (depth.step0 and trade.detail per symbol)", () => {
  assert.equal(huobiAdapter.url(["btcusdt"]), "wss://api.huobi.pro/ws");
  assert.deepEqual(
    huobiAdapter.subscribe(["btcusdt"]).map((f) => JSON.parse(f)),
    [
      { sub: "market.btcusdt.depth.step0", id: "btcusdt.b" },
      { sub: "market.btcusdt.trade.detail", id: "btcusdt.t" },
    ],
  );
  assert.deepEqual(huobiAdapter.book.sync, { kind: "snapshots" });
});

Deno.test("huobi: every gzip frame of the capture parses like its decoded text; pings get the recorded pongs", async () => {
  const insts = await captureInstruments();
  const bin = await received(`${CAPTURES}/HUOBI.ws.44.0`);
  const txt = await received(`${CAPTURES}/decoded/HUOBI.ws.44.0`);
  assert.equal(bin.length, txt.length);
  const a = huobiAdapter.parser(insts);
  const b = huobiAdapter.parser(insts);
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

Deno.test("huobi: depth.step0 image → book_snapshot, bids and asks best first, sizes in base", async () => {
  const p = huobiAdapter.parser(table(spot("trioeth", "TRIO", "ETH")));
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

Deno.test("huobi: trade.detail → trades: tradeId, taker direction, amount in base", async () => {
  const p = huobiAdapter.parser(table(spot("borusdt", "BOR", "USDT")));
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

Deno.test("huobi: mbp increments cover (prevSeqNum, seqNum]; a req reply aligns under rest/prev/align 1", async () => {
  const lines = (await Deno.readTextFile(TARDIS)).trim().split("\n");
  const p = huobiAdapter.parser(table(spot("btcusdt", "BTC", "USDT")));
  const [d] = p.parse(lines[16], 1) as BookDelta[];
  assert.equal(d.type, "book_delta");
  assert.equal(d.prev, 109409288078);
  assert.equal(d.first, 109409288079);
  assert.equal(d.last, 109409288130);
  const [snap] = p.parse(lines[20], 2) as BookSnapshot[];
  assert.equal(snap.type, "book_snapshot");
  assert.equal(snap.sequence, 109409288160);
  assert.equal(snap.exchangeTs, 1593561601666);
  // The docs' procedure: buffer increments, take the `req` image, drop
  // increments up to its seqNum, continue from the one whose prevSeqNum is
  // that seqNum. Line 16 of the file, recorded out of order, is the
  // increment that follows.
  const sync = new BookSync({ kind: "rest", link: "prev", align: 1 });
  for (const i of [16, 17, 18, 19]) {
    assert.equal(sync.delta(p.parse(lines[i], 0)[0] as BookDelta), "buffered");
  }
  const v = sync.snapshot(snap);
  assert.equal(v.result, "synced");
  assert.deepEqual(v.apply.map((x) => x.last), [109409288204, 109409288226]);
  assert.equal(sync.delta(p.parse(lines[15], 0)[0] as BookDelta), "apply");
  // prevSeqNum 109409288500 does not follow 109409288253: a gap.
  assert.equal(sync.delta(p.parse(lines[21], 0)[0] as BookDelta), "gap");
});

Deno.test("huobi: pings are answered, errors and unreadable frames are malformed", () => {
  const p = huobiAdapter.parser(table(spot("btcusdt", "BTC", "USDT")));
  assert.deepEqual(p.parse('{"ping":1618678073643}', 1), []);
  assert.deepEqual(p.outbox, ['{"pong":1618678073643}']);
  // Error reply as quoted in the HTX docs (invalid topic).
  assert.throws(
    () =>
      p.parse(
        '{"ts":1586323747018,"status":"error","err-code":"bad-request","err-msg":"invalid mbp.150.symbol linkusdt","id":"2"}',
        1,
      ),
    (e: Error) =>
      e instanceof MalformedFrameError && /bad-request/.test(e.message),
  );
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
