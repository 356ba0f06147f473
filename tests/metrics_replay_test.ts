/**
 * `/metrics` scraped during a capture replay (Binance spot, at 8× speed,
 * with the store on, two heatmap viewers, one of them paused, and two bad
 * frames injected: a truncated one and a sequence gap): every instrument of
 * issue 11 is there, the ones the replay exercises are not zero, and the
 * latency histograms have millisecond buckets.
 */

import assert from "node:assert/strict";
import { Replay } from "../actors/system/capture_replay.ts";
import { createApp } from "../http/app.ts";
import { captureFiles, NKN_GAP_FRAME } from "./_replay.ts";

/** Every sample of `text`: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = line.match(/^([a-z_]+(?:\{[^}]*\})?) (\S+)$/);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** The summed value of a metric's samples whose labels include every `label`. */
function total(s: Map<string, number>, metric: string, ...labels: string[]) {
  let sum = 0;
  let n = 0;
  for (const [k, v] of s) {
    const name = k.split("{")[0];
    if (name !== metric || !labels.every((l) => k.includes(l))) continue;
    sum += v;
    n++;
  }
  assert.ok(n > 0, `no sample of ${metric} ${labels.join(" ")}`);
  return sum;
}

/** Exercised by the replay: must be above zero. */
const NON_ZERO = [
  "coby_frames_total",
  "coby_book_updates_total",
  "coby_trades_total",
  "coby_actor_up",
  "coby_store_batches_total",
  "coby_store_rows_total",
  "coby_store_db_up",
  "coby_sse_bytes_total",
  "coby_sse_dropped_columns_total",
  "coby_http_requests_total",
];
/** Present, and zero on a clean replay (or whatever the moment shows). */
const PRESENT = [
  "coby_liquidations_total",
  "coby_sequence_gaps_total",
  "coby_resyncs_total",
  "coby_checksum_failures_total",
  "coby_crossed_books_total",
  "coby_malformed_frames_total",
  "coby_reconnects_total",
  "coby_actor_restarts_total",
  "coby_store_spool_bytes",
  "coby_store_lag_ms",
  "coby_store_queue_rows",
  "coby_bus_up",
  "coby_store_lost_batches_total",
  "coby_store_write_errors_total",
  "coby_circuit_state",
  "coby_feed_silence_ms",
  "coby_books_unsynced",
  "coby_link_queue_depth",
  "coby_link_backpressure_total",
  "coby_sse_clients",
];
const HISTOGRAMS = [
  "coby_http_request_duration_ms",
  "coby_latency_exchange_to_receive_ms",
  "coby_latency_receive_to_book_ms",
  "coby_latency_book_to_column_ms",
  "coby_latency_column_to_sse_ms",
  "coby_latency_batch_to_commit_ms",
];
const LE = [
  "0.1",
  "0.25",
  "0.5",
  "1",
  "2.5",
  "5",
  "10",
  "25",
  "50",
  "100",
  "250",
  "500",
  "1000",
  "2500",
  "5000",
  "10000",
  "+Inf",
];

