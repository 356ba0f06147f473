/**
 * `deno run -A bench/live.ts`: the live frame (`GET /api/v1/frame` without
 * `at`), answered from the live cache, through the HTTP app.
 *
 * 1. serve path: a cache seeded with a full 15-minute window (1 s bars of
 *    six venues and the consolidated series, 1000 trades a venue, books of
 *    1000 levels a side, 4 imbalance ticks a second), as `deno task serve`
 *    answers it;
 * 2. ingest path: the Binance capture replayed into PGlite, the frame
 *    asked of the writer actor that keeps the cache (a MessageChannel round
 *    trip and a structured clone).
 *
 * The goal is < 2 ms (the seeds ask < 10 ms for cache reads).
 *
 * @module
 */

import { BatchBuilder, Kind } from "../actors/market/batch.ts";
import { encodeColumns } from "../actors/market/heatmap.ts";
import { liveHandlers, LiveState } from "../actors/live/state.ts";
import type { Bar } from "../actors/store/queries/ohlcv.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { HeatmapHub } from "../actors/system/hub.ts";
import { createMetrics } from "../actors/system/metrics.ts";
import { createApp } from "../http/app.ts";
import type { AppDeps } from "../http/deps.ts";

const CMD = "deno run -A bench/live.ts";
const T0 = Date.UTC(2026, 10, 1);
const VENUES = ["binance", "bybit", "coinbase", "kraken", "okx", "kucoin"];
const WINDOW_S = 900;

/** A cache holding a full live window of one key over six venues. */
function seeded(): LiveState {
  const live = new LiveState({ quoteAliases: { USDT: "USD" } });
  const end = T0 + WINDOW_S * 1000;
  for (const ex of VENUES) {
    const b = new BatchBuilder(ex);
    const s = b.symbol({
      exchangeSymbol: "BTCUSDT",
      symbol: "BTC-USDT",
      market: "spot",
    });
    b.clock = T0;
    b.push(s, Kind.Clear, 0, 0, T0);
    for (let i = 1; i <= 1000; i++) {
      b.push(s, Kind.Bid, 60_000 - i * 0.5, 1 + (i % 7), T0);
      b.push(s, Kind.Ask, 60_000 + i * 0.5, 1 + (i % 5), T0);
    }
    live.onBatch(b.take());
    b.symbol({ exchangeSymbol: "BTCUSDT", symbol: "BTC-USDT", market: "spot" });
    for (let i = 0; i < 1000; i++) {
      const t = end - 1000 + i;
      b.clock = t;
      b.push(s, i % 2 ? Kind.Buy : Kind.Sell, 60_000 + (i % 9), 0.01, t);
    }
    live.onBatch(b.take());
  }
  const bars: Bar[] = [];
  for (let i = 0; i < WINDOW_S; i++) {
    for (
      const [ex, sym] of [...VENUES.map((v) => [v, "BTCUSDT"]), [
        "consolidated",
        "BTC-USD",
      ]]
    ) {
      bars.push({
        ts: T0 + i * 1000,
        exchange: ex,
        symbol: sym,
        open: 60_000,
        high: 60_010,
        low: 59_990,
        close: 60_005,
        volume: 2,
        buyVolume: 1,
        sellVolume: 1,
        trades: 12,
      });
    }
  }
  live.onBars(bars);
  const n = 1000;
  for (let i = 0; i < WINDOW_S * 4; i++) {
    const ts = T0 + i * 250;
    live.onColumns(encodeColumns(
      ts,
      [...VENUES, "consolidated"].map((ex) => ({
        exchange: ex,
        exchangeSymbol: ex === "consolidated" ? "BTC-USD" : "BTCUSDT",
        symbol: "BTC-USD",
        market: "spot" as const,
        ts,
        bucketSize: 10,
        lo: 5700,
        n,
        bestBid: 59_999,
        bestAsk: 60_001,
        bids: new Float64Array(n).fill(1),
        asks: new Float64Array(n).fill(1),
        buys: new Float64Array(n),
        sells: new Float64Array(n),
      })),
    ));
  }
  return live;
}

/** Median ms of `runs` calls of `f` (after a warm-up call). */
async function median(runs: number, f: () => Promise<void>): Promise<number> {
  await f();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(runs / 2)];
}

/** Asks `url` of an app, failing on a non-200 answer. */
async function ask(app: ReturnType<typeof createApp>, url: string) {
  const res = await app.request(url);
  if (res.status !== 200) throw new Error(`${url}: ${await res.text()}`);
  await res.arrayBuffer();
}

{
  const live = seeded();
  const handlers = liveHandlers(() => live);
  const deps: AppDeps = {
    actors: () => [],
    request: () => Promise.reject(new Error("no actors")),
    live: async (m, p) => await handlers[m](p as never),
    hub: new HeatmapHub(600),
    metrics: createMetrics(() => []),
    exchanges: VENUES,
  };
  const app = createApp(deps);
  const ms = await median(
    200,
    () => ask(app, "/api/v1/frame?symbol=BTC-USD&window=5m"),
  );
  console.log(
    `live frame, serve path (15 min cache of 6 venues, 5 min window, HTTP JSON): ${
      ms.toFixed(2)
    } ms median (goal < 2 ms)   $ ${CMD}`,
  );
}

{
  const dataDir = await Deno.makeTempDir({ prefix: "coby-bench-live-" });
  const replay = await Replay.start(
    ["0", "http.0.0", "ws.1.0"].map((s) =>
      `../shared/data/captures/cryptofeed/BINANCE.${s}`
    ),
    {
      speed: "max",
      supervisor: { onLog: () => {} },
      store: { enabled: true, dataDir },
    },
  );
  try {
    await replay.finished();
    await replay.coby.request("writer", "flush", { timeoutMs: 30_000 });
    const app = createApp(replay.coby);
    const ms = await median(
      200,
      () => ask(app, "/api/v1/frame?symbol=NKN-USDT&window=5m"),
    );
    console.log(
      `live frame, ingest path (Binance capture, asked of the writer actor, HTTP JSON): ${
        ms.toFixed(2)
      } ms median (goal < 2 ms)   $ ${CMD}`,
    );
  } finally {
    await replay.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}
