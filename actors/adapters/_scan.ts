/**
 * Token primitives for schema-aware frame scanners: a cursor that reads JSON
 * literals, strings and numbers in place, straight from a frame's text,
 * without building the object graph `JSON.parse` allocates.
 *
 * Numbers are read exactly: the value is the double `Number()`,
 * `parseFloat` and `JSON.parse` give for the same text. Digits are gathered
 * into an integer mantissa; when it stays below 2^53 and the decimal exponent
 * is within ±22, one multiplication or division by an exact power of ten
 * gives the correctly rounded result (Clinger's fast path: both operands are
 * exact doubles and IEEE 754 rounds the one operation correctly). Anything
 * else (a mantissa of 2^53 or more, a larger exponent) is handed to
 * `parseFloat` on the token's text.
 * JSON number syntax: https://www.rfc-editor.org/rfc/rfc8259#section-6
 *
 * @module
 */

import type { Instrument } from "../market/events.ts";
import { MAX_PRICE, MAX_SIZE } from "./_common.ts";

/** 10^0 … 10^22: every one is exactly representable as a double. */
const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i < 23; i++, p *= 10) POW10[i] = p;

/** `(byte - 0x30) >>> 0` of ".", "e" and "E": what a digit test sees. */
const DOT = (0x2e - 0x30) >>> 0;
const EXP = (0x65 - 0x30) >>> 0;
const EXP_UPPER = (0x45 - 0x30) >>> 0;

/**
 * Zero bytes kept after a frame's bytes, so readers may look ahead
 * (`decimal` reads the 8 bytes after a "." in the text, up to 7 past its
 * end); 16, so that `reset` clears them with two 8-byte stores.
 */
const SLACK = 16;

/** Reads ASCII bytes as their text (UTF-8 decoding is exact on them). */
const ASCII = new TextDecoder();

/**
 * A read position in JSON text. The text (or a frame's bytes, with
 * {@link JsonCursor.resetBytes}) is first copied into a reusable
 * byte buffer (typed-array reads are much cheaper than `charCodeAt` in a
 * hot loop); only ASCII text is read, so a byte offset is also the
 * character index. Each reader consumes its token and advances
 * {@link JsonCursor.pos} when the text holds one there, and otherwise
 * reports failure and leaves `pos` where it was. Readers accept exactly
 * JSON's grammar for their token, without surrounding whitespace, so a
 * scanner built on them recognises only text `JSON.parse` reads the same way.
 *
 * @example
 * ```ts
 * const c = new JsonCursor();
 * c.reset('["60000.01000000",2]'); // true: ASCII
 * c.take('["'); // true
 * c.number(); // 60000.01
 * c.take('",'); // true
 * c.number(); // 2
 * ```
 */
export class JsonCursor {
  /** The text being read; "" after {@link JsonCursor.resetBytes}. */
  text = "";
  /**
   * The text's bytes (ASCII), then 16 zero bytes; a zero byte ends every
   * token, so readers stop there. Grows to the largest text read; only
   * {@link JsonCursor.reset} and {@link JsonCursor.resetBytes} replace it.
   */
  bytes: Uint8Array = new Uint8Array(4096);
  /** Number of bytes of the text. */
  end = 0;
  /** Index of the next character to read. */
  pos = 0;
  readonly #encoder = new TextEncoder();
  /** A view of {@link JsonCursor.bytes}' buffer, for 4- and 8-byte access. */
  #view: DataView = new DataView(this.bytes.buffer);

  /**
   * A view of {@link JsonCursor.bytes}' whole buffer, for comparing bytes
   * four at a time; replaced with the buffer (by `reset` or `resetBytes`).
   */
  get view(): DataView {
    return this.#view;
  }

  /**
   * Starts reading `text` from its first character.
   * @param text the frame.
   * @returns false when the text is not all ASCII (a scanner leaves such a
   *   frame to `JSON.parse`); the cursor then holds nothing readable.
   */
  reset(text: string): boolean {
    const n = text.length;
    const { read, written } = this.#encoder.encodeInto(text, this.#room(n));
    this.text = text;
    this.pos = 0;
    if (read !== n || written !== n) return this.#empty();
    // Written past n only when not ASCII: the slack is still zero.
    this.end = n;
    return true;
  }