Deno.test("metrics during a capture replay: every instrument, non-zero where exercised, histograms in ms", async () => {
  const dir = await Deno.makeTempDir();
  const replay = await Replay.start(captureFiles("BINANCE"), {
    speed: 8,
    inject: {
      binance: [
        { afterFrame: 20, text: `{"stream":"nknusdt@depth@100ms","data":{` },
        { afterFrame: 30, text: NKN_GAP_FRAME }, // a gap: stays unsynced
      ],
    },
    supervisor: { onLog: () => {} },
    store: { enabled: true, dataDir: dir },
  });
  const app = createApp(replay.coby, { streamQueue: 2 });
  const stream = "/api/v1/heatmap/stream?symbol=LRC-BTC";
  const live = await app.request(stream);
  const paused = await app.request(stream);
  assert.equal(live.status, 200);
  assert.equal(paused.status, 200);
  const liveReader = live.body!.getReader();
  const pausedReader = paused.body!.getReader();
  const dec = new TextDecoder();
  try {
    // The live viewer reads every column as it comes.
    let columns = 0;
    const reading = (async () => {
      for (;;) {
        const { value, done } = await liveReader.read();
        if (done) return;
        columns += dec.decode(value).match(/^event: column$/gm)?.length ?? 0;
      }
    })();
    // The paused one reads its first column, then falls behind more than
    // `streamQueue` columns and is told of the gap.
    const first = await pausedReader.read();
    assert.match(dec.decode(first.value), /event: column/);
    await replay.finished();
    let gap = false;
    while (!gap) {
      const { value, done } = await pausedReader.read();
      if (done) break;
      gap = /^event: gap$/m.test(dec.decode(value));
    }
    assert.ok(gap, "the paused viewer got a gap");
    assert.ok(columns > 5, `${columns} live columns`);
    // Every stats message (once a second) has arrived, the writer committed.
    await replay.coby.request("writer", "flush", {});
    await new Promise((r) => setTimeout(r, 1500));
    const res = await app.request("/metrics");
    assert.equal(res.status, 200);
    const text = await res.text();
    const s = samples(text);

    assert.match(text, /^target_info\{[^}]*service_name="coby"/m);
    assert.match(text, /^target_info\{[^}]*service_instance_id="[^"]+"/m);
    for (const m of NON_ZERO) {
      assert.ok(total(s, m) > 0, `${m} is zero`);
    }
    for (const m of PRESENT) total(s, m);
    // Per connection, resyncs by cause and malformed frames by reason.
    const conn = 'exchange="binance",connection="conn:binance"';
    assert.ok(total(s, "coby_frames_total", conn) > 0);
    // The injected frames: one gap resynced, one frame that is not JSON.
    assert.equal(total(s, "coby_sequence_gaps_total", conn), 1);
    assert.ok(total(s, "coby_resyncs_total", conn, 'cause="gap"') >= 1);
    for (const cause of ["checksum", "crossed", "reconnect", "other"]) {
      assert.equal(total(s, "coby_resyncs_total", conn, `cause="${cause}"`), 0);
    }
    assert.equal(
      total(s, "coby_malformed_frames_total", conn, 'reason="syntax"'),
      1,
    );
    for (const reason of ["invalid", "other"]) {
      assert.equal(
        total(s, "coby_malformed_frames_total", conn, `reason="${reason}"`),
        0,
      );
    }
    assert.equal(total(s, "coby_circuit_state", conn), 0);
    assert.equal(total(s, "coby_books_unsynced", conn), 1, "NKNUSDT");
    // The links between actors, each named by its ends.
    total(s, "coby_link_queue_depth", 'link="events:conn:binance->aggregator"');
    total(
      s,
      "coby_link_queue_depth",
      'link="columns:aggregator->consolidator"',
    );
    // HTTP by route pattern, method and status.
    assert.ok(
      total(
        s,
        "coby_http_requests_total",
        'route="/api/v1/heatmap/stream"',
        'method="GET"',
        'status="200"',
      ) >= 2,
    );
    // Every histogram has the millisecond buckets and counted something.
    for (const h of HISTOGRAMS) {
      const les = [...s.keys()]
        .filter((k) => k.startsWith(`${h}_bucket{`))
        .map((k) => k.match(/le="([^"]+)"/)![1]);
      for (const le of LE) assert.ok(les.includes(le), `${h} le=${le}`);
      assert.ok(total(s, `${h}_count`) > 0, `${h} counted nothing`);
    }
    assert.ok(
      total(
        s,
        "coby_latency_exchange_to_receive_ms_count",
        'exchange="binance"',
      ) >
        0,
    );
    // Cumulative buckets: the +Inf one holds every value.
    for (const h of HISTOGRAMS) {
      assert.equal(
        total(s, `${h}_bucket`, 'le="+Inf"'),
        total(s, `${h}_count`),
        h,
      );
    }
    await liveReader.cancel();
    await reading;
  } finally {
    await liveReader.cancel().catch(() => {});
    await pausedReader.cancel().catch(() => {});
    await replay.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
