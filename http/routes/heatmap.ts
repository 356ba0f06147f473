/**
 * `GET /api/v1/heatmap/stream?symbol=&exchanges=`: an SSE stream of heatmap
 * columns (event `column`, JSON `ColumnPayload` of `actors/system/hub.ts`);
 * the kept history first, then one column per tick. `GET /api/v1/symbols`
 * lists what can be streamed.
 *
 * | event    | data                                                                |
 * | -------- | ------------------------------------------------------------------- |
 * | `column` | one column, JSON `ColumnPayload`                                    |
 * | `gap`    | `{"skipped": N}`: the viewer fell behind and N columns were dropped |
 * | `ping`   | empty, after 15 s without a column                                  |
 *
 * | outcome                                                 | status | `code`             |
 * | ------------------------------------------------------- | ------ | ------------------ |
 * | a symbol with columns, or one the configuration follows | 200    |                    |
 * | a bad `symbol` or `exchanges`                           | 400    | `bad_request`      |
 * | a well-formed symbol with no columns and not followed   | 404    | `unknown_symbol`   |
 * | `http.maxStreams` streams open already                  | 503    | `too_many_streams` |
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

import { Hono } from "hono";
import { z } from "zod";
import { consolidationKey } from "../../actors/market/consolidate.ts";
import type { Config } from "../../actors/system/config.ts";
import type { AppDeps } from "../deps.ts";
import { clip, httpError } from "../errors.ts";
import { charge, slot } from "../turns.ts";
import { validate } from "../validate.ts";

/** Seconds a client should wait before retrying when every stream is taken. */
const RETRY_AFTER_S = 5;
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

/** Limits of the heatmap streams. */
export interface StreamLimits {
  /** Streams open at once; past it, 503 with `Retry-After`. */
  maxStreams: number;
  /** Columns a live stream may fall behind before its oldest are dropped. */
  streamQueue: number;
}

/**
 * Heatmap routes.
 * @param deps services.
 * @param limits stream limits (`http.maxStreams`, `http.streamQueue`).
 * @returns routes for `/symbols` and `/heatmap/stream`.
 * @throws {HTTPException} rendered as `{error, code}` by the app: 400, 404
 * `unknown_symbol`, 503 `too_many_streams`.
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
    symbol: z.string().max(SYMBOL_MAX).regex(
      /^[A-Z0-9]+-[A-Z0-9]+$/,
      "symbol must look like BTC-USDT",
    ),
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
      .refine(
        (list) =>
          list === null || list.every((e) => deps.exchanges.includes(e)),
        `exchanges must be a comma list of: ${deps.exchanges.join(", ")}`,
      ),
  });
  let open = 0;
  return new Hono()
    .get("/symbols", (c) => c.json({ symbols: deps.hub.symbols() }))
    // A burst of new viewers is sliced like the streams' work.
    .get(
      "/heatmap/stream",
      async (_c, next) => {
        await slot();
        await next();
      },
      validate("query", Query),
      (c) => {
        const q = c.req.valid("query");
        if (!deps.hub.has(q.symbol) && !configured.has(q.symbol)) {
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
        const feed = deps.hub.follow(q.symbol, q.exchanges, {
          maxLag: limits.streamQueue,
        });
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          open--;
          feed.close();
        };
        // A pull stream: the HTTP server asks for more only when the socket
        // took what it had, so a paused viewer holds one unit, never a queue.
        const body = new ReadableStream<Uint8Array>({
          pull: async (controller) => {
            while (!released) {
              // Each unit (a few columns) waits for its share of a turn.
              await slot();
              if (released) return;
              const { skipped, events } = feed.take(UNIT);
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
              if (skipped) return;
              // Woken by a column or the abort, else a ping after 15 s; the
              // timer is cleared either way, so no tick leaves one behind.
              let timer: ReturnType<typeof setTimeout> | undefined;
              const woke = await Promise.race([
                feed.wait().then(() => true),
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
