/**
 * Bybit v2 derivatives (retired): inverse contracts on `/realtime`, USDT
 * perpetuals on `/realtime_public`. The cryptofeed captures (2021) speak it.
 * Docs: https://bybit-exchange.github.io/docs-legacy/futuresV2/inverse/#t-websocket
 * USDT perpetual: https://bybit-exchange.github.io/docs-legacy/futuresV2/linear/#t-websocket
 *
 * @module
 */

import type { Instrument, Levels, MarketEvent } from "../market/events.ts";
import {
  type Adapter,
  type ColumnarDelta,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
  reusedDelta,
} from "./adapter.ts";
import { BybitV2BookScanner } from "./bybit_v2_scan.ts";
import {
  BYBIT_REST,
  bybitCategory,
  bybitIsHeartbeat,
  bybitSubscribe,
} from "./_bybit.ts";
import {
  amountError,
  decimalValue,
  frameText,
  MAX_SIZE,
  parseJson,
  parseObject,
  priceValue,
  sequenceValue,
  sideValue,
  sizeValue,
  timeValue,
  toBase,
  venueError,
} from "./_common.ts";
import { toBaseSide } from "./_scan.ts";

const BOOK = "orderBookL2_25";

/**
 * Bybit v2 adapter: 25-level books snapshotted in-stream, trades and
 * liquidations. Inverse and USDT contracts are served on different paths,
 * so each gets its own connection (`connectionGroup`).
 */
export const bybitV2Adapter: Adapter = {
  id: "bybit",
  docs:
    "https://bybit-exchange.github.io/docs-legacy/futuresV2/inverse/#t-websocket",
  // Bybit took the v2 public market data (REST and WebSocket) offline on
  // 16 Oct 2023 (announcement "OpenAPI services transition from legacy
  // version to new V5 API", quoted in hummingbot/hummingbot#6763).
  until: Date.UTC(2023, 9, 15),
  restOrigin: BYBIT_REST,
  metadataUrls: [`${BYBIT_REST}/v2/public/symbols`],
  instruments(bodies: readonly string[]): Instrument[] {
    const r = parseJson<V2Symbols>(bodies[0], "v2 symbols");
    if (!Array.isArray(r?.result)) {
      throw new MalformedFrameError(
        `v2 symbols without result: ${bodies[0].slice(0, 80)}`,
      );
    }
    const out: Instrument[] = [];
    for (const s of r.result) {
      // Inverse contracts are quoted in USD and sized in 1 USD contracts;
      // USDT perpetuals are sized in base.
      const inverse = s.quote_currency === "USD";
      const perpetual = s.name === s.base_currency + s.quote_currency;
      out.push({
        exchange: "bybit",
        exchangeSymbol: s.name,
        symbol: `${s.base_currency}-${s.quote_currency}`,
        base: s.base_currency,
        quote: s.quote_currency,
        market: perpetual ? "perpetual" : "future",
        contractSize: 1,
        ...(inverse ? { inverse: true } : {}),
        ...(perpetual ? {} : { expiry: v2Expiry(s.name, s.alias) }),
      });
    }
    return out;
  },
  connectionGroup: (symbol) => bybitCategory(symbol),
  // v2 served inverse contracts on /realtime, USDT ones on /realtime_public.
  speaks: (url) => /^\/realtime(_public)?\/?$/.test(new URL(url).pathname),
  url(symbols) {
    return bybitCategory(symbols[0] ?? "") === "inverse"
      ? "wss://stream.bybit.com/realtime"
      : "wss://stream.bybit.com/realtime_public";
  },
  subscribe: (symbols) =>
    bybitSubscribe(symbols, [BOOK, "trade", "liquidation"]),
  keepalive: { frame: '{"op":"ping"}', intervalMs: 20_000 },
  // The pongs answering that ping are the only chatter.
  isHeartbeat: bybitIsHeartbeat,
  parser: (instruments) => bybitV2Parser(instruments),
  book: {
    // Snapshot in-stream after subscribing. cross_seq is the matching
    // engine's sequence, shared by all its symbols: it rises but skips, so
    // there is nothing to link deltas with.
    sync: { kind: "stream", link: "none" },
    resubscribe: (symbol) => [
      JSON.stringify({ op: "unsubscribe", args: [`${BOOK}.${symbol}`] }),
      JSON.stringify({ op: "subscribe", args: [`${BOOK}.${symbol}`] }),
    ],
  },
};

