import assert from "node:assert/strict";
import fc from "fast-check";
import type { BookDelta } from "../market/events.ts";
import { KrakenBookScanner } from "./kraken_scan.ts";
import { krakenV1Adapter } from "./kraken_v1.ts";
import type { ScannedTextSide } from "./_scan.ts";
import { krakenSeconds } from "./_kraken.ts";
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

/** The Kraken capture's WebSocket files: trades, ticker, books. */
const CAPTURE_FILES = ["KRAKEN.ws.48.0", "KRAKEN.ws.49.0", "KRAKEN.ws.50.0"];

/** Every Kraken v1 frame the shared data holds, by source. */
async function krakenFrames(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const f of CAPTURE_FILES) out.set(f, await capturedTexts(f));
  out.set("tardis kraken", await tardisInputs("kraken"));
  return out;
}

/**
 * `krakenSeconds` as it was written before its fast path: the reference
 * it must equal on every string.
 */
function referenceSeconds(s: string): number {
  const dot = s.indexOf(".");
  if (dot < 0) return /^\d+$/.test(s) ? +s * 1000 : NaN;
  const frac = s.slice(dot + 1);
  if (!/^\d+$/.test(frac)) return NaN;
  const whole = s.slice(0, dot);
  if (!/^\d+$/.test(whole)) return NaN;
  return +whole * 1000 + +(frac + "00").slice(0, 3);
}

/** A v1 book update as JSON.parse reads it: its update objects. */
interface Update {
  pair: string;
  objects: Record<string, any>[];
}

/**
 * A frame as JSON.parse reads it when it is a v1 book update the scanner
 * must read: `[id, {a|b|c…}…, "book…", pair]`, a number id, objects with
 * `a`, `b`, `c` only (one at least), no `as`/`bs`; otherwise undefined.
 */
function updateFrame(frame: string): Update | undefined {
  const msg = readJson(frame);
  if (!Array.isArray(msg) || msg.length < 4) return undefined;
  const n = msg.length;
  const objects = msg.slice(1, n - 2);
  const ok = typeof msg[0] === "number" && typeof msg[n - 2] === "string" &&
    msg[n - 2].startsWith("book") && typeof msg[n - 1] === "string" &&
    objects.every((o) =>
      o !== null && typeof o === "object" && !Array.isArray(o) &&
      Object.keys(o).length > 0 &&
      Object.keys(o).every((k) => k === "a" || k === "b" || k === "c")
    );
  return ok ? { pair: msg[n - 1], objects } : undefined;
}

/** The side's levels of every object, in order. */
function levelsOf(u: Update, key: "a" | "b"): string[][] {
  return u.objects.flatMap((o) => o[key] ?? []);
}

/**
 * Asserts a side equals `parseFloat` of every string, strings kept (the
 * first `count`: the string arrays are not shortened).
 */
function assertSide(side: ScannedTextSide, raw: string[][], what: string) {
  assertScannedSide(side, raw, what);
  for (let i = 0; i < raw.length; i++) {
    assert.equal(side.priceText[i], raw[i][0], `${what}[${i}] price text`);
    assert.equal(side.sizeText[i], raw[i][1], `${what}[${i}] size text`);
  }
}

/** Asserts the scanner's fields equal JSON.parse's reading of `u`. */
function assertSame(s: KrakenBookScanner, u: Update, what = "") {
  assert.equal(s.pair, u.pair, `${what} pair`);
  const asks = levelsOf(u, "a");
  const bids = levelsOf(u, "b");
  assertSide(s.asks, asks, `${what} asks`);
  assertSide(s.bids, bids, `${what} bids`);
  const times = [...asks, ...bids].map((l) => referenceSeconds(l[2]));
  assert.equal(s.ts, Math.max(0, ...times), `${what} ts`);
  const c = u.objects.findLast((o) => o.c !== undefined)?.c;
  assert.ok(Object.is(s.checksum, c === undefined ? NaN : +c + 0), what);
}

