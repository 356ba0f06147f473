/**
 * A schema-aware scanner for Kraken WebSocket v1 `book` update frames: it
 * reads an update straight from the frame text into reusable typed arrays,
 * without the per-level arrays `JSON.parse` allocates. The price and volume
 * strings are kept as slices of the frame, for Kraken's CRC32 checksum
 * (`krakenChecksum`), which is computed over the venue's strings. Frames it
 * does not recognise are left to the adapter's `JSON.parse` path.
 *
 * Recognised frames: `[channelID,{"a":[["5541.30000","2.50700000",
 * "1534614248.123678"],…]},{"b":[…],"c":"974942666"},"book-1000","XBT/USD"]`
 * (one object per side), or one object holding `a` and/or `b` and `c`.
 * Docs: https://docs.kraken.com/api/docs/websocket-v1/book
 *
 * @module
 */

import { krakenSecondsAt } from "./_kraken.ts";
import {
  growSide,
  isPrice,
  isSize,
  JsonCursor,
  newTextSide,
  reuseSlice,
  type ScannedTextSide,
} from "./_scan.ts";

/** Bits of the keys an update object has shown, to refuse duplicates. */
const KEY_a = 1;
const KEY_b = 2;
const KEY_c = 4;

/** Channel ids whose pair string is kept (one per subscription). */
const MAX_CHANNELS = 1024;

/**
 * Reads Kraken v1 `book` updates in place. One instance serves one
 * connection: each {@link KrakenBookScanner.scan} overwrites the fields and
 * reuses the level arrays (they grow for bigger frames and are never
 * shrunk), so read them before the next call.
 *
 * A frame is recognised only when it is exactly JSON that `JSON.parse`
 * reads to the same values, and the adapter (`kraken_v1.ts`) would read it
 * as one `book_delta`:
 * - an array of a JSON number (the channel id, which the adapter ignores),
 *   one or more update objects, a channel name starting with `book` and
 *   the pair, with no whitespace or escapes;
 * - each update object holds `a`, `b` and `c` only, each at most once, in
 *   any order, and at least one of them; levels of the same side in
 *   several objects follow one another, as the adapter concatenates them,
 *   and the last `c` is the checksum;
 * - every level is `["price","volume","timestamp"]`, or the same with a
 *   republish flag `"r"` after it (applied like any update, as the adapter
 *   does): the price and volume JSON number tokens with
 *   `0 < price < MAX_PRICE` and `0 ≤ volume ≤ MAX_SIZE` (`"-0"` is left to
 *   the adapter), the timestamp decimal seconds `digits[.digits]` of at most
 *   15 whole digits and later than the epoch;
 * - `c` a string of an unsigned 32-bit integer in decimal digits, without
 *   a leading zero (other spellings `checksumValue` reads, such as a sign or
 *   an exponent, are left to the adapter).
 * Anything else (snapshots `as`/`bs`, trades, other channels, events,
 * heartbeats, odd frames) returns false: parse that frame with
 * `JSON.parse` (the adapter), which decides whether it is an event,
 * nothing, or malformed. The pair is not looked up here.
 *
 * Every price and volume is the double `parseFloat` gives for its string;
 * every timestamp the ms `krakenSeconds` gives.
 *
 * @example
 * ```ts
 * const s = new KrakenBookScanner();
 * if (s.scan(frame)) {
 *   s.pair; // "XBT/USD"
 *   s.asks.priceText[0]; // "5541.30000"
 * } else {
 *   events = parser.parse(frame, recvTs);
 * }
 * ```
 */
export class KrakenBookScanner {
  /** The pair as the frame names it (`wsname`), e.g. `XBT/USD`. */
  pair = "";
  /** The latest level timestamp, ms since epoch; 0 when no level. */
  ts = 0;
  /** The checksum `c`, unsigned 32-bit; NaN when absent. */
  checksum: number = NaN;
  /**
   * The ask levels of every `a`, in the frame's order, strings kept. Like
   * the numbers, only the first `count` strings are this frame's: the
   * arrays are not shortened (that costs more than the rest of a scan).
   */
  readonly asks: ScannedTextSide = newTextSide();
  /** The bid levels of every `b`, as {@link KrakenBookScanner.asks}. */
  readonly bids: ScannedTextSide = newTextSide();
  readonly #c = new JsonCursor();
  /** The pair last read on each channel id. */
  readonly #pairs = new Map<number, string>();

