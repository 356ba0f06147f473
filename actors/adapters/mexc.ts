/**
 * MEXC spot (API v3, protobuf market streams).
 * Docs: https://mexcdevelop.github.io/apidocs/spot_v3_en/#websocket-market-streams
 * Book sync: "How to Properly Maintain a Local Copy of the Order Book" in the
 * same docs. Schema: https://github.com/mexcdevelop/websocket-proto (copied
 * under `mexc_proto/`, see its README).
 *
 * @module
 */

import protobuf from "protobufjs";
import type {
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
import { MEXC_PUSH_DESCRIPTOR } from "./mexc_proto/descriptor.ts";
import {
  amountError,
  decimalValue,
  parseJson,
  parseObject,
  priceValue,
  sequenceValue,
  shortTextIncludes,
  sideValue,
  sizeValue,
  timeValue,
  venueError,
} from "./_common.ts";

const REST = "https://api.mexc.com";
const DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms@";
const DEALS = "spot@public.aggre.deals.v3.api.pb@100ms@";

/** The push envelope every binary frame is, with its body in a `oneof`. */
const Wrapper = protobuf.Root.fromJSON(MEXC_PUSH_DESCRIPTOR).lookupType(
  "PushDataV3ApiWrapper",
);

/**
 * MEXC spot adapter: aggregated depth diffs (`fromVersion..toVersion`) synced
 * to the REST snapshot's `lastUpdateId`, and aggregated deals. Market data
 * arrives as protobuf binary frames; acks and pongs are JSON text.
 */
export const mexcAdapter: Adapter = {
  id: "mexc",
  docs:
    "https://mexcdevelop.github.io/apidocs/spot_v3_en/#websocket-market-streams",
  restOrigin: REST,
  metadataUrls: [`${REST}/api/v3/exchangeInfo`],
  instruments(bodies: readonly string[]): Instrument[] {
    const info = parseJson<ExchangeInfo>(bodies[0], "exchangeInfo");
    if (!Array.isArray(info?.symbols)) {
      throw new MalformedFrameError(
        `exchangeInfo without symbols: ${bodies[0].slice(0, 80)}`,
      );
    }
    const out: Instrument[] = new Array(info.symbols.length);
    for (let i = 0; i < info.symbols.length; i++) {
      const s = info.symbols[i];
      out[i] = {
        exchange: "mexc",
        exchangeSymbol: s.symbol,
        symbol: `${s.baseAsset}-${s.quoteAsset}`,
        base: s.baseAsset,
        quote: s.quoteAsset,
        market: "spot",
        contractSize: 1,
      };
    }
    return out;
  },
  url: () => "wss://wbs-api.mexc.com/ws",
  // One connection takes at most 30 subscriptions, i.e. 15 symbols here.
  subscribe: (symbols) =>
    symbols.map((s) =>
      JSON.stringify({ method: "SUBSCRIPTION", params: [DEPTH + s, DEALS + s] })
    ),
  // The server drops a connection that has carried no data for a minute.
  keepalive: { frame: `{"method":"PING"}`, intervalMs: 20_000 },
  // The answer to that ping, `{"id":0,"code":0,"msg":"PONG"}`
  // (https://mexcdevelop.github.io/apidocs/spot_v3_en/#websocket-market-streams,
  // "PING/PONG"), is the only chatter; market data is binary.
  isHeartbeat: (frame) => shortTextIncludes(frame, '"msg":"PONG"'),
  // At most 30 subscriptions per connection; two per symbol (depth, deals).
  maxSymbolsPerConnection: 15,
  // A connection is valid for at most 24 h.
  maxConnectionAgeMs: 23 * 3600_000,
  parser: (instruments) => mexcParser(instruments),
  book: {
    // Discard diffs with toVersion <= lastUpdateId; the first kept one must
    // have fromVersion <= lastUpdateId + 1; then fromVersion == previous
    // toVersion + 1: the Binance spot rule.
    sync: { kind: "rest", link: "next", align: 1 },
    // The docs' book procedure asks for limit=5000 (the endpoint's maximum),
    // so that fewer levels lie outside the snapshot and are never updated.
    snapshotUrl: (symbol) => `${REST}/api/v3/depth?symbol=${symbol}&limit=5000`,
    parseSnapshot(body, recvTs, inst): BookSnapshot {
      const s = parseJson<RestDepth>(body, "Depth snapshot");
      const sym = inst.exchangeSymbol;
      const sequence = sequenceValue(s?.lastUpdateId);
      if (sequence !== sequence) {
        throw new MalformedFrameError(
          `Snapshot of ${sym} without lastUpdateId: ${body.slice(0, 80)}`,
          sym,
        );
      }
      return {
        type: "book_snapshot",
        exchange: "mexc",
        exchangeSymbol: inst.exchangeSymbol,
        symbol: inst.symbol,
        market: inst.market,
        exchangeTs: timeValue(s.timestamp, recvTs),
        localTs: recvTs,
        sequence,
        bids: pairLevels(s.bids, sym),
        asks: pairLevels(s.asks, sym),
        contractSize: 1,
      };
    },
  },
};

/** A parser for one MEXC spot connection. */
function mexcParser(instruments: InstrumentTable): Parser {
  return {
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      let msg: PushWrapper;
      if (typeof frame === "string") {
        // Text frames are acks (`{"id":0,"code":0,"msg":"spot@…"}`, the
        // channel echoed), pongs (`"msg":"PONG"`) and refusals, which carry
        // no data. A text frame holding the push envelope in protobuf's JSON
        // form (as tools that decode before recording store it) is read like
        // the binary one.
        msg = parseObject<PushWrapper>(frame);
        refusal(msg as TextReply, frame);
      } else {
        try {
          msg = Wrapper.decode(frame) as unknown as PushWrapper;
        } catch (e) {
          throw new MalformedFrameError(
            `Frame is not a PushDataV3ApiWrapper: ${(e as Error).message}`,
          );
        }
      }
      const depth = msg.publicAggreDepths;
      const deals = msg.publicAggreDeals;
      if (depth == null && deals == null) return []; // ack, pong, other body
      const sym = msg.symbol || symbolOf(msg.channel);
      const inst = instruments.get(sym);
      if (inst === undefined) return [];
      // createTime is when the message was made, sendTime when it was
      // pushed; either may be absent (decoded as 0 from binary frames).
      const exchangeTs = timeValue(
        int64(msg.createTime),
        timeValue(int64(msg.sendTime), recvTs),
      );
      if (depth != null) {
        const first = sequenceValue(int64(depth.fromVersion));
        const last = sequenceValue(int64(depth.toVersion));
        if (!(first > 0) || !(last >= first)) {
          throw new MalformedFrameError(
            `Depth ${sym} with bad versions ${depth.fromVersion}..${depth.toVersion}`,
            inst.exchangeSymbol,
          );
        }
        return [{
          type: "book_delta",
          exchange: "mexc",
          exchangeSymbol: inst.exchangeSymbol,
          symbol: inst.symbol,
          market: inst.market,
          exchangeTs,
          localTs: recvTs,
          first,
          last,
          prev: -1,
          bids: itemLevels(depth.bids, inst.exchangeSymbol),
          asks: itemLevels(depth.asks, inst.exchangeSymbol),
          contractSize: 1,
        }];
      }
      const list = deals!.deals;
      if (!Array.isArray(list)) {
        throw new MalformedFrameError(`Deals ${sym} without a deals list`);
      }
      const out: MarketEvent[] = new Array(list.length);
      for (let i = 0; i < list.length; i++) {
        const d = list[i];
        if (d === null || typeof d !== "object") {
          throw new MalformedFrameError(`Bad deal ${d} of ${sym}`);
        }
        const price = priceValue(d.price);
        const size = sizeValue(d.quantity);
        if (price !== price || size !== size) {
          throw amountError("deal", d.price, d.quantity, { symbol: sym });
        }
        // tradeType is the taker's side: 1 buy, 2 sell.
        const side = sideValue(d.tradeType, { buy: 1, sell: 2 });
        if (side === undefined) {
          throw new MalformedFrameError(
            `Bad deal tradeType ${JSON.stringify(d.tradeType)} of ${sym}`,
          );
        }
        const time = timeValue(int64(d.time), NaN);
        if (time !== time) {
          throw new MalformedFrameError(
            `Bad deal time ${JSON.stringify(d.time)} of ${sym}`,
          );
        }
        out[i] = {
          type: "trade",
          exchange: "mexc",
          exchangeSymbol: inst.exchangeSymbol,
          symbol: inst.symbol,
          market: inst.market,
          exchangeTs: time,
          localTs: recvTs,
          // Older pushes carry no trade id.
          id: d.tradeId ?? "",
          price,
          size,
          rawSize: size,
          side,
        };
      }
      return out;
    },
  };
}

