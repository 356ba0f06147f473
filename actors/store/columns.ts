/**
 * The rows derived from heatmap columns: the columns themselves (`heatmap`),
 * order-book imbalance near the mid (`imbalances`), the heatmap rollups
 * (`heatmap_1m`, `heatmap_5m`, `heatmap_1h`, `heatmap_1d`) and the
 * consolidation's exclusions of venues (`health_events` of kind
 * `excluded`).
 *
 * @module
 */

import {
  type Column,
  type ColumnBatch,
  type ColumnMeta,
  decodeColumns,
} from "../market/heatmap.ts";
import { imbalanceOf } from "../market/imbalance.ts";
import { BinaryCopyWriter } from "./copy.ts";
import { encodeSizes } from "./sizes.ts";
import type { CopyPart } from "./db.ts";
import {
  HEALTH_COLUMNS,
  HEATMAP_COLUMNS,
  IMBALANCE_COLUMNS,
} from "./tables.ts";

/** The rollup tables and their intervals (ms, aligned to the Unix epoch, so UTC). */
const ROLLUPS = [
  { table: "heatmap_1m", ms: 60_000 },
  { table: "heatmap_5m", ms: 300_000 },
  { table: "heatmap_1h", ms: 3_600_000 },
  { table: "heatmap_1d", ms: 86_400_000 },
] as const;

/**
 * The columns of one exchange × symbol seen during one rollup interval.
 * The arrays hold bucket `base + i` at index `i`; buckets `lo .. hi - 1`
 * are the union of the columns' ranges so far (`hi <= lo` while none had a
 * bucket).
 */
interface Rollup {
  /** Interval start, ms since epoch. */
  readonly start: number;
  readonly bucketSize: number;
  lo: number;
  hi: number;
  base: number;
  /** Resting bid size summed over the ticks, base currency. */
  bids: Float64Array;
  /** Resting ask size summed over the ticks, base currency. */
  asks: Float64Array;
  /** Taker buy volume summed, base currency. */
  buys: Float64Array;
  /** Taker sell volume summed, base currency. */
  sells: Float64Array;
  /** Columns added. */
  ticks: number;
  /** Header of the last column added (its symbol, market and BBO go in the row). */
  last: ColumnMeta;
}

/** Options for {@link ColumnRows}. */
export interface ColumnRowsOptions {
  /**
   * Half-width of the band around the mid that imbalance sums over,
   * fraction of the mid (0.001: ±0.1 %).
   * @default 0.001
   */
  imbalanceDepth?: number;
}

/**
 * Adds a price field: NULL for NaN (no best bid or ask).
 * @param w the writer, in a row.
 * @param p the price.
 */
function price(w: BinaryCopyWriter, p: number): BinaryCopyWriter {
  return p === p ? w.float8(p) : w.null();
}

/**
 * Turns column batches into the rows of `heatmap`, `imbalances`, the
 * heatmap rollups and `health_events` (venue exclusions).
 *
 * - `heatmap`: one row per column, its four arrays in `sizes`
 *   ({@link encodeSizes}: each size rounded to 6 significant digits, as the
 *   live stream rounds it), NaN BBO as NULL.
 * - `imbalances`: one row per column, `symbol` the column's exchange symbol
 *   (its key for a consolidated column). With `mid` the column's mid
 *   (`midPrice` of its BBO), `bid_size` sums the bids of the buckets that
 *   overlap `[mid − depth·mid, mid]`, `ask_size` the asks of those that
 *   overlap `[mid, mid + depth·mid]`, and `imbalance` is
 *   `(bid − ask) / (bid + ask)`, NULL when both are 0 (or the column has no
 *   mid).
 * - Rollups: per exchange × exchange symbol and interval (1 m, 5 m, 1 h, 1 d,
 *   UTC-aligned), the columns of the interval over the union of their bucket
 *   ranges. When a column of a later interval arrives, the closed interval's
 *   row is emitted: `ts` the interval start, `sizes` holding as bids and
 *   asks the mean resting size per bucket over the interval's columns
 *   (sum / columns, computed in float64 and then rounded like a column's;
 *   a bucket outside a column counts 0 for it), as buys and sells the sums;
 *   the BBO, symbol and market of its last column. A column with another bucket size
 *   closes the interval too, so a second row with the same `ts` follows for
 *   the rest of that interval. A column older than the open interval counts
 *   in it. An open interval lives only in memory until a column closes it
 *   (a process that stops loses its open intervals).
 * - `health_events`: for a consolidated column, a row of kind `excluded`
 *   for each venue (exchange × exchange symbol) in `consolidation.excluded`
 *   that was not excluded in the previous column of that key: `exchange`
 *   the venue, `connection` empty, `symbol` the venue's exchange symbol,
 *   `detail` the reason.
 *
 * Columns must come in tick order (as the aggregator sends them).
 *
 * @example
 * ```ts
 * const rows = new ColumnRows({ imbalanceDepth: 0.001 });
 * const parts = rows.onColumns(batch); // heatmap, imbalances, closed rollups, exclusions
 * ```
 */
