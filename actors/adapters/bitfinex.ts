/**
 * Bitfinex spot and perpetuals (WebSocket v2).
 * Docs: https://docs.bitfinex.com/reference/ws-public-books
 * Trades: https://docs.bitfinex.com/reference/ws-public-trades
 * Liquidations: https://docs.bitfinex.com/reference/ws-public-status
 * Flags, sequence numbers, info codes: https://docs.bitfinex.com/docs/ws-general
 * Checksum: https://docs.bitfinex.com/docs/ws-websocket-checksum
 * Pairs: https://docs.bitfinex.com/reference/rest-public-conf
 *
 * @module
 */

import type { OrderBook } from "../market/book.ts";
import { Crc32 } from "./_crc32.ts";
import type {
  Instrument,
  Levels,
  Market,
  MarketEvent,
} from "../market/events.ts";
import {
  type Adapter,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
  ResyncError,
} from "./adapter.ts";
import {
  amountError,
  checksumValue,
  decimalValue,
  MAX_SIZE,
  parseJson,
  priceValue,
  sizeValue,
  timeValue,
  venueError,
} from "./_common.ts";

const REST = "https://api-pub.bitfinex.com";

/** `conf` flag: a millisecond timestamp after the sequence number of every message. */
const TIMESTAMP = 32_768;
/** `conf` flag: a connection-wide sequence number on every message. */
const SEQ_ALL = 65_536;
/** `conf` flag: `cs` checksum messages after book updates. */
const OB_CHECKSUM = 131_072;

/** Book depth subscribed per side (Bitfinex offers 1, 25, 100 or 250). */
const BOOK_LEN = "250";
/** Levels per side the checksum covers. */
const CHECKSUM_DEPTH = 25;

/** The checksum's running CRC, reused by every call. */
const CRC = new Crc32();

/**
 * Bitfinex currency codes that differ from the rest of the market's for the
 * same asset: stablecoins and the Bitcoin Cash fork. Bitfinex's own
 * `pub:map:currency:sym` also renames three-letter truncations (IOT → IOTA,
 * MNA → MANA, DSH → DASH, …); those are kept, because configured selectors
 * (and cryptofeed's captures) name pairs by them, e.g. `IOT-ETH`.
 */
const CURRENCY_ALIASES: Readonly<Record<string, string>> = {
  UST: "USDT",
  EUT: "EURT",
  UDC: "USDC",
  TSD: "TUSD",
  GSD: "GUSD",
  BCHN: "BCH",
};

/** Bitfinex adapter: P0 books with in-stream snapshots, trades and global liquidations. */
export const bitfinexAdapter: Adapter = {
  id: "bitfinex",
  docs: "https://docs.bitfinex.com/reference/ws-public-books",
  restOrigin: REST,
  metadataUrls: [
    `${REST}/v2/conf/pub:list:pair:exchange`,
    // Today's docs name `pub:list:pair:futures`; `pub:list:pair:future` is the
    // key cryptofeed recorded in 2021, answered with the same list.
    `${REST}/v2/conf/pub:list:pair:future`,
  ],
  instruments(bodies: readonly string[]): Instrument[] {
    const out: Instrument[] = [];
    addPairs(out, pairList(bodies[0], "pair:exchange"), "spot");
    addPairs(out, pairList(bodies[1], "pair:future"), "perpetual");
    return out;
  },
  url: () => "wss://api-pub.bitfinex.com/ws/2",
  // Bitfinex allows about 25 channel subscriptions per connection; each
  // symbol takes two (book, trades) and the liquidation feed one.
  maxSymbolsPerConnection: 12,
  subscribe(symbols: readonly string[]): string[] {
    const frames = [
      // Sent first so every later message carries the sequence and timestamp.
      JSON.stringify({
        event: "conf",
        flags: SEQ_ALL | OB_CHECKSUM | TIMESTAMP,
      }),
    ];
    for (const symbol of symbols) {
      frames.push(
        JSON.stringify({
          event: "subscribe",
          channel: "book",
          symbol,
          prec: "P0",
          freq: "F0",
          len: BOOK_LEN,
        }),
        JSON.stringify({ event: "subscribe", channel: "trades", symbol }),
      );
    }
    // One global feed for the liquidations of every margin and perpetual pair.
    frames.push(
      JSON.stringify({
        event: "subscribe",
        channel: "status",
        key: "liq:global",
      }),
    );
    return frames;
  },
  isHeartbeat: bitfinexIsHeartbeat,
  parser: (instruments) => new BitfinexParser(instruments),
  book: {
    // The snapshot comes in the stream on subscribing. Books carry no
    // per-book numbers; the parser checks the connection-wide sequence.
    sync: { kind: "stream", link: "none" },
    checksum: bitfinexChecksum,
    // No resubscribe: an unsubscribe needs the channel id, which only the
    // connection's parser knows, so a failed checksum reconnects.
  },
};

