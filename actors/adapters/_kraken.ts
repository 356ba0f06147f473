/**
 * Helpers shared by the Kraken spot adapters (WebSocket v2 in `kraken.ts`,
 * the retired v1 feed in `kraken_v1.ts`): AssetPairs metadata, asset
 * renames, the CRC32 book checksum and timestamp parsing.
 * Metadata: https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs
 * Checksum v2: https://docs.kraken.com/api/docs/guides/spot-ws-book-v2
 * Checksum v1: https://docs.kraken.com/api/docs/guides/spot-ws-book-v1
 *
 * @module
 */

import type { OrderBook } from "../market/book.ts";
import type { Instrument } from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { parseJson } from "./_common.ts";
import { Crc32 } from "./_crc32.ts";

/** Kraken's REST origin. */
export const KRAKEN_REST = "https://api.kraken.com";

/** The tradable asset pairs, the instrument metadata of both feed versions. */
export const KRAKEN_ASSET_PAIRS = `${KRAKEN_REST}/0/public/AssetPairs`;

/**
 * Book depth subscribed on both feed versions (the deepest Kraken offers).
 * Kraken keeps each side at this many levels and sends no delete for a level
 * pushed out of scope by an insert: the client must drop levels past the
 * depth after every update. An adapter is pure and cannot see the book, so
 * that belongs to the connection (a `maxDepth` in the book spec, not in the
 * core yet); until then such levels linger below the top 10 (checksums still
 * pass). The 2021 capture never fills 1000 levels.
 */
export const KRAKEN_BOOK_DEPTH = 1000;

/**
 * Kraken's legacy asset codes in `wsname` (and in v1 frames) and the common
 * codes WebSocket v2 and coby use instead.
 */
const ASSET_RENAMES: Readonly<Record<string, string>> = {
  XBT: "BTC",
  XDG: "DOGE",
};

/**
 * The common code of a Kraken asset as written in `wsname`.
 * @param code the asset as in `wsname`, e.g. `XBT`.
 * @returns the common code, e.g. `BTC`; other codes unchanged.
 * @example Bitcoin
 * ```ts
 * krakenAsset("XBT"); // "BTC"
 * ```
 */
export function krakenAsset(code: string): string {
  return ASSET_RENAMES[code] ?? code;
}

/**
 * Reads AssetPairs into spot instruments. Pairs without `wsname` (the `.d`
 * dark-pool books) cannot be subscribed over WebSocket and are skipped.
 * @param body the AssetPairs response body.
 * @param naming `v1`: the exchange symbol is `wsname` as v1 frames name it
 *   (`XBT/CHF`); `v2`: the v2 symbol with common asset codes (`BTC/CHF`).
 * @returns the instruments; `symbol` is `BASE-QUOTE` with common codes.
 * @throws {MalformedFrameError} when the body is not JSON, reports an error
 *   or has no `result` object.
 * @example The capture's metadata
 * ```ts
 * krakenInstruments(body, "v1").find((i) => i.symbol === "BTC-CHF")?.exchangeSymbol; // "XBT/CHF"
 * ```
 */
export function krakenInstruments(
  body: string,
  naming: "v1" | "v2",
): Instrument[] {
  const msg = parseJson<AssetPairsResponse>(body, "AssetPairs");
  if (msg?.error?.length) {
    throw new MalformedFrameError(`AssetPairs error: ${msg.error.join("; ")}`);
  }
  const result = msg?.result;
  if (result === null || typeof result !== "object") {
    throw new MalformedFrameError(
      `AssetPairs without result: ${body.slice(0, 80)}`,
    );
  }
  const out: Instrument[] = [];
  for (const key in result) {
    const ws = result[key].wsname;
    if (typeof ws !== "string") continue; // dark pool: not on WebSocket
    const slash = ws.indexOf("/");
    if (slash <= 0) {
      throw new MalformedFrameError(`AssetPairs ${key} has wsname ${ws}`);
    }
    const base = krakenAsset(ws.slice(0, slash));
    const quote = krakenAsset(ws.slice(slash + 1));
    out.push({
      exchange: "kraken",
      exchangeSymbol: naming === "v1" ? ws : `${base}/${quote}`,
      symbol: `${base}-${quote}`,
      base,
      quote,
      market: "spot",
      contractSize: 1,
    });
  }
  return out;
}

