import assert from "node:assert/strict";
import fc from "fast-check";
import { okxChecksumAdapter } from "./okx_checksum.ts";
import { OkxBookScanner } from "./okx_scan.ts";
import type { ScannedTextSide } from "./_scan.ts";
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

const NAUTILUS =
  "../shared/data/samples/nautilus_trader/crates/adapters/okx/test_data";

/** Every OKX frame the shared data holds, by source. */
async function okxFrames(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  out.set("OKX.ws.1.0", await capturedTexts("OKX.ws.1.0"));
  for (const f of ["okex", "okex-swap", "okex-futures"]) {
    out.set(`tardis ${f}`, await tardisInputs(f));
  }
  const samples = ["ws_books_snapshot.json", "ws_books_update.json"].map((f) =>
    Deno.readTextFileSync(`${NAUTILUS}/${f}`)
  );
  // The doc samples pretty-printed, and compact as the venue sends them.
  out.set("nautilus ws_books_*", [
    ...samples,
    ...samples.map((s) => JSON.stringify(JSON.parse(s))),
  ]);
  return out;
}

/** A one-item `books` frame as JSON.parse reads it, or undefined. */
function booksFrame(frame: string): Record<string, any> | undefined {
  const msg = readJson(frame);
  return msg?.arg?.channel === "books" &&
      (msg.action === "snapshot" || msg.action === "update") &&
      Array.isArray(msg.data) && msg.data.length === 1
    ? msg
    : undefined;
}

/** Asserts a side equals `parseFloat` of every string, strings kept. */
function assertSide(side: ScannedTextSide, raw: string[][], what: string) {
  assertScannedSide(side, raw, what);
  for (let i = 0; i < raw.length; i++) {
    const [p, q] = raw[i];
    assert.equal(side.priceText[i], p);
    assert.equal(side.sizeText[i], q);
  }
  assert.equal(side.priceText.length, raw.length);
}

/** Asserts the scanner's fields equal JSON.parse's reading of `msg`. */
function assertSame(s: OkxBookScanner, msg: Record<string, any>, what = "") {
  const d = msg.data[0];
  assert.equal(s.instId, msg.arg.instId, `${what} instId`);
  assert.equal(s.snapshot, msg.action === "snapshot", `${what} action`);
  assert.ok(Object.is(s.ts, parseFloat(d.ts)), `${what} ts`);
  assert.ok(Object.is(s.checksum, d.checksum ?? NaN), `${what} checksum`);
  assert.ok(Object.is(s.prevSeqId, d.prevSeqId ?? NaN), `${what} prevSeqId`);
  assert.ok(Object.is(s.seqId, d.seqId ?? NaN), `${what} seqId`);
  assertSide(s.asks, d.asks, `${what} asks`);
  assertSide(s.bids, d.bids, `${what} bids`);
}

Deno.test("okx scan: every level of every compact books frame equals parseFloat, strings and headers equal JSON.parse", async () => {
  const s = new OkxBookScanner({ keepText: true });
  const parser = okxChecksumAdapter.parser(anyInstrument("okx", "spot"));
  const levels = scanSources(s, await okxFrames(), (frame, ok, source) => {
    const msg = booksFrame(frame);
    const compact = msg !== undefined && JSON.stringify(msg) === frame;
    assert.equal(ok, compact, `${source}: ${frame.slice(0, 120)}`);
    if (!ok) return;
    assertSame(s, msg!, source);
    // The checksum version's reading gives the same levels and strings.
    const [ev] = parser.parse(frame, 1);
    assert.ok(ev.type === "book_delta" || ev.type === "book_snapshot");
    if (ev.type !== "book_delta" && ev.type !== "book_snapshot") return;
    assertSameLevels(ev, s);
    for (const side of ["bids", "asks"] as const) {
      for (let i = 0; i < s[side].count; i++) {
        assert.equal(ev.raw?.[side][2 * i], s[side].priceText[i]);
        assert.equal(ev.raw?.[side][2 * i + 1], s[side].sizeText[i]);
      }
    }
  });
  assert.ok(levels > 5_000, `only ${levels} levels checked`);
});

