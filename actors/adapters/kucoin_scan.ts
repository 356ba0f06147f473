/**
 * A schema-aware scanner for KuCoin spot `trade.l2update` frames: it reads a
 * frame's symbol, sequences, time and changes straight from the frame text
 * into reusable typed arrays, without the per-change arrays and strings
 * `JSON.parse` allocates. Frames it does not recognise are left to the
 * adapter's `JSON.parse` path (`kucoin.ts`).
 *
 * Recognised frames (any key order at each level, each key at most once):
 * `{"data":{"sequenceStart":1613277183874,"symbol":"BCHSV-USDT","changes":
 * {"asks":[["244.351","150","1613277183875"]],"bids":[]},"sequenceEnd":
 * 1613277183874,"time":1685578980002},"subject":"trade.l2update","topic":
 * "/market/level2:BCHSV-USDT","type":"message"}`; `time` (ms, added in 2023)
 * and `topic` may be absent. Each change is `[price, size, sequence]`, a size
 * of 0 removing the level; a price of "0" is KuCoin's placeholder for a
 * sequence number that changed nothing on that side, and is skipped.
 * Docs: https://www.kucoin.com/docs/websocket/spot-trading/public-channels/level2-market-data
 *
 * @module
 */

import { sequenceValue } from "./_common.ts";
import {
  asciiBytes,
  bytesAt,
  growSide,
  isPrice,
  isSize,
  JsonCursor,
  newSide,
  reuseSlice,
  type ScannedSide,
} from "./_scan.ts";

/** Bits of the frame's keys it has shown, to refuse duplicates. */
const KEY_DATA = 1;
const KEY_SUBJECT = 2;
const KEY_TOPIC = 4;
const KEY_TYPE = 8;
/** Keys every recognised frame has. */
const REQUIRED = KEY_DATA | KEY_SUBJECT | KEY_TYPE;

/** Bits of the `data` object's keys. */
const KEY_START = 1;
const KEY_END = 2;
const KEY_SYMBOL = 4;
const KEY_CHANGES = 8;
const KEY_TIME = 16;
/** Keys every recognised `data` has. */
const REQUIRED_DATA = KEY_START | KEY_END | KEY_SYMBOL | KEY_CHANGES;

/**
 * Each key's text after its opening quote, through `:` and, for `type` and
 * `subject`, their one value; for string values, the value's opening quote;
 * for `changes`, its object's opening `{"`.
 */
const DATA = asciiBytes('data":');
const SUBJECT = asciiBytes('subject":"trade.l2update"');
const TOPIC = asciiBytes('topic":"');
const TYPE = asciiBytes('type":"message"');
const START = asciiBytes('sequenceStart":');
const END = asciiBytes('sequenceEnd":');
const SYMBOL = asciiBytes('symbol":"');
const CHANGES = asciiBytes('changes":{"');
const TIME = asciiBytes('time":');
const ASKS = asciiBytes('asks":');
const BIDS = asciiBytes('bids":');

/**
 * Reads KuCoin `trade.l2update` frames in place. One instance serves one
 * connection: each {@link KucoinL2Scanner.scan} overwrites the fields and
 * reuses the level arrays (they grow for bigger frames and are never
 * shrunk), so read them before the next call.
 *
 * A frame is recognised only when it is exactly JSON that `JSON.parse`
 * reads to the same values, and the adapter would give a `book_delta` for
 * it (given a known symbol):
 * - no whitespace, escapes, non-ASCII text, or keys beyond those above
 *   (`data`, `subject`, `topic`, `type`; `sequenceStart`, `sequenceEnd`,
 *   `symbol`, `changes`, `time`; `asks`, `bids`);
 * - `type` is `message`, `subject` is `trade.l2update`, `topic` a string;
 * - `sequenceStart` and `sequenceEnd` are JSON numbers that are safe
 *   non-negative integers (as `sequenceValue` reads them), with
 *   `sequenceStart ≤ sequenceEnd + 1` (an update that changes nothing
 *   covers an empty range);
 * - `time`, when present, is a JSON number;
 * - every change is a three-string `["price","size","sequence"]`: either
 *   the placeholder price `"0"` (skipped, whatever its size and sequence
 *   strings hold), or JSON number tokens with `0 < price < MAX_PRICE` and
 *   `0 ≤ size ≤ MAX_SIZE` (not `-0`), as `priceValue` and `sizeValue` accept
 *   them; each is the double `parseFloat` gives. The per-change sequence is
 *   not read (the adapter ignores it).
 * Anything else (matches, tickers, candles, acks, welcome, pong, errors,
 * sequences written as strings, a level the adapter refuses) returns false:
 * parse that frame with `JSON.parse` (the adapter).
 *
 * @example
 * ```ts
 * const s = new KucoinL2Scanner();
 * if (s.scan(frame)) {
 *   s.symbol; // "BCHSV-USDT"
 *   s.asks.prices[0]; // 244.351
 * } else {
 *   events = parser.parse(frame, recvTs);
 * }
 * ```
 */
