/**
 * `GET /healthz`: liveness and each actor's state.
 *
 * @module
 */

import { createRoute } from "@hono/zod-openapi";
import type { ActorInfo } from "../../runtime/supervisor.ts";
import type { AppDeps } from "../deps.ts";
import { HealthSchema, jsonAnswer } from "../openapi_schemas.ts";
import { openApiRoutes } from "../validate.ts";

/** `GET /healthz`, described. */
const route = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["health"],
  summary: "Liveness and each actor's state",
  responses: {
    200: jsonAnswer(
      "Always 200 while the process answers; `degraded` when an actor needs attention",
      HealthSchema,
      {
        status: "ok",
        actors: [{
          id: "conn:binance",
          state: "running",
          restart: "permanent",
          circuit: "closed",
          restarts: 0,
          lastError: null,
        }],
        heatmap: { symbols: 3, ticks: 1_800, bytes: 2_457_600, followers: 1 },
      },
    ),
  },
});

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
  return openApiRoutes().openapi(route, (c) => {
    const all = deps.actors();
    const actors = all.map((
      { id, state, restart = "permanent", circuit, restarts, lastError },
    ) => ({ id, state, restart, circuit, restarts, lastError }));
    const ok = all.every(healthy);
    return c.json({
      status: ok ? "ok" : "degraded",
      actors,
      heatmap: deps.hub.stats(),
    }, 200);
  });
}
