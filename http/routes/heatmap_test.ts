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
import type { ColumnBatch } from "../../actors/market/heatmap.ts";
import type { AppDeps } from "../deps.ts";
import { heatmapRoutes } from "./heatmap.ts";

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
