/**
 * Who a request comes from, and whether it may control coby.
 *
 * A request may carry one credential:
 * - `X-API-Key: <key>`, one of `api.keys` (`COBY_API_KEYS`);
 * - `Authorization: Bearer <credential>`: an API key, else a JWT;
 * - `?token=<credential>` on the SSE streams only (EventSource cannot send
 *   headers), read the same way as a bearer credential.
 *
 * A JWT is verified with `jose`: HS256 with `api.jwt.secret`, RS256 or ES256
 * against the JWKS of `api.jwt.jwks` (a file read at start, or an
 * `http(s)://` URL fetched and cached by jose). `exp` and `sub` are
 * required, `nbf` is checked when present (both with 5 s of clock skew
 * allowed), `aud` and `iss` when configured.
 *
 * The request's principal: the API key itself, or `jwt:` and the token's
 * `sub` (no key starts with `jwt:`, see `api.keys`). It owns replay sessions
 * and is the client of the rate limits; it stays in memory (the rate limits'
 * Redis keys hold a digest of it). Keys are compared as SHA-256 digests in
 * constant time, every key each time, so the answer's timing tells nothing
 * about a guess. No credential is ever logged or echoed in an error.
 *
 * With neither keys nor a JWT configured, nothing is protected: every
 * request passes with principal null and credentials are ignored.
 *
 * | outcome                                         | status | `code`                                         |
 * | ----------------------------------------------- | ------ | ---------------------------------------------- |
 * | no credential on a protected route              | 401    | `unauthorized`                                 |
 * | an `X-API-Key` that is no key, a bearer that is | 401    | `unauthorized`                                 |
 * | neither a key nor a JWT (no JWT configured)     |        |                                                |
 * | a JWT that fails, by reason                     | 401    | `token_malformed`, `token_algorithm`,          |
 * |                                                 |        | `token_key`, `token_signature`,                |
 * |                                                 |        | `token_expired`, `token_not_before`,           |
 * |                                                 |        | `token_audience`, `token_issuer`,              |
 * |                                                 |        | `token_claims`                                 |
 * | `?token=` off the SSE streams                   | 400    | `bad_request`                                  |
 * | the JWKS URL cannot be fetched                  | 503    | `jwks_unavailable` (with `Retry-After`)        |
 *
 * Every 401 carries `WWW-Authenticate`: `ApiKey` with keys only,
 * `Bearer realm="coby"` with a JWT only, both with both; a failed JWT adds
 * `error="invalid_token"` and the code as `error_description` (RFC 6750).
 *
 * @module
 */

import { createMiddleware } from "hono/factory";
import type { Context, MiddlewareHandler } from "hono";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import { type Config, ConfigError } from "../actors/system/config.ts";
import { clip, httpError, RETRY_AFTER_S } from "./errors.ts";

/** The request header that carries an API key. */
export const API_KEY_HEADER = "X-API-Key";

/** The query parameter that carries a credential on the SSE streams. */
export const TOKEN_PARAM = "token";

/** The access settings (`api` in the configuration). */
export type AuthSettings = Pick<Config["api"], "keys" | "jwt">;

/** What the auth middlewares leave on the context for the handlers. */
export interface AuthVariables {
  /**
   * The request's principal (the API key, or `jwt:<sub>`); null for a
   * request without a credential, or when nothing is protected.
   */
  principal: string | null;
}

/** The JWT algorithms accepted against a JWKS. */
const JWKS_ALGORITHMS = ["RS256", "ES256"];
/** Longest accepted `sub`, characters (it names Redis keys). */
const SUB_MAX = 256;
/** Seconds of clock skew tolerated on `exp` and `nbf`. */
const CLOCK_SKEW_S = 5;
/** Milliseconds a JWKS fetch may take. */
const JWKS_TIMEOUT_MS = 5000;

/** Why a JWT was refused: the suffix of its `token_…` code. */
type TokenReason =
  | "malformed"
  | "algorithm"
  | "key"
  | "signature"
  | "expired"
  | "not_before"
  | "audience"
  | "issuer"
  | "claims";

/** SHA-256 of a string's UTF-8 bytes. */
async function digest(s: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)),
  );
}

