/**
 * History end to end on real captures (issue 8): a Binance spot and a
 * Binance USD-M capture replayed at full speed into PGlite and into
 * PostgreSQL, then asked through HTTP what was stored, and every answer
 * checked against the live answer to the same question or against an
 * independent reading of the capture (`tests/_history.ts`):
 *
 * 1. the live book equals `book?at=` its last event time; the live SSE
 *    columns equal `heatmap/history?resolution=tick` for the same ticks,
 *    per exchange and consolidated;
 * 2. the stored 1 s and 1 m OHLCV bars equal bars aggregated here from the
 *    capture's aggTrades by receive time;
 * 3. `book?at=` at several instants equals the capture's book rebuilt here
 *    up to that instant (unsynced before the snapshot arrived);
 * 4. `/api/v1/trades` holds exactly the connection's trade count, the
 *    recorded trades, and its NDJSON form the same rows.
 *
 * Fields that legitimately differ between a live and a stored answer:
 * - book `lastSequence`: live, the venue's update id of the last applied
 *   update (`BookView`); from `book?at=`, the row `seq` that orders a
 *   book's rows within one millisecond (`bookAt`, docs/history.md). The
 *   venue's id is not stored.
 * - heatmap `consolidation`: not stored (always null in history);
 *   `exchanges` of a consolidated column: the merged venues live,
 *   `["consolidated"]` stored.
 *
 * No shared capture records a liquidation (Binance USD-M `forceOrder`,
 * Bybit `allLiquidation`, …): `/api/v1/liquidations` is checked empty, as
 * the connection's counter is 0.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createApp } from "../http/app.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { withPostgresUrl } from "../actors/store/_testing.ts";
import {
  type BarJson,
  barsOf,
  binanceBookAt,
  type BinanceCapture,
  readBinanceCapture,
  readColumns,
} from "./_history.ts";
import { CAPTURES } from "./_replay.ts";

/** Heatmap tick, ms: ~120 ticks per symbol over a 30 s capture. */
const TICK_MS = 250;
/** The most levels a book answer holds: books are compared whole. */
const DEPTH = 5000;

/** The captures: prefix, exchange id, USD-M rule. */
const CASES = [
  { prefix: "BINANCE", exchange: "binance", futures: false },
  { prefix: "BINANCE_FUTURES", exchange: "binance-futures", futures: true },
] as const;

type Case = (typeof CASES)[number];
type App = ReturnType<typeof createApp>;

/** GET as JSON, asserting 200. */
async function json(app: App, url: string): Promise<any> {
  const res = await app.request(url);
  const body = await res.json();
  assert.equal(res.status, 200, `${url}: ${JSON.stringify(body)}`);
  return body;
}

/** The book JSON without `lastSequence` (see the module notes). */
function levelsOf(book: Record<string, unknown>): Record<string, unknown> {
  const { lastSequence: _, ...rest } = book;
  return rest;
}

