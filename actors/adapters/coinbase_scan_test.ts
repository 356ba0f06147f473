import assert from "node:assert/strict";
import fc from "fast-check";
import { coinbaseProAdapter } from "./coinbase_pro.ts";
import { CoinbaseL2Scanner } from "./coinbase_scan.ts";
import { isoMs, isoTimeMs } from "./_coinbase.ts";
import {
  anyInstrument,
  assertDeltaIs,
  assertSameLevels,
  assertScannedSide,
  checkMutants,
  levelsInRange,
  levelToken,
  readJson,
  scanSources,
} from "./_scan_testing.ts";
import { capturedTexts, tardisInputs } from "./_testing.ts";

const CAPTURE = "COINBASE.ws.28.0";
const encoder = new TextEncoder();

/** Every Coinbase Pro frame the shared data holds, by source. */
async function coinbaseFrames(): Promise<Map<string, string[]>> {
  return new Map([
    [CAPTURE, await capturedTexts(CAPTURE)],
    // tardis-node's recording writes `time` before `changes`.
    ["tardis coinbase", await tardisInputs("coinbase")],
  ]);
}

/** The `l2update` of a frame as JSON.parse reads it, or undefined. */
function l2update(frame: string): Record<string, any> | undefined {
  const msg = readJson(frame);
  return msg?.type === "l2update" && !Array.isArray(msg) ? msg : undefined;
}

/**
 * Asserts the scanner's fields equal JSON.parse's reading of `msg`: its
 * product, `Date.parse` of its time, and its changes split by side, in order.
 */
function assertSame(s: CoinbaseL2Scanner, msg: Record<string, any>, what = "") {
  assert.equal(s.productId, msg.product_id, `${what} product_id`);
  const time = typeof msg.time === "string" ? Date.parse(msg.time) : NaN;
  assert.ok(Object.is(s.time, time), `${what} time ${msg.time}: ${s.time}`);
  const changes = msg.changes as string[][];
  for (const c of changes) {
    assert.equal(c.length, 3, `${what} change ${c}`);
    assert.ok(c[0] === "buy" || c[0] === "sell", `${what} side ${c[0]}`);
  }
  const side = (name: string) =>
    changes.filter((c) => c[0] === name).map((c) => c.slice(1));
  assertScannedSide(s.bids, side("buy"), `${what} buy`);
  assertScannedSide(s.asks, side("sell"), `${what} sell`);
}

Deno.test("coinbase scan: every l2update of the shared Coinbase frames equals parseFloat and the adapter's delta", async () => {
  const s = new CoinbaseL2Scanner();
  const parser = coinbaseProAdapter.parser(anyInstrument("coinbase", "spot"));
  const recvTs = 1_700_000_000_000;
  let frames = 0;
  const levels = scanSources(s, await coinbaseFrames(), (frame, ok, source) => {
    const msg = l2update(frame);
    // Every real l2update is recognised; nothing else is.
    assert.equal(ok, msg !== undefined, `${source}: ${frame.slice(0, 120)}`);
    if (!ok) return;
    frames++;
    assertSame(s, msg!, source);
    // The adapter's own reading gives the same levels and time.
    const [ev] = parser.parse(frame, recvTs);
    assert.equal(ev.type, "book_delta");
    if (ev.type !== "book_delta") return;
    assertSameLevels(ev, s);
    assert.equal(ev.bids.length, 2 * s.bids.count);
    assert.equal(ev.asks.length, 2 * s.asks.count);
    const d = parser.scanBook!(frame, recvTs);
    assert.ok(d !== null);
    assertDeltaIs(d, ev, source);
    assert.equal(d.exchangeTs, isoMs(msg!.time, recvTs));
  });
  assert.ok(frames > 9_000, `only ${frames} l2updates`);
  assert.ok(levels > 9_000, `only ${levels} levels checked`);
});

Deno.test("coinbase scan: isoTimeMs and isoMs equal Date.parse for every time of the shared Coinbase frames", async () => {
  let times = 0;
  for (const frames of (await coinbaseFrames()).values()) {
    for (const frame of frames) {
      for (const m of frame.matchAll(/"time":"([^"\\]*)"/g)) {
        const text = m[1];
        const from = m.index! + 8;
        const t = Date.parse(text);
        const bytes = encoder.encode(frame);
        assert.ok(
          Object.is(isoTimeMs(frame, bytes, from, from + text.length), t),
        );
        assert.equal(isoMs(text, -1), t > 0 ? t : -1);
        times++;
      }
    }
  }
  assert.ok(times > 9_900, `only ${times} times`);
});