  /**
   * Reads one frame.
   * @param frame a received text frame.
   * @returns true when it is a `book` update as the class describes, its
   *   fields now set; false when it is anything else (the fields are then
   *   meaningless).
   * @throws {never} does not throw; odd input returns false.
   */
  scan(frame: string): boolean {
    const c = this.#c;
    if (!c.reset(frame)) return false;
    const t = c.bytes;
    // `[` and the channel id: an unsigned integer here (the adapter ignores
    // it; other spellings are left to it).
    let d = (t[1] - 0x30) >>> 0;
    if (t[0] !== 0x5b || d > 9) return false; // "["
    let i = 2;
    let id = d;
    if (d !== 0) {
      while ((d = (t[i] - 0x30) >>> 0) <= 9) {
        id = id * 10 + d;
        i++;
      }
    }
    const asks = this.asks;
    const bids = this.bids;
    asks.count = bids.count = 0;
    this.ts = 0;
    this.checksum = NaN;
    let objects = 0;
    while (t[i] === 0x2c && t[i + 1] === 0x7b) { // ",{"
      i += 2;
      let seen = 0;
      for (;;) {
        // A key: `"a":`, `"b":` or `"c":`.
        const k = t[i + 1];
        const key = k === 0x61
          ? KEY_a
          : k === 0x62
          ? KEY_b
          : k === 0x63
          ? KEY_c
          : 0;
        if (
          key === 0 || (seen & key) !== 0 || t[i] !== 0x22 ||
          t[i + 2] !== 0x22 || t[i + 3] !== 0x3a
        ) return false;
        seen |= key;
        c.pos = i + 4;
        if (key === KEY_c) {
          // `"digits"`: 1 to 10 without a leading zero, at most 2^32 - 1
          // (exact as accumulated); other spellings are left to the adapter.
          let j = i + 5;
          d = (t[j] - 0x30) >>> 0;
          if (t[j - 1] !== 0x22 || d > 9 || (d === 0 && t[j + 1] !== 0x22)) {
            return false;
          }
          let x = 0;
          do {
            x = x * 10 + d;
            d = (t[++j] - 0x30) >>> 0;
          } while (d <= 9);
          if (t[j] !== 0x22 || j - i - 5 > 10 || x > 0xffffffff) return false;
          this.checksum = x;
          c.pos = j + 1;
        } else if (!this.#levels(key === KEY_a ? asks : bids)) {
          return false;
        }
        i = c.pos + 1;
        d = t[i - 1];
        if (d === 0x7d) break; // "}"
        if (d !== 0x2c) return false; // ","
      }
      objects++;
    }
    // The channel name, `"book…"`, and the pair, then `]`.
    if (
      objects === 0 || t[i] !== 0x2c || t[i + 1] !== 0x22 ||
      t[i + 2] !== 0x62 || t[i + 3] !== 0x6f || t[i + 4] !== 0x6f ||
      t[i + 5] !== 0x6b // ',"book'
    ) return false;
    c.pos = i + 2;
    if (c.stringBody() < 0) return false;
    i = c.pos;
    if (t[i] !== 0x2c || t[i + 1] !== 0x22) return false; // ',"'
    c.pos = i + 2;
    const end = c.stringBody();
    if (end < 0 || t[c.pos] !== 0x5d || c.pos + 1 !== c.end) return false;
    // The pair: the string last read on this channel when the text is the
    // same (no copy, and a table lookup that finds its hash computed).
    const last = this.#pairs.get(id);
    const pair = reuseSlice(last ?? "", frame, i + 2, end);
    if (pair !== last) {
      if (this.#pairs.size === MAX_CHANNELS) this.#pairs.clear();
      this.#pairs.set(id, pair);
    }
    this.pair = pair;
    return true;
  }

  /**
   * Reads a level array `[["price","volume","timestamp"(,"r")],…]` onto the
   * end of `side`, with its strings, and raises {@link KrakenBookScanner.ts}
   * to its latest timestamp.
   * @returns false when the text there is not one, or a level is out of
   *   range or has a timestamp the adapter refuses.
   */
  #levels(side: ScannedTextSide): boolean {
    const c = this.#c;
    const t = c.bytes;
    const text = c.text;
    if (t[c.pos] !== 0x5b) return false; // "["
    if (t[++c.pos] === 0x5d) { // "]": no levels
      c.pos++;
      return true;
    }
    let n = side.count;
    let ts = this.ts;
    for (;;) {
      let i = c.pos;
      if (t[i] !== 0x5b || t[i + 1] !== 0x22) return false; // '["'
      const p0 = c.pos = i + 2;
      const p = c.decimal();
      i = c.pos;
      if (
        !isPrice(p) || t[i] !== 0x22 || t[i + 1] !== 0x2c ||
        t[i + 2] !== 0x22 // '","'
      ) return false;
      const p1 = i;
      const q0 = c.pos = i + 3;
      const q = c.decimal();
      i = c.pos;
      if (
        !isSize(q) || t[i] !== 0x22 || t[i + 1] !== 0x2c || t[i + 2] !== 0x22 // '","'
      ) return false;
      const q1 = i;
      // The timestamp string, read as the adapter's `krakenSeconds` reads it.
      const w0 = c.pos = i + 3;
      const w1 = c.stringBody();
      const when = krakenSecondsAt(t, w0, w1);
      if (!(when > 0)) return false;
      // Whole seconds of more than 15 digits (which no feed sends) stay
      // refused, as they always were here.
      if (w1 - w0 > 15) {
        let dot = w0;
        while (dot < w1 && t[dot] !== 0x2e) dot++; // "."
        if (dot - w0 > 15) return false;
      }
      i = c.pos;
      // A republished level: `,"r"`.
      if (t[i] === 0x2c) {
        if (t[i + 1] !== 0x22 || t[i + 2] !== 0x72 || t[i + 3] !== 0x22) {
          return false;
        }
        i += 4;
      }
      if (t[i] !== 0x5d) return false; // "]"
      if (n === side.prices.length) growSide(side);
      side.prices[n] = p;
      side.sizes[n] = q;
      side.priceText[n] = text.slice(p0, p1);
      side.sizeText[n] = text.slice(q0, q1);
      n++;
      if (when > ts) ts = when;
      const sep = t[i + 1];
      c.pos = i + 2;
      if (sep === 0x5d) break; // "]"
      if (sep !== 0x2c) return false; // ","
    }
    side.count = n;
    this.ts = ts;
    return true;
  }
}
