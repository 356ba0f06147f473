/**
 * `GET /api/v1/book?exchange=&symbol=&depth=`: the current L2 book of one
 * exchange symbol, best levels first. With `&at=` (ISO-8601 with a zone, or
 * epoch ms) the book as it was at that instant, rebuilt from the recorded
 * keyframes and changes (`bookAt` in `actors/store/queries.ts`): 200 with
 * `state` `synced`, or `unsynced` and no levels when the book was not synced
 * then; 404 `not_found` when no keyframe precedes `at`; 503 `no_history`
 * when no history is kept.
 *
 * Each of the exchange's connection actors is asked in turn; the first that
 * follows the symbol answers. Actor errors arrive typed (`RequestError` with
 * a code, `ActorDownError`) and map to distinct statuses, each at once: a
 * request to a crashed actor is rejected the moment it fails.
 *
 * | outcome                                              | status | `code`         |
 * | ---------------------------------------------------- | ------ | -------------- |
 * | a synced book                                        | 200    |                |
 * | no connection follows the symbol                     | 404    | `not_followed` |
 * | the book is followed but not synced (its state says) | 503    | `not_synced`   |
 * | a connection has not loaded its instruments yet      | 503    | `not_loaded`   |
 * | a connection that might follow it is down           | 503    | `actor_down`   |
 * | an actor answered any other error                    | 500    | its code       |
 *
 * Every 503 carries `Retry-After`.
 *
 * @module
 */

import { createRoute } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { BookView } from "../../actors/market/requests.ts";
import { isConnectionOf } from "../../actors/system/topology.ts";
import { ActorDownError, RequestError } from "../../runtime/protocol.ts";
import type { AppDeps } from "../deps.ts";
import { clip, httpError as jsonError, RETRY_AFTER_S } from "../errors.ts";
import {
  BOOK_EXAMPLE,
  BookSchema,
  errors,
  jsonAnswer,
} from "../openapi_schemas.ts";
import { openApiRoutes } from "../validate.ts";
import { askHistory, askLive, timeParam } from "./history.ts";

/** Longest accepted `symbol` (venue names and selectors are far shorter). */
const SYMBOL_MAX = 32;

/** The message for a bad `depth`, naming it (clipped). */
function badDepth(input: unknown): string {
  return `depth ${
    JSON.stringify(clip(String(input)))
  } must be an integer from 1 to 5000`;
}

/** An HTTP error in the app's one JSON shape; a 503 carries `Retry-After`. */
function httpError(
  status: 404 | 500 | 503,
  code: string,
  message: string,
): HTTPException {
  return jsonError(status, code, message, {
    retryAfter: status === 503 ? RETRY_AFTER_S : undefined,
  });
}

/**
 * Book routes.
 * @param deps services.
 * @returns `{exchange, exchangeSymbol, symbol, market, state, lastSequence,
 * bids: [[price, size]…], asks: […]}`; 400 for bad parameters, 404
 * (`not_followed`) for a symbol no connection follows, 503 (`not_synced`,
 * `not_loaded`, `actor_down`, with `Retry-After`) when the book cannot be
 * served yet, 500 for any other actor error. With `at`, the recorded book
 * at that instant (`state` `synced` or `unsynced`); 404 (`not_found`) when
 * none was recorded by then, 503 (`no_history`) when no history is kept.
 * @throws {HTTPException} rendered as `{error, code}` by the app.
 * @example
 * ```ts
 * const res = await createApp(deps).request("/api/v1/book?exchange=binance&symbol=BTCUSDT&depth=10");
 * ```
 */
