/**
 * OKX v5 public WebSocket parsing shared by the two OKX adapter versions
 * (`okx.ts`: REST snapshot + `seqId`; `okx_checksum.ts`: in-stream snapshot +
 * CRC32 checksum).
 * Docs: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 * Trades: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel
 * Liquidations: https://www.okx.com/docs-v5/en/#public-data-websocket-liquidation-orders-channel
 * Instruments: https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments
 *
 * @module
 */

import { crc32 } from "node:zlib";
import type { OrderBook } from "../market/book.ts";
import type {
  BookSnapshot,
  Instrument,
  Levels,
  Market,
  MarketEvent,
} from "../market/events.ts";
import {
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
  ResyncError,
} from "./adapter.ts";
import { parseObject, toBase } from "./_common.ts";

/** OKX REST origin. */
export const OKX_REST = "https://www.okx.com";

/** OKX public WebSocket endpoint (books, trades, liquidation-orders). */
export const OKX_WS = "wss://ws.okx.com:8443/ws/v5/public";

/**
 * Instrument metadata URLs, one per instrument type we follow. These are the
 * exact URLs cryptofeed requested, so the simulator serves the recording.
 */
export const OKX_METADATA_URLS: readonly string[] = [
  `${OKX_REST}/api/v5/public/instruments?instType=SPOT`,
  `${OKX_REST}/api/v5/public/instruments?instType=SWAP`,
  `${OKX_REST}/api/v5/public/instruments?instType=FUTURES`,
];

/**
 * OKX closes a connection that receives nothing for 30 s; the client sends the
 * text `ping` and the server answers the text `pong`.
 */
export const OKX_KEEPALIVE = { frame: "ping", intervalMs: 25_000 } as const;

/** Subscription args per frame; OKX caps one request at 64 KB. */
const ARGS_PER_FRAME = 100;

/** Spread into events of inverse instruments. */
const INVERSE = { inverse: true } as const;

/**
 * Reads the `GET /api/v5/public/instruments` bodies (SPOT, SWAP, FUTURES).
 *
 * Spot sizes are in base currency. SWAP/FUTURES sizes are contracts worth
 * `ctVal × ctMult` of `ctValCcy`: linear contracts (`ctType: linear`) are
 * valued in base (BTC-USDT-SWAP: 0.01 BTC), inverse ones in USD (BTC-USD-SWAP:
 * 100 USD), which makes them `inverse` instruments. Base and quote of a
 * derivative come from its instrument family (`instFamily`, or `uly` in older
 * responses), e.g. `BTC-USD`.
 * @param bodies response bodies in {@link OKX_METADATA_URLS} order.
 * @returns every spot, perpetual and dated future instrument.
 * @throws {MalformedFrameError} when a body is not JSON or its `code` is not "0".
 * @example
 * ```ts
 * const insts = okxInstruments([spotBody, swapBody, futuresBody]);
 * insts.find((i) => i.exchangeSymbol === "BTC-USD-SWAP")?.contractSize; // 100
 * ```
 */
export function okxInstruments(bodies: readonly string[]): Instrument[] {
  const out: Instrument[] = [];
  for (const body of bodies) {
    let res: OkxResponse<OkxInstrument>;
    try {
      res = JSON.parse(body);
    } catch {
      throw new MalformedFrameError(
        `Instruments body is not JSON: ${body.slice(0, 80)}`,
      );
    }
    if (res?.code !== "0" || !Array.isArray(res.data)) {
      throw new MalformedFrameError(
        `Instruments response code ${res?.code}: ${body.slice(0, 80)}`,
      );
    }
    for (const d of res.data) {
      const inst = okxInstrument(d);
      if (inst) out.push(inst);
    }
  }
  return out;
}

