/**
 * `GET /api/v1/book?exchange=&symbol=&depth=`: the current L2 book of one
 * exchange symbol, best levels first.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { connectionId } from "../../runtime/pipeline.ts";
import type { AppDeps } from "../deps.ts";
import { validate } from "../validate.ts";

/**
 * Book routes.
 * @param deps services.
 * @returns `{exchange, exchangeSymbol, symbol, market, state, lastSequence,
 * bids: [[price, size]…], asks: […]}`; 400 for bad parameters, 404 for a
 * symbol not followed, 503 when the exchange's actor is down.
 */
export function bookRoutes(deps: AppDeps) {
  const Query = z.object({
    exchange: z.enum(deps.exchanges as [string, ...string[]]),
    symbol: z.string().min(1),
    depth: z.coerce.number().int().min(1).max(5000).default(50),
  });
  return new Hono().get("/", validate("query", Query), async (c) => {
    const q = c.req.valid("query");
    const id = connectionId(q.exchange);
    const actor = deps.actors().find((a) => a.id === id);
    if (actor?.state !== "running" && actor?.state !== "degraded") {
      throw new HTTPException(503, {
        message: `Exchange ${q.exchange} is ${actor?.state ?? "unknown"}`,
      });
    }
    try {
      return c.json(
        await deps.request(id, "book", {
          symbol: q.symbol,
          depth: q.depth,
        }) as object,
      );
    } catch (e) {
      throw new HTTPException(404, { message: (e as Error).message });
    }
  });
}
