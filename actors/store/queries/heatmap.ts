/**
 * Heatmap columns as recorded, from `heatmap` (one column per tick) or a
 * rollup `heatmap_<res>`, in the JSON shape the live SSE stream sends
 * (`ColumnPayload` of `actors/system/hub.ts`, rebuilt here by the same
 * rules since this layer cannot import it).
 *
 * @module
 */

import {
  bucketOf,
  type ConsolidationInfo,
  type LiquidationBucket,
  mergeLiquidations,
} from "../../market/heatmap.ts";
import { decodeSizes } from "../sizes.ts";
import type { Db } from "../db.ts";
import {
  checkRange,
  historyError,
  iso,
  msSql,
  type RangeParams,
  select,
  type Series,
  SERIES_SQL,
  seriesOf,
  seriesParam,
} from "./_common.ts";

/** Stored heatmap resolutions, finest first: every tick, then rollups. */
export type StoredResolution = "tick" | "1m" | "5m" | "1h" | "1d";

/** A resolution to ask for: a stored one, or `auto` to let the range pick. */
export type HeatmapResolution = StoredResolution | "auto";

/**
 * The most columns one heatmap query returns: a column holds four arrays of
 * up to ~10 000 buckets, so far fewer fit in an answer than rows of the
 * other tables.
 */
export const MAX_HEATMAP_LIMIT = 2000;

/** Every {@link StoredResolution}, finest first. */
export const RESOLUTIONS: readonly StoredResolution[] = [
  "tick",
  "1m",
  "5m",
  "1h",
  "1d",
];

/** The table of each resolution (whitelisted: it is inlined). */
const TABLE: Readonly<Record<StoredResolution, string>> = {
  tick: "heatmap",
  "1m": "heatmap_1m",
  "5m": "heatmap_5m",
  "1h": "heatmap_1h",
  "1d": "heatmap_1d",
};

/**
 * One heatmap column, exactly as the SSE stream's `column` event carries it
 * (`ColumnPayload`). Bucket `i` covers prices `[(lo + i) · bucketSize,
 * (lo + i + 1) · bucketSize)` in quote currency; sizes in base currency,
 * rounded to 6 significant digits as the stream rounds them. A rollup
 * column holds the mean resting size per bucket over its interval, the
 * summed buys and sells, and the last BBO.
 */
export interface HistoryColumn {
  /** Tick time (a rollup: interval start), ms since epoch. */
  ts: number;
  /** Consolidation key, e.g. `BTC-USDT`. */
  symbol: string;
  /** Quote currency per bucket. */
  bucketSize: number;
  /** Index of the first bucket. */
  lo: number;
  /** Resting bid size per bucket. */
  bids: number[];
  /** Resting ask size per bucket. */
  asks: number[];
  /** Taker buy volume per bucket. */
  buys: number[];
  /** Taker sell volume per bucket. */
  sells: number[];
  /** Best bid, quote currency; null when there was none. */
  bestBid: number | null;
  /** Best ask, quote currency; null when there was none. */
  bestAsk: number | null;
  /** Midpoint of the BBO, else the one side known; null when neither. */
  mid: number | null;
  /**
   * The column's exchange, as the stream names a column without merged
   * parts: `["binance"]`, or `["consolidated"]` for a consolidated column
   * (the venues merged into it are not stored).
   */
  exchanges: string[];
  /** How it was consolidated: not stored, always null. */
  consolidation: ConsolidationInfo | null;
  /**
   * Liquidations in the column's interval and buckets, from the
   * `liquidations` table (a consolidated column: of every venue stored
   * under its key), as the stream carries them: absolute bucket index,
   * longs (forced sells) and shorts (forced buys) in base currency,
   * ascending by bucket; empty when none.
   */
  liquidations: LiquidationBucket[];
}

/** Parameters of {@link heatmap}. */
export interface HeatmapParams extends RangeParams {
  /**
   * `tick`, a rollup, or `auto`: the finest stored resolution with at most
   * `limit` columns in the range.
   * @default "auto"
   */
  resolution?: HeatmapResolution;
}

/** What {@link heatmap} answers. */
export interface HeatmapResult {
  /** The resolution the columns come from (what `auto` picked). */
  resolution: StoredResolution;
  /** The columns, oldest first (then by exchange). */
  columns: HistoryColumn[];
}

/**
 * A column's header as the query returns it (JSON): ts (ms), exchange,
 * symbol, bucket size, lo, best bid, best ask (null for NULL, a string for
 * NaN) and the byte length of its sizes.
 */
type ColumnHead = [
  number,
  string,
  string,
  number,
  number,
  number | string | null,
  number | string | null,
  number,
];

/**
 * A row of the column query: the headers of up to {@link CHUNK} columns
 * and their sizes one after another, as hex text.
 */
interface ChunkRow {
  /** JSON array of {@link ColumnHead}s. */
  heads: string;
  /** The columns' `sizes`, concatenated, hex. */
  sizes: string;
}

