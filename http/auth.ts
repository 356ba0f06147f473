/**
 * API-key protection of the control endpoints (creating, changing and
 * stopping replay sessions). With no keys configured (`api.keys`,
 * `COBY_API_KEYS`) every request passes and carries no key; with keys, a
 * request needs header `X-API-Key` holding one of them, else 401
 * `unauthorized` with `WWW-Authenticate: ApiKey`. Keys are compared as
 * SHA-256 digests in constant time, so the answer's timing tells nothing
 * about how much of a guess was right.
 *
 * @module
 */

import { createMiddleware } from "hono/factory";
import type { MiddlewareHandler } from "hono";
import { httpError } from "./errors.ts";

/** The request header that carries the API key. */
export const API_KEY_HEADER = "X-API-Key";

/** What {@link apiKeyAuth} leaves on the context for the handlers. */
export interface AuthVariables {
  /** The request's valid API key; null when no keys are configured. */
  apiKey: string | null;
}

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

/**
 * Middleware requiring one of `keys` in the `X-API-Key` header. It sets
 * `c.get("apiKey")`: the matching key, or null when `keys` is empty (no
 * protection; every request passes).
 * @param keys the accepted keys (`api.keys`); empty: no protection.
 * @returns hono middleware.
 * @throws {HTTPException} 401 `unauthorized` with `WWW-Authenticate: ApiKey`
 * when the header is missing or holds no accepted key (rendered by the app).
 * @example
 * ```ts
 * new Hono().post("/", apiKeyAuth(["s3cret-key"]), (c) => c.json({ owner: c.get("apiKey") }));
 * ```
 */
export function apiKeyAuth(
  keys: readonly string[],
): MiddlewareHandler<{ Variables: AuthVariables }> {
  const digests = Promise.all(keys.map(digest));
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    if (keys.length === 0) {
      c.set("apiKey", null);
      return await next();
    }
    const given = c.req.header(API_KEY_HEADER);
    const refuse = (why: string) =>
      httpError(401, "unauthorized", why, {
        headers: { "WWW-Authenticate": "ApiKey" },
      });
    if (!given) throw refuse(`Header ${API_KEY_HEADER} is required`);
    const d = await digest(given);
    // Every key is compared, whichever matches, so timing names none.
    let match = -1;
    const all = await digests;
    for (let i = 0; i < all.length; i++) {
      if (sameDigest(d, all[i]) && match < 0) match = i;
    }
    if (match < 0) throw refuse(`Header ${API_KEY_HEADER} holds no valid key`);
    c.set("apiKey", keys[match]);
    await next();
  });
}
