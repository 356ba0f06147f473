/**
 * The control messages between the supervisor and each actor, zod-checked at
 * both ends, and the typed request vocabulary both ends share. Data between
 * actors moves over linked MessageChannels as columnar batches (`EventBatch`
 * in `batch.ts`, `ColumnBatch` in `heatmap.ts`).
 *
 * Requests carry an `id`; the reply is a `response` with the same id, and
 * errors travel as values (`ok: false` with a `code` and a message), never as
 * thrown exceptions across the boundary. Both ends agree on a
 * {@link RequestMap} (method → params and result), so the supervisor's
 * `request()` and the actor's handlers are checked against one type.
 *
 * @module
 */

import { z } from "zod";

/**
 * Lifecycle state of an actor as the supervisor sees it. `exited` is a
 * transient or temporary child that ended normally (`ctx.exit()`) and is not
 * restarted; `stopped` is one that is not running for any other reason (the
 * supervisor stopped, its circuit is open, or a temporary child failed).
 */
export type ActorState =
  | "starting"
  | "running"
  | "degraded"
  | "restarting"
  | "exited"
  | "stopped";

/**
 * When a child is restarted, as in OTP: `permanent` always, `transient` only
 * after it failed (crash, failed init, missed heartbeats, kill) and not after
 * a normal exit, `temporary` never.
 */
export type RestartType = "permanent" | "transient" | "temporary";

/** One request method's types: what the caller sends and what it gets back. */
export interface RequestSpec {
  /** The request's parameters (structured-cloneable). */
  params: unknown;
  /** The reply's value (structured-cloneable). */
  result: unknown;
}

/**
 * A request map: method name → {@link RequestSpec}. Declare one with `type`
 * (an `interface` has no index signature and does not satisfy the
 * constraint).
 *
 * @example Declaring a map
 * ```ts
 * type EchoRequests = {
 *   echo: { params: { text: string }; result: { text: string } };
 *   count: { params: Record<string, never>; result: number };
 * };
 * ```
 */
export type RequestMap = { readonly [method: string]: RequestSpec };

/** The map of an actor whose requests are not typed: any method, `unknown` in and out. */
export type UntypedRequests = { readonly [method: string]: RequestSpec };

/** A method name of request map `M`. */
export type RequestMethod<M extends RequestMap> = keyof M & string;

/** The params of method `K` of request map `M`. */
export type RequestParams<
  M extends RequestMap,
  K extends RequestMethod<M>,
> = M[K]["params"];

/** The result of method `K` of request map `M`. */
export type RequestResult<
  M extends RequestMap,
  K extends RequestMethod<M>,
> = M[K]["result"];

/**
 * Error codes the runtime itself produces; actors add their own (e.g.
 * `not_followed`). `internal` is any error a handler throws that is not a
 * {@link RequestError}.
 */
export type RuntimeErrorCode =
  | "unknown_actor"
  | "unknown_method"
  | "actor_down"
  | "internal";

/**
 * An error that travels as a value: a machine-readable `code` and a message.
 * A request handler throws one; the supervisor rebuilds it (same class, code
 * and message) on the caller's side.
 *
 * @example Throwing from a handler and catching at the caller
 * ```ts
 * // in the actor
 * throw new RequestError("not_followed", `Symbol ${symbol} is not followed on binance`);
 * // at the caller
 * try {
 *   await sup.request("conn:binance", "book", { symbol: "BTCUSDT" });
 * } catch (e) {
 *   if (e instanceof RequestError && e.code === "not_followed") return notFound();
 *   throw e;
 * }
 * ```
 */
export class RequestError<C extends string = string> extends Error {
  /** The error's code, e.g. `not_followed` or `actor_down`. */
  readonly code: C;

  /**
   * Creates a request error.
   * @param code machine-readable code (snake_case).
   * @param message human-readable message, naming the bad value.
   * @param options the error's cause.
   */
  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RequestError";
    this.code = code;
  }
}

/**
 * The actor a request went to is not running: it crashed, missed its
 * heartbeats or was killed while the request was pending, or it was not up
 * when the request was made (starting, restarting, circuit open, stopped).
 *
 * @example
 * ```ts
 * try {
 *   await sup.request("conn:binance", "book", { symbol: "BTCUSDT" });
 * } catch (e) {
 *   if (e instanceof ActorDownError) console.log(`${e.actorId} is down: ${e.reason}`);
 * }
 * ```
 */
export class ActorDownError extends RequestError<"actor_down"> {
  /** The actor's id. */
  readonly actorId: string;
  /** Why it is down, e.g. `Uncaught: Error: boom` or `restarting`. */
  readonly reason: string;