/** Whether two equal-length digests are equal, in time independent of where they differ. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** A credential as the request carries it. */
export interface Credential {
  /** `X-API-Key`, `Authorization: Bearer` or `?token=`. */
  source: "header" | "bearer" | "query";
  /** The key or token. */
  value: string;
}

/**
 * Verifies credentials against the configured API keys and JWT keys, and
 * makes the refusals. One per app (`createApp` makes it from `api`).
 */
export class Auth {
  /** Whether anything is protected: keys or a JWT configured. */
  readonly enabled: boolean;
  readonly #keys: Promise<{ digest: Uint8Array; principal: string }[]>;
  readonly #hasKeys: boolean;
  readonly #secret: Uint8Array | null;
  readonly #jwks: JWTVerifyGetKey | null;
  readonly #claims: Pick<JWTVerifyOptions, "audience" | "issuer">;

  /**
   * Reads the settings; a JWKS file is read and checked now.
   * @param settings `api.keys` and `api.jwt`.
   * @throws {ConfigError} `Invalid config at api.jwt.jwks: …` when the JWKS
   * file cannot be read or holds no valid key set.
   */
  constructor(settings: AuthSettings) {
    this.#hasKeys = settings.keys.length > 0;
    this.#keys = Promise.all(settings.keys.map(async (k) => ({
      digest: await digest(k),
      principal: k,
    })));
    const jwt = settings.jwt;
    this.enabled = this.#hasKeys || jwt !== undefined;
    this.#secret = jwt?.secret ? new TextEncoder().encode(jwt.secret) : null;
    this.#jwks = jwt?.jwks ? jwkSet(jwt.jwks) : null;
    this.#claims = {
      ...(jwt?.audience ? { audience: jwt.audience } : {}),
      ...(jwt?.issuer ? { issuer: jwt.issuer } : {}),
    };
  }

  /** The `WWW-Authenticate` challenges of a 401. */
  challenge(): string {
    const bearer = this.#secret || this.#jwks ? ['Bearer realm="coby"'] : [];
    return [...bearer, ...(this.#hasKeys ? ["ApiKey"] : [])].join(", ");
  }

  /**
   * The refusal of a request that needs a credential and has none.
   * @returns 401 `unauthorized` with `WWW-Authenticate`.
   */
  missing(): Error {
    const how = [
      ...(this.#hasKeys ? [`${API_KEY_HEADER}`] : []),
      "Authorization: Bearer",
    ].join(" or ");
    return httpError(401, "unauthorized", `A credential is required: ${how}`, {
      headers: { "WWW-Authenticate": this.challenge() },
    });
  }

  /**
   * The principal of a credential.
   * @param cred the request's credential, or null.
   * @returns the principal; null without a credential or when nothing is
   * protected.
   * @throws {HTTPException} 401 for a credential that is no key and no valid
   * JWT; 503 `jwks_unavailable` when the JWKS URL cannot be fetched.
   */
  async principal(cred: Credential | null): Promise<string | null> {
    if (!this.enabled || cred === null) return null;
    const key = await this.#matchKey(cred.value);
    if (key !== null) return key;
    if (cred.source === "header" || !(this.#secret || this.#jwks)) {
      const where = cred.source === "header"
        ? `Header ${API_KEY_HEADER}`
        : cred.source === "bearer"
        ? "The bearer credential"
        : `Query parameter ${TOKEN_PARAM}`;
      throw httpError(401, "unauthorized", `${where} holds no valid key`, {
        headers: { "WWW-Authenticate": this.challenge() },
      });
    }
    return `jwt:${await this.#verify(cred.value)}`;
  }

  /** The principal of the key `value` is, comparing it with every key. */
  async #matchKey(value: string): Promise<string | null> {
    if (!this.#hasKeys) return null;
    const d = await digest(value);
    let match: string | null = null;
    for (const k of await this.#keys) {
      if (sameDigest(d, k.digest) && match === null) match = k.principal;
    }
    return match;
  }

  /** A JWT's `sub`, once verified. */
  async #verify(token: string): Promise<string> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw this.#refuse("malformed", "The bearer credential is no JWT");
    }
    const hs = alg === "HS256" && this.#secret !== null;
    const pk = alg !== undefined && JWKS_ALGORITHMS.includes(alg) &&
      this.#jwks !== null;
    if (!hs && !pk) {
      const accepted = [
        ...(this.#secret ? ["HS256"] : []),
        ...(this.#jwks ? JWKS_ALGORITHMS : []),
      ];
      throw this.#refuse(
        "algorithm",
        `JWT algorithm ${clip(String(alg))} is not accepted; accepted: ${
          accepted.join(", ")
        }`,
      );
    }
    const options: JWTVerifyOptions = {
      ...this.#claims,
      algorithms: hs ? ["HS256"] : JWKS_ALGORITHMS,
      requiredClaims: ["exp", "sub"],
      clockTolerance: CLOCK_SKEW_S,
    };
    let sub: unknown;
    try {
      const { payload } = hs
        ? await jwtVerify(token, this.#secret!, options)
        : await jwtVerify(token, this.#jwks!, options);
      sub = payload.sub;
    } catch (e) {
      throw this.#failure(e);
    }
    if (typeof sub !== "string" || sub === "" || sub.length > SUB_MAX) {
      throw this.#refuse(
        "claims",
        `JWT sub must be a string of 1 to ${SUB_MAX} characters`,
      );
    }
    return sub;
  }

  /** A 401 for a JWT refused for `reason`. */
  #refuse(reason: TokenReason, message: string): Error {
    const code = `token_${reason}`;
    return httpError(401, code, message, {
      headers: {
        "WWW-Authenticate":
          `Bearer realm="coby", error="invalid_token", error_description="${code}"${
            this.#hasKeys ? ", ApiKey" : ""
          }`,
      },
    });
  }

  /** The HTTP error for what `jwtVerify` threw. */
  #failure(e: unknown): Error {
    if (e instanceof errors.JWTExpired) {
      const exp = typeof e.payload.exp === "number"
        ? ` at ${new Date(e.payload.exp * 1000).toISOString()}`
        : "";
      return this.#refuse("expired", `JWT expired${exp}`);
    }
    if (e instanceof errors.JWTClaimValidationFailed) {
      switch (e.claim) {
        case "aud":
          return this.#refuse(
            "audience",
            `JWT aud does not name ${this.#claims.audience}`,
          );
        case "iss":
          return this.#refuse(
            "issuer",
            `JWT iss is not ${this.#claims.issuer}`,
          );
        case "nbf":
          return this.#refuse("not_before", "JWT is not valid yet (nbf)");
      }
      return this.#refuse(
        "claims",
        e.reason === "missing"
          ? `JWT has no ${clip(e.claim)} claim`
          : `JWT claim ${clip(e.claim)} is invalid`,
      );
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) {
      return this.#refuse("signature", "JWT signature does not verify");
    }
    if (e instanceof errors.JOSEAlgNotAllowed) {
      return this.#refuse("algorithm", "JWT algorithm is not accepted");
    }
    if (
      e instanceof errors.JWKSNoMatchingKey ||
      e instanceof errors.JWKSMultipleMatchingKeys
    ) {
      return this.#refuse(
        "key",
        "No single key of the JWKS matches the JWT's kid and algorithm",
      );
    }
    if (
      e instanceof errors.JWTInvalid || e instanceof errors.JWSInvalid ||
      e instanceof errors.JOSENotSupported
    ) {
      return this.#refuse("malformed", `JWT is malformed: ${clip(e.message)}`);
    }
    // The remote JWKS: a timeout, a bad answer, or no connection at all.
    if (e instanceof errors.JOSEError || e instanceof TypeError) {
      return httpError(
        503,
        "jwks_unavailable",
        "The JWKS (api.jwt.jwks) cannot be fetched; try again later",
        { retryAfter: RETRY_AFTER_S },
      );
    }
    return e instanceof Error ? e : new Error(String(e));
  }
}

