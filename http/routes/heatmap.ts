/**
 * `GET /api/v1/heatmap/stream?symbol=&exchanges=&session=`: an SSE stream
 * of heatmap columns (event `column`, JSON `ColumnPayload` of
 * `actors/system/hub.ts`); the kept history first, then one column per
 * tick. `GET /api/v1/symbols[?session=]` lists what can be streamed. Without `session`
 * the columns are live; with `session={id}` they are the replay session's
 * (`deps.replay`, `actors/system/sessions.ts`), with its progress besides.
 *
 * | event      | data                                                                         |
 * | ---------- | ---------------------------------------------------------------------------- |
 * | `column`   | one column, JSON `ColumnPayload`                                             |
 * | `gap`      | `{"skipped": N}`: the viewer fell behind and N columns were dropped          |
 * | `ping`     | empty, after 15 s without a column                                           |
 * | `progress` | session only: JSON `ReplayProgress`; on opening, then at most every 250 ms,  |
 * |            | and at once on each state change                                             |
 * | `reset`    | session only: `{"at": ms}` after a seek (or a loop); columns restart at `at` |
 * | `end`      | session only: JSON `ReplayProgress`, once, when the session reached its end  |
 * |            | (on opening too, if it had); the stream stays open on the final state        |
 *
 * A session's stream ends after the `progress` of state `stopped` (the
 * session was stopped, `DELETE /api/v1/replay/{id}`).
 *
 * | outcome                                                 | status | `code`             |
 * | ------------------------------------------------------- | ------ | ------------------ |
 * | a symbol with columns, or one the configuration follows | 200    |                    |
 * | a session's stream, any well-formed symbol (it waits)   | 200    |                    |
 * | a bad `symbol`, `exchanges` or `session`                | 400    | `bad_request`      |
 * | a well-formed symbol with no columns and not followed   | 404    | `unknown_symbol`   |
 * | no such session                                         | 404    | `not_found`        |
 * | `http.maxStreams` streams open already                  | 503    | `too_many_streams` |
 * | `session` where no replay runs (a serving process)      | 503    | `no_replay`        |
 *
 * `GET /api/v1/heatmap/column?symbol=&ts=&session=` answers JSON
 * `{ts, columns}`: the per-exchange columns (`ColumnPayload`, one per
 * exchange, `consolidation` null) of the newest kept tick at or before `ts`
 * (epoch ms), live or of a session; 404 `not_found` when the hub keeps no
 * such tick (or no such session). The viewer's tooltip reads the resting
 * size per exchange from it, which the consolidated stream does not carry.
 *
 * A symbol the configuration follows (a selector such as `BTC-USDT` or
 * `BTC-USD-PERP`, mapped through `quoteAliases`) is streamed even before its
 * first column: the stream opens and waits, as a viewer opened at start-up
 * should. A venue's own name (`XBTUSD`) cannot be mapped without the
 * venue's instrument list, so such a symbol is known once it has columns.
 *
 * Every viewer reads the hub's shared event bytes (a column is serialized
 * once per exchange selection, not once per viewer; history goes in blocks
 * of 16 columns joined once) through a cursor, a few columns at a time, each
 * unit waiting for its share of the main thread (`http/turns.ts`); so does a
 * new viewer's request. The body is a
 * pull stream: the server asks for the next unit only when the socket has
 * taken the last. A viewer that falls more
 * than `http.streamQueue` columns behind live loses the oldest and gets a
 * `gap` event: a paused client costs a cursor, never a queue.
 *
 * @module
 */

import { createRoute } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { consolidationKey } from "../../actors/market/consolidate.ts";
import type { Config } from "../../actors/system/config.ts";
import type { ColumnFeed, HeatmapHub } from "../../actors/system/hub.ts";
import type { ReplayProgress } from "../../actors/market/requests.ts";
import type {
  ReplaySessions,
  SessionNotice,
} from "../../actors/system/sessions.ts";
import type { AppDeps } from "../deps.ts";
import { clip, httpError, RETRY_AFTER_S } from "../errors.ts";
import { charge, slot } from "../turns.ts";
import {
  badRequest,
  COLUMN_EXAMPLE,
  ColumnSchema,
  errors,
  jsonAnswer,
} from "../openapi_schemas.ts";
import { openApiRoutes, SESSION_ID } from "../validate.ts";

