/**
 * The history routes over a real PGlite database: parameters checked with
 * the zod message, JSON and NDJSON answers, the heatmap columns in the very
 * shape the SSE stream sends, the book at an instant beside the live book,
 * and the errors of a missing or failing history.
 */

import assert from "node:assert/strict";
import { withPgliteDb } from "../../actors/store/_testing.ts";
import { encodeSizes } from "../../actors/store/sizes.ts";
import {
  byteaField,
  CopyWriter,
  floatArrayField,
  NULL,
  timeField,
} from "../../actors/store/copy.ts";
import type { Db } from "../../actors/store/db.ts";
import { ensurePartitions } from "../../actors/store/maintain.ts";
import {
  type HistoryColumn,
  historyHandlers,
} from "../../actors/store/queries.ts";
import type { ColumnBatch } from "../../actors/market/heatmap.ts";
import { type ColumnPayload, HeatmapHub } from "../../actors/system/hub.ts";
import { ActorDownError } from "../../runtime/protocol.ts";
import { createApp } from "../app.ts";
import type { AppDeps } from "../deps.ts";
import {
  BOOK_COLUMNS,
  HEATMAP_COLUMNS,
  IMBALANCE_COLUMNS,
  OHLCV_COLUMNS,
  TRADE_COLUMNS,
} from "../../actors/store/tables.ts";

/** 2026-01-05 UTC. */
const D = Date.UTC(2026, 0, 5);
const DAY = new Date(D).toISOString().slice(0, 10);

/** A few rows of every table the routes read, all on day D. */
async function load(db: Db): Promise<void> {
  await ensurePartitions(db, D, D);
  const trades = new CopyWriter("trades", TRADE_COLUMNS);
  for (let i = 0; i < 5; i++) {
    trades.row([
      timeField(D + i * 1000),
      timeField(D + i * 1000 - 7),
      "binance",
      "BTCUSDT",
      String(60000 + i),
      String(0.5 + i),
      String(0.5 + i),
      i % 2 ? "sell" : "buy",
    ]);
  }
  const bars = new CopyWriter("ohlcv_1s", OHLCV_COLUMNS);
  for (let s = 0; s < 120; s++) {
    bars.row([
      timeField(D + s * 1000),
      "consolidated",
      "BTC-USDT",
      String(60000 + s),
      String(60010 + s),
      String(59990 + s),
      String(60005 + s),
      "1.5",
      "1",
      "0.5",
      "3",
    ]);
  }
  const imb = new CopyWriter("imbalances", IMBALANCE_COLUMNS);
  for (let i = 0; i < 8; i++) {
    imb.row([
      timeField(D + i * 500),
      "binance",
      "BTCUSDT",
      "0.001",
      String(i),
      "2",
      String((i - 2) / (i + 2)),
    ]);
  }
  const heat = new CopyWriter("heatmap", HEATMAP_COLUMNS);
  for (let s = 0; s < 3; s++) {
    heat.row([
      timeField(D + s * 1000),
      "consolidated",
      "BTC-USDT",
      "BTC-USDT",
      "mixed",
      "10",
      "6000",
      s === 0 ? NULL : "60005",
      "60012",
      byteaField(encodeSizes([[1.5, 0], [0, 2.25], [0.5, 0], [0, 0.125]])),
    ]);
  }
  const snaps = new CopyWriter("book_snapshots", BOOK_COLUMNS);
  snaps.row([
    timeField(D + 1000),
    NULL,
    "binance",
    "BTCUSDT",
    "0",
    floatArrayField([60000, 1, 59990, 2]),
    floatArrayField([60010, 1]),
  ]);
  const changes = new CopyWriter("book_changes", snaps.columns);
  changes.row([
    timeField(D + 1500),
    NULL,
    "binance",
    "BTCUSDT",
    "0",
    floatArrayField([60000, 0, 59995, 3]),
    floatArrayField([]),
  ]);
  assert.ok(
    await db.writeBatch("http", [
      trades.take(),
      bars.take(),
      imb.take(),
      heat.take(),
      snaps.take(),
      changes.take(),
    ]),
  );
}

