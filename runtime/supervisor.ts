/**
 * The supervisor: spawns each actor as a module Web Worker, links actors with
 * MessageChannels, watches them (error events and heartbeats), restarts a
 * failed actor with jittered backoff (one_for_one), and opens its circuit
 * when it fails too often. Stops actors in order on shutdown.
 *
 * @module
 */

import { backoffDelay } from "./backoff.ts";
import { type ActorState, FromActor, type ToActor } from "./protocol.ts";

/** One actor to supervise; child specs are data. */
export interface ChildSpec {
  /** Unique id, e.g. `conn:binance`. */
  readonly id: string;
  /** Worker module URL. */
  readonly module: URL;
  /** Config sent in `init`. */
  readonly config: unknown;
  /** Ms to wait for `stopped` before terminating. */
  readonly shutdownMs?: number;
}

/** A directed data link: `from` gets the `out` port, `to` the `in` port. */
export interface LinkSpec {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** Options for {@link Supervisor}. */
export interface SupervisorOptions {
  /**
   * Restarts allowed within `periodMs` before the circuit opens.
   * @default 5
   */
  intensity?: number;
  /** @default 60000 */
  periodMs?: number;
  /** @default 500 */
  backoffBaseMs?: number;
  /** @default 30000 */
  backoffMaxMs?: number;
  /** @default 1000 */
  heartbeatMs?: number;
  /** Silence after which an actor counts as hung. @default 10000 */
  heartbeatTimeoutMs?: number;
  /** An open circuit retries (half-open) after this long. @default 300000 */
  circuitResetMs?: number;
  /** Data an actor sends on a named output channel. */
  onOutput?: (id: string, channel: string, data: unknown) => void;
  /** Log lines from actors and from the supervisor. */
  onLog?: (id: string, level: string, msg: string) => void;
}

/** What the HTTP layer sees of an actor. */
export interface ActorInfo {
  id: string;
  state: ActorState;
  circuit: "closed" | "open";
  detail: string;
  restarts: number;
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
  restartTimes: number[];
  attempt: number;
  lastPong: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  ready: PromiseWithResolvers<void>;
}

/**
 * Supervises a fixed set of actors.
 *
 * @example
 * ```ts
 * const sup = new Supervisor([{ id: "agg", module: new URL("../actors/aggregator.ts", import.meta.url), config: {} }], []);
 * await sup.start();
 * ```
 */
export class Supervisor {
  readonly #children = new Map<string, Child>();
  readonly #links: readonly LinkSpec[];
  readonly #opt:
    & Required<Omit<SupervisorOptions, "onOutput" | "onLog">>
    & SupervisorOptions;
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  #nextId = 1;
  #pingSeq = 0;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #stopping = false;