/** A ping after this long without a column, ms. */
const PING_MS = 15_000;
/** Longest accepted `symbol`. */
const SYMBOL_MAX = 32;
/** Longest accepted `exchanges` list. */
const EXCHANGES_MAX = 512;

const PING = new TextEncoder().encode("event: ping\ndata: \n\n");

/**
 * One unit of a stream's work: up to 16 columns or 64 KiB, or one block of
 * history (16 columns the hub joined once for every viewer).
 */
const UNIT = { maxColumns: 16, maxBytes: 64 * 1024 } as const;

/** A `gap` event: `skipped` columns were dropped for a viewer behind. */
function gap(skipped: number): Uint8Array {
  return new TextEncoder().encode(
    `event: gap\ndata: ${JSON.stringify({ skipped })}\n\n`,
  );
}

/** A session's `progress` events are this far apart at least, ms (a state change goes at once). */
const PROGRESS_MS = 250;

/** An SSE event with a JSON payload. */
function event(name: string, data: unknown): Uint8Array {
  return new TextEncoder().encode(
    `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`,
  );
}

/** Nothing due: the live stream's notices. */
const NONE: readonly Uint8Array[] = [];

/**
 * Where a stream's events come from: a feed of columns and, for a replay
 * session, the notices due besides them.
 */
interface StreamSource {
  /** The feed to read now (a session follows a new hub after each seek). */
  feed(): ColumnFeed;
  /** Events due before the next columns; taken (the live stream has none). */
  notices(): readonly Uint8Array[];
  /** Whether the stream is over once the notices taken are sent. */
  finished(): boolean;
  /** Resolves when a notice is due; null when none ever comes (live). */
  wait: (() => Promise<void>) | null;
  /** Lets go of the feed and the session. Idempotent. */
  close(): void;
}

/**
 * A replay session's stream source: its hub's columns (a new hub after each
 * seek), `progress` at most every {@link PROGRESS_MS} and on each state
 * change, `reset` and `end` (once); finished after the `stopped` progress or
 * once the session is gone.
 * @param sessions the sessions.
 * @param id the session, known to `sessions`.
 * @param follow opens a feed of a hub.
 */
function sessionSource(
  sessions: ReplaySessions,
  id: string,
  follow: (hub: HeatmapHub) => ColumnFeed,
): StreamSource {
  let feed = follow(sessions.hub(id)!);
  let queue: Uint8Array[] = [];
  let stopped = false;
  let closed = false;
  let lastState: string | undefined;
  let lastSent = -Infinity;
  let pending: ReplayProgress | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let waiting: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  const push = (bytes: Uint8Array) => {
    queue.push(bytes);
    wake?.();
  };
  const send = (p: ReplayProgress) => {
    pending = null;
    lastSent = performance.now();
    lastState = p.state;
    push(event("progress", p));
  };
  const listener = (n: SessionNotice) => {
    if (closed) return;
    switch (n.kind) {
      case "progress": {
        const p = n.progress;
        if (p.state === "stopped") {
          clearTimeout(timer);
          send(p);
          stopped = true;
          return;
        }
        const since = performance.now() - lastSent;
        if (p.state !== lastState || since >= PROGRESS_MS) {
          send(p);
          return;
        }
        // Held until its turn; a newer one replaces it meanwhile.
        pending = p;
        timer ??= setTimeout(() => {
          timer = undefined;
          if (pending && !closed) send(pending);
        }, PROGRESS_MS - since);
        return;
      }
      case "reset":
        // Columns before `at` are void: follow the session's new hub.
        feed.close();
        feed = follow(sessions.hub(id)!);
        push(event("reset", { at: n.at }));
        return;
      case "end":
        pending = null;
        lastState = n.progress.state;
        push(event("end", n.progress));
        return;
    }
  };
  const unwatch = sessions.watch(id, listener);
  const first = sessions.latest(id);
  // A session still being created has no progress yet: it comes as a notice.
  if (first) send(first);
  if (first && sessions.ended(id)) push(event("end", first));
  return {
    feed: () => feed,
    notices: () => {
      if (queue.length === 0) return NONE;
      const out = queue;
      queue = [];
      return out;
    },
    // Gone without a `stopped` notice (its stop failed): over too.
    finished: () => stopped || sessions.hub(id) === undefined,
    wait: () => {
      if (queue.length || stopped || closed) return Promise.resolve();
      return waiting ??= new Promise<void>((resolve) => {
        wake = () => {
          wake = null;
          waiting = null;
          resolve();
        };
      });
    },
    close: () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      unwatch();
      feed.close();
      wake?.();
    },
  };
}

