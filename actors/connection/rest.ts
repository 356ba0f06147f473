/**
 * REST requests of a connection actor: instrument metadata, the endpoint
 * handshake and book snapshots, with the venue's origin replaceable (the
 * exchange simulator, a proxy).
 *
 * @module
 */

/**
 * Replaces the origin of a URL.
 * @param url an absolute URL.
 * @param origin the new origin (`http://127.0.0.1:9000`); none keeps `url`.
 * @returns `url` with its scheme, host and port from `origin`.
 * @example
 * ```ts
 * rewrite("https://api.binance.com/api/v3/depth?symbol=BTCUSDT", "http://127.0.0.1:9000");
 * // "http://127.0.0.1:9000/api/v3/depth?symbol=BTCUSDT"
 * ```
 */
export function rewrite(url: string, origin: string | undefined): string {
  if (!origin) return url;
  const u = new URL(url);
  return origin.replace(/\/$/, "") + u.pathname + u.search;
}

/**
 * The message of an error and of its cause (`fetch` puts the socket error
 * in `cause`).
 * @param e anything thrown.
 * @returns e.g. `error sending request: Connection refused`.
 */
export function errorText(e: unknown): string {
  const err = e as Error;
  const cause = (err?.cause as Error | undefined)?.message;
  return cause ? `${err.message}: ${cause}` : String(err?.message ?? e);
}

/** Options for {@link restRequest}. */
export interface RestOptions {
  /** Replaces the URL's origin. */
  origin?: string;
  /** @default "GET" */
  method?: "GET" | "POST";
  /** A JSON body (sent with `content-type: application/json`). */
  body?: string;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/**
 * Makes a REST request and returns the body.
 * @param url the venue's URL.
 * @param options origin override, method, JSON body and abort signal.
 * @returns the response body.
 * @throws {Error} `GET <url>: HTTP <status> <body start>` on a non-2xx
 * status; the transport's error when the request fails.
 * @example
 * ```ts
 * const body = await restRequest("https://api.binance.com/api/v3/exchangeInfo");
 * ```
 */
export async function restRequest(
  url: string,
  options: RestOptions = {},
): Promise<string> {
  const method = options.method ?? "GET";
  const res = await fetch(rewrite(url, options.origin), {
    method,
    body: options.body,
    headers: options.body === undefined
      ? undefined
      : { "content-type": "application/json" },
    signal: options.signal,
  });
  const body = await res.text();
  if (!res.ok) {
    throw new Error(
      `${method} ${url}: HTTP ${res.status} ${body.slice(0, 120)}`,
    );
  }
  return body;
}
