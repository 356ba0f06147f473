/**
 * The API's description and its docs page: `GET /openapi.json` answers the
 * OpenAPI 3.1 document (`http/openapi.ts`); `GET /docs` renders it with
 * Swagger UI (`swagger-ui-dist`), served from our own routes like the
 * viewer's bundle, so the page works offline: `/docs/swagger-ui.css`,
 * `/docs/swagger-ui-bundle.js` and `/docs/init.js` (no inline script).
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { openApiRoutes } from "../validate.ts";
import { staticRoute } from "./_static.ts";

/** The docs page: Swagger UI's stylesheet and bundle, then our start-up. */
const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coby API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/**
 * Starts Swagger UI on `/openapi.json`: no validator badge (it would call
 * validator.swagger.io), no "try it out" credentials kept.
 */
const INIT_JS = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#docs",
  validatorUrl: null,
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
});
`;

const DIST = new URL("../../node_modules/swagger-ui-dist/", import.meta.url);

/** Swagger UI's files, read once per process. */
const assets = new Map<string, Promise<string>>();

/**
 * One of Swagger UI's files, without its source-map comment (the map is not
 * served).
 * @param name the file in `swagger-ui-dist`.
 * @throws {Error} naming the file when it is missing (run `deno install`).
 */
function asset(name: string): Promise<string> {
  let text = assets.get(name);
  if (!text) {
    text = Deno.readTextFile(new URL(name, DIST)).then(
      (t) => t.replace(/\n?\/[/*]# sourceMappingURL=\S+\s*(\*\/)?\s*$/, "\n"),
      (e) => {
        assets.delete(name);
        throw new Error(
          `Cannot read ${name} of swagger-ui-dist: run \`deno install\``,
          { cause: e },
        );
      },
    );
    assets.set(name, text);
  }
  return text;
}

/** `GET /openapi.json`, described. */
const specRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["viewer"],
  summary: "This description (OpenAPI 3.1)",
  responses: {
    200: {
      description: "The OpenAPI 3.1 document",
      content: {
        "application/json": {
          schema: z.looseObject({
            openapi: z.string(),
            info: z.looseObject({ title: z.string(), version: z.string() }),
          }),
          example: {
            openapi: "3.1.0",
            info: { title: "coby", version: "1.0.0" },
          },
        },
      },
    },
  },
});

/**
 * Docs routes.
 * @param document the app's OpenAPI document (read on each request: the
 * caller builds it once, after every route is mounted).
 * @returns routes for `/openapi.json`, `/docs` and the page's files.
 * @example
 * ```ts
 * app.route("/", docsRoutes(() => openApiDocument(app)));
 * ```
 */
export function docsRoutes(
  document: () => { openapi: string; info: { title: string; version: string } },
) {
  return openApiRoutes()
    .openapi(specRoute, (c) => c.json(document(), 200))
    .openapi(
      staticRoute(
        "/docs",
        "text/html",
        "The API docs page (Swagger UI, offline)",
      ),
      (c) => c.html(DOCS_HTML),
    )
    .openapi(
      staticRoute(
        "/docs/swagger-ui.css",
        "text/css",
        "Swagger UI's stylesheet",
      ),
      async (c) => {
        c.header("content-type", "text/css; charset=utf-8");
        c.header("cache-control", "max-age=3600");
        return c.body(await asset("swagger-ui.css"));
      },
    )
    .openapi(
      staticRoute(
        "/docs/swagger-ui-bundle.js",
        "text/javascript",
        "Swagger UI, bundled",
      ),
      async (c) => {
        c.header("content-type", "text/javascript; charset=utf-8");
        c.header("cache-control", "max-age=3600");
        return c.body(await asset("swagger-ui-bundle.js"));
      },
    )
    .openapi(
      staticRoute("/docs/init.js", "text/javascript", "Starts Swagger UI"),
      (c) => {
        c.header("content-type", "text/javascript; charset=utf-8");
        return c.body(INIT_JS);
      },
    );
}
