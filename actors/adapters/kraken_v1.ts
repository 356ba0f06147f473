/**
 * Kraken spot, WebSocket v1 (the feed of the 2021 capture; still served, but
 * frozen since v2 took over).
 * Docs: https://docs.kraken.com/api/docs/websocket-v1/book
 * Book maintenance and checksum: https://docs.kraken.com/api/docs/guides/spot-ws-book-v1
 *
 * Channel frames are arrays `[channelID, payload…, channelName, pair]`;
 * events (heartbeat, systemStatus, subscriptionStatus, pong) are objects.
 * Books come from the `book` channel at depth 1000 (`book-1000`): a snapshot
 * (`as`/`bs`) on subscribing, then updates (`a` and/or `b`, possibly one
 * object per side in one frame) whose last object carries the CRC32 `c` of
 * the top 10 levels. Nothing is numbered: the checksum guards the book.
 *
 * @module
 */

import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  Levels,
  MarketEvent,
  Trade,
} from "../market/events.ts";
import {
  type Adapter,
  type ColumnarDelta,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
  reusedDelta,
} from "./adapter.ts";
import { KrakenBookScanner } from "./kraken_scan.ts";
import {
  KRAKEN_ASSET_PAIRS,
  KRAKEN_BOOK_DEPTH,
  KRAKEN_REST,
  krakenChecksum,
  krakenInstruments,
  krakenSeconds,
} from "./_kraken.ts";
import {
  amountError,
  checksumValue,
  parseJson,
  priceValue,
  sideValue,
  sizeValue,
  textStartsWith,
  venueError,
} from "./_common.ts";

const WS = "wss://ws.kraken.com";

/** The v1 book subscription of {@link KRAKEN_BOOK_DEPTH} levels. */
const BOOK_SUB = { name: "book", depth: KRAKEN_BOOK_DEPTH };

/**
 * Reads v1 levels `[price, volume, timestamp(, "r")]` onto flat numbers and
 * the strings as sent; an `r` (republish: a level back in scope after levels
 * above it went) is applied like any update.
 * @returns the latest level timestamp, ms (0 when there is none).
 * @throws {MalformedFrameError} carrying `sym` for a level that is not
 *   `[price, volume, timestamp]` strings with a price, a size and a time.
 */
function readLevels(
  raw: unknown,
  out: Levels,
  strings: string[],
  sym: string,
): number {
  if (!Array.isArray(raw)) {
    throw new MalformedFrameError(
      `Kraken levels of ${sym} are not an array: ${JSON.stringify(raw)}`,
      sym,
    );
  }
  let ts = 0;
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i] as V1Level;
    if (
      !Array.isArray(l) || typeof l[0] !== "string" ||
      typeof l[1] !== "string" || typeof l[2] !== "string"
    ) {
      throw new MalformedFrameError(
        `Bad Kraken level ${JSON.stringify(l)} at index ${i} of ${sym}`,
        sym,
      );
    }
    const p = priceValue(l[0]);
    const s = sizeValue(l[1]);
    if (p !== p || s !== s) {
      throw amountError("level", l[0], l[1], {
        symbol: sym,
        book: true,
        at: i,
      });
    }
    const t = krakenSeconds(l[2]);
    if (!(t > 0)) {
      throw new MalformedFrameError(
        `Bad Kraken level timestamp ${
          JSON.stringify(l[2])
        } at index ${i} of ${sym}`,
        sym,
      );
    }
    out.push(p, s);
    strings.push(l[0], l[1]);
    if (t > ts) ts = t;
  }
  return ts;
}

/** Parses one v1 frame; per-connection state: none (frames name their pair). */
function parseV1(
  instruments: InstrumentTable,
  frame: string | Uint8Array,
  recvTs: number,
): MarketEvent[] {
  if (typeof frame !== "string") {
    throw new MalformedFrameError(
      `Kraken sends text frames, got ${frame.length} bytes`,
    );
  }
  const msg = parseJson<unknown>(frame, "Frame");
  if (!Array.isArray(msg)) {
    if (msg === null || typeof msg !== "object") {
      throw new MalformedFrameError(
        `Frame is not an array or object: ${frame.slice(0, 80)}`,
      );
    }
    // Events: heartbeat, systemStatus, subscriptionStatus, pong. A refused
    // subscription is `subscriptionStatus` with `status: "error"`, the reason
    // in `errorMessage` and the `pair`
    // (https://docs.kraken.com/exchange/api-reference/spot-websocket-v1/subscriptionstatus).
    const e = msg as V1Event;
    if (e.status === "error") {
      throw venueError(frame, { message: e.errorMessage, symbol: e.pair });
    }
    return [];
  }
  const n = msg.length;
  const channel = msg[n - 2];
  const pair = msg[n - 1];
  if (n < 4 || typeof channel !== "string" || typeof pair !== "string") {
    // A followed pair's book payload is an object (`{a, b, c}`, `{as, bs}`):
    // that book lost an update.
    const inst = typeof pair === "string" ? instruments.get(pair) : undefined;
    const p = msg[1];
    const book = inst !== undefined && p !== null && typeof p === "object" &&
      !Array.isArray(p);
    throw new MalformedFrameError(
      `Channel frame without channel name and pair: ${frame.slice(0, 80)}`,
      book ? inst.exchangeSymbol : undefined,
    );
  }
  const inst = instruments.get(pair);
  if (inst === undefined) return [];
  if (channel === "trade") return trades(inst, msg[1], recvTs, frame);
  // `book-1000` (the name carries the subscribed depth).
  if (channel.startsWith("book")) return [book(inst, msg, recvTs)];
  return []; // ticker, spread, ohlc: not normalized
}

