/**
 * KuCoin spot.
 * Docs: https://www.kucoin.com/docs/websocket/spot-trading/public-channels/level2-market-data
 * Endpoint: https://www.kucoin.com/docs/websocket/basic-info/apply-connect-token/public-token-no-authentication-required-
 * Trades: https://www.kucoin.com/docs/websocket/spot-trading/public-channels/match-execution-data
 * Snapshot: https://www.kucoin.com/docs/rest/spot-trading/market-data/get-full-order-book-aggregated-
 *
 * @module
 */

import type {
  BookSnapshot,
  Instrument,
  Levels,
  MarketEvent,
} from "../market/events.ts";
import {
  type Adapter,
  type ColumnarDelta,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
  reusedDelta,
} from "./adapter.ts";
import { KucoinL2Scanner } from "./kucoin_scan.ts";
import {
  amountError,
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

const REST = "https://api.kucoin.com";
/** KuCoin's success code on every REST body. */
const OK = "200000";
/** Most symbols one topic may name. */
const TOPIC_SYMBOLS = 100;

/**
 * KuCoin spot adapter: `/market/level2` deltas synced to the REST snapshot,
 * and `/market/match` trades. The WebSocket endpoint and its token come from
 * `POST /api/v1/bullet-public` before every connection.
 */
export const kucoinAdapter: Adapter = {
  id: "kucoin",
  docs:
    "https://www.kucoin.com/docs/websocket/spot-trading/public-channels/level2-market-data",
  restOrigin: REST,
  metadataUrls: [`${REST}/api/v1/symbols`],
  instruments(bodies: readonly string[]): Instrument[] {
    const res = parseJson<KucoinResponse<KucoinSymbol[]>>(bodies[0], "symbols");
    if (res?.code !== OK || !Array.isArray(res.data)) {
      throw new MalformedFrameError(
        `KuCoin symbols error ${res?.code}: ${
          res?.msg ?? bodies[0].slice(0, 80)
        }`,
      );
    }
    const out: Instrument[] = [];
    for (const s of res.data) {
      if (!s.enableTrading) continue; // delisted or suspended
      // The normalized name comes from the currencies, not the symbol: KuCoin
      // lists Bitcoin SV as `BCHSV-USDT` with baseCurrency `BSV`.
      out.push({
        exchange: "kucoin",
        exchangeSymbol: s.symbol,
        symbol: `${s.baseCurrency}-${s.quoteCurrency}`,
        base: s.baseCurrency,
        quote: s.quoteCurrency,
        market: "spot",
        contractSize: 1,
      });
    }
    return out;
  },
  // The public token request: its body names the WebSocket server and token.
  connect: { method: "POST", url: `${REST}/api/v1/bullet-public` },
  url(_symbols: readonly string[], endpoint?: string): string {
    if (endpoint === undefined) {
      throw new Error("KuCoin needs the bullet-public response to connect");
    }
    const res = parseJson<KucoinResponse<KucoinBullet>>(endpoint, "Bullet");
    const server = res?.data?.instanceServers?.[0];
    if (res?.code !== OK || !server || typeof res.data.token !== "string") {
      throw new MalformedFrameError(
        `KuCoin bullet error ${res?.code}: ${
          res?.msg ?? endpoint.slice(0, 80)
        }`,
      );
    }
    // connectId is the client's own id for the connection, echoed in `welcome`.
    return `${server.endpoint}?token=${res.data.token}&connectId=coby`;
  },
  subscribe(symbols: readonly string[]): string[] {
    const frames: string[] = [];
    let id = 0;
    for (const topic of ["/market/level2", "/market/match"]) {
      // A topic names at most 100 symbols.
      for (let i = 0; i < symbols.length; i += TOPIC_SYMBOLS) {
        frames.push(JSON.stringify({
          id: ++id,
          type: "subscribe",
          topic: `${topic}:${symbols.slice(i, i + TOPIC_SYMBOLS).join(",")}`,
          privateChannel: false,
          response: true,
        }));
      }
    }
    return frames;
  },
  // The bullet response's pingInterval is 18 s; without pings the server
  // closes the connection after pingTimeout.
  keepalive: { frame: '{"id":"ping","type":"ping"}', intervalMs: 18_000 },
  // The answer to that ping, `{"id":"ping","type":"pong"}` (newer servers add
  // a `timestamp`), is the only chatter (KuCoin's WebSocket docs, "Ping",
  // beside the endpoint page above).
  isHeartbeat: (frame) => shortTextIncludes(frame, '"type":"pong"'),
  parser: (instruments) => kucoinParser(instruments),
  book: {
    // First delta: sequenceStart <= snapshot.sequence + 1 <= sequenceEnd;
    // then each sequenceStart == previous sequenceEnd + 1.
    sync: { kind: "rest", link: "next", align: 1 },
    // The full aggregated book. KuCoin documents it as needing an API key
    // today; the public level2_100 is capped at 100 levels a side, too shallow
    // to apply deltas of the whole book to.
    snapshotUrl: (symbol) =>
      `${REST}/api/v3/market/orderbook/level2?symbol=${symbol}`,
    parseSnapshot: kucoinSnapshot,
  },
};

/**
 * A parser for KuCoin's public frames: `trade.l2update` and `trade.l3match`
 * messages; `welcome`, `ack`, `pong`, tickers and candles yield nothing.
 * `scanBook` reads `trade.l2update`s with {@link KucoinL2Scanner}.
 * @param instruments instruments keyed by exchange symbol (`BTC-USDT`).
 */
function kucoinParser(instruments: InstrumentTable): Parser {
  const scanner = new KucoinL2Scanner();
  const delta = reusedDelta(scanner.bids, scanner.asks);
  return {
    // The `trade.l2update` case of `parse`, read by the scanner: the same
    // instrument lookup, sequences, time and levels (sizes as sent: spot).
    scanBook(frame: string | Uint8Array, recvTs: number): ColumnarDelta | null {
      if (typeof frame !== "string" || !scanner.scan(frame)) return null;
      const inst = instruments.get(scanner.symbol);
      if (inst === undefined) return null;
      delta.inst = inst;
      // `timeValue`'s rule, as parse: no time (NaN) or an unusable one falls
      // back to the receive time.
      delta.exchangeTs = timeValue(scanner.time, recvTs);
      delta.localTs = recvTs;
      delta.first = scanner.first;
      delta.last = scanner.last;
      return delta;
    },
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      if (typeof frame !== "string") {
        throw new MalformedFrameError(
          `KuCoin sent a binary frame of ${frame.length} bytes`,
        );
      }
      const msg = parseObject<KucoinFrame>(frame);
      if (msg.type !== "message") {
        // A refused subscription or a bad request:
        // `{"id":…,"type":"error","code":404,"data":"topic … is not found"}`
        // (KuCoin's WebSocket docs, "Subscribe"): `data` is the reason.
        if (msg.type === "error") {
          throw venueError(frame, { message: msg.data });
        }
        return []; // welcome, ack, pong
      }
      const d = msg.data as KucoinL2Update & KucoinMatch;
      const inst = d?.symbol === undefined
        ? undefined
        : instruments.get(d.symbol);
      if (inst === undefined) return [];
      if (msg.subject === "trade.l2update") return [l2update(d, inst, recvTs)];
      if (msg.subject === "trade.l3match") return [match(d, inst, recvTs)];
      return [];
    },
  };
}

