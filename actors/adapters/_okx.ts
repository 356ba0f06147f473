/**
 * OKX v5 public WebSocket pieces shared by the two OKX adapter versions
 * (`okx.ts`: REST snapshot + `seqId`; `okx_checksum.ts`: in-stream snapshot +
 * CRC32 checksum): metadata, subscriptions, the frame dispatch with trades
 * and liquidations, and the book fields both versions emit. Each version
 * reads `books` data with its own function.
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
  BookDelta,
  Instrument,
  Levels,
  Market,
  MarketEvent,
} from "../market/events.ts";
import {
  type ColumnarDelta,
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
  reusedDelta,
} from "./adapter.ts";
import {
  amountError,
  MAX_SIZE,
  parseJson,
  parseObject,
  priceValue,
  sideValue,
  sizeValue,
  timeValue,
  toBase,
  venueError,
} from "./_common.ts";
import { type ScannedTextSide, toBaseSide } from "./_scan.ts";
import { OkxBookScanner } from "./okx_scan.ts";

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

/** OKX's sides. */
const BUY_SELL = { buy: "buy", sell: "sell" } as const;

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
    for (const d of okxData<OkxInstrument>(body, "Instruments")) {
      const inst = okxInstrument(d);
      if (inst) out.push(inst);
    }
  }
  return out;
}

/**
 * The `data` list of an OKX REST response `{"code":"0","msg":"","data":[…]}`.
 * @param body the response body.
 * @param what what the body is, for the error message (e.g. `Snapshot`).
 * @returns the `data` list.
 * @throws {MalformedFrameError} naming `what` when the body is not JSON, its
 *   `code` is not "0" or it has no `data` list.
 * @example
 * ```ts
 * okxData<{ seqId: number }>('{"code":"0","data":[{"seqId":5}]}', "Snapshot")[0].seqId; // 5
 * ```
 */
