/**
 * Frame helpers shared by the two Coinbase adapters: Advanced Trade
 * (`coinbase.ts`, https://docs.cdp.coinbase.com/advanced-trade/docs/ws-channels)
 * and the retired Pro feed (`coinbase_pro.ts`, documented today as the
 * Exchange feed: https://docs.cdp.coinbase.com/exchange/websocket-feed/channels).
 *
 * @module
 */

import { MalformedFrameError } from "./adapter.ts";
import { parseObject } from "./_common.ts";

/**
 * Reads an RFC 3339 time as ms since the epoch, microseconds and nanoseconds
 * truncated.
 * @param time the venue's time string, e.g. `2021-04-17T16:43:37.075687Z`.
 * @param fallback returned when `time` is absent or not a usable time.
 * @returns ms since the epoch, or `fallback` (never throws).
 * @example Unusable times fall back to the receive time
 * ```ts
 * isoMs("2021-04-17T16:43:37.075687Z", 0); // 1618677817075
 * isoMs("0001-01-01T00:00:00.000000Z", 42); // 42
 * ```
 */
export function isoMs(time: unknown, fallback: number): number {
  if (typeof time !== "string") return fallback;
  // The fixed form is ASCII and at most 30 characters: copied as bytes for
  // `isoTimeMs`; anything else is `Date.parse`'s.
  const n = time.length;
  let ascii = n <= TIME_BYTES.length;
  for (let i = 0; ascii && i < n; i++) {
    const ch = time.charCodeAt(i);
    TIME_BYTES[i] = ch;
    ascii = ch < 0x80;
  }
  const t = ascii ? isoTimeMs(time, TIME_BYTES, 0, n) : Date.parse(time);
  // Coinbase has sent "0001-01-01T00:00:00.000000Z" on valid Pro l2updates
  // (tardis-node works around it) and "1970-01-01T00:00:00Z" as the
  // event_time of Advanced Trade snapshot levels: neither is an event time.
  return t > 0 ? t : fallback;
}

/** Room for the longest time {@link isoTimeMs} reads itself. */
const TIME_BYTES = new Uint8Array(30);

/**
 * Reads a time as `Date.parse` does, without its general date parser for
 * the one form both Coinbase feeds send: RFC 3339 in UTC,
 * `YYYY-MM-DDTHH:MM:SS(.fraction)?Z` (https://www.rfc-editor.org/rfc/rfc3339#section-5.6),
 * with a valid calendar date, hours 00–23, minutes and seconds 00–59 and
 * 1–9 fraction digits (milliseconds truncated, as `Date.parse` does). Any
 * other text, including days past the month's end (which `Date.parse`
 * rolls over) and longer fractions (which it misreads), is handed to
 * `Date.parse` itself, so the result is always exactly `Date.parse`'s.
 * @param text the string holding the time, e.g. a whole frame.
 * @param bytes `text`'s characters as bytes, at the same indices, at least
 *   over `from`…`to` (a scanner's ASCII copy of its frame).
 * @param from index of the time's first character.
 * @param to index just past its last character.
 * @returns ms since the epoch (negative before 1970), or NaN when
 *   `Date.parse` reads no time.
 * @example
 * ```ts
 * const text = '{"time":"2021-04-17T16:43:37.075687Z"}';
 * isoTimeMs(text, new TextEncoder().encode(text), 9, 36); // 1618677817075
 * ```
 */
