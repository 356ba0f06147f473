/**
 * `GET /api/v1/heatmap/stream?symbol=&exchanges=`: an SSE stream of heatmap
 * columns (event `column`, JSON {@link ColumnPayload}); the kept history
 * first, then one column per tick. `GET /api/v1/symbols` lists what can be
 * streamed.
 *
 * @module
 */

import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { ColumnPayload } from "../../actors/system/hub.ts";
import type { AppDeps } from "../deps.ts";
import { validate } from "../validate.ts";

/**
 * Heatmap routes.
 * @param deps services.
 * @returns routes for `/symbols` and `/heatmap/stream`.
 */
export function heatmapRoutes(deps: AppDeps) {
  const Query = z.object({
    symbol: z.string().regex(
      /^[A-Z0-9]+-[A-Z0-9]+$/,
      "symbol must look like BTC-USDT",
    ),
    exchanges: z.string().optional()
      .transform((s) =>
        s ? s.split(",").map((x) => x.trim()).filter(Boolean) : null
      )
      .refine(
        (list) =>
          list === null || list.every((e) => deps.exchanges.includes(e)),
        `exchanges must be a comma list of: ${deps.exchanges.join(", ")}`,
      ),
  });
  return new Hono()
    .get("/symbols", (c) => c.json({ symbols: deps.hub.symbols() }))
    .get("/heatmap/stream", validate("query", Query), (c) => {
      const q = c.req.valid("query");
      return streamSSE(c, async (stream) => {
        const queue: ColumnPayload[] = [];
        let wake: (() => void) | null = null;
        const off = deps.hub.subscribe(q.symbol, q.exchanges, (p) => {
          queue.push(p);
          wake?.();
        });
        stream.onAbort(() => {
          off();
          wake?.();
        });
        while (!stream.aborted && !stream.closed) {
          while (queue.length) {
            await stream.writeSSE({
              event: "column",
              data: JSON.stringify(queue.shift()),
            });
          }
          // Woken by a column or the abort, else a ping after 15 s; the
          // timer is cleared either way, so no tick leaves one behind.
          if (stream.aborted || stream.closed) break;
          let timer: ReturnType<typeof setTimeout> | undefined;
          await new Promise<void>((r) => {
            wake = r;
            timer = setTimeout(r, 15_000);
          });
          clearTimeout(timer);
          wake = null;
          if (stream.aborted) break;
          if (!queue.length) await stream.writeSSE({ event: "ping", data: "" });
        }
        off();
      });
    });
}
