/**
 * `deno task bench` (store part): how fast history is written and read.
 *
 * - Writer rows per second, sustained: synthetic Binance-like event batches
 *   (trades, and book updates of 10 levels per frame) go through the
 *   writer's hot path, `EventRows` (validation and binary COPY data) then
 *   `Db.writeBatch` (one transaction per 50 000-row batch: the batch id,
 *   then binary COPY), into the local PostgreSQL and into PGlite in a data
 *   directory; the next batch is encoded while the previous one is written.
 * - The `heatmap` query for 24 h at 1-minute resolution over a seeded 24 h
 *   rollup table (1 440 columns of 1 000 buckets).
 * - The historical `frame` query (a 5 min window) over a seeded hour of 1 s bars,
 *   trades, imbalances and book rows.
 * - Disk bytes per venue-symbol-day of heatmap columns and book changes,
 *   from an hour of 1 s columns (200 buckets a side) and book updates
 *   (10 a second, 10 levels each), scaled to a day.
 * - Replay from the store: events (book levels, trades) per second of a
 *   `StoreSource` (`actors/replay/store.ts`) advancing through the range the
 *   writer figure seeded, from its start to its end, with the history
 *   queries called in-process (in coby they run in the writer's worker,
 *   beside the replay's).
 *
 * Usage: `deno run -A bench/store.ts [rows]`, with `DATABASE_URL` to point
 * at another PostgreSQL than `postgres://postgres@127.0.0.1:5432/test`
 * (a scratch database `coby_bench` is created and dropped there).
 *
 * @module
 */

import postgres from "postgres";
import { BatchBuilder, Kind, type SymbolRef } from "../actors/market/batch.ts";
import type { Db } from "../actors/store/db.ts";
import { encodeSizes } from "../actors/store/sizes.ts";
import { BinaryCopyWriter } from "../actors/store/copy.ts";
import { ensurePartitions } from "../actors/store/maintain.ts";
import { openDb } from "../actors/store/open.ts";
import { frame, heatmap, historyHandlers } from "../actors/store/queries.ts";
import { openStoreSource, type StoreQuery } from "../actors/replay/store.ts";
import { EventRows } from "../actors/store/rows.ts";
import {
  BOOK_COLUMNS,
  HEATMAP_COLUMNS,
  IMBALANCE_COLUMNS,
  OHLCV_COLUMNS,
} from "../actors/store/tables.ts";

const ROWS = Number(Deno.args[0] ?? 2_000_000);
const BATCH_ROWS = 50_000;
const T0 = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;
const ADMIN_URL = Deno.env.get("DATABASE_URL") ??
  "postgres://postgres@127.0.0.1:5432/test";

const ref: SymbolRef = {
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  market: "spot",
  contractSize: 1,
};

/** Deterministic PRNG so every run measures the same stream. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

/**
 * Event batches of about `rows` rows: per 10 ms of event time, one trade
 * and one book update of 10 levels (a row each).
 */
function* batches(rows: number): Generator<ReturnType<BatchBuilder["take"]>> {
  const r = rng(7);
  const b = new BatchBuilder("binance");
  let mid = 60_000;
  let t = T0;
  for (let made = 0; made < rows; made += 2) {
    t += 10;
    b.clock = t;
    const s = b.symbol(ref);
    mid += (r() - 0.5) * 2;
    b.push(s, r() < 0.5 ? Kind.Buy : Kind.Sell, mid, r(), t - 3);
    for (let k = 0; k < 10; k++) {
      const bid = k < 5;
      const p = Math.round((bid ? mid - 1 - k : mid + 1 + k) * 100) / 100;
      b.push(s, bid ? Kind.Bid : Kind.Ask, p, r() < 0.2 ? 0 : r() * 3, t - 2);
    }
    if (b.length >= 5_000) yield b.take();
  }
  if (b.length) yield b.take();
}

/**
 * Writes `rows` rows through EventRows and writeBatch; rows/s. As the
 * writer engine does, the next batch is encoded while the previous one's
 * COPY is in flight (at most one batch written at a time).
 */
async function writeRate(db: Db, rows: number): Promise<number> {
  await ensurePartitions(db, T0, T0 + DAY);
  const er = new EventRows();
  let written = 0;
  let id = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  const write = async () => {
    const parts = er.take();
    await inFlight;
    inFlight = db.writeBatch(`bench:${id++}`, parts);
    for (const p of parts) written += p.rows;
  };
  const t0 = performance.now();
  for (const b of batches(rows)) {
    er.onBatch(b);
    if (er.rows >= BATCH_ROWS) await write();
  }
  await write();
  await inFlight;
  return written / ((performance.now() - t0) / 1000);
}