function okxInstrument(d: OkxInstrument): Instrument | undefined {
  if (d.instType === "SPOT") {
    return {
      exchange: "okx",
      exchangeSymbol: d.instId,
      symbol: `${d.baseCcy}-${d.quoteCcy}`,
      base: d.baseCcy,
      quote: d.quoteCcy,
      market: "spot",
      contractSize: 1,
    };
  }
  if (d.instType !== "SWAP" && d.instType !== "FUTURES") return undefined;
  const family = (d.instFamily || d.uly || "").split("-");
  // `ctMult` is "1" for every SWAP/FUTURES; multiplied anyway, as OKX defines
  // the contract value as ctVal × ctMult.
  const contractSize = +d.ctVal * +(d.ctMult || "1");
  if (family.length < 2 || !(contractSize > 0)) return undefined;
  const market: Market = d.instType === "SWAP" ? "perpetual" : "future";
  return {
    exchange: "okx",
    exchangeSymbol: d.instId,
    symbol: `${family[0]}-${family[1]}`,
    base: family[0],
    quote: family[1],
    market,
    contractSize,
    ...(d.ctType === "inverse" ? INVERSE : {}),
    ...(market === "future" && d.expTime ? { expiry: +d.expTime } : {}),
  };
}

/**
 * Subscription frames for `books` and `trades` of every symbol, plus the
 * venue-wide `liquidation-orders` feed of each derivative type followed (it
 * is subscribed by `instType`, not by instrument; the parser keeps the
 * followed instruments).
 * @param symbols OKX instrument ids, e.g. `BTC-USDT`, `BTC-USDT-SWAP`, `BTC-USD-220527`.
 * @returns one or more `{"op":"subscribe","args":[…]}` frames.
 * @throws {never} building frames does not throw.
 * @example
 * ```ts
 * okxSubscribe(["BTC-USDT-SWAP"]);
 * // ['{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT-SWAP"},…,{"channel":"liquidation-orders","instType":"SWAP"}]}']
 * ```
 */
export function okxSubscribe(symbols: readonly string[]): string[] {
  const args: OkxArg[] = [];
  let swap = false;
  let futures = false;
  for (const s of symbols) {
    args.push({ channel: "books", instId: s }, {
      channel: "trades",
      instId: s,
    });
    if (s.endsWith("-SWAP")) swap = true;
    else if (/-\d{6}$/.test(s)) futures = true;
  }
  if (swap) args.push({ channel: "liquidation-orders", instType: "SWAP" });
  if (futures) {
    args.push({ channel: "liquidation-orders", instType: "FUTURES" });
  }
  const frames: string[] = [];
  for (let i = 0; i < args.length; i += ARGS_PER_FRAME) {
    frames.push(
      JSON.stringify({
        op: "subscribe",
        args: args.slice(i, i + ARGS_PER_FRAME),
      }),
    );
  }
  return frames;
}

/** Options for {@link okxParser}. */
export interface OkxParserOptions {
  /**
   * Emit `books` frames with `action: "snapshot"` as `book_snapshot` (in-stream
   * sync). When false they are ignored: the REST-synced version starts from
   * `GET /api/v5/market/books` as OKX's 2026 procedure says.
   * @default true
   */
  readonly streamSnapshots?: boolean;
  /**
   * Attach the venue's `checksum` and the level strings to book events.
   * @default true
   */
  readonly checksums?: boolean;
  /**
   * Books are linked by `seqId`: a book frame without one throws
   * {@link MalformedFrameError}, and a sequence reset (`seqId < prevSeqId`,
   * OKX maintenance) throws {@link ResyncError}. Otherwise missing sequences
   * are -1 and resets pass as ordinary updates.
   * @default false
   */
  readonly sequenced?: boolean;
}

/**
 * A parser for OKX v5 public frames: `books` (snapshot and update), `trades`
 * and `liquidation-orders`. The text `pong` (the keepalive answer),
 * subscription acks, notices and other channels yield nothing; an `error`
 * event is thrown as malformed so it is counted and logged.
 *
 * Book sequences: an update covers `prevSeqId + 1 .. seqId` (`first`,
 * `last`) and links with `prev = prevSeqId`; a snapshot is at `seqId`.
 * Frames without `seqId` (before OKX added it) carry -1.
 * @param instruments followed instruments keyed by OKX instrument id.
 * @param options which book fields to emit; see {@link OkxParserOptions}.
 * @returns a parser for one connection.
 * @throws {never} building the parser does not throw; `parse` throws
 *   {@link MalformedFrameError} for unreadable frames.
 * @example
 * ```ts
 * const p = okxParser(new Map([["BTC-USDT", btcUsdt]]));
 * p.parse('{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[…]}', Date.now());
 * ```
 */