Deno.test("kraken scan: every compact book update of the capture and tardis equals JSON.parse and the v1 adapter; the rest is refused", async () => {
  const s = new KrakenBookScanner();
  const parser = krakenV1Adapter.parser(anyInstrument("kraken", "spot"));
  const read = new Map<string, number>();
  const levels = scanSources(s, await krakenFrames(), (frame, ok, source) => {
    const u = updateFrame(frame);
    const compact = u !== undefined &&
      JSON.stringify(readJson(frame)) === frame;
    assert.equal(ok, compact, `${source}: ${frame.slice(0, 120)}`);
    if (!ok) {
      // No update is left to JSON.parse: those frames give no delta.
      let events: { type: string }[] = [];
      try {
        events = parser.parse(frame, 7);
      } catch { /* refused by both */ }
      assert.ok(!events.some((e) => e.type === "book_delta"), frame);
      return;
    }
    read.set(source, (read.get(source) ?? 0) + 1);
    assertSame(s, u!, source);
    // The adapter's reading: the same levels, strings, time and checksum.
    const events = parser.parse(frame, 7);
    assert.equal(events.length, 1);
    const ev = events[0] as BookDelta;
    assert.equal(ev.type, "book_delta");
    assertSameLevels(ev, s);
    for (const side of ["bids", "asks"] as const) {
      const raw: string[] = [];
      for (let i = 0; i < s[side].count; i++) {
        raw.push(s[side].priceText[i], s[side].sizeText[i]);
      }
      assert.deepEqual(raw, ev.raw?.[side]);
    }
    assert.equal(s.ts || 7, ev.exchangeTs);
    assert.equal(
      s.checksum === s.checksum ? s.checksum : undefined,
      ev.checksum,
    );
  });
  // Every update of the book connection (all but its 10 snapshots, events
  // and heartbeats), and the tardis v1 updates.
  assert.equal(read.get("KRAKEN.ws.50.0"), 4_269);
  assert.equal(read.get("tardis kraken"), 3);
  assert.ok(levels > 4_000, `only ${levels} levels checked`);
});

Deno.test("kraken scan: krakenSeconds equals its reference on every timestamp of the capture and on fuzzed strings", async () => {
  let checked = 0;
  for (const frames of (await krakenFrames()).values()) {
    for (const frame of frames) {
      const msg = readJson(frame);
      if (!Array.isArray(msg)) continue;
      // Book levels of snapshots and updates, and trades: [p, v, time, …].
      const levels = msg.slice(1, -2).flatMap((o) =>
        Array.isArray(o)
          ? o
          : o !== null && typeof o === "object"
          ? Object.values(o).filter(Array.isArray).flat()
          : []
      );
      for (const l of levels) {
        if (!Array.isArray(l) || typeof l[2] !== "string") continue;
        assert.equal(krakenSeconds(l[2]), referenceSeconds(l[2]), l[2]);
        checked++;
      }
    }
  }
  assert.ok(checked > 10_000, `only ${checked} timestamps checked`);
  const spelling = fc.oneof(
    fc.stringMatching(/^[0-9]{0,25}(\.[0-9]{0,8})?$/),
    fc.stringMatching(/^[0-9.eE+ x-]{0,12}$/),
    fc.double({ min: 0, max: 1e20, noNaN: true }).map(String),
  );
  fc.assert(
    fc.property(spelling, (t) => {
      assert.ok(Object.is(krakenSeconds(t), referenceSeconds(t)), t);
    }),
    { numRuns: 5_000 },
  );
});

/** A one-update frame of `pair` with the given update objects. */
function frameOf(objects: object[], pair = "XBT/USD"): string {
  return JSON.stringify([42, ...objects, "book-1000", pair]);
}

Deno.test("kraken scan: odd frames are left to JSON.parse; republished levels and split sides are read", () => {
  const good = frameOf([{
    a: [["5541.30000", "2.50700000", "1534614248.123678"]],
    b: [["5541.20000", "1.52900000", "1534614248.765567"]],
    c: "974942666",
  }]);
  const s = new KrakenBookScanner();
  assert.ok(s.scan(good));
  assert.equal(s.ts, 1534614248765);
  assert.equal(s.checksum, 974942666);
  const republish = good.replace('248.123678"]', '248.123678","r"]');
  assert.ok(s.scan(republish));
  assert.deepEqual(s.asks.priceText, ["5541.30000"]);
  // One object per side, the checksum in the last; a side over two objects.
  const split = frameOf([
    { a: [["1.5", "2", "1.1"]] },
    { a: [["1.6", "0", "1.2"]], b: [["1.4", "3", "1.3"]], c: "4294967295" },
  ]);
  assert.ok(s.scan(split));
  assert.deepEqual(s.asks.priceText, ["1.5", "1.6"]);
  assert.deepEqual(s.asks.sizeText, ["2", "0"]);
  assert.deepEqual([...s.asks.prices.subarray(0, 2)], [1.5, 1.6]);
  assert.deepEqual([s.bids.count, s.ts, s.checksum], [1, 1300, 4294967295]);
  // A channel id names the pair it last read only when the text agrees.
  assert.ok(s.scan(good.replace("XBT/USD", "XBT/EUR")));
  assert.equal(s.pair, "XBT/EUR");
  assert.ok(s.scan(good)); // the split frame's strings are overwritten
  assert.deepEqual(s.asks.priceText.slice(0, s.asks.count), ["5541.30000"]);
  assert.equal(s.pair, "XBT/USD");
  const odd: [string, string][] = [
    ["whitespace", good.replace(',"c"', ', "c"')],
    [
      "snapshot",
      frameOf([{ as: [["1", "1", "1.1"]], bs: [["0.5", "1", "1.1"]] }]),
    ],
    ["snapshot with a null", good.replace(',"book', ',null,"book')],
    ["other channel", good.replace('"book-1000"', '"spread"')],
    ["trade", '[1,[["1.5","2","1.1","b","l",""]],"trade","XBT/USD"]'],
    ["heartbeat", '{"event":"heartbeat"}'],
    ["no update object", '[42,"book-1000","XBT/USD"]'],
    ["empty object", frameOf([{}])],
    ["other key", good.replace('"c":', '"d":')],
    ["duplicate key", good.replace('"c":"974942666"', '"a":[],"c":"1"')],
    ["string channel id", good.replace("[42,", '["42",')],
    ["escape in pair", good.replace("XBT/USD", "XBT\\/USD")],
    ["negative size", good.replace('"2.50700000"', '"-2.5"')],
    ["size -0", good.replace('"2.50700000"', '"-0"')],
    ["zero price", good.replace('"5541.30000"', '"0"')],
    ["number price", good.replace('"5541.30000"', "5541.3")],
    ["other flag", republish.replace('"r"]', '"x"]')],
    ["two levels flags", republish.replace('"r"]', '"r","r"]')],
    ["timestamp with exponent", good.replace("248.123678", "248.1e3")],
    ["timestamp without fraction digits", good.replace("248.123678", "248.")],
    [
      "timestamp of 16 whole digits",
      good.replace("1534614248.1", "1534614248000000.1"),
    ],
    ["timestamp at the epoch", good.replace("1534614248.765567", "0.0001")],
    ["checksum as number", good.replace('"974942666"', "974942666")],
    ["checksum beyond 32 bits", good.replace("974942666", "4294967296")],
    ["fractional checksum", good.replace("974942666", "9.5")],
    ["checksum with a leading zero", good.replace("974942666", "0974942666")],
    ["signed checksum", good.replace("974942666", "-974942666")],
    ["trailing text", good + " "],
    ["non-ASCII pair", good.replace("XBT/USD", "XBT/€")],
  ];
  for (const [what, frame] of odd) assert.equal(s.scan(frame), false, what);
});