Deno.test("okx scan: odd frames are left to JSON.parse; strings only when asked", () => {
  const good =
    '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["1.5","2","0","1"]],"bids":[],"ts":"5","checksum":-7,"prevSeqId":1,"seqId":2}]}';
  const plain = new OkxBookScanner();
  assert.ok(plain.scan(good));
  assert.equal(plain.asks.priceText.length, 0);
  const s = new OkxBookScanner({ keepText: true });
  assert.ok(s.scan(good));
  assert.deepEqual(s.asks.priceText, ["1.5"]);
  const odd: [string, string][] = [
    ["whitespace", good.replace('"ts":"5"', '"ts": "5"')],
    ["other channel", good.replace('"books"', '"books5"')],
    ["other action", good.replace('"update"', '"partial"')],
    ["two items", good.replace("}]}", '},{"asks":[],"bids":[],"ts":"6"}]}')],
    ["ts as number", good.replace('"ts":"5"', '"ts":5')],
    ["checksum beyond 32 bits", good.replace("-7", "4294967296")],
    ["fractional checksum", good.replace("-7", "-7.5")],
    ["seqId without prevSeqId", good.replace('"prevSeqId":1,', "")],
    ["prevSeqId below -1", good.replace('"prevSeqId":1', '"prevSeqId":-2')],
    ["negative size", good.replace('"2","0"', '"-2","0"')],
    ["number field", good.replace('"0","1"]', '"0",1]')],
    ["escape in instId", good.replace("BTC-USDT", "BTC\\u002dUSDT")],
    ["extra key", good.replace('"seqId":2', '"seqId":2,"x":1')],
    ["pong", "pong"],
  ];
  for (const [what, frame] of odd) assert.equal(s.scan(frame), false, what);
});

Deno.test("okx scan: fuzzed level strings equal parseFloat and are kept as sent, or the frame is refused", () => {
  const s = new OkxBookScanner({ keepText: true });
  const level = fc.tuple(
    levelToken,
    levelToken,
    fc.constantFrom("0", "1", "13"),
  )
    .map(([p, q, n]) => [p, q, "0", n]);
  fc.assert(
    fc.property(
      fc.array(level, { maxLength: 40 }),
      fc.array(level, { maxLength: 40 }),
      fc.boolean(),
      (asks, bids, sequenced) => {
        const msg = {
          arg: { channel: "books", instId: "BTC-USDT" },
          action: "update",
          data: [{
            asks,
            bids,
            ts: "1597026383085",
            checksum: -855196043,
            ...(sequenced ? { prevSeqId: 123456, seqId: 123457 } : {}),
          }],
        };
        const inRange = levelsInRange([...asks, ...bids]);
        const frame = JSON.stringify(msg);
        assert.equal(s.scan(frame), inRange, frame);
        if (inRange) assertSame(s, msg);
      },
    ),
    { numRuns: 1_000 },
  );
});

Deno.test("okx scan: a mutated real frame is refused, or read exactly as JSON.parse reads it", async () => {
  const frames = (await capturedTexts("OKX.ws.1.0")).filter((f) =>
    booksFrame(f) !== undefined
  );
  const s = new OkxBookScanner({ keepText: true });
  const alphabet = [...'0123456789.-+eE"[]{},:\\ abdks'];
  const recognised = checkMutants(s, frames, {
    alphabet,
    numRuns: 2_000,
    check: (f) => {
      const msg = booksFrame(f);
      assert.ok(msg !== undefined, `recognised a non-books frame: ${f}`);
      assertSame(s, msg, f);
    },
  });
  assert.ok(recognised > 100, `only ${recognised} mutants recognised`);
});
