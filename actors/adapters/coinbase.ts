/**
 * Coinbase Advanced Trade market data: `level2` books (received on channel
 * `l2_data`) and `market_trades`, with `heartbeats` keeping quiet
 * subscriptions open.
 * Docs: https://docs.cdp.coinbase.com/advanced-trade/docs/ws-channels
 * Products: `GET /api/v3/brokerage/market/products` (public, no key).
 *
 * @module
 */

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
import { isoMs, jsonFrame, takerSide } from "./_coinbase.ts";
import {
  amountError,
  MAX_SIZE,
  parseJson,
  priceValue,
  sizeValue,
  textStartsWith,
  venueError,
} from "./_common.ts";

const REST = "https://api.coinbase.com";
const EXCHANGE = "coinbase";

/**
 * An Advanced Trade product. `alias` names the product whose feed it shares:
 * `BTC-USDC` has alias `BTC-USD`, and the market-data channels send its
 * books and trades labelled `BTC-USD`.
 */
interface CoinbaseInstrument extends Instrument {
  readonly alias?: string;
}

/**
 * Coinbase Advanced Trade adapter: `level2` books synced from the in-stream
 * snapshot and guarded by the connection-wide `sequence_num`, and
 * `market_trades`.
 */
export const coinbaseAdapter: Adapter = {
  id: EXCHANGE,
  docs: "https://docs.cdp.coinbase.com/advanced-trade/docs/ws-channels",
  restOrigin: REST,
  metadataUrls: [`${REST}/api/v3/brokerage/market/products`],
  instruments(bodies: readonly string[]): Instrument[] {
    const body = parseJson<ProductsBody>(bodies[0], "Products body");
    if (!Array.isArray(body?.products)) {
      throw new MalformedFrameError(
        `Products body has no products array: ${bodies[0].slice(0, 80)}`,
      );
    }
    const out: Instrument[] = [];
    for (const p of body.products) {
      const inst = productInstrument(p);
      if (inst) out.push(inst);
    }
    return out;
  },
  speaks: (url) => new URL(url).hostname === "advanced-trade-ws.coinbase.com",
  url: () => "wss://advanced-trade-ws.coinbase.com",
  // One channel per subscribe message. Channels without updates close after
  // 60-90 s unless `heartbeats` is subscribed (it takes no products).
  subscribe: (symbols) => [
    JSON.stringify({
      type: "subscribe",
      product_ids: symbols,
      channel: "level2",
    }),
    JSON.stringify({
      type: "subscribe",
      product_ids: symbols,
      channel: "market_trades",
    }),
    JSON.stringify({ type: "subscribe", channel: "heartbeats" }),
  ],
  // The `heartbeats` channel: `{"channel":"heartbeats","client_id":"",
  // "timestamp":…,"sequence_num":…,"events":[{"current_time":…,
  // "heartbeat_counter":…}]}` once a second
  // (https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels#heartbeats-channel).
  // Not life: it keeps coming while level2 and market_trades are silent.
  isHeartbeat: (frame) => textStartsWith(frame, '{"channel":"heartbeats"'),
  parser: (instruments) => advancedParser(instruments),
  book: {
    // Subscribing sends a `snapshot` event, then `update`s. Nothing numbers
    // the updates per product; the parser checks the connection-wide
    // `sequence_num` instead and reconnects on a gap.
    sync: { kind: "stream", link: "none" },
    // Unsubscribing and subscribing again makes the venue send a new snapshot.
    resubscribe: (symbol) => [
      JSON.stringify({
        type: "unsubscribe",
        product_ids: [symbol],
        channel: "level2",
      }),
      JSON.stringify({
        type: "subscribe",
        product_ids: [symbol],
        channel: "level2",
      }),
    ],
  },
};

/** Reads one product; `undefined` for a product type we do not follow. */
function productInstrument(p: Product): CoinbaseInstrument | undefined {
  const quote = p.quote_currency_id;
  if (p.product_type === "SPOT") {
    return {
      exchange: EXCHANGE,
      exchangeSymbol: p.product_id,
      symbol: `${p.base_currency_id}-${quote}`,
      base: p.base_currency_id,
      quote,
      market: "spot",
      contractSize: 1,
      ...(p.alias ? { alias: p.alias } : {}),
    };
  }
  const d = p.future_product_details;
  if (p.product_type !== "FUTURE" || !d) return undefined;
  // Futures leave base_currency_id empty; the contract's root unit names it.
  const base = p.base_currency_id || d.contract_root_unit ||
    p.display_name.split(" ")[0];
  // Coinbase marks its nano perpetuals (BIP-20DEC30-CDE) EXPIRING with a far
  // expiry: their funding rate and display name give them away.
  const perpetual = d.contract_expiry_type === "PERPETUAL" ||
    !!d.funding_rate || /PERP|Perpetual/.test(p.display_name);
  const market: Market = perpetual ? "perpetual" : "future";
  // Futures books and trades are sized in contracts of `contract_size` base.
  const contractSize = +d.contract_size || 1;
  const expiry = Date.parse(d.contract_expiry ?? "");
  return {
    exchange: EXCHANGE,
    exchangeSymbol: p.product_id,
    symbol: `${base}-${quote}`,
    base,
    quote,
    market,
    contractSize,
    ...(!perpetual && expiry > 0 ? { expiry } : {}),
  };
}

