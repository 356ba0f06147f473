/**
 * The viewer: `GET /` serves the page, `/ui/app.js` and `/ui/app.css` the
 * bundle built from `ui/` at first request (offline, with `deno bundle`).
 *
 * @module
 */

import { buildUi, INDEX_HTML } from "../bundle.ts";
import { openApiRoutes } from "../validate.ts";
import { staticRoute } from "./_static.ts";

/**
 * Viewer routes.
 * @returns routes for the page and its assets.
 */
export function uiRoutes() {
  return openApiRoutes()
    .openapi(
      staticRoute("/", "text/html", "The viewer's page"),
      (c) => c.html(INDEX_HTML),
    )
    .openapi(
      staticRoute("/ui/app.js", "text/javascript", "The viewer, bundled"),
      async (c) => {
        c.header("content-type", "text/javascript; charset=utf-8");
        return c.body((await buildUi()).js);
      },
    )
    .openapi(
      staticRoute("/ui/app.css", "text/css", "The viewer's stylesheet"),
      async (c) => {
        c.header("content-type", "text/css; charset=utf-8");
        return c.body((await buildUi()).css);
      },
    );
}
