/**
 * What the HTTP layer needs from the rest of coby, as one interface so tests
 * can serve a real supervisor, a replay or a stub.
 *
 * @module
 */

import type { Config } from "../actors/system/config.ts";
import type { HeatmapHub } from "../actors/system/hub.ts";
import type { Metrics } from "../actors/system/metrics.ts";
import type { CobyRequests } from "../actors/market/requests.ts";
import type {
  HistoryMethod,
  HistoryRequests,
} from "../actors/store/queries.ts";
import type {
  RequestMethod,
  RequestParams,
  RequestResult,
} from "../runtime/protocol.ts";
import type { ActorInfo } from "../runtime/supervisor.ts";
import type { LiveMethod, LiveRequests } from "../actors/live/state.ts";
import type { ReplaySessions } from "../actors/system/sessions.ts";

/** Services the routes read. */
export interface AppDeps {
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
   * A history query (see `HistoryRequests` in `actors/store/queries.ts`),
   * answered by the actor that owns the database. Absent when coby keeps no
   * history: the history routes then answer 503 `no_history`.
   * @param method the query.
   * @param params its params.
   * @returns the query's result.
   * @throws {RequestError} `bad_request` or `not_found` from the query.
   * @throws {ActorDownError} when the owner is down.
   */
  history?<K extends HistoryMethod>(
    method: K,
    params: HistoryRequests[K]["params"],
  ): Promise<HistoryRequests[K]["result"]>;
  /**
   * A live-cache request (see `LiveRequests` in `actors/live/state.ts`): the
   * live frame, and books where no connection actor runs here (a serving
   * process). Absent when no cache is kept: `frame` without `at` answers
   * 503 `no_live`.
   * @param method the request.
   * @param params its params.
   * @returns its result.
   * @throws {RequestError} `bad_request` or `not_found`.
   */
  live?<K extends LiveMethod>(
    method: K,
    params: LiveRequests[K]["params"],
  ): Promise<LiveRequests[K]["result"]>;
  /** Heatmap columns for viewers. */
  hub: HeatmapHub;
  /**
   * Replay sessions (`/api/v1/replay`, `heatmap/stream?session=`). Absent
   * where no replay actor runs (a serving process): those routes answer
   * 503 `no_replay`.
   */
  replay?: ReplaySessions;
  /** OpenTelemetry metrics. */
  metrics: Metrics;
  /** Exchange ids that are configured. */
  exchanges: readonly string[];
  /**
   * The configuration coby runs with: the HTTP settings (allowed hosts and
   * origins, stream limits) and the followed symbols, which count as known
   * heatmap symbols before their first column; `api` (access control) and
   * `bus` (Redis, where the rate limits are shared). Absent (test stubs):
   * the defaults, and only symbols with data are known.
   */
  config?:
    & Pick<Config, "http" | "exchanges" | "quoteAliases">
    & Partial<Pick<Config, "api" | "replay" | "bus">>;
}
