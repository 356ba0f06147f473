/**
 * A typed client of coby's HTTP API for strategies and notebooks, built on
 * `hono/client` over the app's type ({@link AppType}): replay sessions
 * (create, read, control, stop) and heatmap subscriptions that read the SSE
 * stream, reconnect by themselves and can switch between live data and a
 * replay session.
 *
 * ```ts
 * const coby = cobyClient("http://127.0.0.1:8080", { apiKey: Deno.env.get("COBY_API_KEY") });
 * const sub = coby.subscribe({ symbol: "BTC-USDT" }, { column: (c) => draw(c) });
 * const p = await coby.replay.create({ source: "files", files: ["captures/BINANCE.0"], speed: 10 });
 * sub.switchTo({ session: p.id }); // same symbol, now the replay
 * await coby.replay.control(p.id, { action: "pause" });
 * ```
 *
 * A subscription reconnects with backoff (jittered, doubling from
 * `backoff.baseMs` to `backoff.maxMs`, at least the server's `Retry-After`)
 * when the connection drops or the server answers 5xx or 429; it does not
 * after the session's `end`, after the session was stopped, nor after a
 * refusal (4xx: a bad symbol, an unknown session; a session that is gone
 * when reconnecting counts as stopped). Columns it delivered
 * already are not delivered again after a reconnect (the server sends its
 * kept history again): columns at or before the last one's `ts` are skipped
 * until a `reset`. When a session was seeked back while the connection was
 * down (its position is then behind the last column), the subscription
 * calls `reset` with the first column it receives again.
 *
 * @module
 */

import { type ClientResponse, hc } from "hono/client";
import type { SuccessStatusCode } from "hono/utils/http-status";
import type { ColumnPayload } from "../actors/system/hub.ts";
import type { ReplayProgress } from "../actors/market/requests.ts";
import {
  backoffDelay,
  type BackoffOptions,
  sleep,
} from "../runtime/backoff.ts";
import type { AppType } from "./app.ts";
import { API_KEY_HEADER } from "./auth.ts";
import type { ReplayChangeBody, ReplayCreateBody } from "./routes/replay.ts";

export type { ReplayChangeBody, ReplayCreateBody, ReplayProgress };

/**
 * An error answer of the API (`{error, code}` with a status), or a request
 * that never got one.
 *
 * @example
 * ```ts
 * try {
 *   await coby.replay.get("r99");
 * } catch (e) {
 *   if (e instanceof CobyError && e.code === "not_found") console.log("gone");
 * }
 * ```
 */
