/**
 * A schema-aware scanner for Coinbase Pro (Coinbase Exchange) `l2update`
 * frames: it reads a frame's product, time and changes straight from the
 * frame text into reusable typed arrays, without the per-change arrays and
 * strings `JSON.parse` allocates. Frames it does not recognise are left to
 * the adapter's `JSON.parse` path (`coinbase_pro.ts`).
 *
 * Recognised frames (any key order, each key at most once):
 * `{"type":"l2update","product_id":"BTC-USD","changes":[["buy","60000.01",
 * "0.5"],["sell",…]],"time":"2021-04-17T16:43:37.075687Z"}`; `time` may be
 * absent. Each change is `[side, price, new size]`, a size of 0 removing
 * the level.
 * Docs: https://docs.cdp.coinbase.com/exchange/websocket-feed/channels
 * ("Level2 Channel").
 *
 * @module
 */

import { isoTimeMs } from "./_coinbase.ts";
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

/** Bits of the keys an `l2update` has shown, to refuse duplicates. */
const KEY_TYPE = 1;
const KEY_PRODUCT = 2;
const KEY_CHANGES = 4;
const KEY_TIME = 8;
/** Keys every recognised frame has. */
const REQUIRED = KEY_TYPE | KEY_PRODUCT | KEY_CHANGES;

/**
 * Each key's text after its opening quote, through `:` and, for `type`, its
 * one value; for string values, the value's opening quote.
 */
const TYPE = asciiBytes('type":"l2update"');
const PRODUCT = asciiBytes('product_id":"');
const CHANGES = asciiBytes('changes":');
const TIME = asciiBytes('time":"');

/**
 * Reads Coinbase Pro `l2update` frames in place. One instance serves one
 * connection: each {@link CoinbaseL2Scanner.scan} overwrites the fields and
 * reuses the level arrays (they grow for bigger frames and are never
 * shrunk), so read them before the next call.
 *
 * A frame is recognised only when it is exactly JSON that `JSON.parse`
 * reads to the same values, and the adapter would give a `book_delta` for
 * it (given a known product):
 * - no whitespace, escapes, non-ASCII text or keys beyond the four above;
 * - every change is a three-string `["buy"|"sell","price","size"]` whose
 *   numbers are JSON number tokens with `0 < price < MAX_PRICE` and
 *   `0 ≤ size ≤ MAX_SIZE` (not `-0`), as `priceValue` and `sizeValue`
 *   accept them; each is the double `parseFloat` gives;
 * - `time`, when present, is a string.
 * Changes are split into `bids` (`buy`) and `asks` (`sell`), each in frame
 * order, as the adapter splits them. Anything else (snapshots, matches,
 * tickers, heartbeats, an unknown side, a level the adapter refuses)
 * returns false: parse that frame with `JSON.parse` (the adapter).
 *
 * @example
 * ```ts
 * const s = new CoinbaseL2Scanner();
 * if (s.scan(frame)) {
 *   s.productId; // "BTC-USD"
 *   s.bids.prices[0]; // 60000.01
 * } else {
 *   events = parser.parse(frame, recvTs);
 * }
 * ```
 */
export class CoinbaseL2Scanner {
  /** The product `product_id`, e.g. `BTC-USD`. */
  productId = "";
  /**
   * The event time `time`, ms since the epoch, exactly as `Date.parse`
   * reads the string (see `isoTimeMs`): NaN when it is no time, and
   * when the frame has no `time`.
   */
  time: number = NaN;
  /** The `buy` changes: bid levels, in frame order. */
  readonly bids: ScannedSide = newSide();
  /** The `sell` changes: ask levels, in frame order. */
  readonly asks: ScannedSide = newSide();
  readonly #c = new JsonCursor();

  /**
   * Reads one frame.
   * @param frame a received text frame.
   * @returns true when it is an `l2update` as the class describes, its
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
    this.time = NaN;
    let seen = 0;
    for (;;) {
      // At the key's first character: `type` and `time` share theirs.
      const i = c.pos;
      const k0 = t[i];
      let key: number;
      if (k0 === 0x74 && bytesAt(t, i, TYPE)) { // "t"
        key = KEY_TYPE;
        c.pos = i + TYPE.length;
      } else if (k0 === 0x63 && bytesAt(t, i, CHANGES)) { // "c"
        key = KEY_CHANGES;
        c.pos = i + CHANGES.length;
        if (!this.#changes(c)) return false;
      } else if (k0 === 0x70 && bytesAt(t, i, PRODUCT)) { // "p"
        key = KEY_PRODUCT;
        const from = c.pos = i + PRODUCT.length;
        const end = c.stringBody();
        if (end < 0) return false;
        this.productId = reuseSlice(this.productId, frame, from, end);
      } else if (k0 === 0x74 && bytesAt(t, i, TIME)) {
        key = KEY_TIME;
        const from = c.pos = i + TIME.length;
        const end = c.stringBody();
        if (end < 0) return false;
        this.time = isoTimeMs(frame, t, from, end);
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
   * Reads the `changes` array `[["buy","price","size"],…]` at the cursor
   * into `bids` and `asks`; false when it is not one or a level is out of
   * range.
   */
  #changes(c: JsonCursor): boolean {
    const t = c.bytes;
    const bids = this.bids;
    const asks = this.asks;
    let nb = 0;
    let na = 0;
    if (t[c.pos] !== 0x5b) return false; // "["
    if (t[++c.pos] === 0x5d) { // "]": no changes
      c.pos++;
      bids.count = asks.count = 0;
      return true;
    }
    for (;;) {
      let i = c.pos;
      // '["buy","' or '["sell","'
      if (t[i] !== 0x5b || t[i + 1] !== 0x22) return false;
      let buy: boolean;
      if (
        t[i + 2] === 0x62 && t[i + 3] === 0x75 && t[i + 4] === 0x79 // buy
      ) {
        buy = true;
        i += 5;
      } else if (
        t[i + 2] === 0x73 && t[i + 3] === 0x65 && t[i + 4] === 0x6c &&
        t[i + 5] === 0x6c // sell
      ) {
        buy = false;
        i += 6;
      } else {
        return false;
      }
      if (t[i] !== 0x22 || t[i + 1] !== 0x2c || t[i + 2] !== 0x22) {
        return false;
      }
      c.pos = i + 3;
      const p = c.decimal();
      i = c.pos;
      if (
        !isPrice(p) || t[i] !== 0x22 || t[i + 1] !== 0x2c ||
        t[i + 2] !== 0x22 // '","'
      ) return false;
      c.pos = i + 3;
      const q = c.decimal();
      i = c.pos;
      if (!isSize(q) || t[i] !== 0x22 || t[i + 1] !== 0x5d) return false; // '"]'
      if (buy) {
        if (nb === bids.prices.length) growSide(bids);
        bids.prices[nb] = p;
        bids.sizes[nb++] = q;
      } else {
        if (na === asks.prices.length) growSide(asks);
        asks.prices[na] = p;
        asks.sizes[na++] = q;
      }
      const sep = t[i + 2];
      c.pos = i + 3;
      if (sep === 0x5d) break; // "]"
      if (sep !== 0x2c) return false; // ","
    }
    bids.count = nb;
    asks.count = na;
    return true;
  }
}
