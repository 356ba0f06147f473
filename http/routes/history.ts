/**
 * The history API: what coby recorded, answered by the actor that owns the
 * database (`deps.history`, see `HistoryRequests` in
 * `actors/store/queries.ts`). Times are event times.
 *
 * | route                                                                   | answer                                                       |
 * | ----------------------------------------------------------------------- | ------------------------------------------------------------ |
 * | `GET /api/v1/trades?exchange(s)=&symbol=&from=&to=&limit=`              | trades `{ts, exchangeTs, exchange, symbol, price, size, rawSize, side}`, oldest first |
 * | `GET /api/v1/liquidations?…`                                            | liquidations, the same shape                                 |
 * | `GET /api/v1/ohlcv?…&timeframe=1s\|1m\|5m\|15m\|1h\|4h\|1d`                | bars `{ts, exchange, symbol, open, high, low, close, volume, buyVolume, sellVolume, trades}` |
 * | `GET /api/v1/imbalances?…&window=1000\|5000\|15000\|60000`                | window means `{ts, exchange, symbol, depth, bidSize, askSize, imbalance}` |
 * | `GET /api/v1/heatmap/history?…&resolution=tick\|1m\|5m\|1h\|1d\|auto`       | columns as the SSE stream's `column` events; header `Coby-Resolution` names the one used |
 * | `GET /api/v1/frame?symbol=&at=&window=&exchanges=&depth=&limit=`        | the inference frame of `symbol` at `at` (one object); without `at`, now from the live cache (window ≤ 15 min, limit ≤ 1000) |
 * | `GET /api/v1/book?exchange=&symbol=&depth=&at=`                         | the book at `at` (in `book.ts`, through {@link askHistory})  |
 *
 * Parameters: `exchange` or `exchanges` (a comma list; `consolidated` for
 * the consolidated rows; defaults to `consolidated` for OHLCV, imbalances
 * and the heatmap, required for trades and liquidations), `symbol` (the
 * venue's symbol, or the consolidation key for consolidated rows and the
 * heatmap), `from` (inclusive) and `to` (exclusive, default now) as
 * ISO-8601 with a zone or epoch ms, `limit` (default 1000, at most 100 000,
 * 2 000 heatmap columns; the earliest rows are kept).
 *
 * Answers are JSON arrays, or NDJSON (one JSON value a line, streamed in
 * batches) when the request accepts `application/x-ndjson`.
 *
 * | outcome                                  | status | `code`        |
 * | ---------------------------------------- | ------ | ------------- |
 * | rows (maybe none)                        | 200    |               |
 * | a bad parameter (the zod message)        | 400    | `bad_request` |
 * | nothing recorded answers (book, frame)   | 404    | `not_found`   |
 * | no history is kept                       | 503    | `no_history`  |
 * | the database is still opening            | 503    | `no_database` |
 * | no live cache is kept (frame without at) | 503    | `no_live`     |
 * | the database's owner is down             | 503    | `actor_down`  |
 *
 * @module
 */

import { createRoute } from "@hono/zod-openapi";
import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import { z } from "zod";
import { ADAPTERS } from "../../actors/adapters/mod.ts";
import {
  CONSOLIDATED,
  DEFAULT_LIMIT,
  FRAME_DEPTH,
  type HistoryMethod,
  type HistoryRequests,
  IMBALANCE_WINDOWS,
  MAX_DEPTH,
  MAX_HEATMAP_LIMIT,
  MAX_LIMIT,
  MAX_WINDOW_MS,
  RESOLUTIONS,
  TIMEFRAMES,
} from "../../actors/store/queries.ts";
import type { LiveMethod, LiveRequests } from "../../actors/live/state.ts";
import { ActorDownError, RequestError } from "../../runtime/protocol.ts";
import type { AppDeps } from "../deps.ts";
import { clip, httpError } from "../errors.ts";
import {
  badRequest,
  BAR_EXAMPLE,
  BarSchema,
  COLUMN_EXAMPLE,
  ColumnSchema,
  errors,
  FrameSchema,
  IMBALANCE_EXAMPLE,
  ImbalanceSchema,
  TRADE_EXAMPLE,
  TradeSchema,
} from "../openapi_schemas.ts";
import { openApiRoutes } from "../validate.ts";