/** Services with a history over `db` (or none), and a live connection stub. */
function depsOf(db: Db | null, hub = new HeatmapHub(10)): AppDeps {
  const handlers = db ? historyHandlers(() => db) : null;
  return {
    actors: () => [],
    request: () => Promise.reject(new Error("No actors in this test")),
    hub,
    metrics: { render: () => Promise.resolve("") },
    exchanges: ["binance", "okx"],
    history: handlers
      ? (method, params) =>
        (handlers[method] as (p: unknown) => Promise<never>)(params)
      : undefined,
  };
}

/** GETs a path of the app. */
function get(deps: AppDeps, path: string, headers: HeadersInit = {}) {
  return createApp(deps).request(path, { headers });
}

/** Asserts a 400 whose message matches. */
async function badRequest(deps: AppDeps, path: string, message: RegExp) {
  const res = await get(deps, path);
  const body = await res.json();
  assert.equal(res.status, 400, `${path}: ${JSON.stringify(body)}`);
  assert.equal(body.code, "bad_request");
  assert.match(body.error, message, path);
}

/** The JSON of the first `column` event of a hub feed. */
function streamedColumn(hub: HeatmapHub): ColumnPayload {
  const buf = new Float64Array([1.5, 0, 0, 2.25, 0.5, 0, 0, 0.125]);
  const batch: ColumnBatch = {
    type: "columns",
    ts: D,
    columns: [{
      exchange: "consolidated",
      exchangeSymbol: "BTC-USDT",
      symbol: "BTC-USDT",
      market: "mixed",
      ts: D,
      bucketSize: 10,
      lo: 6000,
      n: 2,
      bestBid: 60005,
      bestAsk: 60012,
      offset: 0,
    }],
    buf: buf.buffer,
  };
  hub.push(batch);
  const feed = hub.follow("BTC-USDT", null);
  const text = new TextDecoder().decode(feed.take().events[0]);
  feed.close();
  return JSON.parse(text.slice(text.indexOf("data: ") + 6));
}

