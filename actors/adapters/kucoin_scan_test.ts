import assert from "node:assert/strict";
import fc from "fast-check";
import { kucoinAdapter } from "./kucoin.ts";
import { KucoinL2Scanner } from "./kucoin_scan.ts";
import { sequenceValue, timeValue } from "./_common.ts";
import {
  anyInstrument,
  assertDeltaIs,
  assertScannedSide,
  checkMutants,
  levelsInRange,
  levelToken,
  readJson,
  scanSources,
} from "./_scan_testing.ts";
import { capturedTexts, tardisInputs } from "./_testing.ts";

const CAPTURE = "KUCOIN.ws.1.0";
const RECV = 1_700_000_000_000;

/** Every KuCoin frame the shared data holds, by source. */
async function kucoinFrames(): Promise<Map<string, string[]>> {
  return new Map([
    [CAPTURE, await capturedTexts(CAPTURE)],
    // tardis-node's recording: `type` first, and a 2023 frame with `time`.
    ["tardis kucoin", await tardisInputs("kucoin")],
  ]);
}

/** The frame as JSON.parse reads it when it is an l2update, or undefined. */
function l2update(frame: string): Record<string, any> | undefined {
  const msg = readJson(frame);
  return msg?.type === "message" && msg.subject === "trade.l2update" &&
      !Array.isArray(msg)
    ? msg
    : undefined;
}

/**
 * Asserts the scanner's fields equal JSON.parse's reading of `msg`: its
 * symbol, sequences, time, and each side's changes but the placeholder
 * price "0", in order.
 */
function assertSame(s: KucoinL2Scanner, msg: Record<string, any>, what = "") {
  const d = msg.data;
  assert.equal(s.symbol, d.symbol, `${what} symbol`);
  assert.equal(s.first, sequenceValue(d.sequenceStart), `${what} start`);
  assert.equal(s.last, sequenceValue(d.sequenceEnd), `${what} end`);
  const time = "time" in d ? d.time : NaN;
  assert.ok(Object.is(s.time, time), `${what} time ${d.time}: ${s.time}`);
  for (const name of ["bids", "asks"] as const) {
    const changes = d.changes[name] as string[][];
    for (const c of changes) assert.equal(c.length, 3, `${what} change ${c}`);
    assertScannedSide(
      s[name],
      changes.filter((c) => c[0] !== "0"),
      `${what} ${name}`,
    );
  }
}

/**
 * Asserts `scanBook` gives what `parse` gives for a frame the scanner read:
 * one `book_delta` with the same instrument, times, sequences and levels.
 */
function assertSameDelta(frame: string, recvTs: number, what = "") {
  const parser = kucoinAdapter.parser(anyInstrument("kucoin", "spot"));
  const events = parser.parse(frame, recvTs);
  assert.equal(events.length, 1, what);
  const d = parser.scanBook!(frame, recvTs);
  assert.ok(d !== null, what);
  assertDeltaIs(d, events[0], what);
}

Deno.test("kucoin scan: every l2update of the shared KuCoin frames equals parseFloat and the adapter's delta", async () => {
  const s = new KucoinL2Scanner();
  let frames = 0;
  let placeholders = 0;
  const levels = scanSources(s, await kucoinFrames(), (frame, ok, source) => {
    const msg = l2update(frame);
    // Every real l2update is recognised; nothing else is.
    assert.equal(ok, msg !== undefined, `${source}: ${frame.slice(0, 120)}`);
    if (!ok) return;
    frames++;
    assertSame(s, msg!, source);
    for (const c of [...msg!.data.changes.bids, ...msg!.data.changes.asks]) {
      if (c[0] === "0") placeholders++;
    }
    assertSameDelta(frame, RECV, `${source}: ${frame.slice(0, 120)}`);
  });
  // 3,853 in the capture, 8 in tardis-node's sample.
  assert.equal(frames, 3_861);
  assert.ok(levels > 2_000, `only ${levels} levels checked`);
  assert.ok(placeholders > 1_000, `only ${placeholders} placeholders`);
});

