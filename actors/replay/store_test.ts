import assert from "node:assert/strict";
import { portRequest, servePort } from "../../runtime/port_request.ts";
import { columns, type EventBatch, Kind } from "../market/batch.ts";
import { openCapture } from "../store/_capture_feed_test.ts";
import type { Db } from "../store/db.ts";
import { ensurePartitions } from "../store/maintain.ts";
import { openDb } from "../store/open.ts";
import {
  bookAt,
  historyHandlers,
  type HistoryRequests,
  MAX_DEPTH,
} from "../store/queries.ts";
import { EventRows } from "../store/rows.ts";
import { openStoreSource, type StoreQuery, type StoreSource } from "./store.ts";

/** A book as `[price, size]` levels, best first. */
interface Levels {
  bids: [number, number][];
  asks: [number, number][];
}

/** The captures as stored, and the book keepers' books at some instants. */
interface Filled {
  exchanges: string[];
  symbols: string[];
  first: number;
  last: number;
  /** Instant → `exchange symbol` → the synced keeper book before it. */
  truths: Map<number, Map<string, Levels>>;
  /** `exchange symbol` → the synced keeper book at the end. */
  final: Map<string, Levels>;
}

const PREFIXES = ["BYBIT", "KRAKEN", "COINBASE"];

/**
 * Stores the captures through the writer's rows and notes, at each instant
 * of `instants`, every synced book the keepers held with every frame
 * received before it applied.
 */
async function fill(db: Db, instants: (first: number) => number[]): Promise<
  Filled
> {
  const feeds = await Promise.all(PREFIXES.map((p) => openCapture(p)));
  const f: Filled = {
    exchanges: feeds.map((x) => x.exchange),
    symbols: [
      ...new Set(
        feeds.flatMap((x) => x.instruments.map((i) => i.exchangeSymbol)),
      ),
    ],
    first: Infinity,
    last: -Infinity,
    truths: new Map(),
    final: new Map(),
  };
  // The first receive time of all, for the instants.
  for (const feed of feeds) {
    feed.run(() => {}, (ts) => f.first = Math.min(f.first, Math.floor(ts)));
  }
  const at = instants(f.first);
  for (const i of at) f.truths.set(i, new Map());
  for (const prefix of PREFIXES) {
    // A fresh feed: the first run above moved the keepers on.
    const feed = await openCapture(prefix);
    const rows = new EventRows();
    const books = () => {
      const out = new Map<string, Levels>();
      for (const inst of feed.instruments) {
        const v = feed.keeper.view(
          feed.keeper.find(inst.exchangeSymbol)!,
          Infinity,
        );
        if (v.state !== "synced") continue;
        out.set(`${feed.exchange} ${inst.exchangeSymbol}`, {
          bids: v.bids,
          asks: v.asks,
        });
      }
      return out;
    };
    let k = 0;
    feed.run(
      (ts) => {
        rows.onBatch(feed.batch.take());
        f.last = Math.max(f.last, Math.floor(ts));
      },
      (ts) => {
        for (; k < at.length && at[k] <= Math.floor(ts); k++) {
          for (const [key, b] of books()) f.truths.get(at[k])!.set(key, b);
        }
      },
    );
    for (; k < at.length; k++) {
      for (const [key, b] of books()) f.truths.get(at[k])!.set(key, b);
    }
    for (const [key, b] of books()) f.final.set(key, b);
    assert.equal(rows.rejections.total.size, 0);
    const days = [...rows.days];
    await ensurePartitions(db, Math.min(...days), Math.max(...days));
    assert.ok(await db.writeBatch(`h2_${prefix}`, rows.take()));
  }
  return f;
}

