/**
 * Kraken spot, WebSocket v2 (the current API).
 * Docs: https://docs.kraken.com/api/docs/websocket-v2/book
 * Trades: https://docs.kraken.com/api/docs/websocket-v2/trade
 * Book maintenance and checksum: https://docs.kraken.com/api/docs/guides/spot-ws-book-v2
 *
 * Every frame is an object: channel data `{channel, type, data: [...]}`,
 * method responses `{method, success, ...}`. Books come from the `book`
 * channel at depth 1000: a snapshot on subscribing, then updates; both carry
 * the CRC32 `checksum` of the top 10 levels. Nothing is numbered: the
 * checksum guards the book.
 *
 * @module
 */

import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  Levels,
  MarketEvent,
} from "../market/events.ts";
import {
  type Adapter,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
} from "./adapter.ts";
import {
  KRAKEN_ASSET_PAIRS,
  KRAKEN_BOOK_DEPTH,
  KRAKEN_REST,
  krakenChecksum,
  krakenInstruments,
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

const WS = "wss://ws.kraken.com/v2";

/** How book frames start as Kraken writes them (compact, `channel` first). */
const BOOK_PREFIX = '{"channel":"book"';

/**
 * JSON reviver keeping the source text of `price` and `qty`. v2 sends them as
 * JSON numbers written at the engine's full precision (`0.10000000`); the
 * checksum is computed over that text, which a float loses (`0.1`). Needs
 * JSON.parse source text access (V8 11.4+).
 */
function keepLevelText(
  key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  return (key === "price" || key === "qty") && typeof value === "number"
    ? context?.source ?? value
    : value;
}

/** Keeps the level text of book frames. */
const LEVEL_TEXT = { reviver: keepLevelText };

/** Parses a frame, with level text kept for book frames. */
function parseFrame(frame: string): V2Frame {
  if (frame.startsWith(BOOK_PREFIX)) {
    return parseJson<V2Frame>(frame, "Frame", LEVEL_TEXT);
  }
  const msg = parseJson<V2Frame>(frame, "Frame");
  // A book frame written another way (key order, spaces): parse it again.
  return msg?.channel === "book"
    ? parseJson<V2Frame>(frame, "Frame", LEVEL_TEXT)
    : msg;
}

/**
 * Reads `[{price, qty}, …]` of `sym` onto flat numbers and the numbers' text.
 * @throws {MalformedFrameError} carrying `sym` for a level that is not an
 *   object with a price and a size.
 */
function readLevels(
  raw: unknown,
  out: Levels,
  strings: string[],
  sym: string,
): void {
  if (!Array.isArray(raw)) {
    throw new MalformedFrameError(
      `Kraken levels of ${sym} are not an array: ${raw}`,
      sym,
    );
  }
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i] as V2Level | null;
    if (l === null || typeof l !== "object") {
      throw new MalformedFrameError(
        `Bad Kraken level ${l} at index ${i} of ${sym}`,
        sym,
      );
    }
    const p = priceValue(l.price);
    const s = sizeValue(l.qty);
    if (p !== p || s !== s) {
      throw amountError("level", l.price, l.qty, {
        symbol: sym,
        book: true,
        at: i,
      });
    }
    out.push(p, s);
    strings.push(String(l.price), String(l.qty));
  }
}

/**
 * Event time of an RFC 3339 `timestamp` (microseconds truncated to ms).
 * @throws {MalformedFrameError} carrying `sym` (when given: a book frame's)
 *   for a timestamp that is not a time.
 */
function eventTs(ts: unknown, recvTs: number, sym?: string): number {
  if (typeof ts !== "string") return recvTs; // snapshots may omit it
  const ms = Date.parse(ts);
  if (!(ms > 0)) {
    throw new MalformedFrameError(`Bad Kraken timestamp ${ts}`, sym);
  }
  return ms;
}