Deno.test("kucoin scan: the 2023 frame's time is exchangeTs; without one, the receive time", async () => {
  const timed = (await tardisInputs("kucoin")).find((f) =>
    l2update(f)?.data.time !== undefined
  )!;
  const parser = kucoinAdapter.parser(anyInstrument("kucoin", "spot"));
  assert.equal(parser.scanBook!(timed, 42)!.exchangeTs, 1685578980002);
  // Its sequenceStart is sequenceEnd + 1: an empty range, still a delta.
  const d = parser.scanBook!(timed, 42)!;
  assert.equal(d.first, d.last + 1);
  const untimed = timed.replace(/,"time":[0-9]+/, "");
  assert.equal(parser.scanBook!(untimed, 42)!.exchangeTs, 42);
  // Times timeValue refuses fall back to the receive time, as parse does.
  for (const t of ["0", "-5", "1e400", "253402300800000", "1.5", "-0"]) {
    const f = timed.replace(/"time":[0-9]+/, `"time":${t}`);
    assert.equal(parser.scanBook!(f, 42)!.exchangeTs, timeValue(+t, 42), t);
    assertSameDelta(f, 42, f);
  }
});

Deno.test("kucoin scan: any key order, no time or topic, empty and big changes", async () => {
  const frames = (await capturedTexts(CAPTURE)).filter((f) =>
    l2update(f) !== undefined
  );
  const s = new KucoinL2Scanner();
  /** The orders of `keys`. */
  const orders = (keys: string[]): string[][] =>
    keys.length <= 1
      ? [keys]
      : keys.flatMap((k, i) =>
        orders([...keys.slice(0, i), ...keys.slice(i + 1)]).map((
          o,
        ) => [k, ...o])
      );
  const outer = orders(["data", "subject", "topic", "type"]);
  const inner = orders(["sequenceStart", "symbol", "changes", "sequenceEnd"]);
  assert.equal(outer.length, 24);
  const pick = (o: Record<string, any>, keys: string[]) =>
    Object.fromEntries(keys.map((k) => [k, o[k]]));
  for (const frame of frames.slice(0, 100)) {
    const msg = l2update(frame)!;
    for (let k = 0; k < 24; k++) {
      const sides = k % 2 ? ["bids", "asks"] : ["asks", "bids"];
      const m = pick(msg, outer[k]);
      m.data = {
        ...pick(msg.data, inner[k]),
        changes: pick(msg.data.changes, sides),
      };
      const f = JSON.stringify(m);
      assert.ok(s.scan(f), f);
      assertSame(s, m, f);
      assertSameDelta(f, RECV, f);
    }
    // Without a topic; with a time.
    const { topic: _, ...untopical } = msg;
    const timed = { ...untopical, data: { ...msg.data, time: 1685578980002 } };
    for (const m of [untopical, timed]) {
      const f = JSON.stringify(m);
      assert.ok(s.scan(f), f);
      assertSame(s, m, f);
      assertSameDelta(f, RECV, f);
    }
  }
  // No changes at all: an empty delta, as parse gives it.
  const empty = frames[0].replace(
    /"changes":\{.*?\}/,
    '"changes":{"asks":[],"bids":[]}',
  );
  assert.ok(s.scan(empty));
  assertSame(s, JSON.parse(empty));
  assertSameDelta(empty, RECV);
  // Only placeholders: an empty delta too.
  const zeros = frames[0].replace(
    /"changes":\{.*?\}/,
    '"changes":{"asks":[["0","0","1"],["0","5","2"]],"bids":[["0","","x"]]}',
  );
  assert.ok(s.scan(zeros));
  assert.equal(s.asks.count + s.bids.count, 0);
  assertSameDelta(zeros, RECV);
  // 1,000 changes a side, every third a placeholder: the level arrays grow.
  const change = (i: number) => [i % 3 ? `${i}.5` : "0", `${i}`, `${i + 7}`];
  const big = {
    data: {
      sequenceStart: 1,
      symbol: "BTC-USDT",
      changes: {
        asks: Array.from({ length: 1000 }, (_, i) => change(i)),
        bids: Array.from({ length: 1000 }, (_, i) => change(i + 1)),
      },
      sequenceEnd: 2000,
    },
    subject: "trade.l2update",
    topic: "/market/level2:BTC-USDT",
    type: "message",
  };
  assert.ok(s.scan(JSON.stringify(big)));
  assertSame(s, big);
  assert.equal(s.asks.count, 666);
  assertSameDelta(JSON.stringify(big), RECV);
});