/** Replays one capture into a store and runs every check through HTTP. */
async function scenario(
  t: Deno.TestContext,
  c: Case,
  store: { dataDir: string; url?: string },
): Promise<void> {
  const cap = await readBinanceCapture(c.prefix);
  const replay = await Replay.start(
    ["0", "http.0.0", "ws.1.0"].map((s) => `${CAPTURES}/${c.prefix}.${s}`),
    {
      speed: "max",
      tickMs: TICK_MS,
      supervisor: { onLog: () => {} },
      store: { enabled: true, ...store },
    },
  );
  try {
    await replay.finished();
    await replay.coby.request("writer", "flush", { timeoutMs: 30_000 });
    const app = createApp(replay.coby);
    const symbols = [...cap.snapshots.keys()];
    const dump = await replay.dump(1);
    const stats = dump.stats[c.exchange];
    assert.equal(stats.gaps, 0);
    assert.equal(stats.resyncs, 0);
    /** How `book?at=` named each book at each instant compared. */
    const named: { s: string; at: number; symbol: string; market: string }[] =
      [];
    const book = (s: string, at?: number) =>
      `/api/v1/book?exchange=${c.exchange}&symbol=${s}&depth=${DEPTH}${
        at === undefined ? "" : `&at=${at}`
      }`;

    await t.step(
      "the live book equals book?at= its last event time",
      async () => {
        for (const s of symbols) {
          const live = await json(app, book(s));
          const want = binanceBookAt(cap, s, cap.last, c.futures);
          assert.equal(want.gaps, 0);
          // The last event applied to this book, at its stored millisecond.
          const at = Math.floor(want.lastRecv);
          const stored = await json(app, book(s, at));
          assert.equal(live.state, "synced");
          assert.ok(live.bids.length > 0 && live.asks.length > 0);
          assert.deepEqual(levelsOf(stored), levelsOf(live), `${s} at ${at}`);
          assert.equal(live.lastSequence, want.lastUpdateId, s);
          assert.equal(typeof stored.lastSequence, "number");
        }
      },
    );

    await t.step(
      "live SSE columns equal heatmap/history at tick resolution",
      async () => {
        for (const sym of cap.names.values()) {
          const kept = replay.coby.hub.symbols().find((h) =>
            h.symbol === sym
          )!.columns;
          const perExchange = await readColumns(
            await app.request(
              `/api/v1/heatmap/stream?symbol=${sym}&exchanges=${c.exchange}`,
            ),
            kept,
          );
          const merged = await readColumns(
            await app.request(`/api/v1/heatmap/stream?symbol=${sym}`),
            kept,
          );
          assert.equal(perExchange.length, kept, sym);
          assert.equal(merged.length, kept, sym);
          const from = perExchange[0].ts as number;
          const to = (perExchange.at(-1)!.ts as number) + 1;
          const range =
            `symbol=${sym}&from=${from}&to=${to}&resolution=tick&limit=2000`;
          const ownRes = await app.request(
            `/api/v1/heatmap/history?${range}&exchanges=${c.exchange}`,
          );
          assert.equal(ownRes.headers.get("Coby-Resolution"), "tick");
          const own = await ownRes.json();
          const consolidated = await json(
            app,
            `/api/v1/heatmap/history?${range}&exchanges=consolidated`,
          );
          // Not stored: how a column was consolidated.
          const noInfo = (col: Record<string, unknown>) => ({
            ...col,
            consolidation: null,
          });
          assert.deepEqual(own, perExchange.map(noInfo), `${sym} per exchange`);
          assert.deepEqual(
            consolidated,
            merged.map((col) => ({
              ...noInfo(col),
              exchanges: ["consolidated"],
            })),
            `${sym} consolidated`,
          );
        }
      },
    );

    await t.step(
      "stored bars equal bars aggregated from the capture's trades",
      async () => {
        const from = Math.floor(cap.first / 60_000) * 60_000;
        const to = Math.ceil((cap.last + 1) / 60_000) * 60_000;
        const ask = (tf: string, ex: string, s: string) =>
          json(
            app,
            `/api/v1/ohlcv?timeframe=${tf}&exchange=${ex}&symbol=${s}&from=${from}&to=${to}&limit=100000`,
          );
        let bars = 0;
        for (const [s, name] of cap.names) {
          const trades = cap.trades.filter((x) => x.s === s);
          for (
            const [tf, step] of [["1s", 1000], ["1m", 60_000]] as const
          ) {
            const own = barsOf(trades, step, {
              exchange: c.exchange,
              symbol: s,
            });
            const merged = barsOf(trades, step, {
              exchange: "consolidated",
              symbol: name,
            });
            assertBars(await ask(tf, c.exchange, s), own, `${s} ${tf}`);
            assertBars(
              await ask(tf, "consolidated", name),
              merged,
              `${name} ${tf} consolidated`,
            );
            if (tf === "1s") bars += own.length;
          }
        }
        assert.ok(bars > 0, "no bars");
      },
    );

    await t.step(
      "book?at= equals the capture rebuilt up to that instant",
      async () => {
        let compared = 0;
        for (const s of symbols) {
          const snap = cap.snapshots.get(s)!;
          const updates = cap.depth.filter((d) =>
            d.s === s && d.recv > snap.recv
          );
          // Before the snapshot arrived nothing of the book was recorded.
          const before = await app.request(book(s, Math.floor(snap.recv) - 1));
          assert.equal(before.status, 404, `${s} before its snapshot`);
          assert.equal((await before.json()).code, "not_found");
          // Right at the snapshot, at 3 update times spread over the
          // capture, a millisecond before the last of them, and at the end.
          const instants = [
            Math.floor(snap.recv),
            ...[0.25, 0.5, 0.75].map((f) =>
              Math.floor(updates[Math.floor(f * (updates.length - 1))].recv)
            ),
            Math.floor(updates.at(-1)!.recv) - 1,
            Math.ceil(cap.last),
          ];
          for (const at of instants) {
            const want = binanceBookAt(cap, s, at, c.futures);
            assert.equal(want.gaps, 0);
            const got = await json(app, book(s, at));
            assert.equal(got.state, "synced", `${s} at ${at}`);
            assert.equal(got.exchange, c.exchange);
            assert.equal(got.exchangeSymbol, s);
            named.push({ s, at, symbol: got.symbol, market: got.market });
            assert.deepEqual(got.bids, want.bids, `${s} bids at ${at}`);
            assert.deepEqual(got.asks, want.asks, `${s} asks at ${at}`);
            compared++;
          }
        }
        assert.equal(compared, symbols.length * 6);
      },
    );

    await t.step(
      "book?at= names the book as the live book does, right after its sync too",
      async () => {
        assert.ok(named.length > 0);
        const wrong: string[] = [];
        for (const { s, at, symbol, market } of named) {
          const live = await json(app, book(s));
          if (symbol !== live.symbol || market !== live.market) {
            wrong.push(
              `${s} at ${
                new Date(at).toISOString()
              }: ${symbol} ${market}, live ${live.symbol} ${live.market}`,
            );
          }
        }
        assert.deepEqual(wrong, []);
      },
    );

    await t.step(
      "the live frame (no at) equals the stored frame at its instant",
      async () => {
        let trades = 0;
        for (const s of symbols) {
          const q = `/api/v1/frame?symbol=${s}&window=15m&depth=50`;
          const live = await json(app, q);
          // "Now" is the recording's last receive time, not the wall clock.
          assert.ok(Math.abs(live.at - cap.last) < 1, `${live.at} ${cap.last}`);
          const stored = await json(app, `${q}&at=${live.at}`);
          assert.deepEqual(comparable(live), comparable(stored), s);
          assert.equal(live.books.length, 1);
          assert.equal(live.books[0].state, "synced");
          // The newest 1000 (the default limit).
          assert.equal(
            live.trades.length,
            Math.min(1000, cap.trades.filter((t) => t.s === s).length),
          );
          trades += live.trades.length;
        }
        assert.ok(trades > 0);
      },
    );

    await t.step(
      "trades: the connection's count, the recorded trades, JSON and NDJSON alike",
      async () => {
        const from = Math.floor(cap.first);
        const to = Math.ceil(cap.last) + 1;
        let n = 0;
        for (const s of symbols) {
          const url =
            `/api/v1/trades?exchange=${c.exchange}&symbol=${s}&from=${from}&to=${to}&limit=100000`;
          const rows = await json(app, url);
          const res = await app.request(url, {
            headers: { Accept: "application/x-ndjson" },
          });
          assert.equal(res.status, 200);
          assert.equal(res.headers.get("Content-Type"), "application/x-ndjson");
          const lines = (await res.text()).split("\n");
          assert.equal(lines.pop(), "");
          assert.deepEqual(lines.map((l) => JSON.parse(l)), rows, s);
          // Oldest first; trades of one millisecond come in no stated order
          // (the table keeps no arrival order within one), so they are
          // compared as sets.
          for (let i = 1; i < rows.length; i++) {
            assert.ok(rows[i - 1].ts <= rows[i].ts, `${s} trades out of order`);
          }
          assert.deepEqual(
            inMsOrder(rows),
            inMsOrder(expectedTrades(cap, s, c.exchange)),
            `${s} trades`,
          );
          n += rows.length;
          assert.deepEqual(
            await json(
              app,
              url.replace("/trades?", "/liquidations?"),
            ),
            [],
          );
        }
        assert.equal(n, stats.trades);
        assert.equal(n, cap.trades.length);
        assert.equal(stats.liquidations, 0);
      },
    );
  } finally {
    await replay.stop();
  }
}