Deno.test("coinbase scan: any key order, no time, empty and big changes", async () => {
  const frames = (await capturedTexts(CAPTURE)).filter((f) =>
    l2update(f) !== undefined
  );
  const s = new CoinbaseL2Scanner();
  const parser = coinbaseProAdapter.parser(anyInstrument("coinbase", "spot"));
  /** The orders of `keys`. */
  const orders = (keys: string[]): string[][] =>
    keys.length <= 1
      ? [keys]
      : keys.flatMap((k, i) =>
        orders([...keys.slice(0, i), ...keys.slice(i + 1)]).map((
          o,
        ) => [k, ...o])
      );
  const perms = orders(["type", "product_id", "changes", "time"]);
  assert.equal(perms.length, 24);
  for (const frame of frames.slice(0, 200)) {
    const msg = l2update(frame)!;
    for (const keys of perms) {
      const f = JSON.stringify(
        Object.fromEntries(keys.map((k) => [k, msg[k]])),
      );
      assert.ok(s.scan(f), f);
      assertSame(s, msg, f);
    }
    // Without a time, the receive time, as the adapter gives it.
    const { time: _, ...untimed } = msg;
    const f = JSON.stringify(untimed);
    assert.ok(s.scan(f), f);
    assertSame(s, untimed, f);
    assert.equal(parser.scanBook!(f, 42)!.exchangeTs, 42);
  }
  // No changes at all: an empty delta, as parse gives it.
  const empty = '{"type":"l2update","product_id":"X","changes":[]}';
  assert.ok(s.scan(empty));
  assertSame(s, JSON.parse(empty));
  // 1,000 changes a side, interleaved: the level arrays grow.
  const big = {
    type: "l2update",
    product_id: "BTC-USD",
    changes: Array.from(
      { length: 2000 },
      (_, i) => [i % 2 ? "sell" : "buy", `${i + 1}.5`, `${i}`],
    ),
    time: "2021-04-17T16:43:37.075687Z",
  };
  assert.ok(s.scan(JSON.stringify(big)));
  assertSame(s, big);
});