/** A selector's consolidation key: `BTC-USD-PERP` → `BTC-USD` (aliased). */
const SELECTOR = /^([A-Z0-9]+-[A-Z0-9]+)(-(PERP|\d{6}))?$/;

/**
 * The heatmap symbols the configuration follows by selector.
 * @param config exchanges and quote aliases.
 * @returns consolidation keys.
 */
function configuredSymbols(
  config: Pick<Config, "exchanges" | "quoteAliases"> | undefined,
): Set<string> {
  const out = new Set<string>();
  if (!config) return out;
  for (const ex of Object.values(config.exchanges)) {
    for (const s of ex.symbols) {
      const m = SELECTOR.exec(s);
      if (m) out.add(consolidationKey(m[1], config.quoteAliases));
    }
  }
  return out;
}

/** A replay session id (`?session=`). */
const Session = z.string().regex(
  SESSION_ID,
  "session must be a replay session id such as r1",
).optional().openapi({
  description: "A replay session's id; absent: live data",
  example: "r1",
});

/** A heatmap symbol: a consolidation key. */
const HeatmapSymbol = z.string().max(SYMBOL_MAX).regex(
  /^[A-Z0-9]+-[A-Z0-9]+$/,
  "symbol must look like BTC-USDT",
).openapi({ description: "A consolidation key", example: "BTC-USDT" });

/** The errors of a route that may name a replay session. */
const SESSION_ERRORS = {
  404: {
    description: "No such replay session (`not_found`)",
    example: { error: "No replay session r9", code: "not_found" },
  },
  503: {
    description: "`session` where no replay runs (`no_replay`)",
    example: { error: "No replay sessions are run here", code: "no_replay" },
  },
};

/** An example of the SSE stream: a progress, a column, a ping. */
const STREAM_EXAMPLE = `event: column
data: ${JSON.stringify(COLUMN_EXAMPLE)}

event: ping
data: 

`;

/** Limits of the heatmap streams. */
export interface StreamLimits {
  /** Streams open at once; past it, 503 with `Retry-After`. */
  maxStreams: number;
  /** Columns a live stream may fall behind before its oldest are dropped. */
  streamQueue: number;
}

/**
 * Heatmap routes.
 * @param deps services (`deps.replay` for `?session=`).
 * @param limits stream limits (`http.maxStreams`, `http.streamQueue`).
 * @returns routes for `/symbols`, `/heatmap/column` and `/heatmap/stream`.
 * @throws {HTTPException} rendered as `{error, code}` by the app: 400, 404
 * `unknown_symbol` or `not_found` (no such session), 503 `too_many_streams`
 * or `no_replay`.
 * @example
 * ```ts
 * const res = await heatmapRoutes(deps, { maxStreams: 100, streamQueue: 60 }).request("/heatmap/stream?symbol=BTC-USDT");
 * ```
 */