Deno.test("kucoin scan: odd frames are left to JSON.parse", () => {
  const s = new KucoinL2Scanner();
  const parser = kucoinAdapter.parser(new Map());
  const good =
    '{"data":{"sequenceStart":5,"symbol":"BTC-USDT","changes":{"asks":[["1.5","2","5"]],"bids":[["0","0","6"],["3","0","6"]]},"sequenceEnd":6,"time":1685578980002},"subject":"trade.l2update","topic":"/market/level2:BTC-USDT","type":"message"}';
  assert.ok(s.scan(good));
  // An unknown symbol gives nothing to parse: nothing to scan either.
  assert.equal(parser.scanBook!(good, 1), null);
  assert.deepEqual(parser.parse(good, 1), []);
  const odd: [string, string][] = [
    ["whitespace", good.replace('"changes":', '"changes": ')],
    ["trailing newline", good + "\n"],
    ["escape in symbol", good.replace("BTC-USDT", "BTC\\u002dUSDT")],
    ["escape in topic", good.replace("/market/", "\\/market/")],
    [
      "escape in placeholder",
      good.replace('["0","0","6"]', '["0","\\u0030","6"]'),
    ],
    ["escape in change sequence", good.replace('"2","5"]', '"2","\\u0035"]')],
    ["not ASCII", good.replace("BTC-USDT", "BTC-€")],
    ["extra key", good.replace('"type"', '"id":1,"type"')],
    ["extra data key", good.replace('"time"', '"sequence":1,"time"')],
    ["extra changes key", good.replace('"bids"', '"x":[],"bids"')],
    ["duplicate key", good.replace('"type"', '"subject":"x","type"')],
    ["duplicate data key", good.replace('"time"', '"symbol":"X","time"')],
    ["duplicate side", good.replace('"bids"', '"asks":[],"bids"')],
    ["other type", good.replace('"message"', '"ack"')],
    ["other subject", good.replace("trade.l2update", "trade.l3match")],
    ["subject prefix", good.replace('"trade.l2update"', '"trade.l2updates"')],
    ["key prefix", good.replace('"time"', '"times"')],
    [
      "sequence as string",
      good.replace('"sequenceStart":5', '"sequenceStart":"5"'),
    ],
    [
      "fractional sequence",
      good.replace('"sequenceEnd":6', '"sequenceEnd":6.5'),
    ],
    [
      "negative sequence",
      good.replace('"sequenceStart":5', '"sequenceStart":-5'),
    ],
    [
      "unsafe sequence",
      good.replace('"sequenceEnd":6', '"sequenceEnd":9007199254740992'),
    ],
    [
      "start past end + 1",
      good.replace('"sequenceStart":5', '"sequenceStart":8'),
    ],
    ["time as string", good.replace("1685578980002", '"1685578980002"')],
    ["time as null", good.replace("1685578980002", "null")],
    ["symbol as number", good.replace('"BTC-USDT"', "1")],
    ["topic as number", good.replace('"/market/level2:BTC-USDT"', "1")],
    ["short change", good.replace(',"5"]', "]")],
    ["long change", good.replace(',"5"]', ',"5","x"]')],
    ["short placeholder", good.replace('["0","0","6"]', '["0"]')],
    ["number placeholder size", good.replace('["0","0","6"]', '["0",0,"6"]')],
    ["number level", good.replace('"1.5"', "1.5")],
    ["number change sequence", good.replace('"2","5"]', '"2",5]')],
    ["changes not an object", good.replace(/\{"asks".*?\]\]\}/, "[]")],
    [
      "side not an array",
      good.replace('"bids":[', '"bids":{"a":[').replace(
        ']]},"seq',
        ']]}},"seq',
      ),
    ],
    ["missing side", good.replace(/,"bids":\[.*?\]\]/, "")],
    [
      "zero price spelled 0.0",
      good.replace('["0","0","6"]', '["0.0","0","6"]'),
    ],
    ["negative price", good.replace('"1.5"', '"-1.5"')],
    ["price beyond MAX_PRICE", good.replace('"1.5"', '"1e12"')],
    ["negative size", good.replace('"2","5"]', '"-2","5"]')],
    ["negative zero size", good.replace('"2","5"]', '"-0","5"]')],
    ["size beyond MAX_SIZE", good.replace('"2","5"]', '"1e21","5"]')],
    ["leading zero", good.replace('"1.5"', '"01.5"')],
    ["empty number", good.replace('"1.5"', '""')],
    ["missing changes", good.replace(/"changes":\{.*?\]\]\},/, "")],
    ["missing symbol", good.replace('"symbol":"BTC-USDT",', "")],
    ["missing sequenceEnd", good.replace('"sequenceEnd":6,', "")],
    ["missing data", good.replace(/^\{"data":\{.*?\},"subject"/, '{"subject"')],
    ["missing subject", good.replace('"subject":"trade.l2update",', "")],
    ["missing type", good.replace(',"type":"message"', "")],
    [
      "data not an object",
      good.replace(/^\{"data":\{.*?\},"subject"/, '{"data":[],"subject"'),
    ],
    ["truncated", good.slice(0, -1)],
    ["array", `[${good}]`],
    ["pong", '{"id":"ping","type":"pong"}'],
    ["not JSON", "trade.l2update"],
    ["empty", ""],
  ];
  for (const [what, frame] of odd) {
    assert.notEqual(frame, good, `${what}: the edit applies`);
    assert.equal(s.scan(frame), false, what);
  }
  // And the scanner is not left in a state that breaks the next frame.
  assert.ok(s.scan(good));
  assert.equal(s.symbol, "BTC-USDT");
  assert.equal(s.bids.count, 1);
  assert.equal(s.bids.prices[0], 3);
  assert.equal(s.asks.prices[0], 1.5);
});

