/**
 * Gate.io (Gate) spot, WebSocket v4.
 * Docs: https://www.gate.io/docs/developers/apiv4/ws/en/#changed-order-book-levels
 * Book procedure: https://www.gate.io/docs/developers/apiv4/ws/en/#order-book-channel
 * REST snapshot: https://www.gate.io/docs/developers/apiv4/en/#retrieve-order-book
 *
 * `spot.order_book_update` (100 ms, 100 levels) pushes changed levels with
 * `U`/`u`, the first and last order-book update id. Gate's "how to maintain
 * local order book": fetch `GET /api/v4/spot/order_book?…&with_id=true`
 * (`id`), drop notifications with `u < id + 1`, start at the one with
 * `U <= id + 1 <= u`, and treat any later `U` other than the previous `u + 1`
 * as lost updates. That is the `rest` rule with `link: "next"`, `align: 1`
 * (Binance spot's rule).
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
  type InstrumentTable,
  MalformedFrameError,
  type Parser,
} from "./adapter.ts";
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

const REST = "https://api.gateio.ws";

/**
 * Gate.io spot adapter: 100 ms changed levels synced to the REST snapshot,
 * and trades.
 */
export const gateioAdapter: Adapter = {
  id: "gateio",
  docs:
    "https://www.gate.io/docs/developers/apiv4/ws/en/#changed-order-book-levels",
  restOrigin: REST,
  metadataUrls: [`${REST}/api/v4/spot/currency_pairs`],
  instruments(bodies: readonly string[]): Instrument[] {
    const pairs = parseJson<GateCurrencyPair[]>(bodies[0], "currency_pairs");
    if (!Array.isArray(pairs)) {
      throw new MalformedFrameError(
        `currency_pairs is not an array: ${bodies[0].slice(0, 80)}`,
      );
    }
    const out: Instrument[] = [];
    for (const p of pairs) {
      // Delisted pairs stay listed as `untradable`.
      if (p.trade_status === "untradable") continue;
      out.push({
        exchange: "gateio",
        exchangeSymbol: p.id,
        symbol: `${p.base}-${p.quote}`,
        base: p.base,
        quote: p.quote,
        market: "spot",
        contractSize: 1,
      });
    }
    return out;
  },
  url: () => "wss://api.gateio.ws/ws/v4/",
  subscribe(symbols: readonly string[]): string[] {
    // `time` matters for authenticated requests (it is signed); public ones
    // are served whatever it says (tardis-node sends milliseconds there). A
    // pure adapter cannot read the clock, so they send 0.
    const frames = [JSON.stringify({
      time: 0,
      channel: "spot.trades",
      event: "subscribe",
      payload: symbols,
    })];
    // One `spot.order_book_update` request per pair: payload [pair, interval].
    for (const s of symbols) {
      frames.push(JSON.stringify({
        time: 0,
        channel: "spot.order_book_update",
        event: "subscribe",
        payload: [s, "100ms"],
      }));
    }
    return frames;
  },
  // Application ping; the server answers on `spot.pong`.
  keepalive: { frame: `{"time":0,"channel":"spot.ping"}`, intervalMs: 20_000 },
  // The answer to that ping, `{"time":…,"time_ms":…,"channel":"spot.pong",
  // "event":"","result":null}`
  // (https://www.gate.io/docs/developers/apiv4/ws/en/, "Application
  // ping/pong"), is the only chatter.
  isHeartbeat: (frame) => shortTextIncludes(frame, '"channel":"spot.pong"'),
  parser: gateioParser,
  book: {
    // First notification: U <= id + 1 <= u; then U == previous u + 1.
    sync: { kind: "rest", link: "next", align: 1 },
    // The exact request of Gate's procedure (and of the capture): 100 levels,
    // the depth of the 100 ms channel.
    snapshotUrl: (symbol) =>
      `${REST}/api/v4/spot/order_book?currency_pair=${symbol}&limit=100&with_id=true`,
    parseSnapshot(body, recvTs, inst): BookSnapshot {
      const s = parseJson<GateOrderBook>(body, "Snapshot");
      const sym = inst.exchangeSymbol;
      const id = sequenceValue(s?.id);
      if (id !== id) {
        throw new MalformedFrameError(
          `Snapshot of ${sym} without id: ${body.slice(0, 80)}`,
          sym,
        );
      }
      return {
        type: "book_snapshot",
        ...base(inst),
        // `update`/`current` (ms) appeared after 2021; older bodies have neither.
        exchangeTs: timeValue(s.update, timeValue(s.current, recvTs)),
        localTs: recvTs,
        sequence: id,
        bids: levels(s.bids, sym),
        asks: levels(s.asks, sym),
        contractSize: 1,
      };
    },
  },
};

/** Event fields shared by every event of `inst`. */
function base(inst: Instrument) {
  return {
    exchange: "gateio",
    exchangeSymbol: inst.exchangeSymbol,
    symbol: inst.symbol,
    market: inst.market,
  };
}

/**
 * Converts `[["price","amount"], …]` of `sym` to flat numbers (spot: amounts
 * in base).
 * @throws {MalformedFrameError} carrying `sym` for a level that is not a
 *   price and a size.
 */
