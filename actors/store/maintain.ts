/**
 * Upkeep of the time tables: day partitions ahead of the writes, retention,
 * and the OHLCV rollup job. On the plain path (PostgreSQL, PGlite) coby does
 * these itself; with TimescaleDB chunks are created on insert, rollups are
 * continuous aggregates, and only retention has work here (`drop_chunks` by
 * the caller's clock, besides the wall-clock policies).
 *
 * Times are ms since the Unix epoch on the event clock (see
 * docs/history.md); partitions and intervals are aligned to UTC.
 *
 * @module
 */

import { ident } from "./_sql.ts";
import type { Db } from "./db.ts";

const DAY_MS = 86_400_000;

/** At most this many days of partitions per {@link ensurePartitions} call. */
const MAX_DAYS = 366;

/** Serializes partition DDL across processes (within one transaction). */
const LOCK = "SELECT pg_advisory_xact_lock(hashtext('coby_partitions'));";

/** A day partition's name: `<table>_pYYYYMMDD`. */
const PARTITION = /^(.+)_p(\d{4})(\d{2})(\d{2})$/;

/** `YYYYMMDD` of the UTC day starting at `dayMs`. */
function dayKey(dayMs: number): string {
  return new Date(dayMs).toISOString().slice(0, 10).replaceAll("-", "");
}

/** The partitioned tables of the current schema, and their partitions. */
async function partitions(
  db: Db,
): Promise<{ parents: string[]; children: Map<string, string> }> {
  const parents = await db.query<{ name: string }>(`
    SELECT c.relname AS name
    FROM pg_partitioned_table p
    JOIN pg_class c ON c.oid = p.partrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema()
    ORDER BY 1`);
  const children = await db.query<{ name: string; parent: string }>(`
    SELECT c.relname AS name, p.relname AS parent
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE p.relkind = 'p' AND n.nspname = current_schema()`);
  return {
    parents: parents.map((r) => r.name),
    children: new Map(children.map((r) => [r.name, r.parent])),
  };
}

/**
 * Creates the day partitions of every partitioned table for the UTC days that
 * `[fromMs, toMs]` touches (plain path; the writer calls it before writing
 * rows of those days). Idempotent: existing partitions are kept, and
 * concurrent callers are serialized by an advisory lock.
 *
 * @param db the database.
 * @param fromMs first time to cover, ms since the epoch.
 * @param toMs last time to cover (inclusive), ms since the epoch.
 * @returns the number of partitions created now (0 with TimescaleDB).
 * @throws {RangeError} when a time is not finite, `toMs < fromMs`, or the
 *   range touches more than 366 days.
 * @throws the driver's error.
 *
 * @example Cover the batch about to be written
 * ```ts
 * await ensurePartitions(db, firstTs, lastTs);
 * await db.writeBatch(id, parts);
 * ```
 */
export async function ensurePartitions(
  db: Db,
  fromMs: number,
  toMs: number,
): Promise<number> {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs < fromMs) {
    throw new RangeError(`Invalid partition range: ${fromMs} … ${toMs}`);
  }
  const first = Math.floor(fromMs / DAY_MS) * DAY_MS;
  const last = Math.floor(toMs / DAY_MS) * DAY_MS;
  const days = (last - first) / DAY_MS + 1;
  if (days > MAX_DAYS) {
    throw new RangeError(
      `Partition range too long: ${days} days from ${
        new Date(first).toISOString()
      }`,
    );
  }
  if (db.timescale) return 0;
  const { parents, children } = await partitions(db);
  const ddl: string[] = [];
  for (const parent of parents) {
    for (let day = first; day <= last; day += DAY_MS) {
      const name = `${parent}_p${dayKey(day)}`;
      if (children.has(name)) continue;
      const lo = new Date(day).toISOString();
      const hi = new Date(day + DAY_MS).toISOString();
      ddl.push(
        `CREATE TABLE IF NOT EXISTS ${ident(name)} PARTITION OF ${
          ident(parent)
        } FOR VALUES FROM ('${lo}') TO ('${hi}');`,
      );
    }
  }
  if (ddl.length > 0) await db.exec([LOCK, ...ddl].join("\n"));
  return ddl.length;
}

/**
 * Drops the data older than the retention: on the plain path every day
 * partition whose day ended at or before `nowMs - retentionMs`; with
 * TimescaleDB the chunks of every hypertable and continuous aggregate that
 * ended by then (`drop_chunks`; the migration's retention policies do the
 * same on the wall clock).
 *
 * @param db the database.
 * @param retentionMs how much history to keep, ms (> 0).
 * @param nowMs the present on the event clock, ms since the epoch.
 * @returns the number of partitions or chunks dropped.
 * @throws {RangeError} when `retentionMs` is not positive or a time is not
 *   finite.
 * @throws the driver's error.
 *
 * @example Keep 30 days
 * ```ts
 * await applyRetention(db, 30 * 86_400_000, Date.now());
 * ```
 */