Deno.test("coinbase scan: odd frames are left to JSON.parse", () => {
  const s = new CoinbaseL2Scanner();
  const parser = coinbaseProAdapter.parser(new Map());
  const good =
    '{"type":"l2update","product_id":"BTC-USD","changes":[["buy","1.5","2"],["sell","3","0"]],"time":"2021-04-17T16:43:37.075687Z"}';
  assert.ok(s.scan(good));
  // An unknown product gives nothing to parse: nothing to scan either.
  assert.equal(parser.scanBook!(good, 1), null);
  assert.deepEqual(parser.parse(good, 1), []);
  const odd: [string, string][] = [
    ["whitespace", good.replace('"changes":', '"changes": ')],
    ["trailing newline", good + "\n"],
    ["escape in product", good.replace("BTC-USD", "BTC\\u002dUSD")],
    ["escape in time", good.replace("37.075687Z", "37.075687\\u005a")],
    ["not ASCII", good.replace("BTC-USD", "BTC-€")],
    ["extra key", good.replace('"time"', '"sequence":1,"time"')],
    ["duplicate key", good.replace('"time"', '"product_id":"X","time"')],
    ["duplicate type", good.replace('"time"', '"type":"l2update","time"')],
    ["other type", good.replace("l2update", "snapshot")],
    ["type prefix", good.replace('"l2update"', '"l2updates"')],
    ["key prefix", good.replace('"time"', '"times"')],
    ["unknown side", good.replace('"sell"', '"ask"')],
    ["side case", good.replace('"buy"', '"BUY"')],
    ["side prefix", good.replace('"buy"', '"buyer"')],
    ["extra change field", good.replace('"2"]', '"2","x"]')],
    ["short change", good.replace(',"2"]', "]")],
    ["number level", good.replace('"1.5"', "1.5")],
    ["changes not an array", good.replace(/\[\[.*\]\]/, "{}")],
    ["change not an array", good.replace('["buy","1.5","2"]', '"buy"')],
    ["zero price", good.replace('"1.5"', '"0"')],
    ["negative price", good.replace('"1.5"', '"-1.5"')],
    ["price beyond MAX_PRICE", good.replace('"1.5"', '"1e12"')],
    ["negative size", good.replace('"2"]', '"-2"]')],
    ["negative zero size", good.replace('"2"]', '"-0"]')],
    ["size beyond MAX_SIZE", good.replace('"2"]', '"1e21"]')],
    ["leading zero", good.replace('"1.5"', '"01.5"')],
    ["empty number", good.replace('"1.5"', '""')],
    ["time as number", good.replace(/"2021[^"]*"/, "1618677817075")],
    ["time as null", good.replace(/"2021[^"]*"/, "null")],
    ["product as number", good.replace('"BTC-USD"', "1")],
    ["missing changes", good.replace(/,"changes":\[\[.*\]\]/, "")],
    ["missing product", good.replace('"product_id":"BTC-USD",', "")],
    ["missing type", good.replace('"type":"l2update",', "")],
    ["truncated", good.slice(0, -1)],
    ["array", `[${good}]`],
    ["heartbeat", '{"type":"heartbeat","sequence":1,"product_id":"BTC-USD"}'],
    ["not JSON", "l2update"],
    ["empty", ""],
  ];
  for (const [what, frame] of odd) assert.equal(s.scan(frame), false, what);
  // And the scanner is not left in a state that breaks the next frame.
  assert.ok(s.scan(good));
  assert.equal(s.productId, "BTC-USD");
  assert.equal(s.asks.prices[0], 3);
});

/** A time's text: the fixed form with fields in and out of range, and others. */
const timeText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(
    fc.integer({ min: 0, max: 9999 }),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 25 }),
    fc.integer({ min: 0, max: 61 }),
    fc.integer({ min: 0, max: 61 }),
    fc.option(fc.stringMatching(/^[0-9]{0,12}$/)),
    fc.constantFrom("Z", "Z", "Z", "z", "", "+00:00", "-01:30"),
  ).map(([y, mo, d, h, mi, s, frac, zone]) => {
    const p = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}${
      frac === null ? "" : `.${frac}`
    }${zone}`;
  }),
  // Real instants of years 0–9999, with micro- or nanoseconds.
  fc.tuple(
    fc.integer({ min: -62167219200000, max: 253402300799999 }),
    fc.stringMatching(/^[0-9]{0,6}$/),
  ).map(([ms, more]) => new Date(ms).toISOString().replace("Z", `${more}Z`)),
);

Deno.test("coinbase scan: fuzzed times read as Date.parse reads them", () => {
  // Not ASCII (U+0132's low byte is "2"), or too long: Date.parse's.
  for (
    const t of [
      "2021-04-17T16:43:37.075687\uff3a",
      "2021-04-17T16:43:37.07568\u0132Z",
      "\u0132021-04-17T16:43:37Z",
      "2021-04-17T16:43:37.0756870000Z",
      "2021-04-17T16:43:37.075687000000000000000000Z",
    ]
  ) {
    const want = Date.parse(t);
    assert.equal(isoMs(t, -1), want > 0 ? want : -1, t);
  }
  // Characters an edit inserts or writes over.
  const edit = fc.constantFrom(...[..."0123456789-:.TZ +tz"]);
  fc.assert(
    fc.property(
      timeText,
      fc.array(fc.tuple(fc.nat(), fc.nat(2), edit), { maxLength: 2 }),
      (base, edits) => {
        let t = base;
        for (const [at, op, ch] of edits) {
          const i = at % (t.length + 1);
          t = op === 0
            ? t.slice(0, i) + ch + t.slice(i)
            : op === 1
            ? t.slice(0, i) + t.slice(i + 1)
            : t.slice(0, i) + ch + t.slice(i + 1);
        }
        const want = Date.parse(t);
        const frame = `{"time":"${t}"}`;
        const bytes = encoder.encode(frame);
        assert.ok(Object.is(isoTimeMs(frame, bytes, 9, 9 + t.length), want), t);
        assert.equal(isoMs(t, -1), want > 0 ? want : -1, t);
      },
    ),
    { numRuns: 20_000 },
  );
});

Deno.test("coinbase scan: fuzzed changes equal parseFloat, or the frame is refused", () => {
  const s = new CoinbaseL2Scanner();
  const parser = coinbaseProAdapter.parser(anyInstrument("coinbase", "spot"));
  const change = fc.tuple(
    fc.constantFrom("buy", "sell", "buy", "sell", "bid"),
    levelToken,
    levelToken,
  );
  fc.assert(
    fc.property(
      fc.array(change, { maxLength: 40 }),
      timeText,
      (changes, time) => {
        const msg = { type: "l2update", product_id: "BTC-USD", changes, time };
        const frame = JSON.stringify(msg);
        const ok = levelsInRange(changes.map((c) => c.slice(1))) &&
          changes.every((c) => c[0] !== "bid");
        assert.equal(s.scan(frame), ok, frame);
        if (!ok) return;
        assertSame(s, msg);
        const [ev] = parser.parse(frame, 7);
        assert.ok(ev.type === "book_delta");
        assertSameLevels(ev, s);
        assert.equal(parser.scanBook!(frame, 7)!.exchangeTs, ev.exchangeTs);
      },
    ),
    { numRuns: 2_000 },
  );
});

Deno.test("coinbase scan: a mutated real frame is refused, or read exactly as JSON.parse reads it", async () => {
  const frames = (await capturedTexts(CAPTURE)).filter((f) =>
    l2update(f) !== undefined
  );
  const s = new CoinbaseL2Scanner();
  const alphabet = [...'0123456789.-+eE"[]{},:\\ TZbuysel'];
  const recognised = checkMutants(s, frames, {
    alphabet,
    numRuns: 5_000,
    check: (f) => {
      const msg = l2update(f);
      assert.ok(msg !== undefined, `recognised a non-l2update frame: ${f}`);
      assertSame(s, msg, f);
    },
  });
  // Edits within a level's digits or the time leave a frame readable.
  assert.ok(recognised > 250, `only ${recognised} mutants recognised`);
});
