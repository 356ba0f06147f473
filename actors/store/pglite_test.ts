/**
 * The embedded driver: data survives a close and a reopen; and on the
 * TimescaleDB fork of PGlite, the TimescaleDB path works: hypertables, a
 * continuous aggregate refreshed to the right bars, `compress_chunk`, and
 * what a compressed chunk becomes across a reopen (the fork's known loss).
 */

import assert from "node:assert/strict";
import type { Db } from "./db.ts";
import { ensurePartitions } from "./maintain.ts";
import { migrate } from "./migrate.ts";
import { openDb } from "./open.ts";
import { openPglite } from "./pglite.ts";
import { sampleParts, withPgliteDb, withTimescaleDb } from "./_testing.ts";
import { OHLCV_COLUMNS, TRADE_COLUMNS } from "./tables.ts";

const DAY = Date.UTC(2026, 0, 15);
const DAY_MS = 86_400_000;

async function count(db: Db, table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table}`,
  );
  return row.n;
}

/** COPY text of `n` trades, one a second from `fromMs`. */
function trades(fromMs: number, n: number) {
  let text = "";
  for (let i = 0; i < n; i++) {
    text += `${new Date(fromMs + i * 1000).toISOString()}\t\\N\tbinance\t` +
      `BTC-USDT\t${60000 + i}\t0.5\t0.5\tbuy\n`;
  }
  return {
    table: "trades",
    columns: TRADE_COLUMNS,
    text,
    rows: n,
  };
}

Deno.test("pglite: rows and batch ids survive a close and a reopen", () =>
  withPgliteDb(async (db, dataDir) => {
    await ensurePartitions(db, DAY, DAY);
    const parts = sampleParts(DAY);
    assert.equal(await db.writeBatch("b1", parts), true);
    await db.close();

    const again = await openDb({ dataDir });
    try {
      assert.equal(again.kind, "pglite");
      assert.deepEqual(await migrate(again), []);
      assert.equal(await count(again, "trades"), parts[0].rows);
      assert.equal(await count(again, "heatmap"), parts[4].rows);
      assert.equal(await again.writeBatch("b1", parts), false);
      assert.equal(await count(again, "trades"), parts[0].rows);
    } finally {
      await again.close();
    }
    // withPgliteDb closes `db` again: closing twice is harmless.
  }));

Deno.test("pglite: close waits for the batch under way", () =>
  withPgliteDb(async (db, dataDir) => {
    await ensurePartitions(db, DAY, DAY);
    const write = db.writeBatch("late", [trades(DAY, 2000)]);
    await db.close();
    assert.equal(await write, true);
    const again = await openDb({ dataDir });
    try {
      assert.equal(await count(again, "trades"), 2000);
    } finally {
      await again.close();
    }
  }));

Deno.test("pglite: an in-memory database works without a data directory", async () => {
  const db = await openPglite();
  try {
    assert.equal(db.timescale, false);
    await migrate(db);
    assert.equal(await db.writeBatch("m", []), true);
    assert.equal(await count(db, "ingest_batches"), 1);
  } finally {
    await db.close();
  }
});

Deno.test("timescale fork: every time table is a hypertable with 1-day chunks", () =>
  withTimescaleDb(async (db) => {
    const rows = await db.query<{ name: string; interval: string }>(
      `SELECT h.hypertable_name AS name,
         d.time_interval::text AS interval
       FROM timescaledb_information.hypertables h
       JOIN timescaledb_information.dimensions d
         ON d.hypertable_name = h.hypertable_name
       WHERE h.hypertable_schema = current_schema()
       ORDER BY 1`,
    );
    assert.deepEqual(rows.map((r) => r.name), [
      "book_changes",
      "book_snapshots",
      "health_events",
      "heatmap",
      "heatmap_1d",
      "heatmap_1h",
      "heatmap_1m",
      "heatmap_5m",
      "imbalances",
      "liquidations",
      "ohlcv_1s",
      "trades",
    ]);
    assert.ok(rows.every((r) => r.interval === "1 day"), JSON.stringify(rows));
    const caggs = await db.query<{ view_name: string }>(
      `SELECT view_name FROM timescaledb_information.continuous_aggregates
       ORDER BY 1`,
    );
    assert.deepEqual(caggs.map((c) => c.view_name), [
      "ohlcv_15m",
      "ohlcv_1d",
      "ohlcv_1h",
      "ohlcv_1m",
      "ohlcv_4h",
      "ohlcv_5m",
    ]);
  }));

Deno.test("timescale fork: the ohlcv_1m continuous aggregate refreshes to the bars of the 1 s rows", () =>
  withTimescaleDb(async (db) => {
    // 150 one-second bars from 00:00:30: minutes 0, 1 and 2 (part).
    const bars: [number, number, number, number, number, number][] = [];
    let text = "";
    for (let i = 0; i < 150; i++) {
      const ts = DAY + 30_000 + i * 1000;
      const open = 100 + (i % 7);
      const close = 100 + (i % 5);
      const high = Math.max(open, close) + 1;
      const low = Math.min(open, close) - 1;
      const volume = 0.25 * (1 + (i % 4));
      bars.push([ts, open, high, low, close, volume]);
      text += `${new Date(ts).toISOString()}\tbinance\tBTC-USDT\t${open}\t` +
        `${high}\t${low}\t${close}\t${volume}\t${volume}\t0\t${1 + (i % 3)}\n`;
    }
    await db.writeBatch("bars", [{
      table: "ohlcv_1s",
      columns: OHLCV_COLUMNS,
      text,
      rows: bars.length,
    }]);
    // Materialized rows only, so the refresh is what is read.
    await db.exec(
      "ALTER MATERIALIZED VIEW ohlcv_1m SET (timescaledb.materialized_only = true)",
    );
    assert.equal(await count(db, "ohlcv_1m"), 0);
    await db.exec(
      `CALL refresh_continuous_aggregate('ohlcv_1m',
         '${new Date(DAY).toISOString()}', '${
        new Date(DAY + 180_000).toISOString()
      }')`,
    );
    const got = await db.query(
      `SELECT ts, open, high, low, close, volume, trades FROM ohlcv_1m
       ORDER BY ts`,
    );
    const want = [0, 1, 2].map((m) => {
      const inMinute = bars.filter(([ts]) =>
        Math.floor((ts - DAY) / 60_000) === m
      );
      return {
        ts: new Date(DAY + m * 60_000),
        open: inMinute[0][1],
        high: Math.max(...inMinute.map((b) => b[2])),
        low: Math.min(...inMinute.map((b) => b[3])),
        close: inMinute[inMinute.length - 1][4],
        volume: inMinute.reduce((s, b) => s + b[5], 0),
        trades: inMinute.reduce(
          (s, b) => s + 1 + (Math.round((b[0] - DAY - 30_000) / 1000) % 3),
          0,
        ),
      };
    });
    assert.deepEqual(got, want);
  }));

