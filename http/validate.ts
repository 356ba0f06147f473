/**
 * The one input validator every route uses: its zod schemas, declared in
 * the route's OpenAPI description (`createRoute` of `@hono/zod-openapi`),
 * validate the request and describe it at `/openapi.json`. A request that
 * fails answers 400 with the zod message, rendered as `{error, code}` by the
 * app.
 *
 * @module
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";

/**
 * A new router of described routes (`.openapi(createRoute({…}), handler)`),
 * whose validation failures answer 400 with the zod message.
 * @returns an OpenAPIHono; mount it with `.route()` on the app.
 * @example
 * ```ts
 * openApiRoutes().openapi(createRoute({ method: "get", path: "/x", request: { query }, responses }), (c) => c.json(c.req.valid("query"), 200));
 * ```
 */
export function openApiRoutes<E extends Env = Env>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new HTTPException(400, {
          message: z.prettifyError(result.error),
        });
      }
    },
  });
}

/** A replay session id (`r1`): the path's `{id}` and the stream's `session`. */
export const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