export function okxParser(
  instruments: InstrumentTable,
  options: OkxParserOptions = {},
): Parser {
  const streamSnapshots = options.streamSnapshots ?? true;
  const checksums = options.checksums ?? true;
  const sequenced = options.sequenced ?? false;
  return {
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      if (typeof frame !== "string") {
        throw new MalformedFrameError(
          `Binary frame of ${frame.length} bytes on a text feed`,
        );
      }
      // The keepalive answer is the bare text `pong`, not JSON.
      if (frame === "pong") return [];
      const msg = parseObject<OkxFrame>(frame);
      if (msg.event !== undefined) {
        if (msg.event === "error") {
          throw new MalformedFrameError(
            `Venue error ${msg.code}: ${msg.msg}`,
          );
        }
        return []; // subscribe/unsubscribe acks, notice, channel-conn-count
      }
      const channel = msg.arg?.channel;
      const data = msg.data;
      if (!Array.isArray(data)) return [];
      switch (channel) {
        case "books": {
          const inst = instruments.get(msg.arg!.instId!);
          if (inst === undefined) return [];
          const snapshot = msg.action === "snapshot";
          if (snapshot && !streamSnapshots) return [];
          const out: MarketEvent[] = [];
          for (let i = 0; i < data.length; i++) {
            out.push(
              book(
                inst,
                data[i] as OkxBook,
                snapshot,
                recvTs,
                checksums,
                sequenced,
              ),
            );
          }
          return out;
        }
        case "trades": {
          const inst = instruments.get(msg.arg!.instId!);
          if (inst === undefined) return [];
          const out: MarketEvent[] = new Array(data.length);
          for (let i = 0; i < data.length; i++) {
            out[i] = trade(inst, data[i] as OkxTrade, recvTs);
          }
          return out;
        }
        case "liquidation-orders": {
          // Venue-wide per instType: keep the followed instruments only.
          const out: MarketEvent[] = [];
          for (let i = 0; i < data.length; i++) {
            const d = data[i] as OkxLiquidations;
            const inst = instruments.get(d.instId);
            if (inst === undefined || !Array.isArray(d.details)) continue;
            for (let j = 0; j < d.details.length; j++) {
              out.push(liquidation(inst, d.details[j], recvTs));
            }
          }
          return out;
        }
        default:
          return [];
      }
    },
  };
}

/** Event fields shared by every event of `inst`. */
function base(inst: Instrument) {
  return {
    exchange: "okx",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
  };
}

/**
 * Converts OKX levels `[["price","size","0","orders"], …]` to flat numbers
 * (sizes in base), filling `rawOut` with the price and size strings as sent
 * when given.
 */
function levels(
  list: unknown,
  inst: Instrument,
  rawOut: string[] | null,
): Levels {
  if (!Array.isArray(list)) {
    throw new MalformedFrameError(`Levels are not an array: ${list}`);
  }
  const out: Levels = new Array(list.length * 2);
  for (let i = 0; i < list.length; i++) {
    const l = list[i] as string[];
    const p = +l[0];
    const raw = +l[1];
    if (p !== p || raw !== raw || p <= 0) {
      throw new MalformedFrameError(`Bad level ${l}`);
    }
    out[2 * i] = p;
    out[2 * i + 1] = toBase(raw, p, inst);
    if (rawOut) {
      rawOut[2 * i] = l[0];
      rawOut[2 * i + 1] = l[1];
    }
  }
  return out;
}

