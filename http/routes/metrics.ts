/**
 * `GET /metrics`: OpenTelemetry instruments in Prometheus text format.
 *
 * @module
 */

import { Hono } from "hono";
import type { AppDeps } from "../deps.ts";

/**
 * Metrics routes.
 * @param deps services.
 * @returns the exposition text, `text/plain; version=0.0.4`.
 */
export function metricsRoutes(deps: AppDeps) {
  return new Hono().get("/metrics", async (c) => {
    c.header("content-type", "text/plain; version=0.0.4; charset=utf-8");
    return c.body(await deps.metrics.render());
  });
}
