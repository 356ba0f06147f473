/**
 * The rate limits: the token bucket itself on a stepped clock, the 429 the
 * app answers with `Retry-After`, who counts as a client (address,
 * principal, exempt loopback), and buckets in Redis shared by two apps (the
 * local Redis, a prefix of this test's own, deleted after).
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import { type AppOptions, createApp, type ErrorBody } from "./app.ts";
import { fakeDeps } from "./_fake_deps_test.ts";
import {
  MemoryRateLimitStore,
  RedisRateLimitStore,
  type Taken,
} from "./rate_limit.ts";
import { CAPTURE, fakeReplay } from "./routes/_fake_replay_test.ts";

const REDIS_URL = Deno.env.get("COBY_TEST_REDIS_URL") ??
  "redis://127.0.0.1:6379";
const KEY = "key-rate-0123456789";

/** A request from `ip` (the connection info Deno.serve hands `app.fetch`). */
function from(
  app: ReturnType<typeof createApp>,
  ip: string,
  path = "/api/v1/replay",
  init: RequestInit = {},
): Promise<Response> {
  const env = { remoteAddr: { hostname: ip, port: 50000, transport: "tcp" } };
  return Promise.resolve(app.request(path, init, env));
}

/** Statuses of `n` GETs from `ip`, bodies read. */
async function statuses(
  app: ReturnType<typeof createApp>,
  ip: string,
  n: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await from(app, ip);
    await res.body?.cancel();
    out.push(res.status);
  }
  return out;
}

Deno.test("memory bucket: a burst, then one token per 1/perSecond, refusals say when", async () => {
  let now = 1000;
  const store = new MemoryRateLimitStore({ now: () => now });
  const limit = { perSecond: 2, burst: 3 };
  const takes: Taken[] = [];
  for (let i = 0; i < 4; i++) takes.push(await store.take("a", limit));
  assert.deepEqual(takes.map((t) => [t.allowed, t.remaining]), [
    [true, 2],
    [true, 1],
    [true, 0],
    [false, 0],
  ]);
  // Empty: a token is back after 1 / 2 s.
  assert.equal(takes[3].retryAfterMs, 500);
  now += 250;
  const early = await store.take("a", limit);
  assert.equal(early.allowed, false);
  assert.equal(early.retryAfterMs, 250);
  now += 250;
  assert.equal((await store.take("a", limit)).allowed, true);
  // Another client has its own bucket.
  assert.equal((await store.take("b", limit)).remaining, 2);
  // A long idle refills to the burst, no more.
  now += 60_000;
  assert.equal((await store.take("a", limit)).remaining, 2);
});

Deno.test("memory bucket: past maxClients, full buckets go first, then the oldest", async () => {
  let now = 0;
  const store = new MemoryRateLimitStore({ now: () => now, maxClients: 3 });
  const limit = { perSecond: 1, burst: 2 };
  await store.take("idle", limit);
  now += 5_000; // "idle" is full again.
  await store.take("busy1", limit);
  await store.take("busy2", limit);
  await store.take("new1", limit);
  assert.equal(store.size, 3, "the full bucket made room");
  // All three in use: the oldest goes, and comes back full.
  await store.take("busy1", limit);
  await store.take("new2", limit);
  assert.equal(store.size, 3);
  assert.equal((await store.take("busy1", limit)).remaining, 1);
});

Deno.test("rate limit: over the burst 429 rate_limited with Retry-After; per address; loopback exempt", async () => {
  const app = createApp(
    fakeDeps(fakeReplay().sessions, {
      rateLimit: { perSecond: 0.5, burst: 3 },
    }),
  );
  assert.deepEqual(
    await statuses(app, "203.0.113.7", 4),
    [200, 200, 200, 429],
  );
  const over = await from(app, "203.0.113.7");
  assert.equal(over.status, 429);
  // 0.5 a second: the next token is up to 2 s away.
  const wait = Number(over.headers.get("Retry-After"));
  assert.ok(wait >= 1 && wait <= 2, `Retry-After ${wait}`);
  const body = await over.json() as ErrorBody;
  assert.equal(body.code, "rate_limited");
  assert.match(body.error, /0\.5 a second, bursts of 3/);
  // Another address has its own bucket; the same one, IPv4-mapped, shares.
  assert.deepEqual(await statuses(app, "198.51.100.1", 1), [200]);
  assert.deepEqual(await statuses(app, "::ffff:203.0.113.7", 1), [429]);
  // Loopback (the default exempt list) and in-process requests are not
  // limited.
  assert.deepEqual(await statuses(app, "127.0.0.1", 6), Array(6).fill(200));
  for (let i = 0; i < 6; i++) {
    assert.equal((await app.request("/api/v1/replay")).status, 200);
  }
});

