/**
 * `/metrics` as rendered: the OTel resource names the service `coby`, and
 * every connection actor has its own series, so two connections of one
 * exchange are both counted instead of the last one hiding the first.
 */

import assert from "node:assert/strict";
import type { ActorInfo } from "../../runtime/supervisor.ts";
import { createMetrics } from "./metrics.ts";

/** A running connection actor of `exchange` with these counters. */
function conn(
  id: string,
  exchange: string,
  counters: Record<string, number>,
): ActorInfo {
  return {
    id,
    state: "running",
    circuit: "closed",
    detail: "",
    restarts: 0,
    lastError: null,
    stats: { exchange, counters },
  };
}

/** The samples of one metric: label text → value. */
function samples(text: string, metric: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = line.match(new RegExp(`^${metric}\\{(.*)\\} (\\S+)$`));
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

const ACTORS = [
  conn("conn:huobi-swap:swap", "huobi-swap", { frames: 100, trades: 3 }),
  conn("conn:huobi-swap:linear", "huobi-swap", { frames: 7, trades: 2 }),
  conn("conn:binance", "binance", { frames: 5 }),
];

Deno.test("metrics: the OTel resource names the service coby", async () => {
  const text = await createMetrics(() => ACTORS).render();
  assert.match(text, /^target_info\{[^}]*service_name="coby"/m);
  assert.doesNotMatch(text, /unknown_service/);
});

Deno.test("metrics: one series per connection, two connections of one exchange both counted", async () => {
  const text = await createMetrics(() => ACTORS).render();

  const frames = samples(text, "coby_frames_total");
  const byConnection = new Map(
    [...frames].map(([labels, v]) => {
      const c = labels.match(/connection="([^"]+)"/)?.[1];
      const ex = labels.match(/exchange="([^"]+)"/)?.[1];
      return [`${ex} ${c}`, v];
    }),
  );
  assert.deepEqual(
    byConnection,
    new Map([
      ["huobi-swap conn:huobi-swap:swap", 100],
      ["huobi-swap conn:huobi-swap:linear", 7],
      ["binance conn:binance", 5],
    ]),
  );
  // Summed over an exchange's connections, as a Prometheus query would.
  let swapFrames = 0;
  for (const [labels, v] of frames) {
    if (labels.includes('exchange="huobi-swap"')) swapFrames += v;
  }
  assert.equal(swapFrames, 107);
  const trades = samples(text, "coby_trades_total");
  assert.equal(
    [...trades].filter(([l]) => l.includes("huobi-swap")).reduce(
      (s, [, v]) => s + v,
      0,
    ),
    5,
  );
});

Deno.test("metrics: the writer's rows, rejections, queue, spool, lag, database and bus state", async () => {
  const writer: ActorInfo = {
    id: "writer",
    state: "running",
    circuit: "closed",
    detail: "",
    restarts: 0,
    lastError: null,
    stats: {
      counters: {
        batches: 4,
        rows: 1200,
        "rows.trades": 1000,
        "rows.book_changes": 200,
        "rejected.bad price": 3,
        spooledBatches: 2,
        busPublished: 40,
        busFailed: 3,
      },
      db: "down",
      bus: "down",
      queueRows: 5000,
      pendingRows: 12,
      spoolBytes: 65536,
      writeMsLast: 8,
      writeMsAvg: 6.5,
      lagMs: 1500,
    },
  };
  const text = await createMetrics(() => [...ACTORS, writer]).render();
  /** The value of `metric` on the series whose labels include `label`. */
  const value = (metric: string, label = "") =>
    [...samples(text, metric)].find(([l]) => l.includes(label))?.[1];
  assert.equal(value("coby_store_rows_total"), 1200);
  assert.equal(value("coby_store_spooled_batches_total"), 2);
  assert.equal(value("coby_store_table_rows_total", 'table="trades"'), 1000);
  assert.equal(
    value("coby_store_rejected_rows_total", 'reason="bad price"'),
    3,
  );
  assert.equal(value("coby_store_queue_rows"), 5000);
  assert.equal(value("coby_store_spool_bytes"), 65536);
  assert.equal(value("coby_store_lag_ms"), 1500);
  assert.equal(value("coby_store_write_ms", 'stat="avg"'), 6.5);
  assert.equal(value("coby_store_db_up"), 0);
  assert.equal(value("coby_bus_published_total"), 40);
  assert.equal(value("coby_bus_failed_total"), 3);
  assert.equal(value("coby_bus_up"), 0);
});