/**
 * Whether a frame is a channel heartbeat `[chanId,"hb"]`, sent every 15 s
 * per channel with no other traffic (with SEQ_ALL and TIMESTAMP on:
 * `[chanId,"hb",seq,ts]`; https://docs.bitfinex.com/docs/ws-general
 * "Heartbeating"). The tag follows the first comma; data messages have an
 * array or `"te"`/`"tu"`/`"cs"` there. Heartbeats still carry the
 * connection-wide sequence, so they must be parsed too.
 */
function bitfinexIsHeartbeat(frame: string | Uint8Array): boolean {
  if (typeof frame !== "string" || frame.charCodeAt(0) !== 0x5b) return false;
  const comma = frame.indexOf(",");
  return comma > 0 && frame.startsWith('"hb"', comma + 1);
}

/** Reads a `[[pair, …]]` conf body. */
function pairList(body: string, what: string): string[] {
  const v = parseJson<unknown>(body, what);
  const list = Array.isArray(v) ? v[0] : undefined;
  if (!Array.isArray(list)) {
    throw new MalformedFrameError(
      `Bitfinex ${what} is not a list: ${body.slice(0, 80)}`,
    );
  }
  return list as string[];
}

/** Adds `t`-prefixed instruments for Bitfinex pair names. */
function addPairs(out: Instrument[], pairs: string[], market: Market): void {
  for (const pair of pairs) {
    // Six-letter pairs are two three-letter codes (`BTCUSD`); longer codes
    // are joined with a colon (`TESTBTC:TESTUSD`, `BTCF0:USTF0`).
    const colon = pair.indexOf(":");
    let base = colon < 0 ? pair.slice(0, 3) : pair.slice(0, colon);
    let quote = colon < 0 ? pair.slice(3) : pair.slice(colon + 1);
    if (market === "perpetual") {
      // Perpetuals suffix both currencies with F0: BTCF0:USTF0.
      base = base.replace(/F0$/, "");
      quote = quote.replace(/F0$/, "");
    }
    base = CURRENCY_ALIASES[base] ?? base;
    quote = CURRENCY_ALIASES[quote] ?? quote;
    out.push({
      exchange: "bitfinex",
      exchangeSymbol: `t${pair}`,
      symbol: `${base}-${quote}`,
      base,
      quote,
      market,
      // Derivative amounts are in the base currency, like spot.
      contractSize: 1,
    });
  }
}

/** What a channel id stands for on one connection. */
type Channel =
  | { readonly kind: "book"; readonly inst: Instrument }
  | { readonly kind: "trades"; readonly inst: Instrument }
  | { readonly kind: "liquidations"; snapshotSeen: boolean };

/**
 * The per-connection parser: maps channel ids from `subscribed` events,
 * checks the connection-wide sequence (SEQ_ALL) on every array message and
 * emits books, `te` trades, checksums and liquidations.
 */
class BitfinexParser implements Parser {
  readonly #instruments: InstrumentTable;
  readonly #channels = new Map<number, Channel>();
  /** Flags the venue confirmed in its `conf` reply; 0 until then. */
  #flags = 0;
  /** Last connection-wide sequence number, -1 before the first. */
  #seq = -1;

  constructor(instruments: InstrumentTable) {
    this.#instruments = instruments;
  }

  parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
    if (typeof frame !== "string") {
      throw new MalformedFrameError(
        `Bitfinex sent a binary frame of ${frame.length} bytes`,
      );
    }
    const msg = parseJson<BitfinexEvent | BitfinexArray>(frame, "Frame");
    if (Array.isArray(msg)) return this.#data(msg, recvTs, frame);
    if (msg === null || typeof msg !== "object") {
      throw new MalformedFrameError(
        `Frame is not an object: ${frame.slice(0, 80)}`,
      );
    }
    this.#event(msg, frame);
    return [];
  }

  /** Handles `{"event": …}` messages: conf, subscriptions, info and errors. */
  #event(e: BitfinexEvent, frame: string): void {
    switch (e.event) {
      case "conf":
        this.#flags = e.status === "OK" ? e.flags ?? 0 : 0;
        return;
      case "subscribed": {
        const chanId = e.chanId!;
        if (e.channel === "status" && e.key === "liq:global") {
          this.#channels.set(chanId, {
            kind: "liquidations",
            snapshotSeen: false,
          });
          return;
        }
        const inst = e.symbol === undefined
          ? undefined
          : this.#instruments.get(e.symbol);
        if (!inst) return;
        if (e.channel === "book" && e.prec === "P0") {
          this.#channels.set(chanId, { kind: "book", inst });
        } else if (e.channel === "trades") {
          this.#channels.set(chanId, { kind: "trades", inst });
        }
        return;
      }
      case "unsubscribed":
        this.#channels.delete(e.chanId!);
        return;
      case "info":
        // 20051: the server is restarting, reconnect; 20061: maintenance
        // ended, "unsubscribe/subscribe again all channels". 20060
        // (maintenance started) needs nothing: the stream pauses.
        if (e.code === 20051 || e.code === 20061) {
          throw new ResyncError(`Bitfinex info ${e.code}: ${e.msg}`);
        }
        return;
      case "error":
        // `{"event":"error","msg":…,"code":…}`, echoing the request's fields
        // (`symbol` for a book or trades subscription)
        // (https://docs.bitfinex.com/docs/ws-general#error-codes).
        throw venueError(frame, { message: e.msg, symbol: e.symbol });
      default:
        return; // pong and unknown events
    }
  }

  /** Handles `[chanId, …]` messages. */
  #data(m: BitfinexArray, recvTs: number, frame: string): MarketEvent[] {
    // Layout: [chanId, payload, SEQ?, TS?] or [chanId, "hb"|"te"|"tu"|"cs",
    // (payload,) SEQ?, TS?]. With SEQ_ALL every message, heartbeats and
    // unfollowed channels included, carries the next connection-wide number;
    // one skipped means a lost message, so the whole connection resyncs.
    const tag = typeof m[1] === "string" ? m[1] : "";
    let i = tag === "" || tag === "hb" ? 2 : 3;
    if (this.#flags & SEQ_ALL) {
      const seq = m[i++] as number;
      if (!Number.isSafeInteger(seq)) {
        throw new MalformedFrameError(
          `Message without sequence: ${frame.slice(0, 80)}`,
        );
      }
      if (this.#seq >= 0 && seq !== this.#seq + 1) {
        const last = this.#seq;
        this.#seq = -1;
        throw new ResyncError(`Bitfinex sequence ${seq} after ${last}`);
      }
      this.#seq = seq;
    }
    const ch = this.#channels.get(m[0] as number);
    if (ch === undefined || tag === "hb" || tag === "tu") return [];
    const seq = this.#flags & SEQ_ALL ? this.#seq : -1;
    const ts = this.#flags & TIMESTAMP ? timeValue(m[i], recvTs) : recvTs;
    switch (ch.kind) {
      case "book":
        if (tag === "cs") {
          return [checksumEvent(ch.inst, m[2], seq, ts, recvTs)];
        }
        return [book(ch.inst, m[1], seq, ts, recvTs, frame)];
      case "trades":
        // The snapshot of past trades on subscribing (m[1] an array) is
        // history, not flow: only executions (`te`) are trades. `tu` repeats
        // a `te` with its final id.
        return tag === "te" ? [trade(ch.inst, m[2], recvTs, frame)] : [];
      case "liquidations":
        // Like every Bitfinex channel, the first message is a snapshot of
        // past liquidations, hours old: skipped.
        if (!ch.snapshotSeen) {
          ch.snapshotSeen = true;
          return [];
        }
        return this.#liquidations(m[1], recvTs, frame);
    }
  }

  /** `liq:global` entries of followed instruments, executions only. */
  #liquidations(
    payload: unknown,
    recvTs: number,
    frame: string,
  ): MarketEvent[] {
    if (!Array.isArray(payload)) {
      throw new MalformedFrameError(
        `Bad liquidation message: ${frame.slice(0, 80)}`,
      );
    }
    // Usually a list of entries; a bare entry is accepted too.
    const list = (payload[0] === "pos" ? [payload] : payload) as BitfinexLiq[];
    const out: MarketEvent[] = [];
    for (let k = 0; k < list.length; k++) {
      const l = list[k];
      // [ "pos", POS_ID, MTS, _, SYMBOL, AMOUNT, BASE_PRICE, _, IS_MATCH,
      //   IS_MARKET_SOLD, _, PRICE_ACQUIRED ]. IS_MATCH 0 is the trigger
      // (the whole position, no price yet); 1 is an execution of part or all
      // of it at PRICE_ACQUIRED. Executions only, so nothing counts twice.
      if (!Array.isArray(l) || l[0] !== "pos" || l[8] !== 1) continue;
      const inst = this.#instruments.get(l[4]);
      if (inst === undefined) continue;
      const amount = l[5];
      const p = typeof l[11] === "number" ? l[11] : l[6];
      const price = typeof p === "number" ? priceValue(p) : NaN;
      // The amount's sign is the position's side; its size is the rest.
      const raw = typeof amount === "number"
        ? sizeValue(Math.abs(amount))
        : NaN;
      if (price !== price || raw !== raw) {
        throw amountError("liquidation", p, amount, { symbol: l[4] });
      }
      out.push({
        type: "liquidation",
        exchange: "bitfinex",
        exchangeSymbol: inst.exchangeSymbol,
        symbol: inst.symbol,
        market: inst.market,
        exchangeTs: timeValue(l[2], recvTs),
        localTs: recvTs,
        price,
        size: raw * inst.contractSize,
        rawSize: raw,
        // A long position (amount > 0) is liquidated by selling.
        side: amount > 0 ? "sell" : "buy",
      });
    }
    return out;
  }
}