/**
 * Columns per row of the column query. Drivers parse a `bytea` field from
 * its hex text in JavaScript (PGlite at about 5 MB/s, postgres.js at about
 * 100 MB/s) and spend a fixed cost per row, so the query sends few rows,
 * each with many columns' sizes in one hex text that `Uint8Array.fromHex`
 * decodes natively (base64 is smaller but PostgreSQL encodes it slower).
 */
const CHUNK = 100;

/** The FROM and WHERE of a column query: `$1` series, `$2`/`$3` range. */
function fromWhere(res: StoredResolution): string {
  return `FROM ${TABLE[res]} h JOIN ${SERIES_SQL}
    ON h.exchange = k.exchange AND h.symbol = k.symbol
    WHERE h.ts >= $2::timestamptz AND h.ts < $3::timestamptz`;
}

/**
 * How many columns a resolution has in the range, counting at most
 * `limit + 1`.
 */
async function count(
  db: Db,
  res: StoredResolution,
  params: readonly unknown[],
  limit: number,
): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::float8 AS n
     FROM (SELECT 1 ${fromWhere(res)} LIMIT $4::int) c`,
    [...params, limit + 1],
  );
  return row.n;
}

/**
 * The resolution `auto` answers with: the finest with at least one and at
 * most `limit` columns; when every one has more, the coarsest with any;
 * `tick` when none has any.
 */
async function pick(
  db: Db,
  params: readonly unknown[],
  limit: number,
): Promise<StoredResolution> {
  let withAny: StoredResolution | null = null;
  for (const res of RESOLUTIONS) {
    const n = await count(db, res, params, limit);
    if (n > 0 && n <= limit) return res;
    if (n > 0) withAny = res;
  }
  return withAny ?? "tick";
}

/** A stored price as the stream's: null for none (NULL, or NaN sent as a JSON string). */
function price(v: number | string | null): number | null {
  return typeof v === "number" ? v : null;
}

/**
 * A column in the stream's shape. The sizes were stored rounded as the
 * stream rounds them (6 significant digits), so they decode to the
 * stream's values.
 * @param h the header.
 * @param sizes its sizes.
 * @returns the column.
 */
function toColumn(h: ColumnHead, sizes: Uint8Array): HistoryColumn {
  const bestBid = price(h[5]);
  const bestAsk = price(h[6]);
  const { bids, asks, buys, sells } = decodeSizes(sizes);
  return {
    ts: h[0],
    symbol: h[2],
    bucketSize: h[3],
    lo: h[4],
    bids,
    asks,
    buys,
    sells,
    bestBid,
    bestAsk,
    mid: bestBid !== null && bestAsk !== null
      ? (bestBid + bestAsk) / 2
      : bestBid ?? bestAsk,
    exchanges: [h[1]],
    consolidation: null,
    liquidations: [],
  };
}

/** Length of a rollup's interval, ms; a tick column's is its series' spacing. */
const INTERVAL_MS: Readonly<Record<Exclude<StoredResolution, "tick">, number>> =
  {
    "1m": 60_000,
    "5m": 300_000,
    "1h": 3_600_000,
    "1d": 86_400_000,
  };

/** A stored liquidation as {@link attachLiquidations} reads it. */
interface LiquidationRow {
  /** ms since epoch. */
  ts: number;
  /** Exchange id. */
  exchange: string;
  /** Quote currency. */
  price: number;
  /** Base currency. */
  size: number;
  /** The liquidation order's side: `sell` liquidates a long. */
  side: string;
}

/**
 * Fills each column's `liquidations` from the `liquidations` table. A tick
 * column (stamped at its tick's end) takes those in the tick before it, its
 * length the spacing of its series' columns; a rollup column those in its
 * interval. A venue's liquidations are stored under its own symbol, so the
 * venues of the key come from the per-venue heatmap rows in the range.
 */
async function attachLiquidations(
  db: Db,
  res: StoredResolution,
  series: readonly Series[],
  from: number,
  to: number,
  columns: HistoryColumn[],
): Promise<void> {
  if (columns.length === 0) return;
  const byExchange = new Map<string, HistoryColumn[]>();
  for (const c of columns) {
    const list = byExchange.get(c.exchanges[0]);
    if (list) list.push(c);
    else byExchange.set(c.exchanges[0], [c]);
  }
  const spans = new Map<HistoryColumn, number>();
  let pad = 0;
  for (const list of byExchange.values()) {
    for (let i = 0; i < list.length; i++) {
      const span = res === "tick"
        ? (i > 0
          ? list[i].ts - list[i - 1].ts
          : list.length > 1
          ? list[1].ts - list[0].ts
          : 1000)
        : INTERVAL_MS[res];
      spans.set(list[i], span);
      if (span > pad) pad = span;
    }
  }
  const consolidated = series.some((s) => s.exchange === "consolidated");
  const rows = await select<LiquidationRow>(
    db,
    `WITH v AS (
       SELECT DISTINCT h.exchange, h.exchange_symbol FROM heatmap h
       WHERE h.symbol = $1 AND h.exchange <> 'consolidated'
         AND ($2::boolean OR h.exchange = ANY(string_to_array($3, ',')))
         AND h.ts >= $4::timestamptz AND h.ts < $5::timestamptz
     )
     SELECT ${msSql("l.ts")} AS ts, l.exchange, l.price, l.size, l.side
     FROM liquidations l JOIN v
       ON l.exchange = v.exchange AND l.symbol = v.exchange_symbol
     WHERE l.ts >= $4::timestamptz AND l.ts < $5::timestamptz
     ORDER BY l.ts`,
    [
      series[0].symbol,
      consolidated,
      series.map((s) => s.exchange).join(","),
      iso(from - pad),
      iso(to + pad),
    ],
  );
  if (rows.length === 0) return;
  for (const [exchange, list] of byExchange) {
    const mine = exchange === "consolidated"
      ? rows
      : rows.filter((r) => r.exchange === exchange);
    for (const c of list) {
      const span = spans.get(c)!;
      const [t0, t1] = res === "tick"
        ? [c.ts - span, c.ts]
        : [c.ts, c.ts + span];
      const found: LiquidationBucket[] = [];
      // `mine` is in time order: from the first at or after t0, until t1.
      let i = 0, hi = mine.length;
      while (i < hi) {
        const m = (i + hi) >>> 1;
        if (mine[m].ts < t0) i = m + 1;
        else hi = m;
      }
      for (; i < mine.length && mine[i].ts < t1; i++) {
        const r = mine[i];
        const long = r.side === "sell";
        found.push({
          bucket: bucketOf(r.price, c.bucketSize),
          longs: long ? r.size : 0,
          shorts: long ? 0 : r.size,
        });
      }
      const merged = mergeLiquidations([found], c.lo, c.bids.length);
      if (merged) c.liquidations = merged;
    }
  }
}

/**
 * Heatmap columns of several series at one stored resolution.
 * @param db the database.
 * @param res the resolution.
 * @param params the series (exchange × consolidation key) and the range,
 * as {@link fromWhere} takes them.
 * @param limit most columns.
 * @returns the columns, oldest first.
 */
async function columnRows(
  db: Db,
  res: StoredResolution,
  params: readonly unknown[],
  limit: number,
): Promise<HistoryColumn[]> {
  const rows = await select<ChunkRow>(
    db,
    `WITH c AS (
       SELECT row_number() OVER (ORDER BY h.ts, h.exchange) - 1 AS i,
         ${msSql("h.ts")} AS ts, h.exchange, h.symbol, h.bucket_size, h.lo,
         h.best_bid, h.best_ask, h.sizes
       ${fromWhere(res)}
       ORDER BY i
       LIMIT $4::int
     )
     SELECT json_agg(json_build_array(ts, exchange, symbol, bucket_size, lo,
         best_bid, best_ask, length(sizes)) ORDER BY i)::text AS heads,
       encode(string_agg(sizes, ''::bytea ORDER BY i), 'hex') AS sizes
     FROM c
     GROUP BY i / ${CHUNK}
     ORDER BY i / ${CHUNK}`,
    [...params, limit],
  );
  const columns: HistoryColumn[] = [];
  for (const r of rows) {
    const heads = JSON.parse(r.heads) as ColumnHead[];
    const bytes = Uint8Array.fromHex(r.sizes);
    let at = 0;
    for (const h of heads) {
      columns.push(toColumn(h, bytes.subarray(at, at += h[7])));
    }
  }
  return columns;
}

/**
 * Heatmap columns in `[from, to)` at a resolution.
 * @param db the database.
 * @param p exchanges (`consolidated` for the consolidated columns), the
 * consolidation key as `symbol` (heatmap columns are keyed by it, as the
 * live stream is), range, limit and resolution.
 * @returns the resolution used and up to `limit` columns, one per exchange
 * per tick (or interval), oldest first.
 * @throws {RequestError} `bad_request` for a bad range, limit (at most
 * {@link MAX_HEATMAP_LIMIT}) or resolution.
 * @example
 * ```ts
 * const { resolution, columns } = await heatmap(db, { exchanges: ["consolidated"], symbol: "BTC-USDT", from, to, resolution: "auto" });
 * ```
 */
export async function heatmap(
  db: Db,
  p: HeatmapParams,
): Promise<HeatmapResult> {
  const limit = checkRange(p);
  if (limit > MAX_HEATMAP_LIMIT) {
    throw historyError(
      "bad_request",
      `limit ${limit} must be at most ${MAX_HEATMAP_LIMIT} for heatmap columns`,
    );
  }
  const asked = p.resolution ?? "auto";
  if (asked !== "auto" && !RESOLUTIONS.includes(asked)) {
    throw historyError(
      "bad_request",
      `resolution ${asked} must be auto or one of ${RESOLUTIONS.join(", ")}`,
    );
  }
  const series: Series[] = seriesOf(p);
  const params = [seriesParam(series), iso(p.from), iso(p.to)];
  const resolution = asked === "auto" ? await pick(db, params, limit) : asked;
  const columns = await columnRows(db, resolution, params, limit);
  await attachLiquidations(db, resolution, series, p.from, p.to, columns);
  return { resolution, columns };
}
