/**
 * Frame parsing shared by HTX (Huobi) spot and HTX coin-/USDT-margined swaps.
 * Docs: https://www.htx.com/en-us/opend/newApiPages/ (the former
 * https://huobiapi.github.io/docs/spot/v1/en/#websocket-market-data,
 * https://huobiapi.github.io/docs/coin_margined_swap/v1/en/#subscribe-incremental-market-depth-data,
 * https://huobiapi.github.io/docs/usdt_swap/v1/en/#general-subscribe-incremental-market-depth-data).
 * Spot MBP: https://www.htx.com/en-us/opend/newApiPages/?id=7ec5362b-7773-11ed-9966-0242ac110003
 * Liquidations: https://www.htx.com/en-us/opend/newApiPages/?id=5d51592a-77b6-11ed-9966-0242ac110003
 * (coin-margined), https://www.htx.com/en-us/opend/newApiPages/?id=8cb7e25d-77b5-11ed-9966-0242ac110003
 * (USDT-margined)
 *
 * Every HTX frame is gzip-compressed JSON sent as a binary frame; the parser
 * also takes the decoded text (recordings, tests).
 *
 * @module
 */

import type {
  BookDelta,
  BookSnapshot,
  Instrument,
  Liquidation,
  MarketEvent,
  Trade,
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
  baseLevels,
  MAX_SIZE,
  parseJson,
  parseObject,
  priceValue,
  sequenceValue,
  sideValue,
  sizeValue,
  textStartsWith,
  timeValue,
  toBase,
  venueError,
} from "./_common.ts";
import { GzipInflater } from "./_gzip.ts";
import { toBaseSide } from "./_scan.ts";
import { HuobiStep0Scanner } from "./huobi_scan.ts";

/** HTX spot REST origin. */
export const HUOBI_SPOT_REST = "https://api.huobi.pro";

const decoder = new TextDecoder();

/**
 * One inflater for every HTX frame of this thread (a connection actor runs
 * in its own worker): reusing it saves the inflater set-up `gunzipSync`
 * pays per frame (see _gzip.ts for the figures).
 */
const inflater = new GzipInflater();

/**
 * Decodes one HTX frame: inflates a binary frame (gzip) with the thread's
 * reused inflater, passes text through.
 * @param frame a received frame.
 * @returns the frame's JSON text.
 * @throws {MalformedFrameError} when a binary frame is not gzip.
 * @example
 * ```ts
 * huobiText('{"ping":1}'); // '{"ping":1}'
 * ```
 */
export function huobiText(frame: string | Uint8Array): string {
  if (typeof frame === "string") return frame;
  try {
    return decoder.decode(inflater.inflate(frame));
  } catch (e) {
    throw new MalformedFrameError(
      `Binary frame of ${frame.length} bytes is not gzip: ${
        (e as Error).message
      }`,
    );
  }
}

/**
 * Binary frames shorter than this are inflated by {@link huobiIsHeartbeat}.
 * A server ping, `{"ping":1618678073643}` gzipped, is 42 bytes (46 on the
 * swap endpoints in the captures), a notification ping
 * `{"op":"ping","ts":1645289389619}` 52 to 54; the shortest other frame, a
 * `subbed` ack, is 92 bytes and a book or trade push 169 or more. So only
 * pings and nothing bigger are inflated twice (here and in the parser).
 */
const PING_MAX_BYTES = 80;

/**
 * Whether an HTX frame is a server ping: `{"ping": ts}` on the market
 * endpoints (every 5 s, https://huobiapi.github.io/docs/spot/v1/en/#websocket-market-data
 * "Heartbeat and Connection"), `{"op":"ping","ts":…}` on the notification
 * endpoints. Binary frames (gzip) are inflated only when shorter than
 * {@link PING_MAX_BYTES}; decoded text frames (recordings) are matched by
 * prefix. The parser still has to see pings: it queues the pong.
 * @param frame a received frame.
 * @returns true for a ping.
 * @example
 * ```ts
 * huobiIsHeartbeat('{"ping":1618678073643}'); // true
 * ```
 */