  /**
   * Starts reading bytes (UTF-8, e.g. an inflated frame) from the first:
   * as {@link JsonCursor.reset} of their text, without decoding them.
   * `text` is then empty: a scanner reads strings' bytes, not slices.
   * @param src the frame's bytes (copied; `src` may be reused after).
   * @returns false when a byte is not ASCII (the cursor then holds nothing
   *   readable).
   */
  resetBytes(src: Uint8Array): boolean {
    const n = src.length;
    this.#room(n).set(src);
    const v = this.#view;
    this.text = "";
    this.pos = 0;
    this.end = n;
    // ASCII: no byte has its top bit set (four at a time; the slack's
    // zeros fill the last word).
    let high = 0;
    for (let i = 0; i < n; i += 4) high |= v.getInt32(i);
    return (high & 0x80808080) === 0 || this.#empty();
  }

  /**
   * The buffer, grown to hold `n` bytes and the slack, the slack after those
   * `n` bytes zeroed (two 8-byte stores: cheaper than `fill`).
   */
  #room(n: number): Uint8Array {
    if (this.bytes.length < n + SLACK) {
      this.bytes = new Uint8Array(Math.max(n + SLACK, this.bytes.length * 2));
      this.#view = new DataView(this.bytes.buffer);
    }
    this.#view.setFloat64(n, 0);
    this.#view.setFloat64(n + 8, 0);
    return this.bytes;
  }

  /** Leaves nothing readable (a refused reset); returns false. */
  #empty(): false {
    this.end = 0;
    this.bytes.fill(0, 0, SLACK);
    return false;
  }

  /**
   * Consumes `literal` when the text continues with it.
   * @param literal the exact characters expected, e.g. `,"data":`.
   * @returns true (and `pos` moved past it) when they are there.
   */
  take(literal: string): boolean {
    const b = this.bytes;
    const p = this.pos;
    const n = literal.length;
    if (p >= 0 && p + n <= this.end) {
      // Within an ASCII text its bytes are its characters (and a literal's
      // non-ASCII character matches none): cheaper than `startsWith`.
      for (let k = 0; k < n; k++) {
        if (b[p + k] !== literal.charCodeAt(k)) return false;
      }
    } else if (!this.text.startsWith(literal, p)) {
      return false;
    }
    this.pos = p + n;
    return true;
  }

  /**
   * Reads the body of a string whose opening quote has been consumed, up to
   * and past its closing quote. Strings with an escape (`\`) or a control
   * character (which JSON forbids unescaped) are refused, so the body is
   * the string's value as written.
   * @returns the index just past the body's last character (the closing
   *   quote's index), or -1 when the string is not a plain one.
   */
  stringBody(): number {
    const b = this.bytes;
    const n = this.end;
    for (let i = this.pos; i < n; i++) {
      const c = b[i];
      if (c === 0x22) {
        this.pos = i + 1;
        return i;
      }
      if (c === 0x5c || c < 0x20) return -1;
    }
    return -1;
  }

  /**
   * Reads a JSON number token (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
   * @returns its value, identical (`Object.is`) to `parseFloat` of the
   *   token, ±Infinity beyond the double range as `JSON.parse` gives; NaN
   *   when no number token starts at `pos` (`pos` unchanged).
   */
  number(): number {
    const b = this.bytes;
    const start = this.pos;
    let i = start;
    const neg = b[i] === 0x2d; // "-"
    if (neg) i++;
    // The digits read so far are m·10^k + x, with x the last k < 9 of them
    // (an int32: small-integer arithmetic is the cheap path).
    let m = 0;
    let x = 0;
    let k = 0;
    let d = (b[i] - 0x30) >>> 0; // the digit, or ≥ 10 for any other byte
    if (d === 0) {
      d = (b[++i] - 0x30) >>> 0;
      if (d < 10) return NaN; // a leading zero: "01"
    } else if (d < 10) {
      do {
        x = x * 10 + d;
        if (++k === 9) {
          m = m * 1e9 + x;
          x = 0;
          k = 0;
        }
        d = (b[++i] - 0x30) >>> 0;
      } while (d < 10);
    } else {
      return NaN;
    }
    let e10 = 0;
    if (d === DOT) {
      d = (b[++i] - 0x30) >>> 0;
      if (d >= 10) return NaN; // "5."
      const from = i;
      do {
        x = x * 10 + d;
        if (++k === 9) {
          m = m * 1e9 + x;
          x = 0;
          k = 0;
        }
        d = (b[++i] - 0x30) >>> 0;
      } while (d < 10);
      e10 = from - i;
    }
    if (d === EXP || d === EXP_UPPER) {
      let c = b[++i];
      let sign = 1;
      if (c === 0x2d) {
        sign = -1;
        c = b[++i];
      } else if (c === 0x2b) {
        c = b[++i];
      }
      d = (c - 0x30) >>> 0;
      if (d >= 10) return NaN; // "1e", "1e+"
      let ex = 0; // a double: a long exponent only grows to Infinity
      do {
        ex = ex * 10 + d;
        d = (b[++i] - 0x30) >>> 0;
      } while (d < 10);
      e10 += sign * ex;
    }
    this.pos = i;
    // Every partial value is at most the final one and rounding is
    // monotone, so a result ≤ 2^53 - 1 was computed exactly all along.
    const mant = m * POW10[k] + x;
    if (mant <= Number.MAX_SAFE_INTEGER && e10 >= -22 && e10 <= 22) {
      const v = e10 < 0 ? mant / POW10[-e10] : mant * POW10[e10];
      return neg ? -v : v;
    }
    // The token's characters are its bytes (ASCII): from the text, or from
    // the bytes when the cursor was reset to bytes.
    return parseFloat(
      this.text !== ""
        ? this.text.slice(start, i)
        : ASCII.decode(b.subarray(start, i)),
    );
  }

  /**
   * {@link JsonCursor.number} with a fast path for what venues write most:
   * an unsigned plain decimal (`60000.01000000`, `0.5`, `7`) of at most 8
   * integer and 8 fraction digits, no exponent. Anything else goes to
   * `number()`.
   * @returns the value, identical to `parseFloat` of the token, or NaN
   *   when no number token starts at `pos` (`pos` unchanged).
   */
  decimal(): number {
    // V8 inlines functions of at most 460 bytes of bytecode and this one has
    // about 445: measure before growing it. Two inlined copies (with
    // `eightDigits`) exceed a caller's budget, so a hot loop is best built
    // around one call site, as `readLevels` is.
    const b = this.bytes;
    let i = this.pos;
    let d = (b[i] - 0x30) >>> 0; // the digit, or ≥ 10 for any other byte
    let int = d; // the integer part, at most 8 digits
    if (d === 0) {
      d = (b[++i] - 0x30) >>> 0; // a digit here ("01") goes to number()
    } else if (d <= 9) {
      // Int32 arithmetic without overflow checks (`| 0`): past 9 digits it
      // wraps, but from 9 digits on the token goes to number().
      const start = i;
      while ((d = (b[++i] - 0x30) >>> 0) <= 9) int = (int * 10 + d) | 0;
      if (i - start > 8) return this.number();
    } else {
      return this.number(); // "-1", or not a number
    }
    if (d === DOT) {
      // 8 decimals (as Binance sends every price and size) are checked and
      // read 4 bytes at a time; the 8 bytes after the dot are in the text
      // or its zero slack, and so is the one after them when they are
      // digits. Other fractions are read a digit at a time.
      const v = this.#view;
      const f8 = eightDigits(
        v.getUint32(i + 1, true),
        v.getUint32(i + 5, true),
      );
      let k = 8;
      let frac = f8;
      if (f8 >= 0) {
        i += 9;
        d = (b[i] - 0x30) >>> 0;
      } else {
        d = (b[++i] - 0x30) >>> 0;
        const first = i;
        const last = i + 8; // a ninth decimal goes to number()
        frac = 0;
        while (d <= 9 && i !== last) {
          frac = (frac * 10 + d) | 0;
          d = (b[++i] - 0x30) >>> 0;
        }
        k = i - first;
      }
      if (k !== 0 && d > 9 && d !== EXP && d !== EXP_UPPER) {
        // Exact integers below 10^8; their sum is exact when at most
        // 2^53 - 1 (see `number`), then divided once (Clinger).
        const mant = int * POW10[k] + frac;
        if (mant <= Number.MAX_SAFE_INTEGER) {
          this.pos = i;
          return mant / POW10[k];
        }
      }
    } else if (d > 9 && d !== EXP && d !== EXP_UPPER) {
      this.pos = i;
      return int;
    }
    return this.number();
  }

  /**
   * Reads a number written as a JSON string, `"…"`, the way venues send
   * prices and sizes: the quotes must hold one number token and nothing else.
   * @returns the value as {@link JsonCursor.decimal} reads it, or NaN (`pos`
   *   unchanged) when the text there is not such a string.
   */
  quotedNumber(): number {
    const b = this.bytes;
    const start = this.pos;
    if (b[start] !== 0x22) return NaN;
    this.pos = start + 1;
    const v = this.decimal();
    if (v === v && b[this.pos] === 0x22) {
      this.pos++;
      return v;
    }
    this.pos = start;
    return NaN;
  }

  /**
   * Consumes a JSON number token whatever its value, for a field a scanner
   * checks but does not read (an id, a transaction time).
   * @returns true (and `pos` moved past the token) when one starts at
   *   `pos`; false (`pos` unchanged) otherwise.
   */
  skipNumber(): boolean {
    const v = this.number();
    return v === v;
  }
}

