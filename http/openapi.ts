/**
 * The OpenAPI 3.1 description of coby's HTTP API, built from the routes'
 * own zod schemas (`@hono/zod-openapi`): every route of the app is declared
 * with `createRoute`, so what validates a request is what describes it.
 * Served at `/openapi.json`; `/docs` renders it (`http/routes/docs.ts`).
 *
 * @module
 */

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Env, Schema } from "hono";
import { API_KEY_HEADER } from "./auth.ts";

/** The API's version in the description (`info.version`): the `/api/v1` routes. */
const API_VERSION = "1.0.0";

/** The description's `info`. */
const INFO = {
  title: "coby",
  version: API_VERSION,
  description:
    "Consolidated crypto order books: L2 books per exchange, heatmaps (live and replayed) as server-sent events, history from the store, replay sessions. Prices in quote currency, sizes in base currency, times in ms since the epoch (UTC). Every error answers `{error, code}`.",
  license: { name: "MIT", identifier: "MIT" },
};

/**
 * The credential schemes of the control routes (`security` of the replay
 * routes names them): an API key in `X-API-Key`, or a JWT as a bearer token.
 * @param app the app whose description gains them.
 */
export function describeSecurity<
  E extends Env,
  S extends Schema,
  B extends string,
>(
  app: OpenAPIHono<E, S, B>,
): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: API_KEY_HEADER,
    description: "One of the configured API keys (`COBY_API_KEYS`)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A JWT (HS256, RS256 or ES256) with `exp`, `nbf`, `aud` and `iss` checked",
  });
}

/**
 * The OpenAPI 3.1 document of an app: every route it mounted with
 * `createRoute`, at its full path.
 * @param app the app, with every route mounted.
 * @returns the document (`openapi: "3.1.0"`, `info.title` `coby`).
 * @throws {Error} from the generator when a schema cannot be described.
 * @example
 * ```ts
 * const doc = openApiDocument(createApp(deps));
 * Object.keys(doc.paths ?? {}); // ["/healthz", "/metrics", "/", …]
 * ```
 */
export function openApiDocument<
  E extends Env,
  S extends Schema,
  B extends string,
>(
  app: OpenAPIHono<E, S, B>,
): ReturnType<OpenAPIHono["getOpenAPI31Document"]> {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: INFO,
    tags: [
      { name: "market", description: "Books now" },
      { name: "heatmap", description: "Heatmap columns, streamed" },
      { name: "history", description: "What the store recorded" },
      { name: "replay", description: "Replay sessions" },
      { name: "health", description: "Health and metrics" },
      { name: "viewer", description: "The browser viewer and these docs" },
    ],
  });
}
