/**
 * Replay sessions over HTTP (`deps.replay`, see `ReplaySessions` in
 * `actors/system/sessions.ts`): replay any range of capture files or of the
 * history store at any speed, apart from live data. A session's columns
 * stream on `GET /api/v1/heatmap/stream?symbol=&session={id}`.
 *
 * | route                        | answer                                                       |
 * | ---------------------------- | ------------------------------------------------------------ |
 * | `POST /api/v1/replay`        | creates a session: 201, its `ReplayProgress`, `Location`     |
 * | `GET /api/v1/replay`         | every session's latest progress                              |
 * | `GET /api/v1/replay/{id}`    | its progress                                                 |
 * | `PATCH /api/v1/replay/{id}`  | changes it; its progress after the change                    |
 * | `DELETE /api/v1/replay/{id}` | stops it (its streams end); its last progress, `stopped`     |
 *
 * Bodies: POST `{source: "files"|"store", files?, exchanges?, symbols?,
 * from?, to?, speed?, loop?, paused?}` ({@link ReplayCreateBody}); PATCH
 * `{action?: "pause"|"resume", seek?, speed?, loop?}`, one at least
 * ({@link ReplayChangeBody}).
 *
 * Times (`from`, `to`, `seek`) are event times, ISO-8601 with a zone or
 * epoch ms (a JSON number or string); `to` is exclusive. `speed` is a
 * multiple of real time from 0.1 to 1000, or `"max"` (default 1). A session
 * never writes into the store from here: `store` and `emitEvents` are
 * refused.
 *
 * Capture files must lie inside `replay.dirs` (403 `forbidden_path`
 * otherwise). With API keys or a JWT configured (`api.keys`, `api.jwt`),
 * POST, PATCH and DELETE need a credential (`X-API-Key`, or
 * `Authorization: Bearer`; `http/auth.ts`); its principal (the key, a JWT's
 * `sub`) changes and stops only the sessions it created and holds at most
 * `api.sessionsPerKey` at once. GETs are open.
 *
 * | outcome                                                     | status | `code`              |
 * | ----------------------------------------------------------- | ------ | ------------------- |
 * | created                                                     | 201    |                     |
 * | a bad body or id, a spec or change that cannot apply        | 400    | `bad_request`       |
 * | no or a bad credential (keys or a JWT configured)           | 401    | `unauthorized`, `token_…` |
 * | another key's session                                       | 403    | `forbidden`         |
 * | no such session                                             | 404    | `not_found`         |
 * | a body over 1 MiB                                           | 413    | `payload_too_large` |
 * | the key's `sessionsPerKey`, or the actor's `maxSessions`    | 429    | `too_many_sessions` |
 * | no replay actor here (a serving process)                    | 503    | `no_replay`         |
 * | the replay actor is down                                    | 503    | `actor_down`        |
 *
 * @module
 */

import { createRoute } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type {
  ReplayControl,
  ReplayProgress,
  ReplaySpec,
} from "../../actors/market/requests.ts";
import type { ReplaySessions } from "../../actors/system/sessions.ts";
import { ActorDownError, RequestError } from "../../runtime/protocol.ts";
import { Auth, type AuthVariables, requirePrincipal } from "../auth.ts";
import type { AppDeps } from "../deps.ts";
import { clip, httpError } from "../errors.ts";
import {
  badRequest,
  type ErrorDoc,
  errors,
  jsonAnswer,
  PROGRESS_EXAMPLE,
  ReplayProgressSchema,
} from "../openapi_schemas.ts";
import { openApiRoutes, SESSION_ID } from "../validate.ts";
import { timeParam } from "./history.ts";

/** Seconds a client should wait before creating a session again after 429. */
const RETRY_AFTER_S = 30;
/** Longest accepted file path. */
const PATH_MAX = 4096;
/** Most files, exchanges or symbols in one spec. */
const LIST_MAX = 1000;
/** Longest accepted exchange id or symbol. */
const NAME_MAX = 32;
/** Largest accepted request body, bytes. */
const BODY_MAX = 1024 * 1024;

/**
 * A time in a JSON body: epoch ms as a number or string, or ISO-8601 with a
 * zone.
 * @param name the field's name, for the message.
 */
function timeField(name: string) {
  return z.union([z.number(), z.string()], {
    error: (iss) =>
      `${name} ${
        clip(JSON.stringify(iss.input) ?? "")
      } must be epoch ms or ISO-8601 with a zone (2026-01-05T12:00:00Z)`,
  }).transform(String).pipe(timeParam(name));
}

/** A speed: 0.1 to 1000 times real time, or `max`. */
const speedMessage = (iss: { input: unknown }) =>
  `speed ${
    clip(JSON.stringify(iss.input) ?? "")
  } must be a number from 0.1 to 1000 or "max"`;