Deno.test("timescale fork: compress_chunk keeps the rows readable; after a reopen the compressed chunk reads back empty (the fork's known loss)", () =>
  withTimescaleDb(async (db, dataDir) => {
    const old = trades(DAY - DAY_MS, 100); // yesterday: to be compressed
    const fresh = trades(DAY, 50); // today: stays a plain chunk
    assert.equal(await db.writeBatch("t", [old, fresh]), true);
    const compressed = await db.query<{ chunk: string }>(
      `SELECT compress_chunk(c)::text AS chunk
       FROM show_chunks('trades', older_than => $1::timestamptz) c`,
      [new Date(DAY).toISOString()],
    );
    assert.equal(compressed.length, 1);
    const states = await db.query<{ compressed: boolean }>(
      `SELECT is_compressed AS compressed FROM timescaledb_information.chunks
       WHERE hypertable_name = 'trades' ORDER BY range_start`,
    );
    assert.deepEqual(states.map((s) => s.compressed), [true, false]);
    // Compressed, the rows are still all there, and right.
    assert.equal(await count(db, "trades"), 150);
    const [first] = await db.query<{ price: number }>(
      "SELECT price FROM trades ORDER BY ts LIMIT 1",
    );
    assert.equal(first.price, 60000);
    await db.close();

    const again = await openPglite({ dataDir, timescale: true });
    try {
      assert.deepEqual(await migrate(again), []);
      // The fork's known loss: after a reopen the compressed chunk is still
      // listed as compressed but reads back empty; the uncompressed
      // hypertable rows survive.
      const after = await again.query<{ compressed: boolean }>(
        `SELECT is_compressed AS compressed FROM timescaledb_information.chunks
         WHERE hypertable_name = 'trades' ORDER BY range_start`,
      );
      assert.deepEqual(after.map((s) => s.compressed), [true, false]);
      assert.equal(await count(again, "trades"), fresh.rows);
      const [day] = await again.query<{ lo: Date }>(
        "SELECT min(ts) AS lo FROM trades",
      );
      assert.deepEqual(day.lo, new Date(DAY));
      assert.equal(await again.writeBatch("t", [old, fresh]), false);
    } finally {
      await again.close();
    }
  }));
