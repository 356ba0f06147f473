/**
 * The viewer: `GET /` serves the page, `/ui/app.js` and `/ui/app.css` the
 * bundle built from `ui/` at first request (offline, with `deno bundle`).
 *
 * @module
 */

import { Hono } from "hono";
import { buildUi, INDEX_HTML } from "../bundle.ts";

/**
 * Viewer routes.
 * @returns routes for the page and its assets.
 */
export function uiRoutes() {
  return new Hono()
    .get("/", (c) => c.html(INDEX_HTML))
    .get("/ui/app.js", async (c) => {
      c.header("content-type", "text/javascript; charset=utf-8");
      return c.body((await buildUi()).js);
    })
    .get("/ui/app.css", async (c) => {
      c.header("content-type", "text/css; charset=utf-8");
      return c.body((await buildUi()).css);
    });
}
