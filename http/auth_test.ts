/**
 * Access control of the control endpoints, through the app: no credential
 * is 401; a JWT with a bad signature, an `exp` past, a wrong `aud` (and the
 * other reasons) is 401 with its `token_…` code; valid HS256 tokens and
 * ES256 tokens against a JWKS file pass, their `sub` owning sessions as a
 * key does; the SSE stream takes `?token=`, nothing else does; the
 * configuration reads the JWT settings from the environment.
 */

import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import {
  ConfigError,
  loadConfig,
  parseConfig,
} from "../actors/system/config.ts";
import { createApp, type ErrorBody } from "./app.ts";
import { fakeDeps } from "./_fake_deps_test.ts";
import { CAPTURE, fakeReplay } from "./routes/_fake_replay_test.ts";

const SECRET = "s3cret-for-hs256-at-least-32-characters";
const KEY = "key-auth-0123456789";
const AUD = "coby-api";
const ISS = "https://idp.example";
const SPEC = { source: "files", files: [CAPTURE] };

/** Seconds since the epoch, now. */
const nowS = () => Math.floor(Date.now() / 1000);

/** A signed JWT: `sub`, `aud`, `iss` and an `exp` in 5 min unless overridden. */
async function token(
  key: CryptoKey | Uint8Array,
  alg: string,
  claims: JWTPayload = {},
  kid?: string,
): Promise<string> {
  const payload: JWTPayload = {
    sub: "alice",
    aud: AUD,
    iss: ISS,
    exp: nowS() + 300,
    ...claims,
  };
  for (const [k, v] of Object.entries(payload)) {
    if (v === undefined) delete payload[k];
  }
  return await new SignJWT(payload)
    .setProtectedHeader(kid ? { alg, kid } : { alg })
    .sign(key);
}

/** A control request with the headers given. */
async function post(
  app: ReturnType<typeof createApp>,
  headers: Record<string, string>,
  path = "/api/v1/replay",
): Promise<{ res: Response; body: any }> {
  const res = await app.request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(SPEC),
  });
  return { res, body: await res.json() };
}

const hs = new TextEncoder().encode(SECRET);

Deno.test("auth: no credential 401; a bad JWT 401 with its reason; never echoes the token", async () => {
  const { sessions, state } = fakeReplay();
  const app = createApp(fakeDeps(sessions, {
    keys: [KEY],
    jwt: { secret: SECRET, audience: AUD, issuer: ISS },
  }));
  const none = await post(app, {});
  assert.equal(none.res.status, 401);
  assert.equal(none.body.code, "unauthorized");
  assert.equal(
    none.res.headers.get("WWW-Authenticate"),
    'Bearer realm="coby", ApiKey',
  );

  const other = new TextEncoder().encode(
    "another-secret-of-32-characters-at-least",
  );
  const bad: [string, string][] = [
    [await token(other, "HS256"), "token_signature"],
    [await token(hs, "HS256", { exp: nowS() - 60 }), "token_expired"],
    [await token(hs, "HS256", { aud: "another-api" }), "token_audience"],
    [await token(hs, "HS256", { iss: "https://evil.example" }), "token_issuer"],
    [await token(hs, "HS256", { nbf: nowS() + 600 }), "token_not_before"],
    [await token(hs, "HS256", { exp: undefined }), "token_claims"],
    [await token(hs, "HS256", { sub: undefined }), "token_claims"],
    [await token(hs, "HS384"), "token_algorithm"],
    ["not.a-jwt", "token_malformed"],
    // alg none: unsigned.
    [
      `${btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "")}.${
        btoa(JSON.stringify({ sub: "alice" })).replace(/=+$/, "")
      }.`,
      "token_algorithm",
    ],
  ];
  for (const [t, code] of bad) {
    const { res, body } = await post(app, { Authorization: `Bearer ${t}` });
    assert.equal(res.status, 401, code);
    assert.equal((body as ErrorBody).code, code);
    assert.equal(
      res.headers.get("WWW-Authenticate"),
      `Bearer realm="coby", error="invalid_token", error_description="${code}", ApiKey`,
    );
    assert.ok(!body.error.includes(t), `the token is echoed: ${body.error}`);
  }
  const expired = await post(app, {
    Authorization: `Bearer ${await token(hs, "HS256", { exp: 1767614400 })}`,
  });
  assert.equal(expired.body.error, "JWT expired at 2026-01-05T12:00:00.000Z");
  const wrongKey = await post(app, { "X-API-Key": "wrong-key-0123456789" });
  assert.equal(wrongKey.res.status, 401);
  assert.equal(wrongKey.body.code, "unauthorized");
  const basic = await post(app, { Authorization: "Basic YTpi" });
  assert.equal(basic.res.status, 401);
  assert.equal(state.size, 0, "a refused request reached the actor");
});

