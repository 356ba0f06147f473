/**
 * How the HTTP layer answers when actors fail: `GET /api/v1/book` through the
 * real Hono app tells "not followed" (404), "not synced" and "not loaded"
 * (503) and "actor down" (503, Retry-After) apart, over stub deps whose
 * `request` rejects with each typed error and over a real supervisor whose
 * actor crashes mid-request; `GET /healthz` reflects the actors' states.
 */

import assert from "node:assert/strict";
import { createApp, type ErrorBody } from "../http/app.ts";
import type { AppDeps } from "../http/deps.ts";
import { HeatmapHub } from "../actors/system/hub.ts";
import { createMetrics } from "../actors/system/metrics.ts";
import type { BookView, CobyRequests } from "../actors/market/requests.ts";
import {
  ActorDownError,
  RequestError,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
} from "../runtime/protocol.ts";
import { type ActorInfo, Supervisor } from "../runtime/supervisor.ts";

let shown: ActorInfo[] = [];
const metrics = createMetrics(() => shown);

function info(id: string, more: Partial<ActorInfo> = {}): ActorInfo {
  return {
    id,
    state: "running",
    restart: "permanent",
    circuit: "closed",
    detail: "",
    restarts: 0,
    lastError: null,
    stats: {},
    ...more,
  };
}

function book(state: string): BookView {
  return {
    exchange: "binance",
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "spot",
    state,
    lastSequence: 1,
    bids: [[100, 1]],
    asks: [[101, 1]],
  };
}

/** What one actor answers to a `book` request: a book or an error. */
type Answer = BookView | Error;

/** Real AppDeps whose actors and answers are given; records requests made. */
function stubDeps(
  actors: ActorInfo[],
  answers: Record<string, Answer>,
): AppDeps & { asked: string[] } {
  shown = actors;
  const asked: string[] = [];
  return {
    asked,
    actors: () => actors,
    request<K extends RequestMethod<CobyRequests>>(
      id: string,
      method: K,
      _params: RequestParams<CobyRequests, K>,
    ): Promise<RequestResult<CobyRequests, K>> {
      asked.push(`${id} ${method}`);
      const a = answers[id];
      if (a instanceof Error) return Promise.reject(a);
      return Promise.resolve(a as RequestResult<CobyRequests, K>);
    },
    hub: new HeatmapHub(10),
    metrics,
    exchanges: ["binance", "test"],
  };
}

async function getBook(
  deps: AppDeps,
  exchange = "binance",
  symbol = "BTCUSDT",
) {
  const res = await createApp(deps).request(
    `/api/v1/book?exchange=${exchange}&symbol=${symbol}&depth=5`,
  );
  return { res, body: await res.json() };
}

const notFollowed = new RequestError(
  "not_followed",
  "Symbol BTCUSDT is not followed on binance",
);

Deno.test("http errors: a symbol no connection follows is 404 not_followed", async () => {
  const { res, body } = await getBook(
    stubDeps([info("conn:binance")], { "conn:binance": notFollowed }),
  );
  assert.equal(res.status, 404);
  assert.deepEqual(
    body,
    {
      error: "Symbol BTCUSDT is not followed on binance",
      code: "not_followed",
    } satisfies ErrorBody,
  );
  assert.equal(res.headers.get("Retry-After"), null);
});

Deno.test("http errors: an actor that fails under the request is 503 actor_down with Retry-After", async () => {
  const deps = stubDeps([info("conn:binance")], {
    "conn:binance": new ActorDownError("conn:binance", "Uncaught: Error: boom"),
  });
  const { res, body } = await getBook(deps);
  assert.equal(res.status, 503);
  assert.equal(body.code, "actor_down");
  assert.match(
    body.error,
    /^Exchange binance is down for BTCUSDT: Actor conn:binance is down: Uncaught: Error: boom$/,
  );
  assert.equal(res.headers.get("Retry-After"), "5");
});

Deno.test("http errors: an actor not running is 503 actor_down without asking it", async () => {
  const deps = stubDeps(
    [info("conn:binance", { state: "restarting", lastError: "boom" })],
    {},
  );
  const { res, body } = await getBook(deps);
  assert.equal(res.status, 503);
  assert.equal(body.code, "actor_down");
  assert.match(body.error, /conn:binance is restarting/);
  assert.deepEqual(deps.asked, []);
});

Deno.test("http errors: an unsynced book is 503 not_synced naming its state", async () => {
  const { res, body } = await getBook(
    stubDeps([info("conn:binance")], { "conn:binance": book("buffering") }),
  );
  assert.equal(res.status, 503);
  assert.deepEqual(body, {
    error: "Book BTCUSDT on binance is not synced (buffering)",
    code: "not_synced",
  });
  assert.equal(res.headers.get("Retry-After"), "5");
});

Deno.test("http errors: instruments not loaded yet is 503 not_loaded", async () => {
  const { res, body } = await getBook(
    stubDeps([info("conn:binance")], {
      "conn:binance": new RequestError(
        "not_loaded",
        "Symbol BTCUSDT is unknown on binance (instruments not loaded yet: connecting)",
      ),
    }),
  );
  assert.equal(res.status, 503);
  assert.equal(body.code, "not_loaded");
  assert.match(body.error, /instruments not loaded yet/);
});