/** One `book` data item: a snapshot or an update of one symbol. */
function bookEvent(
  inst: Instrument,
  item: V2Book,
  snapshot: boolean,
  recvTs: number,
): BookSnapshot | BookDelta {
  const sym = inst.exchangeSymbol;
  const bids: Levels = [];
  const asks: Levels = [];
  const raw = { bids: [] as string[], asks: [] as string[] };
  readLevels(item.bids ?? [], bids, raw.bids, sym);
  readLevels(item.asks ?? [], asks, raw.asks, sym);
  // A JSON number, kept as its source text by the book frames' reviver.
  const checksum = item.checksum === undefined
    ? undefined
    : checksumValue(item.checksum);
  if (checksum !== checksum) {
    throw new MalformedFrameError(
      `Bad Kraken checksum ${item.checksum} of ${sym}`,
      sym,
    );
  }
  const base = {
    exchange: "kraken",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: eventTs(item.timestamp, recvTs, sym),
    localTs: recvTs,
    bids,
    asks,
    contractSize: 1,
    ...(checksum === undefined ? {} : { checksum }),
    raw,
  };
  return snapshot
    ? { type: "book_snapshot", ...base, sequence: -1 }
    : { type: "book_delta", ...base, first: -1, last: -1, prev: -1 };
}

