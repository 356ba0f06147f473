import assert from "node:assert/strict";
import { columns, Kind } from "../../market/batch.ts";
import { RequestError } from "../../../runtime/protocol.ts";
import { openCapture } from "../_capture_feed_test.ts";
import type { Db } from "../db.ts";
import { ensurePartitions } from "../maintain.ts";
import { migrate } from "../migrate.ts";
import { openDb } from "../open.ts";
import { openPglite } from "../pglite.ts";
import { EventRows } from "../rows.ts";
import { adminSql, TEST_PG_URL } from "../_testing.ts";
import { bookAt, MAX_DEPTH, trades } from "../queries.ts";
import {
  type ReplayColumns,
  replayEvents,
  type ReplayEventsParams,
  replayRange,
} from "./replay.ts";

/** What the captures stored: per exchange its symbols, and the span. */
interface Filled {
  symbols: Map<string, string[]>;
  first: number;
  last: number;
  /** Records each feed pushed, by exchange. */
  pushed: Map<string, number>;
  /**
   * The parsed trades by `exchange symbol`, in capture order: receive time
   * (whole ms, as stored), price, size, side.
   */
  trades: Map<string, [number, number, number, string][]>;
}

/** Stores shared captures through the writer's rows, one batch each. */
async function fill(db: Db, prefixes: string[]): Promise<Filled> {
  const out: Filled = {
    symbols: new Map(),
    first: Infinity,
    last: -Infinity,
    pushed: new Map(),
    trades: new Map(),
  };
  for (const prefix of prefixes) {
    const feed = await openCapture(prefix);
    const rows = new EventRows();
    let n = 0;
    feed.run((ts, events) => {
      for (const ev of events) {
        if (ev.type !== "trade") continue;
        const key = `${ev.exchange} ${ev.exchangeSymbol}`;
        const list = out.trades.get(key) ?? [];
        list.push([Math.floor(ts), ev.price, ev.size, ev.side]);
        out.trades.set(key, list);
      }
      const b = feed.batch.take();
      n += b.n;
      rows.onBatch(b);
      out.first = Math.min(out.first, Math.floor(ts));
      out.last = Math.max(out.last, Math.floor(ts));
    });
    assert.equal(rows.rejections.total.size, 0);
    const days = [...rows.days];
    await ensurePartitions(db, Math.min(...days), Math.max(...days));
    assert.ok(await db.writeBatch(`h2_${prefix}`, rows.take()));
    out.symbols.set(
      feed.exchange,
      feed.instruments.map((i) => i.exchangeSymbol),
    );
    out.pushed.set(feed.exchange, n);
  }
  return out;
}