export function heatmapRoutes(
  deps: AppDeps,
  limits: StreamLimits = { maxStreams: 2000, streamQueue: 60 },
) {
  const configured = configuredSymbols(deps.config);
  const Query = z.object({
    symbol: HeatmapSymbol,
    exchanges: z.string().max(EXCHANGES_MAX).optional()
      .refine(
        (s) => !s || s.split(",").every((e) => e.trim() !== ""),
        {
          error: (iss) =>
            `exchanges ${
              JSON.stringify(clip(String(iss.input)))
            } must not have an empty entry`,
        },
      )
      .transform((s) => s ? s.split(",").map((x) => x.trim()) : null)
      .openapi({
        description:
          "A comma list of exchange ids to consolidate; absent: every one",
        example: "binance,okx",
      }),
    session: Session,
    // Read by `identify` (http/auth.ts), which verifies it before this
    // route; declared here so that the description shows it.
    token: z.string().optional().openapi({
      description:
        "A credential (an API key or a JWT) for clients that cannot send headers (EventSource); needed only with api.protectReads. Never logged",
    }),
  }).superRefine((q, ctx) => {
    // Live: the configured exchanges; a session: the ones it replays.
    const known = q.session === undefined
      ? deps.exchanges
      : deps.replay?.latest(q.session)?.exchanges;
    // Runs even when a field failed: then `exchanges` is no list.
    if (!known || !Array.isArray(q.exchanges)) return;
    if (!q.exchanges.every((e) => known.includes(e))) {
      ctx.addIssue({
        code: "custom",
        path: ["exchanges"],
        message: `exchanges must be a comma list of: ${known.join(", ")}`,
      });
    }
  });
  const SymbolsQuery = z.object({ session: Session });
  const ColumnQuery = z.object({
    symbol: HeatmapSymbol,
    ts: z.string().regex(/^[0-9]{1,15}$/, "ts must be epoch ms")
      .transform(Number)
      .openapi({
        description: "A tick time, epoch ms",
        example: "1609459201000",
      }),
    session: Session,
  });
  const symbolsRoute = createRoute({
    method: "get",
    path: "/symbols",
    tags: ["heatmap"],
    summary: "The symbols that can be streamed, live or of a session",
    request: { query: SymbolsQuery },
    responses: {
      200: jsonAnswer(
        "Consolidation keys with kept columns: the exchanges in them and how many columns are kept",
        z.object({
          symbols: z.array(z.object({
            symbol: z.string(),
            exchanges: z.array(z.string()),
            columns: z.number(),
          })),
        }),
        {
          symbols: [{
            symbol: "BTC-USDT",
            exchanges: ["binance", "okx"],
            columns: 600,
          }],
        },
      ),
      ...errors({
        ...badRequest(
          "✖ session must be a replay session id such as r1\n  → at session",
        ),
        ...SESSION_ERRORS,
      }),
    },
  });
  const columnRoute = createRoute({
    method: "get",
    path: "/heatmap/column",
    tags: ["heatmap"],
    summary:
      "Each exchange's own column of the newest kept tick at or before `ts`",
    request: { query: ColumnQuery },
    responses: {
      200: jsonAnswer(
        "The tick's time and one column per exchange (`consolidation` null)",
        z.object({ ts: z.number(), columns: z.array(ColumnSchema) }),
        { ts: COLUMN_EXAMPLE.ts, columns: [COLUMN_EXAMPLE] },
      ),
      ...errors({
        ...badRequest("✖ ts must be epoch ms\n  → at ts"),
        404: {
          description: "No such tick kept, or no such session (`not_found`)",
          example: {
            error: "No column of BTC-USDT kept at or before 1609459201000",
            code: "not_found",
          },
        },
        503: SESSION_ERRORS[503],
      }),
    },
  });
  // A burst of new viewers is sliced like the streams' work.
  const waitTurn = createMiddleware(async (_c, next) => {
    await slot();
    await next();
  });
  const streamRoute = createRoute({
    method: "get",
    path: "/heatmap/stream",
    tags: ["heatmap"],
    summary:
      "Server-sent events: a symbol's heatmap columns, live or of a session",
    description:
      "Events: `column` (JSON Column), `gap` ({skipped}), `ping` (after 15 s idle); with `session` also `progress` (JSON ReplayProgress), `reset` ({at}) and `end` (JSON ReplayProgress). The kept history comes first, then one column per tick.",
    middleware: [waitTurn] as const,
    request: { query: Query },
    responses: {
      200: {
        description: "The event stream",
        content: {
          "text/event-stream": {
            schema: z.string().openapi({ description: "SSE events" }),
            example: STREAM_EXAMPLE,
          },
        },
      },
      ...errors({
        ...badRequest("✖ symbol must look like BTC-USDT\n  → at symbol"),
        404: {
          description:
            "A symbol with no columns that is not followed (`unknown_symbol`), or no such session (`not_found`)",
          example: {
            error:
              "Symbol DOGE-XYZ has no heatmap and is not followed (see /api/v1/symbols)",
            code: "unknown_symbol",
          },
        },
        503: {
          description:
            "`http.maxStreams` streams open (`too_many_streams`, with Retry-After), or `session` where no replay runs (`no_replay`)",
          example: {
            error: "Too many heatmap streams: 2000 of 2000 open",
            code: "too_many_streams",
          },
        },
      }),
    },
  });
  let open = 0;
  return openApiRoutes()
    .openapi(symbolsRoute, (c) => {
      const { session } = c.req.valid("query");
      if (session === undefined) {
        return c.json({ symbols: deps.hub.symbols() }, 200);
      }
      if (!deps.replay) {
        throw httpError(503, "no_replay", "No replay sessions are run here");
      }
      const hub = deps.replay.hub(session);
      if (!hub) {
        throw httpError(404, "not_found", `No replay session ${clip(session)}`);
      }
      return c.json({ symbols: hub.symbols() }, 200);
    })
    // The viewer's tooltip: each exchange's own column of one tick.
    .openapi(columnRoute, (c) => {
      const q = c.req.valid("query");
      let hub: HeatmapHub = deps.hub;
      if (q.session !== undefined) {
        if (!deps.replay) {
          throw httpError(503, "no_replay", "No replay sessions are run here");
        }
        const own = deps.replay.hub(q.session);
        if (!own) {
          throw httpError(
            404,
            "not_found",
            `No replay session ${clip(q.session)}`,
          );
        }
        hub = own;
      }
      const at = hub.columnsAt(q.symbol, q.ts);
      if (!at) {
        throw httpError(
          404,
          "not_found",
          `No column of ${clip(q.symbol)} kept at or before ${q.ts}`,
        );
      }
      return c.json(at, 200);
    })
    .openapi(
      streamRoute,
      (c) => {
        const q = c.req.valid("query");
        const sessions = q.session === undefined ? null : deps.replay;
        if (q.session !== undefined) {
          if (!sessions) {
            throw httpError(
              503,
              "no_replay",
              "No replay sessions are run here",
            );
          }
          if (!sessions.hub(q.session)) {
            throw httpError(
              404,
              "not_found",
              `No replay session ${clip(q.session)}`,
            );
          }
        } else if (!deps.hub.has(q.symbol) && !configured.has(q.symbol)) {
          throw httpError(
            404,
            "unknown_symbol",
            `Symbol ${
              clip(q.symbol)
            } has no heatmap and is not followed (see /api/v1/symbols)`,
          );
        }
        if (c.req.method === "HEAD") {
          // Headers only: a HEAD must not hold a stream nobody reads.
          c.header("Content-Type", "text/event-stream");
          c.header("Cache-Control", "no-cache");
          return c.body(null, 200);
        }
        if (open >= limits.maxStreams) {
          throw httpError(
            503,
            "too_many_streams",
            `Too many heatmap streams: ${open} of ${limits.maxStreams} open`,
            { retryAfter: RETRY_AFTER_S },
          );
        }
        open++;
        const options = { maxLag: limits.streamQueue };
        let src: StreamSource;
        if (sessions && q.session !== undefined) {
          src = sessionSource(
            sessions,
            q.session,
            (hub) => hub.follow(q.symbol, q.exchanges, options),
          );
        } else {
          const feed = deps.hub.follow(q.symbol, q.exchanges, options);
          src = {
            feed: () => feed,
            notices: () => NONE,
            finished: () => false,
            wait: null,
            close: () => feed.close(),
          };
        }
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          open--;
          src.close();
        };
        // A pull stream: the HTTP server asks for more only when the socket
        // took what it had, so a paused viewer holds one unit, never a queue.
        const body = new ReadableStream<Uint8Array>({
          pull: async (controller) => {
            while (!released) {
              // Each unit (a few columns) waits for its share of a turn.
              await slot();
              if (released) return;
              const notes = src.notices();
              for (const n of notes) {
                controller.enqueue(n);
                charge(n.byteLength);
              }
              if (src.finished()) {
                release();
                controller.close();
                return;
              }
              const { skipped, events } = src.feed().take(UNIT);
              if (skipped) controller.enqueue(gap(skipped));
              if (events.length) {
                // The hub's bytes, shared with every viewer: enqueued, never
                // copied (a copy per viewer is what the allocator keeps).
                for (const e of events) {
                  controller.enqueue(e);
                  charge(e.byteLength);
                }
                return;
              }
              if (skipped || notes.length) return;
              // Woken by a column, a session notice or the abort, else a
              // ping after 15 s; the timer is cleared either way, so no tick
              // leaves one behind.
              let timer: ReturnType<typeof setTimeout> | undefined;
              const woke = await Promise.race([
                src.feed().wait().then(() => true),
                ...(src.wait ? [src.wait().then(() => true)] : []),
                new Promise<boolean>((r) => {
                  timer = setTimeout(() => r(false), PING_MS);
                }),
              ]);
              clearTimeout(timer);
              if (released) return;
              if (!woke) {
                controller.enqueue(PING);
                return;
              }
            }
          },
          cancel: release,
        }, { highWaterMark: 0 });
        return c.body(body, 200, {
          "Content-Type": "text/event-stream",
          "Cache-Control": "no-cache",
          "Connection": "keep-alive",
        });
      },
    );
}