/** Longest accepted `symbol`. */
const SYMBOL_MAX = 32;
/** Longest accepted `exchanges` list. */
const EXCHANGES_MAX = 512;
/** Lines per NDJSON chunk. */
const NDJSON_BATCH = 500;

/** ISO-8601: a UTC date, or a date and time with a zone. */
const ISO =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** Units of a `window` duration, ms. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A time parameter: ISO-8601 (a UTC date, or a date-time with `Z` or an
 * offset) or epoch ms.
 * @param name the parameter's name, for the message.
 * @returns a zod schema of a string that outputs ms since the epoch.
 * @example
 * ```ts
 * z.object({ at: timeParam("at") }).parse({ at: "2026-01-05T12:00:00Z" }); // {at: 1767614400000}
 * ```
 */
export function timeParam(name: string) {
  return z.string().transform((s, ctx) => {
    const ms = /^-?\d{1,16}$/.test(s)
      ? Number(s)
      : ISO.test(s)
      ? Date.parse(s)
      : NaN;
    if (Number.isSafeInteger(ms) && Math.abs(ms) <= 8.64e15) return ms;
    ctx.issues.push({
      code: "custom",
      input: s,
      message: `${name} ${
        JSON.stringify(clip(s))
      } must be epoch ms or ISO-8601 with a zone (2026-01-05T12:00:00Z)`,
    });
    return z.NEVER;
  });
}

/**
 * A bounded integer parameter of plain decimal digits.
 * @param name the parameter's name, for the message.
 * @param min smallest value.
 * @param max largest value.
 */
function intParam(name: string, min: number, max: number) {
  return z.string().transform((s, ctx) => {
    const n = /^[0-9]{1,9}$/.test(s) ? Number(s) : NaN;
    if (n >= min && n <= max) return n;
    ctx.issues.push({
      code: "custom",
      input: s,
      message: `${name} ${
        JSON.stringify(clip(s))
      } must be an integer from ${min} to ${max}`,
    });
    return z.NEVER;
  });
}

/**
 * Runs a history query for a route, mapping its errors to HTTP: 400
 * `bad_request`, 404 `not_found`, 503 `no_database` while the database
 * opens, 503 `no_history` when no history is kept;
 * an `ActorDownError` and any other error go to the app's error handler
 * (503 and 500).
 * @param deps services.
 * @param method the query.
 * @param params its params.
 * @returns the query's result.
 * @throws {HTTPException} rendered as `{error, code}` by the app.
 * @example
 * ```ts
 * const book = await askHistory(deps, "bookAt", { exchange: "binance", symbol: "BTCUSDT", at, depth: 10 });
 * ```
 */
export async function askHistory<K extends HistoryMethod>(
  deps: AppDeps,
  method: K,
  params: HistoryRequests[K]["params"],
): Promise<HistoryRequests[K]["result"]> {
  if (!deps.history) {
    throw httpError(
      503,
      "no_history",
      "History is not kept by this server (no database)",
    );
  }
  return await mapped(deps.history(method, params));
}

/**
 * Runs a live-cache request for a route (the live frame, a cached book),
 * mapping its errors as {@link askHistory} does; 503 `no_live` when this
 * server keeps no live cache.
 * @param deps services.
 * @param method the request.
 * @param params its params.
 * @returns its result.
 * @throws {HTTPException} rendered as `{error, code}` by the app.
 * @example
 * ```ts
 * const f = await askLive(deps, "liveFrame", { symbol: "BTC-USDT", windowMs: 60_000 });
 * ```
 */
export async function askLive<K extends LiveMethod>(
  deps: AppDeps,
  method: K,
  params: LiveRequests[K]["params"],
): Promise<LiveRequests[K]["result"]> {
  if (!deps.live) {
    throw httpError(
      503,
      "no_live",
      "The live cache is not kept by this server (no writer and no bus)",
    );
  }
  return await mapped(deps.live(method, params));
}

/** A query's answer, its `bad_request` and `not_found` as 400 and 404. */
async function mapped<T>(answer: Promise<T>): Promise<T> {
  try {
    return await answer;
  } catch (e) {
    if (e instanceof RequestError && !(e instanceof ActorDownError)) {
      if (e.code === "bad_request") throw httpError(400, e.code, e.message);
      if (e.code === "not_found") throw httpError(404, e.code, e.message);
      // The database is still opening: retry.
      if (e.code === "no_database") throw httpError(503, e.code, e.message);
    }
    throw e;
  }
}

