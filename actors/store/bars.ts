/**
 * One-second OHLCV bars from the trades of event batches, for the table
 * `ohlcv_1s`: one bar per second per exchange × exchange symbol, and one per
 * second per consolidation key under exchange `consolidated`.
 *
 * A trade belongs to the second of its `local` receive time (the event
 * clock), floored; the bar's `ts` is that second's start. Liquidations are
 * not trades and make no bars. Bars stay in memory until the writer takes
 * them with a watermark past their second's end.
 *
 * @module
 */

import { columns, type EventBatch, Kind } from "../market/batch.ts";
import { consolidationKey } from "../market/consolidate.ts";
import { BinaryCopyWriter } from "./copy.ts";
import type { CopyPart } from "./db.ts";
import { type BarFields, barProblem, type RejectReason } from "./validate.ts";
import { OHLCV_COLUMNS } from "./tables.ts";
import type { Bar as StoredBar } from "./queries/ohlcv.ts";

/** The exchange id of consolidated bars. */
const CONSOLIDATED = "consolidated";

/** Length of a bar, ms. */
const SECOND = 1000;

/** One open bar. Prices in quote currency, volumes in base currency. */
interface Bar extends BarFields {
  /** Bar open (start of its second), ms since epoch. */
  readonly ts: number;
  open: number;
  /** Event time of the trade that set `open`, ms. */
  openAt: number;
  high: number;
  low: number;
  close: number;
  /** Event time of the trade that set `close`, ms. */
  closeAt: number;
  volume: number;
  buyVolume: number;
  sellVolume: number;
  trades: number;
}

/** The open bars of one exchange × symbol (or consolidated key). */
interface Series {
  readonly exchange: string;
  /** Exchange symbol, or the consolidation key for `consolidated`. */
  readonly symbol: string;
  /** Open bars by bar open, ms. */
  readonly bars: Map<number, Bar>;
}

/** Options for {@link BarBuilder}. */
export interface BarBuilderOptions {
  /**
   * Quote aliases for the consolidation keys of consolidated bars, e.g.
   * `{USDT: "USD"}` (see `consolidationKey`).
   * @default {}
   */
  quoteAliases?: Readonly<Record<string, string>>;
  /**
   * Receives each bar {@link BarBuilder.take} writes, in the order written
   * (the live cache follows them).
   */
  onBar?: (bar: StoredBar) => void;
}

/**
 * Builds 1 s OHLCV bars from event batches and hands closed ones to the
 * writer as `ohlcv_1s` rows.
 *
 * A bar's fields: `open` the first trade in event order (earliest `local`,
 * arrival order among equal times, so consolidated bars interleave venues by
 * receive time), `high`, `low`, `close` the last trade, `volume` all traded
 * base size, `buy_volume` / `sell_volume` by taker side, `trades` the count.
 *
 * Late trades: once {@link take} has passed a second, its bars are written
 * and gone. A trade whose second is already taken is counted in {@link late}
 * and goes into the bar of the earliest second still open (the first second
 * {@link take} has not passed), as if it had arrived at that second's start,
 * so every traded volume is stored exactly once and no stored bar changes.
 *
 * Every bar is checked with `barProblem` (validate.ts) before it is
 * written: finite positive prices, a time in 2000–2100, high ≥ max(open,
 * close), low ≤ min(open, close), volumes finite and ≥ 0. A bar that fails
 * is counted in {@link rejected} by reason and not written.
 *
 * @example
 * ```ts
 * const bars = new BarBuilder({ quoteAliases: { USDT: "USD" } });
 * bars.onBatch(batch);
 * const part = bars.take(watermark); // bars of seconds ended by the watermark
 * if (part) parts.push(part);
 * ```
 */
export class BarBuilder {
  /** Trades that arrived after their second was taken (see the class doc). */
  late = 0;
  /** Bars not written, by reason (e.g. `bad ohlc`), cumulative. */
  readonly rejected: Map<RejectReason, number> = new Map();
  readonly #aliases: Readonly<Record<string, string>>;
  readonly #onBar: ((bar: StoredBar) => void) | undefined;
  /** Open bars by `exchange \t symbol`. */
  readonly #series = new Map<string, Series>();
  /** Every second before this one (ms) has been taken. */
  #closedBefore = -Infinity;
  readonly #out = new BinaryCopyWriter("ohlcv_1s", OHLCV_COLUMNS);

  /**
   * Creates an empty builder.
   * @param options quote aliases for the consolidated bars, a bar listener.
   */
  constructor(options: BarBuilderOptions = {}) {
    this.#aliases = options.quoteAliases ?? {};
    this.#onBar = options.onBar;
  }

