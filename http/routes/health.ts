/**
 * `GET /healthz`: liveness and each actor's state.
 *
 * @module
 */

import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";

/**
 * Health routes.
 * @param deps services.
 * @returns `{status: "ok" | "degraded", actors: [{id, state, circuit}]}`; status
 * is `degraded` when any actor is not running.
 */
export function healthRoutes(deps: AppDeps) {
  return new Hono().get("/healthz", (c) => {
    const actors = deps.actors().map(({ id, state, circuit }) => ({
      id,
      state,
      circuit,
    }));
    const ok = actors.every((a) => a.state === "running");
    return c.json({ status: ok ? "ok" : "degraded", actors });
  });
}