/** Whether the client asked for NDJSON. */
function wantsNdjson(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("application/x-ndjson");
}

/**
 * The values as NDJSON, a batch of lines per chunk, each chunk encoded when
 * the socket asks for it.
 */
function ndjson(values: readonly unknown[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= values.length) {
        controller.close();
        return;
      }
      const end = Math.min(values.length, i + NDJSON_BATCH);
      let text = "";
      for (; i < end; i++) text += JSON.stringify(values[i]) + "\n";
      controller.enqueue(enc.encode(text));
    },
  }, { highWaterMark: 0 });
}

/**
 * The answer as JSON, or its lines as NDJSON when asked for; typed as the
 * JSON answer, which the NDJSON lines spell out one value a line.
 * @param c the request's context.
 * @param value the JSON answer.
 * @param lines the NDJSON lines (the rows of an array answer).
 * @param headers more headers.
 */
function answer<T>(
  c: Context,
  value: T,
  lines: readonly unknown[],
  headers: Record<string, string> = {},
): Response & TypedResponse<JSONParsed<T>, 200, "json"> {
  if (wantsNdjson(c)) {
    const body: Response = c.body(ndjson(lines), 200, {
      ...headers,
      "Content-Type": "application/x-ndjson",
    });
    return body as Response & TypedResponse<JSONParsed<T>, 200, "json">;
  }
  return c.json(value, 200, headers) as
    & Response
    & TypedResponse<JSONParsed<T>, 200, "json">;
}

/** The rows as a JSON array, or NDJSON when asked for. */
function answerRows<T>(
  c: Context,
  rows: T[],
  headers: Record<string, string> = {},
) {
  return answer(c, rows, rows, headers);
}

/**
 * History routes.
 * @param deps services; `deps.history` answers the queries.
 * @returns routes for `/trades`, `/liquidations`, `/ohlcv`, `/imbalances`,
 * `/heatmap/history` and `/frame`, to mount under `/api/v1`.
 * @throws {HTTPException} rendered as `{error, code}` by the app: 400, 404,
 * 503.
 * @example
 * ```ts
 * const res = await createApp(deps).request("/api/v1/ohlcv?symbol=BTC-USDT&from=2026-01-05&timeframe=1h");
 * ```
 */