const Speed = z.union([z.number(), z.literal("max")], { error: speedMessage })
  .refine((v) => v === "max" || (v >= 0.1 && v <= 1000), {
    error: speedMessage,
  });

/** A list of short names (exchanges, symbols). */
const Names = z.array(z.string().min(1).max(NAME_MAX)).min(1).max(LIST_MAX);

/** The body of `POST /api/v1/replay`. */
const Create = z.strictObject({
  source: z.enum(["files", "store"]),
  files: z.array(z.string().min(1).max(PATH_MAX)).min(1).max(LIST_MAX)
    .optional(),
  exchanges: Names.optional(),
  symbols: Names.optional(),
  from: timeField("from").optional(),
  to: timeField("to").optional(),
  speed: Speed.default(1),
  loop: z.boolean().optional(),
  paused: z.boolean().optional(),
}).openapi("ReplayCreate", {
  example: {
    source: "files",
    files: ["data/captures/BINANCE.0"],
    from: "2021-01-01T00:00:00Z",
    speed: 10,
  },
})
  .refine((s) => s.source !== "files" || s.files !== undefined, {
    error: "files is required with source files",
  })
  .refine((s) => s.source !== "store" || s.files === undefined, {
    error: "files is for source files only",
  })
  .refine(
    (s) => s.source !== "store" || (s.exchanges && s.symbols),
    { error: "exchanges and symbols are required with source store" },
  )
  .refine(
    (s) => s.from === undefined || s.to === undefined || s.from < s.to,
    { error: "from must be before to" },
  );

/** The body of `PATCH /api/v1/replay/{id}`. */
const Change = z.strictObject({
  action: z.enum(["pause", "resume"]).optional(),
  seek: timeField("seek").optional(),
  speed: Speed.optional(),
  loop: z.boolean().optional(),
}).openapi("ReplayChange", {
  example: { action: "pause" },
}).refine(
  (c) => Object.values(c).some((v) => v !== undefined),
  { error: "a change needs at least one of action, seek, speed, loop" },
);

/**
 * The JSON body of `POST /api/v1/replay`, as a client writes it: `from` and
 * `to` as epoch ms (number or string) or ISO-8601 with a zone, `speed`
 * 0.1–1000 or `"max"` (default 1), `files` required with source `files`,
 * `exchanges` and `symbols` with source `store`.
 */
export type ReplayCreateBody = z.input<typeof Create>;

/**
 * The JSON body of `PATCH /api/v1/replay/{id}`: at least one of `action`
 * (`pause`, `resume`), `seek` (a time as in {@link ReplayCreateBody}),
 * `speed`, `loop`.
 */
export type ReplayChangeBody = z.input<typeof Change>;

/** A session id in the path. */
const Id = z.object({
  id: z.string().regex(
    SESSION_ID,
    "id must be a session id such as r1",
  ).openapi({ description: "The session's id", example: "r1" }),
});

/** The error answers of the replay routes, by status. */
const FAILURES = {
  ...badRequest("✖ id must be a session id such as r1\n  → at id"),
  401: {
    description:
      "No or a bad credential (keys or a JWT configured): `unauthorized` or a `token_…` code, with WWW-Authenticate",
    example: { error: "Header X-API-Key is required", code: "unauthorized" },
  },
  403: {
    description:
      "Another credential's session (`forbidden`), or a file outside `replay.dirs` (`forbidden_path`)",
    example: {
      error: "Replay session r1 belongs to another API key or token",
      code: "forbidden",
    },
  },
  404: {
    description: "No such session (`not_found`)",
    example: { error: "No replay session r9", code: "not_found" },
  },
  413: {
    description: "A body over 1 MiB (`payload_too_large`)",
    example: {
      error: "A replay request body may hold 1048576 bytes at most",
      code: "payload_too_large",
    },
  },
  415: {
    description: "A body that is not `application/json`",
    example: {
      error:
        'Content-Type "text/plain" is not application/json: send the body as JSON',
      code: "unsupported_media_type",
    },
  },
  429: {
    description:
      "The credential's `sessionsPerKey` or the actor's `maxSessions` (`too_many_sessions`, with Retry-After)",
    example: {
      error:
        "This credential holds 4 replay sessions already (api.sessionsPerKey); stop one first",
      code: "too_many_sessions",
    },
  },
  503: {
    description:
      "No replay actor here (`no_replay`), or it is down (`actor_down`, with Retry-After)",
    example: { error: "No replay sessions are run here", code: "no_replay" },
  },
} satisfies Record<number, ErrorDoc>;

