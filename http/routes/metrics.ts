/**
 * `GET /metrics`: OpenTelemetry instruments in Prometheus text format.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../deps.ts";
import { openApiRoutes } from "../validate.ts";

/** The exposition format's media type. */
const PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

/** `GET /metrics`, described. */
const route = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["health"],
  summary: "OpenTelemetry instruments in Prometheus text format",
  responses: {
    200: {
      description: "The Prometheus exposition text",
      content: {
        [PROMETHEUS]: {
          schema: z.string(),
          example:
            '# HELP coby_frames_total Frames received\n# TYPE coby_frames_total counter\ncoby_frames_total{exchange="binance",connection="conn:binance"} 5321\n',
        },
      },
    },
  },
});

/**
 * Metrics routes.
 * @param deps services.
 * @returns the exposition text, `text/plain; version=0.0.4`.
 */
export function metricsRoutes(deps: AppDeps) {
  return openApiRoutes().openapi(route, async (c) => {
    return c.text(await deps.metrics.render(), 200, {
      "Content-Type": PROMETHEUS,
    });
  });
}
