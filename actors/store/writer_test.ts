import assert from "node:assert/strict";
import { BatchBuilder, type EventBatch, Kind } from "../market/batch.ts";
import { openCapture } from "./_capture_feed_test.ts";
import { adminSql, withPostgresDb } from "./_testing.ts";
import { BarBuilder } from "./bars.ts";
import { readBinaryCopy, readCopyText } from "./_copytext.ts";
import type { CopyPart, Db } from "./db.ts";
import { openDb } from "./open.ts";
import { EventRows } from "./rows.ts";
import { Spool } from "./spool.ts";
import {
  connectionLost,
  type Maintenance,
  type WriteBatch,
  Writer,
} from "./writer.ts";

/** Each row of a part (binary or text) as a COPY text line, `\N` for NULL. */
function rowTexts(p: CopyPart): string[] {
  const rows = p.data
    ? readBinaryCopy(p.data, p.columns)
    : readCopyText(p.text ?? "");
  return rows.map((r) => r.map((f) => f ?? "\\N").join("\t"));
}

const T0 = Date.UTC(2024, 2, 10, 23, 59, 58);

/**
 * An in-memory database that can be taken down: while `down`, every call
 * throws; `refuse` makes it reject some batches while it answers.
 */
class FakeDb implements Db {
  readonly kind = "postgres" as const;
  readonly timescale = false;
  down = false;
  /** Commit the next write, then throw (a lost acknowledgement). */
  loseAck = 0;
  /** Delay of every write, ms. */
  delayMs = 0;
  /** Writes that never settle, from the next one on. */
  hang = 0;
  refuse: (parts: readonly CopyPart[]) => boolean = () => false;
  /** Committed batches in commit order. */
  readonly written: { id: string; parts: readonly CopyPart[] }[] = [];
  readonly ids = new Set<string>();
  attempts = 0;
  closed = false;

  query<T>(text: string): Promise<T[]> {
    if (this.down) return Promise.reject(new Error("connection refused"));
    assert.equal(text, "SELECT 1");
    return Promise.resolve([{ "?column?": 1 } as T]);
  }
  exec(): Promise<void> {
    return Promise.resolve();
  }
  async writeBatch(id: string, parts: readonly CopyPart[]): Promise<boolean> {
    this.attempts++;
    if (this.hang > 0) {
      this.hang--;
      return new Promise(() => {});
    }
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.down) throw new Error("connection refused");
    if (this.refuse(parts)) throw new Error("invalid input syntax");
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    this.written.push({ id, parts });
    if (this.loseAck > 0) {
      this.loseAck--;
      throw Object.assign(new Error("terminating connection"), {
        code: "57P01",
      });
    }
    return true;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Every committed row of `table`, in commit order. */
  lines(table: string): string[] {
    return this.written.flatMap((w) =>
      w.parts.filter((p) => p.table === table).flatMap(rowTexts)
    );
  }
}

/** Maintenance that records its calls. */
function maintenance() {
  const calls: string[] = [];
  const m: Maintenance = {
    ensurePartitions(_db, from, to) {
      calls.push(`partitions ${from} ${to}`);
      return Promise.resolve();
    },
    rollup(_db, upTo) {
      calls.push(`rollup ${upTo}`);
      return Promise.resolve();
    },
    applyRetention(_db, retention, now) {
      calls.push(`retention ${retention} ${now}`);
      return Promise.resolve();
    },
  };
  return { m, calls };
}

let seq = 0;

/** A batch of `n` trades received at `clock`, each with a unique price. */
function trades(exchange: string, clock: number, n: number): EventBatch {
  const b = new BatchBuilder(exchange);
  const s = b.symbol({
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "spot",
  });
  b.clock = clock;
  for (let i = 0; i < n; i++) {
    b.push(s, i % 2 ? Kind.Buy : Kind.Sell, 60000 + ++seq, 0.5, clock - 1);
  }
  return b.take();
}