/**
 * A P0 book message: a snapshot `[[price, count, amount], …]` or one update
 * `[price, count, amount]`. The amount's sign is the side (> 0 bid, < 0 ask);
 * count 0 removes the level (its amount is then ±1, the side only).
 */
function book(
  inst: Instrument,
  payload: unknown,
  seq: number,
  ts: number,
  recvTs: number,
  frame: string,
): MarketEvent {
  const sym = inst.exchangeSymbol;
  if (!Array.isArray(payload)) {
    throw new MalformedFrameError(
      `Bad book message of ${sym}: ${frame.slice(0, 80)}`,
      sym,
    );
  }
  const snapshot = payload.length === 0 || Array.isArray(payload[0]);
  const rows = (snapshot ? payload : [payload]) as number[][];
  const bids: Levels = [];
  const asks: Levels = [];
  const rawBids: string[] = [];
  const rawAsks: string[] = [];
  const cs = inst.contractSize;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (!Array.isArray(r)) {
      throw new MalformedFrameError(
        `Bad book level ${JSON.stringify(r)} at index ${k} of ${sym}`,
        sym,
      );
    }
    // JSON numbers only: the checksum is computed over their printed form.
    const price = typeof r[0] === "number" ? priceValue(r[0]) : NaN;
    const count = r[1];
    const amount = r[2];
    // The amount's sign is the side (never 0); its magnitude the size.
    const size = typeof amount === "number" && amount !== 0
      ? sizeValue(Math.abs(amount)) * cs
      : NaN;
    if (price !== price || !(size <= MAX_SIZE)) {
      throw amountError("level", r[0], amount, {
        symbol: sym,
        book: true,
        at: k,
        inst,
      });
    }
    // The number of orders at the price; 0 deletes the level.
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new MalformedFrameError(
        `Bad book level count ${count} at index ${k} of ${sym}`,
        sym,
      );
    }
    // The checksum joins price and signed amount as JavaScript prints the
    // numbers Bitfinex sends (its reference client does `csdata.join(':')`).
    const s = count === 0 ? 0 : size;
    if (amount > 0) {
      bids.push(price, s);
      rawBids.push(String(price), String(amount));
    } else {
      asks.push(price, s);
      rawAsks.push(String(price), String(amount));
    }
  }
  const raw = { bids: rawBids, asks: rawAsks };
  if (snapshot) {
    return {
      type: "book_snapshot",
      exchange: "bitfinex",
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs: ts,
      localTs: recvTs,
      sequence: seq,
      bids,
      asks,
      contractSize: inst.contractSize,
      raw,
    };
  }
  return {
    type: "book_delta",
    exchange: "bitfinex",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: ts,
    localTs: recvTs,
    first: seq,
    last: seq,
    prev: -1,
    bids,
    asks,
    contractSize: inst.contractSize,
    raw,
  };
}

