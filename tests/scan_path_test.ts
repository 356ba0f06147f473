/**
 * The book keeper's scanner path (`Parser.scanBook` → `BookKeeper.scan`)
 * against its parse path (`Parser.parse` → `BookKeeper.onEvent`), over every
 * frame of the shared captures of the venues whose adapters offer a scanner
 * (Binance spot and USD-M, OKX of the checksum era, Kraken v1, Coinbase
 * Pro, KuCoin, Bybit v2, and HTX spot and swaps, whose `depth.step0`
 * images take the keeper's image path; for Bybit v5 a recorded stream from
 * the samples):
 * the two keepers end with identical books (level strings too, for checksum
 * venues), sync states and counters, and write identical batches, record
 * for record. Both keepers see the same frames and the same recorded REST
 * snapshots, offered the same way.
 *
 * @module
 */

import assert from "node:assert/strict";
import { inflateRawSync } from "node:zlib";
import fc from "fast-check";
import type { Adapter, Parser } from "../actors/adapters/adapter.ts";
import { binanceDeliveryAdapter } from "../actors/adapters/binance_delivery.ts";
import { bybitAdapter } from "../actors/adapters/bybit.ts";
import { bybitV2Adapter } from "../actors/adapters/bybit_v2.ts";
import { coinbaseProAdapter } from "../actors/adapters/coinbase_pro.ts";
import { kucoinAdapter } from "../actors/adapters/kucoin.ts";
import {
  type Capture,
  readCapture,
  type TimedRecord,
} from "../actors/capture/capture.ts";
import { assertDeltaIs } from "../actors/adapters/_scan_testing.ts";
import { captureAdapter, captureSymbols } from "../actors/capture/plan.ts";
import { BookKeeper, type Followed } from "../actors/connection/book_keeper.ts";
import {
  type ConnectionCounters,
  newCounters,
} from "../actors/connection/stats.ts";
import { BatchBuilder, columns } from "../actors/market/batch.ts";
import { restKey } from "../actors/market/clock.ts";
import type { Instrument } from "../actors/market/events.ts";
import { resolveSymbols } from "../actors/market/symbols.ts";
import { captureFiles } from "./_replay.ts";

const OB500 =
  "../shared/data/samples/nautilus_trader/tests/test_data/bybit/xrpusdt-ob500.data.zip";

/** The first file of a zip archive (stored or deflated), as text. */
function unzipFirst(path: string): string {
  const z = Deno.readFileSync(path);
  const v = new DataView(z.buffer, z.byteOffset, z.byteLength);
  assert.equal(v.getUint32(0, true), 0x04034b50, "zip local header");
  const method = v.getUint16(8, true);
  const size = v.getUint32(18, true);
  const start = 30 + v.getUint16(26, true) + v.getUint16(28, true);
  const data = z.subarray(start, start + size);
  return new TextDecoder().decode(method === 0 ? data : inflateRawSync(data));
}

/** What one run over a capture left behind. */
interface Run {
  keeper: BookKeeper;
  counters: ConnectionCounters;
  batch: ReturnType<BatchBuilder["take"]>;
  /** Frames the keeper applied from the scanner. */
  scanned: number;
  /** Book deltas the parse path applied (frames not scanned). */
  frames: number;
}

/** The path and query of a URL, or null for a URL that is not one. */
function keyOf(url: string): string | null {
  try {
    return restKey(url);
  } catch {
    return null;
  }
}

/** The instruments a capture followed, from its recorded metadata. */
function captureInstruments(cap: Capture, adapter: Adapter): Instrument[] {
  const bodies = new Map<string, string>();
  for (const r of cap.records) {
    if (r.kind !== "http") continue;
    const key = keyOf(r.url);
    if (key !== null && !bodies.has(key)) bodies.set(key, r.body);
  }
  const instruments = adapter.instruments(
    adapter.metadataUrls.map((u) => bodies.get(keyOf(u)!) ?? ""),
  );
  const insts = resolveSymbols(captureSymbols(cap, adapter), instruments).found;
  assert.ok(insts.length > 0, `${cap.exchange}: instruments`);
  return insts;
}