export function bookRoutes(deps: AppDeps) {
  const Query = z.object({
    exchange: z.enum(deps.exchanges as [string, ...string[]]).openapi({
      description: "A configured exchange id",
      example: "binance",
    }),
    symbol: z.string().min(1).max(SYMBOL_MAX).openapi({
      description: "The venue's symbol (`BTCUSDT`) or a selector (`BTC-USDT`)",
      example: "BTCUSDT",
    }),
    // Plain decimal digits only: `Number()` would take 0x10, 1e3 and " 7".
    depth: z.string()
      .regex(/^[0-9]{1,4}$/, { error: (iss) => badDepth(iss.input) })
      .transform(Number)
      .pipe(
        z.number().min(1, { error: (iss) => badDepth(iss.input) })
          .max(5000, { error: (iss) => badDepth(iss.input) }),
      )
      .default(50)
      .openapi({ description: "Levels per side, 1–5000", example: "10" }),
    at: timeParam("at").optional().openapi({
      description:
        "The book as recorded at this instant: ISO-8601 with a zone or epoch ms",
      example: "2026-01-05T12:00:00Z",
    }),
  });
  const route = createRoute({
    method: "get",
    path: "/",
    tags: ["market"],
    summary: "The L2 book of one exchange symbol, now or at `at`",
    request: { query: Query },
    responses: {
      200: jsonAnswer(
        "A synced book, best levels first",
        BookSchema,
        BOOK_EXAMPLE,
      ),
      ...errors({
        400: {
          description: "A bad parameter: the zod message",
          example: {
            error:
              '✖ depth "0" must be an integer from 1 to 5000\n  → at depth',
            code: "bad_request",
          },
        },
        404: {
          description:
            "No connection follows the symbol (`not_followed`), or nothing recorded by `at` (`not_found`)",
          example: {
            error: "Symbol DOGEBTC is not followed on binance",
            code: "not_followed",
          },
        },
        500: {
          description: "An actor answered another error (its code)",
          example: {
            error: "Book BTCUSDT on binance failed: internal",
            code: "internal",
          },
        },
        503: {
          description:
            "Not servable yet, with Retry-After: `not_synced`, `not_loaded`, `actor_down`, `no_history`",
          example: {
            error: "Book BTCUSDT on binance is not synced (buffering)",
            code: "not_synced",
          },
        },
      }),
    },
  });
  return openApiRoutes().openapi(route, async (c) => {
    const q = c.req.valid("query");
    if (q.at !== undefined) {
      return c.json(
        await askHistory(deps, "bookAt", {
          exchange: q.exchange,
          symbol: q.symbol,
          at: q.at,
          depth: q.depth,
        }),
        200,
      );
    }
    // An unsynced book is never served as if it were the market.
    const synced = (book: BookView) => {
      if (book.state !== "synced") {
        throw httpError(
          503,
          "not_synced",
          `Book ${
            clip(q.symbol)
          } on ${q.exchange} is not synced (${book.state})`,
        );
      }
      return c.json(book, 200);
    };
    const actors = deps.actors().filter((a) =>
      isConnectionOf(a.id, q.exchange)
    );
    if (deps.live && actors.length === 0) {
      // No connection of it runs here (a serving process, an import by
      // `deno task replay`): the book from the live cache.
      const book = await askLive(deps, "liveBook", {
        exchange: q.exchange,
        symbol: q.symbol,
        depth: q.depth,
      });
      if (!book) {
        throw httpError(
          404,
          "not_found",
          `No book of ${clip(q.symbol)} on ${q.exchange} in the live cache`,
        );
      }
      return synced(book);
    }
    if (actors.length === 0) {
      throw httpError(
        503,
        "actor_down",
        `Exchange ${q.exchange} has no connection actor`,
      );
    }
    // What the connections that could not serve the book said, by kind.
    const down: string[] = [];
    const notLoaded: string[] = [];
    const notFollowed: string[] = [];
    let failed: RequestError | Error | null = null;
    for (const a of actors) {
      if (a.state !== "running" && a.state !== "degraded") {
        down.push(`${a.id} is ${a.state}`);
        continue;
      }
      try {
        const book = await deps.request(a.id, "book", {
          symbol: q.symbol,
          depth: q.depth,
        });
        return synced(book);
      } catch (e) {
        if (e instanceof HTTPException) throw e;
        const code = e instanceof RequestError ? e.code : "internal";
        if (e instanceof ActorDownError) down.push(e.message);
        else if (code === "not_followed") {
          notFollowed.push((e as Error).message);
        } else if (code === "not_loaded") notLoaded.push((e as Error).message);
        else failed ??= e as Error;
      }
    }
    // The symbol may be on a connection that cannot answer: say so, not 404.
    if (down.length) {
      throw httpError(
        503,
        "actor_down",
        `Exchange ${q.exchange} is down for ${clip(q.symbol)}: ${
          down.join("; ")
        }`,
      );
    }
    if (notLoaded.length) {
      throw httpError(503, "not_loaded", notLoaded.join("; "));
    }
    if (failed) {
      throw httpError(
        500,
        failed instanceof RequestError ? failed.code : "internal",
        `Book ${clip(q.symbol)} on ${q.exchange} failed: ${failed.message}`,
      );
    }
    throw httpError(
      404,
      "not_followed",
      notFollowed.join("; ") ||
        `Symbol ${clip(q.symbol)} is not followed on ${q.exchange}`,
    );
  });
}