Deno.test("history routes on PGlite", (t) =>
  withPgliteDb(async (db) => {
    await load(db);
    const deps = depsOf(db);

    await t.step("trades: JSON rows, from and to as ISO or ms", async () => {
      const res = await get(
        deps,
        `/api/v1/trades?exchange=binance&symbol=BTCUSDT&from=${DAY}&to=${
          D + 3000
        }`,
      );
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /application\/json/);
      assert.deepEqual(
        await res.json(),
        [0, 1, 2].map((i) => ({
          ts: D + i * 1000,
          exchangeTs: D + i * 1000 - 7,
          exchange: "binance",
          symbol: "BTCUSDT",
          price: 60000 + i,
          size: 0.5 + i,
          rawSize: 0.5 + i,
          side: i % 2 ? "sell" : "buy",
        })),
      );
      const limited = await get(
        deps,
        `/api/v1/trades?exchanges=binance,okx&symbol=BTCUSDT&from=${
          new Date(D + 1000).toISOString()
        }&limit=2`,
      );
      assert.deepEqual(
        (await limited.json()).map((r: { ts: number }) => r.ts),
        [D + 1000, D + 2000],
      );
    });

    await t.step("NDJSON: one row a line, the same rows", async () => {
      const path = `/api/v1/ohlcv?symbol=BTC-USDT&from=${D}&to=${
        D + 120_000
      }&timeframe=1s&limit=100000`;
      const json = await (await get(deps, path)).json();
      assert.equal(json.length, 120);
      const res = await get(deps, path, { Accept: "application/x-ndjson" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/x-ndjson");
      const text = await res.text();
      assert.ok(text.endsWith("\n"));
      const lines = text.trimEnd().split("\n");
      assert.equal(lines.length, 120);
      assert.deepEqual(lines.map((l) => JSON.parse(l)), json);
    });

    await t.step(
      "ohlcv and imbalances: consolidated by default, shapes",
      async () => {
        const bars = await (await get(
          deps,
          `/api/v1/ohlcv?symbol=BTC-USDT&from=${D}&to=${D + 120_000}`,
        )).json();
        assert.deepEqual(
          bars,
          [0, 1].map((m) => ({
            ts: D + m * 60_000,
            exchange: "consolidated",
            symbol: "BTC-USDT",
            open: 60000 + m * 60,
            high: 60010 + m * 60 + 59,
            low: 59990 + m * 60,
            close: 60005 + m * 60 + 59,
            volume: 90,
            buyVolume: 60,
            sellVolume: 30,
            trades: 180,
          })),
        );
        const imb = await (await get(
          deps,
          `/api/v1/imbalances?exchange=binance&symbol=BTCUSDT&from=${D}&to=${
            D + 4000
          }&window=1000`,
        )).json();
        assert.deepEqual(
          imb.map((
            r: Record<string, number>,
          ) => [r.ts - D, r.bidSize, r.depth]),
          [[0, 0.5, 0.001], [1000, 2.5, 0.001], [2000, 4.5, 0.001], [
            3000,
            6.5,
            0.001,
          ]],
        );
        assert.deepEqual(Object.keys(imb[0]).sort(), [
          "askSize",
          "bidSize",
          "depth",
          "exchange",
          "imbalance",
          "symbol",
          "ts",
        ]);
      },
    );

    await t.step(
      "heatmap/history: the stream's column shape, resolution header",
      async () => {
        const res = await get(
          deps,
          `/api/v1/heatmap/history?symbol=BTC-USDT&from=${D}&to=${D + 3000}`,
        );
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("coby-resolution"), "tick");
        const columns: HistoryColumn[] = await res.json();
        assert.equal(columns.length, 3);
        // The same JSON the SSE stream sends for the same column.
        const streamed = streamedColumn(new HeatmapHub(10));
        const stored = columns[1];
        assert.deepEqual(stored, {
          ...streamed,
          ts: D + 1000,
          exchanges: ["consolidated"],
        });
        assert.deepEqual(Object.keys(stored), Object.keys(streamed));
        assert.equal(columns[0].bestBid, null);
        assert.equal(columns[0].mid, 60012);
        // A history column is a ColumnPayload (checked by the compiler).
        const payload: ColumnPayload = stored;
        assert.ok(payload);
      },
    );

    await t.step("book: live without at, recorded with at", async () => {
      const base = "/api/v1/book?exchange=binance&symbol=BTCUSDT&depth=5";
      const res = await get(deps, `${base}&at=${D + 1500}`);
      assert.equal(res.status, 200);
      // No heatmap column names binance's BTCUSDT: symbol stays the venue's.
      assert.deepEqual(await res.json(), {
        exchange: "binance",
        exchangeSymbol: "BTCUSDT",
        symbol: "BTCUSDT",
        market: "spot",
        state: "synced",
        lastSequence: -1,
        bids: [[59995, 3], [59990, 2]],
        asks: [[60010, 1]],
      });
      const before = await get(
        deps,
        `${base}&at=${new Date(D + 999).toISOString()}`,
      );
      assert.equal(before.status, 404);
      const body = await before.json();
      assert.equal(body.code, "not_found");
      assert.match(body.error, /No book of BTCUSDT on binance/);
      // Without `at` the live path answers: no connection actor here.
      const live = await get(deps, base);
      assert.equal(live.status, 503);
      assert.equal((await live.json()).code, "actor_down");
      await badRequest(deps, `${base}&at=yesterday`, /at "yesterday" must be/);
    });

    await t.step("frame: one object; NDJSON one line", async () => {
      const path = `/api/v1/frame?symbol=BTC-USDT&at=${
        D + 2000
      }&window=2s&depth=1`;
      const res = await get(deps, path);
      assert.equal(res.status, 200);
      const f = await res.json();
      assert.deepEqual(Object.keys(f).sort(), [
        "at",
        "books",
        "from",
        "imbalances",
        "liquidations",
        "ohlcv",
        "quality",
        "series",
        "symbol",
        "trades",
      ]);
      assert.equal(f.from, D);
      assert.deepEqual(Object.keys(f.ohlcv), ["1s", "1m", "5m", "15m", "1h"]);
      assert.deepEqual(f.series, [{
        exchange: "consolidated",
        symbol: "BTC-USDT",
      }]);
      const nd = await get(deps, path, { Accept: "application/x-ndjson" });
      const lines = (await nd.text()).trimEnd().split("\n");
      assert.equal(lines.length, 1);
      assert.deepEqual(JSON.parse(lines[0]), f);
      const none = await get(
        deps,
        `/api/v1/frame?symbol=ETH-USDT&at=${D + 2000}&window=2000`,
      );
      assert.equal(none.status, 404);
    });

    await t.step("400s carry the zod message", async () => {
      const q = `symbol=BTCUSDT&from=${D}&to=${D + 1000}`;
      await badRequest(
        deps,
        `/api/v1/trades?${q}`,
        /exchange or exchanges is required/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchange=binance&exchanges=okx&${q}`,
        /Give exchange or exchanges, not both/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchange=nasdaq&${q}`,
        /exchange "nasdaq" is not an exchange id/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchanges=binance,,okx&${q}`,
        /must not have an empty entry/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchanges=binance,nyse&${q}`,
        /exchanges has "nyse"/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchange=binance&symbol=BTCUSDT&from=2026-01-05T12:00:00`,
        /from "2026-01-05T12:00:00" must be epoch ms or ISO-8601 with a zone/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchange=binance&symbol=BTCUSDT&from=${D}&to=${D}`,
        /from 2026-01-05T00:00:00.000Z must be before to/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchange=binance&${q}&limit=100001`,
        /limit "100001" must be an integer from 1 to 100000/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchange=binance&${q}&limit=1e3`,
        /limit "1e3"/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchange=binance&${q}&exchnage=okx`,
        /exchnage/,
      );
      await badRequest(
        deps,
        `/api/v1/trades?exchange=binance&from=${D}`,
        /symbol/,
      );
      await badRequest(
        deps,
        `/api/v1/ohlcv?${q}&timeframe=2m`,
        /timeframe/,
      );
      await badRequest(
        deps,
        `/api/v1/imbalances?${q}&window=2000`,
        /window/,
      );
      await badRequest(
        deps,
        `/api/v1/heatmap/history?${q}`,
        /symbol must look like BTC-USDT/,
      );
      await badRequest(
        deps,
        `/api/v1/heatmap/history?symbol=BTC-USDT&from=${D}&resolution=2m`,
        /resolution/,
      );
      await badRequest(
        deps,
        `/api/v1/frame?symbol=BTC-USDT&at=${D}&window=2w`,
        /window "2w" must be ms or a duration/,
      );
      await badRequest(
        deps,
        `/api/v1/frame?symbol=BTC-USDT&at=${D}&window=2d`,
        /up to 1d/,
      );
    });
  }));

Deno.test("history routes: 503 no_history without a history, actor_down when its owner is down", async () => {
  const path = `/api/v1/trades?exchange=binance&symbol=BTCUSDT&from=${D}`;
  const none = await get(depsOf(null), path);
  assert.equal(none.status, 503);
  assert.equal((await none.json()).code, "no_history");
  const down: AppDeps = {
    ...depsOf(null),
    history: () => Promise.reject(new ActorDownError("writer", "crashed")),
  };
  const res = await get(down, path);
  assert.equal(res.status, 503);
  assert.equal((await res.json()).code, "actor_down");
  assert.equal(res.headers.get("retry-after"), "5");
});
