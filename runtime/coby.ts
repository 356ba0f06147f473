/**
 * Starts coby's actors for a configuration and wires their outputs to the
 * heatmap hub and the metrics; shared by `deno task start` and replay.
 *
 * @module
 */

import type { AppDeps } from "../http/deps.ts";
import type { Config } from "./config.ts";
import type { ColumnBatch } from "./heatmap.ts";
import { HeatmapHub } from "./hub.ts";
import { createMetrics } from "./metrics.ts";
import { pipeline } from "./pipeline.ts";
import { Supervisor, type SupervisorOptions } from "./supervisor.ts";

/** Options for {@link startCoby}. */
export interface StartOptions {
  /** Receives NDJSON chunks of every applied event; enables event output. */
  onEvents?: (ndjson: string) => void;
  /** Restart policy overrides (tests use short backoffs). */
  supervisor?: Omit<SupervisorOptions, "onOutput">;
}

/** A running coby. */
export interface Coby {
  readonly supervisor: Supervisor;
  readonly hub: HeatmapHub;
  /** What the HTTP app needs. */
  readonly deps: AppDeps;
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
  const { specs, links } = pipeline(cfg, {
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
    deps: {
      actors: () => supervisor.actors(),
      request: (id, method, params) => supervisor.request(id, method, params),
      hub,
      metrics,
      exchanges: Object.keys(cfg.exchanges),
    },
  };
}