export async function applyRetention(
  db: Db,
  retentionMs: number,
  nowMs: number,
): Promise<number> {
  if (!(retentionMs > 0) || !Number.isFinite(retentionMs + nowMs)) {
    throw new RangeError(`Invalid retention: ${retentionMs} ms at ${nowMs}`);
  }
  const cutoff = nowMs - retentionMs;
  if (db.timescale) {
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
        SELECT drop_chunks(format('%I', hypertable_name)::regclass,
          older_than => $1::timestamptz)
        FROM timescaledb_information.hypertables
        WHERE hypertable_schema = current_schema()
        UNION ALL
        SELECT drop_chunks(format('%I', view_name)::regclass,
          older_than => $1::timestamptz)
        FROM timescaledb_information.continuous_aggregates
        WHERE view_schema = current_schema()
      ) dropped`,
      [new Date(cutoff).toISOString()],
    );
    return row.n;
  }
  const { children } = await partitions(db);
  const drop: string[] = [];
  for (const name of children.keys()) {
    const m = PARTITION.exec(name);
    if (!m) continue;
    const dayEnd = Date.UTC(+m[2], +m[3] - 1, +m[4]) + DAY_MS;
    if (dayEnd <= cutoff) drop.push(`DROP TABLE IF EXISTS ${ident(name)};`);
  }
  if (drop.length > 0) await db.exec([LOCK, ...drop].join("\n"));
  return drop.length;
}

/** One OHLCV rollup level: filled from `source`, `seconds` wide. */
interface Level {
  readonly target: string;
  readonly source: string;
  readonly seconds: number;
}

/** The plain path's rollups, each from the next finer one. */
const LEVELS: readonly Level[] = [
  { target: "ohlcv_1m", source: "ohlcv_1s", seconds: 60 },
  { target: "ohlcv_5m", source: "ohlcv_1m", seconds: 300 },
  { target: "ohlcv_15m", source: "ohlcv_5m", seconds: 900 },
  { target: "ohlcv_1h", source: "ohlcv_15m", seconds: 3600 },
  { target: "ohlcv_4h", source: "ohlcv_1h", seconds: 14_400 },
  { target: "ohlcv_1d", source: "ohlcv_4h", seconds: 86_400 },
];

/**
 * One statement: the bars of `level` for `[$1, $2)` upserted, and the mark
 * moved to `$2`, atomically.
 */
function rollupStatement(level: Level): string {
  const { target, source, seconds } = level;
  return `
    WITH bars AS (
      INSERT INTO ${ident(target)} (ts, exchange, symbol, open, high, low,
        close, volume, buy_volume, sell_volume, trades)
      SELECT date_bin(interval '${seconds} seconds', ts,
          timestamptz '1970-01-01 00:00:00+00') AS bucket,
        exchange, symbol,
        (array_agg(open ORDER BY ts))[1], max(high), min(low),
        (array_agg(close ORDER BY ts DESC))[1], sum(volume),
        sum(buy_volume), sum(sell_volume), sum(trades)::int
      FROM ${ident(source)}
      WHERE ts >= $1::timestamptz AND ts < $2::timestamptz
      GROUP BY bucket, exchange, symbol
      ON CONFLICT (exchange, symbol, ts) DO UPDATE SET
        open = excluded.open, high = excluded.high, low = excluded.low,
        close = excluded.close, volume = excluded.volume,
        buy_volume = excluded.buy_volume, sell_volume = excluded.sell_volume,
        trades = excluded.trades
      RETURNING 1
    ), mark AS (
      INSERT INTO ohlcv_rollup_marks (target, done_until)
      VALUES ('${target}', $2::timestamptz)
      ON CONFLICT (target) DO UPDATE SET done_until = excluded.done_until
    )
    SELECT count(*)::int AS n FROM bars`;
}

/** Where `level` resumes: its mark, or the first source bar; null if none. */
async function resumeAt(db: Db, level: Level): Promise<number | null> {
  const [mark] = await db.query<{ at: Date }>(
    "SELECT done_until AS at FROM ohlcv_rollup_marks WHERE target = $1",
    [level.target],
  );
  if (mark) return mark.at.getTime();
  const [first] = await db.query<{ at: Date | null }>(
    `SELECT min(ts) AS at FROM ${ident(level.source)}`,
  );
  if (!first.at) return null;
  const width = level.seconds * 1000;
  return Math.floor(first.at.getTime() / width) * width;
}

/**
 * The rollup job (plain path; a no-op with TimescaleDB, where continuous
 * aggregates do it): aggregates every interval of `ohlcv_1m`, `ohlcv_5m`,
 * `ohlcv_15m`, `ohlcv_1h`, `ohlcv_4h` and `ohlcv_1d` that ends at or before
 * `upTo` and is not done yet, each from the next finer table (1m from 1s,
 * 5m from 1m, …): open of the first bar, highest high, lowest low, close of
 * the last bar, summed volumes and trade counts. A run resumes where the
 * last one stopped (`ohlcv_rollup_marks`), at most a day per statement, and
 * an upsert on (exchange, symbol, ts) makes a repeated interval harmless.
 *
 * `upTo` must be a time before which no more 1 s bars will be written: a bar
 * written later into an interval already done is not rolled up.
 *
 * @param db the database.
 * @param upTo the end of the closed intervals, ms since the epoch (event
 *   clock).
 * @returns the number of rollup bars written (inserted or updated).
 * @throws {RangeError} when `upTo` is not finite.
 * @throws the driver's error; the intervals done before it stay done.
 *
 * @example Roll up everything that closed a second ago
 * ```ts
 * await rollup(db, lastEventTs - 1000);
 * ```
 */
export async function rollup(db: Db, upTo: number): Promise<number> {
  if (!Number.isFinite(upTo)) throw new RangeError(`Invalid upTo: ${upTo}`);
  if (db.timescale) return 0;
  let written = 0;
  for (const level of LEVELS) {
    const width = level.seconds * 1000;
    const end = Math.floor(upTo / width) * width;
    const statement = rollupStatement(level);
    const step = Math.max(width, DAY_MS);
    for (let from = await resumeAt(db, level); from !== null && from < end;) {
      const to = Math.min(end, from + step);
      const [row] = await db.query<{ n: number }>(statement, [
        new Date(from).toISOString(),
        new Date(to).toISOString(),
      ]);
      written += row.n;
      from = to;
    }
  }
  return written;
}
