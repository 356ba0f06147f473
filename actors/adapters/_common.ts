/**
 * Helpers every adapter shares: reading JSON bodies and frames, sizing
 * contracts in base currency, recognising heartbeat frames and reporting the
 * venue's own errors.
 *
 * @module
 */

import type { Instrument, Levels } from "../market/events.ts";
import { MalformedFrameError, VenueError } from "./adapter.ts";

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
 * @throws {MalformedFrameError} naming `what` when `text` is not JSON.
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
    throw new MalformedFrameError(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
}

/**
 * Size in base currency of `raw` venue units at `price`: linear contracts
 * `raw × contractSize`, inverse contracts `raw × contractSize / price`
 * (contract value in quote currency); spot has contract size 1.
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
 * @param raw the venue's level array.
 * @param inst the instrument, for its contract size and kind.
 * @param options where to keep the level strings as sent.
 * @returns flat levels, in the venue's order.
 * @throws {MalformedFrameError} naming the level when `raw` is not an array
 *   of levels, or a price is not positive or a size not a non-negative number.
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
    throw new MalformedFrameError(`Levels are not an array: ${raw}`);
  }
  const text = options?.text;
  const out: Levels = new Array(raw.length * 2);
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i];
    const p = Array.isArray(l) ? +l[0] : NaN;
    const q = Array.isArray(l) ? +l[1] : NaN;
    const s = toBase(q, p, inst);
    if (!(p > 0) || !(s >= 0) || p === Infinity || s === Infinity) {
      throw new MalformedFrameError(`Bad level ${JSON.stringify(l)}`);
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