function book(
  inst: Instrument,
  d: OkxBook,
  snapshot: boolean,
  recvTs: number,
  checksums: boolean,
  sequenced: boolean,
): MarketEvent {
  if (d === null || typeof d !== "object") {
    throw new MalformedFrameError(`Book data is not an object: ${d}`);
  }
  const hasSeq = typeof d.seqId === "number";
  if (sequenced && !hasSeq) {
    throw new MalformedFrameError(
      `Book ${inst.exchangeSymbol} without seqId: ${d.seqId}`,
    );
  }
  const rawBids = checksums ? new Array<string>(d.bids?.length ?? 0) : null;
  const rawAsks = checksums ? new Array<string>(d.asks?.length ?? 0) : null;
  const bids = levels(d.bids, inst, rawBids);
  const asks = levels(d.asks, inst, rawAsks);
  const ts = +d.ts;
  const common = {
    ...base(inst),
    exchangeTs: ts === ts ? ts : recvTs,
    localTs: recvTs,
    bids,
    asks,
    contractSize: inst.contractSize,
    ...(inst.inverse ? INVERSE : {}),
    ...(checksums && typeof d.checksum === "number"
      ? { checksum: d.checksum, raw: { bids: rawBids!, asks: rawAsks! } }
      : {}),
  };
  if (snapshot) {
    return {
      type: "book_snapshot",
      ...common,
      sequence: hasSeq ? d.seqId! : -1,
    };
  }
  // An update covers the venue ids after prevSeqId up to seqId. A heartbeat
  // (no change for ~60 s) has seqId == prevSeqId: not newer than the book,
  // BookSync drops it.
  const prev = hasSeq && typeof d.prevSeqId === "number" ? d.prevSeqId : -1;
  // A maintenance reset restarts the numbering (seqId < prevSeqId): every
  // later update would look older than the book, so the books start over.
  if (sequenced && d.seqId! < prev) {
    throw new ResyncError(
      `Sequence reset on ${inst.exchangeSymbol}: seqId ${d.seqId} < prevSeqId ${prev}`,
    );
  }
  return {
    type: "book_delta",
    ...common,
    first: hasSeq ? prev + 1 : -1,
    last: hasSeq ? d.seqId! : -1,
    prev,
  };
}

function trade(inst: Instrument, t: OkxTrade, recvTs: number): MarketEvent {
  const price = +t?.px;
  const raw = +t?.sz;
  if (price !== price || raw !== raw || price <= 0) {
    throw new MalformedFrameError(`Bad trade px/sz ${t?.px}/${t?.sz}`);
  }
  return {
    type: "trade",
    ...base(inst),
    exchangeTs: +t.ts || recvTs,
    localTs: recvTs,
    id: String(t.tradeId),
    price,
    size: toBase(raw, price, inst),
    rawSize: raw,
    // `side` is the taker's side.
    side: t.side === "sell" ? "sell" : "buy",
  };
}

function liquidation(
  inst: Instrument,
  d: OkxLiquidationDetail,
  recvTs: number,
): MarketEvent {
  // Liquidations fill at the bankruptcy price `bkPx`; `sz` is in contracts
  // for SWAP/FUTURES; `side` is the liquidation order's side (buy closes a
  // short).
  const price = +d?.bkPx;
  const raw = +d?.sz;
  if (price !== price || raw !== raw || price <= 0) {
    throw new MalformedFrameError(
      `Bad liquidation bkPx/sz ${d?.bkPx}/${d?.sz}`,
    );
  }
  return {
    type: "liquidation",
    ...base(inst),
    exchangeTs: +d.ts || recvTs,
    localTs: recvTs,
    price,
    size: toBase(raw, price, inst),
    rawSize: raw,
    side: d.side === "sell" ? "sell" : "buy",
  };
}

/**
 * Reads a `GET /api/v5/market/books?instId=…&sz=400` snapshot; its `seqId`
 * lines up with the WebSocket `books` updates' `prevSeqId`/`seqId`.
 * @param body the response body.
 * @param recvTs local receive time, ms.
 * @param inst the instrument.
 * @returns the snapshot at `seqId`.
 * @throws {MalformedFrameError} when the body is not JSON, its `code` is not
 *   "0", or the book has no `seqId`.
 * @example
 * ```ts
 * okxRestSnapshot('{"code":"0","data":[{"asks":[],"bids":[],"ts":"1","seqId":5}]}', 0, inst).sequence; // 5
 * ```
 */