/** A PGlite store in a temporary `h2_` directory, deleted after `fn`. */
async function withLite(fn: (db: Db) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "h2_replay_" });
  const db = await openDb({ dataDir: dir });
  try {
    await fn(db);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A store on PGlite's TimescaleDB fork in a temporary `h2_` directory. */
async function withTimescale(fn: (db: Db) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "h2_replay_ts_" });
  const db = await openPglite({ dataDir: dir, timescale: true });
  try {
    await migrate(db);
    assert.ok(db.timescale);
    await fn(db);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A PostgreSQL store in a fresh `h2_` database, dropped after `fn`. */
async function withPg(fn: (db: Db) => Promise<void>): Promise<void> {
  const name = `h2_replay_${crypto.randomUUID().slice(0, 8)}`;
  const admin = adminSql();
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  try {
    const db = await openDb({ url: url.href });
    try {
      await fn(db);
    } finally {
      await db.close();
    }
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

/** Every page from `from` to `to` with `limit`, records concatenated. */
async function readAll(
  db: Db,
  p: Omit<ReplayEventsParams, "after">,
): Promise<{ cols: ReturnType<typeof columns>; rows: number; pages: number }> {
  const parts: ReplayColumns[] = [];
  let rows = 0;
  let pages = 0;
  let page = await replayEvents(db, p);
  for (;;) {
    parts.push(page.events);
    rows += page.rows;
    pages++;
    if (!page.next) break;
    page = await replayEvents(db, { ...p, after: page.next });
  }
  const n = parts.reduce((a, c) => a + c.n, 0);
  const all = new Float64Array(5 * n);
  let at = 0;
  for (const c of parts) {
    const src = new Float64Array(c.buf);
    for (let col = 0; col < 5; col++) {
      all.set(src.subarray(col * c.n, (col + 1) * c.n), col * n + at);
    }
    at += c.n;
  }
  return {
    cols: columns({
      type: "batch",
      exchange: "",
      symbols: [],
      n,
      buf: all.buffer,
      clock: 0,
    }),
    rows,
    pages,
  };
}

/** Records and rows stored from `from` on, counted in the tables. */
async function stored(
  db: Db,
  exchanges: string[],
  from: number,
): Promise<{ records: number; rows: number }> {
  const [r] = await db.query<{ records: number; rows: number }>(
    `SELECT sum(records)::int AS records, sum(rows)::int AS rows FROM (
       SELECT sum(coalesce(array_length(bids, 1), 0)
         + coalesce(array_length(asks, 1), 0)) / 2 + count(*) AS records,
         count(*) AS rows
       FROM book_snapshots WHERE exchange = ANY($1) AND ts >= $2::timestamptz
       UNION ALL
       SELECT sum(coalesce(array_length(bids, 1), 0)
         + coalesce(array_length(asks, 1), 0)) / 2, count(*)
       FROM book_changes WHERE exchange = ANY($1) AND ts >= $2::timestamptz
       UNION ALL
       SELECT count(*), count(*) FROM trades
       WHERE exchange = ANY($1) AND ts >= $2::timestamptz
       UNION ALL
       SELECT count(*), count(*) FROM liquidations
       WHERE exchange = ANY($1) AND ts >= $2::timestamptz) t`,
    [exchanges, new Date(from).toISOString()],
  );
  return r;
}

const ENGINES = [
  ["pglite", withLite],
  ["postgres", withPg],
  ["timescale", withTimescale],
] as const;

for (const [engine, withDb] of ENGINES) {
  Deno.test(`replay queries on ${engine}: Bybit, Kraken and Coinbase captures`, (t) =>
    withDb(async (db) => {
      const f = await fill(db, ["BYBIT", "KRAKEN", "COINBASE"]);
      const exchanges = [...f.symbols.keys()];
      const symbols = [...new Set([...f.symbols.values()].flat())];

      await t.step("replayRange: the series, their refs and span", async () => {
        const r = await replayRange(db, { exchanges, symbols });
        assert.equal(r.start, f.first);
        assert.equal(r.end, f.last);
        assert.deepEqual(
          r.series.map((s) => `${s.exchange} ${s.ref.exchangeSymbol}`).sort(),
          [...f.symbols].flatMap(([e, ss]) => ss.map((s) => `${e} ${s}`))
            .sort(),
        );
        // Bybit's BTCUSD is inverse, 1 USD a contract; its USDT ones linear.
        const btc = r.series.find((s) => s.ref.exchangeSymbol === "BTCUSD")!;
        assert.equal(btc.ref.inverse, true);
        assert.equal(btc.ref.contractSize, 1);
        const eth = r.series.find((s) => s.ref.exchangeSymbol === "ETHUSDT")!;
        assert.equal(eth.ref.inverse, undefined);
        // A sub-range: its own first and last events.
        const mid = await replayRange(db, {
          exchanges: ["bybit"],
          symbols: ["BTCUSD"],
          from: f.first + 10_000,
          to: f.first + 20_000,
        });
        assert.ok(mid.start >= f.first + 10_000 && mid.end < f.first + 20_000);
        await assert.rejects(
          replayRange(db, { exchanges: ["bybit"], symbols: ["NOPE"] }),
          (e) => e instanceof RequestError && e.code === "not_found",
        );
      });

      await t.step(
        "replayEvents: every stored record once, in event-time order, whatever the page size",
        async () => {
          const base = { exchanges, symbols, from: f.first, to: f.last + 1 };
          const big = await readAll(db, { ...base, limit: 200_000 });
          const want = await stored(db, exchanges, f.first);
          assert.equal(big.cols.local.length, want.records);
          assert.equal(big.rows, want.rows);
          // Every record the feeds pushed, but for levels that keyframes
          // folded (a keyframe stores its book, not the frame's levels).
          const pushed = [...f.pushed.values()].reduce((a, b) => a + b, 0);
          assert.ok(want.records <= pushed && want.records > pushed * 0.9);
          for (let i = 1; i < big.cols.local.length; i++) {
            assert.ok(big.cols.local[i - 1] <= big.cols.local[i]);
          }
          assert.ok(!big.cols.price.some(Number.isNaN));
          // Small pages (many cut inside a millisecond, some milliseconds
          // larger than a page) give the very same records: over the first
          // 2 s (every book's first keyframe, Bybit's ten at one ms).
          const head = { ...base, to: f.first + 2_000 };
          const want2 = await readAll(db, { ...head, limit: 200_000 });
          assert.ok(want2.rows > 100);
          for (const limit of [1, 7]) {
            const small = await readAll(db, { ...head, limit });
            assert.ok(small.pages >= 10, `${small.pages} pages`);
            assert.deepEqual(small.cols, want2.cols);
          }
        },
      );

      await t.step(
        "replayEvents: trades as the capture had them, in its order (but on TimescaleDB)",
        async () => {
          const from = f.first + 5_000;
          const all = await readAll(db, {
            exchanges: ["bybit"],
            symbols: ["BTCUSD"],
            from,
            to: f.last + 1,
            limit: 50_000,
          });
          const { price, size, local, code } = all.cols;
          const got: [number, number, number, string][] = [];
          for (let i = 0; i < code.length; i++) {
            const k = code[i] % 8;
            if (k === Kind.Buy || k === Kind.Sell) {
              got.push([
                local[i],
                price[i],
                size[i],
                k === Kind.Buy ? "buy" : "sell",
              ]);
            }
          }
          const want = f.trades.get("bybit BTCUSD")!.filter((r) =>
            r[0] >= from
          );
          assert.ok(want.length > 10);
          const key = (r: (string | number)[]) => r.join(" ");
          if (db.timescale) {
            // No insertion order there: the same trades, by time.
            assert.deepEqual(got.map(key).sort(), want.map(key).sort());
          } else assert.deepEqual(got, want);
          // As stored: the trades query has the same (its order within a
          // millisecond is not defined).
          const rows = await trades(db, {
            exchanges: ["bybit"],
            symbol: "BTCUSD",
            from,
            to: f.last + 1,
            limit: 100_000,
          });
          assert.deepEqual(
            rows.map((r) => key([r.ts, r.price, r.size, r.side])).sort(),
            got.map(key).sort(),
          );
        },
      );

      await t.step(
        "replayEvents: the books at from are bookAt's just before from",
        async () => {
          for (const at of [f.first + 3_001, f.first + 17_500, f.last]) {
            const page = await replayEvents(db, {
              exchanges,
              symbols,
              from: at,
              to: f.last + 1,
              limit: 10,
            });
            const { price, size, code, local } = columns({
              type: "batch",
              exchange: "",
              symbols: [],
              n: page.books!.n,
              buf: page.books!.buf,
              clock: 0,
            });
            assert.ok(local.every((t) => t === at));
            let checked = 0;
            for (let e = 0; e < exchanges.length; e++) {
              for (let s = 0; s < symbols.length; s++) {
                const series = e * symbols.length + s;
                const bids: [number, number][] = [];
                const asks: [number, number][] = [];
                let clear = false;
                for (let i = 0; i < code.length; i++) {
                  if (Math.floor(code[i] / 8) !== series) continue;
                  const k = code[i] % 8;
                  if (k === Kind.Clear) clear = true;
                  else (k === Kind.Bid ? bids : asks).push([price[i], size[i]]);
                }
                const want = await bookAt(db, {
                  exchange: exchanges[e],
                  symbol: symbols[s],
                  at: at - 1,
                  depth: MAX_DEPTH,
                }).catch(() => null);
                assert.equal(clear, want !== null);
                if (!want) continue;
                assert.deepEqual({ bids, asks }, {
                  bids: want.bids,
                  asks: want.asks,
                });
                if (bids.length) checked++;
              }
            }
            assert.ok(checked >= 10, `${checked} books at ${at}`);
          }
        },
      );

      await t.step("replayEvents: bad parameters", async () => {
        const base = {
          exchanges,
          symbols,
          from: f.first,
          to: f.last,
          limit: 10,
        };
        for (
          const bad of [
            { ...base, limit: 0 },
            { ...base, limit: 200_001 },
            { ...base, to: f.first },
            { ...base, exchanges: [] },
            { ...base, after: { ts: f.last + 5, span: 10 } },
          ]
        ) {
          await assert.rejects(
            replayEvents(db, bad),
            (e) => e instanceof RequestError && e.code === "bad_request",
          );
        }
      });
    }));
}
