/**
 * Test helpers: a fresh, migrated database of each kind, dropped or deleted
 * afterwards, and a few hand-written COPY rows for every table.
 *
 * PostgreSQL tests need a server at `COBY_TEST_PG_URL` (default
 * `postgres://postgres@127.0.0.1:5432/test`, trust auth) whose user may
 * create databases; each call creates its own uniquely named database.
 *
 * @module
 */

import postgres from "postgres";
import { encodeSizes } from "./sizes.ts";
import { byteaField } from "./copy.ts";
import type { CopyPart, Db } from "./db.ts";
import { migrate } from "./migrate.ts";
import { openDb } from "./open.ts";
import { openPglite } from "./pglite.ts";
import {
  BOOK_COLUMNS,
  HEALTH_COLUMNS,
  HEATMAP_COLUMNS,
  IMBALANCE_COLUMNS,
  OHLCV_COLUMNS,
  TRADE_COLUMNS,
} from "./tables.ts";

/** The server the PostgreSQL tests use (any database on it). */
export const TEST_PG_URL = Deno.env.get("COBY_TEST_PG_URL") ??
  "postgres://postgres@127.0.0.1:5432/test";

/**
 * A connection beside the driver's, for creating and dropping test databases
 * and for acting on the driver's connections (its `application_name` is
 * `coby_test`, the driver's `coby`).
 * @param url the database to connect to.
 * @returns a postgres.js client of one connection; end it with `end()`.
 *
 * @example
 * ```ts
 * const admin = adminSql();
 * await admin`SELECT 1`;
 * await admin.end();
 * ```
 */
export function adminSql(url: string = TEST_PG_URL): postgres.Sql {
  return postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: "coby_test" },
  });
}

/**
 * A new empty database on the test server, dropped after `fn`.
 * @param fn gets the database's URL.
 * @throws what `fn` throws, or the server's error.
 *
 * @example
 * ```ts
 * await withPostgresUrl(async (url) => {
 *   const db = await openPostgres(url);
 *   await db.close();
 * });
 * ```
 */
