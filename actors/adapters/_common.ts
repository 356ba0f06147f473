/**
 * Helpers every adapter shares: reading JSON bodies and frames, sizing
 * contracts in base currency, recognising heartbeat frames and reporting the
 * venue's own errors.
 *
 * @module
 */

import type { Instrument, Levels } from "../market/events.ts";
import {
  FrameSyntaxError,
  MalformedFrameError,
  VenueError,
} from "./adapter.ts";

/** Options for {@link parseJson}. */
export interface ParseJsonOptions {
  /**
   * A `JSON.parse` reviver (Kraken v2 keeps the source text of level numbers
   * with one).
   * @default undefined
   */
  readonly reviver?: (
    this: unknown,
    key: string,
    value: unknown,
    context?: { source?: string },
  ) => unknown;
}

/**
 * Parses JSON text.
 * @param text a frame or REST body.
 * @param what what the text is, for the error message (e.g. `Frame`, `exchangeInfo`).
 * @param options a reviver, when the caller needs one.
 * @returns the parsed value.
 * @throws {FrameSyntaxError} naming `what` when `text` is not JSON.
 * @example
 * ```ts
 * parseJson<{ id: number }>('{"id":1}', "Frame").id; // 1
 * ```
 */
export function parseJson<T>(
  text: string,
  what: string,
  options?: ParseJsonOptions,
): T {
  try {
    return JSON.parse(text, options?.reviver as never) as T;
  } catch {
    throw new FrameSyntaxError(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
}

/**
 * Highest price coby accepts, in quote currency: 10^12. No listed pair comes
 * near it (BTC in Indonesian rupiah is about 10^9), and it keeps
 * `price × size` far inside the float range for the heatmap's sums, so a
 * price like `1e308` is read as a malformed frame, not as a level.
 */
export const MAX_PRICE = 1e12;

/**
 * Largest size coby accepts, in base currency or the venue's raw unit:
 * 10^20, a hundred times the supply of the most abundant tokens listed, so
 * that `1e308` or an inverse size divided by a vanishing price is read as a
 * malformed frame.
 */
export const MAX_SIZE = 1e20;

/**
 * Reads a number as venues write them: a JSON number, or a decimal string in
 * JSON's number syntax (`"0.00012"`, `"-3"`, `"1e-8"`). Anything else is NaN:
 * `""` (which `+` would read as 0), hex/binary/octal (`"0x10"`), leading
 * zeros, `"Infinity"`, surrounding whitespace, `+`, `.5`, `5.`, and values
 * beyond the float range (`1e400`, or a JSON number that parsed to
 * Infinity). Fast path: one `+s` and a look at the first and last
 * characters.
 * @param v the value from the frame.
 * @returns the finite number, or NaN.
 * @example
 * ```ts
 * decimalValue("100.5"); // 100.5
 * decimalValue(""); // NaN
 * decimalValue("0x10"); // NaN
 * decimalValue("1e400"); // NaN
 * ```
 */
export function decimalValue(v: unknown): number {
  if (typeof v !== "string") {
    return typeof v === "number" && v - v === 0 ? v : NaN; // not NaN, ±Infinity
  }
  const n = +v;
  // `+` also reads "", " 1 ", "0x10", "+1", ".5", "5." and leading zeros:
  // the string must end with a digit and start with one (after a "-"),
  // and a leading 0 must be the whole integer part.
  const last = v.charCodeAt(v.length - 1); // NaN for ""
  if (n - n !== 0 || !(last >= 0x30 && last <= 0x39)) return NaN;
  const first = v.charCodeAt(0);
  return first >= 0x31 && first <= 0x39 ? n : leadingDecimal(v, n, first);
}

/** {@link decimalValue} for a string that starts with "0", "-" or no digit. */
function leadingDecimal(v: string, n: number, first: number): number {
  let i = 0;
  let c = first;
  if (c === 0x2d) c = v.charCodeAt(i = 1); // "-"
  if (c >= 0x31 && c <= 0x39) return n;
  if (c !== 0x30) return NaN;
  // "0" alone, or followed by the fraction or exponent: not "0x10", "01".
  if (i + 1 === v.length) return n;
  const d = v.charCodeAt(i + 1);
  return d === 0x2e || d === 0x65 || d === 0x45 ? n : NaN;
}

/**
 * Reads a price: a number in {@link decimalValue}'s syntax with
 * `0 < price < MAX_PRICE`.
 * @param v the value from the frame.
 * @returns the price, or NaN when `v` is not one.
 * @example
 * ```ts
 * priceValue("100.5"); // 100.5
 * priceValue("-1"); // NaN
 * priceValue(1e308); // NaN
 * ```
 */
export function priceValue(v: unknown): number {
  const n = decimalValue(v);
  return n > 0 && n < MAX_PRICE ? n : NaN;
}

/**
 * Reads a size: a number in {@link decimalValue}'s syntax with
 * `0 <= size <= MAX_SIZE`; `-0` reads as 0.
 * @param v the value from the frame.
 * @returns the size, or NaN when `v` is not one.
 * @example
 * ```ts
 * sizeValue("2.5"); // 2.5
 * sizeValue("0"); // 0 (a delete in a delta)
 * sizeValue("-5"); // NaN
 * sizeValue(""); // NaN
 * ```
 */
export function sizeValue(v: unknown): number {
  const n = decimalValue(v);
  return n >= 0 && n <= MAX_SIZE ? n + 0 : NaN; // -0 + 0 is 0
}

/**
 * Reads a venue sequence number (update id, version, `seqId`): a
 * non-negative safe integer, as a JSON number or a decimal string.
 * @param v the value from the frame.
 * @returns the sequence number, or NaN when `v` is not one.
 * @example
 * ```ts
 * sequenceValue(157); // 157
 * sequenceValue("96801927"); // 96801927
 * sequenceValue(1e400); // NaN (Infinity)
 * sequenceValue(-1); // NaN
 * ```
 */
export function sequenceValue(v: unknown): number {
  const n = decimalValue(v);
  return Number.isSafeInteger(n) && n >= 0 ? n + 0 : NaN;
}

/**
 * Reads a venue time in ms since the epoch (a JSON number or a decimal
 * string), falling back when it is absent or unusable: not a positive
 * finite number, or past the year 10000. A bad time does not make a frame's
 * prices and sizes wrong, so it costs the frame only its venue time.
 * @param v the value from the frame.
 * @param fallback the time to use instead, usually the receive time.
 * @returns `v` as a number, or `fallback`.
 * @example
 * ```ts
 * timeValue(1568014460893, 7); // 1568014460893
 * timeValue("1597026383085", 7); // 1597026383085
 * timeValue("", 7); // 7
 * ```
 */
export function timeValue(v: unknown, fallback: number): number {
  const n = decimalValue(v);
  return n > 0 && n < MAX_TIME ? n : fallback;
}

/**
 * Reads a venue's book checksum: an integer in the signed or unsigned 32-bit
 * range (CRC32 as Kraken sends it, unsigned; as OKX and Bitfinex send it,
 * signed), as a JSON number or a decimal string.
 * @param v the value from the frame.
 * @returns the checksum, or NaN when `v` is not one.
 * @example
 * ```ts
 * checksumValue(3310070434); // 3310070434
 * checksumValue("-1217359316"); // -1217359316
 * checksumValue(1e400); // NaN
 * ```
 */
export function checksumValue(v: unknown): number {
  const n = decimalValue(v);
  return Number.isInteger(n) && n >= -0x80000000 && n <= 0xffffffff
    ? n + 0
    : NaN;
}

/** How a venue writes the two sides, for {@link sideValue}. */
export interface SideNames {
  /** The venue's value for the buy side (e.g. `"Buy"`, `"b"`, `1`). */
  readonly buy: unknown;
  /** The venue's value for the sell side. */
  readonly sell: unknown;
}

/**
 * Reads a side the venue writes as one of two values; anything else is no
 * side (a guess would put a trade on the wrong side of the heatmap).
 * @param v the value from the frame.
 * @param names the venue's two values.
 * @returns `buy` or `sell`, or undefined when `v` is neither.
 * @example
 * ```ts
 * sideValue("Sell", { buy: "Buy", sell: "Sell" }); // "sell"
 * sideValue(true, { buy: false, sell: true }); // "sell" (Binance m: the buyer made)
 * sideValue("", { buy: "Buy", sell: "Sell" }); // undefined
 * ```
 */
export function sideValue(
  v: unknown,
  names: SideNames,
): "buy" | "sell" | undefined {
  return v === names.buy ? "buy" : v === names.sell ? "sell" : undefined;
}

/** 10000-01-01 in ms: no venue time is later. */
const MAX_TIME = 253402300800000;

/** A value for an error message: strings quoted and cut, numbers as JavaScript prints them. */
function show(v: unknown): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") {
    return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  }
  if (v === undefined) return "undefined";
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined;
  }
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** Options for {@link amountError}. */
export interface AmountErrorOptions {
  /**
   * The exchange symbol, named in the message.
   * @default undefined
   */
  readonly symbol?: string;
  /**
   * True when the frame is a book update (snapshot or delta) of `symbol`:
   * the error then carries the symbol, so the connection takes that book
   * out of sync and realigns it.
   * @default false
   */
  readonly book?: boolean;
  /**
   * Index of the level in its side, for levels.
   * @default undefined
   */
  readonly at?: number;
  /**
   * The instrument, to name a size that is out of range only once converted
   * to base currency (an inverse contract size at a tiny price).
   * @default undefined
   */
  readonly inst?: Instrument;
}

