/**
 * The supervisor: spawns each actor as a module Web Worker, links actors with
 * MessageChannels, watches them (error events and heartbeats), restarts a
 * failed actor with jittered backoff (one_for_one) as its restart type says,
 * and opens its circuit when it fails too often. Stops actors in order on
 * shutdown.
 *
 * As in OTP, a child that fails before its first `ready` fails the whole
 * start: `start()` rejects with a {@link StartError} naming the child and
 * carrying its error, and the other children are stopped. Requests pending on
 * an actor are rejected with an {@link ActorDownError} the moment it fails.
 * Restart windows, heartbeats and init timeouts run on the monotonic clock
 * (`performance.now()`), so a wall-clock step never trips or resets them.
 *
 * The supervisor shares its thread with HTTP and the viewers' streams. When
 * that thread stalls, pongs wait unread in its queue: the stall is the
 * supervisor's, not the actors'. Each heartbeat measures how late it fired
 * (event-loop lag) and that lag is not counted as an actor's silence, so a
 * blocked main thread never restarts healthy actors; an actor hung for real
 * is still found, one stall later at most.
 *
 * @module
 */

import { backoffDelay } from "./backoff.ts";
import { linkDepth, type LinkEnd, linkKey } from "./link_meter.ts";
import {
  type LogFields,
  type Logger,
  type LogLevel,
  processLog,
} from "./log.ts";
import {
  ActorDownError,
  type ActorState,
  FromActor,
  RequestError,
  type RequestMap,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
  type RestartType,
  StartError,
  type ToActor,
  type UntypedRequests,
} from "./protocol.ts";

/** One actor to supervise; child specs are data. */
export interface ChildSpec {
  /** Unique id, e.g. `conn:binance`. */
  readonly id: string;
  /** Worker module URL. */
  readonly module: URL;
  /** Config sent in `init`. */
  readonly config: unknown;
  /**
   * When the child is restarted: `permanent` always, `transient` only after
   * a failure (not after `ctx.exit()`), `temporary` never.
   * @default "permanent"
   */
  readonly restart?: RestartType;
  /**
   * Ms to wait for `stopped` before terminating.
   * @default 5000
   */
  readonly shutdownMs?: number;
}

/** A directed data link: `from` gets the `out` port, `to` the `in` port. */
export interface LinkSpec {
  /** Link name, passed to both ends. */
  readonly name: string;
  /** The sending actor's id. */
  readonly from: string;
  /** The receiving actor's id. */
  readonly to: string;
}

/** Options for {@link Supervisor}. */
export interface SupervisorOptions {
  /**
   * Restarts allowed within `periodMs` before the circuit opens.
   * @default 5
   */
  intensity?: number;
  /**
   * The restart window, ms (monotonic).
   * @default 60000
   */
  periodMs?: number;
  /**
   * First backoff before a restart, ms.
   * @default 500
   */
  backoffBaseMs?: number;
  /**
   * Largest backoff before a restart, ms.
   * @default 30000
   */
  backoffMaxMs?: number;
  /**
   * Ping period, ms.
   * @default 1000
   */
  heartbeatMs?: number;
  /**
   * Silence after which an actor counts as hung, ms.
   * @default 10000
   */
  heartbeatTimeoutMs?: number;
  /**
   * Time an actor has from spawn to `ready` before it counts as failed, ms.
   * @default 60000
   */
  initTimeoutMs?: number;
  /**
   * An open circuit retries (half-open) after this long, ms.
   * @default 300000
   */
  circuitResetMs?: number;
  /** Data an actor sends on a named output channel. */
  onOutput?: (id: string, channel: string, data: unknown) => void;
  /**
   * Log lines from actors and from the supervisor, with the actor's fields
   * (`cid`, `exchange`, `symbol`, …); given, they are not written.
   */
  onLog?: (
    id: string,
    level: LogLevel,
    msg: string,
    fields: LogFields,
  ) => void;
  /**
   * Writes log lines (when there is no `onLog`), each with the field
   * `actor` set to the actor's id.
   * @default processLog() (`COBY_LOG`: text or JSON lines on stdout)
   */
  logger?: Logger;
}

/**
 * Messages a link may hold before each heartbeat that finds it so counts as
 * a backpressure event (see {@link LinkInfo.backpressure}).
 */
export const LINK_HIGH_WATER = 256;