/**
 * Plays recorded frames and REST bodies through one keeper, offering the
 * latest recorded snapshot to a book that asks for one, as a replay does.
 * @param adapter the venue's adapter version.
 * @param insts the instruments to follow.
 * @param records frames (`recv`) and REST responses (`http`), in time order.
 * @param scan true: try the scanner first; false: parse every frame.
 */
function run(
  adapter: Adapter,
  insts: readonly Instrument[],
  records: readonly TimedRecord[],
  scan: boolean,
): Run {
  const counters = newCounters();
  const batch = new BatchBuilder(adapter.id);
  const wanted = new Set<Followed>();
  const keeper = new BookKeeper({
    exchange: adapter.id,
    spec: adapter.book,
    batch,
    counters,
    hooks: {
      needSnapshot: (f) => wanted.add(f),
      send: () => true,
      reconnect: () => {},
      warn: () => {},
    },
  });
  keeper.follow(insts, 0);
  const parser = adapter.parser(
    new Map(insts.map((i) => [i.exchangeSymbol, i])),
  );
  const spec = adapter.book;
  /** Snapshot key → latest recorded body. */
  const snapshots = new Map<string, string>();
  const offered = new Map<Followed, string>();
  const offer = (f: Followed, ts: number) => {
    if (f.sync.state !== "buffering" || !spec.snapshotUrl) return;
    const body = snapshots.get(
      keyOf(spec.snapshotUrl(f.inst.exchangeSymbol))!,
    );
    if (body === undefined || offered.get(f) === body) return;
    offered.set(f, body);
    keeper.offerSnapshot(f, spec.parseSnapshot!(body, ts, f.inst));
  };
  let scanned = 0;
  let frames = 0;
  for (const r of records) {
    if (r.kind === "http") {
      const key = keyOf(r.url);
      if (key === null) continue;
      snapshots.set(key, r.body);
      batch.clock = r.ts;
      for (const f of keeper.followed.values()) offer(f, r.ts);
      continue;
    }
    if (r.kind !== "recv") continue;
    const frame = r.text ?? r.binary!;
    batch.clock = r.ts;
    if (scan && keeper.scan(parser, frame, r.ts)) {
      scanned++;
    } else {
      try {
        const events = parser.parse(frame, r.ts);
        for (const ev of events) {
          if (ev.type === "book_delta") frames++;
          keeper.onEvent(ev);
        }
      } catch {
        counters.malformed++;
      }
    }
    for (const f of wanted) offer(f, r.ts);
    wanted.clear();
  }
  return { keeper, counters, batch: batch.take(), scanned, frames };
}

/**
 * Runs the records down both paths and asserts they agree: books, sync
 * states, counters and batches; and that the scanner took the deltas.
 * @returns both runs, for further checks.
 */
function assertSamePaths(
  adapter: Adapter,
  insts: readonly Instrument[],
  records: readonly TimedRecord[],
): { parsed: Run; scanned: Run } {
  assert.ok(adapter.parser(new Map()).scanBook, `${adapter.id} scans`);
  const parsed = run(adapter, insts, records, false);
  const scanned = run(adapter, insts, records, true);
  // The scanner took most book deltas, and the parse path the rest.
  assert.ok(
    scanned.scanned > parsed.frames / 2,
    `${scanned.scanned} of ${parsed.frames} deltas scanned`,
  );
  assert.equal(scanned.scanned + scanned.frames, parsed.frames);
  assert.deepEqual(scanned.counters, parsed.counters);
  assert.equal(parsed.counters.resyncs, 0);
  assert.equal(parsed.counters.checksumFailures, 0);
  assert.equal(parsed.counters.malformed, 0);
  let synced = 0;
  for (const [sym, f] of parsed.keeper.followed) {
    const g = scanned.keeper.followed.get(sym)!;
    assert.deepEqual(bookOf(g), bookOf(f), `${sym} book`);
    if (f.sync.state === "synced") synced++;
  }
  assert.ok(synced > 0, "books synced");
  assert.equal(scanned.batch.n, parsed.batch.n);
  assert.deepEqual(scanned.batch.symbols, parsed.batch.symbols);
  assert.equal(scanned.batch.clock, parsed.batch.clock);
  const a = columns(scanned.batch);
  const b = columns(parsed.batch);
  for (const k of ["price", "size", "ts", "local", "code"] as const) {
    assert.deepEqual(a[k], b[k], `batch ${k}`);
  }
  return { parsed, scanned };
}

