/**
 * A schema-aware scanner for Binance depth frames: it reads a `depthUpdate`
 * frame's header and levels straight from the frame text into reusable typed
 * arrays, without the per-level arrays and strings `JSON.parse` allocates.
 * Frames it does not recognise are left to the adapter's `JSON.parse` path.
 *
 * Recognised frames (any key order, each key at most once):
 * - combined stream `{"stream":"btcusdt@depth@100ms","data":{…}}` or the raw
 *   stream's bare `{…}`;
 * - the event `{"e":"depthUpdate","E":…,"s":"BTCUSDT","U":…,"u":…,
 *   "b":[["price","qty"],…],"a":[…]}` of Binance spot and Binance.US, with
 *   USD-M's `T` and `pu` and COIN-M's `ps` as well.
 * Spot: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
 * USD-M: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
 * COIN-M: https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams
 *
 * @module
 */

import { JsonCursor, newSide, readLevels, type ScannedSide } from "./_scan.ts";

/** Bits of the keys a depth event has shown, to refuse duplicates. */
const KEY_e = 1;
const KEY_E = 2;
const KEY_T = 4;
const KEY_s = 8;
const KEY_U = 16;
const KEY_u = 32;
const KEY_pu = 64;
const KEY_ps = 128;
const KEY_b = 256;
const KEY_a = 512;
/** The bit of each one-character key, by its character code; 0 for others. */
const KEY_OF = new Uint16Array(128);
KEY_OF[0x65] = KEY_e;
KEY_OF[0x45] = KEY_E;
KEY_OF[0x54] = KEY_T;
KEY_OF[0x73] = KEY_s;
KEY_OF[0x55] = KEY_U;
KEY_OF[0x75] = KEY_u;
KEY_OF[0x62] = KEY_b;
KEY_OF[0x61] = KEY_a;
/** Keys every recognised depth event has. */
const REQUIRED = KEY_e | KEY_s | KEY_U | KEY_u | KEY_b | KEY_a;

/**
 * Reads Binance `depthUpdate` frames in place. One instance serves one
 * connection: each {@link BinanceDepthScanner.scan} overwrites the fields
 * and reuses the level arrays (they grow for bigger frames and are never
 * shrunk), so read them before the next call.
 *
 * A frame is recognised only when it is exactly JSON that `JSON.parse`
 * reads to the same values, and the adapter would accept it (for contract
 * instruments the caller still converts sizes to base and checks the result
 * against `MAX_SIZE`, as `baseLevels` does):
 * - every level is a two-string `["price","qty"]` pair whose strings are
 *   JSON number tokens, with `0 < price < MAX_PRICE` and
 *   `0 ≤ qty ≤ MAX_SIZE` (`"-0"` is left to the adapter);
 * - `U`, `u` and `pu` are safe non-negative integers with `U ≤ u`;
 * - no whitespace, escapes, extra keys or extra level fields.
 * Anything else (other events, acks, errors, odd frames) returns false:
 * parse that frame with `JSON.parse` (the adapter), which decides whether
 * it is an event, nothing, or malformed.
 *
 * Every price and size is the double `parseFloat` gives for its string.
 *
 * @example
 * ```ts
 * const s = new BinanceDepthScanner();
 * if (s.scan(frame)) {
 *   s.symbol; // "BTCUSDT"
 *   for (let i = 0; i < s.bids.count; i++) book.bids.set(s.bids.prices[i], s.bids.sizes[i]);
 * } else {
 *   events = parser.parse(frame, recvTs);
 * }
 * ```
 */
