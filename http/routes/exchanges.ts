/**
 * `GET /api/v1/exchanges`: health per exchange and per connection: state,
 * connection, last message time and age, message rate, counters (gaps,
 * resyncs, checksum failures, reconnects, …), book sync states, and whether
 * the exchange is excluded from consolidation now (from the consolidator's
 * stats).
 *
 * @module
 */

import { createRoute } from "@hono/zod-openapi";
import type {
  ConsolidatorStats,
  ExcludedVenue,
} from "../../actors/consolidator.ts";
import type { ActorInfo } from "../../runtime/supervisor.ts";
import type { AppDeps } from "../deps.ts";
import { ExchangesSchema, jsonAnswer } from "../openapi_schemas.ts";
import { openApiRoutes } from "../validate.ts";

/** Health of one connection actor. */
export interface ConnectionHealth {
  /** Actor id, e.g. `conn:binance`. */
  actor: string;
  /** Exchange id. */
  exchange: string;
  /** Actor state (`running`, `degraded`, `restarting`, …). */
  state: string;
  /** `open` when the supervisor gave up restarting it for now. */
  circuit: "closed" | "open";
  /** WebSocket state. */
  connection: "connected" | "connecting" | "disconnected";
  /** Last data frame received, ms since epoch; null before the first. */
  lastMessageTs: number | null;
  /** Age of that frame, ms. */
  lastMessageAgeMs: number | null;
  /** Frames per second over the last stats period. */
  messageRate: number;
  /** Restarts by the supervisor. */
  restarts: number;
  /** The actor's last error, or null. */
  lastError: string | null;
  /** The venue's last reported error (a rejected subscription, say), or null. */
  venueError: { message: string; symbol?: string; ts: number } | null;
  /** Cumulative counters (gaps, resyncs, checksum failures, …). */
  counters: Record<string, number>;
  /** Sync state and last sequence by the venue's symbol. */
  books: Record<string, { state: string; lastSequence: number }>;
}

/**
 * One of an exchange's symbols excluded from consolidation now: the
 * consolidator's {@link ExcludedVenue} without the exchange it is listed under.
 */
export type ExcludedSymbol = Omit<ExcludedVenue, "exchange">;

/** An exchange's standing in consolidation. */
export interface ConsolidationStatus {
  /** True when at least one of its symbols is excluded now. */
  excluded: boolean;
  /** The earliest `since` of its excluded symbols, ms since epoch; null when none. */
  since: number | null;
  /** Its symbols excluded now. */
  symbols: ExcludedSymbol[];
}

/** `GET /api/v1/exchanges`, described. */
const route = createRoute({
  method: "get",
  path: "/",
  tags: ["health"],
  summary: "Health per exchange and per connection",
  responses: {
    200: jsonAnswer(
      "Each exchange's worst state, summed counters and rates, its connections, and whether consolidation excludes it now",
      ExchangesSchema,
      {
        exchanges: [{
          exchange: "binance",
          state: "running",
          connection: "connected",
          lastMessageTs: 1_767_614_400_000,
          lastMessageAgeMs: 84,
          messageRate: 21.5,
          restarts: 0,
          venueError: null,
          counters: { gaps: 0, resyncs: 1, checksumFailures: 0 },
          books: { BTCUSDT: { state: "synced", lastSequence: 43_209_421_001 } },
          consolidation: { excluded: false, since: null, symbols: [] },
          connections: [{
            actor: "conn:binance",
            exchange: "binance",
            state: "running",
            circuit: "closed",
            connection: "connected",
            lastMessageTs: 1_767_614_400_000,
            lastMessageAgeMs: 84,
            messageRate: 21.5,
            restarts: 0,
            lastError: null,
            venueError: null,
            counters: { gaps: 0, resyncs: 1, checksumFailures: 0 },
            books: {
              BTCUSDT: { state: "synced", lastSequence: 43_209_421_001 },
            },
          }],
        }],
      },
    ),
  },
});

const RANK = ["running", "degraded", "starting", "restarting", "stopped"];

/**
 * The venues the consolidator excludes now, by exchange, from its stats;
 * none while it has published none (or its stats are not the expected shape).
 */
function exclusions(
  actors: readonly ActorInfo[],
): Map<string, ExcludedSymbol[]> {
  const out = new Map<string, ExcludedSymbol[]>();
  const stats = actors.find((a) => a.id === "consolidator")?.stats as
    | Partial<ConsolidatorStats>
    | undefined;
  if (!Array.isArray(stats?.excluded)) return out;
  for (const x of stats.excluded as ExcludedVenue[]) {
    const { exchange, ...rest } = x;
    const list = out.get(exchange);
    if (list) list.push(rest);
    else out.set(exchange, [rest]);
  }
  return out;
}

function consolidationStatus(symbols: ExcludedSymbol[]): ConsolidationStatus {
  return {
    excluded: symbols.length > 0,
    since: symbols.length ? Math.min(...symbols.map((s) => s.since)) : null,
    symbols,
  };
}

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
 * `consolidation` ({@link ConsolidationStatus}) says whether the exchange is
 * excluded from consolidation now, since when and for which symbols.
 */
export function exchangeRoutes(deps: AppDeps) {
  return openApiRoutes().openapi(route, (c) => {
    const now = Date.now();
    const byExchange = new Map<string, ConnectionHealth[]>();
    const actors = deps.actors();
    const excluded = exclusions(actors);
    for (const a of actors) {
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
      const connection: ConnectionHealth["connection"] =
        connected === conns.length
          ? "connected"
          : connected === 0
          ? "disconnected"
          : "connecting";
      return {
        exchange,
        state: conns.map((h) => h.state).sort((x, y) =>
          RANK.indexOf(y) - RANK.indexOf(x)
        )[0],
        connection,
        lastMessageTs: last,
        lastMessageAgeMs: last === null ? null : now - last,
        messageRate: conns.reduce((s, h) => s + h.messageRate, 0),
        restarts: conns.reduce((s, h) => s + h.restarts, 0),
        venueError: conns.map((h) => h.venueError).filter((e) => e !== null)
          .sort((x, y) => y!.ts - x!.ts)[0] ?? null,
        counters,
        books: Object.assign({}, ...conns.map((h) => h.books)),
        consolidation: consolidationStatus(excluded.get(exchange) ?? []),
        connections: conns,
      };
    });
    return c.json({ exchanges }, 200);
  });
}
