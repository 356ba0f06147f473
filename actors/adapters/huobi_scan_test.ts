import assert from "node:assert/strict";
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { readCaptures } from "../capture/capture.ts";
import { captureAdapter, captureSymbols } from "../capture/plan.ts";
import type {
  BookSnapshot,
  Instrument,
  MarketEvent,
} from "../market/events.ts";
import { resolveSymbols } from "../market/symbols.ts";
import type { Adapter } from "./adapter.ts";
import { HuobiStep0Scanner } from "./huobi_scan.ts";
import { huobiStep0Adapter } from "./huobi_step0.ts";
import { sequenceValue, timeValue } from "./_common.ts";
import { GzipInflater } from "./_gzip.ts";
import {
  assertDeltaIs,
  checkMutants,
  levelToken,
  readJson,
} from "./_scan_testing.ts";
import { CAPTURES } from "./_testing.ts";
import type { ScannedSide } from "./_scan.ts";

const RECV = 1_700_000_000_000;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** One capture's inflated frames, with the adapter and its instruments. */
interface Htx {
  adapter: Adapter;
  insts: Map<string, Instrument>;
  /** Each received frame: its gzip bytes and their text (via node:zlib). */
  frames: { binary: Uint8Array; text: string }[];
}

/** Path and query of a URL, how the capture's REST bodies are keyed. */
function key(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** A capture's frames and the instruments it followed (metadata recorded). */
async function htx(files: string[]): Promise<Htx> {
  const [cap] = await readCaptures(files.map((f) => `${CAPTURES}/${f}`));
  const adapter = captureAdapter(cap);
  const bodies = new Map<string, string>();
  for (const r of cap.records) {
    if (r.kind === "http") bodies.set(key(r.url), r.body);
  }
  const meta = adapter.metadataUrls.map((u) => bodies.get(key(u))!);
  const { found } = resolveSymbols(
    captureSymbols(cap),
    adapter.instruments(meta),
  );
  const frames = cap.records.flatMap((r) =>
    r.kind === "recv"
      ? [{ binary: r.binary!, text: decoder.decode(gunzipSync(r.binary!)) }]
      : []
  );
  return {
    adapter,
    insts: new Map(found.map((i) => [i.exchangeSymbol, i])),
    frames,
  };
}

/** The spot capture (2021) and the swap one (2022, coin- and USDT-margined). */
async function captures(): Promise<Map<string, Htx>> {
  return new Map([
    ["HUOBI", await htx(["HUOBI.0", "HUOBI.ws.44.0"])],
    [
      "HUOBI_SWAP",
      await htx(["HUOBI_SWAP.0", "HUOBI_SWAP.ws.1.0", "HUOBI_SWAP.ws.2.0"]),
    ],
  ]);
}

/** The frame as JSON.parse reads it when it is a `depth.step0` push. */
function step0(text: string): Record<string, any> | undefined {
  const msg = readJson(text);
  return typeof msg?.ch === "string" && msg.ch.endsWith(".depth.step0") &&
      msg.tick !== undefined
    ? msg
    : undefined;
}

/** Asserts a scanned side holds JSON.parse's numbers, exactly (`Object.is`). */
function assertSide(side: ScannedSide, raw: number[][], what: string): void {
  assert.equal(side.count, raw.length, `${what}: level count`);
  for (let i = 0; i < raw.length; i++) {
    assert.equal(raw[i].length, 2, `${what}[${i}]`);
    assert.ok(
      Object.is(side.prices[i], raw[i][0]),
      `${what}[${i}] price ${raw[i][0]}: ${side.prices[i]}`,
    );
    // A size of -0 is read as 0, as the adapter's `sizeValue` reads it.
    assert.ok(
      Object.is(side.sizes[i], raw[i][1] + 0),
      `${what}[${i}] size ${raw[i][1]}: ${side.sizes[i]}`,
    );
  }
}

/** Asserts the scanner's fields are JSON.parse's reading of `msg`. */
function assertSame(s: HuobiStep0Scanner, msg: Record<string, any>, what = "") {
  assert.equal(s.symbol, msg.ch.split(".")[1], `${what} symbol`);
  assert.ok(Object.is(s.frameTime, msg.ts ?? NaN), `${what} ts`);
  assert.ok(Object.is(s.tickTime, msg.tick.ts ?? NaN), `${what} tick.ts`);
  const v = msg.tick.version;
  assert.equal(s.version, v === undefined ? -1 : sequenceValue(v), what);
  assertSide(s.bids, msg.tick.bids ?? [], `${what} bids`);
  assertSide(s.asks, msg.tick.asks ?? [], `${what} asks`);
}

/**
 * Asserts `scanBook` gives what `parse` gives for a frame (its gzip bytes
 * or its text): null when `parse` gives no single `book_snapshot` (or
 * throws), else an image with the snapshot's instrument, times, sequence
 * and levels in base currency.
 * @returns whether the frame scanned.
 */
function assertSameImage(
  adapter: Adapter,
  insts: ReadonlyMap<string, Instrument>,
  frame: string | Uint8Array,
  what = "",
): boolean {
  const d = adapter.parser(insts).scanBook!(frame, RECV);
  let events: MarketEvent[];
  try {
    events = adapter.parser(insts).parse(frame, RECV);
  } catch (e) {
    assert.equal(d, null, `${what}: scanned a frame parse refuses: ${e}`);
    return false;
  }
  if (d === null) return false;
  assert.equal(events.length, 1, what);
  assert.equal(d.image, true);
  assert.equal(d.inst, insts.get(d.inst.exchangeSymbol));
  assertDeltaIs(d, events[0], what);
  return true;
}

Deno.test("huobi scan: every depth.step0 frame of the spot and swap captures equals JSON.parse and the adapter's snapshot", async () => {
  const s = new HuobiStep0Scanner();
  // The same frames from their inflated bytes, one scanner throughout (each
  // image read against the last of its symbol), as a connection reads them.
  const b = new HuobiStep0Scanner();
  const counts = new Map<string, number>();
  let levels = 0;
  let exponents = 0;
  let inverse = 0;
  let linear = 0;
  for (const [name, cap] of await captures()) {
    let n = 0;
    for (const { binary, text } of cap.frames) {
      const msg = step0(text);
      // Every image is recognised; nothing else is (trades, acks, pings).
      assert.equal(s.scan(text), msg !== undefined, text.slice(0, 120));
      assert.equal(b.scanBytes(gunzipSync(binary)), msg !== undefined);
      if (msg === undefined) {
        assert.equal(cap.adapter.parser(cap.insts).scanBook!(binary, 1), null);
        continue;
      }
      n++;
      assertSame(s, msg, name);
      assertSame(b, msg, name);
      levels += s.bids.count + s.asks.count;
      if (/[0-9]E/.test(text)) exponents++;
      // The scanner path from the gzip bytes, as a connection gets them,
      // with the swaps' contract sizes (coin-margined: inverse).
      assert.ok(assertSameImage(cap.adapter, cap.insts, binary, name));
      const inst = cap.insts.get(s.symbol)!;
      if (inst.inverse) inverse++;
      else if (inst.contractSize !== 1) linear++;
    }
    counts.set(name, n);
  }
  assert.deepEqual(
    Object.fromEntries(counts),
    { HUOBI: 292, HUOBI_SWAP: 2_862 },
  );
  assert.ok(levels > 400_000, `${levels} levels`);
  // Spot prices as `9.121E-7`; swaps of both margin families.
  assert.ok(exponents > 250, `${exponents} frames with exponents`);
  assert.ok(inverse > 500 && linear > 500, `${inverse} and ${linear}`);
});

Deno.test("huobi scan: scanBook inflates each frame once, and parse reuses it only for that frame", async () => {
  const { adapter, insts, frames } = await htx(["HUOBI.0", "HUOBI.ws.44.0"]);
  const calls = { n: 0 };
  const inflate = GzipInflater.prototype.inflate;
  GzipInflater.prototype.inflate = function (this: GzipInflater, b) {
    calls.n++;
    return inflate.call(this, b);
  };
  try {
    const parser = adapter.parser(insts);
    const trade = frames.find((f) =>
      /^\{"ch":"market\.[a-z]+\.trade\.detail"/.test(f.text)
    )!;
    const image = frames.find((f) => step0(f.text) !== undefined)!;
    // A trade: scanBook declines it, parse reads the text it inflated.
    calls.n = 0;
    assert.equal(parser.scanBook!(trade.binary, RECV), null);
    const trades = parser.parse(trade.binary, RECV);
    assert.equal(calls.n, 1);
    assert.deepEqual(trades, adapter.parser(insts).parse(trade.text, RECV));
    assert.ok(trades.length > 0);
    // An image scanned (a keeper whose book is not synced gives it to parse).
    calls.n = 0;
    assert.notEqual(parser.scanBook!(image.binary, RECV), null);
    const snap = parser.parse(image.binary, RECV);
    assert.equal(calls.n, 1);
    assert.deepEqual(snap, adapter.parser(insts).parse(image.text, RECV));
    // The memo served once; another frame, or the same again, is inflated.
    calls.n = 0;
    assert.equal(parser.scanBook!(trade.binary, RECV), null);
    assert.deepEqual(parser.parse(image.binary, RECV), snap);
    assert.deepEqual(parser.parse(image.binary, RECV), snap);
    assert.equal(calls.n, 3);
    // Text frames (recordings) are not inflated at all.
    calls.n = 0;
    assert.notEqual(parser.scanBook!(image.text, RECV), null);
    assert.equal(calls.n, 0);
  } finally {
    GzipInflater.prototype.inflate = inflate;
  }
  // Bytes that are not gzip: null, and parse reports them.
  const parser = adapter.parser(insts);
  const junk = new Uint8Array([0x7b, 0x7d, 1, 2, 3]);
  assert.equal(parser.scanBook!(junk, RECV), null);
  assert.throws(() => parser.parse(junk, RECV), /not gzip/);
});

Deno.test("huobi scan: any key order, absent sides and fields, versions and times as parse reads them", async () => {
  const { adapter, insts, frames } = await htx([
    "HUOBI_SWAP.0",
    "HUOBI_SWAP.ws.1.0",
    "HUOBI_SWAP.ws.2.0",
  ]);
  const s = new HuobiStep0Scanner();
  const msgs = frames.flatMap((f) => step0(f.text) ?? []).slice(0, 40);
  /** `o`'s keys in a rotated order. */
  const rotate = (o: Record<string, any>, k: number) => {
    const keys = Object.keys(o);
    const r = k % keys.length;
    return Object.fromEntries(
      [...keys.slice(r), ...keys.slice(0, r)].map((x) => [x, o[x]]),
    );
  };
  let checked = 0;
  for (const [j, msg] of msgs.entries()) {
    for (let k = 0; k < 7; k++) {
      const m = rotate({ ...msg, tick: rotate(msg.tick, k + j) }, k);
      const f = JSON.stringify(m);
      assert.ok(s.scan(f), f.slice(0, 200));
      assertSame(s, m, f.slice(0, 200));
      assert.ok(assertSameImage(adapter, insts, f));
      assert.ok(assertSameImage(adapter, insts, gzipSync(f)));
      checked++;
    }
  }
  assert.equal(checked, 280);
  // Fields the adapter can do without: no ts, no version, no side, no
  // mrid, id or tick channel (spot's shape); nothing but one side.
  const [msg] = msgs;
  const variants: Record<string, any>[] = [
    { ch: msg.ch, tick: msg.tick },
    { ...msg, tick: { ...msg.tick, ts: undefined } },
    { ...msg, ts: undefined, tick: { ...msg.tick, ts: undefined } },
    { ...msg, tick: { ...msg.tick, version: undefined } },
    { ...msg, tick: { ...msg.tick, bids: undefined } },
    { ...msg, tick: { ...msg.tick, asks: [] } },
    { ...msg, tick: { bids: msg.tick.bids } },
    {
      ...msg,
      tick: {
        bids: msg.tick.bids,
        asks: msg.tick.asks,
        version: 5,
        ts: msg.tick.ts,
      },
    },
  ];
  // Times timeValue refuses fall back (to ts, then the receive time), and
  // versions sequenceValue reads as an integer are kept.
  for (const t of [0, -5, 1e400, 253402300800000, 1.5, -0]) {
    variants.push({ ...msg, tick: { ...msg.tick, ts: t } });
    variants.push({ ...msg, ts: t, tick: { ...msg.tick, ts: undefined } });
  }
  for (const v of [0, -0, 1e3, 9007199254740991]) {
    variants.push({ ...msg, tick: { ...msg.tick, version: v } });
  }
  for (const m of variants) {
    // JSON.stringify drops undefined fields, writes -0 as 0, 1e400 as null.
    const f = JSON.stringify(m).replace(":null", ":1e400");
    const parsed = JSON.parse(f);
    assert.ok(s.scan(f), f.slice(0, 200));
    assertSame(s, parsed, f.slice(0, 200));
    assert.ok(assertSameImage(adapter, insts, f, f.slice(0, 200)));
  }
  // The spellings themselves: an exponent form and "-0" of the times.
  const spelled = JSON.stringify({
    ...msg,
    ts: 1,
    tick: { ...msg.tick, ts: 2 },
  })
    .replace('"ts":1,', '"ts":1.6452E12,').replace('"ts":2,', '"ts":-0,');
  assert.ok(s.scan(spelled), spelled.slice(0, 120));
  assert.ok(assertSameImage(adapter, insts, spelled));
  assert.equal(
    adapter.parser(insts).scanBook!(spelled, 1)!.exchangeTs,
    1.6452e12,
  );
  // 1,000 levels a side: the level arrays grow.
  const big = {
    ch: msg.ch,
    tick: {
      bids: Array.from({ length: 1000 }, (_, i) => [1000 - i * 0.5, i]),
      asks: Array.from({ length: 1000 }, (_, i) => [2000 + i, 1e-7 * i]),
    },
  };
  assert.ok(assertSameImage(adapter, insts, JSON.stringify(big)));
  assert.ok(s.scan(JSON.stringify(big)));
  assert.equal(s.asks.count, 1000);
});

Deno.test("huobi scan: odd frames are left to JSON.parse", () => {
  const s = new HuobiStep0Scanner();
  const insts = new Map<string, Instrument>([["btcusdt", {
    exchange: "huobi",
    exchangeSymbol: "btcusdt",
    symbol: "BTC-USDT",
    base: "BTC",
    quote: "USDT",
    market: "spot",
    contractSize: 1,
  }]]);
  const good =
    '{"ch":"market.btcusdt.depth.step0","ts":1618678069870,"tick":{"bids":[[9.121E-7,92730.24],[9E-7,1]],"asks":[[1.5,2.25E3]],"version":102311637870,"ts":1618678069863}}';
  assert.ok(s.scan(good));
  assert.ok(assertSameImage(huobiStep0Adapter, insts, good));
  // An unknown symbol gives nothing to parse: nothing to scan either.
  const parser = huobiStep0Adapter.parser(new Map());
  assert.equal(parser.scanBook!(good, 1), null);
  assert.deepEqual(parser.parse(good, 1), []);
  const odd: [string, string][] = [
    ["whitespace", good.replace('"tick":', '"tick": ')],
    ["trailing newline", good + "\n"],
    ["escape in ch", good.replace("btcusdt", "btc\\u0075sdt")],
    ["escape in tick ch", good.replace('"ts":1618678069863', '"ch":"\\n"')],
    ["not ASCII", good.replace("btcusdt", "btcusdté")],
    ["update flag", good.replace('"ts":1618', '"update":true,"ts":1618')],
    ["update false", good.replace('"ts":1618', '"update":false,"ts":1618')],
    ["ping", good.replace('{"ch"', '{"ping":1,"ch"')],
    ["extra key", good.replace('"tick"', '"id":1,"tick"')],
    ["extra tick key", good.replace('"version"', '"seqNum":1,"version"')],
    ["duplicate key", good.replace('"tick"', '"ts":1,"tick"')],
    ["duplicate ch", good.replace('"ts":1618678069870', '"ch":"x"')],
    ["duplicate side", good.replace('"asks"', '"bids":[],"asks"')],
    ["duplicate tick ts", good.replace('"version"', '"ts":1,"version"')],
    ["other topic", good.replace("depth.step0", "depth.step1")],
    ["mbp", good.replace("depth.step0", "mbp.150")],
    ["topic suffix", good.replace("depth.step0", "depth.step0.x")],
    ["trade", good.replace("depth.step0", "trade.detail")],
    ["no market prefix", good.replace("market.", "markets.")],
    ["no symbol dot", good.replace("market.btcusdt.depth", "market.btcusdt")],
    ["key prefix", good.replace('"version"', '"versions"')],
    ["version as string", good.replace("102311637870", '"102311637870"')],
    ["fractional version", good.replace("102311637870", "1.5")],
    ["negative version", good.replace("102311637870", "-1")],
    ["unsafe version", good.replace("102311637870", "9007199254740992")],
    ["version null", good.replace("102311637870", "null")],
    ["time as string", good.replace("1618678069870", '"1618678069870"')],
    ["time as null", good.replace("1618678069863", "null")],
    ["ch as number", good.replace('"market.btcusdt.depth.step0"', "1")],
    ["bids null", good.replace(/"bids":\[.*?\]\],/, '"bids":null,')],
    ["tick null", '{"ch":"market.btcusdt.depth.step0","tick":null}'],
    ["tick empty", '{"ch":"market.btcusdt.depth.step0","tick":{}}'],
    ["tick array", '{"ch":"market.btcusdt.depth.step0","tick":[]}'],
    ["missing tick", '{"ch":"market.btcusdt.depth.step0","ts":1}'],
    ["missing ch", good.replace('"ch":"market.btcusdt.depth.step0",', "")],
    ["string level", good.replace("[1.5,2.25E3]", '["1.5","2.25E3"]')],
    ["short level", good.replace("[1.5,2.25E3]", "[1.5]")],
    ["long level", good.replace("[1.5,2.25E3]", "[1.5,2.25E3,1]")],
    ["side not an array", good.replace('"asks":[[1.5,2.25E3]]', '"asks":{}')],
    ["level not an array", good.replace("[1.5,2.25E3]", "1.5")],
    ["zero price", good.replace("[1.5,", "[0,")],
    ["negative price", good.replace("[1.5,", "[-1.5,")],
    ["price beyond MAX_PRICE", good.replace("[1.5,", "[1E12,")],
    ["negative size", good.replace("2.25E3", "-2.25E3")],
    ["size beyond MAX_SIZE", good.replace("2.25E3", "1.5E20")],
    ["size overflowing", good.replace("2.25E3", "1E400")],
    ["leading zero", good.replace("[1.5,", "[01.5,")],
    ["bare exponent", good.replace("2.25E3", "2.25E")],
    ["bare dot", good.replace("[1.5,", "[1.,")],
    ["plus sign", good.replace("[1.5,", "[+1.5,")],
    ["truncated", good.slice(0, -1)],
    ["array", `[${good}]`],
    ["pong", '{"ping":1618678073643}'],
    ["subbed", '{"id":"btcusdt.b","status":"ok","subbed":"x","ts":1}'],
    ["not JSON", "depth.step0"],
    ["empty", ""],
  ];
  for (const [what, frame] of odd) {
    assert.notEqual(frame, good, `${what}: the edit applies`);
    assert.equal(s.scan(frame), false, what);
    assert.equal(assertSameImage(huobiStep0Adapter, insts, frame), false);
  }
  // And the scanner is not left in a state that breaks the next frame.
  assert.ok(s.scan(good));
  assert.equal(s.symbol, "btcusdt");
  assert.equal(s.bids.count, 2);
  assert.equal(s.bids.prices[0], 9.121e-7);
  assert.equal(s.asks.sizes[0], 2250);
});

Deno.test("huobi scan: fuzzed levels, exponent forms included, equal JSON.parse, or the frame is refused", () => {
  const s = new HuobiStep0Scanner();
  const b = new HuobiStep0Scanner();
  const spot = huobiStep0Adapter;
  const inst: Instrument = {
    exchange: "huobi",
    exchangeSymbol: "btcusdt",
    symbol: "BTC-USDT",
    base: "BTC",
    quote: "USDT",
    market: "spot",
    contractSize: 1,
  };
  const tables = [
    new Map([["btcusdt", inst]]),
    // Contracts: linear, and inverse of 100 USD.
    new Map([["btcusdt", { ...inst, contractSize: 0.001 }]]),
    new Map([["btcusdt", { ...inst, contractSize: 100, inverse: true }]]),
  ];
  // Numbers as JSON writes them, and uppercase exponents as HTX does.
  const token = fc.oneof(
    levelToken,
    levelToken.map((t) => t.toUpperCase()),
  );
  const level = fc.tuple(token, token);
  fc.assert(
    fc.property(
      fc.array(level, { maxLength: 20 }),
      fc.array(level, { maxLength: 20 }),
      fc.nat(2),
      (bids, asks, table) => {
        const side = (ls: [string, string][]) =>
          `[${ls.map(([p, q]) => `[${p},${q}]`).join(",")}]`;
        const frame =
          `{"ch":"market.btcusdt.depth.step0","ts":1618678069870,"tick":{"bids":${
            side(bids)
          },"asks":${side(asks)},"version":7,"ts":1618678069863}}`;
        const inRange = [...bids, ...asks].every(([p, q]) =>
          +p > 0 && +p < 1e12 && +q >= 0 && +q <= 1e20
        );
        assert.equal(s.scan(frame), inRange, frame);
        if (inRange) assertSame(s, JSON.parse(frame), frame);
        // The same from the frame's bytes (as an inflated frame is read).
        assert.equal(b.scanBytes(encoder.encode(frame)), inRange, frame);
        if (inRange) assertSame(b, JSON.parse(frame), frame);
        // The scanner path equals parse whatever the contract size, or
        // declines (a size beyond MAX_SIZE once in base).
        const scanned = assertSameImage(spot, tables[table], frame, frame);
        if (table === 0) assert.equal(scanned, inRange, frame);
      },
    ),
    { numRuns: 3_000 },
  );
});

Deno.test("huobi scan: a run of images, each a few level edits from the last, reads each as JSON.parse does (levels taken over from the last image by their text)", () => {
  const s = new HuobiStep0Scanner();
  const b = new HuobiStep0Scanner();
  // A level's text: the same values are sometimes written another way
  // (`1.5`, `1.50`, `1.5E0`), so equal values need not be equal text.
  const write = (x: number, form: number) =>
    form === 0 ? String(x) : form === 1 ? x.toFixed(4) : x.toExponential();
  const edit = fc.record({
    op: fc.constantFrom("set", "delete", "rewrite"),
    bid: fc.boolean(),
    at: fc.nat(90),
    size: fc.integer({ min: 0, max: 5000 }).map((q) => q / 100),
    form: fc.nat(2),
  });
  fc.assert(
    fc.property(
      fc.array(fc.array(edit, { maxLength: 6 }), {
        minLength: 2,
        maxLength: 12,
      }),
      fc.array(fc.constantFrom("btcusdt", "ethusdt", "trxusdt"), {
        minLength: 12,
        maxLength: 12,
      }),
      (steps, symbols) => {
        // Price index → [price, size, form]; bids below 100, asks above.
        const sides = [new Map<number, [number, number, number]>(), new Map()];
        for (let k = 0; k < 70; k++) {
          sides[0].set(k, [100 - k * 0.25, 1 + k, 0]);
          sides[1].set(k, [100.25 + k * 0.25, 2 + k, 0]);
        }
        // Each image is sent on one of three channels: each symbol's last
        // image is a different one.
        for (const [step, edits] of steps.entries()) {
          const symbol = symbols[step];
          for (const { op, bid, at, size, form } of edits) {
            const side = sides[bid ? 0 : 1];
            const price = bid ? 100 - at * 0.25 : 100.25 + at * 0.25;
            const level = side.get(at);
            if (op === "delete") side.delete(at);
            else if (op === "set") side.set(at, [price, size, form]);
            else if (level) side.set(at, [level[0], level[1], form]);
          }
          const text = (side: Map<number, [number, number, number]>) =>
            `[${
              [...side.keys()].sort((a, b) => a - b).map((k) => {
                const [p, q, f] = side.get(k)!;
                return `[${write(p, f)},${write(q, f)}]`;
              }).join(",")
            }]`;
          const frame =
            `{"ch":"market.${symbol}.depth.step0","ts":1618678069870,"tick":{"bids":${
              text(sides[0])
            },"asks":${text(sides[1])},"version":7,"ts":1618678069863}}`;
          assert.ok(s.scan(frame), frame);
          assertSame(s, JSON.parse(frame), frame);
          assert.ok(b.scanBytes(encoder.encode(frame)), frame);
          assertSame(b, JSON.parse(frame), frame);
        }
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("huobi scan: a mutated real frame is refused, or read exactly as JSON.parse reads it", async () => {
  const all = await captures();
  const s = new HuobiStep0Scanner();
  const alphabet = [...'0123456789.-+eE"[]{},:\\ abcdhikmnpst'];
  let recognised = 0;
  for (const [name, cap] of all) {
    const frames = cap.frames.flatMap((f) =>
      step0(f.text) === undefined ? [] : [f.text]
    ).slice(0, 200);
    recognised += checkMutants(s, frames, {
      alphabet,
      numRuns: 2_000,
      check: (f) => {
        const msg = step0(f);
        assert.ok(msg !== undefined, `${name}: recognised a non-image: ${f}`);
        assertSame(s, msg, f.slice(0, 200));
        // The parser scans it when it knows the symbol (an edit in the
        // channel makes another) and parse accepts the sizes in base.
        const known = cap.insts.has(s.symbol);
        const ok = assertSameImage(cap.adapter, cap.insts, f, f.slice(0, 200));
        if (!known) assert.equal(ok, false);
        else if (!ok) {
          assert.throws(() => cap.adapter.parser(cap.insts).parse(f, RECV));
        }
      },
    });
  }
  // Edits within a level's digits leave a frame readable.
  assert.ok(recognised > 500, `only ${recognised} mutants recognised`);
});

Deno.test("huobi scan: exchangeTs is the tick's ts, else the frame's, else the receive time", () => {
  const parser = huobiStep0Adapter.parser(
    new Map([["btcusdt", {
      exchange: "huobi",
      exchangeSymbol: "btcusdt",
      symbol: "BTC-USDT",
      base: "BTC",
      quote: "USDT",
      market: "spot",
      contractSize: 1,
    }]]),
  );
  const f = (ts: string, tickTs: string) =>
    `{"ch":"market.btcusdt.depth.step0"${ts},"tick":{"bids":[[1,1]],"asks":[[2,1]]${tickTs}}}`;
  // The scanned exchangeTs, checked against the adapter's parse of the frame.
  const scannedTs = (ts: string, tickTs: string) => {
    const frame = f(ts, tickTs);
    const scanned = parser.scanBook!(frame, 42)!.exchangeTs;
    const events = parser.parse(frame, 42);
    assert.equal(events.length, 1, frame);
    assert.equal(scanned, (events[0] as BookSnapshot).exchangeTs, frame);
    return scanned;
  };
  assert.equal(scannedTs(',"ts":5', ',"ts":6'), 6);
  assert.equal(scannedTs(',"ts":5', ""), 5);
  assert.equal(scannedTs("", ""), 42);
  assert.equal(scannedTs(',"ts":-5', ',"ts":0'), 42);
  assert.equal(scannedTs(',"ts":5', ',"ts":1e400'), timeValue(Infinity, 5));
  // No version: the snapshot's sequence is -1.
  assert.equal(parser.scanBook!(f("", ""), 42)!.last, -1);
});

Deno.test("huobi scan: past the symbols whose last image it keeps, images are read in full, exactly", () => {
  const s = new HuobiStep0Scanner();
  // 70 channels, more than the scanner keeps images of, twice over: the
  // second image of each changes its best levels.
  for (const round of [0, 1]) {
    for (let k = 0; k < 70; k++) {
      const bids = Array.from(
        { length: 20 },
        (_, i) => `[${100 - i},${i === 0 ? 1 + round : 2 + k}]`,
      );
      const asks = Array.from(
        { length: 20 },
        (_, i) => `[${101 + i + round},${3 + i}]`,
      );
      const frame =
        `{"ch":"market.sym${k}.depth.step0","ts":1,"tick":{"bids":[${
          bids.join(",")
        }],"asks":[${asks.join(",")}],"version":${k},"ts":2}}`;
      assert.ok(s.scan(frame), frame);
      assert.equal(s.symbol, `sym${k}`);
      assertSame(s, JSON.parse(frame), frame);
    }
  }
});
