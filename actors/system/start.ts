/**
 * Starts coby's actors for a configuration and wires their outputs to the
 * heatmap hub and the metrics; shared by `deno task start` and replay.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { ColumnBatch } from "../market/heatmap.ts";
import { HeatmapHub } from "./hub.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { topology } from "./topology.ts";
import {
  type ActorInfo,
  Supervisor,
  type SupervisorOptions,
} from "../../runtime/supervisor.ts";

/** Options for {@link startCoby}. */
export interface StartOptions {
  /** Receives NDJSON chunks of every applied event; enables event output. */
  onEvents?: (ndjson: string) => void;
  /** Restart policy overrides (tests use short backoffs). */
  supervisor?: Omit<SupervisorOptions, "onOutput">;
}

/** A running coby: the supervised actors and what the HTTP layer reads. */
export interface Coby {
  /** The supervisor of every actor. */
  readonly supervisor: Supervisor;
  /** Heatmap columns for viewers. */
  readonly hub: HeatmapHub;
  /** OpenTelemetry metrics over the actors' counters. */
  readonly metrics: Metrics;
  /** Exchange ids that are configured. */
  readonly exchanges: readonly string[];
  /** Every actor's state and stats. */
  actors(): ActorInfo[];
  /** A request to an actor; rejects when the actor is down or answers an error. */
  request(id: string, method: string, params: unknown): Promise<unknown>;
}

/**
 * Spawns and links every actor and waits until all have initialised.
 * @param cfg the configuration.
 * @param options event output and restart policy.
 * @returns the running system; stop it with `coby.supervisor.stop()`.
 * @example
 * ```ts
 * const coby = await startCoby(await loadConfig((k) => Deno.env.get(k)));
 * ```
 */
export async function startCoby(
  cfg: Config,
  options: StartOptions = {},
): Promise<Coby> {
  const hub = new HeatmapHub(cfg.history);
  const { specs, links } = topology(cfg, {
    emitEvents: options.onEvents !== undefined,
  });
  const supervisor = new Supervisor(specs, links, {
    ...options.supervisor,
    onOutput(_id, channel, data) {
      if (channel === "columns") hub.push(data as ColumnBatch);
      else if (channel === "events") options.onEvents?.(data as string);
    },
  });
  await supervisor.start();
  const metrics = createMetrics(() => supervisor.actors());
  return {
    supervisor,
    hub,
    metrics,
    exchanges: Object.keys(cfg.exchanges),
    actors: () => supervisor.actors(),
    request: (id, method, params) => supervisor.request(id, method, params),
  };
}
