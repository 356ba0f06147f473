/**
 * The HTTP API over a real capture replay: validation errors, the live book,
 * exchange health, metrics and the SSE heatmap stream.
 */

import assert from "node:assert/strict";
import { createApp } from "../http/app.ts";
import type { ColumnPayload } from "../actors/system/hub.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { rebuildBinance } from "./_rebuild.ts";
import { CAPTURES } from "./_replay.ts";

Deno.test("http: book, exchanges, metrics, health and the heatmap stream on a replay", async (t) => {
  const replay = await Replay.start(
    ["0", "http.0.0", "ws.1.0"].map((s) => `${CAPTURES}/BINANCE.${s}`),
    { speed: "max", tickMs: 100, supervisor: { onLog: () => {} } },
  );
  const app = createApp(replay.coby);
  try {
    await replay.finished();

    await t.step("bad parameters get 400 with the zod message", async () => {
      const res = await app.request(
        "/api/v1/book?exchange=nowhere&symbol=NKNUSDT&depth=0",
      );
      assert.equal(res.status, 400);
      const body = await res.json();
      assert.match(body.error, /exchange/);
      assert.match(body.error, /depth/);
      const res2 = await app.request("/api/v1/heatmap/stream?symbol=nkn");
      assert.equal(res2.status, 400);
      assert.match((await res2.json()).error, /symbol must look like BTC-USDT/);
      const res3 = await app.request(
        "/api/v1/heatmap/stream?symbol=NKN-USDT&exchanges=binance,nowhere",
      );
      assert.equal(res3.status, 400);
      assert.match(
        (await res3.json()).error,
        /exchanges must be a comma list of: binance/,
      );
    });

    await t.step("the book is the exact L2 book, best first", async () => {
      const res = await app.request(
        "/api/v1/book?exchange=binance&symbol=NKNUSDT&depth=5",
      );
      assert.equal(res.status, 200);
      const book = await res.json();
      const want = (await rebuildBinance("BINANCE", false)).get("NKNUSDT")!;
      assert.equal(book.symbol, "NKN-USDT");
      assert.deepEqual(book.bids, want.bids.slice(0, 5));
      assert.deepEqual(book.asks, want.asks.slice(0, 5));
      const missing = await app.request(
        "/api/v1/book?exchange=binance&symbol=BTCUSDT",
      );
      assert.equal(missing.status, 404);
    });

    await t.step("exchanges report connection state and counters", async () => {
      await replay.coby.supervisor.request("conn:binance", "stats", {});
      const { exchanges } = await (await app.request("/api/v1/exchanges"))
        .json();
      assert.equal(exchanges.length, 1);
      assert.equal(exchanges[0].exchange, "binance");
      assert.equal(exchanges[0].connection, "connected");
      assert.equal(exchanges[0].counters.bookUpdates, 176);
      assert.ok(exchanges[0].lastMessageAgeMs >= 0);
      assert.equal(typeof exchanges[0].messageRate, "number");
      assert.deepEqual(
        exchanges[0].connections.map((c: { actor: string }) => c.actor),
        ["conn:binance"],
      );
      assert.equal(exchanges[0].books.NKNUSDT.state, "synced");
    });

    await t.step(
      "metrics are OpenTelemetry counters in Prometheus format",
      async () => {
        const text = await (await app.request("/metrics")).text();
        assert.match(
          text,
          /coby_book_updates_total\{exchange="binance"[^}]*\} 176/,
        );
        assert.match(
          text,
          /coby_sequence_gaps_total\{exchange="binance"[^}]*\} 0/,
        );
        assert.match(
          text,
          /coby_actor_restarts_total\{actor="conn:binance"[^}]*\} 0/,
        );
      },
    );

    await t.step("healthz lists every actor", async () => {
      const h = await (await app.request("/healthz")).json();
      assert.deepEqual(h.actors.map((a: { id: string }) => a.id).sort(), [
        "aggregator",
        "conn:binance",
        "consolidator",
        "replay",
      ]);
    });

    await t.step(
      "the SSE stream sends heatmap columns for a symbol",
      async () => {
        const res = await app.request(
          "/api/v1/heatmap/stream?symbol=NKN-USDT&exchanges=binance",
        );
        assert.equal(res.status, 200);
        const reader = res.body!.pipeThrough(new TextDecoderStream())
          .getReader();
        // The kept history comes first. The replay has ended and ticks follow
        // the recorded clock, so the last kept column is the last tick the
        // recording closed.
        const kept = replay.coby.hub.symbols().find((s) =>
          s.symbol === "NKN-USDT"
        )!.columns;
        const columns: ColumnPayload[] = [];
        let text = "";
        const deadline = Date.now() + 5000;
        while (columns.length < kept && Date.now() < deadline) {
          text += (await reader.read()).value ?? "";
          let end;
          while ((end = text.indexOf("\n\n")) >= 0) {
            const m = text.slice(0, end).match(/^event: column\ndata: (.*)$/m);
            if (m) columns.push(JSON.parse(m[1]));
            text = text.slice(end + 2);
          }
        }
        await reader.cancel();
        assert.ok(columns.length > 0, "no column streamed");
        const col = columns.at(-1)!;
        assert.equal(col.symbol, "NKN-USDT");
        assert.deepEqual(col.exchanges, ["binance"]);
        assert.equal(col.bucketSize, 0.0001);
        assert.equal(col.bestBid, 0.3527);
        assert.equal(col.bestAsk, 0.3531);
        // Stamped on the recording's clock (2021-10-12), not today's.
        assert.equal(col.ts, Date.UTC(2021, 9, 12, 0, 29, 2));
        assert.ok(
          col.bids.some((v: number) => v > 0) &&
            col.asks.some((v: number) => v > 0),
        );
      },
    );
  } finally {
    await replay.stop();
  }
});
