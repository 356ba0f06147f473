/**
 * OpenTelemetry metrics. Counters and gauges are `@opentelemetry/api`
 * instruments read at collection from the supervisor's actor stats, its
 * links and the heatmap hub; `@opentelemetry/sdk-metrics` exports them with
 * the Prometheus exporter at `GET /metrics` and, when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set, over OTLP/HTTP (JSON) every
 * `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60000).
 *
 * Latency histograms (ms, buckets {@link LATENCY_BOUNDS_MS}): the actors
 * measure theirs on their own threads and ship cumulative bucket counts in
 * their stats (`runtime/latency.ts`); a `MetricProducer` handed to every
 * reader turns them, and the hub's, into OTel histograms, so Prometheus and
 * OTLP see real histograms. HTTP requests are a synchronous counter and
 * histogram (see `http/metrics_middleware.ts`).
 *
 * The provider is coby's own, not the global one: Deno's built-in
 * telemetry (`OTEL_DENO=true`) installs its own global provider and runs
 * alongside. The resource names the service `coby` and the process
 * (`service.instance.id`), so that ingest and serve are told apart.
 *
 * @module
 */

import {
  type Attributes,
  type BatchObservableResult,
  type HrTime,
  ValueType,
} from "@opentelemetry/api";
import {
  PrometheusExporter,
  PrometheusSerializer,
} from "@opentelemetry/exporter-prometheus";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  type MetricProducer,
  type MetricReader,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  type ActorInfo,
  LINK_HIGH_WATER,
  type LinkInfo,
} from "../../runtime/supervisor.ts";
import {
  LATENCY_BOUNDS_MS,
  type LatencySnapshot,
  mergeLatency,
} from "../../runtime/latency.ts";
import { MALFORMED_REASONS, RESYNC_CAUSES } from "../connection/stats.ts";
import type { HubStats } from "./hub.ts";

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
  checksumFailures: ["coby_checksum_failures", "Book checksum mismatches"],
  crossedBooks: ["coby_crossed_books", "Books found crossed after an update"],
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

/**
 * The latency histograms: stats key of the hop → metric name and help. The
 * connections' hops are per exchange; the others have one series.
 */
const HOPS: Record<string, [string, string]> = {
  exchange_to_receive: [
    "coby_latency_exchange_to_receive_ms",
    "Exchange timestamp to local receive, per book update and trade, ms",
  ],
  receive_to_book: [
    "coby_latency_receive_to_book_ms",
    "Frame received to its book changes applied, ms",
  ],
  book_to_column: [
    "coby_latency_book_to_column_ms",
    "Last book change to the heatmap column emitted (aggregator), ms",
  ],
  column_to_sse: [
    "coby_latency_column_to_sse_ms",
    "Column arrived at the hub to its SSE write to a live viewer, ms",
  ],
  batch_to_commit: [
    "coby_latency_batch_to_commit_ms",
    "Message arrived at the writer to its rows committed, ms",
  ],
};

/** What the metrics read of the heatmap hub (`HeatmapHub`). */
export interface HubSource {
  /** Feeds, dropped columns and bytes served. */
  stats(): HubStats;
  /** Column → SSE write latency. */
  latency(): LatencySnapshot;
}

/** Options for {@link createMetrics}. */
export interface MetricsOptions {
  /** The heatmap hub whose viewers are counted (SSE); none: no SSE series. */
  hub?: HubSource;
  /** The supervisor's links (`Supervisor.links`); none: no link series. */
  links?: () => LinkInfo[];
  /**
   * Reads the environment: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
   * `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) turns OTLP export on,
   * `OTEL_METRIC_EXPORT_INTERVAL` sets its period, ms.
   * @default Deno.env.get
   */
  env?: (key: string) => string | undefined;
  /**
   * `service.instance.id` of the resource.
   * @default `<hostname>-<pid>-<8 random hex digits>`
   */
  instanceId?: string;
}