/** Timestamps: mostly the capture's shape, then short fractions, none, odd ones. */
const timeToken: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.integer({ min: 1_500_000_000, max: 1_900_000_000 }).chain((
      w,
    ) => fc.stringMatching(/^[0-9]{1,7}$/).map((f) => `${w}.${f}`)),
    weight: 6,
  },
  { arbitrary: fc.stringMatching(/^[0-9]{1,17}(\.[0-9]{0,4})?$/), weight: 1 },
  { arbitrary: fc.stringMatching(/^[0-9.eE+-]{0,6}$/), weight: 1 },
);

/** A price or volume string: mostly one in range, then any number text. */
const amount: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: levelToken.filter((t) => levelsInRange([[t, t]])), weight: 6 },
  { arbitrary: levelToken, weight: 1 },
);

Deno.test("kraken scan: fuzzed levels and timestamps equal parseFloat and krakenSeconds and are kept as sent, or the frame is refused", () => {
  const s = new KrakenBookScanner();
  let read = 0;
  const level = fc.tuple(amount, amount, timeToken, fc.boolean())
    .map(([p, q, t, r]) => r ? [p, q, t, "r"] : [p, q, t]);
  fc.assert(
    fc.property(
      fc.array(level, { maxLength: 8 }),
      fc.array(level, { maxLength: 8 }),
      fc.boolean(),
      (asks, bids, split) => {
        const c = "3880319150";
        const objects = split ? [{ a: asks }, { b: bids, c }] : [{
          a: asks,
          b: bids,
          c,
        }];
        const u: Update = { pair: "XMR/USD", objects };
        const frame = frameOf(objects, u.pair);
        const all = [...asks, ...bids];
        // Whole seconds of at most 15 digits, as the scanner reads them.
        const times = all.every((l) =>
          referenceSeconds(l[2]) > 0 && /^[0-9]{1,15}(\.|$)/.test(l[2])
        );
        const ok = levelsInRange(all) && times;
        assert.equal(s.scan(frame), ok, frame);
        if (ok) {
          assertSame(s, u, frame);
          read++;
        }
      },
    ),
    { numRuns: 1_000 },
  );
  assert.ok(read > 100, `only ${read} fuzzed frames read`);
});

Deno.test("kraken scan: a mutated real frame is refused, or read exactly as JSON.parse reads it", async () => {
  const frames = (await capturedTexts("KRAKEN.ws.50.0")).filter((f) =>
    updateFrame(f) !== undefined
  );
  const s = new KrakenBookScanner();
  const alphabet = [...'0123456789.-+eE"[]{},:\\ abcsr'];
  const recognised = checkMutants(s, frames, {
    alphabet,
    numRuns: 3_000,
    check: (f) => {
      const u = updateFrame(f);
      assert.ok(u !== undefined, `recognised a non-update frame: ${f}`);
      assertSame(s, u, f);
    },
  });
  assert.ok(recognised > 100, `only ${recognised} mutants recognised`);
});