export class ColumnRows {
  readonly #depth: number;
  readonly #heatmap = new BinaryCopyWriter("heatmap", HEATMAP_COLUMNS);
  readonly #imbalances = new BinaryCopyWriter("imbalances", IMBALANCE_COLUMNS);
  readonly #rollupOut = ROLLUPS.map((r) =>
    new BinaryCopyWriter(r.table, HEATMAP_COLUMNS)
  );
  readonly #health = new BinaryCopyWriter("health_events", HEALTH_COLUMNS);
  /** Open rollups by `exchange \t exchange symbol`, one per {@link ROLLUPS} entry. */
  readonly #rollups = new Map<string, (Rollup | undefined)[]>();
  /** Per consolidated key, the venues (`exchange \t symbol`) its last column excluded. */
  readonly #excluded = new Map<string, Set<string>>();

  /**
   * Creates the row builder.
   * @param options the imbalance band.
   */
  constructor(options: ColumnRowsOptions = {}) {
    this.#depth = options.imbalanceDepth ?? 0.001;
  }

  /**
   * The rows one column batch adds.
   * @param c a batch of columns in tick order (sizes base currency, prices
   *   quote currency, times ms since epoch).
   * @returns one part per table with rows, in the order `heatmap`,
   *   `imbalances`, `heatmap_1m` … `heatmap_1d` (closed intervals only),
   *   `health_events`.
   * @throws {RangeError} when a column's time is not a valid date.
   */
  onColumns(c: ColumnBatch): CopyPart[] {
    const cols = decodeColumns(c);
    for (let i = 0; i < cols.length; i++) {
      const col = cols[i];
      this.#heatmapRow(this.#heatmap, col.ts, col, col.lo)
        .bytea(encodeSizes([col.bids, col.asks, col.buys, col.sells]));
      this.#imbalanceRow(col);
      this.#roll(col, c.columns[i]);
      if (col.consolidation) this.#exclusions(col);
    }
    const parts: CopyPart[] = [];
    for (const w of [this.#heatmap, this.#imbalances, ...this.#rollupOut]) {
      if (w.rows > 0) parts.push(w.take());
    }
    if (this.#health.rows > 0) parts.push(this.#health.take());
    return parts;
  }

  /**
   * Starts a heatmap-shaped row: `meta`'s names, bucket size and BBO; the
   * caller adds the sizes ({@link encodeSizes}).
   */
  #heatmapRow(
    w: BinaryCopyWriter,
    ts: number,
    meta: ColumnMeta,
    lo: number,
  ): BinaryCopyWriter {
    w.row().time(ts).text(meta.exchange).text(meta.exchangeSymbol)
      .text(meta.symbol).text(meta.market).float8(meta.bucketSize).int8(lo);
    return price(price(w, meta.bestBid), meta.bestAsk);
  }

  /** Writes the imbalance row of a column. */
  #imbalanceRow(c: Column): void {
    const { bidSize, askSize, imbalance } = imbalanceOf(c, this.#depth);
    const w = this.#imbalances.row().time(c.ts).text(c.exchange)
      .text(c.exchangeSymbol).float8(this.#depth).float8(bidSize)
      .float8(askSize);
    if (imbalance !== null) w.float8(imbalance);
    else w.null();
  }

  /** Adds a column (`meta` its header) to its open rollups, emitting those it closes. */
  #roll(c: Column, meta: ColumnMeta): void {
    const key = `${c.exchange}\t${c.exchangeSymbol}`;
    let open = this.#rollups.get(key);
    if (open === undefined) {
      open = ROLLUPS.map(() => undefined);
      this.#rollups.set(key, open);
    }
    for (let r = 0; r < ROLLUPS.length; r++) {
      const start = Math.floor(c.ts / ROLLUPS[r].ms) * ROLLUPS[r].ms;
      let acc = open[r];
      if (
        acc !== undefined &&
        (start > acc.start || c.bucketSize !== acc.bucketSize)
      ) {
        this.#emit(this.#rollupOut[r], acc);
        acc = undefined;
      }
      if (acc === undefined) {
        acc = open[r] = {
          start,
          bucketSize: c.bucketSize,
          lo: 0,
          hi: 0,
          base: 0,
          bids: new Float64Array(0),
          asks: new Float64Array(0),
          buys: new Float64Array(0),
          sells: new Float64Array(0),
          ticks: 0,
          last: meta,
        };
      }
      accumulate(acc, c, meta);
    }
  }

  /** Writes the row of a closed rollup interval. */
  #emit(w: BinaryCopyWriter, acc: Rollup): void {
    const n = Math.max(0, acc.hi - acc.lo);
    const from = acc.lo - acc.base;
    const bids = new Float64Array(n);
    const asks = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      bids[i] = acc.bids[from + i] / acc.ticks;
      asks[i] = acc.asks[from + i] / acc.ticks;
    }
    this.#heatmapRow(w, acc.start, acc.last, n > 0 ? acc.lo : 0)
      .bytea(encodeSizes([
        bids,
        asks,
        acc.buys.subarray(from, from + n),
        acc.sells.subarray(from, from + n),
      ]));
  }

  /** Writes an `excluded` health event per venue newly excluded from a key. */
  #exclusions(c: Column): void {
    const before = this.#excluded.get(c.exchangeSymbol);
    const now = new Set<string>();
    for (const e of c.consolidation!.excluded) {
      const id = `${e.exchange}\t${e.exchangeSymbol}`;
      now.add(id);
      if (before?.has(id)) continue;
      this.#health.row().time(c.ts).text(e.exchange).text("").text("excluded")
        .text(e.exchangeSymbol).text(e.reason);
    }
    this.#excluded.set(c.exchangeSymbol, now);
  }
}