  /**
   * Adds the trades of a batch (records of kind `Buy` or `Sell`) to their
   * bars; other records are ignored.
   * @param b a connection's event batch (prices quote currency, sizes base
   *   currency, `local` ms since epoch).
   */
  onBatch(b: EventBatch): void {
    const { price, size, local, code } = columns(b);
    const own: (Series | undefined)[] = [];
    const merged: Series[] = [];
    for (let i = 0; i < b.n; i++) {
      const kind = code[i] % 8;
      if (kind !== Kind.Buy && kind !== Kind.Sell) continue;
      const s = (code[i] - kind) / 8;
      let mine = own[s];
      if (mine === undefined) {
        const ref = b.symbols[s];
        mine = own[s] = this.#seriesOf(b.exchange, ref.exchangeSymbol);
        merged[s] = this.#seriesOf(
          CONSOLIDATED,
          consolidationKey(ref.symbol, this.#aliases),
        );
      }
      let at = local[i];
      let sec = Math.floor(at / SECOND) * SECOND;
      if (sec < this.#closedBefore) {
        this.late++;
        sec = at = this.#closedBefore;
      }
      const buy = kind === Kind.Buy;
      add(mine, sec, at, price[i], size[i], buy);
      add(merged[s], sec, at, price[i], size[i], buy);
    }
  }

  /**
   * Removes the bars of every second that ended at or before `upTo` and
   * returns them as rows; from then on, trades of those seconds are late.
   * @param upTo the writer's watermark over its inputs, ms since epoch:
   *   no trade with an earlier `local` is still to come.
   * @returns the `ohlcv_1s` rows (columns `ts, exchange, symbol, open, high,
   *   low, close, volume, buy_volume, sell_volume, trades`) ordered by `ts`,
   *   or null when no bar is due or every due bar was rejected.
   */
  take(upTo: number): CopyPart | null {
    const closed = Math.floor(upTo / SECOND) * SECOND;
    if (closed > this.#closedBefore) this.#closedBefore = closed;
    const due: { series: Series; bar: Bar }[] = [];
    for (const [k, series] of this.#series) {
      for (const [sec, bar] of series.bars) {
        if (sec >= this.#closedBefore) continue;
        due.push({ series, bar });
        series.bars.delete(sec);
      }
      if (series.bars.size === 0) this.#series.delete(k);
    }
    due.sort((x, y) => x.bar.ts - y.bar.ts);
    const w = this.#out;
    for (const { series, bar } of due) {
      const why = barProblem(bar);
      if (why !== null) {
        this.rejected.set(why, (this.rejected.get(why) ?? 0) + 1);
        continue;
      }
      w.row().time(bar.ts).text(series.exchange).text(series.symbol)
        .float8(bar.open).float8(bar.high).float8(bar.low).float8(bar.close)
        .float8(bar.volume).float8(bar.buyVolume).float8(bar.sellVolume)
        .int4(bar.trades);
      this.#onBar?.({
        ts: bar.ts,
        exchange: series.exchange,
        symbol: series.symbol,
        open: bar.open,
        high: bar.high,
        low: bar.low,
        close: bar.close,
        volume: bar.volume,
        buyVolume: bar.buyVolume,
        sellVolume: bar.sellVolume,
        trades: bar.trades,
      });
    }
    return w.rows > 0 ? w.take() : null;
  }

  /** The series of `exchange` × `symbol`, created when new. */
  #seriesOf(exchange: string, symbol: string): Series {
    const k = `${exchange}\t${symbol}`;
    let s = this.#series.get(k);
    if (s === undefined) {
      s = { exchange, symbol, bars: new Map() };
      this.#series.set(k, s);
    }
    return s;
  }
}

/**
 * Adds one trade to the bar of second `sec` of a series.
 * @param s the series.
 * @param sec bar open, ms.
 * @param at the trade's event time, ms (orders open and close).
 * @param p price, quote currency.
 * @param q size, base currency.
 * @param buy true when the taker bought.
 */
function add(
  s: Series,
  sec: number,
  at: number,
  p: number,
  q: number,
  buy: boolean,
): void {
  let bar = s.bars.get(sec);
  if (bar === undefined) {
    bar = {
      ts: sec,
      open: p,
      openAt: at,
      high: p,
      low: p,
      close: p,
      closeAt: at,
      volume: 0,
      buyVolume: 0,
      sellVolume: 0,
      trades: 0,
    };
    s.bars.set(sec, bar);
  } else {
    if (at < bar.openAt) {
      bar.open = p;
      bar.openAt = at;
    }
    if (at >= bar.closeAt) {
      bar.close = p;
      bar.closeAt = at;
    }
    if (p > bar.high) bar.high = p;
    if (p < bar.low) bar.low = p;
  }
  bar.volume += q;
  if (buy) bar.buyVolume += q;
  else bar.sellVolume += q;
  bar.trades++;
}
