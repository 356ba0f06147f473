/**
 * Replay actor: runs replay sessions (`actors/replay/session.ts`) side by
 * side, each on its own source (capture files, or the store through the
 * writer's `history` link) and its own aggregation, isolated from live data.
 * Every session's columns, progress, seeks and end go to the supervisor on
 * the `session` output channel (`ReplayOutput`), which hands them to the
 * session's heatmap hub and SSE streams.
 *
 * An importing session (`ReplaySpec.store`, `deno task replay`) also sends
 * its event batches and columns on the out links `store` and `columns` to
 * the writer, as a connection and the consolidator do live.
 *
 * Requests (`ReplayRequests`): `replayCreate`, `replayControl`,
 * `replayProgress`, `replayStop`, `replayBooks`.
 *
 * @module
 */

import { z } from "zod";
import { type ActorContext, runActor } from "../runtime/actor.ts";
import { RequestError } from "../runtime/protocol.ts";
import { type Logger, recordLogger } from "../runtime/log.ts";
import { AggregatorConfig } from "./market/aggregate.ts";
import type {
  ReplayErrorCode,
  ReplayOutput,
  ReplayProgress,
  ReplayRequests,
  ReplaySpec,
} from "./market/requests.ts";
import { FileSource } from "./replay/files.ts";
import { openStoreSource } from "./replay/store.ts";
import { closePort, portRequest } from "../runtime/port_request.ts";
import type { HistoryRequests } from "./store/queries.ts";
import { ReplaySession } from "./replay/session.ts";
import type { ReplaySource } from "./replay/source.ts";

/** Config of the replay actor. */
export const ReplayActorConfig = z.object({
  tickMs: z.number().positive().default(1000),
  range: z.number().positive().max(1).default(0.05),
  buckets: z.record(z.string(), z.number().positive()).default({
    BTC: 10,
    ETH: 1,
  }),
  quoteAliases: z.record(z.string(), z.string()).default({}),
  outlierThreshold: z.number().positive().max(1).default(0.02),
  /** Sessions at once; past it `too_many_sessions`. */
  maxSessions: z.number().int().positive().default(16),
  /**
   * The out links the topology attaches (`store`, `columns` when importing
   * is possible); an importing session waits for them.
   */
  outputs: z.array(z.string()).default([]),
});
/** Parsed replay actor config. */
export type ReplayActorConfig = z.infer<typeof ReplayActorConfig>;

/** A `bad_request` error with a message naming what is wrong. */
function bad(message: string): RequestError<ReplayErrorCode> {
  return new RequestError<ReplayErrorCode>("bad_request", message);
}

/**
 * The sessions of one replay actor.
 *
 * @example
 * ```ts
 * const sessions = new Sessions(ReplayActorConfig.parse({}), ctx, ports);
 * await sessions.create("r1", { source: "files", files, speed: 10 });
 * ```
 */
export class Sessions {
  readonly #cfg: ReplayActorConfig;
  readonly #ctx: ActorContext;
  readonly #ports: Map<string, MessagePort>;
  readonly #all = new Map<string, ReplaySession>();

