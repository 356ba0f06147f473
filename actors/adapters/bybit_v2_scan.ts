/**
 * A schema-aware scanner for Bybit v2 (legacy derivatives) `orderBookL2_25`
 * delta frames: it reads a frame's symbol, `cross_seq`, time and rows
 * straight from the frame text into reusable typed arrays, without the
 * per-row objects and strings `JSON.parse` allocates. Frames it does not
 * recognise are left to the adapter's `JSON.parse` path (`bybit_v2.ts`).
 *
 * Recognised frames (any key order at each level, each key at most once):
 * `{"topic":"orderBookL2_25.BCHUSDT","type":"delta","data":{"delete":[{"price":
 * "1054.30","symbol":"BCHUSDT","id":"10543000","side":"Buy"}],"update":[{"price":
 * "1053.75","symbol":"BCHUSDT","id":"10537500","side":"Buy","size":17.46}],
 * "insert":[…],"transactTimeE6":0},"cross_seq":"5503960397","timestamp_e6":
 * "1618677786985830"}`. USDT perpetuals (`/realtime_public`) write
 * `cross_seq`, `timestamp_e6` and `id` as strings; inverse contracts
 * (`/realtime`) as numbers, and add `transactTimeE6`. A deleted row's size
 * is 0 whatever it says (it usually says nothing).
 * Docs: https://bybit-exchange.github.io/docs-legacy/futuresV2/inverse/#t-websocket
 * USDT perpetual: https://bybit-exchange.github.io/docs-legacy/futuresV2/linear/#t-websocket
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
const KEY_TOPIC = 1;
const KEY_TYPE = 2;
const KEY_DATA = 4;
const KEY_SEQ = 8;
const KEY_TIME = 16;
/** Keys every recognised frame has. */
const REQUIRED = KEY_TOPIC | KEY_TYPE | KEY_DATA;

/** Bits of the `data` object's keys. */
const DATA_DELETE = 1;
const DATA_UPDATE = 2;
const DATA_INSERT = 4;
const DATA_TRANSACT = 8;

/** Bits of a row's keys. */
const ROW_PRICE = 1;
const ROW_SYMBOL = 2;
const ROW_ID = 4;
const ROW_SIDE = 8;
const ROW_SIZE = 16;
/** Keys every deleted row has; other rows have a size too. */
const ROW_DELETED = ROW_PRICE | ROW_SIDE;
const ROW_LEVEL = ROW_PRICE | ROW_SIDE | ROW_SIZE;

/**
 * Each key's text after its opening quote, through `:` and, for `type` and
 * `side`, their value; for string values, the value's opening quote; for
 * `topic`, the channel and its dot; for `data`, its object's opening `{"`.
 */
const TOPIC = asciiBytes('topic":"orderBookL2_25.');
const TYPE = asciiBytes('type":"delta"');
const DATA = asciiBytes('data":{"');
const SEQ = asciiBytes('cross_seq":');
const TIME = asciiBytes('timestamp_e6":');
const DELETE = asciiBytes('delete":');
const UPDATE = asciiBytes('update":');
const INSERT = asciiBytes('insert":');
const TRANSACT = asciiBytes('transactTimeE6":');
const PRICE = asciiBytes('price":"');
const SYMBOL = asciiBytes('symbol":"');
const ID = asciiBytes('id":');
const BUY = asciiBytes('side":"Buy"');
const SELL = asciiBytes('side":"Sell"');
const SIZE = asciiBytes('size":');

/**
 * Reads Bybit v2 `orderBookL2_25` delta frames in place. One instance serves
 * one connection: each {@link BybitV2BookScanner.scan} overwrites the fields
 * and reuses the level arrays (they grow for bigger frames and are never
 * shrunk), so read them before the next call.
 *
 * A frame is recognised only when it is exactly JSON that `JSON.parse`
 * reads to the same values, and the adapter would give a `book_delta` for
 * it (given a known symbol):
 * - no whitespace, escapes, non-ASCII text, or keys beyond those above
 *   (`topic`, `type`, `data`, `cross_seq`, `timestamp_e6`; `delete`,
 *   `update`, `insert`, `transactTimeE6`; a row's `price`, `symbol`, `id`,
 *   `side`, `size`);
 * - `topic` is `orderBookL2_25.` and a symbol (the text after the topic's
 *   last dot, as the adapter takes it), `type` is `delta`;
 * - `update` is there; `delete`, `update` and `insert`, those present,
 *   come in that order (the adapter applies them in that order whatever
 *   the key order; another order is left to it), each an array of row
 *   objects;
 * - every row has a `price` string holding a JSON number token with
 *   `0 < price < MAX_PRICE` (as `priceValue` reads it) and `side` `"Buy"`
 *   or `"Sell"`; an updated or inserted row has a JSON number `size` with
 *   `0 ≤ size ≤ MAX_SIZE`, not `-0` (as `sizeValue` accepts it); a deleted
 *   row's `size`, if any, is a JSON number and is not read. `symbol` is a
 *   string and `id` a string or a JSON number, neither read (the adapter
 *   ignores them);
 * - `cross_seq`, when present, is a safe non-negative integer as
 *   `sequenceValue` reads it, and `timestamp_e6` a number, each a JSON
 *   number or a string of one; `transactTimeE6` a JSON number, not read.
 * Rows are split into `bids` (`Buy`) and `asks` (`Sell`): deleted rows
 * first (size 0), then updated, then inserted, each in frame order, as the
 * adapter lays them out. Anything else (snapshots, trades, liquidations,
 * acks, pongs, a row the adapter refuses) returns false: parse that frame
 * with `JSON.parse` (the adapter).
 *
 * @example
 * ```ts
 * const s = new BybitV2BookScanner();
 * if (s.scan(frame)) {
 *   s.symbol; // "BCHUSDT"
 *   s.bids.prices[0]; // 1054.3 (deleted: s.bids.sizes[0] is 0)
 * } else {
 *   events = parser.parse(frame, recvTs);
 * }
 * ```
 */
