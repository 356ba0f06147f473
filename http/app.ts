/**
 * The Hono application: mounts every resource's routes and renders every
 * error as one JSON shape `{error: string, code: string}`.
 *
 * Before any route: the `Host` header must name this server (the bind
 * address, a loopback name or `http.allowedHosts`), so a page on another
 * site cannot reach a local coby through DNS rebinding (421 otherwise); CORS
 * answers only the origins in `http.corsOrigins` (none by default: the
 * browser's same-origin policy applies; allowed origins may also send the
 * replay control methods with `X-API-Key` or `Authorization`); the
 * request's credential is checked and its client's rate limit taken
 * (`http/auth.ts`, `http/rate_limit.ts`). A path that exists for other
 * methods gets 405 with `Allow`; error messages echo at most a short prefix
 * of the request.
 *
 * @module
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { Config } from "../actors/system/config.ts";
import { ActorDownError, RequestError } from "../runtime/protocol.ts";
import { processLog, redactUrl } from "../runtime/log.ts";
import { API_KEY_HEADER, Auth, identify } from "./auth.ts";
import type { AppDeps } from "./deps.ts";
import { clip, httpError, RETRY_AFTER_S } from "./errors.ts";
import { describeSecurity, openApiDocument } from "./openapi.ts";
import {
  openRateLimitStore,
  rateLimit,
  type RateLimitStore,
} from "./rate_limit.ts";
import { bookRoutes } from "./routes/book.ts";
import { docsRoutes } from "./routes/docs.ts";
import { exchangeRoutes } from "./routes/exchanges.ts";
import { healthRoutes } from "./routes/health.ts";
import { heatmapRoutes } from "./routes/heatmap.ts";
import { historyRoutes } from "./routes/history.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { metricsMiddleware } from "./metrics_middleware.ts";
import { replayRoutes } from "./routes/replay.ts";
import { uiRoutes } from "./routes/ui.ts";

/**
 * The body of every error response. `code` is machine-readable: an actor's
 * error code (`not_followed`, `actor_down`, …) or, for errors the HTTP layer
 * raises itself, one named after the status (`bad_request`, `not_found`, …).
 */
export interface ErrorBody {
  /** What went wrong, naming the bad value. */
  error: string;
  /** Machine-readable code. */
  code: string;
}

/** The HTTP settings (`http` in the configuration). */
export type HttpSettings = Config["http"];

/**
 * Options for {@link createApp}: HTTP settings over the configuration's, and
 * where the rate limits' buckets live (default: Redis with `bus.url`, else
 * memory; a store given here is the caller's to close).
 */
export type AppOptions = Partial<HttpSettings> & {
  rateLimitStore?: RateLimitStore;
};

/** Codes for errors that carry none of their own, by status. */
const STATUS_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  415: "unsupported_media_type",
  421: "host_not_allowed",
  500: "internal",
  503: "unavailable",
};

/** Host names that are always this machine: a rebinding attack cannot send them. */
const LOOPBACK = ["localhost", "127.0.0.1", "::1"];

/** Bind addresses that name no host (every interface). */
const WILDCARD = ["", "0.0.0.0", "::", "[::]"];

/**
 * The HTTP settings in force: the defaults, then the configuration's
 * (`deps.config.http`), then `options`.
 * @param deps services, with the configuration when there is one.
 * @param options overrides.
 * @returns every setting.
 * @example
 * ```ts
 * httpSettings(deps, { maxStreams: 10 }).maxStreams; // 10
 * ```
 */
export function httpSettings(
  deps: Pick<AppDeps, "config">,
  options: AppOptions = {},
): HttpSettings {
  const defaults = Config.shape.http.parse(undefined);
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  );
  return { ...defaults, ...deps.config?.http, ...defined };
}

/**
 * Whether a `Host` header names this server.
 * @param host the header (`name`, `name:port`, `[v6]:port`).
 * @param settings bind host and allowed hosts.
 * @returns true for a loopback name, the bind address, an allowed host, or
 * any host when `allowedHosts` holds `"*"`.
 */
function hostAllowed(host: string, settings: HttpSettings): boolean {
  if (settings.allowedHosts.includes("*")) return true;
  let u: URL;
  try {
    u = new URL(`http://${host}`);
  } catch {
    return false;
  }
  // A Host header is a name and a port, nothing more.
  if (u.username || u.password || u.pathname !== "/" || u.search || u.hash) {
    return false;
  }
  const name = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const bind = settings.host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return LOOPBACK.includes(name) ||
    (!WILDCARD.includes(bind) && name === bind) ||
    settings.allowedHosts.some((h) =>
      h.replace(/^\[(.*)\]$/, "$1").toLowerCase() === name
    );
}

/**
 * Builds the app.
 * @param deps services the routes read.
 * @param options HTTP settings over the configuration's (`deps.config.http`).
 * @returns the Hono app; serve with `Deno.serve(app.fetch)`.
 * @example
 * ```ts
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, createApp(deps).fetch);
 * ```
 */