/**
 * A parser for Advanced Trade frames. Per connection it checks
 * `sequence_num`, which numbers every message of the connection across all
 * channels (subscriptions acks and heartbeats included).
 */
function advancedParser(instruments: InstrumentTable): Parser {
  // Frames are labelled with the product whose feed they carry: a followed
  // alias (BTC-USDC) is fed by its target's frames (BTC-USD).
  const routes = new Map<string, Instrument[]>();
  const route = (id: string, inst: Instrument) => {
    const list = routes.get(id);
    if (list) list.push(inst);
    else routes.set(id, [inst]);
  };
  for (const inst of instruments.values()) {
    route(inst.exchangeSymbol, inst);
    const alias = (inst as CoinbaseInstrument).alias;
    if (alias && alias !== inst.exchangeSymbol) route(alias, inst);
  }
  let lastSeq = -1;
  return {
    parse(frame: string | Uint8Array, recvTs: number): MarketEvent[] {
      const msg = jsonFrame<AdvancedFrame>(frame);
      if (msg.type === "error") {
        // A rejected request: `{"type":"error","message":…}`, the error
        // frame of Coinbase's feeds (https://docs.cdp.coinbase.com/exchange/websocket-feed
        // "Protocol": failures send a message of type "error").
        throw venueError(frame as string, { message: msg.message });
      }
      const seq = msg.sequence_num;
      if (typeof seq === "number") {
        if (lastSeq >= 0 && seq !== lastSeq + 1) {
          throw new ResyncError(
            `Sequence gap: sequence_num ${seq} after ${lastSeq}`,
          );
        }
        lastSeq = seq;
      }
      const events = msg.events;
      if (!Array.isArray(events)) return [];
      const out: MarketEvent[] = [];
      if (msg.channel === "l2_data") {
        const ts = isoMs(msg.timestamp, recvTs);
        for (let i = 0; i < events.length; i++) {
          bookEvent(events[i] as L2Event, routes, ts, recvTs, out);
        }
      } else if (msg.channel === "market_trades") {
        for (let i = 0; i < events.length; i++) {
          const ev = events[i] as TradesEvent;
          // The `snapshot` event replays recent trades from before we
          // subscribed (again on every reconnect): only `update`s are new.
          if (ev.type !== "update" || !Array.isArray(ev.trades)) continue;
          for (let j = 0; j < ev.trades.length; j++) {
            tradeEvents(ev.trades[j], routes, recvTs, out);
          }
        }
      }
      // `subscriptions`, `heartbeats` and other channels carry no market data.
      return out;
    },
  };
}

/** Appends the book event of one `l2_data` event, per followed instrument. */
function bookEvent(
  ev: L2Event,
  routes: ReadonlyMap<string, Instrument[]>,
  ts: number,
  recvTs: number,
  out: MarketEvent[],
): void {
  const insts = ev !== null && typeof ev === "object"
    ? routes.get(ev.product_id)
    : undefined;
  if (insts === undefined) return;
  // The book the event updates; a followed alias shares it.
  const sym = insts[0].exchangeSymbol;
  const updates = ev.updates;
  if (!Array.isArray(updates)) {
    throw new MalformedFrameError(
      `Missing updates in l2_data event for ${ev.product_id}`,
      sym,
    );
  }
  const snapshot = ev.type === "snapshot";
  if (!snapshot && ev.type !== "update") {
    throw new MalformedFrameError(
      `Bad l2_data event type ${ev.type} for ${ev.product_id}`,
      sym,
    );
  }
  let nb = 0;
  for (let i = 0; i < updates.length; i++) {
    if (updates[i]?.side === "bid") nb++;
  }
  const na = updates.length - nb;
  // Raw quantities, then converted per instrument below.
  const bids: Levels = new Array(2 * nb);
  const asks: Levels = new Array(2 * na);
  let b = 0;
  let a = 0;
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i];
    if (u === null || typeof u !== "object") {
      throw new MalformedFrameError(
        `Bad l2_data update ${u} at index ${i} of ${ev.product_id}`,
        sym,
      );
    }
    const price = priceValue(u.price_level);
    const size = sizeValue(u.new_quantity);
    if (price !== price || size !== size) {
      throw amountError("level", u.price_level, u.new_quantity, {
        symbol: sym,
        book: true,
        at: i,
      });
    }
    // Snapshot levels come best first; they are stored worst first so the
    // book appends each one (it keeps the best level last).
    if (u.side === "bid") {
      const k = snapshot ? 2 * nb - 2 - b : b;
      bids[k] = price;
      bids[k + 1] = size;
      b += 2;
    } else if (u.side === "offer") {
      const k = snapshot ? 2 * na - 2 - a : a;
      asks[k] = price;
      asks[k + 1] = size;
      a += 2;
    } else {
      throw new MalformedFrameError(
        `Bad l2_data side ${JSON.stringify(u.side)} of ${ev.product_id}`,
        sym,
      );
    }
  }
  for (let n = 0; n < insts.length; n++) {
    const inst = insts[n];
    const cs = inst.contractSize;
    const base = {
      exchange: EXCHANGE,
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs: ts,
      localTs: recvTs,
    };
    const bl = cs === 1 ? bids : scaled(bids, inst);
    const al = cs === 1 ? asks : scaled(asks, inst);
    // The connection-wide sequence_num is checked in the parser; books carry
    // no number of their own.
    out.push(
      snapshot
        ? {
          type: "book_snapshot",
          ...base,
          sequence: -1,
          bids: bl,
          asks: al,
          contractSize: cs,
        }
        : {
          type: "book_delta",
          ...base,
          first: -1,
          last: -1,
          prev: -1,
          bids: bl,
          asks: al,
          contractSize: cs,
        },
    );
  }
}

