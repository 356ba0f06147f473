/**
 * The worker side of the actor runtime: answers heartbeats, validates control
 * messages, routes links and requests to the actor's handlers, reports a
 * failed `init` as a value, and stops cleanly on request.
 *
 * @module
 */

import {
  type Endpoint,
  errorValue,
  FromActor,
  RequestError,
  type RequestMap,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
  ToActor,
  type UntypedRequests,
} from "./protocol.ts";
import type { LogFields, LogLevel } from "./log.ts";
import { LinkMeter } from "./link_meter.ts";

/**
 * One handler per method of request map `M`. A handler returns the result (or
 * a promise of it); to answer with an error it throws a
 * {@link RequestError} whose `code` the caller gets back (any other thrown
 * error arrives with code `internal`).
 */
export type RequestHandlers<M extends RequestMap> = {
  readonly [K in RequestMethod<M>]: (
    params: RequestParams<M, K>,
  ) => RequestResult<M, K> | Promise<RequestResult<M, K>>;
};

/**
 * What an actor implements; every handler is optional but `init`.
 * `M` is the actor's request map; its `requests` must handle every method.
 */
export interface ActorHandlers<M extends RequestMap = UntypedRequests> {
  /**
   * Called once with the actor's config (validated by the actor itself).
   * Throwing (or rejecting) fails the actor's start: the supervisor's
   * `start()` rejects with this error's message.
   */
  init(config: unknown, ctx: ActorContext): void | Promise<void>;
  /** A link to a peer actor was (re)established; the old port for `name` is void. */
  link?(
    name: string,
    peer: string,
    role: "in" | "out",
    port: MessagePort,
  ): void;
  /** The typed request handlers, one per method of `M`. */
  requests?: RequestHandlers<M>;
  /** Flush and release everything; the worker closes afterwards. */
  stop?(): void | Promise<void>;
}

/** Messages an actor can send to its supervisor. */
export interface ActorContext {
  /**
   * Reports the actor's health.
   * @param state `running` or `degraded`.
   * @param detail why.
   */
  status(state: "running" | "degraded", detail: string): void;
  /**
   * Publishes the actor's cumulative counters.
   * @param stats the stats; numeric `counters` are summed across restarts.
   */
  stats(stats: Record<string, unknown>): void;
  /**
   * Logs through the supervisor, which adds the `actor` field and writes the
   * line with its logger (`runtime/log.ts`). Wrap it in `recordLogger` to
   * bind fields.
   * @param level severity.
   * @param msg the line.
   * @param fields its fields (`cid`, `exchange`, `symbol`, …); undefined
   * ones are left out.
   */
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  /**
   * Sends data to the supervisor on a named channel.
   * @param channel channel name.
   * @param data the data.
   * @param transfer objects whose ownership moves with it.
   */
  output(channel: string, data: unknown, transfer?: Transferable[]): void;
  /**
   * Ends the actor normally: the supervisor terminates its worker and, by the
   * child's restart type, restarts it (`permanent`) or leaves it `exited`
   * (`transient`, `temporary`). Release resources before calling it.
   * @param reason why, for the log.
   */
  exit(reason?: string): void;
}

/**
 * Runs an actor on `endpoint` (the worker's global scope by default).
 * Requests arriving before `init` has finished wait for it.
 * @param handlers the actor.
 * @param endpoint where control messages arrive.
 * @example A typed actor
 * ```ts
 * type EchoRequests = {
 *   echo: { params: { text: string }; result: { text: string } };
 * };
 * runActor<EchoRequests>({
 *   init(config, ctx) {
 *     ctx.status("running", "ok");
 *   },
 *   requests: {
 *     echo({ text }) {
 *       if (!text) throw new RequestError("empty", `Text ${JSON.stringify(text)} is empty`);
 *       return { text };
 *     },
 *   },
 * });
 * ```
 */
export function runActor<M extends RequestMap = UntypedRequests>(
  handlers: ActorHandlers<M>,
  endpoint: Endpoint = self as unknown as Endpoint,
): void {
  const send = (m: FromActor, transfer?: Transferable[]) =>
    endpoint.postMessage(m, transfer);
  // Every link's message count travels with the stats (`links`), and again
  // with each ping, so the supervisor sees queue depths once a second.
  const meter = new LinkMeter();
  let lastStats: Record<string, unknown> = {};
  const sendStats = () =>
    send({
      type: "stats",
      stats: meter.size ? { ...lastStats, links: meter.snapshot() } : lastStats,
    });
  const ctx: ActorContext = {
    status: (state, detail) => send({ type: "status", state, detail }),
    stats: (stats) => {
      lastStats = stats;
      sendStats();
    },
    log: (level, msg, fields) =>
      send({ type: "log", level, msg, fields: defined(fields) }),
    output: (channel, data, transfer) =>
      send({ type: "output", channel, data }, transfer),
    exit: (reason = "normal") => send({ type: "exit", reason }),
  };
  const initialised = Promise.withResolvers<void>();
  const typed = handlers.requests as
    | Record<string, (params: unknown) => unknown>
    | undefined;

  async function answer(method: string, params: unknown): Promise<unknown> {
    await initialised.promise;
    if (typed && Object.hasOwn(typed, method)) {
      return await typed[method](params);
    }
    throw new RequestError(
      "unknown_method",
      `Unknown request method ${JSON.stringify(method)}`,
    );
  }

  endpoint.addEventListener("message", async (ev: MessageEvent) => {
    const parsed = ToActor.safeParse(ev.data);
    if (!parsed.success) {
      ctx.log("error", `Bad control message: ${parsed.error.message}`);
      return;
    }
    const m = parsed.data;
    switch (m.type) {
      case "init":
        try {
          await handlers.init(m.config, ctx);
        } catch (e) {
          send({ type: "init_failed", ...errorValue(e) });
          return;
        }
        initialised.resolve();
        send({ type: "ready" });
        break;
      case "ping":
        send({ type: "pong", seq: m.seq });
        if (meter.size) sendStats();
        break;
      case "link":
        meter.watch(m.name, m.peer, m.role, m.port);
        try {
          handlers.link?.(m.name, m.peer, m.role, m.port);
        } catch (e) {
          ctx.log("error", `Link ${m.name} failed: ${errorValue(e).error}`);
        }
        break;
      case "request":
        try {
          const value = await answer(m.method, m.params);
          send({ type: "response", id: m.id, ok: true, value });
        } catch (e) {
          send({ type: "response", id: m.id, ok: false, ...errorValue(e) });
        }
        break;
      case "stop":
        try {
          await handlers.stop?.();
        } catch (e) {
          ctx.log("error", `Stop failed: ${errorValue(e).error}`);
        }
        send({ type: "stopped" });
        break;
    }
  });
  // A MessagePort delivers to `addEventListener` listeners only once started.
  (endpoint as { start?: () => void }).start?.();
}

/** `fields` without its undefined values (they do not clone as log fields). */
function defined(
  fields: LogFields | undefined,
): Record<string, string | number | boolean | null> | undefined {
  if (!fields) return undefined;
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}