/**
 * A v1 parser for one connection: `parse` reads every frame with
 * `JSON.parse`; `scanBook` reads book updates with a
 * {@link KrakenBookScanner} into one reused delta.
 */
function v1Parser(instruments: InstrumentTable): Parser {
  const scanner = new KrakenBookScanner();
  const delta = reusedDelta(scanner.bids, scanner.asks);
  delta.first = delta.last = -1; // nothing is numbered
  return {
    // The update case of `book`, read by the scanner: the same pair lookup,
    // latest level time, checksum, levels and their strings (a checksum
    // venue: the strings always go along). Snapshots go to `parse`.
    scanBook(frame: string | Uint8Array, recvTs: number): ColumnarDelta | null {
      if (typeof frame !== "string" || !scanner.scan(frame)) return null;
      const inst = instruments.get(scanner.pair);
      if (inst === undefined) return null;
      delta.inst = inst;
      delta.exchangeTs = scanner.ts || recvTs;
      delta.localTs = recvTs;
      const c = scanner.checksum;
      delta.checksum = c === c ? c : undefined;
      return delta;
    },
    parse: (frame, recvTs) => parseV1(instruments, frame, recvTs),
  };
}

/** A v1 book frame: snapshot (`as`/`bs`) or update (`a`/`b`, `c`). */
function book(
  inst: Instrument,
  msg: unknown[],
  recvTs: number,
): BookSnapshot | BookDelta {
  const sym = inst.exchangeSymbol;
  const bids: Levels = [];
  const asks: Levels = [];
  const raw = { bids: [] as string[], asks: [] as string[] };
  const base = {
    exchange: "kraken",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    localTs: recvTs,
  };
  const first = msg[1] as V1BookPayload | null;
  if (
    first !== null && typeof first === "object" &&
    (first.as !== undefined || first.bs !== undefined)
  ) {
    // Snapshot: asks and bids in one object; no checksum (v1 sends `c` on
    // updates only; the first update checks the snapshot too).
    const ta = readLevels(first.as ?? [], asks, raw.asks, sym);
    const tb = readLevels(first.bs ?? [], bids, raw.bids, sym);
    return {
      type: "book_snapshot",
      ...base,
      exchangeTs: Math.max(ta, tb) || recvTs,
      sequence: -1,
      bids,
      asks,
      contractSize: 1,
      raw,
    };
  }
  // Update: one object per side (`[id, {a}, {b, c}, name, pair]` when both
  // sides changed); the checksum sits in the last one. Levels of a side are
  // in the venue's order: applied in order, the latest wins.
  let ts = 0;
  let checksum: number | undefined;
  for (let i = 1; i < msg.length - 2; i++) {
    const o = msg[i] as V1BookPayload | null;
    if (o === null || typeof o !== "object") continue;
    if (o.a !== undefined) {
      ts = Math.max(ts, readLevels(o.a, asks, raw.asks, sym));
    }
    if (o.b !== undefined) {
      ts = Math.max(ts, readLevels(o.b, bids, raw.bids, sym));
    }
    if (o.c !== undefined) {
      checksum = typeof o.c === "string" ? checksumValue(o.c) : NaN;
      if (checksum !== checksum) {
        throw new MalformedFrameError(
          `Bad Kraken checksum ${JSON.stringify(o.c)} of ${sym}`,
          sym,
        );
      }
    }
  }
  return {
    type: "book_delta",
    ...base,
    exchangeTs: ts || recvTs,
    first: -1,
    last: -1,
    prev: -1,
    bids,
    asks,
    contractSize: 1,
    ...(checksum === undefined ? {} : { checksum }),
    raw,
  };
}