export async function withPostgresUrl(
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const name = `coby_test_${Date.now()}_${crypto.randomUUID().slice(0, 8)}`;
  const admin = adminSql();
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
    const url = new URL(TEST_PG_URL);
    url.pathname = `/${name}`;
    try {
      await fn(url.href);
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

/**
 * A fresh, migrated PostgreSQL database (through `openDb`), closed and
 * dropped after `fn`.
 * @param fn gets the database and its URL.
 * @throws what `fn` throws, or the server's error.
 *
 * @example
 * ```ts
 * Deno.test("count trades", () =>
 *   withPostgresDb(async (db) => {
 *     assert.equal((await db.query("SELECT 1 AS x"))[0].x, 1);
 *   }));
 * ```
 */
export function withPostgresDb(
  fn: (db: Db, url: string) => Promise<void>,
): Promise<void> {
  return withPostgresUrl(async (url) => {
    const db = await openDb({ url });
    try {
      await fn(db, url);
    } finally {
      await db.close();
    }
  });
}

/** A temporary directory, deleted after `fn`. */
async function withTempDir(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "coby_pglite_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A fresh, migrated PGlite database (through `openDb`) in a temporary data
 * directory, closed and deleted after `fn`.
 * @param fn gets the database and its data directory.
 * @throws what `fn` throws.
 *
 * @example
 * ```ts
 * await withPgliteDb(async (db, dataDir) => {
 *   await db.writeBatch("b1", parts);
 * });
 * ```
 */
export function withPgliteDb(
  fn: (db: Db, dataDir: string) => Promise<void>,
): Promise<void> {
  return withTempDir(async (dataDir) => {
    const db = await openDb({ dataDir });
    try {
      await fn(db, dataDir);
    } finally {
      await db.close();
    }
  });
}

/**
 * A fresh, migrated database on the TimescaleDB fork of PGlite (the
 * TimescaleDB path) in a temporary data directory, closed and deleted after
 * `fn`. Reopen the directory with `openPglite({ dataDir, timescale: true })`.
 * @param fn gets the database and its data directory.
 * @throws what `fn` throws.
 *
 * @example
 * ```ts
 * await withTimescaleDb(async (db) => {
 *   assert.ok(db.timescale);
 * });
 * ```
 */
export function withTimescaleDb(
  fn: (db: Db, dataDir: string) => Promise<void>,
): Promise<void> {
  return withTempDir(async (dataDir) => {
    const db = await openPglite({ dataDir, timescale: true });
    try {
      await migrate(db);
      await fn(db, dataDir);
    } finally {
      await db.close();
    }
  });
}

/**
 * Every backend coby runs on, by name, each as its `with…Db` helper: for
 * tests of behaviour all of them must share.
 *
 * @example
 * ```ts
 * for (const [name, withDb] of BACKENDS) {
 *   Deno.test(`${name}: …`, () => withDb(async (db) => {}));
 * }
 * ```
 */
export const BACKENDS: readonly (readonly [
  "postgres" | "pglite" | "timescale fork",
  (fn: (db: Db) => Promise<void>) => Promise<void>,
])[] = [
  ["postgres", withPostgresDb],
  ["pglite", withPgliteDb],
  ["timescale fork", withTimescaleDb],
];

/**
 * Hand-written COPY text for every table coby writes, a few rows each, all
 * within the UTC day of `dayMs` (arrays, NULLs and escapes included).
 * @param dayMs any time of the day the rows fall on, ms since the epoch.
 * @returns one part per table; `rows` is each part's line count.
 *
 * @example
 * ```ts
 * await ensurePartitions(db, day, day);
 * await db.writeBatch("b1", sampleParts(day));
 * ```
 */
export function sampleParts(dayMs: number): CopyPart[] {
  const day = Math.floor(dayMs / 86_400_000) * 86_400_000;
  const t = (ms: number) => new Date(day + ms).toISOString();
  const part = (
    table: string,
    columns: readonly string[],
    lines: string[][],
  ): CopyPart => ({
    table,
    columns,
    text: lines.map((l) => l.join("\t") + "\n").join(""),
    rows: lines.length,
  });
  // Bids, asks, buys and sells of 3 buckets, as the writer stores them.
  const sizes = byteaField(encodeSizes([
    [1.5, 0, 2.25],
    [0.5, 3, 0],
    [0, 0.1, 0],
    [0, 0, 0],
  ]));
  const heatRow = (ms: number) => [
    t(ms),
    "binance",
    "BTCUSDT",
    "BTC-USDT",
    "spot",
    "10",
    "6000",
    "60005",
    "60010",
    sizes,
  ];
  return [
    part("trades", TRADE_COLUMNS, [
      [
        t(1000),
        t(990),
        "binance",
        "BTC-USDT",
        "60000.5",
        "0.25",
        "0.25",
        "buy",
      ],
      [t(1500), "\\N", "coinbase", "BTC-USD", "60001", "1e-8", "\\N", "sell"],
      [t(2000), t(1999), "binance", "BTC-USDT", "59999.99", "3", "3", "sell"],
    ]),
    part("liquidations", TRADE_COLUMNS, [
      [
        t(3000),
        t(2990),
        "bybit",
        "BTC-USDT-PERP",
        "59000",
        "1.5",
        "1.5",
        "sell",
      ],
    ]),
    part("book_changes", BOOK_COLUMNS, [
      [
        t(1000),
        t(999),
        "binance",
        "BTC-USDT",
        "0",
        "{60000,1.5,59999,0}",
        "{}",
      ],
      [t(1000), t(999), "binance", "BTC-USDT", "1", "{}", "{60001,2}"],
    ]),
    part("book_snapshots", BOOK_COLUMNS, [
      [
        t(0),
        t(0),
        "binance",
        "BTC-USDT",
        "0",
        "{60000,1,59990,2}",
        "{60010,1}",
      ],
      [t(500), "\\N", "kraken", "BTC-USD", "0", "{}", "{}"],
    ]),
    part("heatmap", HEATMAP_COLUMNS, [heatRow(1000), heatRow(2000)]),
    part("heatmap_1m", HEATMAP_COLUMNS, [heatRow(60_000)]),
    part("heatmap_5m", HEATMAP_COLUMNS, [heatRow(300_000)]),
    part("heatmap_1h", HEATMAP_COLUMNS, [heatRow(3_600_000)]),
    part("heatmap_1d", HEATMAP_COLUMNS, [heatRow(0)]),
    part("ohlcv_1s", OHLCV_COLUMNS, [
      [
        t(1000),
        "binance",
        "BTC-USDT",
        "60000",
        "60010",
        "59990",
        "60005",
        "2.5",
        "1.5",
        "1",
        "7",
      ],
      [
        t(1000),
        "consolidated",
        "BTC-USDT",
        "60000",
        "60010",
        "59990",
        "60005",
        "2.5",
        "1.5",
        "1",
        "7",
      ],
    ]),
    part("imbalances", IMBALANCE_COLUMNS, [
      [t(1000), "binance", "BTC-USDT", "0.01", "12.5", "7.5", "0.25"],
      [t(1000), "kraken", "BTC-USD", "0.01", "0", "0", "\\N"],
    ]),
    part("health_events", HEALTH_COLUMNS, [
      [t(0), "binance", "binance:0", "connect", "\\N", "\\N"],
      [t(100), "binance", "binance:0", "resync", "BTC-USDT", "gap\\t7 → 9"],
    ]),
  ];
}
