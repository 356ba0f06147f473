/**
 * The Hono application: mounts every resource's routes and renders every
 * error as one JSON shape `{error: string, code: string}`.
 *
 * @module
 */

import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { ActorDownError, RequestError } from "../runtime/protocol.ts";
import type { AppDeps } from "./deps.ts";
import { bookRoutes } from "./routes/book.ts";
import { exchangeRoutes } from "./routes/exchanges.ts";
import { healthRoutes } from "./routes/health.ts";
import { heatmapRoutes } from "./routes/heatmap.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { uiRoutes } from "./routes/ui.ts";

/**
 * The body of every error response. `code` is machine-readable: an actor's
 * error code (`not_followed`, `actor_down`, …) or, for errors the HTTP layer
 * raises itself, one named after the status (`bad_request`, `not_found`, …).
 */
export interface ErrorBody {
  /** What went wrong, naming the bad value. */
  error: string;
  /** Machine-readable code. */
  code: string;
}

/** Codes for errors that carry none of their own, by status. */
const STATUS_CODES: Record<number, string> = {
  400: "bad_request",
  404: "not_found",
  500: "internal",
  503: "unavailable",
};

/** Seconds a client should wait before retrying an actor that is down. */
const RETRY_AFTER_S = 5;

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
  app.notFound((c) =>
    c.json<ErrorBody>(
      { error: `Not found: ${c.req.path}`, code: "not_found" },
      404,
    )
  );
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      // A route passes its headers (Retry-After) in `res`, its code in `cause`.
      err.res?.headers.forEach((v, k) => c.header(k, v));
      const cause = err.cause as { code?: unknown } | undefined;
      const code = typeof cause?.code === "string"
        ? cause.code
        : STATUS_CODES[err.status] ?? `http_${err.status}`;
      return c.json<ErrorBody>({ error: err.message, code }, err.status);
    }
    // An actor error a route did not map: down is retryable, the rest is ours.
    if (err instanceof ActorDownError) {
      c.header("Retry-After", String(RETRY_AFTER_S));
      return c.json<ErrorBody>({ error: err.message, code: err.code }, 503);
    }
    console.error(err);
    const code = err instanceof RequestError ? err.code : "internal";
    return c.json<ErrorBody>({ error: "Internal error", code }, 500);
  });
  return app;
}

/** The app's type, for typed clients. */
export type AppType = ReturnType<typeof createApp>;