Deno.test("auth: a valid HS256 token's sub owns its sessions as a key does", async () => {
  const { sessions } = fakeReplay();
  const app = createApp(fakeDeps(sessions, {
    keys: [KEY],
    jwt: { secret: SECRET, audience: AUD, issuer: ISS },
    sessionsPerKey: 1,
  }));
  const alice = { Authorization: `Bearer ${await token(hs, "HS256")}` };
  const bob = {
    Authorization: `Bearer ${await token(hs, "HS256", { sub: "bob" })}`,
  };
  const made = await post(app, alice);
  assert.equal(made.res.status, 201);
  assert.equal(sessions.owner(made.body.id), "jwt:alice");
  // Per principal: alice is full, the key is not.
  assert.equal((await post(app, alice)).res.status, 429);
  const byKey = await post(app, { "X-API-Key": KEY });
  assert.equal(byKey.res.status, 201);
  assert.equal(sessions.owner(byKey.body.id), KEY);
  // The key also goes as a bearer credential.
  const pause = JSON.stringify({ action: "pause" });
  const patch = (id: string, headers: Record<string, string>) =>
    app.request(`/api/v1/replay/${id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", ...headers },
      body: pause,
    });
  assert.equal(
    (await patch(byKey.body.id, { Authorization: `Bearer ${KEY}` })).status,
    200,
  );
  assert.equal((await patch(made.body.id, bob)).status, 403);
  assert.equal((await patch(made.body.id, alice)).status, 200);
  const del = await app.request(`/api/v1/replay/${made.body.id}`, {
    method: "DELETE",
    headers: alice,
  });
  assert.equal(del.status, 200);
  // Reads stay public.
  assert.equal((await app.request("/api/v1/replay")).status, 200);
});

Deno.test("auth: ES256 against a JWKS file; another key or an unknown kid is refused", async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const stranger = await generateKeyPair("ES256");
  const jwk = { ...await exportJWK(pair.publicKey), kid: "k1", alg: "ES256" };
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify({ keys: [jwk] }));
    const { sessions } = fakeReplay();
    // JWT only: no keys, no HS256 secret.
    const app = createApp(fakeDeps(sessions, {
      jwt: { jwks: file, audience: AUD },
    }));
    const ok = await post(app, {
      Authorization: `Bearer ${await token(
        pair.privateKey,
        "ES256",
        { sub: "desk-1" },
        "k1",
      )}`,
    });
    assert.equal(ok.res.status, 201);
    assert.equal(sessions.owner(ok.body.id), "jwt:desk-1");
    const cases: [string, string][] = [
      [
        await token(stranger.privateKey, "ES256", {}, "k1"),
        "token_signature",
      ],
      [await token(stranger.privateKey, "ES256", {}, "k2"), "token_key"],
      [await token(hs, "HS256"), "token_algorithm"],
    ];
    for (const [t, code] of cases) {
      const { res, body } = await post(app, { Authorization: `Bearer ${t}` });
      assert.equal(res.status, 401, code);
      assert.equal(body.code, code);
    }
    const none = await post(app, {});
    assert.equal(
      none.res.headers.get("WWW-Authenticate"),
      'Bearer realm="coby"',
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("auth: ES256 against a JWKS URL; an unreachable one is 503 jwks_unavailable", async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...await exportJWK(pair.publicKey), kid: "k1", alg: "ES256" };
  let fetched = 0;
  const idp = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => {
      fetched++;
      return Response.json({ keys: [jwk] });
    },
  );
  try {
    const url = `http://127.0.0.1:${idp.addr.port}/jwks.json`;
    const { sessions } = fakeReplay();
    const app = createApp(fakeDeps(sessions, { jwt: { jwks: url } }));
    const t = await token(pair.privateKey, "ES256", {}, "k1");
    for (let i = 0; i < 2; i++) {
      const { res } = await post(app, { Authorization: `Bearer ${t}` });
      assert.equal(res.status, 201);
    }
    assert.equal(fetched, 1, "the key set is cached");
    await idp.shutdown();
    // A fresh app has no cached keys and cannot reach the closed port.
    const cold = createApp(
      fakeDeps(fakeReplay().sessions, { jwt: { jwks: url } }),
    );
    const { res, body } = await post(cold, { Authorization: `Bearer ${t}` });
    assert.equal(res.status, 503);
    assert.equal(body.code, "jwks_unavailable");
    assert.ok(Number(res.headers.get("Retry-After")) > 0);
  } finally {
    await idp.shutdown();
  }
});

