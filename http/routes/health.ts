/**
 * `GET /healthz`: liveness and each actor's state.
 *
 * @module
 */

import { Hono } from "hono";
import type { ActorInfo } from "../../runtime/supervisor.ts";
import type { AppDeps } from "../deps.ts";

/**
 * Whether an actor is as it should be: running, or a transient or temporary
 * child that exited normally (it is not meant to come back).
 * @param a the actor.
 * @returns true when the actor needs no attention.
 */
function healthy(a: ActorInfo): boolean {
  return a.state === "running" || a.state === "exited";
}

/**
 * Health routes.
 * @param deps services.
 * @returns always 200 (the process is alive and answering) with `{status:
 * "ok" | "degraded", actors: [{id, state, restart, circuit, restarts,
 * lastError}], heatmap: {symbols, ticks, bytes, followers}}`; status is
 * `degraded` when any actor is neither running nor exited normally
 * (starting, degraded, restarting, circuit open, stopped); `heatmap` is what
 * the hub keeps (`bytes` against `historyBytes`) and how many streams read
 * it.
 * @example
 * ```ts
 * const { status } = await (await createApp(deps).request("/healthz")).json();
 * ```
 */
export function healthRoutes(deps: AppDeps) {
  return new Hono().get("/healthz", (c) => {
    const all = deps.actors();
    const actors = all.map((
      { id, state, restart = "permanent", circuit, restarts, lastError },
    ) => ({ id, state, restart, circuit, restarts, lastError }));
    const ok = all.every(healthy);
    return c.json({
      status: ok ? "ok" : "degraded",
      actors,
      heatmap: deps.hub.stats(),
    });
  });
}
