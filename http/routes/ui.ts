/**
 * The viewer: `GET /` serves the page, `/ui/app.js` and `/ui/app.css` the
 * bundle built from `ui/` at first request (offline, with `deno bundle`).
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { buildUi, INDEX_HTML } from "../bundle.ts";
import { openApiRoutes } from "../validate.ts";

/**
 * A described `GET` of one static asset.
 * @param path the route.
 * @param type its media type.
 * @param summary what it is.
 */
function asset<P extends string>(path: P, type: string, summary: string) {
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

/**
 * Viewer routes.
 * @returns routes for the page and its assets.
 */
export function uiRoutes() {
  return openApiRoutes()
    .openapi(
      asset("/", "text/html", "The viewer's page"),
      (c) => c.html(INDEX_HTML),
    )
    .openapi(
      asset("/ui/app.js", "text/javascript", "The viewer, bundled"),
      async (c) => {
        c.header("content-type", "text/javascript; charset=utf-8");
        return c.body((await buildUi()).js);
      },
    )
    .openapi(
      asset("/ui/app.css", "text/css", "The viewer's stylesheet"),
      async (c) => {
        c.header("content-type", "text/css; charset=utf-8");
        return c.body((await buildUi()).css);
      },
    );
}
