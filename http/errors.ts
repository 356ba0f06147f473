/**
 * HTTP errors in the app's one JSON shape, and the rule for echoing client
 * input in them: never more than a short prefix.
 *
 * @module
 */

import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Characters of client input an error message may echo. */
export const ECHO_MAX = 40;

/**
 * Seconds a client is told (`Retry-After`) to wait before retrying what is
 * down for a moment: an actor, a book resyncing, the JWKS, the stream cap.
 */
export const RETRY_AFTER_S = 5;

/**
 * A short, single-line prefix of client input for an error message: control
 * characters become `?`, and past {@link ECHO_MAX} characters it is cut with
 * `…`.
 * @param s the client's value.
 * @returns at most `ECHO_MAX + 1` characters.
 * @example
 * ```ts
 * clip("Z".repeat(10_000)).length; // 41
 * ```
 */
export function clip(s: string): string {
  // deno-lint-ignore no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f]/g, "?");
  return flat.length > ECHO_MAX ? `${flat.slice(0, ECHO_MAX)}…` : flat;
}

/** Options for {@link httpError}. */
export interface HttpErrorOptions {
  /** Seconds for a `Retry-After` header; none when absent. */
  retryAfter?: number;
  /** More headers (`Allow`). */
  headers?: Record<string, string>;
}

/**
 * An HTTP error the app renders as `{error, code}`: `code` reaches the body
 * through the app's `onError` (as the exception's cause), the headers
 * through its `res`.
 * @param status the status.
 * @param code machine-readable code.
 * @param message what went wrong, naming the bad value (clipped).
 * @param options `Retry-After` and other headers.
 * @returns the exception to throw.
 * @example
 * ```ts
 * throw httpError(503, "too_many_streams", "Too many heatmap streams (2000)", { retryAfter: 5 });
 * ```
 */
export function httpError(
  status: ContentfulStatusCode,
  code: string,
  message: string,
  options: HttpErrorOptions = {},
): HTTPException {
  const headers: Record<string, string> = { ...options.headers };
  if (options.retryAfter !== undefined) {
    headers["Retry-After"] = String(options.retryAfter);
  }
  return new HTTPException(status, {
    message,
    cause: { code },
    res: Object.keys(headers).length
      ? new Response(null, { headers })
      : undefined,
  });
}
