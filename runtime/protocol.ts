/**
 * The control messages between the supervisor and each actor, zod-checked at
 * both ends. Data between actors moves over linked MessageChannels as
 * columnar batches (`EventBatch` in `batch.ts`, `ColumnBatch` in `heatmap.ts`).
 *
 * Requests carry an `id`; the reply is a `response` with the same id, and
 * errors travel as values (`ok: false`), never as thrown exceptions.
 *
 * @module
 */

import { z } from "zod";

/** Lifecycle state of an actor as the supervisor sees it. */
export type ActorState =
  | "starting"
  | "running"
  | "degraded"
  | "restarting"
  | "stopped";

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
    error: z.string().optional(),
  }),
  z.object({
    type: z.literal("log"),
    level: z.enum(["debug", "info", "warn", "error"]),
    msg: z.string(),
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
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (ev: MessageEvent) => void): void;
}