  /**
   * Creates the error for a request to an actor that is down.
   * @param actorId the actor's id.
   * @param reason why it is down.
   */
  constructor(actorId: string, reason: string) {
    super("actor_down", `Actor ${actorId} is down: ${reason}`);
    this.name = "ActorDownError";
    this.actorId = actorId;
    this.reason = reason;
  }
}

/**
 * The supervisor could not start: a child failed before its first `ready`
 * (its init threw or rejected, it crashed, it missed heartbeats or took too
 * long). The other children have been stopped.
 *
 * @example
 * ```ts
 * try {
 *   await sup.start();
 * } catch (e) {
 *   if (e instanceof StartError) console.error(`${e.actorId}: ${e.message}`);
 * }
 * ```
 */
export class StartError extends Error {
  /** The child that failed to start. */
  readonly actorId: string;
  /** The child's own error message. */
  readonly reason: string;

  /**
   * Creates the error of a failed start.
   * @param actorId the child that failed.
   * @param reason its error message.
   * @param options the child's error as `cause`, when it is known.
   */
  constructor(actorId: string, reason: string, options?: ErrorOptions) {
    super(`Actor ${actorId} failed to start: ${reason}`, options);
    this.name = "StartError";
    this.actorId = actorId;
    this.reason = reason;
  }
}

/**
 * The wire form of an error value: the code (`internal` for a plain error)
 * and the message.
 * @param e anything thrown.
 * @returns `{code, error}` for a response or an `init_failed` message.
 * @example
 * ```ts
 * errorValue(new RequestError("not_followed", "Symbol X is not followed")); // {code: "not_followed", error: "Symbol X is not followed"}
 * ```
 */
export function errorValue(e: unknown): { code: string; error: string } {
  if (e instanceof RequestError) return { code: e.code, error: e.message };
  if (e instanceof Error) return { code: "internal", error: e.message };
  return { code: "internal", error: String(e) };
}

const port = z.custom<MessagePort>(
  (v) => v instanceof MessagePort,
  "Expected a MessagePort",
);

/** Schema of supervisor → actor messages. */
export const ToActor = z.discriminatedUnion("type", [
  z.object({ type: z.literal("init"), id: z.string(), config: z.unknown() }),
  z.object({
    type: z.literal("link"),
    name: z.string(),
    peer: z.string(),
    role: z.enum(["in", "out"]),
    port,
  }),
  z.object({ type: z.literal("ping"), seq: z.number() }),
  z.object({
    type: z.literal("request"),
    id: z.number(),
    method: z.string(),
    params: z.unknown(),
  }),
  z.object({ type: z.literal("stop") }),
]);
/** A supervisor → actor message. */
export type ToActor = z.infer<typeof ToActor>;

/** Schema of actor → supervisor messages. */
export const FromActor = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready") }),
  /** `init` threw or rejected; the actor is not usable. */
  z.object({
    type: z.literal("init_failed"),
    code: z.string(),
    error: z.string(),
  }),
  /** The actor ended normally (`ctx.exit()`). */
  z.object({ type: z.literal("exit"), reason: z.string() }),
  z.object({ type: z.literal("pong"), seq: z.number() }),
  z.object({
    type: z.literal("status"),
    state: z.enum(["running", "degraded"]),
    detail: z.string(),
  }),
  z.object({
    type: z.literal("stats"),
    stats: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal("response"),
    id: z.number(),
    ok: z.boolean(),
    value: z.unknown().optional(),
    /** The error's message when `ok` is false. */
    error: z.string().optional(),
    /** The error's code when `ok` is false (see {@link RequestError}). */
    code: z.string().optional(),
  }),
  z.object({
    type: z.literal("log"),
    level: z.enum(["debug", "info", "warn", "error"]),
    msg: z.string(),
    /**
     * Named values of the line (`cid`, `exchange`, `symbol`, …; see
     * `runtime/log.ts`); the supervisor adds `actor`.
     */
    fields: z.record(
      z.string(),
      z.union([z.string(), z.number(), z.boolean(), z.null()]),
    ).optional(),
  }),
  z.object({
    type: z.literal("output"),
    channel: z.string(),
    data: z.unknown(),
  }),
  z.object({ type: z.literal("stopped") }),
]);
/** An actor → supervisor message. */
export type FromActor = z.infer<typeof FromActor>;

/**
 * Anything that carries messages: a Worker, a worker's global scope or a
 * MessagePort. Tests drive actors through a MessageChannel with it.
 */
export interface Endpoint {
  /**
   * Sends a message.
   * @param message the message.
   * @param transfer objects whose ownership moves with it.
   */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /**
   * Listens for messages.
   * @param type always `message`.
   * @param listener called with each message event.
   */
  addEventListener(type: "message", listener: (ev: MessageEvent) => void): void;
}