export class BybitV2BookScanner {
  /** The exchange symbol from `topic`, e.g. `BCHUSDT`. */
  symbol = "";
  /**
   * `cross_seq`, the matching engine's sequence number (see `sequenceValue`);
   * -1 when the frame has none, as the adapter reports it.
   */
  crossSeq = -1;
  /**
   * `timestamp_e6`, µs since the epoch, as `JSON.parse` or `parseFloat`
   * reads it (±Infinity beyond the double range); NaN when the frame has
   * none.
   */
  timeE6: number = NaN;
  /** The `Buy` rows: bid levels, sizes as sent (contracts, 0 for deletes). */
  readonly bids: ScannedSide = newSide();
  /** The `Sell` rows: ask levels, as `bids`. */
  readonly asks: ScannedSide = newSide();
  readonly #c = new JsonCursor();

  /**
   * Reads one frame.
   * @param frame a received text frame.
   * @returns true when it is an `orderBookL2_25` delta as the class
   *   describes, its fields now set; false when it is anything else (the
   *   fields are then meaningless).
   * @throws {never} does not throw; odd input returns false.
   */
  scan(frame: string): boolean {
    const c = this.#c;
    if (!c.reset(frame)) return false;
    const t = c.bytes;
    if (t[0] !== 0x7b || t[1] !== 0x22) return false; // '{"'
    c.pos = 2;
    this.crossSeq = -1;
    this.timeE6 = NaN;
    let seen = 0;
    for (;;) {
      // At the key's first character: `topic`, `type` and `timestamp_e6`
      // share theirs.
      const i = c.pos;
      const k0 = t[i];
      let key: number;
      if (k0 === 0x64 && bytesAt(t, i, DATA)) { // "d"
        key = KEY_DATA;
        c.pos = i + DATA.length;
        if (!this.#data(c)) return false;
      } else if (k0 === 0x74 && bytesAt(t, i, TOPIC)) { // "t"
        key = KEY_TOPIC;
        const from = c.pos = i + TOPIC.length;
        const end = c.stringBody();
        if (end < 0) return false;
        this.#symbol(frame, t, from, end);
      } else if (k0 === 0x74 && bytesAt(t, i, TYPE)) {
        key = KEY_TYPE;
        c.pos = i + TYPE.length;
      } else if (k0 === 0x63 && bytesAt(t, i, SEQ)) { // "c"
        key = KEY_SEQ;
        c.pos = i + SEQ.length;
        // A JSON number on `/realtime`, a string of one on `/realtime_public`
        // (its value the token's `parseFloat`, as `decimalValue` reads it).
        const seq = sequenceValue(
          t[c.pos] === 0x22 ? c.quotedNumber() : c.number(),
        );
        if (seq !== seq) return false;
        this.crossSeq = seq;
      } else if (k0 === 0x74 && bytesAt(t, i, TIME)) {
        key = KEY_TIME;
        c.pos = i + TIME.length;
        this.timeE6 = t[c.pos] === 0x22 ? c.quotedNumber() : c.number();
        if (this.timeE6 !== this.timeE6) return false;
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
   * Sets `symbol` to the topic's text after its last dot, `from`..`end` of
   * the frame but past any dot there (the adapter's `lastIndexOf(".")`);
   * the same symbol as the last frame's keeps its string.
   */
  #symbol(frame: string, t: Uint8Array, from: number, end: number): void {
    for (let k = from; k < end; k++) if (t[k] === 0x2e) from = k + 1; // "."
    this.symbol = reuseSlice(this.symbol, frame, from, end);
  }

  /**
   * Reads the `data` object's body at the cursor, just past its `{"`, into
   * `bids` and `asks`; false when it is not a delta's as the class
   * describes.
   */
  #data(c: JsonCursor): boolean {
    const t = c.bytes;
    this.bids.count = this.asks.count = 0;
    let seen = 0;
    for (;;) {
      const i = c.pos;
      const k0 = t[i];
      let key: number;
      let later = 0; // the row arrays applied after this key's
      if (k0 === 0x64 && bytesAt(t, i, DELETE)) { // "d"
        key = DATA_DELETE;
        later = DATA_UPDATE | DATA_INSERT;
        c.pos = i + DELETE.length;
      } else if (k0 === 0x75 && bytesAt(t, i, UPDATE)) { // "u"
        key = DATA_UPDATE;
        later = DATA_INSERT;
        c.pos = i + UPDATE.length;
      } else if (k0 === 0x69 && bytesAt(t, i, INSERT)) { // "i"
        key = DATA_INSERT;
        c.pos = i + INSERT.length;
      } else if (k0 === 0x74 && bytesAt(t, i, TRANSACT)) { // "t"
        key = DATA_TRANSACT;
        c.pos = i + TRANSACT.length;
        if (!c.skipNumber()) return false;
      } else {
        return false;
      }
      // Each key once, and the row arrays in the order they are applied:
      // none after a later one.
      if ((seen & (key | later)) !== 0) return false;
      seen |= key;
      if (key !== DATA_TRANSACT && !this.#rows(c, key === DATA_DELETE)) {
        return false;
      }
      const sep = t[c.pos++];
      if (sep === 0x7d) break; // "}"
      if (sep !== 0x2c || t[c.pos++] !== 0x22) return false; // ',"'
    }
    return (seen & DATA_UPDATE) !== 0;
  }

  /**
   * Reads a row array `[{"price":"…","side":"Buy",…},…]` at the cursor,
   * appending each row's level to `bids` or `asks`; a deleted row's size is
   * 0. False when it is not such an array or a row is refused.
   */
  #rows(c: JsonCursor, deleted: boolean): boolean {
    const t = c.bytes;
    const bids = this.bids;
    const asks = this.asks;
    let i = c.pos;
    if (t[i] !== 0x5b) return false; // "["
    if (t[i + 1] === 0x5d) { // "]": no rows
      c.pos = i + 2;
      return true;
    }
    c.pos = i + 1;
    const required = deleted ? ROW_DELETED : ROW_LEVEL;
    for (;;) {
      // At the row's '{"'.
      i = c.pos;
      if (t[i] !== 0x7b || t[i + 1] !== 0x22) return false;
      c.pos = i + 2;
      let seen = 0;
      let price = 0;
      let size = 0; // a deleted row's
      let buy = false;
      for (;;) {
        i = c.pos;
        const k0 = t[i];
        let key: number;
        // Price and size are read below, through one call site of
        // `decimal` (see its comment on inlining).
        if (k0 === 0x70 && bytesAt(t, i, PRICE)) { // "p"
          key = ROW_PRICE;
          c.pos = i + PRICE.length;
        } else if (k0 === 0x73 && bytesAt(t, i, SYMBOL)) { // "s"
          key = ROW_SYMBOL;
          c.pos = i + SYMBOL.length;
          if (c.stringBody() < 0) return false;
        } else if (k0 === 0x69 && bytesAt(t, i, ID)) { // "i"
          key = ROW_ID;
          c.pos = i + ID.length;
          if (t[c.pos] === 0x22) {
            c.pos++;
            if (c.stringBody() < 0) return false;
          } else if (!c.skipNumber()) {
            return false;
          }
        } else if (k0 === 0x73 && bytesAt(t, i, BUY)) {
          key = ROW_SIDE;
          buy = true;
          c.pos = i + BUY.length;
        } else if (k0 === 0x73 && bytesAt(t, i, SELL)) {
          key = ROW_SIDE;
          buy = false;
          c.pos = i + SELL.length;
        } else if (k0 === 0x73 && bytesAt(t, i, SIZE)) {
          key = ROW_SIZE;
          c.pos = i + SIZE.length;
        } else {
          return false;
        }
        if ((seen & key) !== 0) return false;
        seen |= key;
        if ((key & (ROW_PRICE | ROW_SIZE)) !== 0) {
          const x = c.decimal();
          i = c.pos;
          if (key === ROW_PRICE) {
            if (!isPrice(x) || t[i] !== 0x22) return false;
            price = x;
            c.pos = i + 1;
          } else if (deleted) {
            if (x !== x) return false; // any number: not read
          } else {
            if (!isSize(x)) return false;
            size = x;
          }
        }
        const sep = t[c.pos++];
        if (sep === 0x7d) break; // "}"
        if (sep !== 0x2c || t[c.pos++] !== 0x22) return false; // ',"'
      }
      if ((seen & required) !== required) return false;
      const side = buy ? bids : asks;
      const n = side.count;
      if (n === side.prices.length) growSide(side);
      side.prices[n] = price;
      side.sizes[n] = size;
      side.count = n + 1;
      const sep = t[c.pos++];
      if (sep === 0x5d) return true; // "]"
      if (sep !== 0x2c) return false; // ","
    }
  }
}