/**
 * The error for a level, trade or liquidation whose price or size failed
 * {@link priceValue} / {@link sizeValue} (or whose size in base currency is
 * out of range): names the first bad field and its value as sent. Built on
 * the slow path only, after a check on the numbers failed.
 * @param what what the values belong to, e.g. `level`, `trade`, `liquidation`.
 * @param price the price as sent.
 * @param size the size as sent.
 * @param options the symbol, whether the frame is a book update, the level index.
 * @returns the error, for the caller to throw.
 * @example
 * ```ts
 * amountError("level", "100", "-5", { symbol: "BTCUSDT", book: true, at: 3 }).message;
 * // 'Bad level size "-5" at index 3 of BTCUSDT'
 * ```
 */
export function amountError(
  what: string,
  price: unknown,
  size: unknown,
  options?: AmountErrorOptions,
): MalformedFrameError {
  const symbol = options?.symbol;
  const where = `${options?.at === undefined ? "" : ` at index ${options.at}`}${
    symbol === undefined ? "" : ` of ${symbol}`
  }`;
  const p = priceValue(price);
  const q = sizeValue(size);
  const inst = options?.inst;
  const base = inst ? toBase(q, p, inst) : NaN;
  let message: string;
  if (p !== p) message = `Bad ${what} price ${show(price)}${where}`;
  else if (q !== q) message = `Bad ${what} size ${show(size)}${where}`;
  else if (base > MAX_SIZE) {
    message = `Bad ${what} size ${show(size)} at price ${
      show(price)
    }${where}: ${base} in base currency is out of range`;
  } else {
    // Numbers the venue writes as JSON numbers, sent as strings.
    message = `Bad ${what} ${show(price)} x ${show(size)}${where}`;
  }
  return new MalformedFrameError(message, options?.book ? symbol : undefined);
}