/** Levels of each side the checksum covers. */
const CHECKSUM_LEVELS = 10;

/** The checksum's running CRC, reused by every call. */
const CRC = new Crc32();

/**
 * What a book's last checksum fed: the covered levels' strings (price,
 * size; asks best first, then bids) and the CRC's state after each level
 * (the strings are ASCII digits and dots, so every state falls between
 * whole characters). The next checksum of the book starts again from the
 * first level whose strings differ, from the state before it: most updates
 * change one level, often below the top 10 (then nothing is fed).
 */
interface LastChecksum {
  /** The strings fed, two a level, in feeding order. */
  readonly strings: string[];
  /** `states[j]`: the CRC's state after the first `j` levels. */
  readonly states: Int32Array;
  /** Levels fed. */
  levels: number;
}

/** Each book's last checksum (dropped with the book). */
const LAST = new WeakMap<OrderBook, LastChecksum>();

/**
 * Kraken's book checksum (identical on v1 and v2): for the best 10 asks from
 * low to high, then the best 10 bids from high to low, each price and size
 * string as sent with `.` removed and leading zeros stripped, concatenated;
 * CRC-32 of that, unsigned. The book keeps its best level last. The CRC runs
 * over the strings in place: no text is built; the levels whose strings
 * open the last checksum's text the same way are not fed again.
 * @param book a book that keeps the venue's level strings.
 * @returns the unsigned checksum to compare with the venue's.
 * @throws {Error} when the book keeps no level strings.
 * @example
 * ```ts
 * const book = new OrderBook(true);
 * book.apply([], [0.05, 0.00000304], { bids: [], asks: ["0.05000", "0.00000304"] });
 * krakenChecksum(book); // crc32("5000304")
 * ```
 */
export function krakenChecksum(book: OrderBook): number {
  let last = LAST.get(book);
  if (last === undefined) {
    last = {
      strings: [],
      states: new Int32Array(2 * CHECKSUM_LEVELS + 1),
      levels: 0,
    };
    last.states[0] = -1; // the CRC's state before any text (`reset`)
    LAST.set(book, last);
  }
  const asks = book.asks;
  const bids = book.bids;
  const ap = strings(asks.rawPrices);
  const as = strings(asks.rawSizes);
  const bp = strings(bids.rawPrices);
  const bs = strings(bids.rawSizes);
  const na = Math.min(CHECKSUM_LEVELS, asks.length);
  const levels = na + Math.min(CHECKSUM_LEVELS, bids.length);
  const { strings: fed, states } = last;
  // Level j of the text: ask j, then bid j − na, each side's best last.
  let j = 0;
  for (; j < levels && j < last.levels; j++) {
    const k = j < na ? asks.length - 1 - j : bids.length - 1 - (j - na);
    const p = j < na ? ap[k] : bp[k];
    const q = j < na ? as[k] : bs[k];
    if (p !== fed[2 * j] || q !== fed[2 * j + 1]) break;
  }
  CRC.resume(states[j]);
  // What is kept stays whole level by level (were a string to throw).
  last.levels = j;
  for (; j < levels; j++) {
    const k = j < na ? asks.length - 1 - j : bids.length - 1 - (j - na);
    const p = j < na ? ap[k] : bp[k];
    const q = j < na ? as[k] : bs[k];
    feedDigits(p);
    feedDigits(q);
    fed[2 * j] = p;
    fed[2 * j + 1] = q;
    states[j + 1] = CRC.state();
    last.levels = j + 1;
  }
  fed.length = 2 * levels;
  return CRC.value();
}

