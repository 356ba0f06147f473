/**
 * `/metrics` as rendered: the OTel resource names the service `coby`, and
 * every connection actor has its own series, so two connections of one
 * exchange are both counted instead of the last one hiding the first.
 */

import assert from "node:assert/strict";
import type { ActorInfo } from "../../runtime/supervisor.ts";
import { LatencyHistogram } from "../../runtime/latency.ts";
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

Deno.test("metrics: resyncs by cause, malformed frames by reason, circuit, silence and unsynced books per connection", async () => {
  const a = conn("conn:kraken", "kraken", {
    frames: 50,
    resyncs: 3,
    "resyncs.checksum": 2,
    "resyncs.gap": 1,
    malformed: 1,
    "malformed.syntax": 1,
  });
  a.stats.lastDataTs = Date.now() - 5000;
  a.stats.books = {
    "XBT/USD": { state: "synced", lastSequence: 1 },
    "ETH/USD": { state: "buffering", lastSequence: -1 },
  };
  const down: ActorInfo = {
    ...conn("conn:okx", "okx", {}),
    state: "stopped",
    circuit: "open",
  };
  let list = [a, down];
  const m = createMetrics(() => list);
  let text = await m.render();
  const value = (metric: string, ...labels: string[]) =>
    [...samples(text, metric)].find(([l]) => labels.every((x) => l.includes(x)))
      ?.[1];
  assert.equal(value("coby_resyncs_total", "kraken", 'cause="checksum"'), 2);
  assert.equal(value("coby_resyncs_total", "kraken", 'cause="gap"'), 1);
  assert.equal(value("coby_resyncs_total", "kraken", 'cause="stale"'), 0);
  assert.equal(
    value("coby_malformed_frames_total", "kraken", 'reason="syntax"'),
    1,
  );
  assert.equal(
    value("coby_malformed_frames_total", "kraken", 'reason="invalid"'),
    0,
  );
  assert.ok(value("coby_feed_silence_ms", "kraken")! >= 5000);
  assert.equal(value("coby_books_unsynced", "kraken"), 1);
  assert.equal(value("coby_circuit_state", "kraken"), 0);
  assert.equal(value("coby_circuit_state", 'exchange="okx"'), 2);
  // A failed actor's stats are empty: its exchange is remembered, and the
  // trial start after the open circuit is half-open.
  list = [a, {
    ...down,
    state: "starting",
    circuit: "closed",
    halfOpen: true,
    stats: {},
  }];
  text = await m.render();
  assert.equal(value("coby_circuit_state", 'exchange="okx"'), 1);
});

Deno.test("metrics: worker latency histograms merge per exchange; links, SSE and HTTP requests", async () => {
  const spot = new LatencyHistogram();
  const swap = new LatencyHistogram();
  spot.record(3);
  swap.record(0.2);
  swap.record(40);
  const a = conn("conn:huobi:spot", "huobi", {});
  a.stats.latency = { exchange_to_receive: spot.snapshot() };
  const b = conn("conn:huobi:swap", "huobi", {});
  b.stats.latency = { exchange_to_receive: swap.snapshot() };
  const hubLatency = new LatencyHistogram();
  hubLatency.record(1.5);
  const m = createMetrics(() => [a, b], {
    links: () => [
      {
        name: "events",
        from: "conn:huobi:spot",
        to: "aggregator",
        depth: 7,
        backpressure: 2,
      },
      {
        name: "store",
        from: "conn:huobi:spot",
        to: "writer",
        depth: null,
        backpressure: 0,
      },
    ],
    hub: {
      stats: () => ({
        symbols: 1,
        ticks: 9,
        bytes: 1,
        followers: 3,
        dropped: 4,
        served: 900,
      }),
      latency: () => hubLatency.snapshot(),
    },
  });
  m.recordRequest!({
    route: "/api/v1/book",
    method: "GET",
    status: 503,
    ms: 12,
  });
  const text = await m.render();
  const value = (metric: string, ...labels: string[]) =>
    [...samples(text, metric)].find(([l]) => labels.every((x) => l.includes(x)))
      ?.[1];
  // Three latencies of one exchange, from two connections, in one series.
  const e2r = "coby_latency_exchange_to_receive_ms";
  assert.equal(value(`${e2r}_count`, 'exchange="huobi"'), 3);
  assert.equal(value(`${e2r}_sum`, 'exchange="huobi"'), 43.2);
  assert.equal(value(`${e2r}_bucket`, 'exchange="huobi"', 'le="0.25"'), 1);
  assert.equal(value(`${e2r}_bucket`, 'exchange="huobi"', 'le="5"'), 2);
  assert.equal(value(`${e2r}_bucket`, 'exchange="huobi"', 'le="50"'), 3);
  // Hops nobody measured yet are listed, empty.
  assert.equal(value("coby_latency_batch_to_commit_ms_count"), 0);
  assert.equal(value("coby_latency_column_to_sse_ms_count"), 1);
  assert.equal(
    value("coby_link_queue_depth", 'link="events:conn:huobi:spot->aggregator"'),
    7,
  );
  assert.equal(value("coby_link_queue_depth", "writer"), undefined);
  assert.equal(
    value(
      "coby_link_backpressure_total",
      'link="events:conn:huobi:spot->aggregator"',
    ),
    2,
  );
  assert.equal(value("coby_sse_clients"), 3);
  assert.equal(value("coby_sse_dropped_columns_total"), 4);
  assert.equal(value("coby_sse_bytes_total"), 900);
  const req = ['route="/api/v1/book"', 'method="GET"', 'status="503"'];
  assert.equal(value("coby_http_requests_total", ...req), 1);
  assert.equal(
    value("coby_http_request_duration_ms_bucket", ...req, 'le="10"'),
    0,
  );
  assert.equal(
    value("coby_http_request_duration_ms_bucket", ...req, 'le="25"'),
    1,
  );
});

Deno.test("metrics: a bad OTEL_METRIC_EXPORT_INTERVAL is a clear error", () => {
  const env: Record<string, string> = {
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
    OTEL_METRIC_EXPORT_INTERVAL: "soon",
  };
  assert.throws(
    () => createMetrics(() => [], { env: (k) => env[k] }),
    /OTEL_METRIC_EXPORT_INTERVAL must be a positive number of ms, got "soon"/,
  );
});