/** A PGlite store in a temporary `h2_` directory, deleted after `fn`. */
async function withLite(fn: (db: Db) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "h2_store_source_" });
  const db = await openDb({ dataDir: dir });
  try {
    await fn(db);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The queries as the replay actor reaches them: served on one end of a
 * MessageChannel, requested on the other (buffers transferred).
 */
function overPort(db: Db): { query: StoreQuery; close(): void } {
  const ch = new MessageChannel();
  servePort<HistoryRequests>(ch.port2, historyHandlers(() => db));
  return {
    query: (method, params) =>
      portRequest<HistoryRequests, typeof method>(ch.port1, method, params),
    close() {
      ch.port1.close();
      ch.port2.close();
    },
  };
}

/** The books a source holds, `exchange symbol` → levels, synced ones. */
function booksOf(src: StoreSource): Map<string, Levels> {
  const out = new Map<string, Levels>();
  const d = src.dump(1_000_000);
  for (const [e, books] of Object.entries(d.books)) {
    for (const [s, b] of Object.entries(books)) {
      if (b.state === "synced") {
        out.set(`${e} ${s}`, { bids: b.bids, asks: b.asks });
      }
    }
  }
  return out;
}

/** Records of every batch, checked for order and the clock. */
function collect(batches: EventBatch[], clock: number, into: number[]): void {
  for (const b of batches) {
    assert.equal(b.clock >= clock, true);
    const { local, code } = columns(b);
    for (let i = 0; i < b.n; i++) {
      assert.ok(local[i] <= b.clock, `record at ${local[i]} > ${b.clock}`);
      if (i > 0) assert.ok(local[i - 1] <= local[i]);
      into.push(code[i] % 8);
    }
  }
}

Deno.test("StoreSource: Bybit, Kraken and Coinbase from a PGlite store", (t) =>
  withLite(async (db) => {
    const f = await fill(
      db,
      (first) =>
        [3_001, 9_500, 21_000, 40_000, 77_777, 370_000].map((d) => first + d),
    );
    const link = overPort(db);
    try {
      const src = await openStoreSource(link.query, {
        exchanges: f.exchanges,
        symbols: f.symbols,
        pageRows: 2_000,
      });
      assert.equal(src.start, f.first);
      assert.equal(src.end, f.last);
      assert.deepEqual([...src.exchanges].sort(), [...f.exchanges].sort());

      await t.step(
        "seek(t): the books bookAt rebuilds just before t, and the keepers had",
        async () => {
          let compared = 0;
          for (const [at, truth] of f.truths) {
            await src.seek(at);
            const got = booksOf(src);
            for (const [key, want] of truth) {
              assert.deepEqual(got.get(key), want, `${key} at ${at}`);
              compared++;
            }
            for (const [key, levels] of got) {
              const [exchange, symbol] = key.split(" ");
              const stored = await bookAt(db, {
                exchange,
                symbol,
                at: at - 1,
                depth: MAX_DEPTH,
              });
              assert.deepEqual(levels, {
                bids: stored.bids,
                asks: stored.asks,
              });
            }
            // Nothing after t was applied: the next event is at t or later.
            assert.ok(src.next() >= at);
            assert.equal(src.last(), -Infinity);
          }
          assert.ok(compared >= 40, `${compared} books compared`);
        },
      );

      await t.step(
        "after seek(t): every stored record from t, in order, to the capture's final books",
        async () => {
          const at = f.first + 9_500;
          await src.seek(at);
          const kinds: number[] = [];
          let clock = at;
          // The books at t, pushed in full.
          collect(src.take(at), at, kinds);
          const books = kinds.length;
          let applied = 0;
          let waits = 0;
          while (src.next() < Infinity) {
            clock = Math.min(src.next() + 250, f.last + 1);
            const r = src.advance(clock, 3_000);
            if (r instanceof Promise) waits++;
            applied += await r;
            collect(src.take(clock), clock, kinds);
          }
          assert.equal(kinds.length - books, applied);
          assert.equal(src.last(), f.last);
          const [want] = await db.query<{ n: number }>(
            `SELECT (SELECT count(*) FROM book_snapshots WHERE ts >= $1::timestamptz)
              + (SELECT coalesce(sum(coalesce(array_length(bids, 1), 0)
                   + coalesce(array_length(asks, 1), 0)), 0) / 2
                 FROM (SELECT bids, asks FROM book_snapshots WHERE ts >= $1::timestamptz
                       UNION ALL
                       SELECT bids, asks FROM book_changes WHERE ts >= $1::timestamptz) b)
              + (SELECT count(*) FROM trades WHERE ts >= $1::timestamptz)
              + (SELECT count(*) FROM liquidations WHERE ts >= $1::timestamptz)
              AS n`,
            [new Date(at).toISOString()],
          );
          assert.equal(applied, Number(want.n));
          const [tr] = await db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM trades WHERE ts >= $1::timestamptz",
            [new Date(at).toISOString()],
          );
          assert.equal(
            kinds.filter((k) => k === Kind.Buy || k === Kind.Sell).length,
            tr.n,
          );
          // Pages are fetched ahead: advancing seldom waits.
          assert.ok(waits < applied / 2_000, `${waits} waits`);
          assert.deepEqual(booksOf(src), f.final);
          const counted = Object.values(src.dump(1).stats).reduce(
            (a, s) => a + s.events,
            0,
          );
          assert.ok(counted >= applied);
        },
      );

      await t.step("seek back: the same books again", async () => {
        const at = f.first + 3_001;
        await src.seek(at);
        const got = booksOf(src);
        for (const [key, want] of f.truths.get(at)!) {
          assert.deepEqual(got.get(key), want, key);
        }
        src.close();
        assert.equal(src.next(), Infinity);
      });
    } finally {
      link.close();
    }
  }));