export function createApp(deps: AppDeps, options: AppOptions = {}) {
  const { rateLimitStore, ...http } = options;
  const settings = httpSettings(deps, http);
  const api = deps.config?.api ?? Config.shape.api.parse(undefined);
  const auth = new Auth(api);
  const base = new OpenAPIHono();
  base.use("*", metricsMiddleware(deps.metrics));
  base.use("*", async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!hostAllowed(host, settings)) {
      throw httpError(
        421,
        "host_not_allowed",
        `Host ${clip(host)} is not served here (see http.allowedHosts)`,
      );
    }
    await next();
  });
  if (settings.corsOrigins.length) {
    base.use(
      "*",
      cors({
        origin: (origin) =>
          settings.corsOrigins.includes(origin) ? origin : null,
        allowMethods: ["GET", "HEAD", "POST", "PATCH", "DELETE"],
        allowHeaders: [API_KEY_HEADER, "Authorization", "Content-Type"],
        exposeHeaders: ["Location", "Retry-After", "WWW-Authenticate"],
        maxAge: 600,
      }),
    );
  }
  // Access control (http/auth.ts, http/rate_limit.ts): who the client is,
  // then its token bucket.
  base.use(
    "*",
    identify(auth, {
      queryToken: (path) => path === "/api/v1/heatmap/stream",
      guarded: (path) => api.protectReads && path.startsWith("/api/v1/"),
    }),
  );
  if (api.rateLimit.enabled) {
    base.use(
      "*",
      rateLimit(
        rateLimitStore ?? openRateLimitStore(deps.config?.bus),
        api.rateLimit,
      ),
    );
  }
  const app = base
    .route("/", healthRoutes(deps))
    .route("/", metricsRoutes(deps))
    .route("/", uiRoutes())
    .route("/api/v1/exchanges", exchangeRoutes(deps))
    .route("/api/v1/book", bookRoutes(deps))
    .route("/api/v1", heatmapRoutes(deps, settings))
    .route("/api/v1", historyRoutes(deps))
    .route("/api/v1/replay", replayRoutes(deps, auth))
    .route("/", docsRoutes(() => document ??= openApiDocument(base)));
  // Described once, on the first request for it, with every route mounted
  // (`base` is `app`, whose registry holds them all).
  let document: ReturnType<typeof openApiDocument> | undefined;
  describeSecurity(base);
  // Paths and their methods, for 405 (middleware is registered as ALL);
  // a `:param` segment matches any one segment.
  const methods = new Map<string, { re: RegExp; allow: Set<string> }>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue;
    const m = methods.get(r.path) ?? {
      re: new RegExp(
        `^${
          r.path.split("/").map((s) =>
            s.startsWith(":")
              ? "[^/]+"
              : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
          ).join("/")
        }$`,
      ),
      allow: new Set<string>(),
    };
    m.allow.add(r.method);
    if (r.method === "GET") m.allow.add("HEAD");
    methods.set(r.path, m);
  }
  const allowed = (path: string): Set<string> | undefined => {
    const exact = methods.get(path);
    if (exact) return exact.allow;
    for (const m of methods.values()) if (m.re.test(path)) return m.allow;
  };
  app.notFound((c) => {
    const allow = allowed(c.req.path);
    if (allow) {
      const list = [...allow].join(", ");
      c.header("Allow", list);
      return c.json<ErrorBody>({
        error: `Method ${clip(c.req.method)} is not allowed on ${
          clip(c.req.path)
        }; allowed: ${list}`,
        code: "method_not_allowed",
      }, 405);
    }
    return c.json<ErrorBody>(
      { error: `Not found: ${clip(c.req.path)}`, code: "not_found" },
      404,
    );
  });
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      // A route passes its headers (Retry-After) in `res`, its code in `cause`.
      err.res?.headers.forEach((v, k) => c.header(k, v));
      const cause = err.cause as { code?: unknown } | undefined;
      const code = typeof cause?.code === "string"
        ? cause.code
        : STATUS_CODES[err.status] ?? `http_${err.status}`;
      return c.json<ErrorBody>({ error: err.message, code }, err.status);
    }
    // An actor error a route did not map: down is retryable, the rest is ours.
    if (err instanceof ActorDownError) {
      c.header("Retry-After", String(RETRY_AFTER_S));
      return c.json<ErrorBody>({ error: err.message, code: err.code }, 503);
    }
    // The URL without its credentials (an SSE stream's `?token=`).
    processLog().error(`Unhandled error: ${err.stack ?? err.message}`, {
      actor: "http",
      method: c.req.method,
      url: redactUrl(c.req.url),
    });
    const code = err instanceof RequestError ? err.code : "internal";
    return c.json<ErrorBody>({ error: "Internal error", code }, 500);
  });
  return app;
}

/**
 * The app's type, for typed clients: `hc<AppType>(baseUrl)` from
 * `hono/client` knows every route's input and JSON answer (see
 * `http/client.ts`).
 */
export type AppType = ReturnType<typeof createApp>;