  /**
   * @param specs actors, in start order (stopped in reverse).
   * @param links data links between them.
   * @param options restart policy and callbacks.
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
        timer: undefined,
        ready: Promise.withResolvers(),
      });
    }
  }

  /** Spawns every actor and resolves when all have initialised. */
  async start(): Promise<void> {
    for (const c of this.#children.values()) this.#spawn(c);
    this.#heartbeat = setInterval(() => this.#beat(), this.#opt.heartbeatMs);
    await Promise.all([...this.#children.values()].map((c) => c.ready.promise));
  }

  /** A snapshot of every actor's state and counters. */
  actors(): ActorInfo[] {
    return [...this.#children.values()].map((c) => ({
      ...c.info,
      stats: this.#stats(c),
    }));
  }

  /**
   * Sends a request to an actor.
   * @param id actor id.
   * @param method request name.
   * @param params request parameters.
   * @throws {Error} when the actor is unknown or not running, or answers with an error.
   */
  request(id: string, method: string, params: unknown = {}): Promise<unknown> {
    const c = this.#children.get(id);
    if (!c?.worker) {
      return Promise.reject(new Error(`Actor ${id} is not running`));
    }
    const rid = this.#nextId++;
    const p = Promise.withResolvers<unknown>();
    this.#pending.set(rid, p);
    this.#post(c, { type: "request", id: rid, method, params });
    return p.promise;
  }

  /** Resolves once actor `id` is next ready (after a restart, for example). */
  ready(id: string): Promise<void> {
    const c = this.#children.get(id);
    if (!c) return Promise.reject(new Error(`Unknown actor ${id}`));
    return c.ready.promise;
  }

  /**
   * Kills an actor at once, as a crash would (no flush), and lets the
   * restart policy bring it back.
   * @param id actor id.
   * @param reason recorded as the actor's last error.
   */
  kill(id: string, reason = "killed"): void {
    const c = this.#children.get(id);
    if (c?.worker) this.#fail(c, reason);
  }

  /** Stops actors in reverse start order, letting each flush first. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#heartbeat);
    for (const c of [...this.#children.values()].reverse()) {
      clearTimeout(c.timer);
      const w = c.worker;
      if (!w) continue;
      const stopped = new Promise<void>((resolve) => {
        w.addEventListener("message", (ev) => {
          if ((ev as MessageEvent).data?.type === "stopped") resolve();
        });
        setTimeout(resolve, c.spec.shutdownMs ?? 5000);
      });
      this.#post(c, { type: "stop" });
      await stopped;
      w.terminate();
      c.worker = null;
      c.info.state = "stopped";
    }
    for (const p of this.#pending.values()) {
      p.reject(new Error("Supervisor stopped"));
    }
    this.#pending.clear();
  }

  #spawn(c: Child): void {
    c.info.state = "starting";
    const w = new Worker(c.spec.module.href, {
      type: "module",
      name: c.spec.id,
    });
    c.worker = w;
    c.lastPong = Date.now();
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
        this.#wire(c);
        c.ready.resolve();
        break;
      case "pong":
        c.lastPong = Date.now();
        break;
      case "status":
        if (c.info.state === "running" || c.info.state === "degraded") {
          c.info.state = m.state;
        }
        c.info.detail = m.detail;
        break;
      case "stats":
        c.live = m.stats;
        break;
      case "response": {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.ok) p?.resolve(m.value);
        else p?.reject(new Error(m.error));
        break;
      }
      case "log":
        this.#log(c.spec.id, m.level, m.msg);
        break;
      case "output":
        this.#opt.onOutput?.(c.spec.id, m.channel, m.data);
        break;
      case "stopped":
        break;
    }
  }

  /** Creates fresh channels for every link of `c` whose peer is up. */
  #wire(c: Child): void {
    for (const l of this.#links) {
      if (l.from !== c.spec.id && l.to !== c.spec.id) continue;
      const from = this.#children.get(l.from);
      const to = this.#children.get(l.to);
      if (from?.info.state !== "running" && from?.info.state !== "degraded") {
        continue;
      }
      if (to?.info.state !== "running" && to?.info.state !== "degraded") {
        continue;
      }
      const ch = new MessageChannel();
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

  #beat(): void {
    const now = Date.now();
    for (const c of this.#children.values()) {
      if (!c.worker) continue;
      if (now - c.lastPong > this.#opt.heartbeatTimeoutMs) {
        this.#fail(c, `No heartbeat for ${now - c.lastPong} ms`);
        continue;
      }
      this.#post(c, { type: "ping", seq: ++this.#pingSeq });
      // A run long enough without failing earns a fresh backoff.
      if (
        c.attempt > 0 && now - (c.restartTimes.at(-1) ?? 0) > this.#opt.periodMs
      ) c.attempt = 0;
    }
  }

  #fail(c: Child, reason: string): void {
    c.worker?.terminate();
    c.worker = null;
    for (const [k, v] of Object.entries(counters(c.live))) {
      c.base[k] = (c.base[k] ?? 0) + v;
    }
    c.live = {};
    c.info.lastError = reason;
    c.ready = Promise.withResolvers();
    this.#log(c.spec.id, "error", `Actor failed: ${reason}`);
    if (this.#stopping) return;
    const now = Date.now();
    c.restartTimes = c.restartTimes.filter((t) => now - t < this.#opt.periodMs);
    if (c.restartTimes.length >= this.#opt.intensity) {
      c.info.state = "stopped";
      c.info.circuit = "open";
      c.info.detail =
        `Circuit open: ${c.restartTimes.length} restarts in ${this.#opt.periodMs} ms`;
      this.#log(c.spec.id, "error", c.info.detail);
      c.timer = setTimeout(() => {
        c.info.circuit = "closed";
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

  #restart(c: Child): void {
    if (this.#stopping) return;
    c.restartTimes.push(Date.now());
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

  #log(id: string, level: string, msg: string): void {
    if (this.#opt.onLog) this.#opt.onLog(id, level, msg);
    else console.log(`${new Date().toISOString()} ${level} [${id}] ${msg}`);
  }
}

function counters(stats: Record<string, unknown>): Record<string, number> {
  const c = stats.counters;
  return c && typeof c === "object" ? c as Record<string, number> : {};
}