/**
 * Adds one column to a rollup: widens the union of bucket ranges and sums
 * the arrays.
 * @param acc the rollup.
 * @param c a column with the rollup's bucket size.
 * @param meta its header, kept as the rollup's last.
 */
function accumulate(acc: Rollup, c: Column, meta: ColumnMeta): void {
  acc.ticks++;
  acc.last = meta;
  if (c.n === 0) return;
  const empty = acc.hi <= acc.lo;
  const lo = empty ? c.lo : Math.min(acc.lo, c.lo);
  const hi = empty ? c.lo + c.n : Math.max(acc.hi, c.lo + c.n);
  if (lo < acc.base || hi > acc.base + acc.bids.length) widen(acc, lo, hi);
  acc.lo = lo;
  acc.hi = hi;
  const o = c.lo - acc.base;
  for (let i = 0; i < c.n; i++) {
    acc.bids[o + i] += c.bids[i];
    acc.asks[o + i] += c.asks[i];
    acc.buys[o + i] += c.buys[i];
    acc.sells[o + i] += c.sells[i];
  }
}

/**
 * Reallocates a rollup's arrays to hold buckets `lo .. hi - 1` with a
 * quarter of their width as slack on each side (the range drifts with the
 * mid), keeping the sums of its current range.
 * @param acc the rollup (its `lo`/`hi` still the old range).
 * @param lo new first bucket index.
 * @param hi new end bucket index (exclusive).
 */
function widen(acc: Rollup, lo: number, hi: number): void {
  const slack = (hi - lo) >> 2;
  const base = lo - slack;
  const size = hi - lo + 2 * slack;
  const from = acc.lo - acc.base;
  const to = acc.hi - acc.base;
  const move = (a: Float64Array) => {
    const b = new Float64Array(size);
    if (to > from) b.set(a.subarray(from, to), acc.lo - base);
    return b;
  };
  acc.bids = move(acc.bids);
  acc.asks = move(acc.asks);
  acc.buys = move(acc.buys);
  acc.sells = move(acc.sells);
  acc.base = base;
}
