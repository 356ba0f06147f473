/**
 * Assertions and fuzzers the frame scanners' tests share
 * (`*_scan_test.ts`, `tests/scan_path_test.ts`): each checks a scanner
 * against `JSON.parse`, `parseFloat` or the adapter's `parse` of the same
 * frame.
 * Test-only: nothing outside `*_test.ts` files imports it.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  Levels,
  Market,
  MarketEvent,
} from "../market/events.ts";
import type { ColumnarDelta } from "./adapter.ts";
import type { ScannedSide } from "./_scan.ts";

/**
 * Asserts that what `scanBook` gave for a frame holds what the one event
 * `parse` gave for it holds: the instrument, times, sequence fields,
 * checksum, levels (sizes in base currency) and, for checksum venues, the
 * venue's strings. An image (`image` true) stands for a `book_snapshot`,
 * whose `sequence` is its `last` (`first` and `prev` -1); anything else for
 * a `book_delta`.
 * @param d the scanned delta.
 * @param ev the parse path's event for the same frame and receive time.
 * @param what names the frame in a failure.
 */
export function assertDeltaIs(
  d: ColumnarDelta,
  ev: MarketEvent,
  what = "",
): void {
  assert.equal(ev.type, d.image ? "book_snapshot" : "book_delta", what);
  const e = ev as BookDelta | BookSnapshot;
  assert.equal(d.inst.exchangeSymbol, e.exchangeSymbol, what);
  assert.equal(d.exchangeTs, e.exchangeTs, `${what} exchangeTs`);
  assert.equal(d.localTs, e.localTs, what);
  const seq = e.type === "book_snapshot"
    ? [-1, e.sequence, -1]
    : [e.first, e.last, e.prev];
  assert.deepEqual(
    [d.first, d.last, d.prev, d.checksum],
    [...seq, e.checksum],
    what,
  );
  for (const name of ["bids", "asks"] as const) {
    const side = d[name];
    const levels: number[] = [];
    const raw: string[] = [];
    for (let i = 0; i < side.count; i++) {
      levels.push(side.prices[i], side.sizes[i]);
      if (side.priceText) raw.push(side.priceText[i], side.sizeText![i]);
    }
    assert.deepEqual(levels, e[name], `${what} ${name}`);
    assert.deepEqual(
      side.priceText ? raw : undefined,
      e.raw?.[name],
      `${what} ${name} strings`,
    );
  }
}

/** What the shared checks read of a scanner. */
export interface BookScanner {
  /**
   * Reads a frame.
   * @param frame the frame's text.
   * @returns true when the scanner read it; false leaves it to JSON.parse.
   */
  scan(frame: string): boolean;
  /** The bids of the frame last read. */
  readonly bids: ScannedSide;
  /** The asks of the frame last read. */
  readonly asks: ScannedSide;
}

/**
 * A table that knows every symbol as an instrument of `exchange`, base `B`,
 * quote `Q`, contract size 1 (sizes pass through).
 * @param exchange the instruments' exchange id.
 * @param market the instruments' market.
 * @returns the table (`get` only).
 * @example
 * ```ts
 * const parser = binanceParser("binance", anyInstrument("binance", "spot"));
 * ```
 */
export function anyInstrument(
  exchange: string,
  market: Market,
): ReadonlyMap<string, Instrument> {
  return {
    get: (s: string): Instrument => ({
      exchange,
      exchangeSymbol: s,
      symbol: s,
      base: "B",
      quote: "Q",
      market,
      contractSize: 1,
    }),
  } as unknown as ReadonlyMap<string, Instrument>;
}

/**
 * A frame as JSON.parse reads it, or undefined when it is not JSON.
 * @param frame the frame's text.
 * @returns the parsed value.
 * @example
 * ```ts
 * readJson("pong"); // undefined
 * ```
 */
export function readJson(frame: string): any {
  try {
    return JSON.parse(frame);
  } catch {
    return undefined;
  }
}

/**
 * Asserts a side read by a scanner equals `parseFloat` of every level's
 * price and size strings (`Object.is`: -0 and NaN count).
 * @param side the scanned side.
 * @param raw the side's levels as JSON.parse reads them: `[price, size, …]`.
 * @param what names the side in a failure.
 * @throws {assert.AssertionError} naming the level and its string.
 * @example
 * ```ts
 * assertScannedSide(scanner.bids, msg.data.b, "b");
 * ```
 */
export function assertScannedSide(
  side: ScannedSide,
  raw: readonly (readonly string[])[],
  what: string,
): void {
  assert.equal(side.count, raw.length, `${what}: level count`);
  for (let i = 0; i < raw.length; i++) {
    const [p, q] = raw[i];
    assert.ok(
      Object.is(side.prices[i], parseFloat(p)),
      `${what}[${i}] price ${p}: ${side.prices[i]}`,
    );
    assert.ok(
      Object.is(side.sizes[i], parseFloat(q)),
      `${what}[${i}] size ${q}: ${side.sizes[i]}`,
    );
  }
}