export class CobyError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The API's machine-readable code (`not_found`, `unauthorized`, …). */
  readonly code: string;
  /** The `Retry-After` header, seconds; null without one. */
  readonly retryAfter: number | null;

  /**
   * Makes the error.
   * @param status HTTP status.
   * @param code the API's code.
   * @param message the API's message.
   * @param retryAfter seconds from `Retry-After`, or null.
   */
  constructor(
    status: number,
    code: string,
    message: string,
    retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "CobyError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Options for {@link cobyClient}. */
export interface ClientOptions {
  /** Sent as `X-API-Key` with every request (needed for replay control when the server has keys). */
  apiKey?: string;
  /**
   * The fetch to use.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
}

/** What a subscription follows. */
export interface StreamTarget {
  /** Consolidation key, e.g. `BTC-USDT`. */
  symbol: string;
  /** A replay session's id; absent: live data. */
  session?: string;
  /** Exchanges to include; absent: every one. */
  exchanges?: string[];
}

/**
 * Callbacks of a subscription. A handler that throws ends the subscription
 * and rejects its `done`.
 */
export interface StreamHandlers {
  /** Each column, in `ts` order (after a `reset`, from its `at`). */
  column(c: ColumnPayload): void;
  /** A session's progress (on opening, every 250 ms or so, on each state change). */
  progress?(p: ReplayProgress): void;
  /** A session was seeked (or looped): drop the columns from `at` (ms) on; they come again. */
  reset?(r: { at: number }): void;
  /** A session reached its end: once per pass (again only after a `reset`). */
  end?(p: ReplayProgress): void;
  /** The stream fell behind: `skipped` columns were dropped by the server. */
  gap?(g: { skipped: number }): void;
  /** The server refused the stream (4xx: unknown session, bad symbol); the subscription ends. */
  error?(e: CobyError): void;
}

/** Options for {@link CobyClient.subscribe}. */
export interface SubscribeOptions {
  /** Ends the subscription. */
  signal?: AbortSignal;
  /**
   * Reconnect delays: doubling from `baseMs` to `maxMs`, jittered.
   * @default {baseMs: 250, maxMs: 10000}
   */
  backoff?: BackoffOptions;
}

/**
 * Why a subscription ended: `aborted` (its signal, or `close()`), `stopped`
 * (its session was stopped), `ended` (the connection closed after the
 * session's `end`), `refused` (a 4xx answer, passed to `error`).
 */
export type SubscriptionEnd = "aborted" | "stopped" | "ended" | "refused";

/** A running subscription. */
export interface Subscription {
  /** What it follows now. */
  readonly target: Readonly<StreamTarget>;
  /**
   * Follows something else from now on, on a new connection (no backoff):
   * the fields given replace the current ones (`{session: id}` switches to
   * a replay, `{session: undefined}` back to live data).
   * @param change fields of the new target.
   * @throws {Error} when the subscription has ended.
   */
  switchTo(change: Partial<StreamTarget>): void;
  /** Ends it (`done` resolves `aborted`). */
  close(): void;
  /** Resolves once it ended, with why. */
  readonly done: Promise<SubscriptionEnd>;
}

/** The client's replay calls. */
export interface ReplayClient {
  /**
   * Creates a session (`POST /api/v1/replay`).
   * @param spec what to play.
   * @returns its first progress; `id` names it.
   * @throws {CobyError} 400, 401, 429 `too_many_sessions` (see `retryAfter`), 503.
   */
  create(spec: ReplayCreateBody): Promise<ReplayProgress>;
  /**
   * A session's progress.
   * @param id session id.
   * @throws {CobyError} 404 `not_found`.
   */
  get(id: string): Promise<ReplayProgress>;
  /** Every session's latest progress. */
  list(): Promise<ReplayProgress[]>;
  /**
   * Changes a session: pause/resume, seek, speed, loop.
   * @param id session id.
   * @param change at least one field.
   * @returns its progress after the change.
   * @throws {CobyError} 400, 401, 403 `forbidden`, 404.
   */
  control(id: string, change: ReplayChangeBody): Promise<ReplayProgress>;
  /**
   * Stops a session; its streams end.
   * @param id session id.
   * @returns its last progress, state `stopped`.
   * @throws {CobyError} 401, 403, 404.
   */
  stop(id: string): Promise<ReplayProgress>;
}

/** What {@link cobyClient} returns. */
export interface CobyClient {
  /** Replay sessions. */
  replay: ReplayClient;
  /**
   * Subscribes to a symbol's heatmap columns, live or of a replay session.
   * @param target what to follow.
   * @param handlers callbacks.
   * @param options signal and backoff.
   * @returns the subscription.
   */
  subscribe(
    target: StreamTarget,
    handlers: StreamHandlers,
    options?: SubscribeOptions,
  ): Subscription;
}

/**
 * The body of a route's successful answers: its described responses hold
 * the `{error, code}` ones too, which {@link json} throws instead.
 */
export type Success<R> = R extends ClientResponse<infer T, infer S, infer _F>
  ? S extends SuccessStatusCode ? T : never
  : never;

/** The JSON of a successful answer, or a {@link CobyError}. */
async function json<R extends ClientResponse<unknown, number>>(
  res: R,
): Promise<Success<R>> {
  if (res.ok) return await res.json() as Success<R>;
  throw await errorOf(res);
}

/** The error an error answer carries. */
async function errorOf(
  res: Pick<Response, "status" | "statusText" | "headers" | "text">,
): Promise<CobyError> {
  const text = await res.text().catch(() => "");
  let body: { error?: unknown; code?: unknown } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Not the API's shape (a proxy's page): the status says it.
  }
  const ra = Number(res.headers.get("Retry-After"));
  return new CobyError(
    res.status,
    typeof body.code === "string" ? body.code : `http_${res.status}`,
    typeof body.error === "string"
      ? body.error
      : `HTTP ${res.status} ${res.statusText}`,
    res.headers.has("Retry-After") && Number.isFinite(ra) ? ra : null,
  );
}