  /**
   * @param cfg the actor's config.
   * @param ctx where output goes.
   * @param ports the out links by name (`store`, `columns`).
   */
  constructor(
    cfg: ReplayActorConfig,
    ctx: ActorContext,
    ports: Map<string, MessagePort>,
  ) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    this.#ports = ports;
  }

  /**
   * Opens the source and starts a session.
   * @param id the caller's id for it.
   * @param spec what to play.
   * @returns its first progress.
   * @throws {RequestError} `too_many_sessions`, `bad_request` (unreadable
   *   files, an empty range, a bad speed, a source not available here).
   */
  async create(id: string, spec: ReplaySpec): Promise<ReplayProgress> {
    if (this.#all.has(id)) throw bad(`Session ${id} exists`);
    if (this.#all.size >= this.#cfg.maxSessions) {
      throw new RequestError<ReplayErrorCode>(
        "too_many_sessions",
        `Too many replay sessions: ${this.#all.size} of ${this.#cfg.maxSessions} running`,
      );
    }
    if (spec.store && !this.#cfg.outputs.includes("store")) {
      throw bad("This coby cannot import a session: no writer is linked");
    }
    // Every line of the session carries its id as the correlation id.
    const log = recordLogger(this.#ctx.log, { cid: id });
    let source: ReplaySource;
    try {
      source = await this.#open(spec, log);
    } catch (e) {
      if (e instanceof RequestError) throw e;
      throw bad((e as Error).message);
    }
    const out = (m: ReplayOutput, transfer?: Transferable[]) =>
      this.#ctx.output("session", m, transfer);
    const { tickMs, range, buckets, quoteAliases } = this.#cfg;
    const agg = AggregatorConfig.parse({
      tickMs,
      range,
      buckets,
      quoteAliases,
    });
    let session: ReplaySession;
    try {
      session = new ReplaySession({
        id,
        spec,
        source,
        aggregator: agg,
        outlierThreshold: this.#cfg.outlierThreshold,
        onColumns: (batch) => {
          const store = spec.store ? this.#ports.get("columns") : undefined;
          if (store) {
            const copy = { ...batch, buf: batch.buf.slice(0) };
            store.postMessage(copy, [copy.buf]);
          }
          out({ id, kind: "columns", batch }, [batch.buf]);
        },
        onProgress: (progress) => out({ id, kind: "progress", progress }),
        onReset: (at) => out({ id, kind: "reset", at }),
        onEnd: (progress) => out({ id, kind: "end", progress }),
        onBatches: spec.store
          ? (batches) => {
            const store = this.#ports.get("store");
            for (const b of batches) store?.postMessage(b, [b.buf]);
          }
          : undefined,
        onEvents: spec.emitEvents
          ? (ndjson) => this.#ctx.output("events", ndjson)
          : undefined,
        onError: (e) => log.warn(`replay ${id} failed: ${e.message}`),
      });
    } catch (e) {
      source.close();
      throw bad((e as Error).message);
    }
    this.#all.set(id, session);
    await session.start();
    log.info(`replay ${id} started (${spec.source}, speed ${spec.speed})`);
    return session.progress();
  }

  async #open(spec: ReplaySpec, log: Logger): Promise<ReplaySource> {
    if (spec.source === "files") {
      if (!spec.files?.length) throw bad("files: at least one capture file");
      return await FileSource.open(spec.files, {
        exchanges: spec.exchanges,
        symbols: spec.symbols,
        emitEvents: spec.emitEvents,
        warn: (msg, fields) => log.warn(msg, fields),
      });
    }
    const history = this.#ports.get("history");
    if (!history) {
      throw bad("source store: this coby keeps no history (store disabled)");
    }
    if (!spec.exchanges?.length || !spec.symbols?.length) {
      throw bad("source store: name the exchanges and the symbols");
    }
    return await openStoreSource(
      (method, params) =>
        portRequest<HistoryRequests, typeof method>(history, method, params),
      {
        exchanges: spec.exchanges,
        symbols: spec.symbols,
        from: spec.from,
        to: spec.to,
      },
    );
  }

  /**
   * A session by id.
   * @throws {RequestError} `not_found`.
   */
  get(id: string): ReplaySession {
    const s = this.#all.get(id);
    if (!s) {
      throw new RequestError<ReplayErrorCode>(
        "not_found",
        `No replay session ${id}`,
      );
    }
    return s;
  }

  /**
   * Changes a session.
   * @throws {RequestError} `not_found`, `bad_request` for a change that
   *   cannot apply.
   */
  async control(
    id: string,
    c: Parameters<ReplaySession["control"]>[0],
  ): Promise<ReplayProgress> {
    const s = this.get(id);
    try {
      return await s.control(c);
    } catch (e) {
      throw bad((e as Error).message);
    }
  }

  /**
   * Stops a session and forgets it.
   * @throws {RequestError} `not_found`.
   */
  stop(id: string): ReplayProgress {
    const p = this.get(id).stop();
    this.#all.delete(id);
    this.#ctx.log("info", `replay ${id} stopped`, { cid: id });
    return p;
  }

  /** Stops every session. */
  stopAll(): void {
    for (const id of [...this.#all.keys()]) this.stop(id);
  }
}

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let sessions: Sessions;
  const ports = new Map<string, MessagePort>();
  runActor<ReplayRequests>({
    init(config, ctx) {
      sessions = new Sessions(
        ReplayActorConfig.parse(config ?? {}),
        ctx,
        ports,
      );
    },
    link(name, _peer, role, port) {
      if (role !== "out") return;
      // A replaced link: the peer restarted; what waits on the old port fails.
      closePort(ports.get(name), `${name} link replaced`);
      ports.set(name, port);
    },
    requests: {
      replayCreate: ({ id, spec }) => sessions.create(id, spec),
      replayControl: ({ id, control }) => sessions.control(id, control),
      replayProgress: ({ id }) => sessions.get(id).progress(),
      replayStop: ({ id }) => sessions.stop(id),
      replayBooks: ({ id, depth }) => sessions.get(id).dump(depth ?? 50),
    },
    stop() {
      sessions?.stopAll();
    },
  });
}