/**
 * Size in base currency of `raw` venue units at `price`: linear contracts
 * `raw × contractSize`, inverse contracts `raw × contractSize / price`
 * (contract value in quote currency); spot has contract size 1. Plain
 * arithmetic: read `raw` with {@link sizeValue} and `price` with
 * {@link priceValue} first, and check the result against {@link MAX_SIZE}.
 * @param raw the venue's size (contracts or base units).
 * @param price price in quote currency.
 * @param inst the instrument.
 * @returns the size in base currency.
 * @example
 * ```ts
 * toBase(100, 50_000, inverseBtcUsd); // 0.002 BTC for 100 × 1 USD contracts
 * ```
 */
export function toBase(raw: number, price: number, inst: Instrument): number {
  return inst.inverse
    ? raw * inst.contractSize / price
    : raw * inst.contractSize;
}

/** Options for {@link baseLevels}. */
export interface BaseLevelsOptions {
  /**
   * Filled with the price and size of every level as sent (`String` of each),
   * aligned with the returned levels, for venues whose checksum is computed
   * over the venue's strings.
   * @default undefined
   */
  readonly text?: string[];
}

/**
 * Converts a venue's `[[price, size, …], …]` levels (decimal strings or JSON
 * numbers; extra fields such as order counts are ignored) to flat
 * `[price, size, …]` levels with sizes in base currency ({@link toBase}).
 * Every price must pass {@link priceValue}, every size {@link sizeValue}, and
 * the size in base currency must stay within {@link MAX_SIZE}.
 * @param raw the venue's level array.
 * @param inst the instrument, for its contract size and kind.
 * @param options where to keep the level strings as sent.
 * @returns flat levels, in the venue's order.
 * @throws {MalformedFrameError} carrying `inst.exchangeSymbol` (a book
 *   update of that symbol failed) and naming the level's bad field and value
 *   when `raw` is not an array of levels, or a price or size is not one.
 * @example
 * ```ts
 * baseLevels([["100.5", "2"]], spot); // [100.5, 2]
 * baseLevels([[40000, 4]], inverseBtcUsd100); // [40000, 0.01]
 * ```
 */
