/**
 * Exponential backoff with jitter, shared by actor restarts and reconnects.
 *
 * @module
 */

/** Options for {@link backoffDelay}. */
export interface BackoffOptions {
  /**
   * Delay before the first retry, ms.
   * @default 500
   */
  baseMs?: number;
  /**
   * Largest delay, ms.
   * @default 30000
   */
  maxMs?: number;
}

/**
 * Delay before retry number `attempt` (0-based): `min(max, base · 2^attempt)`
 * scaled by a random factor in [0.5, 1) ("equal jitter"), so restarts of many
 * actors do not line up.
 * @param attempt retries so far.
 * @param options base and cap.
 * @returns delay in ms.
 * @example
 * ```ts
 * setTimeout(retry, backoffDelay(2)); // 1000–2000 ms
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
): number {
  const cap = Math.min(
    options.maxMs ?? 30_000,
    (options.baseMs ?? 500) * 2 ** attempt,
  );
  return cap * (0.5 + Math.random() / 2);
}

/**
 * Resolves after `ms`, or at once when `signal` aborts.
 * @param ms delay in ms.
 * @param signal aborts the wait early.
 * @returns a promise that resolves (never rejects) when the wait is over.
 * @example
 * ```ts
 * await sleep(backoffDelay(attempt), signal);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