/** One HTTP request, as the middleware saw it. */
export interface RequestRecord {
  /** The matched route pattern, e.g. `/api/v1/book`; `unmatched` when none. */
  readonly route: string;
  /** The HTTP method. */
  readonly method: string;
  /** The response status. */
  readonly status: number;
  /** Time to the response, ms. */
  readonly ms: number;
}

/** coby's metrics: rendered for Prometheus, recorded by the HTTP layer. */
export interface Metrics {
  /** The current metrics, Prometheus exposition format. */
  render(): Promise<string>;
  /**
   * Counts an HTTP request and its duration (`coby_http_requests`,
   * `coby_http_request_duration_ms`); absent on test stubs.
   */
  recordRequest?(r: RequestRecord): void;
  /** Exports what is pending (OTLP) and stops the readers; absent on stubs. */
  shutdown?(): Promise<void>;
}

/** Default `service.instance.id`: host, pid and a random suffix. */
function defaultInstanceId(): string {
  let host = "localhost";
  try {
    host = Deno.hostname();
  } catch {
    // No `--allow-sys`: the pid and the random part still tell processes apart.
  }
  return `${host}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/** `performance.timeOrigin + performance.now()` as OTel's [s, ns]. */
function hrNow(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/**
 * Registers the instruments, reading values from `actors()` (and the
 * hub's and links' state) at collection.
 * @param actors the supervisor's actor snapshot.
 * @param options the hub, the links, the environment and the instance id.
 * @returns the renderer for `/metrics` and the HTTP recorder.
 * @throws {Error} when `OTEL_METRIC_EXPORT_INTERVAL` is not a positive number.
 * @example
 * ```ts
 * const m = createMetrics(() => sup.actors(), { hub, links: () => sup.links() });
 * const text = await m.render();
 * ```
 */
export function createMetrics(
  actors: () => ActorInfo[],
  options: MetricsOptions = {},
): Metrics {
  const env = options.env ?? ((k: string) => Deno.env.get(k));
  const startTime = hrNow();
  /** Exchange of each connection actor seen: a failed one's stats are empty. */
  const exchanges = new Map<string, string>();
  const producer: MetricProducer = {
    collect(): Promise<CollectionResult> {
      return Promise.resolve({
        resourceMetrics: {
          // Ignored: the reader keeps the provider's resource.
          resource: resourceFromAttributes({}),
          scopeMetrics: [{
            scope: { name: "coby" },
            metrics: histograms(actors(), options.hub, startTime),
          }],
        },
        errors: [],
      });
    },
  };
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    metricProducers: [producer],
  });
  const readers: MetricReader[] = [exporter];
  // As the OTLP spec says: the signal's endpoint as it is, or the base
  // endpoint with `/v1/metrics` appended.
  const base = env("OTEL_EXPORTER_OTLP_ENDPOINT");
  const otlp = env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") ||
    (base ? `${base.replace(/\/+$/, "")}/v1/metrics` : undefined);
  if (otlp) {
    const raw = env("OTEL_METRIC_EXPORT_INTERVAL");
    const interval = raw === undefined ? 60_000 : Number(raw);
    if (!(interval > 0)) {
      throw new Error(
        `OTEL_METRIC_EXPORT_INTERVAL must be a positive number of ms, got ${
          JSON.stringify(raw)
        }`,
      );
    }
    readers.push(
      new PeriodicExportingMetricReader({
        // Headers and timeouts come from the process environment
        // (`OTEL_EXPORTER_OTLP_HEADERS`, …), as the exporter reads them.
        exporter: new OTLPMetricExporter({ url: otlp }),
        exportIntervalMillis: interval,
        exportTimeoutMillis: Math.min(interval, 30_000),
        metricProducers: [producer],
      }),
    );
  }
  const provider = new MeterProvider({
    // `service_name="coby"` on target_info, not `unknown_service:deno`.
    resource: resourceFromAttributes({
      "service.name": "coby",
      "service.instance.id": options.instanceId ?? defaultInstanceId(),
    }),
    readers,
  });
  const meter = provider.getMeter("coby");
  const counters = Object.entries(COUNTERS).map(([key, [name, description]]) =>
    [key, meter.createObservableCounter(name, { description })] as const
  );
  const resyncs = meter.createObservableCounter("coby_resyncs", {
    description:
      "Book resyncs from a fresh snapshot, by cause (gap, checksum, crossed, stale, reconnect, other)",
  });
  const malformed = meter.createObservableCounter("coby_malformed_frames", {
    description:
      "Frames that could not be parsed, by reason (syntax, invalid, other)",
  });
  const circuit = meter.createObservableGauge("coby_circuit_state", {
    description:
      "Connection actor's restart circuit: 0 closed, 1 half-open (a trial start after it was open), 2 open",
  });
  const silence = meter.createObservableGauge("coby_feed_silence_ms", {
    description: "Wall time since the connection's last data frame, ms",
  });
  const unsynced = meter.createObservableGauge("coby_books_unsynced", {
    description: "Books of the connection not in sync (waiting for a snapshot)",
  });
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
  const linkDepth = meter.createObservableGauge("coby_link_queue_depth", {
    description:
      "Messages posted on a MessageChannel link between actors and not yet handled",
  });
  const linkBackpressure = meter.createObservableCounter(
    "coby_link_backpressure",
    {
      description:
        `Heartbeats (1 s) that found a link holding more than ${LINK_HIGH_WATER} messages`,
    },
  );
  const sseClients = meter.createObservableGauge("coby_sse_clients", {
    description: "Heatmap SSE streams open",
  });
  const sseDropped = meter.createObservableCounter(
    "coby_sse_dropped_columns",
    { description: "Columns skipped for SSE viewers that fell behind" },
  );
  const sseBytes = meter.createObservableCounter("coby_sse_bytes", {
    description: "Heatmap SSE event bytes handed to the streams",
  });
  const httpRequests = meter.createCounter("coby_http_requests", {
    description: "HTTP requests by matched route, method and status",
  });
  const httpDuration = meter.createHistogram("coby_http_request_duration_ms", {
    description: "HTTP request duration to the response, ms",
    advice: { explicitBucketBoundaries: [...LATENCY_BOUNDS_MS] },
  });
  meter.addBatchObservableCallback((r) => {
    for (const a of actors()) {
      if (a.id === "writer") observeWriter(r, a.stats);
      r.observe(restarts, a.restarts, { actor: a.id });
      r.observe(up, a.state === "running" || a.state === "degraded" ? 1 : 0, {
        actor: a.id,
      });
      if (typeof a.stats.exchange === "string") {
        exchanges.set(a.id, a.stats.exchange);
      }
      const exchange = exchanges.get(a.id);
      if (exchange === undefined) continue;
      // One series per connection: an exchange may run several, and
      // observing them under the same attributes would keep only the last.
      const attrs = { exchange, connection: a.id };
      r.observe(
        circuit,
        a.circuit === "open" ? 2 : a.halfOpen ? 1 : 0,
        attrs,
      );
      const c = a.stats.counters as Record<string, number> | undefined;
      if (!c) continue;
      for (const [key, inst] of counters) r.observe(inst, c[key] ?? 0, attrs);
      for (const cause of RESYNC_CAUSES) {
        r.observe(resyncs, c[`resyncs.${cause}`] ?? 0, { ...attrs, cause });
      }
      for (const reason of MALFORMED_REASONS) {
        r.observe(malformed, c[`malformed.${reason}`] ?? 0, {
          ...attrs,
          reason,
        });
      }
      const last = a.stats.lastDataTs;
      if (typeof last === "number" && last > 0) {
        r.observe(silence, Math.max(0, Date.now() - last), attrs);
      }
      const books = a.stats.books as
        | Record<string, { state: string }>
        | undefined;
      if (books) {
        let n = 0;
        for (const b of Object.values(books)) if (b.state !== "synced") n++;
        r.observe(unsynced, n, attrs);
      }
    }
    for (const l of options.links?.() ?? []) {
      const link = `${l.name}:${l.from}->${l.to}`;
      if (l.depth !== null) r.observe(linkDepth, l.depth, { link });
      r.observe(linkBackpressure, l.backpressure, { link });
    }
    const hub = options.hub?.stats();
    if (hub) {
      r.observe(sseClients, hub.followers);
      r.observe(sseDropped, hub.dropped);
      r.observe(sseBytes, hub.served);
    }
  }, [
    ...counters.map(([, i]) => i),
    resyncs,
    malformed,
    circuit,
    silence,
    unsynced,
    restarts,
    up,
    ...store.map(([, i]) => i),
    tableRows,
    rejected,
    ...Object.values(storeGauges),
    writeMs,
    dbUp,
    busUp,
    linkDepth,
    linkBackpressure,
    sseClients,
    sseDropped,
    sseBytes,
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
    recordRequest({ route, method, status, ms }) {
      const attrs: Attributes = { route, method, status };
      httpRequests.add(1, attrs);
      httpDuration.record(ms, attrs);
    },
    shutdown: () => provider.shutdown(),
  };
}

/**
 * The latency histograms as OTel metric data: each connection hop merged
 * per exchange, the aggregator's, the writer's and the hub's. Every
 * histogram is listed, empty until its hop is measured.
 */
function histograms(
  actors: ActorInfo[],
  hub: HubSource | undefined,
  startTime: HrTime,
): HistogramMetricData[] {
  /** Hop → attribute key (`exchange=…` or "") → merged snapshot and attributes. */
  const byHop = new Map<
    string,
    Map<string, { attrs: Attributes; snap: LatencySnapshot }>
  >();
  for (const hop of Object.keys(HOPS)) byHop.set(hop, new Map());
  const add = (hop: string, attrs: Attributes, snap: LatencySnapshot) => {
    const series = byHop.get(hop);
    if (!series) return;
    const key = JSON.stringify(attrs);
    const had = series.get(key);
    series.set(key, {
      attrs,
      snap: had ? mergeLatency(had.snap, snap) : snap,
    });
  };
  for (const a of actors) {
    const latency = a.stats.latency as
      | Record<string, LatencySnapshot>
      | undefined;
    if (!latency) continue;
    const exchange = a.stats.exchange;
    const attrs: Attributes = typeof exchange === "string" ? { exchange } : {};
    for (const [hop, snap] of Object.entries(latency)) add(hop, attrs, snap);
  }
  if (hub) add("column_to_sse", {}, hub.latency());
  const endTime = hrNow();
  const out: HistogramMetricData[] = [];
  for (const [hop, series] of byHop) {
    const [name, description] = HOPS[hop];
    // An instrument never measured still shows, with an empty series.
    if (series.size === 0 && !isPerExchange(hop)) {
      series.set("{}", { attrs: {}, snap: empty() });
    }
    out.push({
      descriptor: { name, description, unit: "", valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [...series.values()].map(({ attrs, snap }) => ({
        startTime,
        endTime,
        attributes: attrs,
        value: {
          buckets: { boundaries: [...snap.bounds], counts: [...snap.counts] },
          sum: snap.sum,
          count: snap.count,
          ...(snap.count > 0 ? { min: snap.min, max: snap.max } : {}),
        },
      })),
    });
  }
  return out;
}

/** Whether a hop's series are per exchange (none before a connection reports). */
function isPerExchange(hop: string): boolean {
  return hop === "exchange_to_receive" || hop === "receive_to_book";
}

/** An empty histogram of the latency bounds. */
function empty(): LatencySnapshot {
  return {
    bounds: LATENCY_BOUNDS_MS,
    counts: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0),
    sum: 0,
    count: 0,
    min: Infinity,
    max: -Infinity,
  };
}
