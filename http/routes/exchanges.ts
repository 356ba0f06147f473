/**
 * `GET /api/v1/exchanges`: health per exchange and per connection: state,
 * connection, last message time and age, message rate, counters (gaps,
 * resyncs, checksum failures, reconnects, …) and book sync states.
 *
 * @module
 */

import { Hono } from "hono";
import type { ActorInfo } from "../../runtime/supervisor.ts";
import type { AppDeps } from "../deps.ts";

/** Health of one connection actor. */
export interface ConnectionHealth {
  actor: string;
  exchange: string;
  state: string;
  circuit: "closed" | "open";
  connection: "connected" | "connecting" | "disconnected";
  lastMessageTs: number | null;
  lastMessageAgeMs: number | null;
  /** Frames per second over the last stats period. */
  messageRate: number;
  restarts: number;
  lastError: string | null;
  /** The venue's last reported error (a rejected subscription, say), or null. */
  venueError: { message: string; symbol?: string; ts: number } | null;
  counters: Record<string, number>;
  books: Record<string, { state: string; lastSequence: number }>;
}

const RANK = ["running", "degraded", "starting", "restarting", "stopped"];

function connectionHealth(a: ActorInfo, now: number): ConnectionHealth {
  const s = a.stats as Record<string, unknown>;
  const last = typeof s.lastMessageTs === "number" && s.lastMessageTs > 0
    ? s.lastMessageTs
    : null;
  const up = a.state === "running" || a.state === "degraded";
  return {
    actor: a.id,
    exchange: typeof s.exchange === "string" ? s.exchange : a.id.split(":")[1],
    state: a.state,
    circuit: a.circuit,
    connection: up
      ? (s.connection as ConnectionHealth["connection"]) ?? "connecting"
      : "disconnected",
    lastMessageTs: last,
    lastMessageAgeMs: last === null ? null : now - last,
    messageRate: (s.messageRate as number) ?? 0,
    restarts: a.restarts,
    lastError: (s.lastError as string) || a.lastError,
    venueError: (s.venueError as ConnectionHealth["venueError"]) ?? null,
    counters: (s.counters as Record<string, number>) ?? {},
    books: (s.books as ConnectionHealth["books"]) ?? {},
  };
}

/**
 * Exchange routes.
 * @param deps services.
 * @returns `{exchanges: [{exchange, state, connection, lastMessageTs,
 * lastMessageAgeMs, messageRate, restarts, venueError, counters, books, connections:
 * [ConnectionHealth…]}]}`; an exchange is `connected` when all its
 * connections are, `disconnected` when none is, else `connecting`; its state
 * is its worst connection's, counters and rates are summed, and its
 * `venueError` is the latest of its connections' (the venue's own message).
 */
export function exchangeRoutes(deps: AppDeps) {
  return new Hono().get("/", (c) => {
    const now = Date.now();
    const byExchange = new Map<string, ConnectionHealth[]>();
    for (const a of deps.actors()) {
      if (!a.id.startsWith("conn:")) continue;
      const h = connectionHealth(a, now);
      byExchange.set(h.exchange, [...(byExchange.get(h.exchange) ?? []), h]);
    }
    const exchanges = [...byExchange].map(([exchange, conns]) => {
      const counters: Record<string, number> = {};
      for (const h of conns) {
        for (const [k, v] of Object.entries(h.counters)) {
          counters[k] = (counters[k] ?? 0) + v;
        }
      }
      const connected = conns.filter((h) =>
        h.connection === "connected"
      ).length;
      const last = Math.max(0, ...conns.map((h) => h.lastMessageTs ?? 0)) ||
        null;
      return {
        exchange,
        state: conns.map((h) => h.state).sort((x, y) =>
          RANK.indexOf(y) - RANK.indexOf(x)
        )[0],
        connection: connected === conns.length
          ? "connected"
          : connected === 0
          ? "disconnected"
          : "connecting",
        lastMessageTs: last,
        lastMessageAgeMs: last === null ? null : now - last,
        messageRate: conns.reduce((s, h) => s + h.messageRate, 0),
        restarts: conns.reduce((s, h) => s + h.restarts, 0),
        venueError: conns.map((h) => h.venueError).filter((e) => e !== null)
          .sort((x, y) => y!.ts - x!.ts)[0] ?? null,
        counters,
        books: Object.assign({}, ...conns.map((h) => h.books)),
        connections: conns,
      };
    });
    return c.json({ exchanges });
  });
}