/** One `trade.l2update` as a delta covering `sequenceStart..sequenceEnd`. */
function l2update(
  d: KucoinL2Update,
  inst: Instrument,
  recvTs: number,
): MarketEvent {
  const first = sequenceValue(d.sequenceStart);
  const last = sequenceValue(d.sequenceEnd);
  // An update that changes nothing covers an empty range: sequenceStart is
  // sequenceEnd + 1 (tardis-node's recorded sample).
  if (
    !(first <= last + 1) || d.changes === null || typeof d.changes !== "object"
  ) {
    throw new MalformedFrameError(
      `Bad sequences ${d.sequenceStart}..${d.sequenceEnd} or changes in l2update of ${d.symbol}`,
      inst.exchangeSymbol,
    );
  }
  // Each change is [price, size, sequence]. The per-change sequence is when
  // that price last changed and, per KuCoin, "does not serve as a basis for
  // judging message continuity": sequenceStart/End do. The docs also skip
  // changes whose sequence is <= the snapshot's; applying them instead gives
  // the same book, because the change is the price's latest and the snapshot
  // already holds that value, so the whole delta is applied.
  return {
    type: "book_delta",
    exchange: "kucoin",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    // `time` (ms) was added to l2update in 2023; older frames have none.
    exchangeTs: timeValue(d.time, recvTs),
    localTs: recvTs,
    first,
    last,
    prev: -1,
    bids: changes(d.changes.bids, inst.exchangeSymbol),
    asks: changes(d.changes.asks, inst.exchangeSymbol),
    contractSize: 1,
  };
}

