/**
 * The description of a `GET` that answers one static text file (a page, a
 * script, a stylesheet), shared by the viewer's and the API docs' routes.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";

/**
 * A described `GET` of one static file, tagged `viewer`: its 200 answers a
 * string of the media type given.
 * @param path the route, e.g. `/ui/app.js`.
 * @param type its media type, e.g. `text/javascript`.
 * @param summary what it is; also the 200's description.
 * @returns the route, for `.openapi(route, handler)`.
 * @example
 * ```ts
 * routes.openapi(staticRoute("/", "text/html", "The page"), (c) => c.html(HTML));
 * ```
 */
export function staticRoute<P extends string>(
  path: P,
  type: string,
  summary: string,
) {
  return createRoute({
    method: "get",
    path,
    tags: ["viewer"],
    summary,
    responses: {
      200: {
        description: summary,
        content: { [type]: { schema: z.string() } },
      },
    },
  });
}