/**
 * Expiry of a v2 inverse future: the year from the name (`BTCUSDM21`), month
 * and day from the alias (`BTCUSD0625`); Bybit delivers at 08:00 UTC.
 */
function v2Expiry(name: string, alias: string): number {
  const year = 2000 + +name.slice(-2);
  const month = +alias.slice(-4, -2);
  const day = +alias.slice(-2);
  return Date.UTC(year, month - 1, day, 8);
}

/**
 * A parser for v2 `orderBookL2_25`, `trade` and `liquidation` frames.
 * `scanBook` reads `orderBookL2_25` deltas with {@link BybitV2BookScanner}.
 */
function bybitV2Parser(instruments: InstrumentTable): Parser {
  const scanner = new BybitV2BookScanner();
  const delta = reusedDelta(scanner.bids, scanner.asks);
  return {
    // The delta case of `book`, read by the scanner: the same instrument
    // lookup, time, cross_seq and levels (deletes, updates, inserts; sizes
    // converted as `rows2levels` does with `toBase`).
    scanBook(frame: string | Uint8Array, recvTs: number): ColumnarDelta | null {
      if (typeof frame !== "string" || !scanner.scan(frame)) return null;
      const inst = instruments.get(scanner.symbol);
      if (inst === undefined) return null;
      if (
        (inst.contractSize !== 1 || inst.inverse === true) &&
        !(toBaseSide(scanner.bids, inst) && toBaseSide(scanner.asks, inst))
      ) return null;
      delta.inst = inst;
      // `book`'s rule: µs to whole ms, no time (NaN) or an unusable one
      // falling back to the receive time.
      delta.exchangeTs = timeValue(Math.floor(scanner.timeE6 / 1000), recvTs);
      delta.localTs = recvTs;
      delta.first = delta.last = scanner.crossSeq;
      return delta;
    },
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      const text = frameText(frame);
      const msg = parseObject<V2Frame>(text);
      const topic = msg.topic;
      if (typeof topic !== "string") {
        // Acks {"success":true,"request":{…}} and pongs. A refused request
        // is `success: false`, the reason in `ret_msg` and the request
        // echoed (https://bybit-exchange.github.io/docs-legacy/futuresV2/inverse/#t-websocket):
        // a one-topic subscribe names its symbol after the topic's last dot.
        if (msg.success === false) {
          const args = msg.request?.args;
          const topic = Array.isArray(args) && args.length === 1
            ? String(args[0])
            : "";
          throw venueError(text, {
            message: msg.ret_msg,
            symbol: topic.slice(topic.lastIndexOf(".") + 1),
          });
        }
        return [];
      }
      const channel = topic.slice(0, topic.indexOf("."));
      const inst = instruments.get(topic.slice(topic.lastIndexOf(".") + 1));
      if (!inst) return [];
      switch (channel) {
        case BOOK:
          return book(msg as V2BookFrame, inst, text, recvTs);
        case "trade":
          return trades(msg as V2TradeFrame, inst, recvTs);
        case "liquidation":
          return liquidation(msg as V2LiquidationFrame, inst, recvTs);
        default:
          return []; // orderBook_200, instrument_info, klineV2, …
      }
    },
  };
}