/**
 * Throws the venue's refusal of a request. MEXC answers a subscription it
 * refuses in the ack's shape (https://mexcdevelop.github.io/apidocs/spot_v3_en/#websocket-market-streams,
 * "Subscription"), `code` still 0, with `msg` "Not Subscribed successfully!
 * [<channels>].  Reason： <why>" (as its servers answer a blocked or retired
 * channel); other failures carry a non-zero `code`. A refusal of one
 * channel names its symbol after the channel's last `@`.
 */
function refusal(reply: TextReply, frame: string): void {
  const text = typeof reply.msg === "string" ? reply.msg : "";
  const refused = text.startsWith("Not Subscribed successfully");
  if (!refused && (reply.code === undefined || reply.code === 0)) return;
  const open = text.indexOf("[");
  const close = text.indexOf("]", open);
  const channels = open >= 0 && close > open ? text.slice(open + 1, close) : "";
  throw venueError(frame, {
    message: reply.msg,
    symbol: channels.includes(",") ? undefined : symbolOf(channels),
  });
}

/** The symbol after the last `@` of a channel name. */
function symbolOf(channel: unknown): string {
  // A JSON-form frame may carry anything here.
  return typeof channel === "string"
    ? channel.slice(channel.lastIndexOf("@") + 1)
    : "";
}

