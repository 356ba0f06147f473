/**
 * Normalized market events: the one vocabulary every adapter emits and every
 * actor consumes.
 *
 * Semantics (shared by live and replayed data):
 * - Prices are in quote currency, sizes in base currency. Venues that quote
 *   sizes in contracts are converted with the instrument's `contractSize`:
 *   linear contracts `size = raw × contractSize`, inverse contracts (contract
 *   value in quote currency) `size = raw × contractSize / price`. `rawSize`
 *   keeps the venue's own figure.
 * - `exchangeTs` is the venue's event time and `localTs` the local receive
 *   time, both milliseconds since the Unix epoch (UTC). A venue that sends no
 *   event time reports `exchangeTs = localTs`.
 * - Book levels are flat arrays `[price0, size0, price1, size1, …]`. A size of
 *   0 in a delta removes the level.
 * - A `book_snapshot` replaces the whole book; `book_delta` updates it. The
 *   sequence fields follow the venue's own numbering (see each adapter).
 * - `disconnect` means every book of that exchange is void until the next
 *   snapshot: downstream state for the exchange resets on it.
 *
 * @module
 */

/** Market type of an instrument. */
export type Market = "spot" | "perpetual" | "future";

/** Flat book levels `[price, size, price, size, …]`; price in quote, size in base. */
export type Levels = number[];

/**
 * One tradable instrument of one venue, from the venue's REST metadata.
 * `symbol` is the normalized `BASE-QUOTE`; `exchangeSymbol` the venue's name.
 */
export interface Instrument {
  readonly exchange: string;
  readonly exchangeSymbol: string;
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly market: Market;
  /**
   * Base units per contract (1 where sizes are already in base); for an
   * inverse contract, quote units per contract.
   */
  readonly contractSize: number;
  /** True for inverse contracts (sized in quote currency, e.g. BTC-USD 100 USD). */
  readonly inverse?: boolean;
  /** Expiry of a future, ms since epoch. */
  readonly expiry?: number;
}

/** Fields every market event carries. */
export interface EventBase {
  readonly exchange: string;
  readonly exchangeSymbol: string;
  /** Normalized `BASE-QUOTE`. */
  readonly symbol: string;
  readonly market: Market;
  /** Venue event time, ms since epoch. */
  readonly exchangeTs: number;
  /** Local receive time, ms since epoch. */
  readonly localTs: number;
}

/**
 * The venue's own strings for book levels, `[price0, size0, price1, size1, …]`
 * aligned with `bids`/`asks`; kept by venues whose checksums are computed over
 * the strings as sent.
 */
export interface RawLevels {
  readonly bids: readonly string[];
  readonly asks: readonly string[];
}

/**
 * A full L2 book image; `sequence` is the venue's update id it is valid at
 * (-1 when the venue numbers nothing).
 */
export interface BookSnapshot extends EventBase {
  readonly type: "book_snapshot";
  readonly sequence: number;
  readonly bids: Levels;
  readonly asks: Levels;
  /** The instrument's contract size (see {@link Instrument.contractSize}). */
  readonly contractSize: number;
  /** True for an inverse contract: raw size = size × price / contractSize. */
  readonly inverse?: boolean;
  /** The venue's checksum of the book after this event, when it sends one. */
  readonly checksum?: number;
  /** Level strings as sent, for checksum venues. */
  readonly raw?: RawLevels;
}

/**
 * An L2 update covering venue update ids `first..last`. `prev` is the `last`
 * of the venue's previous update where the venue sends it (Binance USD-M `pu`,
 * OKX `prevSeqId`), otherwise -1. Venues without sequence numbers send -1 for
 * all three.
 */
export interface BookDelta extends EventBase {
  readonly type: "book_delta";
  readonly first: number;
  readonly last: number;
  readonly prev: number;
  readonly bids: Levels;
  readonly asks: Levels;
  /** The instrument's contract size (see {@link Instrument.contractSize}). */
  readonly contractSize: number;
  /** True for an inverse contract: raw size = size × price / contractSize. */
  readonly inverse?: boolean;
  /** The venue's checksum of the book after this event, when it sends one. */
  readonly checksum?: number;
  /** Level strings as sent, for checksum venues. */
  readonly raw?: RawLevels;
}

/** A trade; `side` is the taker side. */
export interface Trade extends EventBase {
  readonly type: "trade";
  readonly id: string;
  readonly price: number;
  readonly size: number;
  readonly rawSize: number;
  readonly side: "buy" | "sell";
}

/**
 * A forced liquidation; `side` is the side of the liquidation order
 * (`sell` liquidates a long).
 */
export interface Liquidation extends EventBase {
  readonly type: "liquidation";
  readonly price: number;
  readonly size: number;
  readonly rawSize: number;
  readonly side: "buy" | "sell";
}

/** The connection to `exchange` was lost or restarted; its books are void. */
export interface Disconnect {
  readonly type: "disconnect";
  readonly exchange: string;
  readonly localTs: number;
  readonly reason: string;
}

/** Every normalized market event, discriminated on `type`. */
export type MarketEvent =
  | BookSnapshot
  | BookDelta
  | Trade
  | Liquidation
  | Disconnect;

/**
 * The JSON form of an event, as NDJSON output writes it: book levels as
 * `[price, size, rawSize]` triples (size in base currency, raw size in the
 * venue's unit), the venue's level strings left out.
 * @param ev the event.
 * @returns a JSON-serializable object.
 * @example
 * ```ts
 * JSON.stringify(eventJson(delta)); // {"type":"book_delta",…,"bids":[[60000,0.5,0.5]],…}
 * ```
 */
export function eventJson(ev: MarketEvent): unknown {
  if (ev.type !== "book_snapshot" && ev.type !== "book_delta") return ev;
  const triples = (l: Levels) => {
    const out: number[][] = [];
    for (let i = 0; i < l.length; i += 2) {
      const raw = ev.inverse
        ? l[i + 1] * l[i] / ev.contractSize
        : l[i + 1] / ev.contractSize;
      out.push([l[i], l[i + 1], raw]);
    }
    return out;
  };
  const { raw: _raw, ...rest } = ev;
  return { ...rest, bids: triples(ev.bids), asks: triples(ev.asks) };
}

/** What happened to a feed, as {@link HealthEvent} records it. */
export type HealthKind =
  | "connect"
  | "disconnect"
  | "resync"
  | "checksum"
  | "excluded";

/**
 * A change in a feed's health, sent by a connection actor on its `store`
 * link (`excluded` comes from the consolidated columns instead).
 */
export interface HealthEvent {
  readonly type: "health";
  /** Event time (the connection's event clock), ms since epoch. */
  readonly ts: number;
  /** Exchange id. */
  readonly exchange: string;
  /** The connection actor's id, e.g. `conn:bybit:linear`. */
  readonly connection: string;
  readonly kind: HealthKind;
  /** The venue's symbol the event concerns; absent for the whole connection. */
  readonly symbol?: string;
  /** The cause in words, e.g. `gap: first 1002 > last 1000 + 1`. */
  readonly detail: string;
}