export class BinanceDepthScanner {
  /** The exchange symbol `s`, e.g. `BTCUSDT`. */
  symbol = "";
  /** Event time `E`, ms; NaN when absent. */
  eventTime: number = NaN;
  /** Transaction time `T` (USD-M, COIN-M), ms; NaN when absent. */
  transactionTime: number = NaN;
  /** First update id `U`. */
  first: number = NaN;
  /** Final update id `u`. */
  last: number = NaN;
  /** Previous frame's final update id `pu` (USD-M, COIN-M); NaN when absent. */
  prev: number = NaN;
  /** The bid levels `b`. */
  readonly bids: ScannedSide = newSide();
  /** The ask levels `a`. */
  readonly asks: ScannedSide = newSide();
  readonly #c = new JsonCursor();

  /**
   * Reads one frame.
   * @param frame a received text frame.
   * @returns true when it is a depth event as the class describes, its
   *   fields now set; false when it is anything else (the fields are then
   *   meaningless).
   * @throws {never} does not throw; odd input returns false.
   */
  scan(frame: string): boolean {
    const c = this.#c;
    if (!c.reset(frame)) return false; // non-ASCII: not Binance's depth frames
    let wrapped = false;
    if (c.take('{"stream":"')) {
      if (c.stringBody() < 0 || !c.take(',"data":')) return false;
      wrapped = true;
    }
    if (!this.#event(c)) return false;
    if (wrapped && !c.take("}")) return false;
    return c.pos === frame.length;
  }

  /** Reads the event object `{…}`; true when it is a recognised depth event. */
  #event(c: JsonCursor): boolean {
    const t = c.bytes;
    if (!c.take('{"')) return false;
    this.eventTime = NaN;
    this.transactionTime = NaN;
    this.prev = NaN;
    let seen = 0;
    for (;;) {
      // At the key's first character; keys are one or two characters.
      const k0 = t[c.pos];
      let key: number;
      if (t[c.pos + 1] === 0x22) {
        c.pos += 2;
        key = KEY_OF[k0]; // the text is ASCII: k0 < 128
      } else if (k0 === 0x70 && t[c.pos + 2] === 0x22) { // "p…"
        const k1 = t[c.pos + 1];
        c.pos += 3;
        key = k1 === 0x75 ? KEY_pu : k1 === 0x73 ? KEY_ps : 0;
      } else {
        return false;
      }
      if (key === 0 || (seen & key) !== 0 || t[c.pos] !== 0x3a) {
        return false;
      }
      c.pos++;
      seen |= key;
      switch (key) {
        case KEY_e:
          if (!c.take('"depthUpdate"')) return false;
          break;
        case KEY_s: {
          if (!c.take('"')) return false;
          const from = c.pos;
          const end = c.stringBody();
          if (end < 0) return false;
          this.symbol = c.text.slice(from, end);
          break;
        }
        case KEY_ps:
          if (!c.take('"') || c.stringBody() < 0) return false;
          break;
        case KEY_E:
          if ((this.eventTime = c.number()) !== this.eventTime) return false;
          break;
        case KEY_T:
          if ((this.transactionTime = c.number()) !== this.transactionTime) {
            return false;
          }
          break;
        case KEY_U:
          if (!Number.isSafeInteger(this.first = c.number())) return false;
          break;
        case KEY_u:
          if (!Number.isSafeInteger(this.last = c.number())) return false;
          break;
        case KEY_pu:
          if (!Number.isSafeInteger(this.prev = c.number())) return false;
          break;
        case KEY_b:
          if (!readLevels(c, this.bids)) return false;
          break;
        default: // KEY_a
          if (!readLevels(c, this.asks)) return false;
      }
      const sep = t[c.pos++];
      if (sep === 0x7d) break; // "}"
      if (sep !== 0x2c || t[c.pos++] !== 0x22) return false; // ',"'
    }
    // Sequence ids are non-negative (a -0 too is left to the adapter).
    const prev = this.prev;
    return (seen & REQUIRED) === REQUIRED && isNonNegative(this.first) &&
      this.first <= this.last && (prev !== prev || isNonNegative(prev));
  }
}

/** True for a number ≥ 0 other than -0. */
function isNonNegative(n: number): boolean {
  return n > 0 || (n === 0 && 1 / n > 0);
}