Deno.test("auth: the stream takes ?token=; protectReads guards the reads; ?token= elsewhere is 400", async () => {
  const { sessions } = fakeReplay();
  const app = createApp(fakeDeps(sessions, {
    jwt: { secret: SECRET },
    protectReads: true,
  }));
  const t = await token(hs, "HS256");
  const stream = "/api/v1/heatmap/stream?symbol=BTC-USDT";
  // HEAD: the stream's headers only, no stream held open.
  const anon = await app.request(stream, { method: "HEAD" });
  assert.equal(anon.status, 401);
  const ok = await app.request(`${stream}&token=${t}`, { method: "HEAD" });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("Content-Type"), "text/event-stream");
  const expired = await app.request(
    `${stream}&token=${await token(hs, "HS256", { exp: nowS() - 60 })}`,
  );
  assert.equal(expired.status, 401);
  assert.equal((await expired.json()).code, "token_expired");
  // Other reads need the header; the UI and health stay open.
  assert.equal((await app.request("/api/v1/replay")).status, 401);
  const list = await app.request("/api/v1/replay", {
    headers: { Authorization: `Bearer ${t}` },
  });
  assert.equal(list.status, 200);
  const misplaced = await app.request(`/api/v1/replay?token=${t}`);
  assert.equal(misplaced.status, 400);
  const body = await misplaced.json() as ErrorBody;
  assert.equal(body.code, "bad_request");
  assert.ok(!body.error.includes(t));
  assert.equal((await app.request("/healthz")).status, 200);
});

Deno.test("auth: nothing configured, nothing is protected and credentials are ignored", async () => {
  const { sessions } = fakeReplay();
  const app = createApp(fakeDeps(sessions, {}));
  const { res, body } = await post(app, { Authorization: "Bearer whatever" });
  assert.equal(res.status, 201);
  assert.equal(sessions.owner(body.id), null);
});

Deno.test("auth config: the JWT settings from the environment; a bad JWKS file fails the start", async () => {
  const env: Record<string, string> = {
    COBY_JWT_SECRET: SECRET,
    COBY_JWT_AUDIENCE: AUD,
    COBY_JWT_ISSUER: ISS,
    COBY_JWT_JWKS: "https://idp.example/.well-known/jwks.json",
  };
  const cfg = await loadConfig((k) => env[k]);
  assert.deepEqual(cfg.api.jwt, {
    secret: SECRET,
    jwks: "https://idp.example/.well-known/jwks.json",
    audience: AUD,
    issuer: ISS,
  });
  assert.deepEqual(cfg.api.rateLimit, {
    enabled: true,
    perSecond: 50,
    burst: 200,
    exempt: ["127.0.0.1", "::1"],
  });
  assert.throws(
    () => parseConfig({ api: { jwt: { secret: "short" } } }),
    /api\.jwt\.secret: an HS256 secret needs at least 32 characters/,
  );
  assert.throws(
    () => parseConfig({ api: { jwt: { audience: AUD } } }),
    /api\.jwt: jwt needs a secret or a jwks/,
  );
  assert.throws(
    () => parseConfig({ api: { keys: ["jwt:alice-0123"] } }),
    /api\.keys\.0: an API key must not start with jwt:/,
  );
  const { sessions } = fakeReplay();
  assert.throws(
    () => createApp(fakeDeps(sessions, { jwt: { jwks: "no/such/jwks.json" } })),
    (e) =>
      e instanceof ConfigError &&
      /^Invalid config at api\.jwt\.jwks: cannot use JWKS file no\/such\/jwks\.json/
        .test(e.message),
  );
});
