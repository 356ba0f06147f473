/**
 * The worker side of the actor runtime: answers heartbeats, validates control
 * messages, routes links and requests to the actor's handlers, and stops
 * cleanly on request.
 *
 * @module
 */

import { type Endpoint, FromActor, ToActor } from "./protocol.ts";

/** What an actor implements; every handler is optional but `init`. */
export interface ActorHandlers {
  /** Called once with the actor's config (validated by the actor itself). */
  init(config: unknown, ctx: ActorContext): void | Promise<void>;
  /** A link to a peer actor was (re)established; the old port for `name` is void. */
  link?(
    name: string,
    peer: string,
    role: "in" | "out",
    port: MessagePort,
  ): void;
  /** A request; the return value (or thrown error's message) is the reply. */
  request?(method: string, params: unknown): unknown | Promise<unknown>;
  /** Flush and release everything; the worker closes afterwards. */
  stop?(): void | Promise<void>;
}

/** Messages an actor can send to its supervisor. */
export interface ActorContext {
  /** Reports the actor's health. */
  status(state: "running" | "degraded", detail: string): void;
  /** Publishes the actor's cumulative counters. */
  stats(stats: Record<string, unknown>): void;
  /** Logs through the supervisor. */
  log(level: "debug" | "info" | "warn" | "error", msg: string): void;
  /** Sends data to the supervisor on a named channel. */
  output(channel: string, data: unknown, transfer?: Transferable[]): void;
}

/**
 * Runs an actor on `endpoint` (the worker's global scope by default).
 * @param handlers the actor.
 * @param endpoint where control messages arrive.
 * @example
 * ```ts
 * runActor({ init(config, ctx) { ctx.status("running", "ok"); } });
 * ```
 */
export function runActor(
  handlers: ActorHandlers,
  endpoint: Endpoint = self as unknown as Endpoint,
): void {
  const send = (m: FromActor, transfer?: Transferable[]) =>
    endpoint.postMessage(m, transfer);
  const ctx: ActorContext = {
    status: (state, detail) => send({ type: "status", state, detail }),
    stats: (stats) => send({ type: "stats", stats }),
    log: (level, msg) => send({ type: "log", level, msg }),
    output: (channel, data, transfer) =>
      send({ type: "output", channel, data }, transfer),
  };
  endpoint.addEventListener("message", async (ev: MessageEvent) => {
    const parsed = ToActor.safeParse(ev.data);
    if (!parsed.success) {
      ctx.log("error", `Bad control message: ${parsed.error.message}`);
      return;
    }
    const m = parsed.data;
    switch (m.type) {
      case "init":
        await handlers.init(m.config, ctx);
        send({ type: "ready" });
        break;
      case "ping":
        send({ type: "pong", seq: m.seq });
        break;
      case "link":
        handlers.link?.(m.name, m.peer, m.role, m.port);
        break;
      case "request":
        try {
          const value = await handlers.request?.(m.method, m.params);
          send({ type: "response", id: m.id, ok: true, value });
        } catch (e) {
          send({
            type: "response",
            id: m.id,
            ok: false,
            error: (e as Error).message,
          });
        }
        break;
      case "stop":
        await handlers.stop?.();
        send({ type: "stopped" });
        break;
    }
  });
}