export function huobiIsHeartbeat(frame: string | Uint8Array): boolean {
  let text: string | Uint8Array = frame;
  if (typeof frame !== "string") {
    if (frame.length >= PING_MAX_BYTES) return false;
    try {
      text = decoder.decode(inflater.inflate(frame));
    } catch {
      return false; // not gzip: the parser reports it
    }
  }
  return textStartsWith(text, '{"ping":') ||
    textStartsWith(text, '{"op":"ping"');
}

/**
 * The symbol of a subscription id coby sent: every `sub`, `req` and `unsub`
 * is sent with `id` (or `cid`) `<symbol>.<kind>` (`btcusdt.b`, `BTC-USD.l`),
 * which HTX echoes in its reply, error replies included.
 */
function idSymbol(id: unknown): string | undefined {
  if (typeof id !== "string") return undefined;
  const dot = id.lastIndexOf(".");
  return dot > 0 ? id.slice(0, dot) : undefined;
}

/** The symbol of a notification topic, `public.<symbol>.liquidation_orders`. */
function topicSymbol(topic: unknown): string | undefined {
  if (typeof topic !== "string") return undefined;
  const parts = topic.split(".");
  return parts.length === 3 ? parts[1] : undefined;
}

/**
 * A parser for one HTX connection: spot `/ws` or `/feed`, swap `/swap-ws`,
 * `/linear-swap-ws`, or the swap notification endpoints. Reads
 * `depth.step0` full books, `depth.size_N.high_freq` incremental books,
 * spot `mbp.N` increments and their `req` refresh replies, `trade.detail`
 * trades and `liquidation_orders` notifications. Server pings are answered
 * through `outbox`. Acks, other channels and unknown symbols yield nothing.
 * `scanBook` reads `depth.step0` images with {@link HuobiStep0Scanner}.
 * @param exchange exchange id stamped on events (`huobi`, `huobi-swap`).
 * @param instruments instruments keyed by exchange symbol (`btcusdt`, `BTC-USD`).
 * @returns the parser.
 * @throws {never} building the parser does not throw; `parse` throws
 *   {@link MalformedFrameError} for unreadable frames and {@link VenueError}
 *   for HTX error replies.
 * @example
 * ```ts
 * const p = huobiParser("huobi", instruments);
 * p.parse('{"ping":1618678073643}', Date.now()); // []; p.outbox: ['{"pong":1618678073643}']
 * ```
 */