/**
 * Asserts a book event's levels (flat `[price, size, …]`) are the scanner's.
 * @param ev the adapter's event for the frame the scanner last read.
 * @param scanner the scanner.
 * @throws {assert.AssertionError} at the first level that differs.
 * @example
 * ```ts
 * const [ev] = parser.parse(frame, 1); // a book_delta or book_snapshot
 * assertSameLevels(ev, scanner);
 * ```
 */
export function assertSameLevels(
  ev: { readonly bids: Levels; readonly asks: Levels },
  scanner: BookScanner,
): void {
  const sides = [[ev.bids, scanner.bids], [ev.asks, scanner.asks]] as const;
  for (const [levels, side] of sides) {
    for (let i = 0; i < side.count; i++) {
      assert.equal(levels[2 * i], side.prices[i]);
      assert.equal(levels[2 * i + 1], side.sizes[i]);
    }
  }
}

/**
 * Scans every frame of every source, and logs per source how many the
 * scanner read and how many it left to JSON.parse.
 * @param scanner the scanner.
 * @param sources frames by source name.
 * @param check asserts on each frame after the scan (`ok`: the scan's
 *   result); the scanner holds the frame's reading when `ok`.
 * @returns how many levels the read frames held.
 * @throws {assert.AssertionError} from `check`.
 * @example
 * ```ts
 * const levels = scanSources(scanner, await frames(), (frame, ok) => {…});
 * ```
 */
export function scanSources(
  scanner: BookScanner,
  sources: ReadonlyMap<string, readonly string[]>,
  check: (frame: string, ok: boolean, source: string) => void,
): number {
  const counts: string[] = [];
  let levels = 0;
  for (const [source, frames] of sources) {
    let recognised = 0;
    for (const frame of frames) {
      const ok = scanner.scan(frame);
      check(frame, ok, source);
      if (!ok) continue;
      recognised++;
      levels += scanner.bids.count + scanner.asks.count;
    }
    counts.push(
      `${source}: ${recognised} recognised, ${
        frames.length - recognised
      } left to JSON.parse`,
    );
  }
  console.log(`${counts.join("; ")}; ${levels} levels checked`);
  return levels;
}

/**
 * Level strings: decimals as JavaScript prints them, fixed-point, and any
 * JSON number text (signed, long, with exponents), in and out of range.
 */
export const levelToken: fc.Arbitrary<string> = fc.oneof(
  fc.double({ min: 0, max: 1e13, noNaN: true }).map(String),
  fc.double({ min: 0, max: 1e6, noNaN: true }).chain((d) =>
    fc.integer({ min: 0, max: 20 }).map((k) => d.toFixed(k))
  ),
  fc.stringMatching(
    /^-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?$/,
  ),
);

/**
 * Whether every level is one the scanners accept: price in (0, 1e12), size
 * in [0, 1e20] and not -0 (`MAX_PRICE`, `MAX_SIZE` of `_common.ts`).
 * @param levels `[price, size, …]` strings.
 * @returns true when all are in range.
 * @example
 * ```ts
 * levelsInRange([["1.5", "2"]]); // true
 * ```
 */
export function levelsInRange(
  levels: readonly (readonly string[])[],
): boolean {
  return levels.every(([p, q]) =>
    +p > 0 && +p < 1e12 && +q >= 0 && +q <= 1e20 && !Object.is(+q, -0)
  );
}

/** Options for {@link checkMutants}. */
export interface MutantOptions {
  /** Characters an edit inserts or writes over. */
  readonly alphabet: readonly string[];
  /** Mutants to try. */
  readonly numRuns: number;
  /** Asserts on a mutant the scanner read (it holds the reading). */
  readonly check: (frame: string) => void;
}

/**
 * Scans real frames with one to three random edits each (insert, delete or
 * replace a character), and checks every mutant the scanner reads.
 * @param scanner the scanner.
 * @param frames the real frames to mutate.
 * @param options the edits' alphabet, how many, and the check.
 * @returns how many mutants the scanner read.
 * @throws {Error} fast-check's report of the first failing mutant.
 * @example
 * ```ts
 * const read = checkMutants(scanner, frames, { alphabet, numRuns: 2_000, check });
 * ```
 */
export function checkMutants(
  scanner: BookScanner,
  frames: readonly string[],
  options: MutantOptions,
): number {
  let recognised = 0;
  fc.assert(
    fc.property(
      fc.nat(frames.length - 1),
      fc.array(
        fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...options.alphabet)),
        { minLength: 1, maxLength: 3 },
      ),
      (pick, edits) => {
        let f = frames[pick];
        for (const [at, op, ch] of edits) {
          const i = at % (f.length + 1);
          f = op === 0
            ? f.slice(0, i) + ch + f.slice(i) // insert
            : op === 1
            ? f.slice(0, i) + f.slice(i + 1) // delete
            : f.slice(0, i) + ch + f.slice(i + 1); // replace
        }
        if (!scanner.scan(f)) return;
        recognised++;
        options.check(f);
      },
    ),
    { numRuns: options.numRuns },
  );
  return recognised;
}
