/**
 * The PostgreSQL driver when the connection goes: a terminated backend makes
 * the call in flight reject (never hang), the batch is committed whole or not
 * at all, and the next call reconnects. Also: a server that cannot be reached
 * or never answers fails the open within the connect timeout.
 */

import assert from "node:assert/strict";
import type { Db } from "./db.ts";
import { ensurePartitions } from "./maintain.ts";
import { migrate } from "./migrate.ts";
import { openPostgres } from "./postgres.ts";
import {
  adminSql,
  sampleParts,
  withPostgresDb,
  withPostgresUrl,
} from "./_testing.ts";
import { TRADE_COLUMNS } from "./tables.ts";

const DAY = Date.UTC(2026, 0, 15);

/** Rejects when `p` has not settled within `ms`: a hang fails the test. */
async function settlesWithin<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Hung for ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Terminates the backends of database `name` whose application matches. */
async function terminate(name: string, application: string): Promise<number> {
  const admin = adminSql();
  try {
    const rows = await admin`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = ${name} AND application_name LIKE ${application}`;
    return rows.length;
  } finally {
    await admin.end();
  }
}

/** Rows of the batch's trades and whether its id is recorded. */
async function stored(db: Db, id: string): Promise<[number, boolean]> {
  const [t] = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM trades",
  );
  const ids = await db.query("SELECT 1 FROM ingest_batches WHERE id = $1", [
    id,
  ]);
  return [t.n, ids.length === 1];
}

/** `fn()`'s outcome within 30 s: its value, or the error it rejected with. */
async function outcome<T>(fn: () => Promise<T>): Promise<T | Error> {
  try {
    return await settlesWithin(fn(), 30_000);
  } catch (err) {
    assert.doesNotMatch(String(err), /Hung/);
    return err as Error;
  }
}

Deno.test("postgres: the writer's backend terminated while idle: the next writeBatch rejects or reconnects, whole or nothing", () =>
  withPostgresDb(async (db, url) => {
    const name = new URL(url).pathname.slice(1);
    await ensurePartitions(db, DAY, DAY);
    const parts = sampleParts(DAY);
    const rows = parts[0].rows;
    assert.equal(await db.writeBatch("before", parts), true);
    assert.equal(await terminate(name, "coby_writer"), 1);

    const first = await outcome(() => db.writeBatch("after", parts));
    const written = first === true;
    if (!written) assert.ok(first instanceof Error, String(first));
    assert.deepEqual(await stored(db, "after"), [
      written ? 2 * rows : rows,
      written,
    ]);
    // Either way the driver is connected again and writes.
    assert.equal(await db.writeBatch("after", parts), !written);
    assert.deepEqual(await stored(db, "after"), [2 * rows, true]);
  }));

Deno.test("postgres: every backend terminated: calls settle, and the next ones succeed", () =>
  withPostgresDb(async (db, url) => {
    const name = new URL(url).pathname.slice(1);
    await ensurePartitions(db, DAY, DAY);
    const parts = sampleParts(DAY);
    assert.equal(await db.writeBatch("a", parts), true);
    assert.equal(await terminate(name, "coby%"), 2);
    // In flight at once, right after the kill: each settles either way.
    const [w, q] = await Promise.all([
      outcome(() => db.writeBatch("b", parts)),
      outcome(() => db.query("SELECT 1 AS one")),
    ]);
    assert.ok(w === true || w instanceof Error);
    assert.ok(Array.isArray(q) || q instanceof Error);
    // The calls after them run on new connections.
    assert.deepEqual(await db.query("SELECT 1 AS one"), [{ one: 1 }]);
    assert.equal(await db.writeBatch("b", parts), w !== true);
    assert.deepEqual(await stored(db, "b"), [2 * parts[0].rows, true]);
  }));

Deno.test("postgres: a backend terminated inside a batch's COPY rejects the batch, which commits nothing", () =>
  withPostgresDb(async (db, url) => {
    const name = new URL(url).pathname.slice(1);
    await ensurePartitions(db, DAY, DAY);
    const parts = sampleParts(DAY);
    const admin = adminSql(url);
    try {
      // Hold a lock the COPY into trades waits for, so the batch is caught
      // inside its transaction (its id inserted, its COPY started). The only
      // lock the writer can wait on is this one; pg_stat_activity may still
      // show the pipelined BEGIN as its query, so the text is not matched.
      let batch: Promise<boolean> | undefined;
      await admin.begin(async (tx) => {
        await tx`LOCK TABLE trades IN ACCESS EXCLUSIVE MODE`;
        batch = db.writeBatch("doomed", parts);
        batch.catch(() => {});
        let waiting: { pid: number }[] = [];
        for (let i = 0; i < 500 && waiting.length === 0; i++) {
          await new Promise((r) => setTimeout(r, 20));
          waiting = await tx<{ pid: number }[]>`
            SELECT pid FROM pg_stat_activity
            WHERE datname = ${name} AND application_name = 'coby_writer'
              AND wait_event_type = 'Lock'`;
        }
        if (waiting.length === 0) {
          const seen = await tx`
            SELECT application_name, state, wait_event_type, query
            FROM pg_stat_activity WHERE datname = ${name}`;
          const settled = await Promise.race([
            batch.then((v) => `resolved ${v}`, (e) => `rejected ${e}`),
            new Promise((r) => setTimeout(() => r("pending"), 100)),
          ]);
          assert.fail(
            `The batch never reached its COPY (${settled}): ${
              JSON.stringify(seen)
            }`,
          );
        }
        await tx`SELECT pg_terminate_backend(${waiting[0].pid})`;
      });
      const result = await outcome(() => batch!);
      assert.ok(result instanceof Error, `resolved ${result}`);
    } finally {
      await admin.end();
    }
    assert.deepEqual(await stored(db, "doomed"), [0, false]);
    // Retried, the same batch is written whole.
    assert.equal(await db.writeBatch("doomed", parts), true);
    assert.deepEqual(await stored(db, "doomed"), [parts[0].rows, true]);
  }));