/** A book's every level and string, and its sync state. */
function bookOf(f: Followed): unknown {
  const side = (s: Followed["book"]["bids"]) => ({
    prices: [...s.prices.subarray(0, s.length)],
    sizes: [...s.sizes.subarray(0, s.length)],
    rawPrices: s.rawPrices,
    rawSizes: s.rawSizes,
  });
  return {
    bids: side(f.book.bids),
    asks: side(f.book.asks),
    state: f.sync.state,
    lastSeq: f.sync.lastSeq,
  };
}

/** How many book snapshots of the records carry no checksum. */
function uncheckedSnapshots(
  adapter: Adapter,
  insts: readonly Instrument[],
  records: readonly TimedRecord[],
): number {
  const parser = adapter.parser(
    new Map(insts.map((i) => [i.exchangeSymbol, i])),
  );
  let n = 0;
  for (const r of records) {
    if (r.kind !== "recv") continue;
    try {
      for (const ev of parser.parse(r.text ?? r.binary!, r.ts)) {
        if (ev.type === "book_snapshot" && ev.checksum === undefined) n++;
      }
    } catch {
      // malformed: counted by the runs
    }
  }
  return n;
}

for (const prefix of ["BINANCE", "BINANCE_FUTURES", "OKX", "KRAKEN"]) {
  Deno.test(`scanner path: the ${prefix} capture gives the parse path's books, counters and batches`, async () => {
    const cap = await readCapture(captureFiles(prefix));
    const adapter = captureAdapter(cap);
    const checksum = adapter.book.checksum;
    let checked = 0;
    const counted: Adapter = checksum === undefined ? adapter : {
      ...adapter,
      book: {
        ...adapter.book,
        checksum: (book) => {
          checked++;
          return checksum(book);
        },
      },
    };
    const insts = captureInstruments(cap, adapter);
    const { parsed, scanned } = assertSamePaths(counted, insts, cap.records);
    if (checksum !== undefined) {
      // Both paths checked every update against the venue's checksum (none
      // failed: see assertSamePaths), but for snapshots that carry none
      // (Kraken v1's).
      const unchecked = uncheckedSnapshots(adapter, insts, cap.records);
      assert.equal(
        checked,
        2 * (parsed.counters.bookUpdates - unchecked),
        "checksums computed",
      );
      assert.ok(scanned.scanned > 0);
    }
  });
}

Deno.test("scanner path: the COINBASE capture (Pro l2update) gives the parse path's books, counters and batches", async () => {
  const cap = await readCapture(captureFiles("COINBASE"));
  const adapter = captureAdapter(cap);
  assert.equal(adapter, coinbaseProAdapter);
  const { scanned } = assertSamePaths(
    adapter,
    captureInstruments(cap, adapter),
    cap.records,
  );
  // Every l2update was scanned (each book's snapshot came first).
  assert.equal(scanned.frames, 0);
  assert.ok(scanned.scanned > 9_000, `${scanned.scanned} scanned`);
});