/**
 * An int64 field as a number: protobufjs decodes it as a `Long`, protobuf's
 * JSON form writes it as a string. NaN when absent or unreadable.
 */
function int64(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return decimalValue(v);
  if (v != null && typeof (v as LongLike).toNumber === "function") {
    return (v as LongLike).toNumber();
  }
  return NaN;
}

/**
 * Diff levels `[{price, quantity}, …]` (strings) of `sym` as flat numbers.
 * @throws {MalformedFrameError} carrying `sym` for a level that is not a
 *   price and a size.
 */
function itemLevels(
  items: DepthItem[] | null | undefined,
  sym: string,
): Levels {
  if (items == null) return []; // an empty side is left out of the JSON form
  if (!Array.isArray(items)) {
    throw new MalformedFrameError(
      `Levels of ${sym} are not an array: ${items}`,
      sym,
    );
  }
  const out: Levels = new Array(items.length * 2);
  for (let i = 0; i < items.length; i++) {
    const l = items[i];
    if (l === null || typeof l !== "object") {
      throw new MalformedFrameError(
        `Bad level ${l} at index ${i} of ${sym}`,
        sym,
      );
    }
    const p = priceValue(l.price);
    const s = sizeValue(l.quantity);
    if (p !== p || s !== s) {
      throw amountError("level", l.price, l.quantity, {
        symbol: sym,
        book: true,
        at: i,
      });
    }
    out[2 * i] = p;
    out[2 * i + 1] = s;
  }
  return out;
}

/**
 * REST levels `[["price","qty"], …]` of `sym` as flat numbers.
 * @throws {MalformedFrameError} carrying `sym` for a level that is not a
 *   price and a size.
 */
function pairLevels(raw: unknown, sym: string): Levels {
  if (!Array.isArray(raw)) {
    throw new MalformedFrameError(
      `Levels of ${sym} are not an array: ${raw}`,
      sym,
    );
  }
  const out: Levels = new Array(raw.length * 2);
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i];
    const p = Array.isArray(l) ? priceValue(l[0]) : NaN;
    const s = Array.isArray(l) ? sizeValue(l[1]) : NaN;
    if (p !== p || s !== s) {
      throw amountError(
        "level",
        Array.isArray(l) ? l[0] : l,
        Array.isArray(l) ? l[1] : undefined,
        { symbol: sym, book: true, at: i },
      );
    }
    out[2 * i] = p;
    out[2 * i + 1] = s;
  }
  return out;
}

// ---- raw frame types ----

/** `PushDataV3ApiWrapper`, decoded (protobufjs message or proto3 JSON form). */
interface PushWrapper {
  channel?: string;
  symbol?: string | null;
  symbolId?: string | null;
  createTime?: unknown;
  sendTime?: unknown;
  publicAggreDepths?: {
    asks?: DepthItem[] | null;
    bids?: DepthItem[] | null;
    eventType?: string;
    fromVersion: string;
    toVersion: string;
  } | null;
  publicAggreDeals?: {
    deals: {
      price: string;
      quantity: string;
      /** 1 buy, 2 sell (taker side). */
      tradeType: number;
      time: unknown;
      tradeId?: string;
    }[];
    eventType?: string;
  } | null;
}

interface DepthItem {
  price: string;
  quantity: string;
}

/** A JSON text reply: ack, pong or refusal. */
interface TextReply {
  id?: number;
  code?: number;
  msg?: string;
}

/** The part of `Long` (protobufjs int64) used here. */
interface LongLike {
  toNumber(): number;
}

interface ExchangeInfo {
  symbols: { symbol: string; baseAsset: string; quoteAsset: string }[];
}

interface RestDepth {
  lastUpdateId: number;
  timestamp?: number;
  bids: [string, string][];
  asks: [string, string][];
}
