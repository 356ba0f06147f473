import assert from "node:assert/strict";
import fc from "fast-check";
import { binanceParser } from "./_binance.ts";
import { BinanceDepthScanner } from "./binance_scan.ts";
import {
  anyInstrument,
  assertSameLevels,
  assertScannedSide,
  checkMutants,
  levelsInRange,
  levelToken,
  readJson,
  scanSources,
} from "./_scan_testing.ts";
import { capturedTexts, tardisInputs } from "./_testing.ts";

/** Every Binance-family frame the shared data holds, by source. */
async function binanceFrames(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const f of ["BINANCE.ws.1.0", "BINANCE_FUTURES.ws.1.0"]) {
    out.set(f, await capturedTexts(f));
  }
  for (const f of ["binance", "binance-futures", "binance-delivery"]) {
    out.set(`tardis ${f}`, await tardisInputs(f));
  }
  return out;
}

/** The raw depth event of a frame as JSON.parse reads it, or undefined. */
function depthEvent(frame: string): Record<string, any> | undefined {
  const msg = readJson(frame);
  const d = msg?.data ?? msg;
  return d?.e === "depthUpdate" ? d : undefined;
}

/** Asserts the scanner's fields equal JSON.parse's reading of `d`. */
function assertSame(s: BinanceDepthScanner, d: Record<string, any>, what = "") {
  assert.equal(s.symbol, d.s, `${what} s`);
  assert.ok(Object.is(s.eventTime, d.E ?? NaN), `${what} E`);
  assert.ok(Object.is(s.transactionTime, d.T ?? NaN), `${what} T`);
  assert.ok(Object.is(s.first, d.U), `${what} U`);
  assert.ok(Object.is(s.last, d.u), `${what} u`);
  assert.ok(Object.is(s.prev, d.pu ?? NaN), `${what} pu`);
  assertScannedSide(s.bids, d.b, `${what} b`);
  assertScannedSide(s.asks, d.a, `${what} a`);
}

Deno.test("binance scan: every level of every shared Binance frame equals parseFloat, headers equal JSON.parse", async () => {
  const s = new BinanceDepthScanner();
  const parser = binanceParser("binance", anyInstrument("binance", "spot"));
  const levels = scanSources(s, await binanceFrames(), (frame, ok, source) => {
    const d = depthEvent(frame);
    // Every real depth frame is recognised; nothing else is.
    assert.equal(ok, d !== undefined, `${source}: ${frame.slice(0, 120)}`);
    if (!ok) return;
    assertSame(s, d!, source);
    // And the adapter's own reading of the frame gives the same levels.
    const [ev] = parser.parse(frame, 1);
    assert.equal(ev.type, "book_delta");
    if (ev.type === "book_delta") assertSameLevels(ev, s);
  });
  assert.ok(levels > 5_000, `only ${levels} levels checked`);
});

Deno.test("binance scan: raw stream form, any key order, empty sides, big frames", async () => {
  const frames = await capturedTexts("BINANCE_FUTURES.ws.1.0");
  const s = new BinanceDepthScanner();
  let checked = 0;
  for (const frame of frames) {
    const d = depthEvent(frame);
    if (d === undefined) continue;
    // Raw stream: the bare event; reversed key order.
    const raw = JSON.stringify(d);
    assert.ok(s.scan(raw), raw);
    assertSame(s, d, "raw");
    const reversed = JSON.stringify(
      Object.fromEntries(Object.entries(d).reverse()),
    );
    assert.ok(s.scan(reversed), reversed);
    assertSame(s, d, "reversed");
    checked++;
  }
  assert.ok(checked > 700);
  // 1,000 levels a side: the level arrays grow.
  const big = {
    e: "depthUpdate",
    E: 1,
    s: "X",
    U: 1,
    u: 2,
    b: Array.from({ length: 1000 }, (_, i) => [`${i + 1}.5`, `${i}`]),
    a: [],
  };
  assert.ok(s.scan(JSON.stringify({ stream: "x@depth", data: big })));
  assertSame(s, big);
});

