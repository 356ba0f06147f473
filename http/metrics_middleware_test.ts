/**
 * The HTTP metrics middleware labels requests by the matched route pattern,
 * never the raw path, with the method and the status that was sent,
 * including errors rendered by `onError` and unmatched paths.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { RequestRecord } from "../actors/system/metrics.ts";
import { metricsMiddleware } from "./metrics_middleware.ts";

Deno.test("metrics middleware: route pattern, method and status of each request", async () => {
  const seen: RequestRecord[] = [];
  const app = new Hono()
    .use(metricsMiddleware({
      render: () => Promise.resolve(""),
      recordRequest: (r) => seen.push(r),
    }))
    .get("/api/v1/replay/:id", (c) => c.json({ id: c.req.param("id") }))
    .post("/api/v1/replay", () => {
      throw new HTTPException(401, { message: "No key" });
    });
  await (await app.request("/api/v1/replay/abc123")).body?.cancel();
  await (await app.request("/api/v1/replay", { method: "POST" })).body
    ?.cancel();
  await (await app.request("/nowhere/4711")).body?.cancel();
  assert.deepEqual(
    seen.map(({ route, method, status }) => [route, method, status]),
    [
      ["/api/v1/replay/:id", "GET", 200],
      ["/api/v1/replay", "POST", 401],
      // No route matched: the middleware's own pattern, never the path.
      ["/*", "GET", 404],
    ],
  );
  assert.ok(seen.every((r) => r.ms >= 0));
});
