/**
 * The `Db` contract on every backend coby runs on: PostgreSQL, PGlite, and
 * the TimescaleDB fork of PGlite (the TimescaleDB path). Write batches COPY
 * every table, a repeated id writes nothing, a failed batch commits nothing.
 */

import assert from "node:assert/strict";
import { decodeSizes } from "./sizes.ts";
import type { Db } from "./db.ts";
import { ensurePartitions } from "./maintain.ts";
import { openDb } from "./open.ts";
import { BACKENDS, sampleParts } from "./_testing.ts";

const DAY = Date.UTC(2026, 0, 15);

/** Row count of each table, by name. */
async function counts(
  db: Db,
  tables: readonly string[],
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${t}`,
    );
    out[t] = row.n;
  }
  return out;
}

const TABLES = sampleParts(DAY).map((p) => p.table);

for (const [name, withDb] of BACKENDS) {
  Deno.test(`${name}: openDb picks the engine and the path`, () =>
    withDb(async (db) => {
      assert.equal(db.kind, name === "postgres" ? "postgres" : "pglite");
      const [ext] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'",
      );
      assert.equal(db.timescale, ext.n === 1);
      assert.equal(db.timescale, name === "timescale fork");
    }));

  Deno.test(`${name}: writeBatch COPYs every table, once per id`, () =>
    withDb(async (db) => {
      await ensurePartitions(db, DAY, DAY);
      const parts = sampleParts(DAY);
      const zero = Object.fromEntries(TABLES.map((t) => [t, 0]));
      assert.deepEqual(await counts(db, TABLES), zero);

      assert.equal(await db.writeBatch("batch-1", parts), true);
      const once = Object.fromEntries(parts.map((p) => [p.table, p.rows]));
      assert.deepEqual(await counts(db, TABLES), once);

      assert.equal(await db.writeBatch("batch-1", parts), false);
      assert.deepEqual(await counts(db, TABLES), once);

      assert.equal(await db.writeBatch("batch-2", parts), true);
      const twice = Object.fromEntries(parts.map((p) => [p.table, 2 * p.rows]));
      assert.deepEqual(await counts(db, TABLES), twice);
      const ids = await db.query<{ id: string }>(
        "SELECT id FROM ingest_batches ORDER BY id",
      );
      assert.deepEqual(ids.map((r) => r.id), ["batch-1", "batch-2"]);
    }));

  Deno.test(`${name}: COPY text reads back as the values written`, () =>
    withDb(async (db) => {
      await ensurePartitions(db, DAY, DAY);
      await db.writeBatch("b", sampleParts(DAY));
      const trades = await db.query(
        `SELECT ts, exchange_ts, exchange, symbol, price, size, raw_size, side
         FROM trades ORDER BY ts`,
      );
      assert.deepEqual(trades[1], {
        ts: new Date(DAY + 1500),
        exchange_ts: null,
        exchange: "coinbase",
        symbol: "BTC-USD",
        price: 60001,
        size: 1e-8,
        raw_size: null,
        side: "sell",
      });
      assert.deepEqual(trades[0].exchange_ts, new Date(DAY + 990));
      const [book] = await db.query(
        "SELECT seq, bids, asks FROM book_changes ORDER BY ts, seq LIMIT 1",
      );
      assert.deepEqual(book, {
        seq: 0,
        bids: [60000, 1.5, 59999, 0],
        asks: [],
      });
      const [heat] = await db.query<{ sizes: Uint8Array }>(
        `SELECT lo, bucket_size, sizes, best_bid FROM heatmap
         ORDER BY ts LIMIT 1`,
      );
      assert.deepEqual({ ...heat, sizes: decodeSizes(heat.sizes) }, {
        lo: 6000,
        bucket_size: 10,
        sizes: {
          bids: [1.5, 0, 2.25],
          asks: [0.5, 3, 0],
          buys: [0, 0.1, 0],
          sells: [0, 0, 0],
        },
        best_bid: 60005,
      });
      const events = await db.query<{ detail: string | null }>(
        "SELECT detail FROM health_events ORDER BY ts",
      );
      assert.deepEqual(events.map((e) => e.detail), [null, "gap\t7 → 9"]);
      const [imb] = await db.query(
        "SELECT imbalance FROM imbalances WHERE exchange = 'kraken'",
      );
      assert.deepEqual(imb, { imbalance: null });
    }));

  Deno.test(`${name}: a failed batch commits nothing, not even its id`, () =>
    withDb(async (db) => {
      await ensurePartitions(db, DAY, DAY);
      const good = sampleParts(DAY);
      const bad = {
        ...good[0],
        text: good[0].text + `${new Date(DAY).toISOString()}\t\\N\tx\ty\t` +
          "not-a-number\t1\t1\tbuy\n",
        rows: good[0].rows + 1,
      };
      // The bad part comes last: every part before it was COPYed already.
      await assert.rejects(
        db.writeBatch("batch-x", [...good.slice(1), bad]),
        /not-a-number|invalid input syntax/,
      );
      const zero = Object.fromEntries(TABLES.map((t) => [t, 0]));
      assert.deepEqual(await counts(db, TABLES), zero);
      const [ids] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM ingest_batches",
      );
      assert.equal(ids.n, 0);
      // The same id with good rows is written: the failure left no trace.
      assert.equal(await db.writeBatch("batch-x", good), true);
      assert.equal((await counts(db, ["trades"])).trades, good[0].rows);
    }));

  Deno.test(`${name}: an empty batch records its id only`, () =>
    withDb(async (db) => {
      assert.equal(await db.writeBatch("empty", []), true);
      assert.equal(await db.writeBatch("empty", []), false);
      const ids = await db.query("SELECT id FROM ingest_batches");
      assert.deepEqual(ids, [{ id: "empty" }]);
    }));

  Deno.test(`${name}: a part naming a bad identifier is refused before any write`, () =>
    withDb(async (db) => {
      const part = { ...sampleParts(DAY)[0], table: "trades; DROP TABLE x" };
      await assert.rejects(db.writeBatch("b", [part]), TypeError);
      assert.deepEqual(await db.query("SELECT id FROM ingest_batches"), []);
    }));
}

Deno.test("openDb refuses a URL that is not postgres://, naming only its scheme", async () => {
  await assert.rejects(
    openDb({ url: "mysql://root:secret@db/coby" }),
    (err: Error) => {
      assert.ok(err instanceof TypeError);
      assert.match(err.message, /mysql:/);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    },
  );
  await assert.rejects(openDb({}), TypeError);
});
