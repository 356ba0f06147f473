/**
 * Row validation before anything is written: every stored row has finite
 * positive prices, finite sizes ≥ 0, times that are UTC milliseconds between
 * 2000 and 2100, a keyframe whose best bid is below its best ask, and bars
 * whose high and low hold their open and close. A row that fails is rejected
 * with a reason ({@link RejectReason}) and counted in {@link Rejections};
 * it is never written.
 *
 * @module
 */

/**
 * Why a row was rejected: `bad price` (not finite, or ≤ 0), `bad size` (not
 * finite, or < 0), `bad time` (not finite, or outside 2000–2100 UTC),
 * `crossed book` (a keyframe whose best bid ≥ best ask), `bad ohlc` (high
 * below the open or close, low above them) and `bad volume` (a bar volume
 * not finite, or < 0).
 */
export type RejectReason =
  | "bad price"
  | "bad size"
  | "bad time"
  | "crossed book"
  | "bad ohlc"
  | "bad volume";

/** Earliest accepted time: 2000-01-01T00:00:00Z, ms. */
export const MIN_TIME_MS = Date.UTC(2000, 0, 1);
/** First rejected time: 2100-01-01T00:00:00Z, ms. */
export const MAX_TIME_MS = Date.UTC(2100, 0, 1);

/**
 * Whether `p` is a usable price: finite and above 0.
 * @param p quote currency.
 * @returns true when valid.
 * @example
 * ```ts
 * validPrice(60000); // true
 * validPrice(NaN); // false
 * ```
 */
export function validPrice(p: number): boolean {
  return p > 0 && p < Infinity;
}

/**
 * Whether `s` is a usable size: finite and ≥ 0 (0 deletes a book level).
 * @param s base currency.
 * @returns true when valid.
 * @example
 * ```ts
 * validSize(0); // true
 * validSize(-1); // false
 * ```
 */
export function validSize(s: number): boolean {
  return s >= 0 && s < Infinity;
}

/**
 * Whether `ms` is a storable time: finite and within
 * [{@link MIN_TIME_MS}, {@link MAX_TIME_MS}). Fractions of a millisecond are
 * accepted (they are cut when written).
 * @param ms ms since the Unix epoch.
 * @returns true when valid.
 * @example
 * ```ts
 * validTime(Date.UTC(2023, 0, 1)); // true
 * validTime(1672531200); // false: seconds, not ms
 * ```
 */
export function validTime(ms: number): boolean {
  return ms >= MIN_TIME_MS && ms < MAX_TIME_MS;
}

/**
 * What is wrong with a trade or liquidation row.
 * @param price quote currency.
 * @param size base currency.
 * @param ts receive time, ms.
 * @param exchangeTs venue time, ms.
 * @returns the reason, or null when the row is valid.
 * @example
 * ```ts
 * tradeProblem(60000, 0.5, ts, ts); // null
 * tradeProblem(0, 0.5, ts, ts); // "bad price"
 * ```
 */
export function tradeProblem(
  price: number,
  size: number,
  ts: number,
  exchangeTs: number,
): RejectReason | null {
  if (!validPrice(price)) return "bad price";
  if (!validSize(size)) return "bad size";
  if (!validTime(ts) || !validTime(exchangeTs)) return "bad time";
  return null;
}

/**
 * What is wrong with one book level.
 * @param price quote currency.
 * @param size base currency (0 deletes the level).
 * @returns the reason, or null when the level is valid.
 * @example
 * ```ts
 * levelProblem(60000, 0); // null
 * levelProblem(60000, -1); // "bad size"
 * ```
 */
export function levelProblem(price: number, size: number): RejectReason | null {
  if (!validPrice(price)) return "bad price";
  if (!validSize(size)) return "bad size";
  return null;
}

/**
 * What is wrong with a book keyframe's top: a crossed book.
 * @param bestBid the highest bid price (NaN when there are no bids).
 * @param bestAsk the lowest ask price (NaN when there are no asks).
 * @returns `crossed book` when both exist and bid ≥ ask, else null.
 * @example
 * ```ts
 * crossedProblem(100, 101); // null
 * crossedProblem(101, 101); // "crossed book"
 * ```
 */
export function crossedProblem(
  bestBid: number,
  bestAsk: number,
): RejectReason | null {
  return bestBid >= bestAsk ? "crossed book" : null;
}

/** The fields of a bar {@link barProblem} checks. */
export interface BarFields {
  /** Bar open time, ms. */
  readonly ts: number;
  /** First trade price, quote currency. */
  readonly open: number;
  /** Highest trade price. */
  readonly high: number;
  /** Lowest trade price. */
  readonly low: number;
  /** Last trade price. */
  readonly close: number;
  /** Traded size, base currency. */
  readonly volume: number;
  /** Taker-buy size, base currency (checked when present). */
  readonly buyVolume?: number;
  /** Taker-sell size, base currency (checked when present). */
  readonly sellVolume?: number;
}

/**
 * What is wrong with an OHLCV bar: a bad price or time, `high` below
 * `max(open, close)` or `low` above `min(open, close)`, or a volume that is
 * not finite and ≥ 0.
 * @param bar the bar.
 * @returns the reason, or null when the bar is valid.
 * @example
 * ```ts
 * barProblem({ ts, open: 10, high: 12, low: 9, close: 11, volume: 3 }); // null
 * barProblem({ ts, open: 10, high: 9, low: 9, close: 11, volume: 3 }); // "bad ohlc"
 * ```
 */
export function barProblem(bar: BarFields): RejectReason | null {
  const { open, high, low, close } = bar;
  if (
    !validPrice(open) || !validPrice(high) || !validPrice(low) ||
    !validPrice(close)
  ) return "bad price";
  if (!validTime(bar.ts)) return "bad time";
  if (high < Math.max(open, close) || low > Math.min(open, close)) {
    return "bad ohlc";
  }
  if (
    !validSize(bar.volume) ||
    (bar.buyVolume !== undefined && !validSize(bar.buyVolume)) ||
    (bar.sellVolume !== undefined && !validSize(bar.sellVolume))
  ) return "bad volume";
  return null;
}

/**
 * Counts rejected rows by reason and keeps the first example of each reason
 * since the last {@link Rejections.take}, for the log.
 *
 * @example
 * ```ts
 * const r = new Rejections();
 * const why = tradeProblem(price, size, ts, exchangeTs);
 * if (why) r.add(why, `binance BTCUSDT trade price ${price}`);
 * for (const line of r.take()) log("warn", line);
 * ```
 */
export class Rejections {
  /** Rows rejected per reason, cumulative. */
  readonly total = new Map<RejectReason, number>();
  #recent = new Map<RejectReason, { n: number; example: string }>();

  /**
   * Counts one rejected row.
   * @param reason why.
   * @param example what was rejected, in words (kept for the first of each
   *   reason until the next `take`).
   */
  add(reason: RejectReason, example: string): void {
    this.total.set(reason, (this.total.get(reason) ?? 0) + 1);
    const r = this.#recent.get(reason);
    if (r) r.n++;
    else this.#recent.set(reason, { n: 1, example });
  }

  /**
   * The rejections since the last call, one line per reason, and a fresh
   * start.
   * @returns e.g. `["2 rows rejected (bad price), e.g. binance BTCUSDT trade price 0"]`.
   */
  take(): string[] {
    const out: string[] = [];
    for (const [reason, { n, example }] of this.#recent) {
      out.push(
        `${n} ${
          n === 1 ? "row" : "rows"
        } rejected (${reason}), e.g. ${example}`,
      );
    }
    this.#recent = new Map();
    return out;
  }
}
