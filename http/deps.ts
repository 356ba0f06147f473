/**
 * What the HTTP layer needs from the rest of coby, as one interface so tests
 * can serve a real supervisor or a replay.
 *
 * @module
 */

import type { HeatmapHub } from "../actors/system/hub.ts";
import type { Metrics } from "../actors/system/metrics.ts";
import type { ActorInfo } from "../runtime/supervisor.ts";

/** Services the routes read. */
export interface AppDeps {
  /** Every actor's state and stats. */
  actors(): ActorInfo[];
  /** A request to an actor; rejects when the actor is down or answers an error. */
  request(id: string, method: string, params: unknown): Promise<unknown>;
  hub: HeatmapHub;
  metrics: Metrics;
  /** Exchange ids that are configured. */
  exchanges: readonly string[];
}