/** Appends the trade events of one `market_trades` trade. */
function tradeEvents(
  t: WsTrade,
  routes: ReadonlyMap<string, Instrument[]>,
  recvTs: number,
  out: MarketEvent[],
): void {
  const insts = t !== null && typeof t === "object"
    ? routes.get(t.product_id)
    : undefined;
  if (insts === undefined) return;
  const price = priceValue(t.price);
  const raw = sizeValue(t.size);
  if (price !== price || raw !== raw) {
    throw amountError("trade", t.price, t.size, { symbol: t.product_id });
  }
  // Like the Exchange feed, `side` is the maker order's side.
  const side = takerSide(t.side);
  const exchangeTs = isoMs(t.time, recvTs);
  for (let n = 0; n < insts.length; n++) {
    const inst = insts[n];
    const size = raw * inst.contractSize;
    if (!(size <= MAX_SIZE)) {
      throw amountError("trade", t.price, t.size, {
        symbol: inst.exchangeSymbol,
        inst,
      });
    }
    out.push({
      type: "trade",
      exchange: EXCHANGE,
      exchangeSymbol: inst.exchangeSymbol,
      symbol: inst.symbol,
      market: inst.market,
      exchangeTs,
      localTs: recvTs,
      id: String(t.trade_id),
      price,
      size,
      rawSize: raw,
      side,
    });
  }
}

/**
 * Flat levels with sizes converted from contracts to base.
 * @throws {MalformedFrameError} carrying the symbol when a size in base
 *   currency is out of range.
 */
function scaled(levels: Levels, inst: Instrument): Levels {
  const cs = inst.contractSize;
  const out: Levels = new Array(levels.length);
  for (let i = 0; i < levels.length; i += 2) {
    const s = levels[i + 1] * cs;
    if (!(s <= MAX_SIZE)) {
      throw amountError("level", levels[i], levels[i + 1], {
        symbol: inst.exchangeSymbol,
        book: true,
        inst,
      });
    }
    out[i] = levels[i];
    out[i + 1] = s;
  }
  return out;
}

// ---- raw frame types ----

interface ProductsBody {
  products: Product[];
}

interface Product {
  product_id: string;
  base_currency_id: string;
  quote_currency_id: string;
  product_type: "SPOT" | "FUTURE" | string;
  display_name: string;
  /** The product whose feed this one shares (`BTC-USDC` → `BTC-USD`), or "". */
  alias?: string;
  future_product_details?: {
    contract_root_unit?: string;
    contract_size: string;
    contract_expiry?: string;
    contract_expiry_type?: "PERPETUAL" | "EXPIRING" | string;
    funding_rate?: string;
  };
}

/** The envelope of every Advanced Trade message. */
interface AdvancedFrame {
  /** `l2_data`, `market_trades`, `subscriptions`, `heartbeats`, … */
  channel?: string;
  /** RFC 3339 send time, nanoseconds. */
  timestamp?: string;
  /** Numbers every message of the connection, from 0. */
  sequence_num?: number;
  events?: unknown[];
  /** `error` frames have no channel. */
  type?: string;
  message?: string;
}

interface L2Event {
  type: "snapshot" | "update";
  product_id: string;
  updates: {
    side: "bid" | "offer";
    /** Per level; `1970-01-01T00:00:00Z` in snapshots. */
    event_time: string;
    price_level: string;
    /** The new size at the level (not a change); "0" removes it. */
    new_quantity: string;
  }[];
}

interface TradesEvent {
  type: "snapshot" | "update";
  trades: WsTrade[];
}

interface WsTrade {
  trade_id: string;
  product_id: string;
  price: string;
  size: string;
  /** The maker order's side. */
  side: "BUY" | "SELL";
  time: string;
}