/** A v1 trade frame: `[[price, volume, time, side, ordType, misc], …]`. */
function trades(
  inst: Instrument,
  list: unknown,
  recvTs: number,
  frame: string,
): Trade[] {
  if (!Array.isArray(list)) {
    throw new MalformedFrameError(
      `Kraken trades are not an array: ${frame.slice(0, 80)}`,
    );
  }
  const out: Trade[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const t = list[i] as V1Trade;
    if (!Array.isArray(t)) {
      throw new MalformedFrameError(
        `Bad Kraken trade ${JSON.stringify(t)} of ${inst.exchangeSymbol}`,
      );
    }
    const price = priceValue(t[0]);
    const size = sizeValue(t[1]);
    if (price !== price || size !== size) {
      throw amountError("trade", t[0], t[1], { symbol: inst.exchangeSymbol });
    }
    // `b`/`s` is the side of the taker order.
    const side = sideValue(t[3], { buy: "b", sell: "s" });
    if (side === undefined) {
      throw new MalformedFrameError(
        `Bad Kraken trade side ${
          JSON.stringify(t[3])
        } of ${inst.exchangeSymbol}`,
      );
    }
    const ts = typeof t[2] === "string" ? krakenSeconds(t[2]) : NaN;
    if (!(ts > 0)) {
      throw new MalformedFrameError(
        `Bad Kraken trade time ${
          JSON.stringify(t[2])
        } of ${inst.exchangeSymbol}`,
      );
    }
    out[i] = {
      type: "trade",
      exchange: "kraken",
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs: ts,
      localTs: recvTs,
      // v1 trades carry no id (a `trade_id` 7th element on later feeds).
      id: t[6] === undefined ? "" : String(t[6]),
      price,
      size,
      rawSize: size,
      side,
    };
  }
  return out;
}

/**
 * Kraken spot over WebSocket v1: `book` at depth 1000 synced in-stream and
 * checked by CRC32, and `trade`. Picked for dates up to the v2 cutover.
 */
export const krakenV1Adapter: Adapter = {
  id: "kraken",
  docs: "https://docs.kraken.com/api/docs/websocket-v1/book",
  // v1 is still served, but Kraken made v2 its primary public API at the
  // start of 2024 and develops only v2 since: captures recorded before then
  // (the 2021 cryptofeed capture) replay with v1, live runs speak v2.
  until: Date.UTC(2023, 11, 31, 23, 59, 59, 999),
  restOrigin: KRAKEN_REST,
  metadataUrls: [KRAKEN_ASSET_PAIRS],
  // v1 frames name pairs by `wsname` (`XBT/CHF`): that is the exchange symbol.
  instruments: (bodies) => krakenInstruments(bodies[0], "v1"),
  // v1 is served at the host's root (v2 on /v2: kraken.ts).
  speaks: (url) => new URL(url).pathname === "/",
  url: () => WS,
  subscribe: (symbols) => [
    JSON.stringify({
      event: "subscribe",
      pair: symbols,
      subscription: BOOK_SUB,
    }),
    JSON.stringify({
      event: "subscribe",
      pair: symbols,
      subscription: { name: "trade" },
    }),
  ],
  // Kraken sends a heartbeat every second while subscribed; a ping also
  // proves the socket works both ways.
  keepalive: { frame: JSON.stringify({ event: "ping" }), intervalMs: 30_000 },
  // `{"event":"heartbeat"}` about once a second while no subscription traffic
  // (https://docs.kraken.com/exchange/api-reference/spot-websocket-v1/heartbeat),
  // and the `{"event":"pong",…}` answering our ping
  // (https://docs.kraken.com/exchange/api-reference/spot-websocket-v1/ping).
  isHeartbeat: (frame) =>
    textStartsWith(frame, '{"event":"heartbeat"') ||
    textStartsWith(frame, '{"event":"pong"'),
  parser: (instruments) => v1Parser(instruments),
  book: {
    // Snapshot on subscribing, updates unnumbered: the checksum guards them.
    sync: { kind: "stream", link: "none" },
    checksum: krakenChecksum,
    // Kraken sends no delete for a level an insert pushes past the depth.
    maxDepth: KRAKEN_BOOK_DEPTH,
    // A fresh snapshot of one pair: resubscribe its book.
    resubscribe: (symbol) => [
      JSON.stringify({
        event: "unsubscribe",
        pair: [symbol],
        subscription: BOOK_SUB,
      }),
      JSON.stringify({
        event: "subscribe",
        pair: [symbol],
        subscription: BOOK_SUB,
      }),
    ],
  },
};

// ---- raw frame types ----

/** An event object: heartbeat, systemStatus, subscriptionStatus, pong. */
interface V1Event {
  event?: string;
  /** subscriptionStatus: subscribed, unsubscribed or error. */
  status?: string;
  errorMessage?: string;
  pair?: string;
}

/** `[price, volume, timestamp]`, plus `"r"` on a republished level. */
type V1Level = [string, string, string, "r"?];

/** A book payload object: snapshot `as`/`bs`, update `a`/`b` and `c`. */
interface V1BookPayload {
  as?: V1Level[];
  bs?: V1Level[];
  a?: V1Level[];
  b?: V1Level[];
  /** CRC32 of the top 10 levels after this update, decimal string. */
  c?: string;
}

/** `[price, volume, time, side b|s, orderType l|m, misc, trade_id?]`. */
type V1Trade = [string, string, string, "b" | "s", string, string, number?];