Deno.test("kucoin scan: fuzzed changes equal parseFloat, or the frame is refused", () => {
  const s = new KucoinL2Scanner();
  const change = fc.tuple(
    fc.oneof(levelToken, fc.constant("0")),
    levelToken,
    fc.stringMatching(/^[0-9]{0,14}$/),
  );
  fc.assert(
    fc.property(
      fc.array(change, { maxLength: 20 }),
      fc.array(change, { maxLength: 20 }),
      fc.nat(Number.MAX_SAFE_INTEGER),
      fc.integer({ min: -2, max: 3 }),
      fc.option(fc.double(), { nil: undefined }),
      (asks, bids, start, span, time) => {
        const data: Record<string, unknown> = {
          sequenceStart: start,
          symbol: "BTC-USDT",
          changes: { asks, bids },
          sequenceEnd: start + span,
        };
        if (time !== undefined) data.time = time;
        const msg = { data, subject: "trade.l2update", type: "message" };
        const frame = JSON.stringify(msg);
        const real = [...asks, ...bids].filter((c) => c[0] !== "0");
        const ok = levelsInRange(real) && span >= -1 && start + span >= 0 &&
          Number.isSafeInteger(start + span) &&
          (time === undefined || Number.isFinite(time));
        assert.equal(s.scan(frame), ok, frame);
        if (!ok) return;
        assertSame(s, JSON.parse(frame));
        assertSameDelta(frame, 7, frame);
      },
    ),
    { numRuns: 3_000 },
  );
});

Deno.test("kucoin scan: a mutated real frame is refused, or read exactly as JSON.parse reads it", async () => {
  const frames = (await capturedTexts(CAPTURE)).filter((f) =>
    l2update(f) !== undefined
  );
  const s = new KucoinL2Scanner();
  const alphabet = [...'0123456789.-+eE"[]{},:\\ abdkst'];
  const recognised = checkMutants(s, frames, {
    alphabet,
    numRuns: 5_000,
    check: (f) => {
      const msg = l2update(f);
      assert.ok(msg !== undefined, `recognised a non-l2update frame: ${f}`);
      assertSame(s, msg, f);
      const parsed = kucoinAdapter.parser(anyInstrument("kucoin", "spot"))
        .parse(f, RECV);
      assert.equal(parsed.length, 1, f);
      assertSameDelta(f, RECV, f);
    },
  });
  // Edits within a level's digits or a sequence leave a frame readable.
  assert.ok(recognised > 250, `only ${recognised} mutants recognised`);
});