Deno.test("scanner path: the KUCOIN capture (trade.l2update, REST snapshots) gives the parse path's books, counters and batches", async () => {
  const cap = await readCapture(captureFiles("KUCOIN"));
  const adapter = captureAdapter(cap);
  assert.equal(adapter, kucoinAdapter);
  const insts = captureInstruments(cap, adapter);
  const { parsed, scanned } = assertSamePaths(adapter, insts, cap.records);
  // Deltas buffered before a book's snapshot went to parse; the scanner
  // took every other l2update.
  assert.ok(scanned.scanned > 3_000, `${scanned.scanned} scanned`);
  assert.equal(parsed.frames, 3_853);
  // Every book synced on both paths but LTX-USDT's, of which the capture
  // holds neither an l2update nor a snapshot.
  for (const [sym, f] of scanned.keeper.followed) {
    assert.equal(f.sync.state, sym === "LTX-USDT" ? "buffering" : "synced");
  }
  // Each delta read by either path is the one parse gives.
  const table = new Map(insts.map((i) => [i.exchangeSymbol, i]));
  let read = 0;
  for (const r of cap.records) {
    if (r.kind === "recv" && r.text !== undefined) {
      if (assertScanMatchesParse(adapter, table, r.text)) read++;
    }
  }
  assert.equal(read, 3_853);
});

Deno.test("scanner path: Bybit v5 XRPUSDT orderbook.500 gives the parse path's books, counters and batches, for linear and inverse contract sizes", () => {
  // The shared captures of Bybit speak v2; this is a v5 recording.
  const frames = unzipFirst(OB500).split(/\r?\n/).filter((l) => l);
  const records: TimedRecord[] = frames.map((text, i) => ({
    kind: "recv",
    conn: "wss://stream.bybit.com/v5/public/linear",
    ts: 1_700_000_000_000 + i * 100,
    text,
    file: OB500,
  }));
  const xrp: Instrument = {
    exchange: "bybit",
    exchangeSymbol: "XRPUSDT",
    symbol: "XRP-USDT",
    base: "XRP",
    quote: "USDT",
    market: "perpetual",
    contractSize: 1,
  };
  for (
    const inst of [
      xrp,
      { ...xrp, contractSize: 0.1 },
      { ...xrp, contractSize: 10, inverse: true },
    ]
  ) {
    assertSamePaths(bybitAdapter, [inst], records);
  }
});

Deno.test("scanner path: the BYBIT capture (v2 orderBookL2_25, USDT and inverse) gives the parse path's books, counters and batches; mutated deltas scan to what parse gives, or go to parse", async () => {
  const cap = await readCapture(captureFiles("BYBIT"));
  const adapter = captureAdapter(cap);
  assert.equal(adapter, bybitV2Adapter);
  const insts = captureInstruments(cap, adapter);
  assert.ok(insts.some((i) => i.inverse), "inverse contracts followed");
  const { parsed, scanned } = assertSamePaths(adapter, insts, cap.records);
  // Each book's snapshot came in-stream before its deltas: the scanner
  // took every delta.
  assert.equal(parsed.frames, 4_268);
  assert.equal(scanned.scanned, 4_268);
  // Each delta read by either path is the one parse gives.
  const table = new Map(insts.map((i) => [i.exchangeSymbol, i]));
  const books: string[] = [];
  for (const r of cap.records) {
    if (r.kind !== "recv" || r.text === undefined) continue;
    if (assertScanMatchesParse(adapter, table, r.text)) books.push(r.text);
  }
  assert.equal(books.length, 4_268);
  // One quoted number (a price, id, cross_seq or time), an unquoted one (a
  // size, id, cross_seq or time), a side, or a character replaced.
  const scanning = adapter.parser(table); // one parser for every mutant
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: books.length - 1 }),
      fc.nat(),
      fc.constantFrom(...NUMBERS),
      fc.constantFrom("Buy", "Sell", "buy", "Bid", ""),
      (k, at, spelling, side) => {
        const f = books[k];
        const mutated = at % 4 === 0
          ? withChar(f, at, spelling)
          : at % 4 === 1
          ? withMatch(f, QUOTED, at, spelling)
          : at % 4 === 2
          ? withMatch(f, /:(-?[0-9.]+)/g, at, spelling)
          : f.replace(/"(Buy|Sell)"/, `"${side}"`);
        assertMutantScansAsParsed(adapter, table, mutated, scanning);
      },
    ),
    { numRuns: 3000 },
  );
});

/**
 * Asserts `scanBook` gives what `parse` gives for a frame: null unless
 * `parse` gives exactly one book delta, and then that delta's fields.
 */
