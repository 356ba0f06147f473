import assert from "node:assert/strict";
import fc from "fast-check";
import type { Instrument } from "../market/events.ts";
import { okxChecksumAdapter } from "./okx_checksum.ts";
import { OkxBookScanner, type ScannedTextSide } from "./okx_scan.ts";
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

/** A table that knows every instrument, contract size 1. */
const anySymbol: ReadonlyMap<string, Instrument> = {
  get: (s: string): Instrument => ({
    exchange: "okx",
    exchangeSymbol: s,
    symbol: s,
    base: "B",
    quote: "Q",
    market: "spot",
    contractSize: 1,
  }),
} as unknown as ReadonlyMap<string, Instrument>;

/** A one-item `books` frame as JSON.parse reads it, or undefined. */
function booksFrame(frame: string): Record<string, any> | undefined {
  let msg: any;
  try {
    msg = JSON.parse(frame);
  } catch {
    return undefined;
  }
  return msg?.arg?.channel === "books" &&
      (msg.action === "snapshot" || msg.action === "update") &&
      Array.isArray(msg.data) && msg.data.length === 1
    ? msg
    : undefined;
}

/** Asserts a side equals `parseFloat` of every string, strings kept. */
function assertSide(side: ScannedTextSide, raw: string[][], what: string) {
  assert.equal(side.count, raw.length, `${what}: level count`);
  for (let i = 0; i < raw.length; i++) {
    const [p, q] = raw[i];
    assert.ok(Object.is(side.prices[i], parseFloat(p)), `${what}[${i}] ${p}`);
    assert.ok(Object.is(side.sizes[i], parseFloat(q)), `${what}[${i}] ${q}`);
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
  const parser = okxChecksumAdapter.parser(anySymbol);
  const counts: string[] = [];
  let levels = 0;
  for (const [source, frames] of await okxFrames()) {
    let recognised = 0;
    for (const frame of frames) {
      const msg = booksFrame(frame);
      const compact = msg !== undefined && JSON.stringify(msg) === frame;
      const ok = s.scan(frame);
      assert.equal(ok, compact, `${source}: ${frame.slice(0, 120)}`);
      if (!ok) continue;
      recognised++;
      assertSame(s, msg!, source);
      levels += s.bids.count + s.asks.count;
      // The checksum version's reading gives the same levels and strings.
      const [ev] = parser.parse(frame, 1);
      assert.ok(ev.type === "book_delta" || ev.type === "book_snapshot");
      if (ev.type !== "book_delta" && ev.type !== "book_snapshot") continue;
      for (let i = 0; i < s.bids.count; i++) {
        assert.equal(ev.bids[2 * i], s.bids.prices[i]);
        assert.equal(ev.bids[2 * i + 1], s.bids.sizes[i]);
        assert.equal(ev.raw?.bids[2 * i], s.bids.priceText[i]);
        assert.equal(ev.raw?.bids[2 * i + 1], s.bids.sizeText[i]);
      }
      for (let i = 0; i < s.asks.count; i++) {
        assert.equal(ev.asks[2 * i], s.asks.prices[i]);
        assert.equal(ev.asks[2 * i + 1], s.asks.sizes[i]);
        assert.equal(ev.raw?.asks[2 * i], s.asks.priceText[i]);
        assert.equal(ev.raw?.asks[2 * i + 1], s.asks.sizeText[i]);
      }
    }
    counts.push(
      `${source}: ${recognised} recognised, ${
        frames.length - recognised
      } left to JSON.parse`,
    );
  }
  assert.ok(levels > 5_000, `only ${levels} levels checked`);
  console.log(`${counts.join("; ")}; ${levels} levels checked`);
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
  const token = fc.oneof(
    fc.double({ min: 0, max: 1e13, noNaN: true }).map(String),
    fc.double({ min: 0, max: 1e6, noNaN: true }).chain((d) =>
      fc.integer({ min: 0, max: 20 }).map((k) => d.toFixed(k))
    ),
    fc.stringMatching(
      /^-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?$/,
    ),
  );
  const level = fc.tuple(token, token, fc.constantFrom("0", "1", "13"))
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
        const inRange = [...asks, ...bids].every(([p, q]) =>
          +p > 0 && +p < 1e12 && +q >= 0 && +q <= 1e20 && !Object.is(+q, -0)
        );
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
  let recognised = 0;
  fc.assert(
    fc.property(
      fc.nat(frames.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...alphabet)), {
        minLength: 1,
        maxLength: 3,
      }),
      (pick, edits) => {
        let f = frames[pick];
        for (const [at, op, ch] of edits) {
          const i = at % (f.length + 1);
          f = op === 0
            ? f.slice(0, i) + ch + f.slice(i)
            : op === 1
            ? f.slice(0, i) + f.slice(i + 1)
            : f.slice(0, i) + ch + f.slice(i + 1);
        }
        if (!s.scan(f)) return;
        recognised++;
        const msg = booksFrame(f);
        assert.ok(msg !== undefined, `recognised a non-books frame: ${f}`);
        assertSame(s, msg, f);
      },
    ),
    { numRuns: 2_000 },
  );
  assert.ok(recognised > 100, `only ${recognised} mutants recognised`);
});