/**
 * The key set of `api.jwt.jwks`: a remote set for an `http(s)://` URL, else
 * the file's keys, read now.
 * @throws {ConfigError} when the file cannot be read or is no JWKS.
 */
function jwkSet(where: string): JWTVerifyGetKey {
  if (/^https?:\/\//i.test(where)) {
    let url: URL;
    try {
      url = new URL(where);
    } catch {
      throw new ConfigError(
        `Invalid config at api.jwt.jwks: ${clip(where)} is no URL`,
      );
    }
    return createRemoteJWKSet(url, { timeoutDuration: JWKS_TIMEOUT_MS });
  }
  try {
    return createLocalJWKSet(JSON.parse(Deno.readTextFileSync(where)));
  } catch (e) {
    throw new ConfigError(
      `Invalid config at api.jwt.jwks: cannot use JWKS file ${where}: ${
        (e as Error).message
      }`,
    );
  }
}

/**
 * The request's credential: `X-API-Key`, else a bearer `Authorization`,
 * else `?token=` where `query` allows it.
 * @throws {HTTPException} 401 for an `Authorization` of another scheme; 400
 * for `?token=` where it is not accepted.
 */
function credential(
  c: Context,
  query: boolean,
  auth: Auth,
): Credential | null {
  const header = c.req.header(API_KEY_HEADER);
  if (header) return { source: "header", value: header };
  const authz = c.req.header("Authorization");
  if (authz) {
    const m = /^Bearer +(\S+) *$/i.exec(authz);
    if (!m) {
      throw httpError(
        401,
        "unauthorized",
        "Authorization must be Bearer <token>",
        { headers: { "WWW-Authenticate": auth.challenge() } },
      );
    }
    return { source: "bearer", value: m[1] };
  }
  const token = c.req.query(TOKEN_PARAM);
  if (token === undefined) return null;
  if (!query) {
    throw httpError(
      400,
      "bad_request",
      `Query parameter ${TOKEN_PARAM} is accepted on the SSE streams only; send Authorization: Bearer`,
    );
  }
  return { source: "query", value: token };
}

