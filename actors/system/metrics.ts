/**
 * OpenTelemetry metrics. Counters are `@opentelemetry/api` instruments read
 * from the supervisor's actor stats; `@opentelemetry/sdk-metrics` with the
 * Prometheus exporter renders them at `GET /metrics`. Later work only adds
 * instruments here.
 *
 * @module
 */

import { type BatchObservableResult, metrics } from "@opentelemetry/api";
import {
  PrometheusExporter,
  PrometheusSerializer,
} from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ActorInfo } from "../../runtime/supervisor.ts";

/**
 * Connection counters, exported per connection actor (attributes `exchange`
 * and `connection`, the actor id): counter key → metric name and help.
 */
const COUNTERS: Record<string, [string, string]> = {
  frames: ["coby_frames", "WebSocket frames received"],
  bookUpdates: ["coby_book_updates", "Book snapshots and deltas applied"],
  trades: ["coby_trades", "Trades received"],
  liquidations: ["coby_liquidations", "Liquidations received"],
  gaps: ["coby_sequence_gaps", "Sequence gaps detected"],
  resyncs: ["coby_resyncs", "Book resyncs from a fresh snapshot"],
  checksumFailures: ["coby_checksum_failures", "Book checksum mismatches"],
  crossedBooks: ["coby_crossed_books", "Books found crossed after an update"],
  malformed: ["coby_malformed_frames", "Frames that could not be parsed"],
  reconnects: ["coby_reconnects", "WebSocket reconnects"],
  heartbeats: ["coby_heartbeats", "Heartbeat frames received (not data)"],
  venueErrors: ["coby_venue_errors", "Errors the venue reported"],
  recordErrors: [
    "coby_record_errors",
    "Raw recording I/O errors (the file is dropped, recording retries)",
  ],
  recordDropped: [
    "coby_record_dropped",
    "Raw records dropped while the disk lagged behind",
  ],
};

/** The writer's counters (see `WriterStats`): counter key → metric name and help. */
const STORE_COUNTERS: Record<string, [string, string]> = {
  batches: ["coby_store_batches", "Write batches committed"],
  rows: ["coby_store_rows", "Rows committed"],
  duplicateBatches: [
    "coby_store_duplicate_batches",
    "Write batches the database already had (retries skipped by id)",
  ],
  spooledBatches: [
    "coby_store_spooled_batches",
    "Write batches spooled to disk while the database failed",
  ],
  spoolCorrupt: [
    "coby_store_spool_corrupt_records",
    "Spool records skipped for a bad checksum or a torn tail",
  ],
  quarantinedBatches: [
    "coby_store_quarantined_batches",
    "Write batches the database refused repeatedly, set aside on disk",
  ],
  lostBatches: [
    "coby_store_lost_batches",
    "Write batches neither the database nor the spool could take",
  ],
  writeErrors: ["coby_store_write_errors", "Failed write attempts"],
  lateTrades: [
    "coby_store_late_trades",
    "Trades that arrived after their 1 s bar was written",
  ],
  busPublished: [
    "coby_bus_published",
    "Fan-out stream entries and keys written (Redis or in-process)",
  ],
  busFailed: [
    "coby_bus_failed",
    "Fan-out stream entries and keys that could not be written (Redis down)",
  ],
};

/** Renders metrics in Prometheus text format. */
export interface Metrics {
  /** The current metrics, Prometheus exposition format. */
  render(): Promise<string>;
}

/**
 * Registers the instruments, reading values from `actors()` at collection.
 * @param actors the supervisor's actor snapshot.
 * @returns the renderer for `/metrics`.
 * @example
 * ```ts
 * const m = createMetrics(() => sup.actors());
 * const text = await m.render();
 * ```
 */