export function okxData<T>(body: string, what: string): T[] {
  const res = parseJson<OkxResponse<T>>(body, what);
  if (res?.code !== "0" || !Array.isArray(res.data)) {
    throw new MalformedFrameError(
      `${what} response code ${res?.code}: ${body.slice(0, 80)}`,
    );
  }
  return res.data;
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

/**
 * Whether a frame is the text `pong` answering the keepalive text `ping`
 * (https://www.okx.com/docs-v5/en/#overview-websocket-connect: with nothing
 * received for a while, send the string `ping` and expect `pong`). OKX sends
 * no other heartbeat.
 * @param frame a received frame.
 * @returns true for `pong`.
 * @example
 * ```ts
 * okxIsHeartbeat("pong"); // true
 * ```
 */
export function okxIsHeartbeat(frame: string | Uint8Array): boolean {
  return frame === "pong";
}

/**
 * Reads one `books` data item into an event, or null to drop it: each OKX
 * version has its own (`okx.ts` sequenced deltas, `okx_checksum.ts`
 * in-stream snapshots with checksums).
 * @param inst the followed instrument the item is about.
 * @param d the item.
 * @param action the frame's `action`: `snapshot` or `update`.
 * @param recvTs local receive time, ms.
 * @returns the event, or null for an item the version ignores.
 * @throws {MalformedFrameError} when the item cannot be read.
 */
export type OkxBookReader = (
  inst: Instrument,
  d: OkxBook,
  action: "snapshot" | "update",
  recvTs: number,
) => MarketEvent | null;

/**
 * A parser for OKX v5 public frames: `books` (read by the version's
 * `readBook`), `trades` and `liquidation-orders`. The text `pong` (the
 * keepalive answer), subscription acks, notices and other channels yield
 * nothing; an `error` event is the venue's refusal of a request.
 * @param instruments followed instruments keyed by OKX instrument id.
 * @param readBook the version's reader of one `books` data item.
 * @param options the version's rule for scanned updates (`scanBook`).
 * @returns a parser for one connection.
 * @throws {never} building the parser does not throw; `parse` throws
 *   {@link MalformedFrameError} for unreadable frames and {@link VenueError}
 *   for `error` events.
 * @example
 * ```ts
 * const p = okxParser(new Map([["BTC-USDT", btcUsdt]]), readBook);
 * p.parse('{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[…]}', Date.now());
 * ```
 */
export function okxParser(
  instruments: InstrumentTable,
  readBook: OkxBookReader,
  options?: OkxParserOptions,
): Parser {
  const rule = options?.scan;
  const scanner = rule && new OkxBookScanner({ keepText: rule.keepText });
  const bids: ScanSideView = { prices: EMPTY, sizes: EMPTY, count: 0 };
  const asks: ScanSideView = { prices: EMPTY, sizes: EMPTY, count: 0 };
  const delta = reusedDelta(bids, asks);
  return {
    // An `update` frame of one item, read by the scanner: the same
    // instrument lookup, time and levels as `parse`, the version's rule for
    // the sequence fields and checksum. Snapshots go to `parse`.
    scanBook(frame: string | Uint8Array, recvTs: number): ColumnarDelta | null {
      if (
        scanner === undefined || typeof frame !== "string" ||
        !scanner.scan(frame) || scanner.snapshot
      ) return null;
      const inst = instruments.get(scanner.instId);
      if (inst === undefined || !rule!.header(scanner, delta)) return null;
      if (
        (inst.contractSize !== 1 || inst.inverse === true) &&
        !(toBaseSide(scanner.bids, inst) && toBaseSide(scanner.asks, inst))
      ) return null;
      delta.inst = inst;
      delta.exchangeTs = timeValue(scanner.ts, recvTs);
      delta.localTs = recvTs;
      // The level strings go with the checksum, as in the version's reader.
      const text = delta.checksum !== undefined;
      view(bids, scanner.bids, text);
      view(asks, scanner.asks, text);
      return delta;
    },
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
        // A refused request: `{"event":"error","code":"60012","msg":"Invalid
        // request: …","connId":…}`
        // (https://www.okx.com/docs-v5/en/#overview-websocket-subscribe).
        if (msg.event === "error") {
          throw venueError(frame, { message: msg.msg });
        }
        return []; // subscribe/unsubscribe acks, notice, channel-conn-count
      }
      const channel = msg.arg?.channel;
      const data = msg.data;
      if (!Array.isArray(data)) return [];
      switch (channel) {
        case "books": {
          const inst = instruments.get(msg.arg?.instId!);
          if (inst === undefined) return [];
          const action = msg.action;
          // Read as an update, a snapshot would leave the levels it replaces.
          if (action !== "snapshot" && action !== "update") {
            throw new MalformedFrameError(
              `Bad books action ${
                JSON.stringify(action)
              } of ${inst.exchangeSymbol}`,
              inst.exchangeSymbol,
            );
          }
          const out: MarketEvent[] = [];
          for (let i = 0; i < data.length; i++) {
            const ev = readBook(inst, data[i] as OkxBook, action, recvTs);
            if (ev !== null) out.push(ev);
          }
          return out;
        }
        case "trades": {
          const inst = instruments.get(msg.arg?.instId!);
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
            const inst = d && instruments.get(d.instId);
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

/**
 * How a version reads a scanned `books` update (see `Parser.scanBook`): the
 * same sequence fields and checksum its {@link OkxBookReader} gives.
 */
export interface OkxScanRule {
  /** Whether the scanner keeps the level strings (checksum versions). */
  readonly keepText: boolean;
  /**
   * Sets `delta.first`, `last`, `prev` and `checksum` from the scanner's
   * `seqId`, `prevSeqId` and `checksum` (NaN when absent) as the version's
   * reader would for the same update.
   * @param s the scanner, after a frame it read.
   * @param delta the delta to set.
   * @returns false where the reader would throw or give no delta (the
   *   frame then goes to `parse`).
   */
  header(s: OkxBookScanner, delta: ColumnarDelta): boolean;
}

/** Options for {@link okxParser}. */
export interface OkxParserOptions {
  /**
   * The version's rule for scanned updates; without it the parser's
   * `scanBook` reads nothing (every frame goes to `parse`).
   * @default undefined
   */
  readonly scan?: OkxScanRule;
}

/** A side of the scanned delta: the scanner's arrays, strings or not. */
interface ScanSideView {
  prices: Float64Array;
  sizes: Float64Array;
  count: number;
  priceText?: readonly string[];
  sizeText?: readonly string[];
}

const EMPTY = new Float64Array(0);

/** Points `v` at the scanner's side (its arrays may have grown). */
function view(v: ScanSideView, side: ScannedTextSide, text: boolean): void {
  v.prices = side.prices;
  v.sizes = side.sizes;
  v.count = side.count;
  v.priceText = text ? side.priceText : undefined;
  v.sizeText = text ? side.sizeText : undefined;
}

/** The fields of {@link okxBookFields}: a book event but for its type and sequence. */
export type OkxBookFields = Omit<
  BookDelta,
  "type" | "first" | "last" | "prev" | "checksum" | "raw"
>;

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
 * The fields every book event of an OKX `books` item (or REST book) carries,
 * both versions alike: instrument, times (`ts`, else the receive time),
 * levels and contract size.
 * @param inst the instrument.
 * @param d the book item, checked to be an object.
 * @param recvTs local receive time, ms.
 * @param levels the item's levels, already converted to base.
 * @returns the fields, for the version to add its type and sequence to.
 * @throws {never} does not throw.
 * @example
 * ```ts
 * const ev = { type: "book_snapshot", ...okxBookFields(inst, d, recvTs, { bids, asks }), sequence: d.seqId };
 * ```
 */
export function okxBookFields(
  inst: Instrument,
  d: OkxBook,
  recvTs: number,
  levels: { readonly bids: Levels; readonly asks: Levels },
): OkxBookFields {
  return {
    ...base(inst),
    exchangeTs: timeValue(d.ts, recvTs),
    localTs: recvTs,
    bids: levels.bids,
    asks: levels.asks,
    contractSize: inst.contractSize,
    ...(inst.inverse ? INVERSE : {}),
  };
}

/**
 * Checks that a `books` data item (or REST book) is an object.
 * @param d the item as received.
 * @param symbol the instrument id the item is a book update of.
 * @returns the item.
 * @throws {MalformedFrameError} naming the value, and carrying `symbol`,
 *   when it is not an object.
 * @example
 * ```ts
 * okxBook(data[0], "BTC-USDT").seqId;
 * ```
 */
export function okxBook(d: unknown, symbol?: string): OkxBook {
  if (d === null || typeof d !== "object") {
    throw new MalformedFrameError(`Book data is not an object: ${d}`, symbol);
  }
  return d as OkxBook;
}

function trade(inst: Instrument, t: OkxTrade, recvTs: number): MarketEvent {
  const price = priceValue(t?.px);
  const raw = sizeValue(t?.sz);
  const size = toBase(raw, price, inst);
  if (!(size <= MAX_SIZE) || price !== price) {
    throw amountError("trade", t?.px, t?.sz, {
      symbol: inst.exchangeSymbol,
      inst,
    });
  }
  // `side` is the taker's side.
  const side = sideValue(t.side, BUY_SELL);
  if (side === undefined) {
    throw new MalformedFrameError(
      `Bad trade side ${JSON.stringify(t.side)} of ${inst.exchangeSymbol}`,
    );
  }
  return {
    type: "trade",
    ...base(inst),
    exchangeTs: timeValue(t.ts, recvTs),
    localTs: recvTs,
    id: String(t.tradeId),
    price,
    size,
    rawSize: raw,
    side,
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
  const price = priceValue(d?.bkPx);
  const raw = sizeValue(d?.sz);
  const size = toBase(raw, price, inst);
  if (!(size <= MAX_SIZE) || price !== price) {
    throw amountError("liquidation", d?.bkPx, d?.sz, {
      symbol: inst.exchangeSymbol,
      inst,
    });
  }
  const side = sideValue(d.side, BUY_SELL);
  if (side === undefined) {
    throw new MalformedFrameError(
      `Bad liquidation side ${
        JSON.stringify(d.side)
      } of ${inst.exchangeSymbol}`,
    );
  }
  return {
    type: "liquidation",
    ...base(inst),
    exchangeTs: timeValue(d.ts, recvTs),
    localTs: recvTs,
    price,
    size,
    rawSize: raw,
    side,
  };
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
export type OkxLevel = [string, string, string, string];

/** One `books` data item, or the book of a REST snapshot. */
export interface OkxBook {
  /** Asks, best first. */
  asks: OkxLevel[];
  /** Bids, best first. */
  bids: OkxLevel[];
  /** Event time, ms since epoch, as a decimal string. */
  ts: string;
  /** Signed CRC32 of the top 25 levels (0 since 2026-06-23). */
  checksum?: number;
  /** The book's sequence number after this item. */
  seqId?: number;
  /** The `seqId` of the previous item (updates only). */
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
