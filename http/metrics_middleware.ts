/**
 * Counts every HTTP request for `/metrics`: `coby_http_requests` and
 * `coby_http_request_duration_ms` (ms, to the response headers; an SSE
 * stream counts until it opens) by matched route pattern (`/api/v1/book`,
 * never the raw URL, so the series stay few), method and status.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import type { Metrics } from "../actors/system/metrics.ts";

/**
 * The middleware; mount it first so that it times the whole request.
 * @param metrics where requests are recorded (a stub without
 *   `recordRequest` records nothing).
 * @returns a Hono middleware.
 * @example
 * ```ts
 * const app = new Hono().use(metricsMiddleware(deps.metrics));
 * ```
 */
export function metricsMiddleware(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const t0 = performance.now();
    await next();
    // After `next`, the route index is the handler's that answered; with no
    // handler (a 404) it is a middleware's pattern, such as `*`.
    metrics.recordRequest?.({
      route: c.req.routePath,
      method: c.req.method,
      status: c.res.status,
      ms: performance.now() - t0,
    });
  };
}