export function createMetrics(actors: () => ActorInfo[]): Metrics {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    // `service_name="coby"` on target_info, not `unknown_service:deno`.
    resource: resourceFromAttributes({ "service.name": "coby" }),
    readers: [exporter],
  });
  metrics.setGlobalMeterProvider(provider);
  const meter = provider.getMeter("coby");
  const counters = Object.entries(COUNTERS).map(([key, [name, description]]) =>
    [key, meter.createObservableCounter(name, { description })] as const
  );
  const restarts = meter.createObservableCounter("coby_actor_restarts", {
    description: "Actor restarts by the supervisor",
  });
  const up = meter.createObservableGauge("coby_actor_up", {
    description: "1 when the actor is running or degraded, else 0",
  });
  const store = Object.entries(STORE_COUNTERS).map((
    [key, [name, description]],
  ) => [key, meter.createObservableCounter(name, { description })] as const);
  const tableRows = meter.createObservableCounter("coby_store_table_rows", {
    description: "Rows committed per table",
  });
  const rejected = meter.createObservableCounter("coby_store_rejected_rows", {
    description: "Rows rejected by validation, per reason (never written)",
  });
  const storeGauges = {
    queueRows: meter.createObservableGauge("coby_store_queue_rows", {
      description: "Rows in the writer's in-memory queue",
    }),
    pendingRows: meter.createObservableGauge("coby_store_pending_rows", {
      description: "Rows received and not yet formed into a write batch",
    }),
    spoolBytes: meter.createObservableGauge("coby_store_spool_bytes", {
      description: "Bytes in the spool not yet written to the database",
    }),
    lagMs: meter.createObservableGauge("coby_store_lag_ms", {
      description:
        "Event time between the newest committed batch and the newest received, ms",
    }),
  };
  const writeMs = meter.createObservableGauge("coby_store_write_ms", {
    description: "Batch write duration, ms (stat: last or avg)",
  });
  const dbUp = meter.createObservableGauge("coby_store_db_up", {
    description: "1 when the writer's database answers, else 0",
  });
  const busUp = meter.createObservableGauge("coby_bus_up", {
    description: "1 when the writer's fan-out bus (Redis) is connected, else 0",
  });
  meter.addBatchObservableCallback((r) => {
    for (const a of actors()) {
      if (a.id === "writer") observeWriter(r, a.stats);
      r.observe(restarts, a.restarts, { actor: a.id });
      r.observe(up, a.state === "running" || a.state === "degraded" ? 1 : 0, {
        actor: a.id,
      });
      const exchange = a.stats.exchange;
      const c = a.stats.counters as Record<string, number> | undefined;
      if (typeof exchange !== "string" || !c) continue;
      // One series per connection: an exchange may run several, and
      // observing them under the same attributes would keep only the last.
      const attrs = { exchange, connection: a.id };
      for (const [key, inst] of counters) r.observe(inst, c[key] ?? 0, attrs);
    }
  }, [
    ...counters.map(([, i]) => i),
    restarts,
    up,
    ...store.map(([, i]) => i),
    tableRows,
    rejected,
    ...Object.values(storeGauges),
    writeMs,
    dbUp,
    busUp,
  ]);

  function observeWriter(
    r: BatchObservableResult,
    stats: Record<string, unknown>,
  ): void {
    const c = stats.counters as Record<string, number> | undefined;
    if (!c) return;
    for (const [key, inst] of store) r.observe(inst, c[key] ?? 0);
    for (const [key, v] of Object.entries(c)) {
      if (key.startsWith("rows.")) {
        r.observe(tableRows, v, { table: key.slice(5) });
      } else if (key.startsWith("rejected.")) {
        r.observe(rejected, v, { reason: key.slice(9) });
      }
    }
    for (const [key, inst] of Object.entries(storeGauges)) {
      const v = stats[key];
      if (typeof v === "number") r.observe(inst, v);
    }
    for (const stat of ["Last", "Avg"] as const) {
      const v = stats[`writeMs${stat}`];
      if (typeof v === "number") {
        r.observe(writeMs, v, { stat: stat.toLowerCase() });
      }
    }
    r.observe(dbUp, stats.db === "up" ? 1 : 0);
    if (stats.bus !== undefined) r.observe(busUp, stats.bus === "up" ? 1 : 0);
  }
  const serializer = new PrometheusSerializer();
  return {
    async render() {
      const { resourceMetrics } = await exporter.collect();
      return serializer.serialize(resourceMetrics);
    },
  };
}