/**
 * The value of 8 ASCII digits held in two little-endian words, the first
 * digit in `lo`'s lowest byte; -1 when a byte is not a digit.
 */
function eightDigits(lo: number, hi: number): number {
  // Bit 7 of each byte: clear in (w | 0x80…) - 0x30… when the byte is below
  // "0", set in w + 0x46… when it is above "9" (bytes are ASCII, so no
  // borrow or carry crosses a byte).
  if (
    (~(((lo | 0x80808080) - 0x30303030) & ((hi | 0x80808080) - 0x30303030)) |
      (lo + 0x46464646) | (hi + 0x46464646)) & 0x80808080
  ) return -1;
  // Pairs of digits, then quads: 10·d0 + d1 in byte 0, and so on.
  let a = lo & 0x0f0f0f0f;
  let b = hi & 0x0f0f0f0f;
  a = (a * 10 + (a >>> 8)) & 0x00ff00ff;
  b = (b * 10 + (b >>> 8)) & 0x00ff00ff;
  a = (a * 100 + (a >>> 16)) & 0xffff;
  b = (b * 100 + (b >>> 16)) & 0xffff;
  return a * 10000 + b;
}

/** One side's levels as read: prices and sizes in the venue's units. */
export interface ScannedSide {
  /** Prices, quote currency; the first `count` entries are this frame's. */
  prices: Float64Array;
  /** Quantities as sent (base, or contracts), aligned with `prices`. */
  sizes: Float64Array;
  /** Levels in this frame, in the venue's order. */
  count: number;
}