/** A side's level strings; throws when the book keeps none. */
function strings(kept: string[] | null): string[] {
  if (kept === null) {
    throw new Error("Kraken checksum needs a book that keeps level strings");
  }
  return kept;
}

/** Feeds a level string with its `.` removed and leading zeros stripped. */
function feedDigits(s: string): void {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x2e && c !== 0x30) break; // leading "." and "0"
  }
  CRC.text(s, i, 0x2e);
}

/**
 * Reads a v1 timestamp, decimal seconds with microseconds as a string, into
 * whole milliseconds without binary rounding (`"1618678133.384218"` →
 * `1618678133384`), as {@link krakenSecondsAt} reads its characters.
 * Docs: https://docs.kraken.com/api/docs/websocket-v1/book
 * @param s the timestamp string.
 * @returns ms since epoch, truncated; NaN when `s` is not a decimal number
 *   (`digits` or `digits.digits`).
 * @example
 * ```ts
 * krakenSeconds("1618678142.557535"); // 1618678142557
 * ```
 */
export function krakenSeconds(s: string): number {
  // Copied as bytes for `krakenSecondsAt`; a non-ASCII character is no
  // digit or ".", so such a string is no timestamp.
  const n = s.length;
  if (n > SECONDS_BYTES.length) {
    SECONDS_BYTES = new Uint8Array(Math.max(n, SECONDS_BYTES.length * 2));
  }
  const b = SECONDS_BYTES;
  for (let i = 0; i < n; i++) {
    const ch = s.charCodeAt(i);
    if (ch > 0x7f) return NaN;
    b[i] = ch;
  }
  return krakenSecondsAt(b, 0, n);
}

/** {@link krakenSeconds}' copy of its string; grows to the longest read. */
let SECONDS_BYTES = new Uint8Array(32);

/**
 * Reads a v1 timestamp from ASCII bytes (a scanner's copy of its frame):
 * decimal seconds `digits` or `digits.digits` into whole milliseconds
 * without binary rounding. Up to 15 whole digits accumulate exactly (below
 * 2^53); longer ones are read as `+` reads their text; the ms are the first
 * 3 fraction digits, padded with zeros, so `whole * 1000 + ms` is the one
 * rounding.
 * Docs: https://docs.kraken.com/api/docs/websocket-v1/book
 * @param bytes the text's bytes.
 * @param from index of the timestamp's first character.
 * @param to index just past its last character, at most `bytes.length`.
 * @returns ms since epoch, truncated; NaN when the bytes are not such a
 *   decimal number.
 * @example
 * ```ts
 * const text = '"1618678142.557535"';
 * krakenSecondsAt(new TextEncoder().encode(text), 1, 18); // 1618678142557
 * ```
 */
export function krakenSecondsAt(
  bytes: Uint8Array,
  from: number,
  to: number,
): number {
  const b = bytes;
  let w = 0;
  let i = from;
  let d = 0;
  for (; i < to && (d = (b[i] - 0x30) >>> 0) <= 9; i++) w = w * 10 + d;
  if (i === from) return NaN;
  if (i - from > 15) {
    let whole = "";
    for (let k = from; k < i; k++) whole += String.fromCharCode(b[k]);
    w = +whole;
  }
  if (i === to) return w * 1000;
  if (b[i] !== 0x2e || i + 1 === to) return NaN; // "."
  // Milliseconds: the first 3 fraction digits, padded with zeros.
  let ms = 0;
  const f0 = i + 1;
  for (let j = f0; j < to; j++) {
    d = (b[j] - 0x30) >>> 0;
    if (d > 9) return NaN;
    if (j - f0 < 3) ms = ms * 10 + d;
  }
  const k = to - f0; // fraction digits: "5" is 500 ms, "12" 120 ms
  if (k < 3) ms *= k === 1 ? 100 : 10;
  return w * 1000 + ms;
}

// ---- raw frame types ----

interface AssetPairsResponse {
  error?: string[];
  result?: Record<string, { wsname?: string; base: string; quote: string }>;
}