export function historyRoutes(deps: AppDeps) {
  const known = new Set<string>([
    ...ADAPTERS.keys(),
    ...deps.exchanges,
    CONSOLIDATED,
  ]);
  const badExchange = (list: string[]) => list.find((e) => !known.has(e));
  const Exchange = z.string().refine((e) => known.has(e), {
    error: (iss) =>
      `exchange ${
        JSON.stringify(clip(String(iss.input)))
      } is not an exchange id (see /api/v1/exchanges) nor consolidated`,
  }).openapi({
    description: "An exchange id, or `consolidated`",
    example: "binance",
  });
  const Exchanges = z.string().max(EXCHANGES_MAX)
    .transform((s) => s.split(",").map((e) => e.trim()))
    .refine((list) => list.every((e) => e !== ""), {
      error: (iss) =>
        `exchanges ${
          JSON.stringify(clip(String(iss.input)))
        } must not have an empty entry`,
    })
    .refine((list) => badExchange(list) === undefined, {
      error: (iss) =>
        `exchanges has ${
          JSON.stringify(clip(badExchange(iss.input as string[]) ?? ""))
        }, not an exchange id (see /api/v1/exchanges) nor consolidated`,
    })
    .openapi({
      description: "A comma list of exchange ids (or `consolidated`)",
      example: "binance,okx",
    });
  const Range = z.strictObject({
    exchange: Exchange.optional(),
    exchanges: Exchanges.optional(),
    symbol: z.string().min(1).max(SYMBOL_MAX).openapi({
      description:
        "The venue's symbol, or the consolidation key for consolidated rows",
      example: "BTCUSDT",
    }),
    from: timeParam("from").openapi({
      description: "Start, inclusive: ISO-8601 with a zone or epoch ms",
      example: "2026-01-05T00:00:00Z",
    }),
    to: timeParam("to").optional().openapi({
      description: "End, exclusive (default now)",
      example: "1767574800000",
    }),
    limit: intParam("limit", 1, MAX_LIMIT).default(DEFAULT_LIMIT).openapi({
      description: `Most rows, 1–${MAX_LIMIT}; the earliest are kept`,
      example: "500",
    }),
  });
  type RangeQuery = z.output<typeof Range>;
  /** The rules across fields; `required`: exchange(s) must be given. */
  const across = (required: boolean) =>
  (
    q: RangeQuery,
    ctx: z.RefinementCtx<RangeQuery>,
  ) => {
    if (q.exchange !== undefined && q.exchanges !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: "Give exchange or exchanges, not both",
      });
    }
    if (required && q.exchange === undefined && q.exchanges === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "exchange or exchanges is required",
      });
    }
    if (q.to !== undefined && !(q.from < q.to)) {
      ctx.addIssue({
        code: "custom",
        message: `from ${new Date(q.from).toISOString()} must be before to ${
          new Date(q.to).toISOString()
        }`,
      });
    }
  };
  /** The range query's params for a history request. */
  const range = (q: RangeQuery) => ({
    exchanges: q.exchanges ?? [q.exchange ?? CONSOLIDATED],
    symbol: q.symbol,
    from: q.from,
    to: q.to ?? Date.now(),
    limit: q.limit,
  });
  const Trades = Range.superRefine(across(true));
  const Ohlcv = Range.extend({
    timeframe: z.enum(TIMEFRAMES as [string, ...string[]]).default("1m")
      .openapi({ example: "1h" }),
  }).superRefine(across(false));
  const Imbalances = Range.extend({
    window: z.enum(IMBALANCE_WINDOWS.map(String) as [string, ...string[]])
      .default("1000").openapi({ description: "Window, ms", example: "5000" }),
  }).superRefine(across(false));
  const Heatmap = Range.extend({
    symbol: z.string().max(SYMBOL_MAX).regex(
      /^[A-Z0-9]+-[A-Z0-9]+$/,
      "symbol must look like BTC-USDT",
    ).openapi({ description: "A consolidation key", example: "BTC-USDT" }),
    resolution: z.enum(["auto", ...RESOLUTIONS]).default("auto").openapi({
      example: "1m",
    }),
    limit: intParam("limit", 1, MAX_HEATMAP_LIMIT).default(DEFAULT_LIMIT)
      .openapi({
        description: `Most columns, 1–${MAX_HEATMAP_LIMIT}`,
        example: "200",
      }),
  }).superRefine(across(false));
  const Frame = z.strictObject({
    symbol: z.string().min(1).max(SYMBOL_MAX).openapi({
      description: "A consolidation key or a venue's symbol",
      example: "BTC-USDT",
    }),
    at: timeParam("at").optional().openapi({
      description: "The frame's end (default now, from the live cache)",
      example: "2026-01-05T12:00:00Z",
    }),
    window: z.string().transform((s, ctx) => {
      const m = /^([0-9]{1,9})(ms|s|m|h|d)?$/.exec(s);
      const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? "ms"] : NaN;
      if (ms >= 1 && ms <= MAX_WINDOW_MS) return ms;
      ctx.issues.push({
        code: "custom",
        input: s,
        message: `window ${
          JSON.stringify(clip(s))
        } must be ms or a duration (30s, 5m, 1h) up to 1d`,
      });
      return z.NEVER;
    }).openapi({
      description: "ms or a duration (30s, 5m, 1h) up to 1d",
      example: "5m",
    }),
    exchanges: Exchanges.optional(),
    depth: intParam("depth", 1, MAX_DEPTH).default(FRAME_DEPTH).openapi({
      description: `Book levels per side, 1–${MAX_DEPTH}`,
      example: "20",
    }),
    limit: intParam("limit", 1, MAX_LIMIT).default(DEFAULT_LIMIT).openapi({
      description: `Most trades and liquidations, 1–${MAX_LIMIT}`,
      example: "500",
    }),
  });
  /** The error answers of a history route. */
  const failures = errors({
    ...badRequest(
      '✖ from "yesterday" must be epoch ms or ISO-8601 with a zone (2026-01-05T12:00:00Z)\n  → at from',
    ),
    503: {
      description:
        "No history kept (`no_history`), the database still opening (`no_database`), its owner down (`actor_down`)",
      example: {
        error: "History is not kept by this server (no database)",
        code: "no_history",
      },
    },
  });
  /**
   * A described history route answering rows: a JSON array, or NDJSON.
   * @param path the route.
   * @param summary what it answers.
   * @param query its query schema.
   * @param row the schema of one row.
   * @param example an example row.
   */
  const rows = <P extends string, Q extends z.ZodObject, R extends z.ZodType>(
    path: P,
    summary: string,
    query: Q,
    row: R,
    example: z.input<R>,
  ) =>
    createRoute({
      method: "get",
      path,
      tags: ["history"],
      summary,
      request: { query },
      responses: {
        200: {
          description:
            "Rows oldest first: a JSON array, or NDJSON when the request accepts `application/x-ndjson`",
          content: {
            "application/json": { schema: z.array(row), example: [example] },
            "application/x-ndjson": { schema: row, example },
          },
        },
        ...failures,
      },
    });
  return openApiRoutes()
    .openapi(
      rows(
        "/trades",
        "Trades, oldest first",
        Trades,
        TradeSchema,
        TRADE_EXAMPLE,
      ),
      async (c) => {
        const q = c.req.valid("query");
        return answerRows(c, await askHistory(deps, "trades", range(q)));
      },
    )
    .openapi(
      rows(
        "/liquidations",
        "Liquidations, oldest first",
        Trades,
        TradeSchema,
        { ...TRADE_EXAMPLE, exchange: "binance-futures", side: "sell" },
      ),
      async (c) => {
        const q = c.req.valid("query");
        return answerRows(c, await askHistory(deps, "liquidations", range(q)));
      },
    )
    .openapi(
      rows("/ohlcv", "OHLCV bars", Ohlcv, BarSchema, BAR_EXAMPLE),
      async (c) => {
        const q = c.req.valid("query");
        return answerRows(
          c,
          await askHistory(deps, "ohlcv", {
            ...range(q),
            timeframe: q.timeframe as (typeof TIMEFRAMES)[number],
          }),
        );
      },
    )
    .openapi(
      rows(
        "/imbalances",
        "Mean book imbalance per window",
        Imbalances,
        ImbalanceSchema,
        IMBALANCE_EXAMPLE,
      ),
      async (c) => {
        const q = c.req.valid("query");
        return answerRows(
          c,
          await askHistory(deps, "imbalances", {
            ...range(q),
            window: Number(q.window) as (typeof IMBALANCE_WINDOWS)[number],
          }),
        );
      },
    )
    .openapi(
      rows(
        "/heatmap/history",
        "Stored heatmap columns; header Coby-Resolution names the resolution used",
        Heatmap,
        ColumnSchema,
        COLUMN_EXAMPLE,
      ),
      async (c) => {
        const q = c.req.valid("query");
        const { resolution, columns } = await askHistory(deps, "heatmap", {
          ...range(q),
          resolution: q.resolution,
        });
        return answerRows(c, columns, { "Coby-Resolution": resolution });
      },
    )
    .openapi(
      createRoute({
        method: "get",
        path: "/frame",
        tags: ["history"],
        summary: "The inference frame of a symbol at `at`, or now",
        request: { query: Frame },
        responses: {
          200: {
            description:
              "The frame: series, bars by timeframe, books, imbalances, trades, liquidations, quality",
            content: {
              "application/json": { schema: FrameSchema },
              "application/x-ndjson": { schema: FrameSchema },
            },
          },
          ...errors({
            404: {
              description: "Nothing recorded answers",
              example: { error: "No data of BTC-USDT", code: "not_found" },
            },
            503: {
              description:
                "No history (`no_history`), no live cache (`no_live`), the database opening, its owner down",
              example: {
                error:
                  "The live cache is not kept by this server (no writer and no bus)",
                code: "no_live",
              },
            },
          }),
          ...errors(badRequest(
            '✖ window "2y" must be ms or a duration (30s, 5m, 1h) up to 1d\n  → at window',
          )),
        },
      }),
      async (c) => {
        const q = c.req.valid("query");
        const p = {
          symbol: q.symbol,
          windowMs: q.window,
          exchanges: q.exchanges,
          depth: q.depth,
          limit: q.limit,
        };
        // Without `at`: now, from the live cache.
        const f = q.at === undefined
          ? await askLive(deps, "liveFrame", p)
          : await askHistory(deps, "frame", { ...p, at: q.at });
        return answer(c, f, [f]);
      },
    );
}