Deno.test("postgres: a backend terminated while a big COPY streams: whole or nothing, and no crash", () =>
  withPostgresDb(async (db, url) => {
    const name = new URL(url).pathname.slice(1);
    await ensurePartitions(db, DAY, DAY);
    const n = 300_000;
    let text = "";
    for (let i = 0; i < n; i++) {
      text += `${new Date(DAY + (i % 86_400_000)).toISOString()}\t\\N\t` +
        `binance\tBTC-USDT\t${60000 + (i % 100)}\t0.5\t0.5\tbuy\n`;
    }
    const part = {
      table: "trades",
      columns: TRADE_COLUMNS,
      text,
      rows: n,
    };
    const batch = outcome(() => db.writeBatch("big", [part]));
    const admin = adminSql(url);
    try {
      for (let i = 0; i < 500; i++) {
        const [row] = await admin<{ n: number }[]>`
          SELECT count(pg_terminate_backend(pid))::int AS n
          FROM pg_stat_activity
          WHERE datname = ${name} AND application_name = 'coby_writer'
            AND query LIKE 'COPY%' AND state = 'active'`;
        if (row.n > 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await admin.end();
    }
    const result = await batch;
    assert.ok(result === true || result instanceof Error);
    const [count, recorded] = await stored(db, "big");
    assert.deepEqual(
      [count, recorded],
      result === true ? [n, true] : [0, false],
    );
  }));

Deno.test("postgres: a batch stuck past writeTimeoutS rejects, commits nothing, and the next one is written", () =>
  withPostgresUrl(async (url) => {
    const db = await openPostgres(url, { writeTimeoutS: 1 });
    const admin = adminSql(url);
    try {
      await migrate(db);
      await ensurePartitions(db, DAY, DAY);
      const parts = sampleParts(DAY);
      await admin.begin(async (tx) => {
        await tx`LOCK TABLE trades IN ACCESS EXCLUSIVE MODE`;
        const result = await outcome(() => db.writeBatch("stuck", parts));
        assert.ok(result instanceof Error, `resolved ${result}`);
        assert.equal(
          (result as Error & { code?: string }).code,
          "WRITE_TIMEOUT",
        );
        assert.match(result.message, /stuck timed out after 1000 ms/);
      });
      assert.deepEqual(await stored(db, "stuck"), [0, false]);
      assert.equal(await db.writeBatch("stuck", parts), true);
      assert.deepEqual(await stored(db, "stuck"), [parts[0].rows, true]);
    } finally {
      await admin.end();
      await db.close();
    }
  }));

Deno.test("postgres: an unreachable server fails the open, a silent one within the connect timeout", async () => {
  // Nothing listens on the port of a listener just closed.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const freePort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await assert.rejects(
    settlesWithin(
      openPostgres(`postgres://postgres@127.0.0.1:${freePort}/x`, {
        connectTimeoutS: 2,
      }),
      30_000,
    ),
    (err: Error) => !/Hung/.test(err.message),
  );

  // A listener that accepts and never answers the startup message.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of silent) conns.push(c);
  })();
  const port = (silent.addr as Deno.NetAddr).port;
  try {
    await assert.rejects(
      settlesWithin(
        openPostgres(`postgres://postgres@127.0.0.1:${port}/x`, {
          connectTimeoutS: 1,
        }),
        30_000,
      ),
      /CONNECT_TIMEOUT|timeout/i,
    );
  } finally {
    silent.close();
    for (const c of conns) c.close();
    await accepting;
  }
});

Deno.test("postgres: int8 reads as a number, past 2^53 as a bigint; TimescaleDB follows the server", () =>
  withPostgresDb(async (db) => {
    const [row] = await db.query<{ n: unknown; big: unknown }>(
      "SELECT count(*) AS n, 9007199254740993::int8 AS big FROM coby_migrations",
    );
    assert.equal(typeof row.n, "number");
    assert.equal(row.big, 9007199254740993n);
    const [ext] = await db.query<{ n: number }>(
      "SELECT count(*) AS n FROM pg_extension WHERE extname = 'timescaledb'",
    );
    assert.equal(db.timescale, ext.n === 1);
  }));