/**
 * A `cs` message as an empty delta carrying the venue's checksum of the book
 * after every earlier update, so the connection verifies it.
 */
function checksumEvent(
  inst: Instrument,
  checksum: unknown,
  seq: number,
  ts: number,
  recvTs: number,
): MarketEvent {
  if (typeof checksum !== "number" || checksumValue(checksum) !== checksum) {
    throw new MalformedFrameError(
      `Checksum of ${inst.exchangeSymbol} is not a 32-bit integer: ${checksum}`,
      inst.exchangeSymbol,
    );
  }
  return {
    type: "book_delta",
    exchange: "bitfinex",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: ts,
    localTs: recvTs,
    first: seq,
    last: seq,
    prev: -1,
    bids: [],
    asks: [],
    contractSize: inst.contractSize,
    checksum,
  };
}

/** A `te` trade `[ID, MTS, AMOUNT, PRICE]`; the amount's sign is the taker side. */
function trade(
  inst: Instrument,
  t: unknown,
  recvTs: number,
  frame: string,
): MarketEvent {
  const r = t as number[];
  if (!Array.isArray(r)) {
    throw new MalformedFrameError(`Bad trade: ${frame.slice(0, 80)}`);
  }
  // [ID, MTS, AMOUNT, PRICE], JSON numbers; the amount's sign is the side.
  const price = typeof r[3] === "number" ? priceValue(r[3]) : NaN;
  const raw = typeof r[2] === "number" ? sizeValue(Math.abs(r[2])) : NaN;
  const size = raw * inst.contractSize;
  if (price !== price || !(size <= MAX_SIZE)) {
    throw amountError("trade", r[3], r[2], {
      symbol: inst.exchangeSymbol,
      inst,
    });
  }
  const mts = decimalValue(r[1]);
  if (typeof r[1] !== "number" || !(mts > 0)) {
    throw new MalformedFrameError(
      `Bad trade time ${r[1]} of ${inst.exchangeSymbol}`,
    );
  }
  return {
    type: "trade",
    exchange: "bitfinex",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: mts,
    localTs: recvTs,
    id: String(r[0]),
    price,
    size,
    rawSize: raw,
    side: r[2] < 0 ? "sell" : "buy",
  };
}

/**
 * Bitfinex's book checksum: the signed CRC-32 of
 * `bid0.price:bid0.amount:ask0.price:ask0.amount:bid1…` over the best 25
 * levels of each side, asks with their negative amounts, a side that runs
 * out simply skipped.
 * @param b the book, keeping the venue's strings (signed amounts).
 * @returns the checksum as a signed 32-bit integer.
 * @example
 * ```ts
 * bitfinexChecksum(book); // compared with the `cs` message's value
 * ```
 */
function bitfinexChecksum(b: OrderBook): number {
  CRC.reset();
  let first = true;
  const bids = b.bids;
  const asks = b.asks;
  for (let k = 0; k < CHECKSUM_DEPTH; k++) {
    const bi = bids.length - 1 - k; // best level is last
    const ai = asks.length - 1 - k;
    if (bi >= 0) {
      feedPart(bids.rawPrices?.[bi] ?? String(bids.prices[bi]), first);
      feedPart(bids.rawSizes?.[bi] ?? String(bids.sizes[bi]), false);
      first = false;
    }
    if (ai >= 0) {
      feedPart(asks.rawPrices?.[ai] ?? String(asks.prices[ai]), first);
      feedPart(asks.rawSizes?.[ai] ?? String(-asks.sizes[ai]), false);
      first = false;
    }
  }
  return CRC.value() | 0;
}

/** Feeds one part of the checksum text, after a `:` unless it is the first. */
function feedPart(s: string, first: boolean): void {
  if (!first) CRC.unit(0x3a); // ":"
  CRC.text(s);
}

// ---- raw frame types ----

interface BitfinexEvent {
  event:
    | "info"
    | "conf"
    | "subscribed"
    | "unsubscribed"
    | "error"
    | "pong";
  status?: string;
  flags?: number;
  chanId?: number;
  channel?: string;
  symbol?: string;
  prec?: string;
  key?: string;
  code?: number;
  msg?: string;
}

/** `[chanId, payload | tag, …]`. */
type BitfinexArray = unknown[];

/** A `liq:global` entry. */
type BitfinexLiq = [
  "pos",
  number,
  number,
  null,
  string,
  number,
  number,
  null,
  0 | 1,
  0 | 1,
  null,
  number | null,
];