/** Options for {@link identify}. */
export interface IdentifyOptions {
  /**
   * Whether a path accepts `?token=` (the SSE streams).
   * @default none does
   */
  queryToken?: (path: string) => boolean;
  /**
   * Whether a path needs a credential (the reads, with `api.protectReads`).
   * @default none does
   */
  guarded?: (path: string) => boolean;
}

/**
 * Middleware for every request: sets `c.get("principal")` from the
 * request's credential (null without one), refusing a bad credential on any
 * route, and a missing one where `options.guarded` says so.
 * @param auth the app's {@link Auth}.
 * @param options which paths take `?token=` and which need a credential.
 * @returns hono middleware.
 * @throws {HTTPException} 401 (see the module's table), 400 for a misplaced
 * `?token=`, 503 `jwks_unavailable`; rendered by the app.
 * @example
 * ```ts
 * app.use("*", identify(auth, { queryToken: (p) => p === "/api/v1/heatmap/stream" }));
 * ```
 */
export function identify(
  auth: Auth,
  options: IdentifyOptions = {},
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    const path = c.req.path;
    const principal = auth.enabled
      ? await auth.principal(
        credential(c, options.queryToken?.(path) ?? false, auth),
      )
      : null;
    c.set("principal", principal);
    if (principal === null && auth.enabled && options.guarded?.(path)) {
      throw auth.missing();
    }
    await next();
  });
}

/**
 * Middleware of the control routes: requires a principal when anything is
 * protected. It takes the one {@link identify} found, or reads the request's
 * header credential itself where identify did not run.
 * @param auth the app's {@link Auth}.
 * @returns hono middleware setting `c.get("principal")`: null only when
 * nothing is protected.
 * @throws {HTTPException} 401 `unauthorized` with `WWW-Authenticate`
 * without a credential, or a refusal of a bad one (rendered by the app).
 * @example
 * ```ts
 * new Hono().post("/", requirePrincipal(auth), (c) => c.json({ owner: c.get("principal") }));
 * ```
 */
export function requirePrincipal(
  auth: Auth,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    let principal = c.get("principal") as string | null | undefined;
    if (principal === undefined) {
      principal = await auth.principal(
        auth.enabled ? credential(c, false, auth) : null,
      );
      c.set("principal", principal);
    }
    if (principal === null && auth.enabled) throw auth.missing();
    await next();
  });
}