export function baseLevels(
  raw: unknown,
  inst: Instrument,
  options?: BaseLevelsOptions,
): Levels {
  if (!Array.isArray(raw)) {
    throw new MalformedFrameError(
      `Levels of ${inst.exchangeSymbol} are not an array: ${show(raw)}`,
      inst.exchangeSymbol,
    );
  }
  const text = options?.text;
  const cs = inst.contractSize;
  const inverse = inst.inverse === true;
  const n = raw.length;
  const out: Levels = new Array(n * 2);
  for (let i = 0; i < n; i++) {
    const l = raw[i];
    if (!Array.isArray(l)) {
      throw new MalformedFrameError(
        `Bad level ${show(l)} at index ${i} of ${inst.exchangeSymbol}`,
        inst.exchangeSymbol,
      );
    }
    const p = priceValue(l[0]);
    const q = sizeValue(l[1]);
    const s = inverse ? q * cs / p : q * cs;
    // A bad size (or, for inverse contracts, price) makes `s` NaN; a size
    // too large in base currency is out of range.
    if (!(s <= MAX_SIZE) || p !== p) {
      throw amountError("level", l[0], l[1], {
        symbol: inst.exchangeSymbol,
        book: true,
        at: i,
        inst,
      });
    }
    out[2 * i] = p;
    out[2 * i + 1] = s;
    if (text !== undefined) {
      text[2 * i] = String(l[0]);
      text[2 * i + 1] = String(l[1]);
    }
  }
  return out;
}

/**
 * The text of a frame; binary frames are decoded as UTF-8.
 * @param frame a received frame.
 * @returns its text.
 * @example
 * ```ts
 * frameText(new TextEncoder().encode("pong")); // "pong"
 * ```
 */
export function frameText(frame: string | Uint8Array): string {
  return typeof frame === "string" ? frame : new TextDecoder().decode(frame);
}