export class KucoinL2Scanner {
  /** The exchange symbol `symbol`, e.g. `BCHSV-USDT`. */
  symbol = "";
  /** `sequenceStart`: the first sequence number the update covers. */
  first: number = NaN;
  /** `sequenceEnd`: the last sequence number the update covers. */
  last: number = NaN;
  /**
   * The event time `time`, ms since the epoch, as JSON.parse reads the
   * number (±Infinity beyond the double range); NaN when the frame has none.
   */
  time: number = NaN;
  /** The `bids` changes, placeholders left out: bid levels, in frame order. */
  readonly bids: ScannedSide = newSide();
  /** The `asks` changes, placeholders left out: ask levels, in frame order. */
  readonly asks: ScannedSide = newSide();
  readonly #c = new JsonCursor();

  /**
   * Reads one frame.
   * @param frame a received text frame.
   * @returns true when it is a `trade.l2update` as the class describes, its
   *   fields now set; false when it is anything else (the fields are then
   *   meaningless).
   * @throws {never} does not throw; odd input returns false.
   */
  scan(frame: string): boolean {
    const c = this.#c;
    if (!c.reset(frame)) return false;
    const t = c.bytes;
    if (t[0] !== 0x7b || t[1] !== 0x22) return false; // '{"'
    c.pos = 2;
    let seen = 0;
    for (;;) {
      // At the key's first character.
      const i = c.pos;
      const k0 = t[i];
      let key: number;
      if (k0 === 0x64 && bytesAt(t, i, DATA)) { // "d"
        key = KEY_DATA;
        c.pos = i + DATA.length;
        if (!this.#data(c, frame)) return false;
      } else if (k0 === 0x73 && bytesAt(t, i, SUBJECT)) { // "s"
        key = KEY_SUBJECT;
        c.pos = i + SUBJECT.length;
      } else if (k0 === 0x74 && bytesAt(t, i, TOPIC)) { // "t"
        key = KEY_TOPIC;
        c.pos = i + TOPIC.length;
        if (c.stringBody() < 0) return false;
      } else if (k0 === 0x74 && bytesAt(t, i, TYPE)) {
        key = KEY_TYPE;
        c.pos = i + TYPE.length;
      } else {
        return false;
      }
      if ((seen & key) !== 0) return false;
      seen |= key;
      const sep = t[c.pos++];
      if (sep === 0x7d) break; // "}"
      if (sep !== 0x2c || t[c.pos++] !== 0x22) return false; // ',"'
    }
    return (seen & REQUIRED) === REQUIRED && c.pos === frame.length;
  }

  /**
   * Reads the `data` object at the cursor; false when it is not an
   * `l2update`'s as the class describes.
   */
  #data(c: JsonCursor, frame: string): boolean {
    const t = c.bytes;
    if (t[c.pos] !== 0x7b || t[c.pos + 1] !== 0x22) return false; // '{"'
    c.pos += 2;
    this.time = NaN;
    let seen = 0;
    for (;;) {
      const i = c.pos;
      const k0 = t[i];
      let key: number;
      if (k0 === 0x73 && bytesAt(t, i, START)) { // "s"
        key = KEY_START;
        c.pos = i + START.length;
        if ((this.first = sequenceValue(c.number())) !== this.first) {
          return false;
        }
      } else if (k0 === 0x73 && bytesAt(t, i, END)) {
        key = KEY_END;
        c.pos = i + END.length;
        if ((this.last = sequenceValue(c.number())) !== this.last) {
          return false;
        }
      } else if (k0 === 0x73 && bytesAt(t, i, SYMBOL)) {
        key = KEY_SYMBOL;
        const from = c.pos = i + SYMBOL.length;
        const end = c.stringBody();
        if (end < 0) return false;
        this.symbol = reuseSlice(this.symbol, frame, from, end);
      } else if (k0 === 0x63 && bytesAt(t, i, CHANGES)) { // "c"
        key = KEY_CHANGES;
        c.pos = i + CHANGES.length;
        if (!this.#changes(c)) return false;
      } else if (k0 === 0x74 && bytesAt(t, i, TIME)) { // "t"
        key = KEY_TIME;
        c.pos = i + TIME.length;
        if ((this.time = c.number()) !== this.time) return false;
      } else {
        return false;
      }
      if ((seen & key) !== 0) return false;
      seen |= key;
      const sep = t[c.pos++];
      if (sep === 0x7d) break; // "}"
      if (sep !== 0x2c || t[c.pos++] !== 0x22) return false; // ',"'
    }
    // The adapter's range check: an empty update has start = end + 1.
    return (seen & REQUIRED_DATA) === REQUIRED_DATA &&
      this.first <= this.last + 1;
  }

  /**
   * Reads the `changes` object's body `asks":[…],"bids":[…]}` (either order)
   * at the cursor, just past its `{"`, into `asks` and `bids`.
   */
  #changes(c: JsonCursor): boolean {
    const t = c.bytes;
    let seen = 0; // 1: asks, 2: bids
    for (;;) {
      const i = c.pos;
      let side: ScannedSide;
      let key: number;
      if (bytesAt(t, i, ASKS)) {
        side = this.asks;
        key = 1;
      } else if (bytesAt(t, i, BIDS)) {
        side = this.bids;
        key = 2;
      } else {
        return false;
      }
      if ((seen & key) !== 0) return false;
      seen |= key;
      c.pos = i + ASKS.length; // both keys are as long
      if (!readChanges(c, side)) return false;
      const sep = t[c.pos++];
      if (sep === 0x7d) break; // "}"
      if (sep !== 0x2c || t[c.pos++] !== 0x22) return false; // ',"'
    }
    return seen === 3;
  }
}

