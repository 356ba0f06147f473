/**
 * The actor topology built from config: one connection actor per exchange
 * connection feeding the aggregator, which feeds the consolidator.
 *
 *     conn:<exchange> ──batches──▶ aggregator ──columns──▶ consolidator ──▶ supervisor (HTTP)
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { ChildSpec, LinkSpec } from "./supervisor.ts";

/** Options for {@link pipeline}. */
export interface PipelineOptions {
  /**
   * Emit every applied event as NDJSON on the connection actors' `events` channel.
   * @default false
   */
  emitEvents?: boolean;
}

/**
 * Builds child specs and links for a configuration.
 * @param cfg the configuration.
 * @param options extra actor settings.
 * @returns the specs in start order and their links.
 */
export function pipeline(
  cfg: Config,
  options: PipelineOptions = {},
): { specs: ChildSpec[]; links: LinkSpec[] } {
  const actors = new URL("../actors/", import.meta.url);
  const specs: ChildSpec[] = [
    {
      id: "consolidator",
      module: new URL("consolidator.ts", actors),
      config: {},
    },
    {
      id: "aggregator",
      module: new URL("aggregator.ts", actors),
      config: {
        tickMs: cfg.tickMs,
        range: cfg.range,
        buckets: cfg.buckets,
        quoteAliases: cfg.quoteAliases,
      },
    },
  ];
  const links: LinkSpec[] = [{
    name: "columns",
    from: "aggregator",
    to: "consolidator",
  }];
  for (const [exchange, ex] of Object.entries(cfg.exchanges)) {
    const id = connectionId(exchange);
    specs.push({
      id,
      module: new URL("connection.ts", actors),
      config: { exchange, ...ex, emitEvents: options.emitEvents ?? false },
    });
    links.push({ name: "events", from: id, to: "aggregator" });
  }
  return { specs, links };
}

/**
 * The actor id of an exchange's connection actor.
 * @param exchange exchange id.
 */
export function connectionId(exchange: string): string {
  return `conn:${exchange}`;
}