/** A link's queue as the supervisor last saw it. */
export interface LinkInfo {
  /** The link's name. */
  readonly name: string;
  /** The sending actor's id. */
  readonly from: string;
  /** The receiving actor's id. */
  readonly to: string;
  /**
   * Messages posted and not yet handled (from both ends' stats); null while
   * the link is down or an end has not reported its current port.
   */
  readonly depth: number | null;
  /**
   * Heartbeats (one a `heartbeatMs`) that found more than
   * {@link LINK_HIGH_WATER} messages waiting: the receiver falling behind.
   * Cumulative.
   */
  readonly backpressure: number;
}

/** What the HTTP layer sees of an actor. */
export interface ActorInfo {
  /** The actor's id. */
  id: string;
  /** Its lifecycle state. */
  state: ActorState;
  /**
   * Its restart type (from the child spec); the supervisor always sets it,
   * optional so hand-built snapshots (test stubs) need not.
   * @default "permanent"
   */
  restart?: RestartType;
  /** `open` while it failed too often and is not restarted. */
  circuit: "closed" | "open";
  /**
   * True from the trial start after an open circuit (`circuitResetMs`)
   * until that incarnation is ready: the circuit is half-open.
   */
  halfOpen?: boolean;
  /** The actor's last status detail, or the supervisor's note. */
  detail: string;
  /** Restarts so far. */
  restarts: number;
  /** Why it last failed, or null. */
  lastError: string | null;
  /**
   * The actor's last published stats; its numeric `counters` are summed over
   * every incarnation of the actor, so restarts never reset them.
   */
  stats: Record<string, unknown>;
}

interface Child {
  spec: ChildSpec;
  worker: Worker | null;
  info: ActorInfo;
  /** Numeric counters of earlier incarnations, added to the live ones. */
  base: Record<string, number>;
  live: Record<string, unknown>;
  /** Monotonic times of restarts within the window. */
  restartTimes: number[];
  attempt: number;
  /** Monotonic time of the last pong (or of the spawn). */
  lastPong: number;
  /** Monotonic time of the spawn. */
  spawnedAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Callers of `ready()` waiting for the next `ready`. */
  waiters: PromiseWithResolvers<void> | null;
  /** Requests sent to the current incarnation, by id. */
  pending: Map<number, PromiseWithResolvers<unknown>>;
  /** Settles when the current incarnation is gone (stopped or failed). */
  gone: PromiseWithResolvers<void>;
}

interface Startup {
  /** Children not ready yet. */
  waiting: Set<Child>;
  done: PromiseWithResolvers<void>;
}

const UP: readonly ActorState[] = ["running", "degraded"];

/**
 * Supervises a fixed set of actors. `M` is the request map of every actor it
 * supervises (an intersection of the actors' maps); it types
 * {@link Supervisor.request}.
 *
 * @example
 * ```ts
 * type AggregatorRequests = { columns: { params: Record<string, never>; result: Column[] } };
 * const sup = new Supervisor<AggregatorRequests>([
 *   { id: "agg", module: new URL("../actors/aggregator.ts", import.meta.url), config: {} },
 * ], []);
 * await sup.start(); // rejects with StartError when an actor's init fails
 * const columns = await sup.request("agg", "columns", {}); // Column[]
 * await sup.stop();
 * ```
 */
export class Supervisor<M extends RequestMap = UntypedRequests> {
  readonly #children = new Map<string, Child>();
  readonly #links: readonly LinkSpec[];
  /** Per link (by index in `#links`): when it was last wired, ms since epoch. */
  readonly #wiredAt: number[] = [];
  /** Per link: heartbeats that found it above {@link LINK_HIGH_WATER}. */
  readonly #backpressure: number[] = [];
  readonly #opt:
    & Required<Omit<SupervisorOptions, "onOutput" | "onLog" | "logger">>
    & SupervisorOptions;
  #nextId = 1;
  #pingSeq = 0;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** Monotonic time the last heartbeat ran. */
  #lastBeat = 0;
  /** Event-loop lag discounted so far, ms (total, for stats). */
  #lagMs = 0;
  #startup: Startup | null = null;
  #started = false;
  #stopping = false;
  #stopped: Promise<void> | null = null;