function assertScanMatchesParse(
  adapter: Adapter,
  insts: ReadonlyMap<string, Instrument>,
  frame: string,
  scanning: Parser = adapter.parser(insts),
): boolean {
  const scanned = scanning.scanBook!(frame, 1_700_000_000_000);
  if (scanned === null) return false;
  const events = adapter.parser(insts).parse(frame, 1_700_000_000_000);
  assert.equal(events.length, 1, frame);
  assertDeltaIs(scanned, events[0], frame);
  return true;
}

/**
 * A mutated frame scans to what `parse` gives or, when `parse` refuses it,
 * does not scan. `scanning` is one parser kept across all the frames of a
 * test, so that what a scanner keeps from frame to frame is exercised too.
 */
function assertMutantScansAsParsed(
  adapter: Adapter,
  insts: ReadonlyMap<string, Instrument>,
  frame: string,
  scanning: Parser,
): void {
  try {
    assertScanMatchesParse(adapter, insts, frame, scanning);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    const s = scanning.scanBook!(frame, 0);
    assert.equal(s, null, `scanned a frame parse refuses: ${frame}`);
  }
}

/** A quoted number token, the token in group 1. */
const QUOTED = /"(-?[0-9.eE+-]+)"/g;

/** `f` with its character at `at` (modulo its length) replaced by `text`'s first. */
function withChar(f: string, at: number, text: string): string {
  const i = at % f.length;
  return f.slice(0, i) + text.slice(0, 1) + f.slice(i + 1);
}

/**
 * `f` with group 1 of one match of the global `re` (the `at`-th, modulo
 * their count; group 1 starts one character into the match) replaced by
 * `text`.
 * @throws {TypeError} when `re` matches nothing in `f`.
 */
function withMatch(f: string, re: RegExp, at: number, text: string): string {
  const hits = [...f.matchAll(re)];
  const m = hits[at % hits.length];
  const start = m.index! + 1;
  return f.slice(0, start) + text + f.slice(start + m[1].length);
}

/** Number spellings the scanners must read as `parseFloat` does, or refuse. */
const NUMBERS = [
  "0",
  "-0",
  "00",
  "01.5",
  "1e3",
  "1E-3",
  "1e+2",
  "1.",
  ".5",
  "-1",
  "1e400",
  "1e-400",
  "123456789012345678901234567890",
  "0.000000000000000000000000001",
  "9007199254740993",
  "60000.123456789012345678",
  "1e12",
  "999999999999.99",
  " 1",
  "",
  "0x10",
  "Infinity",
  "NaN",
];

