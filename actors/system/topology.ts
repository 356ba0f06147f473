/**
 * The actor topology built from config: one connection actor per exchange
 * connection feeding the aggregator (its books as columns sampled on the
 * aggregator's ticks, and its trades), which feeds the consolidator; with the
 * store enabled, the writer takes the connections' batches and health
 * events and the consolidator's columns.
 *
 *     conn:<exchange> ──events──▶ aggregator ──columns──▶ consolidator ──▶ supervisor (HTTP)
 *            └──────────store──────────▶ writer ◀──────columns──────┘
 *     replay (sessions, each with its own aggregation) ──session──▶ supervisor (HTTP)
 *            └── store, columns ──▶ writer (only when importing: `deno task replay`)
 *
 * @module
 */

import { adapterFor, connectionGroups } from "../adapters/mod.ts";
import type { Config } from "./config.ts";
import type { ChildSpec, LinkSpec } from "../../runtime/supervisor.ts";

/** The writer's actor id. */
export const WRITER_ID = "writer";

/** The replay actor's id (it runs the replay sessions). */
export const REPLAY_ID = "replay";

/** Options for {@link topology}. */
export interface TopologyOptions {
  /**
   * Emit every applied event as NDJSON on the connection actors' `events` channel.
   * @default false
   */
  emitEvents?: boolean;
  /**
   * Link the replay actor to the writer (`store` and `columns`), so an
   * importing session (`ReplaySpec.store`, `deno task replay`) is stored.
   * Only when no connection feeds the writer: a linked input holds the
   * writer's watermark.
   * @default false
   */
  importReplay?: boolean;
}

/**
 * Builds child specs and links for a configuration.
 * @param cfg the configuration.
 * @param options extra actor settings.
 * @returns the specs in start order and their links.
 */
export function topology(
  cfg: Config,
  options: TopologyOptions = {},
): { specs: ChildSpec[]; links: LinkSpec[] } {
  const actors = new URL("../", import.meta.url);
  const inputs: string[] = [];
  const specs: ChildSpec[] = [
    {
      id: "consolidator",
      module: new URL("consolidator.ts", actors),
      config: { outlierThreshold: cfg.outlierThreshold },
    },
    {
      id: "aggregator",
      module: new URL("aggregator.ts", actors),
      config: {
        tickMs: cfg.tickMs,
        range: cfg.range,
        buckets: cfg.buckets,
        quoteAliases: cfg.quoteAliases,
        // The connections whose clocks hold the tick watermark (filled below).
        inputs,
      },
    },
  ];
  specs.push({
    id: REPLAY_ID,
    module: new URL("replay.ts", actors),
    config: {
      tickMs: cfg.tickMs,
      range: cfg.range,
      buckets: cfg.buckets,
      quoteAliases: cfg.quoteAliases,
      outlierThreshold: cfg.outlierThreshold,
      maxSessions: cfg.replay.maxSessions,
      outputs: options.importReplay && cfg.store.enabled
        ? ["store", "columns"]
        : [],
    },
  });
  const links: LinkSpec[] = [{
    name: "columns",
    from: "aggregator",
    to: "consolidator",
  }];
  const store = cfg.store.enabled;
  if (store) {
    // First to start, so last to stop: every other actor has flushed to it.
    specs.unshift({
      id: WRITER_ID,
      module: new URL("writer.ts", actors),
      // Unset tuning (undefined) takes the writer's defaults.
      config: {
        url: cfg.store.url,
        dataDir: cfg.store.dataDir,
        retentionMs: cfg.store.retentionMs,
        flushMs: cfg.store.flushMs,
        batchRows: cfg.store.batchRows,
        queueRows: cfg.store.queueRows,
        quoteAliases: cfg.quoteAliases,
        bus: {
          url: cfg.bus.url,
          prefix: cfg.bus.prefix,
          eventsMaxLen: cfg.bus.eventsMaxLen,
          columnsMaxLen: cfg.history * 6,
        },
      },
      // Its last writes (or spooling) take up to 10 s.
      shutdownMs: 15_000,
    });
    links.push({ name: "columns", from: "consolidator", to: WRITER_ID });
    if (options.importReplay) {
      links.push({ name: "store", from: REPLAY_ID, to: WRITER_ID });
      links.push({ name: "columns", from: REPLAY_ID, to: WRITER_ID });
    }
    links.push({ name: "history", from: REPLAY_ID, to: WRITER_ID });
  }
  for (const [exchange, ex] of Object.entries(cfg.exchanges)) {
    for (
      const [group, symbols] of connectionGroups(
        exchange,
        ex.symbols,
        ex.apiDate,
      )
    ) {
      if (ex.groups && !ex.groups.includes(group)) continue;
      // Venues cap subscriptions per connection: spread symbols over several.
      const per = adapterFor(exchange, ex.apiDate).maxSymbolsPerConnection ??
        symbols.length;
      for (let chunk = 0; chunk * per < symbols.length; chunk++) {
        const id = connectionId(exchange, group, chunk);
        inputs.push(id);
        specs.push({
          id,
          module: new URL("connection/mod.ts", actors),
          config: {
            id,
            exchange,
            ...ex,
            symbols: symbols.slice(chunk * per, (chunk + 1) * per),
            group,
            emitEvents: options.emitEvents ?? false,
            // The connection buckets its own books on the aggregator's ticks.
            sampling: {
              tickMs: cfg.tickMs,
              range: cfg.range,
              buckets: cfg.buckets,
              quoteAliases: cfg.quoteAliases,
            },
            outputs: store ? ["events", "store"] : ["events"],
            record: recordOf(cfg, exchange),
          },
        });
        links.push({ name: "events", from: id, to: "aggregator" });
        if (store) links.push({ name: "store", from: id, to: WRITER_ID });
      }
    }
  }
  return { specs, links };
}

/**
 * The recorder settings of an exchange's connection actors (their config's
 * `record`), when `cfg.record.exchanges` names it or is `["*"]`.
 */
function recordOf(
  cfg: Config,
  exchange: string,
): { dir: string; maxBytes: number; maxAgeMs: number } | undefined {
  const r = cfg.record;
  if (!r.exchanges.includes("*") && !r.exchanges.includes(exchange)) {
    return undefined;
  }
  return { dir: r.dir, maxBytes: r.maxBytes, maxAgeMs: r.maxAgeMs };
}

/**
 * The actor id of one of an exchange's connection actors.
 * @param exchange exchange id.
 * @param group connection group, `""` for venues with one connection.
 * @param chunk index of the connection within its group (symbols beyond a
 * venue's per-connection limit go to further connections).
 * @returns e.g. `conn:binance`, `conn:huobi-swap:linear`, `conn:mexc#2`.
 */
export function connectionId(exchange: string, group = "", chunk = 0): string {
  const base = group ? `conn:${exchange}:${group}` : `conn:${exchange}`;
  return chunk ? `${base}#${chunk + 1}` : base;
}

/**
 * Whether an actor id is one of an exchange's connection actors.
 * @param id actor id.
 * @param exchange exchange id.
 */
export function isConnectionOf(id: string, exchange: string): boolean {
  return id === `conn:${exchange}` || id.startsWith(`conn:${exchange}:`) ||
    id.startsWith(`conn:${exchange}#`);
}