/**
 * Adds a column of `n` buckets a side around a random-walk mid to `w`: bids
 * below the mid, asks above (each a size from 0 to 5 with 4 decimals in
 * every bucket of its side), no trades; stored as the writer stores it
 * (`encodeSizes`).
 */
function heatmapRow(
  w: BinaryCopyWriter,
  ts: number,
  n: number,
  r: () => number,
  mid: number,
): void {
  const sizes = () => {
    const a = new Float64Array(2 * n);
    for (let i = 0; i < 2 * n; i++) a[i] = Math.round(r() * 5e4) / 1e4;
    return a;
  };
  const bids = sizes();
  const asks = sizes();
  for (let i = 0; i < n; i++) asks[i] = bids[n + i] = 0;
  const zero = new Float64Array(2 * n);
  const lo = Math.floor(mid / 10) - n;
  w.row().time(ts).text("consolidated").text("BTC-USD").text("BTC-USD")
    .text("mixed").float8(10).int8(lo).float8(mid - 5).float8(mid + 5)
    .bytea(encodeSizes([bids, asks, zero, zero]));
}

/** Seeds 24 h of 1-minute heatmap rollups; returns the median query ms. */
async function heatmapQuery(db: Db): Promise<number> {
  const r = rng(11);
  const w = new BinaryCopyWriter("heatmap_1m", HEATMAP_COLUMNS);
  let mid = 60_000;
  for (let m = 0; m < 1440; m++) {
    mid += (r() - 0.5) * 40;
    heatmapRow(w, T0 + m * 60_000, 500, r, mid);
  }
  await db.writeBatch("bench:heatmap_1m", [w.take()]);
  return median(20, () =>
    heatmap(db, {
      exchanges: ["consolidated"],
      symbol: "BTC-USD",
      from: T0,
      to: T0 + DAY,
      limit: 2000,
      resolution: "1m",
    }).then((h) => {
      if (h.columns.length !== 1440) {
        throw new Error(`heatmap gave ${h.columns.length} columns`);
      }
    }));
}

/** Seeds an hour of bars, trades, imbalances and books; returns median frame ms. */
async function frameQuery(db: Db): Promise<number> {
  const r = rng(13);
  const bars = new BinaryCopyWriter("ohlcv_1s", OHLCV_COLUMNS);
  const imb = new BinaryCopyWriter("imbalances", IMBALANCE_COLUMNS);
  let mid = 60_000;
  for (let s = 0; s < 3600; s++) {
    const ts = T0 + s * 1000;
    const o = mid;
    mid += (r() - 0.5) * 10;
    const hi = Math.max(o, mid) + 1;
    const lo = Math.min(o, mid) - 1;
    const v = r() * 3;
    for (
      const [ex, sym] of [["binance", "BTCUSDT"], ["consolidated", "BTC-USD"]]
    ) {
      bars.row().time(ts).text(ex).text(sym).float8(o).float8(hi).float8(lo)
        .float8(mid).float8(v).float8(v / 2).float8(v / 2).int4(12);
      const b = r() * 10;
      const a = r() * 10;
      imb.row().time(ts).text(ex).text(sym).float8(0.001).float8(b).float8(a)
        .float8((b - a) / (b + a));
    }
  }
  await db.writeBatch("bench:frame", [bars.take(), imb.take()]);
  const at = T0 + 1_800_000;
  return median(
    20,
    () =>
      frame(db, { symbol: "BTC-USD", at, windowMs: 300_000 }).then(() => {}),
  );
}

/** Bytes on disk per venue-symbol-day of heatmap columns and book changes. */
async function diskPerDay(db: Db): Promise<{ heatmap: number; book: number }> {
  const r = rng(17);
  const hm = new BinaryCopyWriter("heatmap", HEATMAP_COLUMNS);
  const bc = new BinaryCopyWriter("book_changes", BOOK_COLUMNS);
  let mid = 60_000;
  for (let s = 0; s < 3600; s++) {
    const ts = T0 + 2 * DAY + s * 1000;
    mid += (r() - 0.5) * 10;
    heatmapRow(hm, ts, 200, r, mid);
    for (let k = 0; k < 10; k++) {
      const t = ts + k * 100;
      const lv = (side: number) => {
        const a: number[] = [];
        for (let i = 0; i < 5; i++) {
          a.push(Math.round((mid + side * (1 + i * r() * 20)) * 100) / 100);
          a.push(r() < 0.2 ? 0 : Math.round(r() * 3e5) / 1e5);
        }
        return a;
      };
      bc.row().time(t).time(t - 2).text("binance").text("BTCUSDT").int4(0)
        .float8Array(lv(-1)).float8Array(lv(1));
    }
  }
  await ensurePartitions(db, T0 + 2 * DAY, T0 + 3 * DAY);
  await db.writeBatch("bench:disk", [hm.take(), bc.take()]);
  await db.exec("CHECKPOINT");
  // Only the day partition the hour went to (the other benches wrote
  // other days), table and indexes.
  const day = new Date(T0 + 2 * DAY).toISOString().slice(0, 10).replaceAll(
    "-",
    "",
  );
  const size = async (table: string) => {
    const [row] = await db.query<{ bytes: string }>(
      "SELECT pg_total_relation_size($1::regclass)::text AS bytes",
      [`${table}_p${day}`],
    );
    return Number(row.bytes) * 24;
  };
  return { heatmap: await size("heatmap"), book: await size("book_changes") };
}

