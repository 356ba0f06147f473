/**
 * The Hono application: mounts every resource's routes and renders every
 * error as one JSON shape `{error: string}`.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppDeps } from "./deps.ts";
import { bookRoutes } from "./routes/book.ts";
import { exchangeRoutes } from "./routes/exchanges.ts";
import { healthRoutes } from "./routes/health.ts";
import { heatmapRoutes } from "./routes/heatmap.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { uiRoutes } from "./routes/ui.ts";

/**
 * Builds the app.
 * @param deps services the routes read.
 * @returns the Hono app; serve with `Deno.serve(app.fetch)`.
 * @example
 * ```ts
 * Deno.serve({ port: 8080 }, createApp(deps).fetch);
 * ```
 */
export function createApp(deps: AppDeps) {
  const app = new Hono()
    .route("/", healthRoutes(deps))
    .route("/", metricsRoutes(deps))
    .route("/", uiRoutes())
    .route("/api/v1/exchanges", exchangeRoutes(deps))
    .route("/api/v1/book", bookRoutes(deps))
    .route("/api/v1", heatmapRoutes(deps));
  app.notFound((c) => c.json({ error: `Not found: ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      return c.json({ error: err.message }, err.status);
    }
    console.error(err);
    return c.json({ error: "Internal error" }, 500);
  });
  return app;
}

/** The app's type, for typed clients. */
export type AppType = ReturnType<typeof createApp>;