/**
 * Converts `[[price, size, sequence], …]` changes to flat levels. A price of
 * "0" is KuCoin's placeholder for a sequence number that changed nothing on
 * this side ("if the price is 0, ignore the messages and update the
 * sequence"): skipped, while the delta still advances the sequence.
 */
function changes(raw: unknown, symbol: string): Levels {
  if (!Array.isArray(raw)) {
    throw new MalformedFrameError(
      `Changes of ${symbol} are not an array: ${raw}`,
    );
  }
  const out: Levels = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (!Array.isArray(c)) {
      throw new MalformedFrameError(
        `Bad change ${JSON.stringify(c)} at index ${i} of ${symbol}`,
        symbol,
      );
    }
    if (c[0] === "0") continue;
    const p = priceValue(c[0]);
    const s = sizeValue(c[1]);
    if (p !== p || s !== s) {
      throw amountError("change", c[0], c[1], { symbol, book: true, at: i });
    }
    out.push(p, s);
  }
  return out;
}

/** One `trade.l3match` as a trade; `side` is the taker's side. */
function match(d: KucoinMatch, inst: Instrument, recvTs: number): MarketEvent {
  const price = priceValue(d.price);
  const size = sizeValue(d.size);
  if (price !== price || size !== size) {
    throw amountError("match", d.price, d.size, { symbol: d.symbol });
  }
  const side = sideValue(d.side, { buy: "buy", sell: "sell" }); // the taker's
  if (side === undefined) {
    throw new MalformedFrameError(
      `Bad match side ${JSON.stringify(d.side)} for ${d.symbol}`,
    );
  }
  // `time` is nanoseconds since the epoch, as a string.
  const ts = typeof d.time === "string" && d.time.length > 6
    ? timeValue(d.time.slice(0, -6), NaN)
    : NaN;
  if (ts !== ts) {
    throw new MalformedFrameError(
      `Bad match time ${JSON.stringify(d.time)} for ${d.symbol}`,
    );
  }
  return {
    type: "trade",
    exchange: "kucoin",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: ts,
    localTs: recvTs,
    id: String(d.tradeId),
    price,
    size,
    rawSize: size,
    side,
  };
}

/**
 * Reads a REST snapshot (`GET /api/v3/market/orderbook/level2`).
 * @param body `{code, data: {time, sequence, bids, asks}}`.
 * @param recvTs local receive time, ms.
 * @param inst the instrument.
 * @throws {MalformedFrameError} for an error code or a body without sequence.
 */
function kucoinSnapshot(
  body: string,
  recvTs: number,
  inst: Instrument,
): BookSnapshot {
  const res = parseJson<KucoinResponse<KucoinDepth>>(body, "Snapshot");
  const d = res?.data;
  // The snapshot's sequence is a decimal string; below 2^53 in practice.
  const seq = sequenceValue(d?.sequence);
  if (res?.code !== OK || !d || seq !== seq) {
    throw new MalformedFrameError(
      `KuCoin snapshot error ${res?.code}: ${res?.msg ?? body.slice(0, 80)}`,
    );
  }
  return {
    type: "book_snapshot",
    exchange: "kucoin",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
    exchangeTs: timeValue(d.time, recvTs),
    localTs: recvTs,
    sequence: seq,
    bids: changes(d.bids ?? [], inst.exchangeSymbol),
    asks: changes(d.asks ?? [], inst.exchangeSymbol),
    contractSize: 1,
  };
}

// ---- raw frame types ----

interface KucoinResponse<T> {
  code: string;
  msg?: string;
  data: T;
}

interface KucoinSymbol {
  symbol: string;
  baseCurrency: string;
  quoteCurrency: string;
  enableTrading: boolean;
}

interface KucoinBullet {
  token: string;
  instanceServers: {
    endpoint: string;
    pingInterval: number;
    pingTimeout: number;
  }[];
}

interface KucoinDepth {
  time?: number;
  sequence: string;
  bids: [string, string][] | null;
  asks: [string, string][] | null;
}

interface KucoinFrame {
  type: "welcome" | "ack" | "pong" | "error" | "message";
  id?: string;
  code?: number;
  topic?: string;
  subject?: string;
  data?: unknown;
}

interface KucoinL2Update {
  symbol: string;
  sequenceStart: number;
  sequenceEnd: number;
  time?: number;
  changes: {
    asks: [string, string, string][];
    bids: [string, string, string][];
  };
}

interface KucoinMatch {
  symbol: string;
  side: "buy" | "sell";
  price: string;
  size: string;
  tradeId: string;
  time: string;
  sequence: string;
}