function book(
  msg: V2BookFrame,
  inst: Instrument,
  text: string,
  recvTs: number,
): MarketEvent[] {
  const bids: Levels = [];
  const asks: Levels = [];
  const d = msg.data;
  if (msg.type === "snapshot") {
    // Inverse snapshots are an array; USDT ones wrap it in `order_book`.
    const rows = Array.isArray(d) ? d : (d as { order_book: V2Row[] })
      ?.order_book;
    if (!Array.isArray(rows)) {
      throw new MalformedFrameError(
        `Snapshot of ${inst.exchangeSymbol} without levels: ${
          text.slice(0, 80)
        }`,
        inst.exchangeSymbol,
      );
    }
    rows2levels(rows, false, inst, bids, asks);
  } else if (msg.type === "delta") {
    const delta = d as V2Delta;
    if (!delta || !Array.isArray(delta.update)) {
      throw new MalformedFrameError(
        `Delta of ${inst.exchangeSymbol} without update: ${text.slice(0, 80)}`,
        inst.exchangeSymbol,
      );
    }
    // Applied in this order: deleted levels (size 0), updated, inserted.
    rows2levels(delta.delete ?? [], true, inst, bids, asks);
    rows2levels(delta.update, false, inst, bids, asks);
    rows2levels(delta.insert ?? [], false, inst, bids, asks);
  } else {
    throw new MalformedFrameError(
      `Unknown book type ${msg.type} of ${inst.exchangeSymbol}`,
      inst.exchangeSymbol,
    );
  }
  // cross_seq and timestamp_e6 are numbers on /realtime, strings on
  // /realtime_public. cross_seq is reported, not linked (see `book.sync`).
  const seq = msg.cross_seq === undefined ? -1 : sequenceValue(msg.cross_seq);
  if (seq !== seq) {
    throw new MalformedFrameError(
      `Bad cross_seq ${msg.cross_seq} of ${inst.exchangeSymbol}`,
      inst.exchangeSymbol,
    );
  }
  const ts = timeValue(
    Math.floor(decimalValue(msg.timestamp_e6) / 1000),
    recvTs,
  );
  const base = {
    exchange: "bybit",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: ts,
    localTs: recvTs,
    bids,
    asks,
    contractSize: inst.contractSize,
    ...(inst.inverse ? { inverse: true } : {}),
  };
  if (msg.type === "snapshot") {
    return [{ type: "book_snapshot", ...base, sequence: seq }];
  }
  return [{ type: "book_delta", ...base, first: seq, last: seq, prev: -1 }];
}

/**
 * Appends v2 level rows (`{price, side, size}`) to flat bid/ask levels; a
 * deleted row's size is 0 whatever it says.
 */
function rows2levels(
  rows: readonly V2Row[],
  deleted: boolean,
  inst: Instrument,
  bids: Levels,
  asks: Levels,
): void {
  if (!Array.isArray(rows)) {
    throw new MalformedFrameError(
      `Rows of ${inst.exchangeSymbol} are not an array: ${rows}`,
      inst.exchangeSymbol,
    );
  }
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r === null || typeof r !== "object") {
      throw new MalformedFrameError(
        `Bad row ${r} at index ${i} of ${inst.exchangeSymbol}`,
        inst.exchangeSymbol,
      );
    }
    const p = priceValue(r.price);
    const raw = deleted ? 0 : sizeValue(r.size);
    const size = toBase(raw, p, inst);
    if (!(size <= MAX_SIZE) || p !== p) {
      throw amountError("level", r.price, deleted ? 0 : r.size, {
        symbol: inst.exchangeSymbol,
        book: true,
        at: i,
        inst,
      });
    }
    // A side other than Buy or Sell would put the level on a guessed side.
    const out = r.side === "Buy" ? bids : r.side === "Sell" ? asks : null;
    if (out === null) {
      throw new MalformedFrameError(
        `Bad level side ${
          JSON.stringify(r.side)
        } at index ${i} of ${inst.exchangeSymbol}`,
        inst.exchangeSymbol,
      );
    }
    out.push(p, size);
  }
}