export function isoTimeMs(
  text: string,
  bytes: Uint8Array,
  from: number,
  to: number,
): number {
  const b = bytes;
  const len = to - from;
  // At least `YYYY-MM-DDTHH:MM:SSZ`; at most nine fraction digits.
  if (len >= 20 && len <= 30 && b[to - 1] === 0x5a) { // "Z"
    const century = twoDigits(b, from);
    const yy = twoDigits(b, from + 2);
    const mo = twoDigits(b, from + 5);
    const d = twoDigits(b, from + 8);
    const h = twoDigits(b, from + 11);
    const mi = twoDigits(b, from + 14);
    const s = twoDigits(b, from + 17);
    let ms = 0;
    let ok = century >= 0 && yy >= 0 && mo >= 1 && mo <= 12 && d >= 1 &&
      h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 59 &&
      b[from + 4] === 0x2d && b[from + 7] === 0x2d && // "-"
      b[from + 10] === 0x54 && // "T"
      b[from + 13] === 0x3a && b[from + 16] === 0x3a; // ":"
    if (ok && len > 20) {
      // `.` and 1–9 digits, the first three of which are the ms.
      ok = len > 21 && b[from + 19] === 0x2e;
      for (let i = from + 20, k = 0; ok && i < to - 1; i++, k++) {
        const dg = (b[i] - 0x30) >>> 0;
        if (dg > 9) ok = false;
        else if (k < 3) ms = ms * 10 + dg;
      }
      if (len === 22) ms *= 100;
      else if (len === 23) ms *= 10;
    }
    if (ok) {
      const y = century * 100 + yy;
      const date = (y * 100 + mo) * 100 + d;
      if (date !== lastDate) {
        if (d > daysInMonth(y, mo)) return Date.parse(text.slice(from, to));
        lastDate = date;
        lastDateMs = daysFromCivil(y, mo, d) * 86_400_000;
      }
      return lastDateMs + ((h * 60 + mi) * 60 + s) * 1000 + ms;
    }
  }
  return Date.parse(
    from === 0 && to === text.length ? text : text.slice(from, to),
  );
}

/**
 * The last date {@link isoTimeMs} read, as `YYYYMMDD`, and its midnight in
 * ms since the epoch: consecutive times nearly always share their date.
 */
let lastDate = -1;
let lastDateMs = 0;

/** The two decimal digits at `i` as a number, or -1 when they are not. */
function twoDigits(b: Uint8Array, i: number): number {
  const hi = (b[i] - 0x30) >>> 0;
  const lo = (b[i + 1] - 0x30) >>> 0;
  return hi < 10 && lo < 10 ? hi * 10 + lo : -1;
}

/** Days in month `mo` (1–12) of proleptic Gregorian year `y`. */
function daysInMonth(y: number, mo: number): number {
  if (mo !== 2) return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (negative before),
 * for years 0–9999: H. Hinnant's `days_from_civil`
 * (https://howardhinnant.github.io/date_algorithms.html#days_from_civil).
 */
function daysFromCivil(y: number, mo: number, d: number): number {
  const yy = mo <= 2 ? y - 1 : y; // the year from March: Feb 29 comes last
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400; // [0, 399]
  const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Parses a text frame as a JSON object.
 * @param frame the received frame; Coinbase only sends text.
 * @returns the parsed object.
 * @throws {MalformedFrameError} for binary frames, invalid JSON or non-objects.
 * @example
 * ```ts
 * jsonFrame<{ type: string }>(`{"type":"heartbeat"}`).type; // "heartbeat"
 * ```
 */
export function jsonFrame<T>(frame: string | Uint8Array): T {
  if (typeof frame !== "string") {
    throw new MalformedFrameError(
      `Binary frame of ${frame.byteLength} bytes; Coinbase sends text`,
    );
  }
  const msg = parseObject<T>(frame);
  if (Array.isArray(msg)) {
    throw new MalformedFrameError(
      `Frame is not an object: ${frame.slice(0, 80)}`,
    );
  }
  return msg;
}

/**
 * The taker side of a public Coinbase trade. Both feeds report the side of
 * the maker order (the resting one): a `sell` maker was lifted by a buying
 * taker (an up-tick), a `buy` maker was hit by a selling taker.
 * @param makerSide `buy`/`sell` (Pro `match`) or `BUY`/`SELL` (Advanced
 *   Trade `market_trades`).
 * @returns the opposite side, the taker's.
 * @throws {MalformedFrameError} for any other value.
 * @example
 * ```ts
 * takerSide("sell"); // "buy"
 * ```
 */
export function takerSide(makerSide: unknown): "buy" | "sell" {
  switch (makerSide) {
    case "sell":
    case "SELL":
      return "buy";
    case "buy":
    case "BUY":
      return "sell";
    default:
      throw new MalformedFrameError(
        `Bad trade side ${JSON.stringify(makerSide)}`,
      );
  }
}
