import assert from "node:assert/strict";
import { inflateRawSync } from "node:zlib";
import { bybitV5Parser } from "./_bybit.ts";
import { BybitBookScanner } from "./bybit_scan.ts";
import {
  anyInstrument,
  assertSameLevels,
  assertScannedSide,
  checkMutants,
  readJson,
  scanSources,
} from "./_scan_testing.ts";
import { capturedTexts, tardisInputs } from "./_testing.ts";

const SAMPLES = "../shared/data/samples";
const NAUTILUS = `${SAMPLES}/nautilus_trader/crates/adapters/bybit/test_data`;
const OB500 =
  `${SAMPLES}/nautilus_trader/tests/test_data/bybit/xrpusdt-ob500.data.zip`;

/** The first file of a zip archive (stored or deflated). */
function unzipFirst(path: string): string {
  const z = Deno.readFileSync(path);
  const v = new DataView(z.buffer, z.byteOffset, z.byteLength);
  assert.equal(v.getUint32(0, true), 0x04034b50, "zip local header");
  const method = v.getUint16(8, true);
  const size = v.getUint32(18, true);
  const start = 30 + v.getUint16(26, true) + v.getUint16(28, true);
  const data = z.subarray(start, start + size);
  assert.ok(method === 0 || method === 8, `zip method ${method}`);
  return new TextDecoder().decode(method === 0 ? data : inflateRawSync(data));
}

/** Every Bybit frame the shared data holds, by source (v2 captures too). */
async function bybitFrames(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  out.set("xrpusdt-ob500", unzipFirst(OB500).split(/\r?\n/).filter((l) => l));
  for (const f of ["bybit", "bybit-spot"]) {
    out.set(`tardis ${f}`, await tardisInputs(f));
  }
  out.set(
    "nautilus ws_orderbook_*",
    ["ws_orderbook_delta.json", "ws_orderbook_snapshot.json"].map((f) =>
      Deno.readTextFileSync(`${NAUTILUS}/${f}`)
    ),
  );
  for (const f of ["BYBIT.ws.25.0", "BYBIT.ws.26.0"]) {
    out.set(`${f} (v2)`, await capturedTexts(f));
  }
  return out;
}

/** A v5 book frame as JSON.parse reads it, or undefined. */
function bookFrame(frame: string): Record<string, any> | undefined {
  const msg = readJson(frame);
  return typeof msg?.topic === "string" &&
      msg.topic.startsWith("orderbook.") &&
      (msg.type === "snapshot" || msg.type === "delta")
    ? msg
    : undefined;
}

/** Asserts the scanner's fields equal JSON.parse's reading of `msg`. */
function assertSame(s: BybitBookScanner, msg: Record<string, any>, what = "") {
  assert.equal(s.snapshot, msg.type === "snapshot", `${what} type`);
  assert.ok(Object.is(s.ts, msg.ts), `${what} ts`);
  assert.ok(Object.is(s.cts, msg.cts ?? NaN), `${what} cts`);
  assert.equal(s.symbol, msg.data.s, `${what} s`);
  assert.ok(Object.is(s.update, msg.data.u), `${what} u`);
  assert.ok(Object.is(s.seq, msg.data.seq), `${what} seq`);
  assertScannedSide(s.bids, msg.data.b, `${what} b`);
  assertScannedSide(s.asks, msg.data.a, `${what} a`);
}

Deno.test("bybit scan: every level of every compact v5 book frame equals parseFloat, headers equal JSON.parse", async () => {
  const s = new BybitBookScanner();
  const parser = bybitV5Parser("bybit", anyInstrument("bybit", "perpetual"));
  const levels = scanSources(s, await bybitFrames(), (frame, ok, source) => {
    const msg = bookFrame(frame);
    // Compact (as the venue sends them); the pretty-printed doc samples
    // are left to JSON.parse.
    const compact = msg !== undefined && JSON.stringify(msg) === frame;
    assert.equal(ok, compact, `${source}: ${frame.slice(0, 120)}`);
    if (!ok) return;
    assertSame(s, msg!, source);
    // And the adapter's own reading of the frame gives the same levels.
    const [ev] = parser.parse(frame, 1);
    assert.ok(ev.type === "book_delta" || ev.type === "book_snapshot");
    assert.equal(ev.type === "book_snapshot", s.snapshot || s.update === 1);
    assertSameLevels(ev, s);
  });
  assert.ok(levels > 1_000, `only ${levels} levels checked`);
});

Deno.test("bybit scan: odd frames are left to JSON.parse", () => {
  const s = new BybitBookScanner();
  const good =
    '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["1.5","2"]],"a":[],"u":7,"seq":9},"cts":2}';
  assert.ok(s.scan(good));
  assert.ok(s.scan(good.replace(',"cts":2', ""))); // spot: no cts
  assert.ok(Number.isNaN(s.cts));
  const odd: [string, string][] = [
    ["whitespace", good.replace('"ts":1', '"ts": 1')],
    ["other topic", good.replace("orderbook.50", "publicTrade")],
    ["other type", good.replace('"delta"', '"update"')],
    ["escape in symbol", good.replace('"s":"BTCUSDT"', '"s":"BTC\\u0055SDT"')],
    ["extra key", good.replace('"seq":9', '"seq":9,"x":1')],
    ["keys moved", good.replace('"u":7,"seq":9', '"seq":9,"u":7')],
    ["duplicate type", good.replace('"ts":1', '"type":"delta","ts":1')],
    ["negative size", good.replace('"2"]', '"-2"]')],
    ["level as numbers", good.replace('["1.5","2"]', "[1.5,2]")],
    ["u as string", good.replace('"u":7', '"u":"7"')],
    ["fractional u", good.replace('"u":7', '"u":7.5')],
    ["ts as string", good.replace('"ts":1', '"ts":"1"')],
    ["trailing", good + " "],
    ["pong", '{"success":true,"ret_msg":"pong","op":"ping"}'],
  ];
  for (const [what, frame] of odd) assert.equal(s.scan(frame), false, what);
});

Deno.test("bybit scan: a mutated real frame is refused, or read exactly as JSON.parse reads it", () => {
  const frames = unzipFirst(OB500).split(/\r?\n/).filter((l) => l);
  const s = new BybitBookScanner();
  const alphabet = [...'0123456789.-+eE"[]{},:\\ abdstu'];
  const recognised = checkMutants(s, frames, {
    alphabet,
    numRuns: 2_000,
    check: (f) => {
      const msg = bookFrame(f);
      assert.ok(msg !== undefined, `recognised a non-book frame: ${f}`);
      assertSame(s, msg, f);
    },
  });
  assert.ok(recognised > 100, `only ${recognised} mutants recognised`);
});