/** How one connection of a subscription ended. */
type Outcome =
  | { kind: "stopped" | "ended" | "aborted" }
  | { kind: "refused"; error: CobyError }
  | { kind: "retry"; retryAfterMs: number; fresh: boolean };

/**
 * Makes a client of the coby server at `baseUrl`.
 * @param baseUrl e.g. `http://127.0.0.1:8080`.
 * @param options API key and fetch.
 * @returns replay calls and `subscribe`.
 * @example
 * ```ts
 * const coby = cobyClient("http://127.0.0.1:8080", { apiKey: "my-32-char-key…" });
 * const p = await coby.replay.create({ source: "store", exchanges: ["binance"], symbols: ["BTC-USDT"], from: "2026-01-05T00:00:00Z", to: "2026-01-05T01:00:00Z", speed: "max" });
 * const ctl = new AbortController();
 * coby.subscribe({ symbol: "BTC-USDT", session: p.id }, {
 *   column: (c) => console.log(c.ts, c.mid),
 *   end: () => ctl.abort(),
 * }, { signal: ctl.signal });
 * ```
 */
export function cobyClient(
  baseUrl: string,
  options: ClientOptions = {},
): CobyClient {
  const fetcher = options.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = options.apiKey
    ? { [API_KEY_HEADER]: options.apiKey }
    : {};
  const api = hc<AppType>(baseUrl, { fetch: fetcher, headers }).api.v1;
  const replay: ReplayClient = {
    create: async (spec) => json(await api.replay.$post({ json: spec })),
    get: async (id) => json(await api.replay[":id"].$get({ param: { id } })),
    list: async () => json(await api.replay.$get()),
    control: async (id, change) =>
      json(await api.replay[":id"].$patch({ param: { id }, json: change })),
    stop: async (id) =>
      json(await api.replay[":id"].$delete({ param: { id } })),
  };
  const streamUrl = (t: StreamTarget): URL =>
    api.heatmap.stream.$url({
      query: {
        symbol: t.symbol,
        ...(t.session !== undefined ? { session: t.session } : {}),
        ...(t.exchanges ? { exchanges: t.exchanges.join(",") } : {}),
      },
    });
  return {
    replay,
    subscribe: (target, handlers, opts = {}) =>
      subscribe(target, handlers, {
        ...opts,
        fetch: fetcher,
        headers,
        url: streamUrl,
      }),
  };
}

/** {@link SubscribeOptions} with the client's transport. */
interface Transport extends SubscribeOptions {
  fetch: typeof fetch;
  headers: Record<string, string>;
  url(t: StreamTarget): URL;
}

