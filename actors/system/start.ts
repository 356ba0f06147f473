/**
 * Starts coby's actors for a configuration and wires their outputs to the
 * heatmap hub and the metrics; shared by `deno task start` and replay.
 *
 * @module
 */

import type { Config } from "./config.ts";
import type { ColumnBatch } from "../market/heatmap.ts";
import type { CobyRequests } from "../market/requests.ts";
import { HeatmapHub } from "./hub.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { topology } from "./topology.ts";
import {
  type ActorInfo,
  Supervisor,
  type SupervisorOptions,
} from "../../runtime/supervisor.ts";
import type {
  RequestMethod,
  RequestParams,
  RequestResult,
} from "../../runtime/protocol.ts";

/** Options for {@link startCoby}. */
export interface StartOptions {
  /** Receives NDJSON chunks of every applied event; enables event output. */
  onEvents?: (ndjson: string) => void;
  /** Restart policy overrides (tests use short backoffs). */
  supervisor?: Omit<SupervisorOptions, "onOutput">;
  /**
   * Heatmap history cap in bytes over the configuration's `historyBytes`
   * (the load bench fills a small one quickly).
   */
  historyBytes?: number;
}

/** A running coby: the supervised actors and what the HTTP layer reads. */
export interface Coby {
  /** The supervisor of every actor, typed by coby's request maps. */
  readonly supervisor: Supervisor<CobyRequests>;
  /** Heatmap columns for viewers. */
  readonly hub: HeatmapHub;
  /** OpenTelemetry metrics over the actors' counters. */
  readonly metrics: Metrics;
  /** Exchange ids that are configured. */
  readonly exchanges: readonly string[];
  /** The configuration it runs with. */
  readonly config: Config;
  /**
   * Every actor's state and stats.
   * @returns one entry per actor.
   */
  actors(): ActorInfo[];
  /**
   * A typed request to an actor (see `CobyRequests`).
   * @param id actor id.
   * @param method request method.
   * @param params its params.
   * @returns the method's result.
   * @throws {ActorDownError} at once when the actor is down or fails while
   * the request is pending.
   * @throws {RequestError} with the actor's code when it answers an error.
   */
  request<K extends RequestMethod<CobyRequests>>(
    id: string,
    method: K,
    params: RequestParams<CobyRequests, K>,
  ): Promise<RequestResult<CobyRequests, K>>;
}

/**
 * Spawns and links every actor and waits until all have initialised.
 * @param cfg the configuration.
 * @param options event output and restart policy.
 * @returns the running system; stop it with `coby.supervisor.stop()`.
 * @throws {StartError} when an actor fails before it is ready (its init
 * throws, say); the other actors are stopped by then.
 * @example
 * ```ts
 * const coby = await startCoby(await loadConfig((k) => Deno.env.get(k)));
 * ```
 */
export async function startCoby(
  cfg: Config,
  options: StartOptions = {},
): Promise<Coby> {
  const hub = new HeatmapHub(cfg.history, {
    historyBytes: options.historyBytes ?? cfg.historyBytes,
  });
  const { specs, links } = topology(cfg, {
    emitEvents: options.onEvents !== undefined,
  });
  const supervisor = new Supervisor<CobyRequests>(specs, links, {
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
    config: cfg,
    actors: () => supervisor.actors(),
    request: (id, method, params) => supervisor.request(id, method, params),
  };
}