export function huobiParser(
  exchange: string,
  instruments: InstrumentTable,
): Parser {
  const outbox: string[] = [];
  const scanner = new HuobiStep0Scanner();
  // A `depth.step0` push as `scanBook` gives it: a whole image, with no
  // first or previous update (only `last`, the snapshot's sequence, varies).
  const image = reusedDelta(scanner.bids, scanner.asks);
  image.image = true;
  image.first = -1;
  // The binary frame `scanBook` last inflated: when the scanner or the
  // keeper leaves that frame to `parse`, parse takes its text from the
  // scanner's copy of the bytes rather than inflating it twice. It lasts
  // until the next call of either, so it can never stand for a later frame
  // in a refilled array.
  let inflated: Uint8Array | undefined;

  function channel(msg: HuobiFrame, recvTs: number): MarketEvent[] {
    const ch = msg.ch!;
    // `market.<symbol>.<topic>`; symbols hold no dot (`trioeth`, `ATOM-USD`).
    const dot = ch.indexOf(".", 7);
    if (!ch.startsWith("market.") || dot < 0) return [];
    const inst = instruments.get(ch.slice(7, dot));
    if (inst === undefined) return [];
    const topic = ch.slice(dot + 1);
    const book = topic === "depth.step0" || topic.startsWith("mbp.") ||
      (topic.startsWith("depth.size_") && topic.endsWith(".high_freq"));
    // bbo, detail, kline, basis, open_interest (no tick): not followed.
    if (!book && topic !== "trade.detail") return [];
    const sym = inst.exchangeSymbol;
    const tick = msg.tick;
    if (tick === null || typeof tick !== "object") {
      throw new MalformedFrameError(
        `Frame ${ch} without tick`,
        book ? sym : undefined,
      );
    }
    if (!book) return trades(inst, tick, recvTs);
    const ts = timeValue(tick.ts, timeValue(msg.ts, recvTs));
    if (topic === "depth.step0") {
      // Full book image on every push. Old recordings carry `"update": true`
      // frames on this channel with only the changed levels.
      if (msg.update !== undefined && typeof msg.update !== "boolean") {
        throw new MalformedFrameError(
          `Bad update flag ${JSON.stringify(msg.update)} in ${ch} frame`,
          sym,
        );
      }
      if (msg.update === true) {
        return delta(inst, tick, ts, recvTs, -1, -1, -1);
      }
      const v = tick.version === undefined ? -1 : sequenceValue(tick.version);
      if (v !== v) {
        throw new MalformedFrameError(
          `Bad version ${tick.version} in ${ch} frame`,
          sym,
        );
      }
      return [snapshot(inst, tick, ts, recvTs, v)];
    }
    if (topic.startsWith("depth.size_") && topic.endsWith(".high_freq")) {
      // Swap incremental book (`data_type: "incremental"`): the first push
      // after subscribing is `event: "snapshot"`, then `event: "update"`
      // frames whose `version` goes up by exactly 1.
      const v = sequenceValue(tick.version);
      if (v !== v) {
        throw new MalformedFrameError(
          `Bad version ${tick.version} in ${ch} frame`,
          sym,
        );
      }
      if (tick.event !== "snapshot" && tick.event !== "update") {
        throw new MalformedFrameError(
          `Bad event ${JSON.stringify(tick.event)} in ${ch} frame`,
          sym,
        );
      }
      if (tick.event === "snapshot") {
        return [snapshot(inst, tick, ts, recvTs, v)];
      }
      return delta(inst, tick, ts, recvTs, v, v, -1);
    }
    // mbp.N (increments) and mbp.refresh.N (images)
    const seq = sequenceValue(tick.seqNum);
    if (seq !== seq) {
      throw new MalformedFrameError(
        `Bad seqNum ${tick.seqNum} in ${ch} frame`,
        sym,
      );
    }
    // `mbp.refresh.N`: a full image at `seqNum`.
    if (topic.startsWith("mbp.refresh.")) {
      return [snapshot(inst, tick, ts, recvTs, seq)];
    }
    // `mbp.N`: changes since `prevSeqNum` (numbers are not contiguous), so
    // the update covers (prevSeqNum, seqNum]: `first = prevSeqNum + 1`,
    // `last = seqNum`, and it links to the previous update by
    // `prevSeqNum == its seqNum` (HTX's steps 2 and 4). A 150/400-level push
    // with nothing changed still comes, with empty sides; it is kept.
    const prev = sequenceValue(tick.prevSeqNum);
    if (prev !== prev) {
      throw new MalformedFrameError(
        `Bad prevSeqNum ${tick.prevSeqNum} in ${ch} frame`,
        sym,
      );
    }
    return delta(inst, tick, ts, recvTs, prev + 1, seq, prev);
  }

  function snapshot(
    inst: Instrument,
    tick: HuobiTick,
    exchangeTs: number,
    recvTs: number,
    sequence: number,
  ): BookSnapshot {
    const ev: Mutable<BookSnapshot> = {
      type: "book_snapshot",
      exchange,
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs,
      localTs: recvTs,
      sequence,
      // An empty side is sent as [] (or left out): an empty book side.
      bids: baseLevels(tick.bids ?? [], inst),
      asks: baseLevels(tick.asks ?? [], inst),
      contractSize: inst.contractSize,
    };
    if (inst.inverse) ev.inverse = true;
    return ev;
  }

  function delta(
    inst: Instrument,
    tick: HuobiTick,
    exchangeTs: number,
    recvTs: number,
    first: number,
    last: number,
    prev: number,
  ): BookDelta[] {
    const bids = baseLevels(tick.bids ?? [], inst);
    const asks = baseLevels(tick.asks ?? [], inst);
    // An unsequenced update that changes nothing is dropped; a sequenced
    // one is kept, since it moves the sequence the next update links to.
    if (first < 0 && bids.length === 0 && asks.length === 0) return [];
    const ev: Mutable<BookDelta> = {
      type: "book_delta",
      exchange,
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs,
      localTs: recvTs,
      first,
      last,
      prev,
      bids,
      asks,
      contractSize: inst.contractSize,
    };
    if (inst.inverse) ev.inverse = true;
    return [ev];
  }

  function trades(inst: Instrument, tick: HuobiTick, recvTs: number): Trade[] {
    const data = tick.data;
    if (!Array.isArray(data)) {
      throw new MalformedFrameError(
        `trade.detail of ${inst.exchangeSymbol} without data`,
      );
    }
    const out: Trade[] = [];
    for (let i = 0; i < data.length; i++) {
      const t = data[i];
      // `direction` is the taker side. Some swap trades carry "" (no taker,
      // e.g. a delivery or ADL fill); with no side they are not counted.
      if (t === null || typeof t !== "object") {
        throw new MalformedFrameError(
          `Bad trade ${t} of ${inst.exchangeSymbol}`,
        );
      }
      if (t.direction !== "buy" && t.direction !== "sell") continue;
      const price = priceValue(t.price);
      // Spot `amount` is base; swap `amount` is contracts (`quantity` is base).
      const raw = sizeValue(t.amount);
      const size = toBase(raw, price, inst);
      if (!(size <= MAX_SIZE) || price !== price) {
        throw amountError("trade", t.price, t.amount, {
          symbol: inst.exchangeSymbol,
          inst,
        });
      }
      out.push({
        type: "trade",
        exchange,
        exchangeSymbol: inst.exchangeSymbol,
        symbol: inst.symbol,
        market: inst.market,
        exchangeTs: timeValue(t.ts, timeValue(tick.ts, recvTs)),
        localTs: recvTs,
        // Spot `id` exceeds 2^53 and loses digits in JSON; `tradeId` is exact.
        id: String(t.tradeId ?? t.id),
        price,
        size,
        rawSize: raw,
        side: t.direction,
      });
    }
    return out;
  }

  function notification(
    msg: HuobiFrame,
    text: string,
    recvTs: number,
  ): MarketEvent[] {
    switch (msg.op) {
      case "ping":
        // Notification endpoints ping with `op`; the reply echoes `ts`.
        outbox.push(JSON.stringify({ op: "pong", ts: msg.ts }));
        return [];
      case "notify":
        break;
      default: {
        // `sub`/`unsub` acks carry `err-code` 0; a refusal another code and
        // its `err-msg`, with the `cid` and `topic` sent
        // (https://www.htx.com/en-us/opend/newApiPages/?id=5d51592a-77b6-11ed-9966-0242ac110003).
        const code = msg["err-code"];
        if (code !== undefined && code !== 0) {
          throw venueError(text, {
            message: msg["err-msg"],
            symbol: idSymbol(msg.cid) ?? topicSymbol(msg.topic),
          });
        }
        return [];
      }
    }
    const topic = msg.topic ?? "";
    if (!topic.endsWith(".liquidation_orders")) return [];
    const data = msg.data;
    if (!Array.isArray(data)) {
      throw new MalformedFrameError(`${topic} notification without data`);
    }
    const out: Liquidation[] = [];
    for (let i = 0; i < data.length; i++) {
      const l = data[i] as HuobiLiquidation;
      const inst = l && instruments.get(l.contract_code);
      if (!inst) continue;
      const price = priceValue(l.price);
      // `volume` is contracts; `direction` is the liquidation order's side.
      const raw = sizeValue(l.volume);
      const size = toBase(raw, price, inst);
      if (!(size <= MAX_SIZE) || price !== price) {
        throw amountError("liquidation", l.price, l.volume, {
          symbol: l.contract_code,
          inst,
        });
      }
      const side = sideValue(l.direction, { buy: "buy", sell: "sell" });
      if (side === undefined) {
        throw new MalformedFrameError(
          `Bad liquidation direction ${
            JSON.stringify(l.direction)
          } of ${l.contract_code}`,
        );
      }
      out.push({
        type: "liquidation",
        exchange,
        exchangeSymbol: inst.exchangeSymbol,
        symbol: inst.symbol,
        market: inst.market,
        exchangeTs: timeValue(l.created_at, timeValue(msg.ts, recvTs)),
        localTs: recvTs,
        price,
        size,
        rawSize: raw,
        side,
      });
    }
    return out;
  }

  function rep(msg: HuobiFrame, recvTs: number): MarketEvent[] {
    const ch = msg.rep!;
    const dot = ch.indexOf(".", 7);
    const inst = dot < 0 ? undefined : instruments.get(ch.slice(7, dot));
    if (inst === undefined) return [];
    const data = msg.data as HuobiTick | undefined;
    const seq = sequenceValue(data?.seqNum);
    if (seq !== seq) {
      throw new MalformedFrameError(
        `Reply ${ch} without seqNum: ${data?.seqNum}`,
        inst.exchangeSymbol,
      );
    }
    return [snapshot(inst, data!, timeValue(msg.ts, recvTs), recvTs, seq)];
  }

  return {
    outbox,
    // The `depth.step0` image case of `channel`, read by the scanner: the
    // same instrument lookup, times, version and levels (see `baseLevels`).
    scanBook(frame: string | Uint8Array, recvTs: number): ColumnarDelta | null {
      inflated = undefined;
      if (typeof frame === "string") {
        if (!scanner.scan(frame)) return null;
      } else {
        let bytes: Uint8Array;
        try {
          bytes = inflater.inflate(frame);
        } catch {
          return null; // not gzip: parse reports it
        }
        // The scanner keeps a copy of the bytes: parse takes the text from
        // it when this frame is left to parse.
        inflated = frame;
        if (!scanner.scanBytes(bytes)) return null;
      }
      const inst = instruments.get(scanner.symbol);
      if (inst === undefined) return null;
      // The scanner read prices and sizes as `priceValue` and `sizeValue`
      // do; contracts still need converting to base.
      if (
        (inst.contractSize !== 1 || inst.inverse === true) &&
        !(toBaseSide(scanner.bids, inst) && toBaseSide(scanner.asks, inst))
      ) return null;
      image.inst = inst;
      image.exchangeTs = timeValue(
        scanner.tickTime,
        timeValue(scanner.frameTime, recvTs),
      );
      image.localTs = recvTs;
      image.last = scanner.version;
      return image;
    },
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      const text = (frame === inflated ? scanner.text() : undefined) ??
        huobiText(frame);
      inflated = undefined;
      const msg = parseObject<HuobiFrame>(text);
      // Market endpoints ping every 5 s and close the connection after two
      // unanswered pings.
      if (msg.ping !== undefined) {
        outbox.push(JSON.stringify({ pong: msg.ping }));
        return [];
      }
      try {
        if (typeof msg.ch === "string") return channel(msg, recvTs);
        if (msg.op !== undefined) return notification(msg, text, recvTs);
        // A refused `sub`/`req`: `{"id":…,"status":"error","err-code":
        // "bad-request","err-msg":"invalid topic …","ts":…}`
        // (https://huobiapi.github.io/docs/spot/v1/en/#websocket-market-data).
        if (msg.status === "error") {
          throw venueError(text, {
            message: msg["err-msg"],
            symbol: idSymbol(msg.id),
          });
        }
        // The reply to a `req` for an `mbp` book (`requestSnapshot`): a full
        // image at `seqNum`, which equals the `prevSeqNum` of the increment
        // that follows it on the same connection.
        if (typeof msg.rep === "string" && msg.rep.includes(".mbp.")) {
          return rep(msg, recvTs);
        }
        return []; // `subbed`/`unsubbed` acks
      } catch (e) {
        // A missing field deep in a frame surfaces as a TypeError.
        if (e instanceof TypeError) {
          throw new MalformedFrameError(
            `Unreadable frame (${e.message}): ${text.slice(0, 80)}`,
          );
        }
        throw e;
      }
    },
  };
}

