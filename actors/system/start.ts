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
import { REPLAY_ID, topology, WRITER_ID } from "./topology.ts";
import { ReplaySessions } from "./sessions.ts";
import type { ReplayOutput, ReplayRequests } from "../market/requests.ts";
import type { HistoryMethod, HistoryRequests } from "../store/queries.ts";
import type { LiveMethod, LiveRequests } from "../live/state.ts";
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
  /**
   * Overrides of the configuration's `store` section: a replay or a test
   * stores elsewhere (`{dataDir}`) or not at all (`{enabled: false}`).
   */
  store?: Partial<Config["store"]>;
  /**
   * Overrides of the configuration's `bus` section: a replay publishes on
   * Redis (`REDIS_URL`) as a live process does.
   */
  bus?: Partial<Config["bus"]>;
  /**
   * Overrides of the configuration's `record` section: record the raw
   * traffic of these exchanges' connections (`{dir, exchanges: ["*"]}`).
   */
  record?: Partial<Config["record"]>;
  /**
   * Link the replay actor to the writer so an importing session is stored
   * (`deno task replay`; see `TopologyOptions.importReplay`).
   * @default false
   */
  importReplay?: boolean;
}

/** A running coby: the supervised actors and what the HTTP layer reads. */
export interface Coby {
  /** The supervisor of every actor, typed by coby's request maps. */
  readonly supervisor: Supervisor<CobyRequests>;
  /** Heatmap columns for viewers. */
  readonly hub: HeatmapHub;
  /** Replay sessions: their hubs, progress and control. */
  readonly replay: ReplaySessions;
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
  /**
   * A history query, answered by the writer (it owns the database); absent
   * when the store is disabled (`store.enabled: false`).
   * @param method the query (see `HistoryRequests`).
   * @param params its params.
   * @returns the query's result.
   * @throws {RequestError} `bad_request` or `not_found` from the query,
   * `no_database` while the database is not open yet.
   * @throws {ActorDownError} when the writer is down.
   */
  history?<K extends HistoryMethod>(
    method: K,
    params: HistoryRequests[K]["params"],
  ): Promise<HistoryRequests[K]["result"]>;
  /**
   * A live-cache request (the live frame, a book from the cache), answered
   * by the writer (it keeps the cache); absent when the store is disabled.
   * @param method the request (see `LiveRequests`).
   * @param params its params.
   * @returns its result.
   * @throws {RequestError} `bad_request` or `not_found`.
   * @throws {ActorDownError} when the writer is down.
   */
  live?<K extends LiveMethod>(
    method: K,
    params: LiveRequests[K]["params"],
  ): Promise<LiveRequests[K]["result"]>;
}

/**
 * Spawns and links every actor and waits until all have initialised.
 * @param config the configuration.
 * @param options event output, restart policy and store overrides.
 * @returns the running system; stop it with `coby.supervisor.stop()`.
 * @throws {StartError} when an actor fails before it is ready (its init
 * throws, say); the other actors are stopped by then.
 * @example
 * ```ts
 * const coby = await startCoby(await loadConfig((k) => Deno.env.get(k)));
 * ```
 */
export async function startCoby(
  config: Config,
  options: StartOptions = {},
): Promise<Coby> {
  const cfg: Config = {
    ...config,
    store: { ...config.store, ...options.store },
    bus: { ...config.bus, ...options.bus },
    record: { ...config.record, ...options.record },
  };
  const hub = new HeatmapHub(cfg.history, {
    historyBytes: options.historyBytes ?? cfg.historyBytes,
  });
  const { specs, links } = topology(cfg, {
    emitEvents: options.onEvents !== undefined,
    importReplay: options.importReplay,
  });
  const sessions = new ReplaySessions(
    (method, params) =>
      (supervisor as unknown as Supervisor<ReplayRequests>).request(
        REPLAY_ID,
        method,
        params,
      ),
    {
      history: cfg.replay.history,
      historyBytes: options.historyBytes ?? cfg.replay.historyBytes,
    },
  );
  const supervisor = new Supervisor<CobyRequests>(specs, links, {
    ...options.supervisor,
    onOutput(_id, channel, data) {
      if (channel === "columns") hub.push(data as ColumnBatch);
      else if (channel === "session") sessions.onOutput(data as ReplayOutput);
      else if (channel === "events") options.onEvents?.(data as string);
    },
  });
  await supervisor.start();
  const metrics = createMetrics(() => supervisor.actors(), {
    hub,
    links: () => supervisor.links(),
  });
  // The writer's history queries are typed by their own map: the supervisor
  // routes any method, `CobyRequests` only names the actors' own ones.
  const history = supervisor as unknown as Supervisor<HistoryRequests>;
  const live = supervisor as unknown as Supervisor<LiveRequests>;
  return {
    supervisor,
    hub,
    replay: sessions,
    metrics,
    exchanges: Object.keys(cfg.exchanges),
    config: cfg,
    actors: () => supervisor.actors(),
    request: (id, method, params) => supervisor.request(id, method, params),
    history: cfg.store.enabled
      ? (method, params) => history.request(WRITER_ID, method, params)
      : undefined,
    live: cfg.store.enabled
      ? (method, params) => live.request(WRITER_ID, method, params)
      : undefined,
  };
}