Deno.test("scanner path: mutated book frames of Binance (spot, USD-M, COIN-M), Bybit v5, OKX and Kraken v1 scan to what parse gives, or go to parse", async () => {
  const venues: {
    adapter: Adapter;
    insts: Map<string, Instrument>;
    frames: string[];
  }[] = [];
  for (const prefix of ["BINANCE", "BINANCE_FUTURES", "OKX", "KRAKEN"]) {
    const cap = await readCapture(captureFiles(prefix));
    const adapter = captureAdapter(cap);
    const insts = captureInstruments(cap, adapter);
    const frames = cap.records.flatMap((r) =>
      r.kind === "recv" && r.text !== undefined ? [r.text] : []
    );
    venues.push({
      adapter,
      insts: new Map(insts.map((i) => [i.exchangeSymbol, i])),
      frames,
    });
    if (prefix === "BINANCE_FUTURES") {
      // The same frames as COIN-M inverse contracts of 100 USD.
      venues.push({
        adapter: binanceDeliveryAdapter,
        insts: new Map(
          insts.map((i) => [i.exchangeSymbol, {
            ...i,
            exchange: "binance-delivery",
            contractSize: 100,
            inverse: true,
          }]),
        ),
        frames,
      });
    }
  }
  venues.push({
    adapter: bybitAdapter,
    insts: new Map([["XRPUSDT", {
      exchange: "bybit",
      exchangeSymbol: "XRPUSDT",
      symbol: "XRP-USDT",
      base: "XRP",
      quote: "USDT",
      market: "perpetual",
      contractSize: 1,
    }]]),
    frames: unzipFirst(OB500).split(/\r?\n/).filter((l) => l).slice(0, 60),
  });
  for (const v of venues) {
    // Unchanged, every book delta scans as parse reads it.
    let read = 0;
    for (const f of v.frames) {
      if (assertScanMatchesParse(v.adapter, v.insts, f)) read++;
    }
    assert.ok(read > 0, `${v.adapter.id}: deltas scanned`);
    // One quoted number, a key's number or a character replaced.
    const books = v.frames.filter((f) =>
      v.adapter.parser(v.insts).scanBook!(f, 0) !== null
    );
    const scanning = v.adapter.parser(v.insts); // one parser for every mutant
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: books.length - 1 }),
        fc.nat(),
        fc.constantFrom(...NUMBERS),
        fc.boolean(),
        (k, at, spelling, quoted) => {
          const f = books[k];
          const re = quoted ? QUOTED : /:(-?[0-9]+)/g;
          const mutated = at % 5 === 0 || f.search(re) < 0
            ? withChar(f, at, spelling)
            : withMatch(f, re, at, spelling);
          assertMutantScansAsParsed(v.adapter, v.insts, mutated, scanning);
        },
      ),
      { numRuns: 1500 },
    );
  }
});

/** Time spellings a Coinbase scanner must read as `isoMs` does, or refuse. */
const TIMES = [
  "2021-04-17T16:43:37Z",
  "2021-04-17T16:43:37.1Z",
  "2021-04-17T16:43:37.123456789Z",
  "2021-04-17T16:43:37.1234567891234Z",
  "2021-04-17T16:43:37.075687+00:00",
  "2021-04-17 16:43:37Z",
  "2021-02-31T16:43:37Z",
  "2021-04-17T24:00:00Z",
  "2021-04-17T23:59:60Z",
  "0001-01-01T00:00:00.000000Z",
  "1970-01-01T00:00:00Z",
  "1969-12-31T23:59:59.999Z",
  "2021-04-17",
  "yesterday",
  "",
];

Deno.test("scanner path: mutated Coinbase Pro l2updates scan to what parse gives, or go to parse", async () => {
  const cap = await readCapture(captureFiles("COINBASE"));
  const adapter = captureAdapter(cap);
  const insts = new Map(
    captureInstruments(cap, adapter).map((i) => [i.exchangeSymbol, i]),
  );
  const frames = cap.records.flatMap((r) =>
    r.kind === "recv" && r.text !== undefined ? [r.text] : []
  );
  let read = 0;
  for (const f of frames) {
    if (assertScanMatchesParse(adapter, insts, f)) read++;
  }
  assert.ok(read > 9_000, `${read} deltas scanned`);
  const books = frames.filter((f) =>
    adapter.parser(insts).scanBook!(f, 0) !== null
  );
  // One quoted number, the time, a side or a character replaced.
  const scanning = adapter.parser(insts); // one parser for every mutant
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: books.length - 1 }),
      fc.nat(),
      fc.constantFrom(...NUMBERS),
      fc.constantFrom(...TIMES),
      fc.constantFrom("buy", "sell", "bid", "Buy", "sel", "product_id"),
      (k, at, spelling, time, side) => {
        const f = books[k];
        const mutated = at % 4 === 0
          ? withChar(f, at, spelling)
          : at % 4 === 1
          ? withMatch(f, QUOTED, at, spelling)
          : at % 4 === 2
          ? f.replace(/"time":"[^"]*"/, `"time":"${time}"`)
          : f.replace(/"(buy|sell)"/, `"${side}"`);
        assertMutantScansAsParsed(adapter, insts, mutated, scanning);
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("scanner path: mutated KuCoin l2updates scan to what parse gives, or go to parse", async () => {
  const cap = await readCapture(captureFiles("KUCOIN"));
  const adapter = captureAdapter(cap);
  const insts = new Map(
    captureInstruments(cap, adapter).map((i) => [i.exchangeSymbol, i]),
  );
  const books = cap.records.flatMap((r) =>
    r.kind === "recv" && r.text !== undefined &&
      adapter.parser(insts).scanBook!(r.text, 0) !== null
      ? [r.text]
      : []
  );
  assert.equal(books.length, 3_853);
  // One quoted number (a price, size or change sequence; "0" is the
  // placeholder price), a sequence, a time, or a character replaced.
  const scanning = adapter.parser(insts); // one parser for every mutant
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: books.length - 1 }),
      fc.nat(),
      fc.constantFrom(...NUMBERS),
      (k, at, spelling) => {
        let f = books[k];
        if (at % 7 === 0) {
          f = f.replace('},"subject"', ',"time":1685578980002},"subject"');
        }
        const mutated = at % 3 === 0
          ? withChar(f, at, spelling)
          : withMatch(f, at % 3 === 1 ? QUOTED : /:(-?[0-9]+)/g, at, spelling);
        assertMutantScansAsParsed(adapter, insts, mutated, scanning);
      },
    ),
    { numRuns: 3000 },
  );
});