/**
 * A frame as compared live vs stored: trades of one millisecond in a
 * stated order (see `inMsOrder`), numbers to 12 significant digits (sums
 * and means are added up in another order by the database).
 */
function comparable(f: any): unknown {
  const round = (v: unknown): unknown =>
    typeof v === "number"
      ? Number(v.toPrecision(12))
      : Array.isArray(v)
      ? v.map(round)
      : v && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)]))
      : v;
  return round({
    ...f,
    trades: inMsOrder(f.trades),
    liquidations: inMsOrder(f.liquidations),
  });
}

/** The recorded trades of one symbol as `/api/v1/trades` rows. */
function expectedTrades(cap: BinanceCapture, symbol: string, exchange: string) {
  return cap.trades.filter((x) => x.s === symbol).map((x) => ({
    ts: Math.floor(x.recv),
    exchangeTs: x.T,
    exchange,
    symbol,
    price: +x.p,
    size: +x.q,
    rawSize: +x.q,
    side: x.m ? "sell" : "buy",
  }));
}

/** Trades sorted by time, then by their JSON within one millisecond. */
function inMsOrder<T extends { ts: number }>(rows: readonly T[]): T[] {
  return [...rows].sort((x, y) =>
    x.ts - y.ts || JSON.stringify(x).localeCompare(JSON.stringify(y))
  );
}

