/**
 * The API's description against the app itself: every mounted route is
 * described and every described operation is mounted; every example in the
 * description passes the zod schema that validates (or, for answers,
 * describes) it; `/openapi.json` validates as OpenAPI 3.1; a request that
 * fails its schema still answers 400 `{error, code}` with the zod message.
 */

import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import type { RouteConfig } from "@hono/zod-openapi";
import type { ZodType } from "zod";
import { parseConfig } from "../actors/system/config.ts";
import { HeatmapHub } from "../actors/system/hub.ts";
import { createApp } from "./app.ts";
import type { AppDeps } from "./deps.ts";

/** An app over an idle hub with two configured exchanges. */
function app() {
  const deps: AppDeps = {
    actors: () => [],
    request: () => Promise.reject(new Error("No actors in this test")),
    hub: new HeatmapHub(10),
    metrics: { render: () => Promise.resolve("") },
    exchanges: ["binance", "okx"],
    config: parseConfig({
      exchanges: {
        binance: { symbols: ["BTCUSDT"] },
        okx: { symbols: ["BTC-USDT"] },
      },
    }),
  };
  return createApp(deps);
}

/** The methods an OpenAPI path item may hold. */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"];

/** The description's parts this test reads. */
interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, { example?: unknown }> };
}

interface Media {
  schema?: { $ref?: string; example?: unknown };
  example?: unknown;
}

interface Operation {
  parameters?: {
    name: string;
    in: string;
    schema?: { example?: unknown };
    example?: unknown;
  }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}

async function described(a: ReturnType<typeof app>): Promise<Doc> {
  const res = await a.request("/openapi.json");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /application\/json/);
  return await res.json() as Doc;
}

Deno.test("openapi: every mounted route is described, and every described operation is mounted", async () => {
  const a = app();
  const doc = await described(a);
  const mounted = new Set(
    a.routes.filter((r) => r.method !== "ALL").map((r) =>
      `${r.method} ${r.path.replace(/:([^/]+)/g, "{$1}")}`
    ),
  );
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).filter((m) => METHODS.includes(m)).map((m) =>
        `${m.toUpperCase()} ${path}`
      )
    ),
  );
  assert.deepEqual([...mounted].sort(), [...documented].sort());
  // The API's routes are all there, the docs' own too.
  for (
    const op of [
      "GET /api/v1/book",
      "GET /api/v1/heatmap/stream",
      "POST /api/v1/replay",
      "PATCH /api/v1/replay/{id}",
      "GET /api/v1/frame",
      "GET /openapi.json",
      "GET /docs",
    ]
  ) assert.ok(documented.has(op), op);
});

Deno.test("openapi: every example passes the zod schema of its parameter, body or answer", async () => {
  const a = app();
  const doc = await described(a);
  const routes = new Map<string, RouteConfig>();
  for (const d of a.openAPIRegistry.definitions) {
    if (d.type === "route") {
      routes.set(`${d.route.method} ${d.route.path}`, d.route);
    }
  }
  const ref = (m: Media) =>
    m.schema?.$ref
      ? doc.components?.schemas?.[m.schema.$ref.split("/").pop()!]
      : m.schema;
  /** The examples of a media entry: its own, and its schema's. */
  const examples = (m: Media) =>
    [m.example, ref(m)?.example].filter((e) => e !== undefined);
  const failures: string[] = [];
  let checked = 0;
  const check = (
    where: string,
    schema: ZodType | undefined,
    value: unknown,
  ) => {
    assert.ok(schema, `${where}: no zod schema`);
    checked++;
    const r = schema.safeParse(value);
    if (!r.success) {
      failures.push(`${where}: ${JSON.stringify(value)}: ${r.error.message}`);
    }
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const route = routes.get(`${method} ${path}`);
      assert.ok(route, `${method} ${path} is described but not registered`);
      const at = `${method.toUpperCase()} ${path}`;
      for (const p of op.parameters ?? []) {
        const part = p.in === "path"
          ? route.request?.params
          : route.request?.query;
        const field = (part as { shape?: Record<string, ZodType> } | undefined)
          ?.shape?.[p.name];
        for (const e of [p.example, p.schema?.example]) {
          if (e !== undefined) check(`${at} ${p.in} ${p.name}`, field, e);
        }
      }
      for (const [type, m] of Object.entries(op.requestBody?.content ?? {})) {
        for (const e of examples(m)) {
          check(
            `${at} body ${type}`,
            (route.request?.body?.content[type] as { schema?: ZodType })
              ?.schema,
            e,
          );
        }
      }
      for (const [status, r] of Object.entries(op.responses)) {
        for (const [type, m] of Object.entries(r.content ?? {})) {
          for (const e of examples(m)) {
            const content = (route.responses[status] as {
              content?: Record<string, { schema: ZodType }>;
            }).content;
            check(`${at} ${status} ${type}`, content?.[type]?.schema, e);
          }
        }
      }
    }
  }
  assert.deepEqual(failures, []);
  // Parameters, bodies and answers of every route: well over a hundred.
  assert.ok(checked > 100, `only ${checked} examples`);
});

Deno.test("openapi: /openapi.json validates as OpenAPI 3.1", async () => {
  const doc = await described(app());
  assert.equal(doc.openapi, "3.1.0");
  assert.equal(doc.info.title, "coby");
  const validator = new Validator();
  const result = await validator.validate(
    doc as unknown as Parameters<Validator["validate"]>[0],
  );
  assert.equal(validator.version, "3.1");
  assert.deepEqual(result.errors ?? [], []);
  assert.equal(result.valid, true);
});

Deno.test("openapi: a request that fails its schema answers 400 {error, code} with the zod message; a body not JSON 415", async () => {
  const a = app();
  const res = await a.request(
    "/api/v1/book?exchange=binance&symbol=BTCUSDT&depth=0x10",
  );
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.code, "bad_request");
  assert.match(body.error, /depth "0x10" must be an integer from 1 to 5000/);
  assert.match(body.error, /→ at depth/);
  const session = await a.request("/api/v1/replay/bad%20id");
  assert.equal(session.status, 400);
  assert.deepEqual(await session.json(), {
    error: "✖ id must be a session id such as r1\n  → at id",
    code: "bad_request",
  });
  // A body that is not JSON is refused before its schema, naming its type.
  const text = await a.request("/api/v1/replay", {
    method: "POST",
    headers: { "Content-Type": "text/plain" },
    body: '{"source":"files"}',
  });
  assert.equal(text.status, 415);
  assert.deepEqual(await text.json(), {
    error:
      'Content-Type "text/plain" is not application/json: send the body as JSON',
    code: "unsupported_media_type",
  });
});