/**
 * Runs the records of an image-only venue (HTX `depth.step0`: every book
 * push is a whole image, a `book_snapshot` on the parse path) down both
 * paths and asserts they agree: books, sync states, counters and batches;
 * and that the scanner took every image but each book's first, which syncs
 * it (a book not in sync leaves the image to parse).
 * @returns both runs.
 */
function assertSameImagePaths(
  adapter: Adapter,
  insts: readonly Instrument[],
  records: readonly TimedRecord[],
): { parsed: Run; scanned: Run } {
  assert.ok(adapter.parser(new Map()).scanBook, `${adapter.id} scans`);
  const parsed = run(adapter, insts, records, false);
  const scanned = run(adapter, insts, records, true);
  // HTX sends no checksum: every image counts.
  const images = uncheckedSnapshots(adapter, insts, records);
  assert.equal(parsed.counters.bookUpdates, images);
  let synced = 0;
  for (const [sym, f] of parsed.keeper.followed) {
    const g = scanned.keeper.followed.get(sym)!;
    assert.deepEqual(bookOf(g), bookOf(f), `${sym} book`);
    if (f.sync.state === "synced") synced++;
  }
  assert.ok(synced > 0, "books synced");
  assert.equal(scanned.scanned, images - synced, "images scanned");
  assert.equal(scanned.frames, 0);
  assert.equal(parsed.frames, 0);
  assert.deepEqual(scanned.counters, parsed.counters);
  assert.equal(parsed.counters.resyncs, 0);
  assert.equal(parsed.counters.malformed, 0);
  assert.equal(scanned.batch.n, parsed.batch.n);
  assert.deepEqual(scanned.batch.symbols, parsed.batch.symbols);
  assert.equal(scanned.batch.clock, parsed.batch.clock);
  const a = columns(scanned.batch);
  const b = columns(parsed.batch);
  for (const k of ["price", "size", "ts", "local", "code"] as const) {
    assert.deepEqual(a[k], b[k], `batch ${k}`);
  }
  return { parsed, scanned };
}

for (
  const [prefix, images] of [["HUOBI", 292], ["HUOBI_SWAP", 2_862]] as const
) {
  Deno.test(`scanner path: the ${prefix} capture (depth.step0 images, gzip) gives the parse path's books, counters and batches`, async () => {
    const cap = await readCapture(captureFiles(prefix));
    const adapter = captureAdapter(cap);
    const insts = captureInstruments(cap, adapter);
    const { parsed, scanned } = assertSameImagePaths(
      adapter,
      insts,
      cap.records,
    );
    assert.equal(parsed.counters.bookUpdates, images);
    // Every book synced on its first image; the scanner took the rest.
    for (const [sym, f] of scanned.keeper.followed) {
      assert.equal(f.sync.state, "synced", sym);
    }
    assert.equal(scanned.scanned, images - insts.length);
  });
}