Deno.test("http errors: any other actor error is 500 with its code, not 404", async () => {
  const plain = await getBook(
    stubDeps([info("conn:binance")], {
      "conn:binance": new RequestError("internal", "Cannot read x of null"),
    }),
  );
  assert.equal(plain.res.status, 500);
  assert.deepEqual(plain.body, {
    error: "Book BTCUSDT on binance failed: Cannot read x of null",
    code: "internal",
  });
});

Deno.test("http errors: across an exchange's connections, a down one makes 'not followed' unknowable", async () => {
  const actors = [info("conn:binance"), info("conn:binance#2")];
  const down = new ActorDownError("conn:binance#2", "killed");
  const split = await getBook(
    stubDeps(actors, { "conn:binance": notFollowed, "conn:binance#2": down }),
  );
  assert.equal(split.res.status, 503);
  assert.equal(split.body.code, "actor_down");
  const neither = await getBook(
    stubDeps(actors, {
      "conn:binance": notFollowed,
      "conn:binance#2": notFollowed,
    }),
  );
  assert.equal(neither.res.status, 404);
  const second = await getBook(
    stubDeps(actors, {
      "conn:binance": notFollowed,
      "conn:binance#2": book("synced"),
    }),
  );
  assert.equal(second.res.status, 200);
  assert.deepEqual(second.body, book("synced"));
});

Deno.test("http errors: every error has the one JSON shape", async () => {
  const app = createApp(stubDeps([info("conn:binance")], {}));
  const missing = await app.request("/nowhere");
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), {
    error: "Not found: /nowhere",
    code: "not_found",
  });
  const bad = await app.request("/api/v1/book?exchange=nowhere&symbol=X");
  assert.equal(bad.status, 400);
  const body = await bad.json();
  assert.equal(body.code, "bad_request");
  assert.match(body.error, /exchange/);
});

Deno.test("http errors: healthz is ok when every actor runs or exited normally, else degraded", async () => {
  const health = async (actors: ActorInfo[]) => {
    const res = await createApp(stubDeps(actors, {})).request("/healthz");
    assert.equal(res.status, 200);
    return await res.json();
  };
  const ok = await health([
    info("aggregator"),
    info("job", { state: "exited", restart: "transient" }),
  ]);
  assert.equal(ok.status, "ok");
  assert.deepEqual(ok.actors[1], {
    id: "job",
    state: "exited",
    restart: "transient",
    circuit: "closed",
    restarts: 0,
    lastError: null,
  });
  const bad = await health([
    info("aggregator"),
    info("conn:binance", {
      state: "stopped",
      circuit: "open",
      restarts: 5,
      lastError: "Uncaught: boom",
    }),
  ]);
  assert.equal(bad.status, "degraded");
  assert.equal(bad.actors[1].circuit, "open");
  assert.equal(bad.actors[1].lastError, "Uncaught: boom");
});

Deno.test("http errors: a connection actor that crashes under GET /api/v1/book answers 503 at once (real supervisor)", async () => {
  const sup = new Supervisor<CobyRequests>(
    [{
      id: "conn:test",
      module: new URL("./fixtures/book_actor.ts", import.meta.url),
      config: {},
    }],
    [],
    { onLog: () => {}, backoffBaseMs: 10, backoffMaxMs: 20 },
  );
  await sup.start();
  try {
    const deps: AppDeps = {
      actors: () => sup.actors(),
      request: (id, method, params) => sup.request(id, method, params),
      hub: new HeatmapHub(10),
      metrics,
      exchanges: ["test"],
    };
    const synced = await getBook(deps, "test", "SYNCED");
    assert.equal(synced.res.status, 200);
    assert.equal(synced.body.state, "synced");
    assert.equal((await getBook(deps, "test", "NOPE")).res.status, 404);
    const buffering = await getBook(deps, "test", "BUFFERING");
    assert.equal(buffering.res.status, 503);
    assert.equal(buffering.body.code, "not_synced");
    const loading = await getBook(deps, "test", "LOADING");
    assert.equal(loading.body.code, "not_loaded");

    let t: ReturnType<typeof setTimeout> | undefined;
    const crashed = await Promise.race([
      getBook(deps, "test", "CRASH"),
      new Promise<never>((_, reject) => {
        t = setTimeout(() => reject(new Error("GET /api/v1/book hung")), 5000);
      }),
    ]).finally(() => clearTimeout(t));
    assert.equal(crashed.res.status, 503);
    assert.equal(crashed.body.code, "actor_down");
    assert.match(
      crashed.body.error,
      /Actor conn:test is down: Uncaught: .*crashed serving a book/,
    );
    assert.equal(crashed.res.headers.get("Retry-After"), "5");

    await sup.ready("conn:test");
    assert.equal((await getBook(deps, "test", "SYNCED")).res.status, 200);
  } finally {
    await sup.stop();
  }
});