/**
 * Replays what {@link writeRate} seeded (a trade and a 10-level book update
 * every 10 ms) through a `StoreSource` in 50 000-row pages, advancing a
 * second of event time (at most 100 000 events) per step and taking the
 * batches; events/s over the whole range, the seek included.
 */
async function replayRate(db: Db): Promise<{ rate: number; events: number }> {
  const handlers = historyHandlers(() => db);
  const query: StoreQuery = (method, params) =>
    Promise.resolve(handlers[method](params as never)) as never;
  const t0 = performance.now();
  const src = await openStoreSource(query, {
    exchanges: ["binance"],
    symbols: ["BTCUSDT"],
    from: T0,
    to: T0 + DAY,
  });
  await src.seek(src.start);
  let events = 0;
  while (src.next() < Infinity) {
    const until = src.next() + 1000;
    events += await src.advance(until, 100_000);
    src.take(until);
  }
  src.close();
  return { rate: events / ((performance.now() - t0) / 1000), events };
}

async function median(n: number, f: () => Promise<void>): Promise<number> {
  await f();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(n / 2)];
}

const fmtK = (x: number) => `${Math.round(x / 1000)}k`;
const fmtMB = (x: number) => `${(x / 1e6).toFixed(1)} MB`;

async function run(name: string, db: Db): Promise<void> {
  const cmd = "deno run -A bench/store.ts";
  const rate = await writeRate(db, ROWS);
  console.log(
    `${name.padEnd(9)} writer ${
      fmtK(rate)
    } rows/s sustained (${ROWS} rows, 50k-row batches; goal ${
      name === "postgres" ? "600k" : "400k"
    })   $ ${cmd}`,
  );
  const replay = await replayRate(db);
  console.log(
    `${name.padEnd(9)} replay from the store: ${
      fmtK(replay.rate)
    } events/s (StoreSource over the writer figure's range: ${replay.events} events, 50k-row pages; goal 500k)   $ ${cmd}`,
  );
  const hm = await heatmapQuery(db);
  console.log(
    `${name.padEnd(9)} heatmap 24 h at 1m: ${
      hm.toFixed(1)
    } ms median (goal < 50 ms; heatmap(): 1440 columns of 1000 buckets, 500 bids and 500 asks sized, fetched, decoded to the stream's shape)   $ ${cmd}`,
  );
  const fr = await frameQuery(db);
  console.log(
    `${name.padEnd(9)} frame historical, 5 min window: ${
      fr.toFixed(1)
    } ms median (goal < 50 ms)   $ ${cmd}`,
  );
  const disk = await diskPerDay(db);
  console.log(
    `${name.padEnd(9)} disk per venue-symbol-day: heatmap ${
      fmtMB(disk.heatmap)
    } (1 s columns, 200 buckets a side all sized, 3 bytes a size; partition and index, ×24 of an hour), book changes ${
      fmtMB(disk.book)
    } (10 updates/s of 10 levels)   $ ${cmd}`,
  );
}

const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
await admin.unsafe("DROP DATABASE IF EXISTS coby_bench");
await admin.unsafe("CREATE DATABASE coby_bench");
try {
  const url = new URL(ADMIN_URL);
  url.pathname = "/coby_bench";
  const pg = await openDb({ url: url.href });
  try {
    await run("postgres", pg);
  } finally {
    await pg.close();
  }
} finally {
  await admin.unsafe("DROP DATABASE IF EXISTS coby_bench");
  await admin.end();
}
const dir = await Deno.makeTempDir({ prefix: "coby-bench-" });
try {
  const lite = await openDb({ dataDir: dir });
  try {
    await run("pglite", lite);
  } finally {
    await lite.close();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
