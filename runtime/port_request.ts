/**
 * Typed requests between two actors over a linked `MessagePort`: one side
 * serves a {@link RequestMap}'s handlers on its end ({@link servePort}), the
 * other calls them ({@link portRequest}) and awaits the reply. As with the
 * supervisor's requests (`protocol.ts`), requests carry an id, errors
 * travel as values (a `code` and a message) and are rebuilt as
 * `RequestError`s at the caller; the `ArrayBuffer`s of a reply are
 * transferred, not copied.
 *
 * ```ts
 * // the database owner, on the port of its `history` link
 * servePort<HistoryRequests>(port, historyHandlers(() => db));
 * // the reader, on the other end
 * const page = await portRequest<HistoryRequests, "replayEvents">(port, "replayEvents", params);
 * ```
 *
 * @module
 */

import {
  errorValue,
  RequestError,
  type RequestMap,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
} from "./protocol.ts";
import type { RequestHandlers } from "./actor.ts";

/** A request on a port. */
interface PortCall {
  readonly type: "port_request";
  readonly id: number;
  readonly method: string;
  readonly params: unknown;
}

/** The reply to a {@link PortCall}: its value, or its error as a value. */
type PortReply =
  | {
    readonly type: "port_reply";
    readonly id: number;
    readonly ok: true;
    readonly value: unknown;
  }
  | {
    readonly type: "port_reply";
    readonly id: number;
    readonly ok: false;
    readonly code: string;
    readonly error: string;
  };

/** The calling side of one port: its next id and the requests awaiting. */
interface Caller {
  next: number;
  readonly pending: Map<
    number,
    { resolve(v: unknown): void; reject(e: unknown): void }
  >;
}

const callers = new WeakMap<MessagePort, Caller>();

/**
 * Closes this side of a link and rejects its requests still awaiting a
 * reply (the peer restarted and the link was replaced: they would never be
 * answered) with a `RequestError` of code `link_closed`.
 * @param port this side's end of the link.
 * @param why the reason, in the errors' messages.
 * @example
 * ```ts
 * link(name, _peer, _role, port) { closePort(ports.get(name), "the writer restarted"); ports.set(name, port); }
 * ```
 */
export function closePort(port: MessagePort | undefined, why: string): void {
  if (!port) return;
  port.close();
  const c = callers.get(port);
  if (!c) return;
  callers.delete(port);
  for (const p of c.pending.values()) {
    p.reject(new RequestError("link_closed", `Link closed: ${why}`));
  }
  c.pending.clear();
}

/**
 * Sends a request over `port` to the side that serves it and awaits the
 * reply. Requests may overlap; replies are matched by id. The port is
 * started (its `message` listener added) on first use.
 * @param port this side's end of the link.
 * @param method the method.
 * @param params its params (structured-cloned; nothing is transferred).
 * @returns the result, with its `ArrayBuffer`s transferred to this side.
 * @throws {RequestError} the handler's error with its code, `internal` for
 * any other error it threw, `unknown_method` for a method not served.
 * @example
 * ```ts
 * const range = await portRequest<HistoryRequests, "replayRange">(port, "replayRange", { exchanges: ["okx"], symbols: ["BTC-USDT"] });
 * ```
 */
export function portRequest<
  M extends RequestMap,
  K extends RequestMethod<M>,
>(
  port: MessagePort,
  method: K,
  params: RequestParams<M, K>,
): Promise<RequestResult<M, K>> {
  let c = callers.get(port);
  if (!c) {
    const caller: Caller = { next: 1, pending: new Map() };
    c = caller;
    callers.set(port, caller);
    port.addEventListener("message", (ev: MessageEvent) => {
      const m = ev.data as PortReply;
      if (m?.type !== "port_reply") return;
      const p = caller.pending.get(m.id);
      if (!p) return;
      caller.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new RequestError(m.code, m.error));
    });
    port.start();
  }
  const id = c.next++;
  const { promise, resolve, reject } = Promise.withResolvers<unknown>();
  c.pending.set(id, { resolve, reject });
  const call: PortCall = { type: "port_request", id, method, params };
  port.postMessage(call);
  return promise as Promise<RequestResult<M, K>>;
}

/**
 * Serves request map `M`'s handlers on `port`: each request is answered
 * with its handler's result (its `ArrayBuffer`s transferred) or its error
 * as a value, in the order the handlers finish.
 * @param port this side's end of the link.
 * @param handlers one handler per method (as `runActor` takes them).
 * @returns a function that stops serving (replies under way still go).
 * @throws nothing; a handler's error goes back to the caller.
 * @example
 * ```ts
 * const stop = servePort<HistoryRequests>(port, historyHandlers(() => db));
 * ```
 */
export function servePort<M extends RequestMap>(
  port: MessagePort,
  handlers: RequestHandlers<M>,
): () => void {
  const typed = handlers as unknown as Record<
    string,
    (params: unknown) => unknown
  >;
  const onMessage = async (ev: MessageEvent) => {
    const m = ev.data as PortCall;
    if (m?.type !== "port_request") return;
    let reply: PortReply;
    let transfer: Transferable[] = [];
    try {
      if (!Object.hasOwn(typed, m.method)) {
        throw new RequestError(
          "unknown_method",
          `Unknown request method ${JSON.stringify(m.method)}`,
        );
      }
      const value = await typed[m.method](m.params);
      transfer = buffersOf(value);
      reply = { type: "port_reply", id: m.id, ok: true, value };
    } catch (e) {
      reply = { type: "port_reply", id: m.id, ok: false, ...errorValue(e) };
    }
    port.postMessage(reply, transfer);
  };
  port.addEventListener("message", onMessage);
  port.start();
  return () => port.removeEventListener("message", onMessage);
}

/**
 * The distinct `ArrayBuffer`s a value holds (itself, typed arrays' buffers,
 * in object fields and array elements at any depth), for transfer.
 */
function buffersOf(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const walk = (v: unknown) => {
    if (typeof v !== "object" || v === null) return;
    if (v instanceof ArrayBuffer) found.add(v);
    else if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer) found.add(v.buffer);
    } else if (Array.isArray(v)) {
      for (const x of v) if (typeof x === "object") walk(x);
    } else for (const x of Object.values(v)) walk(x);
  };
  walk(value);
  return [...found];
}