  /**
   * Creates a supervisor; nothing runs until {@link Supervisor.start}.
   * @param specs actors, in start order (stopped in reverse).
   * @param links data links between them.
   * @param options restart policy and callbacks.
   * @throws {Error} when two specs share an id.
   */
  constructor(
    specs: readonly ChildSpec[],
    links: readonly LinkSpec[],
    options: SupervisorOptions = {},
  ) {
    this.#links = links;
    this.#opt = {
      intensity: 5,
      periodMs: 60_000,
      backoffBaseMs: 500,
      backoffMaxMs: 30_000,
      heartbeatMs: 1000,
      heartbeatTimeoutMs: 10_000,
      initTimeoutMs: 60_000,
      circuitResetMs: 300_000,
      ...options,
    };
    for (const spec of specs) {
      if (this.#children.has(spec.id)) {
        throw new Error(`Duplicate actor id ${spec.id}`);
      }
      this.#children.set(spec.id, {
        spec,
        worker: null,
        info: {
          id: spec.id,
          state: "stopped",
          restart: spec.restart ?? "permanent",
          circuit: "closed",
          detail: "",
          restarts: 0,
          lastError: null,
          stats: {},
        },
        base: {},
        live: {},
        restartTimes: [],
        attempt: 0,
        lastPong: 0,
        spawnedAt: 0,
        timer: undefined,
        waiters: null,
        pending: new Map(),
        gone: Promise.withResolvers(),
      });
    }
  }

  /**
   * Spawns every actor and resolves when all have initialised. When one fails
   * before its first `ready` (its init throws or rejects, it crashes, misses
   * heartbeats or is not ready within `initTimeoutMs`), the others are
   * stopped and the start fails with that actor's error; nothing is
   * restarted.
   * @returns when every actor is ready.
   * @throws {StartError} naming the actor that failed, with its message.
   * @throws {Error} when called twice.
   * @example
   * ```ts
   * try {
   *   await sup.start();
   * } catch (e) {
   *   if (e instanceof StartError) console.error(e.message); // "Actor conn:binance failed to start: …"
   *   throw e;
   * }
   * ```
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error("Supervisor already started");
    this.#started = true;
    const startup: Startup = {
      waiting: new Set(this.#children.values()),
      done: Promise.withResolvers(),
    };
    if (startup.waiting.size === 0) startup.done.resolve();
    this.#startup = startup;
    for (const c of this.#children.values()) this.#spawn(c);
    this.#lastBeat = performance.now();
    this.#heartbeat = setInterval(() => this.#beat(), this.#opt.heartbeatMs);
    try {
      await startup.done.promise;
    } catch (e) {
      await this.stop();
      throw e;
    } finally {
      this.#startup = null;
    }
  }

  /**
   * A snapshot of every actor's state and counters.
   * @returns one entry per actor, in start order.
   */
  actors(): ActorInfo[] {
    return [...this.#children.values()].map((c) => ({
      ...c.info,
      stats: this.#stats(c),
    }));
  }

  /**
   * Every link's queue depth and backpressure count.
   * @returns one entry per link spec, in order.
   * @example
   * ```ts
   * for (const l of sup.links()) if ((l.depth ?? 0) > 1000) warn(l.name);
   * ```
   */
  links(): LinkInfo[] {
    return this.#links.map((l, i) => ({
      name: l.name,
      from: l.from,
      to: l.to,
      depth: this.#depth(i),
      backpressure: this.#backpressure[i] ?? 0,
    }));
  }

  /** Depth of link `i` from both ends' last stats; null when unknown. */
  #depth(i: number): number | null {
    const l = this.#links[i];
    const wiredAt = this.#wiredAt[i];
    if (wiredAt === undefined) return null;
    const end = (id: string, key: string) =>
      (this.#children.get(id)?.live.links as
        | Record<string, LinkEnd>
        | undefined)?.[key];
    return linkDepth(
      end(l.from, linkKey("out", l.name, l.to)),
      end(l.to, linkKey("in", l.name, l.from)),
      wiredAt,
    );
  }

  /**
   * Sends a request to an actor. It settles with the actor's answer, or is
   * rejected as soon as the actor fails (crash, missed heartbeats, kill) or
   * the supervisor stops.
   * @param id actor id.
   * @param method request method of the map `M`.
   * @param params its params.
   * @returns the method's result.
   * @throws {ActorDownError} when the actor is not running, or fails before
   * answering.
   * @throws {RequestError} with the actor's code when it answers with an
   * error (`unknown_method` for a method it lacks, `internal` for an error
   * that is not a RequestError), or `unknown_actor` for an unknown id.
   * @example
   * ```ts
   * try {
   *   const book = await sup.request("conn:binance", "book", { symbol: "BTCUSDT", depth: 10 });
   * } catch (e) {
   *   if (e instanceof ActorDownError) retryLater();
   *   else if (e instanceof RequestError && e.code === "not_followed") notFound();
   *   else throw e;
   * }
   * ```
   */
  request<K extends RequestMethod<M>>(
    id: string,
    method: K,
    params: RequestParams<M, K>,
  ): Promise<RequestResult<M, K>> {
    const c = this.#children.get(id);
    if (!c) {
      return Promise.reject(
        new RequestError("unknown_actor", `Unknown actor ${id}`),
      );
    }
    if (!c.worker || !UP.includes(c.info.state)) {
      return Promise.reject(new ActorDownError(id, this.#why(c)));
    }
    const rid = this.#nextId++;
    const p = Promise.withResolvers<unknown>();
    c.pending.set(rid, p);
    try {
      this.#post(c, { type: "request", id: rid, method, params });
    } catch (e) {
      c.pending.delete(rid);
      return Promise.reject(e);
    }
    return p.promise as Promise<RequestResult<M, K>>;
  }

  /**
   * Waits until actor `id` is ready: at once when it is running, else at its
   * next `ready` (after a restart, for example).
   * @param id actor id.
   * @returns when the actor is ready.
   * @throws {RequestError} `unknown_actor` for an unknown id.
   * @throws {ActorDownError} when the actor will not be restarted (it exited,
   * it is temporary and failed, or the supervisor stopped).
   * @example
   * ```ts
   * sup.kill("conn:binance", "test restart");
   * await sup.ready("conn:binance");
   * ```
   */
  ready(id: string): Promise<void> {
    const c = this.#children.get(id);
    if (!c) {
      return Promise.reject(
        new RequestError("unknown_actor", `Unknown actor ${id}`),
      );
    }
    if (c.worker && UP.includes(c.info.state)) return Promise.resolve();
    if (this.#final(c)) {
      return Promise.reject(new ActorDownError(id, this.#why(c)));
    }
    if (!c.waiters) {
      c.waiters = Promise.withResolvers();
      // Nobody may be left listening when it is rejected; that is not a leak.
      c.waiters.promise.catch(() => {});
    }
    return c.waiters.promise;
  }

  /**
   * Kills an actor at once, as a crash would (no flush), and lets the
   * restart policy bring it back. Its pending requests are rejected.
   * @param id actor id.
   * @param reason recorded as the actor's last error.
   */
  kill(id: string, reason = "killed"): void {
    const c = this.#children.get(id);
    if (c?.worker) this.#fail(c, reason);
  }

  /**
   * Stops actors in reverse start order, letting each running one flush
   * first (one still starting is terminated at once), and rejects every
   * request still pending.
   * @returns when every actor is stopped; the same promise on every call.
   */
  stop(): Promise<void> {
    return this.#stopped ??= this.#stopAll();
  }

  async #stopAll(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#heartbeat);
    this.#startup?.done.reject(
      new Error("Supervisor stopped before every actor was ready"),
    );
    for (const c of [...this.#children.values()].reverse()) {
      clearTimeout(c.timer);
      const w = c.worker;
      if (w && c.info.state !== "starting") {
        const timeout = setTimeout(
          () => c.gone.resolve(),
          c.spec.shutdownMs ?? 5000,
        );
        this.#post(c, { type: "stop" });
        await c.gone.promise;
        clearTimeout(timeout);
      }
      this.#down(c, "supervisor stopped");
      if (c.info.state !== "exited") c.info.state = "stopped";
      this.#settleWaiters(c);
    }
  }

  #spawn(c: Child): void {
    c.info.state = "starting";
    const w = new Worker(c.spec.module.href, {
      type: "module",
      name: c.spec.id,
    });
    c.worker = w;
    c.gone = Promise.withResolvers();
    c.spawnedAt = c.lastPong = performance.now();
    w.addEventListener("message", (ev) => this.#onMessage(c, w, ev.data));
    w.addEventListener("error", (ev) => {
      ev.preventDefault();
      if (c.worker === w) this.#fail(c, `Uncaught: ${ev.message}`);
    });
    w.addEventListener(
      "messageerror",
      () => this.#log(c.spec.id, "warn", "Undecodable message"),
    );
    this.#post(c, { type: "init", id: c.spec.id, config: c.spec.config });
  }

  #onMessage(c: Child, w: Worker, data: unknown): void {
    if (c.worker !== w) return;
    const parsed = FromActor.safeParse(data);
    if (!parsed.success) {
      this.#log(c.spec.id, "error", `Bad message: ${parsed.error.message}`);
      return;
    }
    const m = parsed.data;
    switch (m.type) {
      case "ready":
        c.info.state = "running";
        delete c.info.halfOpen;
        c.lastPong = performance.now();
        this.#wire(c);
        if (this.#startup?.waiting.delete(c) && !this.#startup.waiting.size) {
          this.#startup.done.resolve();
        }
        c.waiters?.resolve();
        c.waiters = null;
        break;
      case "init_failed":
        this.#fail(
          c,
          m.error,
          false,
          new RequestError(m.code, m.error),
        );
        break;
      case "exit":
        this.#fail(c, m.reason, true);
        break;
      case "pong":
        c.lastPong = performance.now();
        break;
      case "status":
        if (UP.includes(c.info.state)) c.info.state = m.state;
        c.info.detail = m.detail;
        break;
      case "stats":
        c.live = m.stats;
        break;
      case "response": {
        const p = c.pending.get(m.id);
        c.pending.delete(m.id);
        if (m.ok) p?.resolve(m.value);
        else {
          p?.reject(
            new RequestError(m.code ?? "internal", m.error ?? "Request failed"),
          );
        }
        break;
      }
      case "log":
        this.#log(c.spec.id, m.level, m.msg, m.fields);
        break;
      case "output":
        this.#opt.onOutput?.(c.spec.id, m.channel, m.data);
        break;
      case "stopped":
        c.gone.resolve();
        break;
    }
  }

  /** Creates fresh channels for every link of `c` whose peer is up. */
  #wire(c: Child): void {
    for (const [i, l] of this.#links.entries()) {
      if (l.from !== c.spec.id && l.to !== c.spec.id) continue;
      const from = this.#children.get(l.from);
      const to = this.#children.get(l.to);
      if (!from || !to) continue;
      if (!UP.includes(from.info.state) || !UP.includes(to.info.state)) {
        continue;
      }
      const ch = new MessageChannel();
      this.#wiredAt[i] = Date.now();
      this.#post(to, {
        type: "link",
        name: l.name,
        peer: l.from,
        role: "in",
        port: ch.port2,
      }, [ch.port2]);
      this.#post(from, {
        type: "link",
        name: l.name,
        peer: l.to,
        role: "out",
        port: ch.port1,
      }, [ch.port1]);
    }
  }

  /**
   * Event-loop lag the supervisor has discounted from its actors' silence
   * since it started: the time its own thread was too busy to run the
   * heartbeat on schedule.
   * @returns ms, summed.
   */
  lagMs(): number {
    return this.#lagMs;
  }

  #beat(): void {
    const now = performance.now();
    // How late this beat runs: time the thread was held by something else,
    // during which no pong could be read.
    const lag = Math.max(0, now - this.#lastBeat - this.#opt.heartbeatMs);
    this.#lastBeat = now;
    this.#lagMs += lag;
    for (let i = 0; i < this.#links.length; i++) {
      if ((this.#depth(i) ?? 0) > LINK_HIGH_WATER) {
        this.#backpressure[i] = (this.#backpressure[i] ?? 0) + 1;
      }
    }
    for (const c of this.#children.values()) {
      if (!c.worker) continue;
      if (lag > 0) {
        c.lastPong = Math.min(now, c.lastPong + lag);
        c.spawnedAt = Math.min(now, c.spawnedAt + lag);
      }
      // A starting worker may still be loading its module and cannot answer
      // pings yet: until `ready`, the init timeout judges it.
      const silent = c.info.state === "starting" ? 0 : now - c.lastPong;
      if (silent > this.#opt.heartbeatTimeoutMs) {
        this.#fail(c, `No heartbeat for ${Math.round(silent)} ms`);
        continue;
      }
      if (
        c.info.state === "starting" &&
        now - c.spawnedAt > this.#opt.initTimeoutMs
      ) {
        this.#fail(c, `Not ready within ${this.#opt.initTimeoutMs} ms`);
        continue;
      }
      // Pings start once the actor is ready: a ping tells it that its
      // supervisor has seen it up.
      if (c.info.state === "starting") continue;
      this.#post(c, { type: "ping", seq: ++this.#pingSeq });
      // A run long enough without failing earns a fresh backoff.
      if (
        c.attempt > 0 && now - (c.restartTimes.at(-1) ?? 0) > this.#opt.periodMs
      ) c.attempt = 0;
    }
  }

  /**
   * The current incarnation of `c` is gone: it crashed, hung, was killed,
   * failed its init, or exited (`normal`). Rejects its requests at once, then
   * restarts it as its restart type and the intensity window allow.
   */
  #fail(c: Child, reason: string, normal = false, cause?: Error): void {
    this.#down(c, reason);
    for (const [k, v] of Object.entries(counters(c.live))) {
      c.base[k] = (c.base[k] ?? 0) + v;
    }
    c.live = {};
    if (!normal) c.info.lastError = reason;
    this.#log(
      c.spec.id,
      normal ? "info" : "error",
      normal ? `Actor exited: ${reason}` : `Actor failed: ${reason}`,
    );
    if (this.#stopping) return;
    const startup = this.#startup;
    if (startup?.waiting.has(c)) {
      // OTP: a child that cannot start fails the supervisor's start.
      c.info.state = "stopped";
      const why = normal ? `Exited before ready: ${reason}` : reason;
      startup.done.reject(
        new StartError(c.spec.id, why, cause ? { cause } : undefined),
      );
      return;
    }
    const restart = c.info.restart;
    if (restart === "temporary" || (restart === "transient" && normal)) {
      c.info.state = normal ? "exited" : "stopped";
      c.info.detail = normal
        ? `Exited: ${reason}`
        : `Not restarted (${restart}): ${reason}`;
      this.#settleWaiters(c);
      return;
    }
    const now = performance.now();
    c.restartTimes = c.restartTimes.filter((t) => now - t < this.#opt.periodMs);
    if (c.restartTimes.length >= this.#opt.intensity) {
      c.info.state = "stopped";
      c.info.circuit = "open";
      c.info.detail =
        `Circuit open: ${c.restartTimes.length} restarts in ${this.#opt.periodMs} ms`;
      this.#log(c.spec.id, "error", c.info.detail);
      c.timer = setTimeout(() => {
        c.info.circuit = "closed";
        c.info.halfOpen = true;
        c.restartTimes = [];
        this.#restart(c);
      }, this.#opt.circuitResetMs);
      return;
    }
    c.info.state = "restarting";
    const delay = backoffDelay(c.attempt++, {
      baseMs: this.#opt.backoffBaseMs,
      maxMs: this.#opt.backoffMaxMs,
    });
    c.timer = setTimeout(() => this.#restart(c), delay);
  }

  /** Terminates the worker of `c` and rejects its pending requests. */
  #down(c: Child, reason: string): void {
    c.worker?.terminate();
    c.worker = null;
    c.gone.resolve();
    const err = new ActorDownError(c.spec.id, reason);
    for (const p of c.pending.values()) p.reject(err);
    c.pending.clear();
  }

  /** Whether `c` is down for good: nothing will restart it. */
  #final(c: Child): boolean {
    if (!this.#started) return false;
    if (this.#stopping || c.info.state === "exited") return true;
    return c.info.state === "stopped" && c.info.circuit === "closed";
  }

  /** Rejects the `ready()` callers of a child that will not come back. */
  #settleWaiters(c: Child): void {
    c.waiters?.reject(new ActorDownError(c.spec.id, this.#why(c)));
    c.waiters = null;
  }

  /** Why `c` is not serving requests, e.g. `restarting (last error: …)`. */
  #why(c: Child): string {
    const state = c.info.circuit === "open"
      ? `${c.info.state}, circuit open`
      : c.info.state;
    return c.info.lastError
      ? `${state} (last error: ${c.info.lastError})`
      : state;
  }

  #restart(c: Child): void {
    if (this.#stopping) return;
    c.restartTimes.push(performance.now());
    c.info.restarts++;
    this.#spawn(c);
  }

  #stats(c: Child): Record<string, unknown> {
    const sum: Record<string, number> = { ...counters(c.live) };
    for (const [k, v] of Object.entries(c.base)) sum[k] = (sum[k] ?? 0) + v;
    return { ...c.live, counters: sum };
  }

  #post(c: Child, m: ToActor, transfer: Transferable[] = []): void {
    c.worker?.postMessage(m, transfer);
  }

  #log(id: string, level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (this.#opt.onLog) this.#opt.onLog(id, level, msg, fields);
    else {
      (this.#opt.logger ?? processLog()).log(level, msg, {
        ...fields,
        actor: id,
      });
    }
  }
}

function counters(stats: Record<string, unknown>): Record<string, number> {
  const c = stats.counters;
  return c && typeof c === "object" ? c as Record<string, number> : {};
}