Deno.test("binance scan: odd frames are left to JSON.parse", () => {
  const s = new BinanceDepthScanner();
  const good =
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":7,"b":[["1.5","2"]],"a":[]}}';
  assert.ok(s.scan(good));
  const odd: [string, string][] = [
    ["whitespace", good.replace('"E":1', '"E": 1')],
    ["trailing newline", good + "\n"],
    ["escape in symbol", good.replace('"BTCUSDT"', '"BTC\\u0055SDT"')],
    ["not ASCII", good.replace("btcusdt@", "btcusdt€")],
    ["escape in stream", good.replace("btcusdt@", "btcusdt\\/")],
    ["extra key", good.replace('"E":1', '"E":1,"x":2')],
    ["extra wrapper key", good.replace('{"stream"', '{"id":1,"stream"')],
    ["duplicate key", good.replace('"E":1', '"E":1,"E":2')],
    ["other event", good.replace("depthUpdate", "bookTicker")],
    ["level as numbers", good.replace('["1.5","2"]', "[1.5,2]")],
    ["extra level field", good.replace('["1.5","2"]', '["1.5","2","3"]')],
    ["negative price", good.replace('"1.5"', '"-1.5"')],
    ["zero price", good.replace('"1.5"', '"0"')],
    ["negative zero size", good.replace('"2"]', '"-0"]')],
    ["negative size", good.replace('"2"]', '"-2"]')],
    ["size beyond MAX_SIZE", good.replace('"2"]', '"1e21"]')],
    ["price beyond MAX_PRICE", good.replace('"1.5"', '"1e12"')],
    ["leading zero", good.replace('"1.5"', '"01.5"')],
    ["empty string", good.replace('"1.5"', '""')],
    ["space in number", good.replace('"1.5"', '"1.5 "')],
    ["U > u", good.replace('"U":5', '"U":9')],
    ["fractional id", good.replace('"u":7', '"u":7.5')],
    ["negative pu", good.replace('"u":7', '"u":7,"pu":-1')],
    ["id as string", good.replace('"u":7', '"u":"7"')],
    ["missing a", good.replace(',"a":[]', "")],
    ["missing s", good.replace(',"s":"BTCUSDT"', "")],
    ["truncated", good.slice(0, -1)],
    ["ack", '{"result":null,"id":1}'],
    ["error", '{"error":{"code":2,"msg":"Invalid request"},"id":1}'],
    ["not JSON", "depthUpdate"],
    ["empty", ""],
  ];
  for (const [what, frame] of odd) {
    assert.equal(s.scan(frame), false, what);
  }
  // And the scanner is not left in a state that breaks the next frame.
  assert.ok(s.scan(good));
  assert.equal(s.bids.prices[0], 1.5);
});

Deno.test("binance scan: fuzzed level strings equal parseFloat, or the frame is refused", () => {
  const s = new BinanceDepthScanner();
  const level = fc.tuple(levelToken, levelToken);
  fc.assert(
    fc.property(
      fc.array(level, { maxLength: 40 }),
      fc.array(level, { maxLength: 40 }),
      fc.boolean(),
      (b, a, futures) => {
        const d: Record<string, unknown> = {
          e: "depthUpdate",
          E: 1626992741037,
          ...(futures ? { T: 1626992741024 } : {}),
          s: "BTCUSDT",
          U: 100,
          u: 200,
          ...(futures ? { pu: 99 } : {}),
          b,
          a,
        };
        const frame = JSON.stringify({ stream: "btcusdt@depth", data: d });
        const inRange = levelsInRange([...b, ...a]);
        assert.equal(s.scan(frame), inRange, frame);
        if (inRange) assertSame(s, d);
      },
    ),
    { numRuns: 2_000 },
  );
});

Deno.test("binance scan: a mutated real frame is refused, or read exactly as JSON.parse reads it", async () => {
  const frames = (await capturedTexts("BINANCE_FUTURES.ws.1.0")).filter((f) =>
    depthEvent(f) !== undefined
  );
  const s = new BinanceDepthScanner();
  const alphabet = [...'0123456789.-+eE"[]{},:\\ aepsuUTbE'];
  const recognised = checkMutants(s, frames, {
    alphabet,
    numRuns: 5_000,
    check: (f) => {
      const d = depthEvent(f);
      assert.ok(d !== undefined, `recognised a non-depth frame: ${f}`);
      assertSame(s, d, f);
    },
  });
  // Edits within a level's digits leave a frame readable: some must be read.
  assert.ok(recognised > 250, `only ${recognised} mutants recognised`);
});