function trades(
  msg: V2TradeFrame,
  inst: Instrument,
  recvTs: number,
): MarketEvent[] {
  const data = msg.data;
  if (!Array.isArray(data)) {
    throw new MalformedFrameError(`trade without data: ${msg.topic}`);
  }
  const out: MarketEvent[] = [];
  for (let i = 0; i < data.length; i++) {
    const t = data[i];
    if (t === null || typeof t !== "object") {
      throw new MalformedFrameError(`Bad trade ${t} of ${inst.exchangeSymbol}`);
    }
    const price = priceValue(t.price);
    const raw = sizeValue(t.size);
    const size = toBase(raw, price, inst);
    if (!(size <= MAX_SIZE) || price !== price) {
      throw amountError("trade", t.price, t.size, {
        symbol: inst.exchangeSymbol,
        inst,
      });
    }
    const side = sideValue(t.side, { buy: "Buy", sell: "Sell" }); // taker side
    if (side === undefined) {
      throw new MalformedFrameError(
        `Bad trade side ${JSON.stringify(t.side)} of ${inst.exchangeSymbol}`,
      );
    }
    out.push({
      type: "trade",
      exchange: "bybit",
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      // trade_time_ms (number or string) came later; older frames only
      // carry the ISO time to the second.
      exchangeTs: timeValue(
        t.trade_time_ms,
        timeValue(Date.parse(t.timestamp), recvTs),
      ),
      localTs: recvTs,
      id: String(t.trade_id),
      price,
      size,
      rawSize: raw,
      side,
    });
  }
  return out;
}

function liquidation(
  msg: V2LiquidationFrame,
  inst: Instrument,
  recvTs: number,
): MarketEvent[] {
  const d = msg.data;
  const price = priceValue(d?.price);
  const raw = sizeValue(d?.qty);
  const size = toBase(raw, price, inst);
  if (!(size <= MAX_SIZE) || price !== price) {
    throw amountError("liquidation", d?.price, d?.qty, {
      symbol: inst.exchangeSymbol,
      inst,
    });
  }
  // "Buy" is the liquidated long position: the liquidation order sells.
  const side = sideValue(d.side, { buy: "Sell", sell: "Buy" });
  if (side === undefined) {
    throw new MalformedFrameError(
      `Bad liquidation side ${
        JSON.stringify(d.side)
      } of ${inst.exchangeSymbol}`,
    );
  }
  return [{
    type: "liquidation",
    exchange: "bybit",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: timeValue(d.time, recvTs),
    localTs: recvTs,
    price,
    size,
    rawSize: raw,
    side,
  }];
}

// ---- raw frame types ----

interface V2Frame {
  topic?: string;
  success?: boolean;
  ret_msg?: string;
  request?: { op: string; args: string[] | null };
}

interface V2Row {
  price: string;
  symbol: string;
  id: number | string;
  side: "Buy" | "Sell";
  size?: number;
}

interface V2Delta {
  delete?: V2Row[];
  update: V2Row[];
  insert?: V2Row[];
}

interface V2BookFrame extends V2Frame {
  type: "snapshot" | "delta";
  data: V2Row[] | { order_book: V2Row[] } | V2Delta;
  cross_seq?: number | string;
  timestamp_e6?: number | string;
}

interface V2TradeFrame extends V2Frame {
  data: {
    symbol: string;
    side: "Buy" | "Sell";
    size: number;
    price: number | string;
    timestamp: string;
    trade_time_ms?: number | string;
    trade_id: string;
  }[];
}

interface V2LiquidationFrame extends V2Frame {
  data: {
    symbol: string;
    side: "Buy" | "Sell";
    price: string;
    qty: string;
    time: number;
  };
}

interface V2Symbols {
  result: {
    name: string;
    alias: string;
    base_currency: string;
    quote_currency: string;
  }[];
}
