/**
 * A schema-aware scanner for Bybit v5 order-book frames: it reads an
 * `orderbook.{depth}.{symbol}` snapshot or delta straight from the frame text
 * into reusable typed arrays, without the per-level arrays and strings
 * `JSON.parse` allocates. Frames it does not recognise are left to the
 * adapter's `JSON.parse` path.
 *
 * Recognised frames have Bybit's key order:
 * `{"topic":"orderbook.500.XRPUSDT","type":"delta","ts":…,"data":{"s":"XRPUSDT",
 * "b":[["price","size"],…],"a":[…],"u":…,"seq":…}}`, with `"cts":…` after
 * `data` when the venue sends it (derivatives); spot writes `ts` before
 * `type`.
 * Docs: https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
 *
 * @module
 */

import { JsonCursor, newSide, readLevels, type ScannedSide } from "./_scan.ts";

/**
 * Reads Bybit v5 order-book frames in place. One instance serves one
 * connection: each {@link BybitBookScanner.scan} overwrites the fields and
 * reuses the level arrays, so read them before the next call.
 *
 * A frame is recognised only when it is exactly JSON that `JSON.parse`
 * reads to the same values, and the adapter would accept it (for contract
 * instruments the caller still converts sizes to base and checks the result
 * against `MAX_SIZE`, as `baseLevels` does):
 * - the keys above, in that order, with no whitespace, escapes or extras;
 * - `type` is `snapshot` or `delta`; `u` and `seq` are safe non-negative
 *   integers;
 * - every level is a two-string `["price","size"]` pair of JSON number
 *   tokens with `0 < price < MAX_PRICE` and `0 ≤ size ≤ MAX_SIZE`.
 * Anything else (trades, acks, pongs, other layouts) returns false: parse
 * that frame with `JSON.parse` (the adapter).
 *
 * As in the adapter, a frame with `u` = 1 is a full book whatever its type
 * says (the venue's book service restarted): the caller treats it as a
 * snapshot.
 *
 * @example
 * ```ts
 * const s = new BybitBookScanner();
 * if (s.scan(frame)) {
 *   const full = s.snapshot || s.update === 1;
 * } else {
 *   events = parser.parse(frame, recvTs);
 * }
 * ```
 */
export class BybitBookScanner {
  /** The exchange symbol `data.s`, e.g. `BTCUSDT`. */
  symbol = "";
  /** True for `type` `snapshot`, false for `delta`. */
  snapshot = false;
  /** The feed's time `ts`, ms. */
  ts: number = NaN;
  /** The matching engine's time `cts`, ms; NaN when absent (spot). */
  cts: number = NaN;
  /** Update id `data.u`: each delta's is the previous frame's + 1. */
  update: number = NaN;
  /** Cross sequence `data.seq`. */
  seq: number = NaN;
  /** The bid levels `data.b`. */
  readonly bids: ScannedSide = newSide();
  /** The ask levels `data.a`. */
  readonly asks: ScannedSide = newSide();
  readonly #c = new JsonCursor();

  /**
   * Reads one frame.
   * @param frame a received text frame.
   * @returns true when it is an order-book frame as the class describes,
   *   its fields now set; false when it is anything else (the fields are
   *   then meaningless).
   * @throws {never} does not throw; odd input returns false.
   */
  scan(frame: string): boolean {
    const c = this.#c;
    if (!c.reset(frame) || !c.take('{"topic":"orderbook.')) return false;
    if (c.stringBody() < 0) return false;
    // Derivatives send type then ts, spot ts then type.
    let type = false;
    let ts = false;
    for (let k = 0; k < 2; k++) {
      if (!type && c.take(',"type":"')) {
        if (c.take('delta"')) this.snapshot = false;
        else if (c.take('snapshot"')) this.snapshot = true;
        else return false;
        type = true;
      } else if (!ts && c.take(',"ts":')) {
        if ((this.ts = c.number()) !== this.ts) return false;
        ts = true;
      } else {
        return false;
      }
    }
    if (!c.take(',"data":{"s":"')) return false;
    const from = c.pos;
    const end = c.stringBody();
    if (end < 0) return false;
    this.symbol = frame.slice(from, end);
    if (
      !c.take(',"b":') || !readLevels(c, this.bids) ||
      !c.take(',"a":') || !readLevels(c, this.asks) ||
      !c.take(',"u":') || !isSequence(this.update = c.number()) ||
      !c.take(',"seq":') || !isSequence(this.seq = c.number()) ||
      !c.take("}")
    ) return false;
    this.cts = NaN;
    if (c.take(',"cts":') && (this.cts = c.number()) !== this.cts) {
      return false;
    }
    return c.take("}") && c.pos === frame.length;
  }
}

/** A safe integer ≥ 0 other than -0, as `sequenceValue` reads one. */
function isSequence(n: number): boolean {
  return Number.isSafeInteger(n) && (n > 0 || (n === 0 && 1 / n > 0));
}