/**
 * An empty {@link ScannedSide} with room for 64 levels.
 * @returns the side.
 * @example
 * ```ts
 * const bids = newSide(); // { prices, sizes, count: 0 }
 * ```
 */
export function newSide(): ScannedSide {
  return {
    prices: new Float64Array(64),
    sizes: new Float64Array(64),
    count: 0,
  };
}

/** One side's levels as read, with each level's price and size text as sent. */
export interface ScannedTextSide extends ScannedSide {
  /** Price strings as sent, aligned with `prices` (when a scanner keeps them). */
  readonly priceText: string[];
  /** Size strings as sent, aligned with `sizes` (when a scanner keeps them). */
  readonly sizeText: string[];
}

/**
 * An empty {@link ScannedTextSide} with room for 64 levels, for venues whose
 * checksum runs over the level strings as sent.
 * @returns the side; its string arrays are empty.
 * @example
 * ```ts
 * const asks = newTextSide(); // { prices, sizes, count: 0, priceText: [], sizeText: [] }
 * ```
 */
export function newTextSide(): ScannedTextSide {
  return { ...newSide(), priceText: [], sizeText: [] };
}

/**
 * The bytes of an ASCII string: a literal a scanner compares with
 * {@link bytesAt}.
 * @param s the literal, e.g. `'type":"l2update"'`.
 * @returns one byte a character.
 * @throws {RangeError} when `s` holds a non-ASCII character.
 * @example
 * ```ts
 * asciiBytes('ts":'); // Uint8Array [0x74, 0x73, 0x22, 0x3a]
 * ```
 */
export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch > 0x7f) {
      throw new RangeError(`Cannot read ${JSON.stringify(s)} as ASCII bytes`);
    }
    out[i] = ch;
  }
  return out;
}