/**
 * The error answers of one replay route.
 * @param statuses the statuses it may answer.
 */
function failures<S extends keyof typeof FAILURES>(...statuses: S[]) {
  const docs = {} as Record<S, ErrorDoc>;
  for (const s of statuses) docs[s] = FAILURES[s];
  return errors(docs);
}

/** The credentials of the control routes (when keys or a JWT are configured). */
const KEYED: Record<string, string[]>[] = [{ apiKey: [] }, { bearer: [] }];

/**
 * Runs a session call, mapping the replay actor's codes to HTTP: 400
 * `bad_request`, 404 `not_found`, 429 `too_many_sessions` (with
 * `Retry-After`); `ActorDownError` goes to the app (503).
 */
async function ask<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof ActorDownError || !(e instanceof RequestError)) throw e;
    switch (e.code) {
      case "bad_request":
        throw httpError(400, e.code, e.message);
      case "not_found":
        throw httpError(404, e.code, e.message);
      case "too_many_sessions":
        throw httpError(429, e.code, e.message, { retryAfter: RETRY_AFTER_S });
    }
    throw e;
  }
}

/**
 * Checks that every file lies inside one of the allowed directories (after
 * resolving `..` and symbolic links), so a client cannot make the server
 * read any file it can.
 * @param files the session's capture files.
 * @param dirs `replay.dirs`.
 * @throws {HTTPException} 403 `forbidden_path` naming the first file
 *   outside them, 400 `bad_request` for a file that does not exist.
 */
async function allowed(
  files: readonly string[],
  dirs: readonly string[],
): Promise<void> {
  const roots: string[] = [];
  for (const d of dirs) {
    try {
      roots.push(await Deno.realPath(d));
    } catch {
      // A configured directory that does not exist allows nothing.
    }
  }
  for (const f of files) {
    let real: string;
    try {
      real = await Deno.realPath(f);
    } catch {
      throw httpError(400, "bad_request", `No capture file ${clip(f)}`);
    }
    if (!roots.some((r) => real === r || real.startsWith(r + SEP))) {
      throw httpError(
        403,
        "forbidden_path",
        `File ${clip(f)} is outside the replay directories (replay.dirs: ${
          dirs.join(", ")
        })`,
      );
    }
  }
}

/** A JSON media type (`application/json`, `application/x+json`, with parameters). */
const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/**
 * Refuses a body that is not JSON, naming its type: 415
 * `unsupported_media_type` (before the schema reads it).
 */
const jsonOnly = createMiddleware(async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(type.trim())) {
    throw httpError(
      415,
      "unsupported_media_type",
      `Content-Type ${
        JSON.stringify(clip(type))
      } is not application/json: send the body as JSON`,
    );
  }
  await next();
});

/** The path separator of this system. */
const SEP = Deno.build.os === "windows" ? "\\" : "/";

/**
 * Replay session routes, mounted at `/api/v1/replay`.
 * @param deps services: `replay` (absent: every route answers 503
 * `no_replay`) and `config.api` (the per-principal session limit).
 * @param auth the app's credential checks; default: from `config.api`.
 * @returns the routes.
 * @throws {HTTPException} rendered as `{error, code}` by the app: 400, 401,
 * 403, 404, 429, 503 (see the module's table).
 * @example
 * ```ts
 * const app = new Hono().route("/api/v1/replay", replayRoutes(deps));
 * const res = await app.request("/api/v1/replay", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json", "X-API-Key": key },
 *   body: JSON.stringify({ source: "files", files: ["captures/BINANCE.0"], speed: 10 }),
 * }); // 201, Location: /api/v1/replay/r1
 * ```
 */
