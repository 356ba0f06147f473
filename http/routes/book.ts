/**
 * `GET /api/v1/book?exchange=&symbol=&depth=`: the current L2 book of one
 * exchange symbol, best levels first.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { isConnectionOf } from "../../actors/system/topology.ts";
import type { AppDeps } from "../deps.ts";
import { validate } from "../validate.ts";

/**
 * Book routes.
 * @param deps services.
 * @returns `{exchange, exchangeSymbol, symbol, market, state, lastSequence,
 * bids: [[price, size]…], asks: […]}`; 400 for bad parameters, 404 for a
 * symbol not followed, 503 when the exchange's actor is down or the book is
 * not synced.
 */
export function bookRoutes(deps: AppDeps) {
  const Query = z.object({
    exchange: z.enum(deps.exchanges as [string, ...string[]]),
    symbol: z.string().min(1),
    depth: z.coerce.number().int().min(1).max(5000).default(50),
  });
  return new Hono().get("/", validate("query", Query), async (c) => {
    const q = c.req.valid("query");
    const actors = deps.actors().filter((a) =>
      isConnectionOf(a.id, q.exchange)
    );
    const up = actors.filter((a) =>
      a.state === "running" || a.state === "degraded"
    );
    if (up.length === 0) {
      const states = actors.map((a) => a.state).join(", ") || "unknown";
      throw new HTTPException(503, {
        message: `Exchange ${q.exchange} is ${states}`,
      });
    }
    let why = "";
    for (const a of up) {
      try {
        const book = await deps.request(a.id, "book", {
          symbol: q.symbol,
          depth: q.depth,
        }) as {
          state: string;
        };
        // An unsynced book is never served as if it were the market.
        if (book.state !== "synced") {
          throw new HTTPException(503, {
            message:
              `Book ${q.symbol} on ${q.exchange} is not synced (${book.state})`,
          });
        }
        return c.json(book);
      } catch (e) {
        if (e instanceof HTTPException) throw e;
        why = (e as Error).message;
      }
    }
    throw new HTTPException(404, { message: why });
  });
}