/**
 * Whether the bytes of `t` from index `i` are `lit`'s. Past a cursor's
 * text, its zero slack (no literal holds a zero byte) and then the end of
 * the buffer end the match.
 * @param t the bytes, e.g. {@link JsonCursor.bytes}.
 * @param i the index of the first byte to compare.
 * @param lit the expected bytes, from {@link asciiBytes}.
 * @returns true when all of `lit` is there.
 * @example
 * ```ts
 * bytesAt(c.bytes, c.pos, asciiBytes('ts":')); // true at `"ts":5`'s key
 * ```
 */
export function bytesAt(t: Uint8Array, i: number, lit: Uint8Array): boolean {
  for (let k = 0; k < lit.length; k++) if (t[i + k] !== lit[k]) return false;
  return true;
}

/**
 * `text.slice(from, end)`, or `last` itself when that is the same string:
 * a scanner keeps the symbol it read from the last frame, so consecutive
 * frames of one symbol copy no string (and a lookup keyed by it finds its
 * hash computed).
 * @param last the string read last time ("" when none).
 * @param text the frame.
 * @param from index of the string's first character in `text`.
 * @param end index just past its last character.
 * @returns `last` when `text` holds it at `from`..`end`, else a new slice.
 * @example
 * ```ts
 * const last = "BTC-USD";
 * reuseSlice(last, '{"p":"BTC-USD"}', 6, 13) === last; // true
 * ```
 */
export function reuseSlice(
  last: string,
  text: string,
  from: number,
  end: number,
): string {
  return end - from === last.length && text.startsWith(last, from)
    ? last
    : text.slice(from, end);
}

/**
 * The string of ASCII bytes `from`..`end` of `t`, or `last` itself when it
 * is that string: {@link reuseSlice} for a scanner that reads a cursor's
 * bytes (a cursor reset to bytes has no text to slice).
 * @param last the string read last time ("" when none).
 * @param t the bytes, e.g. {@link JsonCursor.bytes} (ASCII).
 * @param from index of the string's first byte.
 * @param end index just past its last byte.
 * @returns `last` when `t` holds it at `from`..`end`, else a new string.
 * @example
 * ```ts
 * reuseAscii("", asciiBytes('{"p":"BTC-USD"}'), 6, 13); // "BTC-USD"
 * ```
 */
export function reuseAscii(
  last: string,
  t: Uint8Array,
  from: number,
  end: number,
): string {
  const n = end - from;
  if (n === last.length) {
    let k = 0;
    while (k < n && t[from + k] === last.charCodeAt(k)) k++;
    if (k === n) return last;
  }
  return ASCII.decode(t.subarray(from, end));
}

/**
 * Whether a read price is one the adapters accept (`priceValue`): finite and
 * in `0 < x < MAX_PRICE`.
 * @param x the price, in the venue's quote currency.
 * @returns false for NaN, zero, negatives and `MAX_PRICE` or more.
 * @example
 * ```ts
 * isPrice(60000.01); // true
 * isPrice(0); // false
 * ```
 */
export function isPrice(x: number): boolean {
  return x > 0 && x < MAX_PRICE;
}

/**
 * Whether a read size is one a scanner passes on as the adapters read it
 * (`sizeValue`): in `0 ≤ x ≤ MAX_SIZE` and not `-0` (a size text of `-0`,
 * which the adapter reads as 0, is left to the adapter).
 * @param x the size, in the venue's unit (base currency or contracts).
 * @returns false for NaN, negatives, `-0` and more than `MAX_SIZE`.
 * @example
 * ```ts
 * isSize(0); // true: the level is removed
 * isSize(-0); // false
 * ```
 */
export function isSize(x: number): boolean {
  return x >= 0 && x <= MAX_SIZE && (x !== 0 || 1 / x > 0);
}

/**
 * Reads a level array of two-string pairs, `[["price","qty"],…]` (Binance,
 * Bybit), at the cursor into `side`, growing its arrays when needed. Each
 * price must be in `0 < price < MAX_PRICE` and each quantity in
 * `0 ≤ qty ≤ MAX_SIZE` (not `-0`), as `priceValue` and `sizeValue` accept
 * them; each is the double `parseFloat` gives for its string.
 * @param c the cursor, at the array's `[`; moved past its `]` on success.
 * @param side where the levels go; `count` is set.
 * @returns false when the text there is not such an array, or a level is
 *   out of range (the frame should then go to `JSON.parse`).
 * @example
 * ```ts
 * c.reset('[["1.5","2"]]');
 * readLevels(c, side); // true: side.prices[0] 1.5, side.sizes[0] 2
 * ```
 */