/**
 * Parses a frame that must be a JSON object (or array).
 * @param text the frame's text.
 * @returns the parsed value.
 * @throws {MalformedFrameError} when `text` is not JSON or not an object.
 * @example
 * ```ts
 * parseObject<{ e: string }>('{"e":"trade"}').e; // "trade"
 * ```
 */
export function parseObject<T>(text: string): T {
  const msg = parseJson<T>(text, "Frame");
  if (msg === null || typeof msg !== "object") {
    throw new MalformedFrameError(
      `Frame is not an object: ${text.slice(0, 80)}`,
    );
  }
  return msg;
}

/**
 * Longest text frame {@link shortTextIncludes} looks into. Pongs and
 * heartbeats carry no payload and stay well under it (Bybit's pong, the
 * longest, is about 120 characters), so book and trade frames, which are
 * longer, are passed over without a scan.
 */
export const HEARTBEAT_MAX_CHARS = 256;

/**
 * Whether a frame is text starting with `prefix`: the heartbeat test for
 * venues that write a heartbeat with a fixed first key (Kraken
 * `{"channel":"heartbeat"}`, Coinbase `{"type":"heartbeat",…`).
 * @param frame a received frame; binary frames never match.
 * @param prefix the frame's first characters as the venue writes them.
 * @returns true when the text starts with `prefix`.
 * @example
 * ```ts
 * textStartsWith('{"event":"heartbeat"}', '{"event":"heartbeat"'); // true
 * ```
 */
export function textStartsWith(
  frame: string | Uint8Array,
  prefix: string,
): boolean {
  return typeof frame === "string" && frame.startsWith(prefix);
}

/**
 * Whether a frame is short text (at most {@link HEARTBEAT_MAX_CHARS}
 * characters) containing `needle`: the heartbeat test for venues whose pong
 * names itself in a key that is not first (Bybit `"ret_msg":"pong"`, KuCoin
 * `"type":"pong"`).
 * @param frame a received frame; binary frames never match.
 * @param needle the characters that mark the frame, as the venue writes them.
 * @returns true for a short text frame containing `needle`.
 * @example
 * ```ts
 * shortTextIncludes('{"id":"1","type":"pong"}', '"type":"pong"'); // true
 * ```
 */
export function shortTextIncludes(
  frame: string | Uint8Array,
  needle: string,
): boolean {
  return typeof frame === "string" && frame.length <= HEARTBEAT_MAX_CHARS &&
    frame.includes(needle);
}

/**
 * The heartbeat test of a venue that sends no heartbeat frames (Binance
 * pings with WebSocket control frames, which never reach the parser).
 * @param _frame a received frame.
 * @returns false.
 * @example
 * ```ts
 * noHeartbeats("{}"); // false
 * ```
 */
export function noHeartbeats(_frame: string | Uint8Array): boolean {
  return false;
}

/** What a venue said in an error frame, for {@link venueError}. */
export interface VenueErrorFields {
  /** The venue's message; anything but a non-empty string counts as none. */
  readonly message: unknown;
  /** The exchange symbol the venue names, if it names one. */
  readonly symbol?: unknown;
}

/**
 * A {@link VenueError} carrying the venue's own message verbatim (or, when the
 * venue sent none, the start of the frame) and the symbol it names.
 * @param frame the frame's text, quoted when the venue sent no message.
 * @param fields the venue's message and symbol.
 * @returns the error, for the caller to throw.
 * @example
 * ```ts
 * throw venueError(text, { message: msg.ret_msg });
 * ```
 */
export function venueError(
  frame: string,
  fields: VenueErrorFields,
): VenueError {
  const { message, symbol } = fields;
  return new VenueError(
    typeof message === "string" && message !== ""
      ? message
      : `Venue error without a message: ${frame.slice(0, 120)}`,
    typeof symbol === "string" && symbol !== "" ? symbol : undefined,
  );
}
