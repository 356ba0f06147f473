/**
 * The heatmap SSE stream over a real hub: columns arrive in order, at most
 * one ping timer is pending while a viewer waits (each tick used to leave a
 * 15 s timer behind), and none once the viewer has gone. Timers are counted
 * with fake timers that never fire.
 */

import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { HeatmapHub } from "../../actors/system/hub.ts";
import { parseConfig } from "../../actors/system/config.ts";
import {
  type ColumnBatch,
  type ColumnInit,
  encodeColumns,
} from "../../actors/market/heatmap.ts";
import type { ColumnPayload } from "../../actors/system/hub.ts";
import type { ReplaySessions } from "../../actors/system/sessions.ts";
import type { AppDeps } from "../deps.ts";
import { heatmapRoutes } from "./heatmap.ts";
import { createApp } from "../app.ts";

/**
 * One consolidated tick of BTC-USDT: two 10-USDT buckets from 60000, resting
 * bids and asks and a buy and a sell volume (sizes in BTC).
 */
function tick(ts: number): ColumnBatch {
  const n = 2;
  const buf = new Float64Array([1.5, 0, 0, 2.25, 0.5, 0, 0, 0.125]);
  return {
    type: "columns",
    ts,
    columns: [{
      exchange: "consolidated",
      exchangeSymbol: "BTC-USDT",
      symbol: "BTC-USDT",
      market: "mixed",
      ts,
      bucketSize: 10,
      lo: 6000,
      n,
      bestBid: 60005,
      bestAsk: 60012,
      offset: 0,
      parts: ["binance"],
    }],
    buf: buf.buffer,
  };
}

Deno.test("heatmap stream: columns in order, no timer left after the viewer leaves", async () => {
  const hub = new HeatmapHub(10);
  const deps: AppDeps = {
    actors: () => [],
    request: () => Promise.reject(new Error("No actors in this test")),
    hub,
    metrics: { render: () => Promise.resolve("") },
    exchanges: ["binance"],
    // BTC-USDT is followed, so its stream opens before its first column.
    config: parseConfig({ exchanges: { binance: { symbols: ["BTC-USDT"] } } }),
  };
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const res = await heatmapRoutes(deps).request(
      "/heatmap/stream?symbol=BTC-USDT",
    );
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = "";
    const columns: { ts: number; bids: number[]; asks: number[] }[] = [];
    // Five ticks, each waking the waiting stream once.
    for (const ts of [1000, 2000, 3000, 4000, 5000]) {
      hub.push(tick(ts));
      while (!columns.some((c) => c.ts === ts)) {
        const { value, done } = await reader.read();
        assert.ok(!done, "stream ended early");
        text += dec.decode(value, { stream: true });
        let end;
        while ((end = text.indexOf("\n\n")) >= 0) {
          const event = text.slice(0, end);
          text = text.slice(end + 2);
          if (!event.startsWith("event: column")) continue;
          columns.push(JSON.parse(event.slice(event.indexOf("data: ") + 6)));
        }
      }
      await clock.tickAsync(0); // the stream goes back to waiting
      assert.ok(
        clock.countTimers() <= 1,
        `${clock.countTimers()} timers pending after tick ${ts}`,
      );
    }
    assert.deepEqual(columns.map((c) => c.ts), [1000, 2000, 3000, 4000, 5000]);
    assert.deepEqual(columns[0].bids, [1.5, 0]);
    assert.deepEqual(columns[0].asks, [0, 2.25]);
    await reader.cancel();
    for (let i = 0; i < 5; i++) await clock.tickAsync(0); // the handler returns
    assert.equal(clock.countTimers(), 0, "timers left after the viewer left");
  } finally {
    clock.uninstall();
  }
});

/**
 * A tick of BTC-USDT on two exchanges and their consolidated sum: three
 * 10-USDT buckets from 60000, sizes from `seed`.
 */
function twoVenueTick(ts: number, seed: number): ColumnBatch {
  const part = (exchange: string, k: number): ColumnInit => ({
    exchange,
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "spot",
    ts,
    bucketSize: 10,
    lo: 6000,
    n: 3,
    bestBid: 60_005 + k,
    bestAsk: 60_015 + k,
    bids: Float64Array.of(seed + k, 0.5 * k, 0),
    asks: Float64Array.of(0, 0.25 + k, seed * k),
    buys: Float64Array.of(0, k, 0),
    sells: Float64Array.of(0.125 * k, 0, 0),
  });
  const a = part("binance", 1), b = part("okx", 2);
  const sum = (key: "bids" | "asks" | "buys" | "sells") =>
    Float64Array.from(a[key], (v, i) => v + b[key][i]);
  return encodeColumns(ts, [a, b, {
    ...a,
    exchange: "consolidated",
    exchangeSymbol: "BTC-USDT",
    market: "mixed",
    parts: ["binance", "okx"],
    bids: sum("bids"),
    asks: sum("asks"),
    buys: sum("buys"),
    sells: sum("sells"),
  }]);
}

Deno.test("heatmap column: each exchange's column of a tick, live and of a session", async () => {
  const live = new HeatmapHub(10);
  const session = new HeatmapHub(10);
  const batches = [1000, 2000].map((ts) => twoVenueTick(ts, ts / 1000));
  for (const b of batches) live.push(b);
  session.push(twoVenueTick(5000, 7));
  const deps: AppDeps = {
    actors: () => [],
    request: () => Promise.reject(new Error("No actors in this test")),
    hub: live,
    metrics: { render: () => Promise.resolve("") },
    exchanges: ["binance", "okx"],
    replay: {
      hub: (id: string) => id === "r1" ? session : undefined,
    } as unknown as ReplaySessions,
  };
  const app = createApp(deps);
  const get = async (query: string) => {
    const res = await app.request(`/api/v1/heatmap/column?${query}`, {
      headers: { Host: "127.0.0.1" },
    });
    return { status: res.status, body: await res.json() };
  };
  // The tick at or before ts, each exchange's own arrays from the batch.
  for (const [ts, want] of [[1000, 0], [1999, 0], [2000, 1], [60_000, 1]]) {
    const { status, body } = await get(`symbol=BTC-USDT&ts=${ts}`);
    assert.equal(status, 200);
    const b = batches[want];
    const f = new Float64Array(b.buf);
    assert.equal(body.ts, b.ts);
    assert.equal(body.columns.length, 2);
    body.columns.forEach((c: ColumnPayload, k: number) => {
      const m = b.columns[k];
      assert.deepEqual(c.exchanges, [m.exchange]);
      assert.deepEqual(c.bids, Array.from(f.subarray(m.offset, m.offset + 3)));
      assert.deepEqual(
        c.asks,
        Array.from(f.subarray(m.offset + 3, m.offset + 6)),
      );
      assert.equal(c.bestAsk, m.bestAsk);
    });
  }
  const s = await get("symbol=BTC-USDT&ts=5000&session=r1");
  assert.equal(s.status, 200);
  assert.equal(s.body.ts, 5000);
  assert.deepEqual(s.body.columns[1].asks, [0, 2.25, 14]);
  for (
    const [query, status, code] of [
      ["symbol=BTC-USDT&ts=999", 404, "not_found"],
      ["symbol=ETH-USDT&ts=2000", 404, "not_found"],
      ["symbol=BTC-USDT&ts=2000&session=r2", 404, "not_found"],
      ["symbol=BTC-USDT&ts=soon", 400, "bad_request"],
      ["symbol=btc&ts=2000", 400, "bad_request"],
    ] as const
  ) {
    const r = await get(query);
    assert.equal(r.status, status, query);
    assert.equal(r.body.code, code, query);
  }
});