/** Runs one subscription; see {@link CobyClient.subscribe}. */
function subscribe(
  first: StreamTarget,
  handlers: StreamHandlers,
  opts: Transport,
): Subscription {
  const backoff = { baseMs: 250, maxMs: 10_000, ...opts.backoff };
  let target: StreamTarget = { ...first };
  let finished = false;
  /** Aborted by a switch, `close()` or the caller's signal: ends the connection or the wait. */
  let turn = new AbortController();
  let switched = false;
  let closed = false;
  // Per target: the last column delivered and whether its end was told.
  let lastTs = -Infinity;
  let endSeen = false;
  const close = () => {
    closed = true;
    turn.abort();
  };
  opts.signal?.addEventListener("abort", close, { once: true });
  if (opts.signal?.aborted) closed = true;

  /** One connection: reads events until it ends, and says how. */
  const connect = async (
    signal: AbortSignal,
    reconnect: boolean,
  ): Promise<Outcome> => {
    let fresh = false;
    let res: Response;
    try {
      res = await opts.fetch(opts.url(target), {
        headers: { ...opts.headers, Accept: "text/event-stream" },
        signal,
      });
    } catch {
      return signal.aborted
        ? { kind: "aborted" }
        : { kind: "retry", retryAfterMs: 0, fresh };
    }
    if (!res.ok) {
      const error = await errorOf(res);
      if (res.status >= 500 || res.status === 429) {
        return {
          kind: "retry",
          retryAfterMs: (error.retryAfter ?? 0) * 1000,
          fresh,
        };
      }
      // The session we followed is gone: it was stopped while we were away.
      if (reconnect && target.session !== undefined && res.status === 404) {
        return { kind: "stopped" };
      }
      return { kind: "refused", error };
    }
    // After a reconnect to a session: is its position behind what we have?
    let checkSeek = reconnect && target.session !== undefined;
    let resync = false;
    let stopped = false;
    const dispatch = (name: string, data: string) => {
      fresh = true;
      switch (name) {
        case "column": {
          const c = JSON.parse(data) as ColumnPayload;
          if (resync) {
            resync = false;
            lastTs = -Infinity;
            handlers.reset?.({ at: c.ts });
          }
          if (c.ts <= lastTs) return;
          lastTs = c.ts;
          handlers.column(c);
          return;
        }
        case "progress": {
          const p = JSON.parse(data) as ReplayProgress;
          if (checkSeek) {
            checkSeek = false;
            resync = p.position < lastTs;
            if (resync) endSeen = false;
          }
          if (p.state === "stopped") stopped = true;
          handlers.progress?.(p);
          return;
        }
        case "reset":
          lastTs = -Infinity;
          endSeen = false;
          handlers.reset?.(JSON.parse(data));
          return;
        case "end":
          if (endSeen) return;
          endSeen = true;
          handlers.end?.(JSON.parse(data));
          return;
        case "gap":
          handlers.gap?.(JSON.parse(data));
          return;
      }
    };
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    while (true) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch {
        // Aborted (a switch, close), or the connection broke mid-stream.
        if (signal.aborted) return { kind: "aborted" };
        return { kind: "retry", retryAfterMs: 0, fresh };
      }
      if (chunk.done) break;
      buf += chunk.value;
      let end: number;
      while ((end = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end).replace(/^\r?\n\r?\n/, "");
        let name = "message";
        const data: string[] = [];
        for (const line of block.split(/\r?\n/)) {
          const colon = line.indexOf(":");
          if (colon === 0) continue; // an SSE comment
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0
            ? ""
            : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") name = value;
          else if (field === "data") data.push(value);
        }
        dispatch(name, data.join("\n"));
      }
    }
    if (stopped) return { kind: "stopped" };
    if (endSeen) return { kind: "ended" };
    return { kind: "retry", retryAfterMs: 0, fresh };
  };

  const run = async (): Promise<SubscriptionEnd> => {
    let attempt = 0;
    let reconnect = false;
    while (!closed) {
      const signal = turn.signal;
      const out = await connect(signal, reconnect);
      if (closed) return "aborted";
      if (switched) {
        switched = false;
        turn = new AbortController();
        attempt = 0;
        reconnect = false;
        continue;
      }
      switch (out.kind) {
        case "aborted":
          return "aborted";
        case "stopped":
        case "ended":
          return out.kind;
        case "refused":
          handlers.error?.(out.error);
          return "refused";
      }
      if (out.fresh) attempt = 0;
      const delay = Math.max(
        backoffDelay(attempt++, backoff),
        out.retryAfterMs,
      );
      await sleep(delay, turn.signal);
      if (switched) {
        switched = false;
        turn = new AbortController();
        attempt = 0;
        reconnect = false;
        continue;
      }
      reconnect = true;
    }
    return "aborted";
  };

  const done = run().finally(() => {
    finished = true;
    opts.signal?.removeEventListener("abort", close);
  });
  return {
    get target() {
      return target;
    },
    switchTo: (change) => {
      if (finished || closed) throw new Error("Subscription has ended");
      target = { ...target, ...change };
      lastTs = -Infinity;
      endSeen = false;
      switched = true;
      turn.abort();
    },
    close,
    done,
  };
}