function levels(list: unknown, sym: string): Levels {
  if (!Array.isArray(list)) {
    throw new MalformedFrameError(
      `Levels of ${sym} are not an array: ${list}`,
      sym,
    );
  }
  const out: Levels = new Array(list.length * 2);
  for (let i = 0; i < list.length; i++) {
    const l = list[i];
    const p = Array.isArray(l) ? priceValue(l[0]) : NaN;
    const s = Array.isArray(l) ? sizeValue(l[1]) : NaN;
    if (p !== p || s !== s) {
      throw Array.isArray(l)
        ? amountError("level", l[0], l[1], { symbol: sym, book: true, at: i })
        : new MalformedFrameError(
          `Bad level ${JSON.stringify(l)} at index ${i} of ${sym}`,
          sym,
        );
    }
    out[2 * i] = p;
    out[2 * i + 1] = s;
  }
  return out;
}

/**
 * A parser for Gate.io spot v4 frames: `spot.order_book_update` and
 * `spot.trades`. Subscription acks, `spot.pong` and other channels yield
 * nothing; a frame with a non-null `error` is the venue's refusal, thrown as
 * a {@link VenueError}.
 */
function gateioParser(instruments: InstrumentTable): Parser {
  return {
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      if (typeof frame !== "string") {
        throw new MalformedFrameError(
          `Binary frame of ${frame.length} bytes on a text feed`,
        );
      }
      const msg = parseObject<GateFrame>(frame);
      // A refused request: `"error":{"code":2,"message":"unknown currency
      // pair GT_USDT1"}` with `result: null`
      // (https://www.gate.io/docs/developers/apiv4/ws/en/, "Server response").
      if (msg.error !== undefined && msg.error !== null) {
        throw venueError(frame, { message: msg.error.message });
      }
      // Acks (`event: subscribe`), `spot.pong` and pre-v4 frames
      // (`method: …`) carry no update.
      if (msg.event !== "update" || msg.result == null) return [];
      switch (msg.channel) {
        case "spot.order_book_update":
          return book(msg.result as GateBookUpdate, instruments, recvTs);
        case "spot.trades":
          return trade(msg.result as GateTrade, instruments, recvTs);
        default:
          return [];
      }
    },
  };
}

function book(
  r: GateBookUpdate,
  instruments: InstrumentTable,
  recvTs: number,
): MarketEvent[] {
  const inst = instruments.get(r.s);
  if (inst === undefined) return [];
  const sym = inst.exchangeSymbol;
  const first = sequenceValue(r.U);
  const last = sequenceValue(r.u);
  if (!(first <= last)) {
    throw new MalformedFrameError(
      `Bad U/u ${r.U}/${r.u} in order_book_update of ${sym}`,
      sym,
    );
  }
  const common = {
    ...base(inst),
    exchangeTs: timeValue(r.t, recvTs),
    localTs: recvTs,
    bids: levels(r.b, sym),
    asks: levels(r.a, sym),
    contractSize: 1,
  };
  // Since 2025 Gate pushes a whole book now and then (`full: true`): it
  // replaces the local book, which is then at `u`.
  if (r.full !== undefined && typeof r.full !== "boolean") {
    throw new MalformedFrameError(
      `Bad full ${JSON.stringify(r.full)} in order_book_update of ${sym}`,
      sym,
    );
  }
  if (r.full === true) {
    return [{ type: "book_snapshot", ...common, sequence: last }];
  }
  return [{ type: "book_delta", ...common, first, last, prev: -1 }];
}

function trade(
  t: GateTrade,
  instruments: InstrumentTable,
  recvTs: number,
): MarketEvent[] {
  const inst = instruments.get(t.currency_pair);
  if (inst === undefined) return [];
  const price = priceValue(t.price);
  const size = sizeValue(t.amount);
  if (price !== price || size !== size) {
    throw amountError("trade", t.price, t.amount, {
      symbol: inst.exchangeSymbol,
    });
  }
  // `side` is the taker's side.
  const side = sideValue(t.side, { buy: "buy", sell: "sell" });
  if (side === undefined) {
    throw new MalformedFrameError(
      `Bad trade side ${JSON.stringify(t.side)} of ${inst.exchangeSymbol}`,
    );
  }
  // `create_time_ms` is a string with a fractional part ("1606292218213.4578").
  const ms = Math.floor(decimalValue(t.create_time_ms));
  return [{
    type: "trade",
    ...base(inst),
    exchangeTs: timeValue(
      ms,
      timeValue(decimalValue(t.create_time) * 1000, recvTs),
    ),
    localTs: recvTs,
    id: String(t.id),
    price,
    size,
    rawSize: size,
    side,
  }];
}

// ---- raw frame types ----

interface GateFrame {
  time?: number;
  time_ms?: number;
  channel?: string;
  event?: string;
  error?: { code: number; message: string } | null;
  result?: unknown;
}

interface GateBookUpdate {
  /** Update time, ms. */
  t?: number;
  /** Present and true on a whole-book push. */
  full?: boolean;
  /** Depth level of the subscription, e.g. "100". */
  l?: string;
  e?: string;
  /** Update time, s (deprecated). */
  E?: number;
  s: string;
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

interface GateTrade {
  id: number;
  create_time: number;
  create_time_ms: string;
  side: "buy" | "sell";
  currency_pair: string;
  amount: string;
  price: string;
}

interface GateOrderBook {
  id: number;
  current?: number;
  update?: number;
  asks: [string, string][];
  bids: [string, string][];
}

interface GateCurrencyPair {
  id: string;
  base: string;
  quote: string;
  trade_status: "tradable" | "untradable" | "buyable" | "sellable";
}