/** Runs `fn` with a fresh spool directory, removed afterwards. */
async function withSpool(
  fn: (dir: string, spool: Spool<WriteBatch>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "coby_spool_" });
  try {
    await fn(dir, await Spool.open<WriteBatch>(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Polls `cond` every 5 ms until it holds (or 10 s pass). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(cond(), `Timed out waiting for ${what}`);
}

/** Batch counters of committed ids, in commit order. */
function counters(db: FakeDb): number[] {
  return db.written.map((w) => Number(w.id.split(":")[1]));
}

Deno.test("writer: a database that fails for a while: batches are spooled, then every row is written once, in order", () =>
  withSpool(async (dir, spool) => {
    const db = new FakeDb();
    db.down = true;
    let opens = 0;
    const states: string[] = [];
    const logs: string[] = [];
    const { m, calls } = maintenance();
    const w = new Writer({
      open: () => {
        // The first two opens fail outright.
        if (++opens <= 2) return Promise.reject(new Error("ECONNREFUSED"));
        return Promise.resolve(db);
      },
      spool,
      maintenance: m,
      flushMs: 60_000,
      retryBaseMs: 5,
      retryMaxMs: 20,
      log: (level, msg) => logs.push(`${level} ${msg}`),
      status: (state) => states.push(state),
    });
    w.start();
    let expected = 0;
    for (let i = 0; i < 20; i++) {
      w.onBatch(trades("binance", T0 + i * 150, 5), "conn:binance");
      expected += 5;
      w.flush();
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => opens > 2 && w.stats().db === "down", "the outage");
    await until(() => w.stats().queueRows === 0, "the queue spooled");
    assert.ok(w.stats().spoolBytes > 0);
    assert.equal(db.written.length, 0);
    db.down = false;
    const s = await w.drain();
    // Every trade exactly once, in the order received.
    const prices = db.lines("trades").map((l) => Number(l.split("\t")[4]));
    assert.equal(prices.length, expected);
    assert.deepEqual(prices, [...prices].sort((a, b) => a - b));
    assert.equal(new Set(prices).size, expected);
    const ids = counters(db);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.equal(s.counters.rows, expected);
    assert.equal(s.counters["rows.trades"], expected);
    assert.equal(s.counters.batches, 20);
    assert.ok(s.counters.spooledBatches >= 1);
    assert.equal(s.counters.duplicateBatches, 0);
    assert.equal(s.spoolBytes, 0);
    assert.equal(s.db, "up");
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    assert.ok(states.includes("degraded") && states.at(-1) === "running");
    assert.ok(logs.some((l) => /^warn Database failing, spooling/.test(l)));
    assert.ok(logs.some((l) => /^info Database back after/.test(l)));
    // The rows cross midnight: each day's partitions are asked for before
    // its first write, and again only after a failed write.
    const midnight = Date.UTC(2024, 2, 11);
    const asked = calls.filter((c) => c.startsWith("partitions"))
      .map((c) => Number(c.split(" ")[1]) >= midnight);
    assert.equal(asked.filter((next) => next).length, 1);
    assert.equal(
      asked.filter((next) => !next).length,
      s.counters.writeErrors + 1,
    );
    await w.stop();
    assert.ok(db.closed);
  }));

Deno.test("writer: a lost acknowledgement is retried under the same id and not written twice", () =>
  withSpool(async (_dir, spool) => {
    const db = new FakeDb();
    db.loseAck = 1;
    const w = new Writer({
      open: () => Promise.resolve(db),
      spool,
      maintenance: maintenance().m,
      flushMs: 60_000,
      retryBaseMs: 1,
      log: () => {},
    });
    w.start();
    w.onBatch(trades("kraken", T0, 3), "conn:kraken");
    w.onBatch(trades("kraken", T0 + 10, 3), "conn:kraken");
    const s = await w.drain();
    assert.equal(db.lines("trades").length, 6);
    assert.equal(db.written.length, 1);
    assert.ok(db.attempts >= 2);
    assert.equal(s.counters.duplicateBatches, 1);
    assert.equal(s.counters.batches, 0);
    assert.equal(s.counters.writeErrors, 1);
    await w.stop();
  }));

Deno.test("writer: a write that never settles: the database is opened afresh and the batch written once", () =>
  withSpool(async (_dir, spool) => {
    const db = new FakeDb();
    db.hang = 1;
    let opens = 0;
    const logs: string[] = [];
    const w = new Writer({
      open: () => {
        opens++;
        return Promise.resolve(db);
      },
      spool,
      maintenance: maintenance().m,
      flushMs: 60_000,
      callTimeoutMs: 30,
      retryBaseMs: 1,
      log: (level, msg) => logs.push(`${level} ${msg}`),
    });
    w.start();
    w.onBatch(trades("mexc", T0, 4), "conn:mexc");
    const s = await w.drain();
    assert.equal(opens, 2);
    assert.ok(db.closed);
    assert.equal(db.lines("trades").length, 4);
    assert.equal(s.counters.batches, 1);
    assert.ok(
      logs.some((l) =>
        /^warn Database write not done within 30 ms; reopening/.test(l)
      ),
      logs.join("\n"),
    );
    await w.stop();
  }));

Deno.test("writer: a full queue spills to the spool and the order holds", () =>
  withSpool(async (_dir, spool) => {
    const db = new FakeDb();
    db.delayMs = 3;
    const w = new Writer({
      open: () => Promise.resolve(db),
      spool,
      maintenance: maintenance().m,
      flushMs: 60_000,
      queueRows: 8,
      log: () => {},
    });
    w.start();
    for (let i = 0; i < 30; i++) {
      w.onBatch(trades("okx", T0 + i, 3), "conn:okx");
      w.flush();
    }
    const s = await w.drain();
    assert.ok(s.counters.spooledBatches > 0);
    assert.equal(s.counters.batches, 30);
    const ids = counters(db);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.equal(db.lines("trades").length, 90);
    await w.stop();
  }));

Deno.test("writer: a spool left by a killed process is written before anything new", () =>
  withSpool(async (dir, spool) => {
    // What the earlier process had spooled (and fsynced) when it died.
    const old: WriteBatch[] = [1, 2, 3].map((n) => ({
      id: `dead:${n}`,
      parts: [{
        table: "trades",
        columns: ["ts"],
        text: `${new Date(T0 + n).toISOString()}\n`,
        rows: 1,
      }],
      rows: 1,
      days: [Date.UTC(2024, 2, 10)],
      watermark: null,
      clock: null,
    }));
    await spool.append(old);
    await spool.close();
    const db = new FakeDb();
    const w = new Writer({
      open: () => Promise.resolve(db),
      spool: await Spool.open<WriteBatch>(dir),
      maintenance: maintenance().m,
      flushMs: 60_000,
      log: () => {},
    });
    w.onBatch(trades("bybit", T0 + 5, 2), "conn:bybit");
    w.flush();
    w.start();
    await w.drain();
    assert.deepEqual(db.written.map((x) => x.id.split(":")[0]), [
      "dead",
      "dead",
      "dead",
      db.written[3].id.split(":")[0],
    ]);
    assert.deepEqual(db.written.slice(0, 3).map((x) => x.id), [
      "dead:1",
      "dead:2",
      "dead:3",
    ]);
    await w.stop();
  }));

Deno.test("writer: a batch the database refuses while it answers is quarantined; the rest go on", () =>
  withSpool(async (dir, spool) => {
    const db = new FakeDb();
    let poisoned = "";
    db.refuse = (parts) =>
      parts.some((p) => rowTexts(p).some((r) => r.includes(poisoned)));
    const qdir = `${dir}/quarantine`;
    const quarantine = await Spool.open<WriteBatch>(qdir);
    const logs: string[] = [];
    const w = new Writer({
      open: () => Promise.resolve(db),
      spool,
      quarantine,
      maintenance: maintenance().m,
      flushMs: 60_000,
      retryBaseMs: 1,
      log: (level, msg) => logs.push(`${level} ${msg}`),
    });
    w.start();
    w.onBatch(trades("gateio", T0, 2), "conn:gateio");
    w.flush();
    const bad = trades("gateio", T0 + 1, 1);
    poisoned = String(new Float64Array(bad.buf)[0]);
    w.onBatch(bad, "conn:gateio");
    w.flush();
    w.onBatch(trades("gateio", T0 + 2, 2), "conn:gateio");
    const s = await w.drain();
    assert.equal(s.counters.quarantinedBatches, 1);
    assert.equal(s.counters.batches, 2);
    assert.equal(db.lines("trades").length, 4);
    assert.ok(
      logs.some((l) =>
        /^error Batch .* refused 3 times, moved to the quarantine spool/.test(l)
      ),
    );
    await w.stop();
    const q = await Spool.open<WriteBatch>(qdir);
    const kept = await q.peek();
    assert.ok(kept?.parts[0].data instanceof Uint8Array);
    assert.ok(rowTexts(kept.parts[0]).some((r) => r.includes(poisoned)));
    await q.close();
  }));

Deno.test("writer: the watermark is the slowest input's clock until it stalls; bars are taken up to it", () =>
  withSpool(async (_dir, spool) => {
    let now = 0;
    const takes: number[] = [];
    const w = new Writer({
      open: () => Promise.resolve(new FakeDb()),
      spool,
      maintenance: maintenance().m,
      flushMs: 60_000,
      stallMs: 5000,
      now: () => now,
      log: () => {},
      bars: {
        onBatch() {},
        take(upTo) {
          takes.push(upTo);
          return null;
        },
        rejected: new Map([["high below open or close", 2]]),
        late: 3,
      },
    });
    w.link("conn:a");
    assert.equal(w.watermark(), -Infinity);
    w.onBatch(trades("a", T0 + 10_000, 0), "conn:a");
    // Linked and silent: it holds the watermark until it stalls.
    w.link("conn:b");
    assert.equal(w.watermark(), -Infinity);
    now = 1000;
    w.onBatch(trades("b", T0 + 5_000, 0), "conn:b");
    assert.equal(w.watermark(), T0 + 5_000);
    w.flush();
    assert.deepEqual(takes, [T0 + 5_000]);
    now = 5999;
    assert.equal(w.watermark(), T0 + 5_000);
    now = 6001; // b has not moved for 5 s: a alone counts
    assert.equal(w.watermark(), T0 + 10_000);
    now = 6100;
    w.onBatch(trades("b", T0 + 6_000, 0), "conn:b");
    // b counts again but the watermark never goes back.
    assert.equal(w.watermark(), T0 + 10_000);
    const s = w.stats();
    assert.equal(s.watermark, T0 + 10_000);
    assert.equal(s.inputs, 2);
    assert.equal(s.counters["rejected.bar high below open or close"], 2);
    assert.equal(s.counters.rejected, 2);
    assert.equal(s.counters.lateTrades, 3);
    await w.stop();
    // The last batch takes every bar: the inputs have stopped.
    assert.equal(takes.at(-1), Infinity);
  }));

Deno.test("writer: rows are formed into a batch as soon as batchRows are pending; maintenance runs on schedule", () =>
  withSpool(async (_dir, spool) => {
    const db = new FakeDb();
    const { m, calls } = maintenance();
    const w = new Writer({
      open: () => Promise.resolve(db),
      spool,
      maintenance: m,
      flushMs: 60_000,
      batchRows: 10,
      maintenanceMs: 20,
      retentionMs: 1000,
      log: () => {},
    });
    w.start();
    w.onBatch(trades("coinbase", T0, 6), "conn:coinbase");
    assert.equal(w.stats().queueRows, 0);
    w.onBatch(trades("coinbase", T0 + 1, 6), "conn:coinbase");
    assert.equal(w.stats().queueRows, 12);
    await until(() => db.written.length === 1, "the batch");
    await until(
      () => calls.some((c) => c.startsWith("retention")),
      "maintenance",
    );
    assert.ok(calls.includes(`retention 1000 ${T0 + 1}`), calls.join("; "));
    assert.ok(calls.includes(`rollup ${T0 + 1}`), calls.join("; "));
    await w.stop();
  }));

/** A capture's event batches, taken every `every` frames, and its trade count. */
async function captureBatches(prefix: string, every: number) {
  const feed = await openCapture(prefix);
  const batches: EventBatch[] = [];
  let frames = 0;
  let tradeEvents = 0;
  feed.run((_ts, events) => {
    for (const ev of events) if (ev.type === "trade") tradeEvents++;
    if (++frames % every === 0) batches.push(feed.batch.take());
  });
  batches.push(feed.batch.take());
  // What the rows must be: the same batches through a separate EventRows.
  const rows = new EventRows();
  for (const b of batches) rows.onBatch(b);
  const expected: Record<string, number> = {};
  for (const p of rows.take()) expected[p.table] = p.rows;
  return { exchange: feed.exchange, batches, tradeEvents, expected };
}

/** Rows per table of the event tables, and book rows stored twice. */
async function storedCounts(db: Db) {
  const counts: Record<string, number> = {};
  for (
    const t of ["trades", "liquidations", "book_snapshots", "book_changes"]
  ) {
    const [r] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${t}`,
    );
    if (r.n > 0) counts[t] = r.n;
  }
  const [d] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM book_changes
      GROUP BY ts, exchange, symbol, seq HAVING count(*) > 1) d`,
  );
  return { counts, doubled: d.n };
}

Deno.test("writer: PostgreSQL whose connections are terminated mid-stream: every row of a capture once", () =>
  withPostgresDb(async (db, url) => {
    const cap = await captureBatches("BYBIT", 25);
    const name = new URL(url).pathname.slice(1);
    const admin = adminSql();
    const dir = await Deno.makeTempDir({ prefix: "coby_spool_" });
    const logs: string[] = [];
    const w = new Writer({
      open: () => openDb({ url }),
      spool: await Spool.open<WriteBatch>(dir),
      flushMs: 10,
      retryBaseMs: 5,
      retryMaxMs: 100,
      log: (level, msg) => logs.push(`${level} ${msg}`),
    });
    // postgres.js may report a reset outside any call: the actor's guard
    // (actors/writer.ts) takes these, and only these.
    const guard = (e: PromiseRejectionEvent) => {
      if (connectionLost(e.reason)) e.preventDefault();
    };
    globalThis.addEventListener("unhandledrejection", guard);
    let killing = false;
    let kills = 0;
    let killer = Promise.resolve();
    try {
      w.start();
      await until(() => w.stats().db === "up", "the database");
      // Terminate every connection to the database every few ms while the
      // batches stream in: writes die mid-transaction.
      killing = true;
      killer = (async () => {
        while (killing) {
          const [r] =
            await admin`SELECT count(pg_terminate_backend(pid))::int AS n
            FROM pg_stat_activity
            WHERE datname = ${name} AND pid <> pg_backend_pid()`;
          kills += r.n;
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      for (const b of cap.batches) {
        w.onBatch(b, "conn:bybit");
        await new Promise((r) => setTimeout(r, 4));
      }
      killing = false;
      await killer;
      const s = await w.drain(60_000);
      const stored = await storedCounts(db);
      assert.deepEqual(stored.counts, cap.expected);
      assert.equal(stored.doubled, 0);
      assert.equal(stored.counts.trades, cap.tradeEvents);
      for (const [table, n] of Object.entries(cap.expected)) {
        assert.equal(s.counters[`rows.${table}`], n, table);
      }
      // The kills met writes in flight.
      assert.ok(kills > 0);
      assert.ok(s.counters.writeErrors > 0);
      assert.ok(logs.some((l) => /lost its connection|failing/.test(l)));
    } finally {
      killing = false;
      await killer;
      await w.stop();
      await admin.end();
      globalThis.removeEventListener("unhandledrejection", guard);
      await Deno.remove(dir, { recursive: true });
    }
  }));

Deno.test("writer: PGlite: a capture's rows and bars, kept across a reopen", async () => {
  const cap = await captureBatches("OKX", 50);
  const dataDir = await Deno.makeTempDir({ prefix: "coby_pglite_" });
  try {
    const w = new Writer({
      open: () => openDb({ dataDir }),
      spool: await Spool.open<WriteBatch>(`${dataDir}/spool`),
      bars: new BarBuilder(),
      flushMs: 50,
      log: () => {},
    });
    w.start();
    for (const b of cap.batches) w.onBatch(b, "conn:okx");
    const s = await w.drain(60_000);
    assert.equal(
      s.counters.rows,
      s.counters["rows.trades"] + s.counters["rows.book_snapshots"] +
        s.counters["rows.book_changes"] + (s.counters["rows.ohlcv_1s"] ?? 0),
    );
    // The last batch holds every bar still open: the inputs have stopped.
    await w.stop();
    const db = await openDb({ dataDir });
    try {
      const stored = await storedCounts(db);
      assert.deepEqual(stored.counts, cap.expected);
      assert.equal(stored.doubled, 0);
      assert.ok(stored.counts.book_snapshots > 0);
      const [bars] = await db.query<{ trades: number }>(
        "SELECT sum(trades)::int AS trades FROM ohlcv_1s WHERE exchange = 'okx'",
      );
      assert.equal(bars.trades, cap.tradeEvents);
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