export function readLevels(c: JsonCursor, side: ScannedSide): boolean {
  const t = c.bytes;
  let i = c.pos;
  if (t[i] !== 0x5b) return false; // "["
  if (t[i + 1] === 0x5d) { // "]": no levels
    c.pos = i + 2;
    side.count = 0;
    return true;
  }
  if (t[i + 1] !== 0x5b || t[i + 2] !== 0x22) return false; // '["'
  c.pos = i + 3;
  let prices = side.prices;
  let sizes = side.sizes;
  let n = 0;
  let price = 0; // the level's price, once read
  let atPrice = true; // reading a price, else its size
  // One call site of `decimal` for both numbers keeps it inlined here. The
  // range checks are `isPrice` and `isSize` written out: with the calls, V8
  // stopped inlining this function at a `BinanceDepthScanner` call site and
  // `bench/heavy.ts` "scanner parse" measured about 4% slower.
  for (;;) {
    const x = c.decimal();
    i = c.pos;
    if (atPrice) {
      if (
        !(x > 0 && x < MAX_PRICE) || t[i] !== 0x22 || t[i + 1] !== 0x2c ||
        t[i + 2] !== 0x22 // '","'
      ) return false;
      price = x;
      atPrice = false;
      c.pos = i + 3;
      continue;
    }
    // A size of "-0" reads as -0: the adapter reads it as 0; leave it there.
    if (
      !(x >= 0 && x <= MAX_SIZE) || (x === 0 && 1 / x < 0) ||
      t[i] !== 0x22 || t[i + 1] !== 0x5d // '"]'
    ) return false;
    if (n === prices.length) {
      growSide(side);
      prices = side.prices;
      sizes = side.sizes;
    }
    prices[n] = price;
    sizes[n] = x;
    n++;
    const sep = t[i + 2];
    if (sep === 0x5d) { // "]"
      c.pos = i + 3;
      break;
    }
    // ',["'
    if (sep !== 0x2c || t[i + 3] !== 0x5b || t[i + 4] !== 0x22) return false;
    c.pos = i + 5;
    atPrice = true;
  }
  side.count = n;
  return true;
}

/**
 * Doubles the room of a side's level arrays, keeping their contents.
 * @param side the side whose arrays are full.
 * @example
 * ```ts
 * if (n === side.prices.length) growSide(side);
 * ```
 */
export function growSide(side: ScannedSide): void {
  const prices = new Float64Array(side.prices.length * 2);
  const sizes = new Float64Array(side.sizes.length * 2);
  prices.set(side.prices);
  sizes.set(side.sizes);
  side.prices = prices;
  side.sizes = sizes;
}

/**
 * Converts a scanned side's quantities to base currency in place, as
 * `baseLevels` does for parsed levels: linear contracts `qty ×
 * contractSize`, inverse contracts `qty × contractSize / price` (see
 * `toBase`), each of which must stay within `MAX_SIZE`.
 * @param side levels as read (prices valid, quantities in the venue's unit).
 * @param inst the instrument, for its contract size and kind.
 * @returns false when a size in base currency is out of range (the frame
 *   should then go to `JSON.parse`, whose adapter names the level); the
 *   sizes are then partly converted.
 * @example
 * ```ts
 * // 100 contracts of 100 USD at 50,000: 0.2 BTC
 * toBaseSide(side, btcUsdPerp); // true: side.sizes[0] 0.2
 * ```
 */
export function toBaseSide(side: ScannedSide, inst: Instrument): boolean {
  const cs = inst.contractSize;
  const inverse = inst.inverse === true;
  const prices = side.prices;
  const sizes = side.sizes;
  for (let i = 0; i < side.count; i++) {
    const q = sizes[i];
    const s = inverse ? q * cs / prices[i] : q * cs;
    if (!(s <= MAX_SIZE)) return false;
    sizes[i] = s;
  }
  return true;
}
