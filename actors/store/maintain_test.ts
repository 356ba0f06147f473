/**
 * Upkeep: day partitions created ahead and dropped by retention (plain
 * path), chunks dropped by retention (TimescaleDB), and the rollup job's
 * bars equal to an independent aggregation of the 1 s rows.
 */

import assert from "node:assert/strict";
import type { CopyPart, Db } from "./db.ts";
import { applyRetention, ensurePartitions, rollup } from "./maintain.ts";
import {
  sampleParts,
  withPgliteDb,
  withPostgresDb,
  withTimescaleDb,
} from "./_testing.ts";
import { OHLCV_COLUMNS } from "./tables.ts";

const DAY_MS = 86_400_000;
const DAY = Date.UTC(2026, 0, 15);

const PLAIN: readonly [
  string,
  (fn: (db: Db) => Promise<void>) => Promise<void>,
][] = [
  ["postgres", withPostgresDb],
  ["pglite", withPgliteDb],
];

/** The day partitions of `table`, as `YYYYMMDD`, sorted. */
async function days(db: Db, table: string): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
     JOIN pg_class c ON c.oid = i.inhrelid
     JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = $1 ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.name.slice(table.length + 2));
}

async function count(db: Db, table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table}`,
  );
  return row.n;
}

/** One 1 s bar: [ts, exchange, symbol, o, h, l, c, vol, buy, sell, trades]. */
type Bar = [
  number,
  string,
  string,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

const BAR_COLUMNS = OHLCV_COLUMNS;

/**
 * 1 s bars over `seconds` from `fromMs` for two series, with gaps; volumes
 * are multiples of 1/4 so every sum is exact in any order.
 */
function secondBars(fromMs: number, seconds: number): Bar[] {
  const out: Bar[] = [];
  const series = [["binance", "BTC-USDT"], ["consolidated", "BTC-USDT"]];
  for (let i = 0; i < seconds; i++) {
    for (let s = 0; s < series.length; s++) {
      if ((i * 7 + s * 3) % 11 === 0) continue; // a second without trades
      const open = 1000 + ((i * 13 + s) % 50);
      const close = 1000 + ((i * 17 + s) % 50);
      const buy = 0.25 * ((i + s) % 5);
      const sell = 0.25 * ((i * 3 + s) % 4);
      out.push([
        fromMs + i * 1000,
        series[s][0],
        series[s][1],
        open,
        Math.max(open, close) + (i % 3),
        Math.min(open, close) - (i % 2),
        close,
        buy + sell,
        buy,
        sell,
        1 + (i % 4),
      ]);
    }
  }
  return out;
}

function barPart(bars: readonly Bar[]): CopyPart {
  return {
    table: "ohlcv_1s",
    columns: BAR_COLUMNS,
    text: bars.map((b) =>
      [new Date(b[0]).toISOString(), ...b.slice(1)].join("\t") + "\n"
    ).join(""),
    rows: bars.length,
  };
}

/** The rollup bars of `bars` at `widthMs`, for intervals ending ≤ `upTo`. */
function aggregate(bars: readonly Bar[], widthMs: number, upTo: number) {
  const groups = new Map<string, Bar[]>();
  for (const b of bars) {
    const start = Math.floor(b[0] / widthMs) * widthMs;
    if (start + widthMs > upTo) continue;
    const key = `${start}|${b[1]}|${b[2]}`;
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  return [...groups].map(([key, g]) => {
    const sorted = [...g].sort((x, y) => x[0] - y[0]);
    const [start, exchange, symbol] = key.split("|");
    return {
      ts: new Date(Number(start)),
      exchange,
      symbol,
      open: sorted[0][3],
      high: Math.max(...g.map((b) => b[4])),
      low: Math.min(...g.map((b) => b[5])),
      close: sorted[sorted.length - 1][6],
      volume: g.reduce((s, b) => s + b[7], 0),
      buy_volume: g.reduce((s, b) => s + b[8], 0),
      sell_volume: g.reduce((s, b) => s + b[9], 0),
      trades: g.reduce((s, b) => s + b[10], 0),
    };
  }).sort((x, y) =>
    x.exchange.localeCompare(y.exchange) || x.ts.getTime() - y.ts.getTime()
  );
}

async function rollupRows(db: Db, table: string) {
  return await db.query(
    `SELECT ts, exchange, symbol, open, high, low, close, volume, buy_volume,
       sell_volume, trades
     FROM ${table} ORDER BY exchange, ts`,
  );
}

const WIDTHS: readonly [string, number][] = [
  ["ohlcv_1m", 60_000],
  ["ohlcv_5m", 300_000],
  ["ohlcv_15m", 900_000],
  ["ohlcv_1h", 3_600_000],
  ["ohlcv_4h", 14_400_000],
  ["ohlcv_1d", DAY_MS],
];

for (const [name, withDb] of PLAIN) {
  Deno.test(`${name}: ensurePartitions creates each UTC day once, for every time table`, () =>
    withDb(async (db) => {
      // 3 days: the range ends inside the third.
      const created = await ensurePartitions(db, DAY + 5, DAY + 2 * DAY_MS + 1);
      const [tables] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_partitioned_table",
      );
      assert.equal(tables.n, 18);
      assert.equal(created, 3 * 18);
      assert.deepEqual(await days(db, "trades"), [
        "20260115",
        "20260116",
        "20260117",
      ]);
      assert.deepEqual(await days(db, "ohlcv_4h"), await days(db, "trades"));
      assert.equal(await ensurePartitions(db, DAY, DAY + 2 * DAY_MS), 0);
      assert.equal(await ensurePartitions(db, DAY, DAY + 3 * DAY_MS), 18);
      await assert.rejects(
        ensurePartitions(db, DAY, DAY + 400 * DAY_MS),
        RangeError,
      );
      await assert.rejects(ensurePartitions(db, DAY, DAY - 1), RangeError);
    }));

  Deno.test(`${name}: a row of a day without its partition fails its batch`, () =>
    withDb(async (db) => {
      await ensurePartitions(db, DAY, DAY);
      await assert.rejects(
        db.writeBatch("next-day", sampleParts(DAY + DAY_MS)),
        /no partition/,
      );
      assert.equal(await count(db, "ingest_batches"), 0);
    }));

  Deno.test(`${name}: applyRetention drops the day partitions that ended before now - retention`, () =>
    withDb(async (db) => {
      await ensurePartitions(db, DAY - 3 * DAY_MS, DAY);
      for (let d = -3; d <= 0; d++) {
        await db.writeBatch(`d${d}`, sampleParts(DAY + d * DAY_MS));
      }
      const perDay = sampleParts(DAY)[0].rows;
      assert.equal(await count(db, "trades"), 4 * perDay);
      // Keep 2 days, at noon: the cutoff is noon of day -2, so only day -3
      // ended before it.
      const now = DAY + DAY_MS / 2;
      assert.equal(await applyRetention(db, 2 * DAY_MS, now), 18);
      assert.deepEqual(await days(db, "trades"), [
        "20260113",
        "20260114",
        "20260115",
      ]);
      assert.equal(await count(db, "trades"), 3 * perDay);
      assert.equal(await applyRetention(db, 2 * DAY_MS, now), 0);
      // A day that ends exactly at the cutoff goes too.
      assert.equal(await applyRetention(db, 1.5 * DAY_MS, now), 18);
      assert.deepEqual(await days(db, "heatmap_1d"), ["20260114", "20260115"]);
      assert.equal(await count(db, "trades"), 2 * perDay);
      await assert.rejects(applyRetention(db, 0, now), RangeError);
    }));

  Deno.test(`${name}: rollup bars equal an independent aggregation of the 1 s rows, run after run`, () =>
    withDb(async (db) => {
      // 2.5 h of 1 s bars from 22:10, across midnight into the next day.
      const from = DAY + 22 * 3_600_000 + 10 * 60_000;
      const bars = secondBars(from, 9000);
      await ensurePartitions(db, from, from + 9000 * 1000);
      for (let i = 0; i < bars.length; i += 5000) {
        await db.writeBatch(`s${i}`, [barPart(bars.slice(i, i + 5000))]);
      }
      // Up to 23:47:30: some 1m … 1h intervals close, no 4h or 1d.
      const upTo1 = from + 97 * 60_000 + 30_000;
      assert.ok(await rollup(db, upTo1) > 0);
      for (const [table, width] of WIDTHS) {
        assert.deepEqual(
          await rollupRows(db, table),
          aggregate(bars, width, upTo1),
          table,
        );
      }
      assert.equal(await rollup(db, upTo1), 0);

      // Then past the end of the next day: everything closes.
      const upTo2 = DAY + 2 * DAY_MS;
      assert.ok(await rollup(db, upTo2) > 0);
      for (const [table, width] of WIDTHS) {
        const want = aggregate(bars, width, upTo2);
        assert.ok(want.length > 0, table);
        assert.deepEqual(await rollupRows(db, table), want, table);
      }
      const marks = await db.query<{ target: string; done_until: Date }>(
        "SELECT target, done_until FROM ohlcv_rollup_marks ORDER BY target",
      );
      assert.equal(marks.length, 6);
      assert.ok(marks.every((m) => m.done_until.getTime() === upTo2));
      assert.equal(await rollup(db, upTo2), 0);
    }));
}

Deno.test("postgres: rollup of an empty ohlcv_1s writes nothing and sets no mark", () =>
  withPostgresDb(async (db) => {
    assert.equal(await rollup(db, DAY), 0);
    assert.equal(await count(db, "ohlcv_rollup_marks"), 0);
    await assert.rejects(rollup(db, NaN), RangeError);
  }));

Deno.test("timescale fork: partitions and rollups are TimescaleDB's; retention drops whole chunks", () =>
  withTimescaleDb(async (db) => {
    assert.equal(await ensurePartitions(db, DAY, DAY + DAY_MS), 0);
    for (let d = -40; d <= 0; d += 10) {
      await db.writeBatch(`d${d}`, sampleParts(DAY + d * DAY_MS));
    }
    const perDay = sampleParts(DAY)[0].rows;
    assert.equal(await count(db, "trades"), 5 * perDay);
    assert.equal(await rollup(db, DAY + DAY_MS), 0);
    // 30 days, at noon: the chunks of day -40 (12 hypertables) ended before
    // the cutoff, noon of day -30; the continuous aggregates hold none.
    const dropped = await applyRetention(db, 30 * DAY_MS, DAY + DAY_MS / 2);
    assert.equal(dropped, 12);
    assert.equal(await count(db, "trades"), 4 * perDay);
    const [first] = await db.query<{ ts: Date }>(
      "SELECT min(ts) AS ts FROM trades",
    );
    assert.ok(first.ts.getTime() >= DAY - 30 * DAY_MS);
    assert.equal(await applyRetention(db, 30 * DAY_MS, DAY + DAY_MS / 2), 0);
  }));