/**
 * Reads a change array `[["price","size","sequence"],…]` at the cursor into
 * `side`, skipping the placeholder price `"0"` as the adapter's `changes`
 * does; false when it is not such an array or a level is out of range.
 */
function readChanges(c: JsonCursor, side: ScannedSide): boolean {
  const t = c.bytes;
  let i = c.pos;
  if (t[i] !== 0x5b) return false; // "["
  if (t[i + 1] === 0x5d) { // "]": no changes
    c.pos = i + 2;
    side.count = 0;
    return true;
  }
  if (t[i + 1] !== 0x5b || t[i + 2] !== 0x22) return false; // '["'
  c.pos = i + 3;
  let prices = side.prices;
  let sizes = side.sizes;
  let n = 0;
  for (;;) {
    // At the price's first character.
    i = c.pos;
    if (t[i] === 0x30 && t[i + 1] === 0x22) { // "0": the placeholder
      // Skipped whatever its size: that need only be a string.
      if (t[i + 2] !== 0x2c || t[i + 3] !== 0x22) return false; // ',"'
      c.pos = i + 4;
      if (c.stringBody() < 0) return false;
      i = c.pos;
    } else {
      // Price, then size, through one call site of `decimal` (see its
      // comment on inlining).
      let price = NaN;
      for (;;) {
        const x = c.decimal();
        i = c.pos;
        if (price !== price) {
          if (
            !isPrice(x) || t[i] !== 0x22 || t[i + 1] !== 0x2c ||
            t[i + 2] !== 0x22 // '","'
          ) return false;
          price = x;
          c.pos = i + 3;
          continue;
        }
        if (!isSize(x) || t[i] !== 0x22) return false; // '"'
        if (n === prices.length) {
          growSide(side);
          prices = side.prices;
          sizes = side.sizes;
        }
        prices[n] = price;
        sizes[n] = x;
        n++;
        i++;
        break;
      }
    }
    // At ',"' before the change's sequence: a string, not read.
    if (t[i] !== 0x2c || t[i + 1] !== 0x22) return false;
    c.pos = i + 2;
    if (c.stringBody() < 0) return false;
    i = c.pos;
    if (t[i] !== 0x5d) return false; // "]"
    const sep = t[i + 1];
    if (sep === 0x5d) { // "]"
      c.pos = i + 2;
      break;
    }
    // ',["'
    if (sep !== 0x2c || t[i + 2] !== 0x5b || t[i + 3] !== 0x22) return false;
    c.pos = i + 4;
  }
  side.count = n;
  return true;
}