export function okxRestSnapshot(
  body: string,
  recvTs: number,
  inst: Instrument,
): BookSnapshot {
  let res: OkxResponse<OkxBook>;
  try {
    res = JSON.parse(body);
  } catch {
    throw new MalformedFrameError(`Snapshot is not JSON: ${body.slice(0, 80)}`);
  }
  const d = res?.code === "0" && Array.isArray(res.data)
    ? res.data[0]
    : undefined;
  if (d === undefined) {
    throw new MalformedFrameError(
      `Snapshot response code ${res?.code}: ${body.slice(0, 80)}`,
    );
  }
  const ev = book(inst, d, true, recvTs, false, true);
  return ev as BookSnapshot;
}

/**
 * OKX's book checksum: CRC32 (as a signed 32-bit integer) of the best 25 bids
 * and asks interleaved, `bidPx:bidSz:askPx:askSz:…`, using the level strings
 * as sent; a side with fewer levels just contributes fewer pairs.
 * @param book a book that keeps the venue's level strings (best level last).
 * @returns the signed CRC32.
 * @throws {Error} naming the book when it keeps no level strings.
 * @example
 * ```ts
 * // bids [["3366.1","7"],["3366","6"]], asks [["3366.8","9"],["3368","8"]]
 * okxChecksum(book); // crc32("3366.1:7:3366.8:9:3366:6:3368:8") | 0
 * ```
 */
export function okxChecksum(book: OrderBook): number {
  const bp = book.bids.rawPrices;
  const bs = book.bids.rawSizes;
  const ap = book.asks.rawPrices;
  const as = book.asks.rawSizes;
  if (!bp || !bs || !ap || !as) {
    throw new Error("Book keeps no level strings for the OKX checksum");
  }
  const parts: string[] = [];
  const nb = book.bids.length;
  const na = book.asks.length;
  for (let i = 0; i < 25; i++) {
    if (i < nb) parts.push(bp[nb - 1 - i], bs[nb - 1 - i]);
    if (i < na) parts.push(ap[na - 1 - i], as[na - 1 - i]);
  }
  return crc32(parts.join(":")) | 0;
}

/**
 * Frames that make OKX send a fresh `books` snapshot of one instrument.
 * @param symbol the OKX instrument id.
 * @returns an unsubscribe frame then a subscribe frame.
 * @throws {never} building frames does not throw.
 * @example
 * ```ts
 * okxResubscribe("BTC-USDT"); // ['{"op":"unsubscribe",…}', '{"op":"subscribe",…}']
 * ```
 */
export function okxResubscribe(symbol: string): string[] {
  const args = [{ channel: "books", instId: symbol }];
  return [
    JSON.stringify({ op: "unsubscribe", args }),
    JSON.stringify({ op: "subscribe", args }),
  ];
}

// ---- raw frame types ----

interface OkxArg {
  channel: string;
  instId?: string;
  instType?: string;
}

interface OkxFrame {
  event?: string;
  code?: string;
  msg?: string;
  arg?: OkxArg;
  action?: "snapshot" | "update";
  data?: unknown[];
}

/** `[price, size, "0" (deprecated), orders]`. */
type OkxLevel = [string, string, string, string];

interface OkxBook {
  asks: OkxLevel[];
  bids: OkxLevel[];
  ts: string;
  checksum?: number;
  seqId?: number;
  prevSeqId?: number;
}

interface OkxTrade {
  instId: string;
  tradeId: string;
  px: string;
  sz: string;
  side: "buy" | "sell";
  ts: string;
  count?: string;
}

interface OkxLiquidationDetail {
  bkPx: string;
  bkLoss: string;
  sz: string;
  side: "buy" | "sell";
  posSide: string;
  ts: string;
}

interface OkxLiquidations {
  instId: string;
  instType: string;
  uly?: string;
  instFamily?: string;
  details: OkxLiquidationDetail[];
}

interface OkxResponse<T> {
  code: string;
  msg?: string;
  data: T[];
}

interface OkxInstrument {
  instId: string;
  instType: "SPOT" | "SWAP" | "FUTURES" | "OPTION" | "MARGIN";
  baseCcy: string;
  quoteCcy: string;
  uly?: string;
  instFamily?: string;
  ctVal: string;
  ctMult: string;
  ctValCcy: string;
  ctType: "linear" | "inverse" | "";
  settleCcy: string;
  expTime: string;
  state: string;
}
