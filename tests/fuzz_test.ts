/**
 * The fuzz at CI size: every adapter version gets a few thousand mutated
 * real frames (truncations, byte flips, number edge cases, dropped,
 * duplicated and reordered frames, late and stale REST snapshots) with its
 * book keeper behind it, under a fixed fast-check seed (`FUZZ_SEED` picks
 * another). `deno task fuzz 1000000` runs the same properties at a million
 * frames per version. The last tests show the harness failing on broken
 * adapters, so a green run means something.
 */

import assert from "node:assert/strict";
import type { Adapter, Parser } from "../actors/adapters/adapter.ts";
import type { MarketEvent } from "../actors/market/events.ts";
import { type Corpus, loadCorpora } from "./fuzz/corpus.ts";
import { FuzzFailure, runStream } from "./fuzz/harness.ts";
import type { Fed } from "./fuzz/mutate.ts";
import { fuzzCorpus } from "./fuzz/run.ts";

/** Frames per adapter version in CI. */
const FRAMES = 5000;
/** Longest run in CI, frames. */
const MAX_LENGTH = 3000;
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 7);

const corpora = await loadCorpora();

Deno.test("fuzz: every adapter version has a corpus of real frames", () => {
  assert.equal(corpora.length, 22);
  for (const c of corpora) {
    assert.ok(c.frames.length > 0, c.name);
    assert.ok(c.instruments.length > 0, c.name);
  }
});

for (const corpus of corpora) {
  Deno.test(`fuzz: ${corpus.name}: ${FRAMES} mutated frames, no crash, no NaN, every rejection counted, synced books equal their rebuild`, () => {
    const r = fuzzCorpus(corpus, {
      frames: FRAMES,
      seed: SEED,
      maxLength: MAX_LENGTH,
    });
    const s = r.stats;
    assert.ok(s.frames >= FRAMES, `${s.frames} frames`);
    assert.ok(s.mutated > 0, "nothing mutated");
    // Every frame fed was read or rejected, and each rejection counted once.
    assert.equal(
      s.accepted + s.malformed + s.resyncErrors + s.venueErrors,
      s.frames,
    );
    assert.ok(s.malformed > 0, "no frame rejected");
    assert.equal(s.unattributed, 0, "book frames rejected without a symbol");
  });
}

// ---- the harness catches broken adapters ----

const binance = corpora.find((c) => c.name.startsWith("binance (BINANCE"))!;

/** The corpus, read by `adapter` instead. */
function withAdapter(corpus: Corpus, adapter: Adapter): Corpus {
  return { ...corpus, adapter };
}

/** An adapter whose parser first rewrites each text frame with `edit`. */
function editing(base: Adapter, edit: (frame: string) => string): Adapter {
  return {
    ...base,
    parser: (table): Parser => {
      const p = base.parser(table);
      return {
        parse: (frame, recvTs) =>
          p.parse(typeof frame === "string" ? edit(frame) : frame, recvTs),
      };
    },
  };
}

/** The corpus up to its first depth update, with one level size replaced. */
function streamWithSize(
  corpus: Corpus,
  literal: string,
): { fed: Fed[]; symbol: string } {
  const k = corpus.frames.findIndex((f) =>
    typeof f.data === "string" && f.data.includes('"e":"depthUpdate"') &&
    /"b":\[\["/.test(f.data)
  );
  const frame = corpus.frames[k].data as string;
  const m = /"b":\[\["[^"]+","([^"]+)"/.exec(frame)!;
  // The opening quote of the size.
  const at = m.index + m[0].length - m[1].length - 2;
  const data = frame.slice(0, at) + literal +
    frame.slice(at + m[1].length + 2);
  const fed: Fed[] = corpus.frames.slice(0, k).map((f, i) => ({
    data: f.data,
    origin: i,
    ts: f.ts,
    mutated: false,
  }));
  fed.push({
    data,
    origin: k,
    ts: corpus.frames[k].ts,
    mutated: true,
    spliced: literal,
    strict: literal,
  });
  return { fed, symbol: JSON.parse(frame).data.s };
}

Deno.test('fuzz harness: a parser that reads a size of "" as 0 (the old Binance one) fails the strict property', () => {
  // The frame as captured, its first bid size replaced by "": the old
  // parser's `+""` is 0, a delete of a real level.
  const { fed } = streamWithSize(binance, '""');
  assert.doesNotThrow(() => runStream(binance, fed));
  const old = withAdapter(
    binance,
    editing(binance.adapter, (f) => f.replaceAll('""', '"0"')),
  );
  assert.throws(
    () => runStream(old, fed),
    (e: unknown) =>
      e instanceof FuzzFailure &&
      /with "" spliced in parsed to other prices or sizes/.test(e.message),
  );
});

Deno.test("fuzz harness: an event with a negative size fails the sanity property", () => {
  const { fed } = streamWithSize(binance, '"5"');
  // A parser that lets a negative size through (as the old Binance one did
  // for "-5").
  const negating: Adapter = {
    ...binance.adapter,
    parser: (table): Parser => {
      const p = binance.adapter.parser(table);
      return {
        parse: (frame, recvTs) =>
          p.parse(frame, recvTs).map((e: MarketEvent) =>
            e.type === "book_delta" && e.bids.length
              ? { ...e, bids: [e.bids[0], -e.bids[1], ...e.bids.slice(2)] }
              : e
          ),
      };
    },
  };
  assert.throws(
    () => runStream(withAdapter(binance, negating), fed),
    (e: unknown) =>
      e instanceof FuzzFailure &&
      /parsed event is insane \(size -5 at 1\)/.test(e.message),
  );
});

Deno.test("fuzz harness: a parser that throws a TypeError is a crash", () => {
  const { fed } = streamWithSize(binance, '"1"');
  const crashing: Adapter = {
    ...binance.adapter,
    parser: (table): Parser => {
      const p = binance.adapter.parser(table);
      return {
        parse: (frame, recvTs) => {
          const evs = p.parse(frame, recvTs);
          if (evs.length) (null as unknown as { x: number }).x;
          return evs;
        },
      };
    },
  };
  assert.throws(
    () => runStream(withAdapter(binance, crashing), fed),
    (e: unknown) =>
      e instanceof FuzzFailure &&
      /the parser crashed: TypeError/.test(e.message),
  );
});