/**
 * Reads HTX spot pairs from a `/v1/common/symbols` body; pairs the venue
 * keeps listed as `offline` (delisted) are left out.
 * @param body the response body.
 * @returns spot instruments, `BASE-QUOTE` symbols, contract size 1.
 * @throws {MalformedFrameError} when the body is not JSON, its `status` is
 *   not `ok` or it holds no `data` list.
 * @example
 * ```ts
 * huobiSpotInstruments(body)[0]; // { exchangeSymbol: "btcusdt", symbol: "BTC-USDT", … }
 * ```
 */
export function huobiSpotInstruments(body: string): Instrument[] {
  const info = huobiMetadata<SymbolsResponse>(body, "v1/common/symbols");
  if (!Array.isArray(info.data)) {
    throw new MalformedFrameError(
      `v1/common/symbols without data: ${body.slice(0, 80)}`,
    );
  }
  const out: Instrument[] = [];
  for (const s of info.data) {
    if (s.state === "offline") continue;
    const base = s["base-currency"].toUpperCase();
    const quote = s["quote-currency"].toUpperCase();
    out.push({
      exchange: "huobi",
      exchangeSymbol: s.symbol,
      symbol: `${base}-${quote}`,
      base,
      quote,
      market: "spot",
      contractSize: 1,
    });
  }
  return out;
}

