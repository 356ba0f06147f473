/**
 * Migrations: applied in order and recorded, a re-run is a no-op, a failing
 * one commits nothing, two processes migrating at once apply each file once,
 * and the two paths build the same tables.
 */

import assert from "node:assert/strict";
import type { Db } from "./db.ts";
import { loadMigrations, migrate } from "./migrate.ts";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";
import {
  BACKENDS,
  withPgliteDb,
  withPostgresUrl,
  withTimescaleDb,
} from "./_testing.ts";

Deno.test("loadMigrations orders shared and path files by number", async () => {
  const plain = await loadMigrations(false);
  const timescale = await loadMigrations(true);
  assert.deepEqual(plain.map((m) => m.version), [
    "001",
    "plain/002",
    "plain/003",
  ]);
  assert.deepEqual(timescale.map((m) => m.version), [
    "001",
    "timescale/002",
    "timescale/003",
    "timescale/004",
  ]);
  assert.equal(plain[0].name, "ingest_batches");
  assert.match(plain[1].sql, /PARTITION BY RANGE \(ts\)/);
});

for (const [name, withDb] of BACKENDS) {
  Deno.test(`${name}: migrations are recorded once, and a re-run applies nothing`, () =>
    withDb(async (db) => {
      const want = (await loadMigrations(db.timescale)).map((m) => m.version);
      const rows = await db.query<
        { version: string; name: string; applied_at: Date }
      >("SELECT version, name, applied_at FROM coby_migrations ORDER BY version");
      assert.deepEqual(rows.map((r) => r.version), want);
      assert.ok(rows.every((r) => r.applied_at instanceof Date && r.name));
      assert.deepEqual(await migrate(db), []);
      const [again] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM coby_migrations",
      );
      assert.equal(again.n, want.length);
    }));
}

/** Column name → type of every table and view of the public schema. */
async function schema(db: Db): Promise<Record<string, string>> {
  const rows = await db.query<
    { table: string; column: string; type: string }
  >(
    `SELECT c.table_name AS table, c.column_name AS column,
       c.udt_name AS type
     FROM information_schema.columns c
     JOIN pg_class r ON r.relname = c.table_name
     JOIN pg_namespace n ON n.oid = r.relnamespace
       AND n.nspname = c.table_schema
     WHERE c.table_schema = current_schema() AND NOT r.relispartition
     ORDER BY 1, c.ordinal_position`,
  );
  return Object.fromEntries(
    rows.map((r) => [`${r.table}.${r.column}`, r.type]),
  );
}

Deno.test("the plain and the TimescaleDB path build the same tables and columns", async () => {
  let plain: Record<string, string> = {};
  let timescale: Record<string, string> = {};
  await withPgliteDb(async (db) => {
    plain = await schema(db);
  });
  await withTimescaleDb(async (db) => {
    timescale = await schema(db);
  });
  // The plain path's bookkeeping of its rollup job has no TimescaleDB twin.
  const own = Object.keys(plain).filter((k) =>
    k.startsWith("ohlcv_rollup_marks.")
  );
  assert.deepEqual(own, [
    "ohlcv_rollup_marks.target",
    "ohlcv_rollup_marks.done_until",
  ]);
  for (const k of own) delete plain[k];
  assert.deepEqual(timescale, plain);
  assert.equal(plain["heatmap_1d.lo"], "int8");
  assert.equal(plain["ohlcv_4h.trades"], "int4");
  assert.equal(plain["book_snapshots.bids"], "_float8");
  assert.equal(plain["trades.ts"], "timestamptz");
});

Deno.test("pglite: a failing migration commits nothing and stays unrecorded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "coby_sql_" });
  const db = await openPglite();
  try {
    await Deno.mkdir(`${dir}/plain`);
    await Deno.mkdir(`${dir}/timescale`);
    await Deno.writeTextFile(`${dir}/001_a.sql`, "CREATE TABLE a (x int);");
    await Deno.writeTextFile(
      `${dir}/plain/002_b.sql`,
      "CREATE TABLE b (x int);\nSELECT 1 / 0;",
    );
    const url = new URL(`file://${dir}/`);
    await assert.rejects(migrate(db, { dir: url }), (err: Error) => {
      assert.match(err.message, /^Migration plain\/002 \(b\) failed: .*zero/);
      return true;
    });
    const versions = await db.query<{ version: string }>(
      "SELECT version FROM coby_migrations ORDER BY 1",
    );
    assert.deepEqual(versions.map((v) => v.version), ["001"]);
    const [tables] = await db.query<{ a: string | null; b: string | null }>(
      "SELECT to_regclass('a')::text AS a, to_regclass('b')::text AS b",
    );
    assert.deepEqual(tables, { a: "a", b: null });

    // Fixed, it applies; the rest stays done.
    await Deno.writeTextFile(
      `${dir}/plain/002_b.sql`,
      "CREATE TABLE b (x int);",
    );
    assert.deepEqual(await migrate(db, { dir: url }), ["plain/002"]);
    assert.deepEqual(await migrate(db, { dir: url }), []);

    // A file not named NNN_name.sql is refused.
    await Deno.writeTextFile(`${dir}/plain/3_c.sql`, "SELECT 1;");
    await assert.rejects(
      migrate(db, { dir: url }),
      /Invalid migration file name: plain\/3_c.sql/,
    );
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pglite: a database migrated for the plain path is refused on the TimescaleDB path", () =>
  withPgliteDb(async (db) => {
    await assert.rejects(
      migrate({ ...db, timescale: true }),
      /migrated for the plain path \(plain\/002\) but TimescaleDB is present now/,
    );
  }));

Deno.test("postgres: two processes migrating one database at once apply each file once", () =>
  withPostgresUrl(async (url) => {
    const a = await openPostgres(url);
    const b = await openPostgres(url);
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      const all = (await loadMigrations(false)).map((m) => m.version);
      assert.deepEqual([...ra, ...rb].sort(), all);
      const rows = await a.query<{ version: string }>(
        "SELECT version FROM coby_migrations ORDER BY 1",
      );
      assert.deepEqual(rows.map((r) => r.version), all);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }));

Deno.test("timescale fork: the policies take the configured ages", async () => {
  const db = await openPglite({ timescale: true });
  try {
    await migrate(db, {
      retentionMs: 7 * 86_400_000,
      compressAfterMs: 7_200_000,
    });
    const jobs = await db.query<
      { proc: string; n: number; age: string }
    >(
      `SELECT proc_name AS proc, count(*)::int AS n,
         min(coalesce(config->>'drop_after', config->>'compress_after')) AS age
       FROM timescaledb_information.jobs
       WHERE proc_name IN ('policy_retention', 'policy_compression')
       GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(jobs, [
      { proc: "policy_compression", n: 12, age: "02:00:00" },
      { proc: "policy_retention", n: 18, age: "168:00:00" },
    ]);
    await assert.rejects(
      migrate(db, { retentionMs: -1 }),
      RangeError,
    );
  } finally {
    await db.close();
  }
});