export function replayRoutes(
  deps: AppDeps,
  access: Auth = new Auth(deps.config?.api ?? { keys: [] }),
) {
  const dirs = deps.config?.replay?.dirs ?? ["data"];
  const perKey = deps.config?.api?.sessionsPerKey ?? 4;
  const auth = requirePrincipal(access);
  const limit = bodyLimit({
    maxSize: BODY_MAX,
    onError: () => {
      throw httpError(
        413,
        "payload_too_large",
        `A replay request body may hold ${BODY_MAX} bytes at most`,
      );
    },
  });
  const sessions = (): ReplaySessions => {
    if (!deps.replay) {
      throw httpError(503, "no_replay", "No replay sessions are run here");
    }
    return deps.replay;
  };
  /** The session, when the request's key may change it. */
  const own = (id: string, key: string | null): ReplaySessions => {
    const s = sessions();
    const owner = s.owner(id);
    if (owner === undefined) {
      throw httpError(404, "not_found", `No replay session ${clip(id)}`);
    }
    if (access.enabled && owner !== key) {
      throw httpError(
        403,
        "forbidden",
        `Replay session ${clip(id)} belongs to another API key or token`,
      );
    }
    return s;
  };
  const createSession = createRoute({
    method: "post",
    path: "/",
    tags: ["replay"],
    summary: "Creates a replay session of capture files or of the store",
    security: KEYED,
    middleware: [auth, limit, jsonOnly] as const,
    request: {
      body: {
        required: true,
        content: { "application/json": { schema: Create } },
      },
    },
    responses: {
      201: {
        ...jsonAnswer(
          "Created: its first progress; Location names it",
          ReplayProgressSchema,
          {
            ...PROGRESS_EXAMPLE,
            state: "loading",
            position: PROGRESS_EXAMPLE.from,
            percent: 0,
            events: 0,
            eventsPerSecond: 0,
            expectedEnd: null,
          },
        ),
        headers: z.object({
          Location: z.string().openapi({
            description: "The session's URL",
            example: "/api/v1/replay/r1",
          }),
        }),
      },
      ...failures(400, 401, 403, 413, 415, 429, 503),
    },
  });
  const listSessions = createRoute({
    method: "get",
    path: "/",
    tags: ["replay"],
    summary: "Every session's latest progress",
    responses: {
      200: jsonAnswer(
        "The sessions' progress",
        z.array(ReplayProgressSchema),
        [PROGRESS_EXAMPLE],
      ),
      ...failures(503),
    },
  });
  const getSession = createRoute({
    method: "get",
    path: "/{id}",
    tags: ["replay"],
    summary: "A session's progress",
    request: { params: Id },
    responses: {
      200: jsonAnswer("Its progress", ReplayProgressSchema, PROGRESS_EXAMPLE),
      ...failures(400, 404, 503),
    },
  });
  const changeSession = createRoute({
    method: "patch",
    path: "/{id}",
    tags: ["replay"],
    summary: "Pauses, resumes, seeks, changes the speed or the loop",
    security: KEYED,
    middleware: [auth, limit, jsonOnly] as const,
    request: {
      params: Id,
      body: {
        required: true,
        content: { "application/json": { schema: Change } },
      },
    },
    responses: {
      200: jsonAnswer(
        "Its progress after the change",
        ReplayProgressSchema,
        { ...PROGRESS_EXAMPLE, state: "paused", expectedEnd: null },
      ),
      ...failures(400, 401, 403, 404, 413, 415, 503),
    },
  });
  const stopSession = createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["replay"],
    summary: "Stops a session; its streams end",
    security: KEYED,
    middleware: [auth] as const,
    request: { params: Id },
    responses: {
      200: jsonAnswer(
        "Its last progress, state `stopped`",
        ReplayProgressSchema,
        { ...PROGRESS_EXAMPLE, state: "stopped", expectedEnd: null },
      ),
      ...failures(400, 401, 403, 404, 503),
    },
  });
  return openApiRoutes<{ Variables: AuthVariables }>()
    .openapi(createSession, async (c) => {
      const s = sessions();
      const key = c.get("principal");
      if (key !== null && s.count(key) >= perKey) {
        throw httpError(
          429,
          "too_many_sessions",
          `This credential holds ${perKey} replay sessions already (api.sessionsPerKey); stop one first`,
          { retryAfter: RETRY_AFTER_S },
        );
      }
      const spec: ReplaySpec = c.req.valid("json");
      if (spec.files) await allowed(spec.files, dirs);
      const p = await ask(() => s.create(spec, key));
      c.header("Location", `/api/v1/replay/${p.id}`);
      return c.json<ReplayProgress, 201>(p, 201);
    })
    .openapi(listSessions, (c) => {
      const s = sessions();
      const list: ReplayProgress[] = [];
      for (const id of s.ids()) {
        const p = s.latest(id);
        // A session still being created has no progress yet.
        if (p) list.push(p);
      }
      return c.json(list, 200);
    })
    .openapi(getSession, async (c) => {
      const { id } = c.req.valid("param");
      const s = sessions();
      return c.json<ReplayProgress, 200>(await ask(() => s.progress(id)), 200);
    })
    .openapi(changeSession, async (c) => {
      const { id } = c.req.valid("param");
      const s = own(id, c.get("principal"));
      const change: ReplayControl = c.req.valid("json");
      return c.json<ReplayProgress, 200>(
        await ask(() => s.control(id, change)),
        200,
      );
    })
    .openapi(stopSession, async (c) => {
      const { id } = c.req.valid("param");
      const s = own(id, c.get("principal"));
      return c.json<ReplayProgress, 200>(await ask(() => s.stop(id)), 200);
    });
}
