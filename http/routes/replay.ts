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
 * otherwise). With API keys configured (`api.keys`), POST, PATCH and DELETE need one in
 * `X-API-Key` (`http/auth.ts`); a key changes and stops only the sessions it
 * created and holds at most `api.sessionsPerKey` at once. GETs are open.
 *
 * | outcome                                                     | status | `code`              |
 * | ----------------------------------------------------------- | ------ | ------------------- |
 * | created                                                     | 201    |                     |
 * | a bad body or id, a spec or change that cannot apply        | 400    | `bad_request`       |
 * | no or a wrong `X-API-Key` (keys configured)                 | 401    | `unauthorized`      |
 * | another key's session                                       | 403    | `forbidden`         |
 * | no such session                                             | 404    | `not_found`         |
 * | a body over 1 MiB                                           | 413    | `payload_too_large` |
 * | the key's `sessionsPerKey`, or the actor's `maxSessions`    | 429    | `too_many_sessions` |
 * | no replay actor here (a serving process)                    | 503    | `no_replay`         |
 * | the replay actor is down                                    | 503    | `actor_down`        |
 *
 * @module
 */

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type {
  ReplayControl,
  ReplayProgress,
  ReplaySpec,
} from "../../actors/market/requests.ts";
import type { ReplaySessions } from "../../actors/system/sessions.ts";
import { ActorDownError, RequestError } from "../../runtime/protocol.ts";
import { apiKeyAuth } from "../auth.ts";
import type { AppDeps } from "../deps.ts";
import { clip, httpError } from "../errors.ts";
import { SESSION_ID, validate } from "../validate.ts";
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
  ),
});

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

/** The path separator of this system. */
const SEP = Deno.build.os === "windows" ? "\\" : "/";

/**
 * Replay session routes, mounted at `/api/v1/replay`.
 * @param deps services: `replay` (absent: every route answers 503
 * `no_replay`) and `config.api` (keys and the per-key session limit).
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
export function replayRoutes(deps: AppDeps) {
  const dirs = deps.config?.replay?.dirs ?? ["data"];
  const keys = deps.config?.api?.keys ?? [];
  const perKey = deps.config?.api?.sessionsPerKey ?? 4;
  const auth = apiKeyAuth(keys);
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
    if (keys.length && owner !== key) {
      throw httpError(
        403,
        "forbidden",
        `Replay session ${clip(id)} belongs to another API key`,
      );
    }
    return s;
  };
  return new Hono()
    .post("/", auth, limit, validate("json", Create), async (c) => {
      const s = sessions();
      const key = c.get("apiKey");
      if (key !== null && s.count(key) >= perKey) {
        throw httpError(
          429,
          "too_many_sessions",
          `This API key holds ${perKey} replay sessions already (api.sessionsPerKey); stop one first`,
          { retryAfter: RETRY_AFTER_S },
        );
      }
      const spec: ReplaySpec = c.req.valid("json");
      if (spec.files) await allowed(spec.files, dirs);
      const p = await ask(() => s.create(spec, key));
      c.header("Location", `/api/v1/replay/${p.id}`);
      return c.json<ReplayProgress, 201>(p, 201);
    })
    .get("/", (c) => {
      const s = sessions();
      const list: ReplayProgress[] = [];
      for (const id of s.ids()) {
        const p = s.latest(id);
        // A session still being created has no progress yet.
        if (p) list.push(p);
      }
      return c.json(list);
    })
    .get("/:id", validate("param", Id), async (c) => {
      const { id } = c.req.valid("param");
      const s = sessions();
      return c.json<ReplayProgress>(await ask(() => s.progress(id)));
    })
    .patch(
      "/:id",
      auth,
      limit,
      validate("param", Id),
      validate("json", Change),
      async (c) => {
        const { id } = c.req.valid("param");
        const s = own(id, c.get("apiKey"));
        const change: ReplayControl = c.req.valid("json");
        return c.json<ReplayProgress>(await ask(() => s.control(id, change)));
      },
    )
    .delete("/:id", auth, validate("param", Id), async (c) => {
      const { id } = c.req.valid("param");
      const s = own(id, c.get("apiKey"));
      return c.json<ReplayProgress>(await ask(() => s.stop(id)));
    });
}