/**
 * Parses a JSON metadata body.
 * @param body the response body.
 * @param what what the body is, for the error message.
 * @returns the parsed value.
 * @throws {MalformedFrameError} when the body is not JSON or its `status` is not `ok`.
 * @example
 * ```ts
 * huobiMetadata<{ data: unknown[] }>('{"status":"ok","data":[]}', "symbols");
 * ```
 */
export function huobiMetadata<T>(body: string, what: string): T {
  const v = parseJson<{ status?: string }>(body, what);
  if (v?.status !== "ok") {
    throw new MalformedFrameError(
      `${what} status is not ok: ${body.slice(0, 80)}`,
    );
  }
  return v as T;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// ---- raw frame types ----

interface SymbolsResponse {
  data: {
    symbol: string;
    "base-currency": string;
    "quote-currency": string;
    state: string;
  }[];
}

interface HuobiFrame {
  /** Market endpoint ping. */
  ping?: number;
  /** The `id` of the request a reply answers (market endpoints). */
  id?: string;
  /** The `cid` of the request a reply answers (notification endpoints). */
  cid?: string;
  /** Notification endpoint operation: ping, notify, sub, unsub, error. */
  op?: string;
  topic?: string;
  ch?: string;
  rep?: string;
  ts?: number;
  status?: string;
  "err-code"?: string | number;
  "err-msg"?: string;
  /** Old `depth.step0` recordings: only the changed levels. */
  update?: boolean;
  tick?: HuobiTick;
  data?: unknown;
}

interface HuobiTick {
  ts?: number;
  bids?: [number, number][];
  asks?: [number, number][];
  /** step0: book version; high_freq: update number, +1 per update. */
  version?: number;
  event?: "snapshot" | "update";
  seqNum?: number;
  prevSeqNum?: number;
  data?: HuobiTrade[];
}

interface HuobiTrade {
  id: number | string;
  tradeId?: number;
  ts: number;
  price: number;
  amount: number;
  quantity?: number;
  direction: "buy" | "sell" | "";
}

interface HuobiLiquidation {
  contract_code: string;
  direction: "buy" | "sell";
  volume: number;
  price: number;
  created_at: number;
  amount?: number;
}