/** Parses one v2 frame; per-connection state: none (items name their symbol). */
function parseV2(
  instruments: InstrumentTable,
  frame: string | Uint8Array,
  recvTs: number,
): MarketEvent[] {
  if (typeof frame !== "string") {
    throw new MalformedFrameError(
      `Kraken sends text frames, got ${frame.length} bytes`,
    );
  }
  const msg = parseFrame(frame);
  if (msg === null || typeof msg !== "object" || Array.isArray(msg)) {
    throw new MalformedFrameError(
      `Frame is not an object: ${frame.slice(0, 80)}`,
    );
  }
  // Method responses (subscribe acks and errors, pong) carry no `channel`. A
  // refused request is `success: false` with the reason in `error` and, for
  // a subscription, the `symbol` refused
  // (https://docs.kraken.com/api/docs/websocket-v2/book, "Subscribe
  // Response"). heartbeat, status and ticker are channels we do not normalize.
  const channel = msg.channel;
  if (channel === undefined && msg.success === false) {
    throw venueError(frame, { message: msg.error, symbol: msg.symbol });
  }
  if (channel !== "book" && channel !== "trade") return [];
  const data = msg.data;
  if (!Array.isArray(data)) {
    throw new MalformedFrameError(
      `Kraken ${channel} frame without data: ${frame.slice(0, 80)}`,
    );
  }
  const out: MarketEvent[] = [];
  const type = msg.type;
  if (channel === "book") {
    for (let i = 0; i < data.length; i++) {
      const item = data[i] as V2Book | null;
      if (item === null || typeof item !== "object") {
        throw new MalformedFrameError(`Bad Kraken book item ${item}`);
      }
      const inst = instruments.get(item.symbol);
      if (inst === undefined) continue;
      // Read as an update, a snapshot would leave the levels it replaces.
      if (type !== "snapshot" && type !== "update") {
        throw new MalformedFrameError(
          `Bad Kraken book type ${JSON.stringify(type)} of ${item.symbol}`,
          inst.exchangeSymbol,
        );
      }
      out.push(bookEvent(inst, item, type === "snapshot", recvTs));
    }
    return out;
  }
  // A trade `snapshot` is the last trades before subscribing, sent again on
  // every reconnect: history, not new trades (we also ask for none).
  if (type === "snapshot") return out;
  if (type !== "update") {
    throw new MalformedFrameError(
      `Bad Kraken trade type ${JSON.stringify(type)}`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const t = data[i] as V2Trade | null;
    if (t === null || typeof t !== "object") {
      throw new MalformedFrameError(`Bad Kraken trade item ${t}`);
    }
    const inst = instruments.get(t.symbol);
    if (inst === undefined) continue;
    const price = priceValue(t.price);
    const size = sizeValue(t.qty);
    if (price !== price || size !== size) {
      throw amountError("trade", t.price, t.qty, {
        symbol: inst.exchangeSymbol,
      });
    }
    const side = sideValue(t.side, { buy: "buy", sell: "sell" }); // the taker's
    if (side === undefined) {
      throw new MalformedFrameError(
        `Bad Kraken trade side ${
          JSON.stringify(t.side)
        } of ${inst.exchangeSymbol}`,
      );
    }
    out.push({
      type: "trade",
      exchange: "kraken",
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs: eventTs(t.timestamp, recvTs),
      localTs: recvTs,
      id: String(t.trade_id),
      price,
      size,
      rawSize: size,
      side,
    });
  }
  return out;
}

/** The v2 book subscription parameters for some symbols. */
function bookParams(symbols: readonly string[]) {
  return { channel: "book", symbol: symbols, depth: KRAKEN_BOOK_DEPTH };
}

/**
 * Kraken spot over WebSocket v2: `book` at depth 1000 synced in-stream and
 * checked by CRC32, and `trade`.
 */
export const krakenAdapter: Adapter = {
  id: "kraken",
  docs: "https://docs.kraken.com/api/docs/websocket-v2/book",
  restOrigin: KRAKEN_REST,
  metadataUrls: [KRAKEN_ASSET_PAIRS],
  // v2 symbols use common asset codes (`BTC/USD` for wsname `XBT/USD`).
  instruments: (bodies) => krakenInstruments(bodies[0], "v2"),
  // v2 is served on /v2 of the same host as v1 (kraken_v1.ts).
  speaks: (url) => /^\/v2\/?$/.test(new URL(url).pathname),
  url: () => WS,
  subscribe: (symbols) => [
    JSON.stringify({ method: "subscribe", params: bookParams(symbols) }),
    JSON.stringify({
      method: "subscribe",
      params: { channel: "trade", symbol: symbols, snapshot: false },
    }),
  ],
  // Kraken sends a heartbeat every second while subscribed; an
  // application-level ping also proves the socket works both ways.
  keepalive: { frame: JSON.stringify({ method: "ping" }), intervalMs: 30_000 },
  // `{"channel":"heartbeat"}` about once a second while no channel updates
  // (https://docs.kraken.com/exchange/api-reference/spot-websocket-v2/heartbeat),
  // and the `{"method":"pong",…}` answering our ping
  // (https://docs.kraken.com/exchange/api-reference/spot-websocket-v2/ping).
  isHeartbeat: (frame) =>
    textStartsWith(frame, '{"channel":"heartbeat"') ||
    textStartsWith(frame, '{"method":"pong"'),
  parser: (instruments): Parser => ({
    parse: (frame, recvTs) => parseV2(instruments, frame, recvTs),
  }),
  book: {
    // Snapshot on subscribing, updates unnumbered: the checksum guards them.
    sync: { kind: "stream", link: "none" },
    checksum: krakenChecksum,
    // Kraken sends no delete for a level an insert pushes past the depth.
    maxDepth: KRAKEN_BOOK_DEPTH,
    // A fresh snapshot of one symbol: resubscribe its book.
    resubscribe: (symbol) => [
      JSON.stringify({ method: "unsubscribe", params: bookParams([symbol]) }),
      JSON.stringify({ method: "subscribe", params: bookParams([symbol]) }),
    ],
  },
};

// ---- raw frame types ----

/** Any v2 frame: channel data or a method response. */
interface V2Frame {
  channel?: string;
  type?: "snapshot" | "update";
  data?: unknown;
  method?: string;
  success?: boolean;
  error?: string;
  /** The symbol a subscribe response is about. */
  symbol?: string;
}

/**
 * `price`/`qty` are JSON numbers on the wire; book frames are parsed with
 * their source text kept (strings), trade frames as numbers.
 */
interface V2Level {
  price: string | number;
  qty: string | number;
}

interface V2Book {
  symbol: string;
  bids?: V2Level[];
  asks?: V2Level[];
  /** CRC32 of the top 10 levels after this message, unsigned. */
  checksum?: number;
  /** RFC 3339 with microseconds. */
  timestamp?: string;
}

interface V2Trade {
  symbol: string;
  side: "buy" | "sell";
  price: number;
  qty: number;
  ord_type: "market" | "limit";
  trade_id: number;
  timestamp: string;
}
