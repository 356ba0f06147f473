/**
 * `GET /api/v1/exchanges`: connection state, last message time and counters
 * per exchange.
 *
 * @module
 */

import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";

/**
 * Exchange routes.
 * @param deps services.
 * @returns `{exchanges: [{exchange, actor, state, circuit, connection,
 * lastMessageTs, lastMessageAgeMs, messageRate (frames/s), restarts, lastError, counters, books}]}`.
 */
export function exchangeRoutes(deps: AppDeps) {
  return new Hono().get("/", (c) => {
    const now = Date.now();
    const exchanges = deps.actors()
      .filter((a) => a.id.startsWith("conn:"))
      .map((a) => {
        const s = a.stats as Record<string, unknown>;
        const last = typeof s.lastMessageTs === "number" && s.lastMessageTs > 0
          ? s.lastMessageTs
          : null;
        return {
          exchange: a.id.slice("conn:".length),
          actor: a.id,
          state: a.state,
          circuit: a.circuit,
          connection: a.state === "running" || a.state === "degraded"
            ? (s.connection ?? "connecting")
            : "disconnected",
          lastMessageTs: last,
          lastMessageAgeMs: last === null ? null : now - last,
          messageRate: s.messageRate ?? 0,
          restarts: a.restarts,
          lastError: (s.lastError as string) || a.lastError,
          counters: s.counters ?? {},
          books: s.books ?? {},
        };
      });
    return c.json({ exchanges });
  });
}
