import assert from "node:assert/strict";
import { Supervisor } from "../runtime/supervisor.ts";
import type { FlushParams, WriterStats } from "./market/requests.ts";
import { openCapture } from "./store/_capture_feed_test.ts";
import { openDb } from "./store/open.ts";
import type { RangeParams, TradeRow } from "./store/queries.ts";
import { EventRows } from "./store/rows.ts";

type Requests = {
  flush: { params: FlushParams; result: WriterStats };
  trades: { params: RangeParams; result: TradeRow[] };
  sent: {
    params: Record<string, never>;
    result: { batches: number; records: number; health: number };
  };
};

/** The rows a capture's batches make, per table, and its trade count. */
async function expected(prefix: string) {
  const feed = await openCapture(prefix);
  const rows = new EventRows();
  let trades = 0;
  feed.run((_ts, events) => {
    for (const ev of events) if (ev.type === "trade") trades++;
  });
  rows.onBatch(feed.batch.take());
  const counts: Record<string, number> = {};
  for (const p of rows.take()) counts[p.table] = p.rows;
  return { counts, trades };
}

Deno.test("writer actor: stores what a linked feed sends, answers flush and history queries, writes the last bars on stop", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "coby_writer_" });
  const logs: string[] = [];
  const sup = new Supervisor<Requests>(
    [
      {
        id: "writer",
        module: new URL("writer.ts", import.meta.url),
        config: { dataDir, flushMs: 50 },
        shutdownMs: 15_000,
      },
      {
        id: "feed:okx",
        module: new URL("_writer_feeder_test.ts", import.meta.url),
        config: { prefix: "OKX" },
      },
    ],
    [{ name: "store", from: "feed:okx", to: "writer" }],
    {
      onLog: (id, level, msg) => logs.push(`${id} ${level} ${msg}`),
    },
  );
  try {
    const want = await expected("OKX");
    await sup.start();
    let sent = await sup.request("feed:okx", "sent", {});
    for (let i = 0; i < 200 && sent.batches === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      sent = await sup.request("feed:okx", "sent", {});
    }
    assert.ok(sent.batches > 1);
    const s = await sup.request("writer", "flush", {});
    assert.equal(s.db, "up");
    assert.equal(s.inputs, 1);
    assert.equal(s.spoolBytes, 0);
    assert.equal(s.counters.rejected, 0);
    for (const [table, n] of Object.entries(want.counts)) {
      assert.equal(s.counters[`rows.${table}`], n, table);
    }
    assert.equal(s.counters["rows.trades"], want.trades);
    assert.equal(s.counters["rows.health_events"], 1);
    const trades = await sup.request("writer", "trades", {
      exchanges: ["okx"],
      symbol: "BTC-USDT",
      from: Date.UTC(2020, 0, 1),
      to: Date.UTC(2030, 0, 1),
    });
    assert.ok(trades.length > 0);
    assert.ok(
      trades.every((t) => t.price > 0 && Number.isFinite(t.ts)),
    );
  } finally {
    await sup.stop();
  }
  try {
    // The stop wrote every bar still open: the feed had stopped.
    const db = await openDb({ dataDir: `${dataDir}/pglite` });
    try {
      const [bars] = await db.query<{ n: number }>(
        "SELECT sum(trades)::int AS n FROM ohlcv_1s WHERE exchange = 'okx'",
      );
      assert.equal(bars.n, (await expected("OKX")).trades);
    } finally {
      await db.close();
    }
    assert.ok(
      logs.some((l) => l === "writer info Database open (pglite)"),
      logs.join("\n"),
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
