/**
 * A schema-aware scanner for OKX v5 `books` frames: it reads a snapshot or
 * update straight from the frame text into reusable typed arrays, without
 * the per-level arrays `JSON.parse` allocates. The price and size strings
 * are kept as slices of the frame, for the CRC32 checksum of the in-stream
 * version (`okx_checksum.ts`), which is computed over the venue's strings.
 * Frames it does not recognise are left to the adapter's `JSON.parse` path.
 *
 * Recognised frames have OKX's key order and one data item:
 * `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update",
 * "data":[{"asks":[["8476.98","415","0","13"],…],"bids":[…],
 * "ts":"1597026383085","checksum":-855196043,"prevSeqId":123456,
 * "seqId":123457}]}`; `checksum`, `prevSeqId` and `seqId` may be absent
 * (older feeds).
 * Docs: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 *
 * @module
 */

import {
  growSide,
  isPrice,
  isSize,
  JsonCursor,
  newTextSide,
  type ScannedTextSide,
} from "./_scan.ts";

/** Options for {@link OkxBookScanner}. */
export interface OkxBookScannerOptions {
  /**
   * Keep each level's price and size strings (`priceText`, `sizeText`), for
   * a checksum over the venue's strings.
   * @default false
   */
  readonly keepText?: boolean;
}

/**
 * Reads OKX v5 `books` frames in place. One instance serves one connection:
 * each {@link OkxBookScanner.scan} overwrites the fields and reuses the
 * level arrays, so read them before the next call.
 *
 * A frame is recognised only when it is exactly JSON that `JSON.parse`
 * reads to the same values, and its levels are ones the adapter accepts
 * (for contract instruments the caller still converts sizes to base and
 * checks the result against `MAX_SIZE`, as `baseLevels` does):
 * - the layout above, with no whitespace, escapes or extra keys, and one
 *   item in `data`;
 * - every level is an array of strings whose first two are JSON number
 *   tokens with `0 < price < MAX_PRICE` and `0 ≤ size ≤ MAX_SIZE`;
 * - `ts` is a string of a JSON number; `checksum` an integer in the signed
 *   or unsigned 32-bit range; `seqId` a safe integer ≥ 0 and `prevSeqId`
 *   -1 or one.
 * The sequence rules (heartbeats, a reset of the numbering) stay with the
 * caller, as in the adapter. Anything else (trades, acks, `pong`, other
 * channels) returns false: parse that frame with `JSON.parse` (the adapter).
 *
 * @example
 * ```ts
 * const s = new OkxBookScanner({ keepText: true });
 * if (s.scan(frame)) {
 *   s.instId; // "BTC-USDT"
 *   s.asks.priceText[0]; // "8476.98"
 * } else {
 *   events = parser.parse(frame, recvTs);
 * }
 * ```
 */
export class OkxBookScanner {
  /** The instrument id `arg.instId`, e.g. `BTC-USDT`. */
  instId = "";
  /** True for `action` `snapshot`, false for `update`. */
  snapshot = false;
  /** The book's time `ts`, ms. */
  ts: number = NaN;
  /** The venue's signed CRC32 `checksum`; NaN when absent. */
  checksum: number = NaN;
  /** `prevSeqId` (-1 on snapshots); NaN when absent. */
  prevSeqId: number = NaN;
  /** `seqId`; NaN when absent. */
  seqId: number = NaN;
  /** The ask levels `asks`. */
  readonly asks: ScannedTextSide = newTextSide();
  /** The bid levels `bids`. */
  readonly bids: ScannedTextSide = newTextSide();
  readonly #c = new JsonCursor();
  readonly #keepText: boolean;

  /**
   * A scanner for one connection.
   * @param options whether to keep the level strings.
   */
  constructor(options: OkxBookScannerOptions = {}) {
    this.#keepText = options.keepText ?? false;
  }

  /**
   * Reads one frame.
   * @param frame a received text frame.
   * @returns true when it is a `books` frame as the class describes, its
   *   fields now set; false when it is anything else (the fields are then
   *   meaningless).
   * @throws {never} does not throw; odd input returns false.
   */
  scan(frame: string): boolean {
    const c = this.#c;
    if (!c.reset(frame)) return false;
    if (!c.take('{"arg":{"channel":"books","instId":"')) return false;
    const from = c.pos;
    const end = c.stringBody();
    if (end < 0) return false;
    this.instId = frame.slice(from, end);
    if (c.take('},"action":"update"')) this.snapshot = false;
    else if (c.take('},"action":"snapshot"')) this.snapshot = true;
    else return false;
    const keep = this.#keepText;
    if (
      !c.take(',"data":[{"asks":') || !textLevels(c, this.asks, keep) ||
      !c.take(',"bids":') || !textLevels(c, this.bids, keep) ||
      !c.take(',"ts":') || (this.ts = c.quotedNumber()) !== this.ts
    ) return false;
    this.checksum = NaN;
    this.prevSeqId = NaN;
    this.seqId = NaN;
    if (c.take(',"checksum":')) {
      const x = c.number();
      if (!(Number.isInteger(x) && x >= -0x80000000 && x <= 0xffffffff)) {
        return false;
      }
      this.checksum = x + 0;
    }
    if (c.take(',"prevSeqId":')) {
      const p = c.number();
      if (!(p === -1 || isSequence(p)) || !c.take(',"seqId":')) return false;
      this.prevSeqId = p;
      if (!isSequence(this.seqId = c.number())) return false;
    }
    return c.take("}]}") && c.pos === frame.length;
  }
}

/** A safe integer ≥ 0 other than -0, as `sequenceValue` reads one. */
function isSequence(n: number): boolean {
  return Number.isSafeInteger(n) && (n > 0 || (n === 0 && 1 / n > 0));
}

/**
 * Reads an OKX level array `[["price","size","0","count"],…]` (strings
 * after the size are skipped) into `side`, with the strings when `keep`.
 * @returns false when the text there is not one, or a level is out of range.
 */
function textLevels(
  c: JsonCursor,
  side: ScannedTextSide,
  keep: boolean,
): boolean {
  const t = c.bytes;
  const text = c.text;
  if (t[c.pos] !== 0x5b) return false; // "["
  let n = 0;
  if (t[++c.pos] === 0x5d) { // "]": no levels
    c.pos++;
    side.count = 0;
    if (keep) side.priceText.length = side.sizeText.length = 0;
    return true;
  }
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
    if (!isSize(q) || t[i] !== 0x22) return false;
    const q1 = i;
    c.pos = i + 1;
    // The deprecated liquidated-order count and the order count: strings.
    while (t[c.pos] === 0x2c) {
      if (t[c.pos + 1] !== 0x22) return false;
      c.pos += 2;
      if (c.stringBody() < 0) return false;
    }
    if (t[c.pos++] !== 0x5d) return false; // "]"
    if (n === side.prices.length) growSide(side);
    side.prices[n] = p;
    side.sizes[n] = q;
    if (keep) {
      side.priceText[n] = text.slice(p0, p1);
      side.sizeText[n] = text.slice(q0, q1);
    }
    n++;
    const sep = t[c.pos++];
    if (sep === 0x5d) break; // "]"
    if (sep !== 0x2c) return false; // ","
  }
  side.count = n;
  if (keep) side.priceText.length = side.sizeText.length = n;
  return true;
}