/**
 * Asserts stored bars equal expected ones: times, prices and counts exactly,
 * volumes to 1e-9 relative (a stored 1 m bar sums 1 s bars in SQL, in an
 * order of its own).
 */
function assertBars(got: BarJson[], want: BarJson[], what: string): void {
  const exact = (b: BarJson) => [
    b.ts,
    b.exchange,
    b.symbol,
    b.open,
    b.high,
    b.low,
    b.close,
    b.trades,
  ];
  assert.deepEqual(got.map(exact), want.map(exact), what);
  for (let i = 0; i < want.length; i++) {
    for (const k of ["volume", "buyVolume", "sellVolume"] as const) {
      const [g, w] = [got[i][k], want[i][k]];
      assert.ok(
        Math.abs(g - w) <= 1e-9 * Math.max(1, Math.abs(w)),
        `${what} ${k} at ${want[i].ts}: ${g} ≠ ${w}`,
      );
    }
  }
}

for (const c of CASES) {
  Deno.test(`history (PGlite): ${c.prefix} stored and answered through HTTP`, async (t) => {
    const dataDir = await Deno.makeTempDir({ prefix: "coby_history_" });
    try {
      await scenario(t, c, { dataDir });
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  });
  Deno.test(`history (PostgreSQL): ${c.prefix} stored and answered through HTTP`, async (t) => {
    const dataDir = await Deno.makeTempDir({ prefix: "coby_history_" });
    try {
      await withPostgresUrl((url) => scenario(t, c, { dataDir, url }));
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}
