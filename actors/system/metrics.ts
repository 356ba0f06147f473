/**
 * OpenTelemetry metrics. Counters are `@opentelemetry/api` instruments read
 * from the supervisor's actor stats; `@opentelemetry/sdk-metrics` with the
 * Prometheus exporter renders them at `GET /metrics`. Later work only adds
 * instruments here.
 *
 * @module
 */

import { metrics } from "@opentelemetry/api";
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
  meter.addBatchObservableCallback((r) => {
    for (const a of actors()) {
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
  }, [...counters.map(([, i]) => i), restarts, up]);
  const serializer = new PrometheusSerializer();
  return {
    async render() {
      const { resourceMetrics } = await exporter.collect();
      return serializer.serialize(resourceMetrics);
    },
  };
}