Deno.test("rate limit: a principal is one client wherever it connects from; a bad credential is refused before", async () => {
  const app = createApp(fakeDeps(fakeReplay().sessions, {
    keys: [KEY],
    rateLimit: { perSecond: 0.5, burst: 2, exempt: [] },
  }));
  const spec = JSON.stringify({ source: "files", files: [CAPTURE] });
  const post = (ip: string) =>
    from(app, ip, "/api/v1/replay", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": KEY },
      body: spec,
    });
  assert.equal((await post("203.0.113.7")).status, 201);
  assert.equal((await post("198.51.100.1")).status, 201);
  const third = await post("192.0.2.9");
  assert.equal(third.status, 429);
  assert.equal((await third.json() as ErrorBody).code, "rate_limited");
  // The addresses' own buckets are untouched: anonymous reads go on.
  assert.deepEqual(await statuses(app, "192.0.2.9", 2), [200, 200]);
  // Loopback is limited here too (exempt: []).
  assert.deepEqual(await statuses(app, "127.0.0.1", 3), [200, 200, 429]);
  // A wrong key is refused before the limit: it takes no token.
  for (let i = 0; i < 3; i++) {
    const res = await from(app, "198.51.100.77", "/api/v1/replay", {
      headers: { "X-API-Key": "wrong-key-0123456789" },
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  }
  assert.deepEqual(await statuses(app, "198.51.100.77", 3), [200, 200, 429]);
});

Deno.test("rate limit over a socket: the client is the connection's address", async () => {
  const app = createApp(
    fakeDeps(fakeReplay().sessions, {
      rateLimit: { perSecond: 0.5, burst: 2, exempt: [] },
    }),
  );
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  try {
    const got: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(
        `http://127.0.0.1:${server.addr.port}/api/v1/replay`,
      );
      await res.body?.cancel();
      got.push(res.status);
    }
    assert.deepEqual(got, [200, 200, 429]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("rate limit: disabled, nothing is limited", async () => {
  const app = createApp(
    fakeDeps(fakeReplay().sessions, {
      rateLimit: { enabled: false, perSecond: 0.5, burst: 1 },
    }),
  );
  assert.deepEqual(await statuses(app, "203.0.113.7", 4), Array(4).fill(200));
});

Deno.test("rate limit in Redis: two apps share one bucket per client; keys name no client", async () => {
  const prefix = `test:rl:${crypto.randomUUID().slice(0, 8)}:`;
  const stores = [
    new RedisRateLimitStore(REDIS_URL, { prefix }),
    new RedisRateLimitStore(REDIS_URL, { prefix }),
  ];
  const inspector = createClient({ url: REDIS_URL });
  inspector.on("error", () => {});
  await inspector.connect();
  try {
    const api = { rateLimit: { perSecond: 0.5, burst: 4, exempt: [] } };
    const apps = stores.map((s) => {
      const options: AppOptions = { rateLimitStore: s };
      return createApp(fakeDeps(fakeReplay().sessions, api), options);
    });
    // Alternating between the two apps, the one client gets 4 in all.
    const got: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await from(apps[i % 2], "203.0.113.7");
      await res.body?.cancel();
      got.push(res.status);
    }
    assert.deepEqual(got, [200, 200, 200, 200, 429, 429]);
    const over = await from(apps[0], "203.0.113.7");
    assert.ok(Number(over.headers.get("Retry-After")) >= 1);
    await over.body?.cancel();
    // Another client, through either app, has its own bucket.
    assert.deepEqual(await statuses(apps[1], "198.51.100.1", 1), [200]);
    const keys = await inspector.keys(`${prefix}*`);
    assert.equal(keys.length, 2, "one bucket per client");
    for (const k of keys) {
      assert.match(k, /^test:rl:[0-9a-f]{8}:ratelimit:[0-9a-f]{32}$/);
    }
    // Each bucket expires once it would be full again (burst / rate + 1 s).
    const ttl = await inspector.pTTL(keys[0]);
    assert.ok(ttl > 0 && ttl <= 9_000, `TTL ${ttl}`);
  } finally {
    const keys = await inspector.keys(`${prefix}*`);
    if (keys.length) await inspector.del(keys);
    inspector.destroy();
    for (const s of stores) await s.close();
  }
});

Deno.test("rate limit in Redis: while Redis cannot answer, this process's buckets apply, said once", async () => {
  const lines: string[] = [];
  // Nothing listens on port 1: the first attempt fails at once.
  const store = new RedisRateLimitStore("redis://127.0.0.1:1", {
    prefix: "test:rl:down:",
    log: (m) => lines.push(m),
  });
  try {
    const limit = { perSecond: 1, burst: 2 };
    const got: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      got.push((await store.take("ip:203.0.113.7", limit)).allowed);
    }
    assert.deepEqual(got, [true, true, false]);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0],
      /^rate limits: Redis cannot answer \(.+\); this process's own buckets apply/,
    );
    assert.doesNotMatch(lines[0], /203\.0\.113\.7/);
  } finally {
    await store.close();
  }
});
