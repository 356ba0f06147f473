/**
 * A local exchange simulator: serves one {@link Capture} over real HTTP and
 * WebSocket on 127.0.0.1, so the real connection code can be replayed against
 * recorded traffic.
 *
 * - REST: a GET whose path+query equals a recorded `http` record's path+query
 *   (exact string, parameter order included) gets the recorded body. Records
 *   before the first WebSocket `open` (metadata) are served at any time;
 *   later ones (book snapshots) belong to the playback timeline.
 * - WebSocket: a client upgrading on path P replays the `recv` records of the
 *   recorded connections whose URL has path P (query ignored), from the first
 *   record after the open, at `speed`. Each new socket on P starts a new run
 *   from the beginning, as a restarted exchange session would.
 * - Each timeline REST record gates playback: the timeline waits at it until
 *   the client has requested that URL, or `gateTimeoutMs` of wall time has
 *   passed (then it is skipped, with one log line). A request for it is held
 *   until the playback clock reaches it, and answered at once when the record
 *   was already passed in the current run.
 * - Synthesized REST: a few venues need a REST call before connecting that
 *   the recordings lack (cryptofeed made it before recording began); the
 *   simulator answers those from {@link SYNTHESIZED}, per exchange, with a
 *   body pointing at itself.
 * - Recorded clock (option `clock`): each run also sends clock frames
 *   (`actors/market/clock.ts`) carrying the recorded receive times: the
 *   recorded open when it starts, one before each frame whose recorded time
 *   differs from the last one sent, one naming each timeline REST response
 *   right before it is answered, and the capture's last recorded time when
 *   it ends, so every connection of a replay ends on the same clock.
 *
 * @module
 */

import type { Capture, RecvRecord } from "./capture.ts";
import { sleep } from "../../runtime/backoff.ts";
import { processLog } from "../../runtime/log.ts";
import { clockFrame } from "../market/clock.ts";

/** An extra text frame put into every run, for malformed-frame tests. */
export interface Injection {
  /** Sent right after recorded frame number `afterFrame` (0-based) of a run. */
  readonly afterFrame: number;
  /** The frame's text. */
  readonly text: string;
}

/** Options for {@link ExchangeSimulator.start}. */
export interface SimulatorOptions {
  /**
   * Playback speed: `N` replays recorded time N times faster (1 = real time);
   * `"max"` sends as fast as possible, yielding to the event loop every 200
   * frames so HTTP requests are served.
   */
  readonly speed: number | "max";
  /**
   * Wall time to wait at a timeline REST record for the client's request
   * before skipping it, ms.
   * @default 3000
   */
  readonly gateTimeoutMs?: number;
  /**
   * Extra text frames put into every run.
   * @default []
   */
  readonly inject?: readonly Injection[];
  /**
   * Receives warnings (skipped REST records, playback errors).
   * @default a warning from the process's logger (`runtime/log.ts`)
   */
  readonly log?: (message: string) => void;
  /**
   * Send clock frames with the recorded receive times (see the module
   * notes), for connections on the recorded clock.
   * @default false
   */
  readonly clock?: boolean;
  /**
   * Added to every time a clock frame carries, ms: a replay that lines up
   * captures recorded at different times shifts each onto a common clock.
   * @default 0
   */
  readonly clockOffsetMs?: number;
}

/** Frames sent in one go before yielding to the event loop. */
const YIELD_EVERY = 200;
/** Longest single sleep while waiting for the playback clock, ms. */
const SLEEP_CHUNK_MS = 100;

/** What a synthesized route can use to build its body. */
interface SynthContext {
  /** The simulator's WebSocket origin, e.g. `ws://127.0.0.1:PORT`. */
  readonly wsOrigin: string;
  /** The recorded WebSocket paths, earliest-opened first. */
  readonly wsPaths: readonly string[];
}

/** Builds the JSON body of a synthesized route. */
type Synthesize = (ctx: SynthContext) => unknown;

/**
 * REST routes synthesized per exchange, keyed by `METHOD path`.
 *
 * KuCoin hands out its WebSocket endpoint and a connection token from
 * `POST /api/v1/bullet-public` (`bullet-private` with API keys); see
 * https://www.kucoin.com/docs/websocket/basic-info/apply-connect-token/public-token-no-authentication-required-.
 * The answer, in KuCoin's format, names the simulator's own WebSocket origin
 * with the recorded path (`/endpoint`) and the token the captures show
 * (`TOKEN`).
 */
const SYNTHESIZED: Readonly<
  Record<string, Readonly<Record<string, Synthesize>>>
> = {
  kucoin: {
    "POST /api/v1/bullet-public": kucoinBullet,
    "POST /api/v1/bullet-private": kucoinBullet,
  },
};

/** KuCoin's bullet response for the simulator's endpoint. */
function kucoinBullet(ctx: SynthContext): unknown {
  return {
    code: "200000",
    data: {
      token: "TOKEN",
      instanceServers: [{
        endpoint: ctx.wsOrigin + (ctx.wsPaths[0] ?? "/"),
        encrypt: false,
        protocol: "websocket",
        pingInterval: 18_000,
        pingTimeout: 10_000,
      }],
    },
  };
}

/** A timeline REST record with its request key. */
interface RestStep {
  readonly kind: "rest";
  readonly ts: number;
  /** Path+query of the recorded URL. */
  readonly key: string;
  readonly body: string;
}

/** One element of a playback timeline. */
type Step = RecvRecord | RestStep;

/** A request held until its record is reached; `null` means "give up". */
type Waiter = (body: string | null) => void;

/** State of one run of a timeline, owned by one client socket. */
interface Run {
  readonly socket: WebSocket;
  readonly abort: AbortController;
  /** Bodies of REST records passed in this run, by key (latest wins). */
  readonly passed: Map<string, string>;
  /** Keys requested since their last record was passed. */
  readonly requested: Set<string>;
  /** Wakes a gate waiting for a request. */
  wake?: () => void;
  /** The last clock frame's time sent on the socket; NaN before the first. */
  clock: number;
}

/** The playback of the recorded connections sharing one WebSocket path. */
interface Timeline {
  readonly path: string;
  /** Earliest `open` ts of the path's connections: playback time zero. */
  readonly baseTs: number;
  readonly steps: readonly Step[];
  /** Requests held for REST records of this timeline, by key. */
  readonly waiters: Map<string, Waiter[]>;
  run?: Run;
  /** Whether the latest run delivered the whole timeline. */
  complete: boolean;
}

/** Path+query of an absolute URL. */
function keyOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** A JSON response. */
function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** Resolves on the next macrotask, letting I/O callbacks run. */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Serves one capture over HTTP and WebSocket on 127.0.0.1 (random port).
 *
 * With several WebSocket paths (e.g. Huobi swap's `/swap-ws` and
 * `/linear-swap-ws`), each path is its own timeline, started by its own
 * client. Recorded connections sharing a path (Kraken's three `wss://ws.kraken.com`
 * connections) are merged into one timeline. Timeline REST records belong to
 * the timeline of the earliest-opened path; with no WebSocket at all every
 * REST record is served at once.
 *
 * @example
 * ```ts
 * const sim = await ExchangeSimulator.start(capture, { speed: "max" });
 * const ws = new WebSocket(`${sim.wsOrigin}/stream?streams=x`);
 * await sim.done;
 * await sim.close();
 * ```
 */
export class ExchangeSimulator {
  /** HTTP origin, e.g. `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** WebSocket origin, e.g. `ws://127.0.0.1:PORT`. */
  readonly wsOrigin: string;

  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #speed: number | "max";
  readonly #gateTimeoutMs: number;
  readonly #inject: ReadonlyMap<number, readonly string[]>;
  readonly #log: (message: string) => void;
  readonly #clock: boolean;
  readonly #clockOffsetMs: number;
  /** The capture's last recorded time, ms: every run's closing clock. */
  readonly #endTs: number;
  /** REST records served at any time, by key. */
  readonly #static: Map<string, string>;
  /** Synthesized routes of the capture's exchange, by `METHOD path`. */
  readonly #synth: Readonly<Record<string, Synthesize>>;
  /** Timelines by WebSocket path. */
  readonly #timelines: Map<string, Timeline>;
  /** Timeline owning each timeline REST key. */
  readonly #restOwner: Map<string, Timeline>;
  readonly #sockets = new Set<WebSocket>();
  #doneWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #framesSent = 0;
  #framesInjected = 0;
  #runs = 0;
  #closed = false;

  private constructor(
    capture: Capture,
    options: SimulatorOptions,
    listen: (
      handler: Deno.ServeHandler<Deno.NetAddr>,
    ) => Deno.HttpServer<Deno.NetAddr>,
  ) {
    const speed = options.speed;
    if (
      speed !== "max" &&
      !(typeof speed === "number" && speed > 0 && Number.isFinite(speed))
    ) {
      throw new RangeError(
        `Speed must be a positive number or "max": ${speed}`,
      );
    }
    this.#speed = speed;
    this.#gateTimeoutMs = options.gateTimeoutMs ?? 3000;
    this.#log = options.log ??
      ((m) => processLog().warn(m, { actor: "simulator" }));
    this.#clock = options.clock ?? false;
    this.#clockOffsetMs = options.clockOffsetMs ?? 0;
    let endTs = -Infinity;
    for (const r of capture.records) if (r.ts > endTs) endTs = r.ts;
    this.#endTs = endTs;
    const inject = new Map<number, string[]>();
    for (const { afterFrame, text } of options.inject ?? []) {
      const list = inject.get(afterFrame);
      if (list) list.push(text);
      else inject.set(afterFrame, [text]);
    }
    this.#inject = inject;

    const { statics, timelines, restOwner } = buildTimelines(capture);
    this.#static = statics;
    this.#synth = SYNTHESIZED[capture.exchange] ?? {};
    this.#timelines = timelines;
    this.#restOwner = restOwner;

    this.#server = listen((req) => this.#handle(req));
    const port = this.#server.addr.port;
    this.origin = `http://127.0.0.1:${port}`;
    this.wsOrigin = `ws://127.0.0.1:${port}`;
  }

  /**
   * Starts a simulator for `capture` on 127.0.0.1 with a random port.
   * @param capture the recording to serve (see `readCapture`).
   * @param options speed, REST gate timeout and injected frames.
   * @returns the running simulator; stop it with {@link ExchangeSimulator.close}.
   * @throws {RangeError} when `options.speed` is neither a positive number nor `"max"`.
   * @example
   * ```ts
   * const sim = await ExchangeSimulator.start(await readCapture(files), { speed: 10 });
   * ```
   */
  static async start(
    capture: Capture,
    options: SimulatorOptions,
  ): Promise<ExchangeSimulator> {
    let ready!: () => void;
    const listening = new Promise<void>((resolve) => ready = resolve);
    const sim = new ExchangeSimulator(
      capture,
      options,
      (handler) =>
        Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen: () => ready() },
          handler,
        ),
    );
    await listening;
    return sim;
  }

  /**
   * A promise that resolves once the latest run of every WebSocket path has
   * delivered its whole timeline (at once when there is no WebSocket path).
   * A reconnection before that point makes it wait for the new run; an
   * abandoned run never resolves it. Rejects when the simulator is closed
   * first.
   * @returns a fresh promise on each access.
   */
  get done(): Promise<void> {
    if (this.#allComplete()) return Promise.resolve();
    if (this.#closed) {
      return Promise.reject(
        new Error("Simulator closed before the end of playback"),
      );
    }
    return new Promise((resolve, reject) =>
      this.#doneWaiters.push({ resolve, reject })
    );
  }

  /**
   * Recorded frames sent over all runs and paths (injected frames excluded).
   * @returns the count.
   */
  get framesSent(): number {
    return this.#framesSent;
  }

  /**
   * Injected frames sent over all runs and paths.
   * @returns the count.
   */
  get framesInjected(): number {
    return this.#framesInjected;
  }

  /**
   * Runs started (WebSocket connections accepted) over all paths.
   * @returns the count.
   */
  get runs(): number {
    return this.#runs;
  }

  /**
   * WebSocket paths served, each its own timeline.
   * @returns the paths, e.g. `["/stream"]`.
   */
  get wsPaths(): string[] {
    return [...this.#timelines.keys()];
  }

  /**
   * Stops playback, answers held requests with 503, closes client sockets and
   * shuts the server down. Pending {@link ExchangeSimulator.done} promises
   * reject.
   * @returns when the server has shut down.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timelines.values()) {
      t.run?.abort.abort();
      t.run = undefined;
      for (const list of t.waiters.values()) for (const w of list) w(null);
      t.waiters.clear();
    }
    const err = new Error("Simulator closed before the end of playback");
    for (const w of this.#doneWaiters) w.reject(err);
    this.#doneWaiters = [];
    const closing: Promise<void>[] = [];
    for (const s of this.#sockets) {
      if (s.readyState === WebSocket.CLOSED) continue;
      closing.push(
        new Promise((resolve) => s.addEventListener("close", () => resolve())),
      );
      if (s.readyState !== WebSocket.CLOSING) s.close(1001, "simulator closed");
    }
    await Promise.race([Promise.all(closing), sleep(1000)]);
    await this.#server.shutdown();
  }

  /** Routes one request. */
  #handle(req: Request): Response | Promise<Response> {
    const url = new URL(req.url);
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const t = this.#timelines.get(url.pathname);
      if (!t || this.#closed) {
        return json(404, {
          error: `No recorded WebSocket connection on ${url.pathname}`,
        });
      }
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.binaryType = "arraybuffer";
      this.#sockets.add(socket);
      socket.addEventListener("open", () => this.#startRun(t, socket));
      socket.addEventListener("close", () => {
        this.#sockets.delete(socket);
        if (t.run?.socket === socket) {
          t.run.abort.abort();
          t.run = undefined;
        }
      });
      // Client frames (subscriptions, pings) are accepted and ignored.
      return response;
    }
    const synth = this.#synth[`${req.method} ${url.pathname}`];
    if (synth) {
      return json(
        200,
        synth({ wsOrigin: this.wsOrigin, wsPaths: this.wsPaths }),
      );
    }
    if (req.method !== "GET") {
      return json(405, { error: `Method ${req.method} not recorded` });
    }
    const key = url.pathname + url.search;
    const owner = this.#restOwner.get(key);
    if (owner) return this.#timelineRest(owner, key);
    const body = this.#static.get(key);
    if (body !== undefined) {
      return new Response(body, {
        headers: { "content-type": "application/json" },
      });
    }
    return json(404, { error: `No recorded response for GET ${key}` });
  }

  /** Answers a request for a timeline REST record, holding it if not reached yet. */
  async #timelineRest(t: Timeline, key: string): Promise<Response> {
    const run = t.run;
    const passed = run?.passed.get(key);
    if (run && passed !== undefined) {
      run.requested.add(key);
      // Answered where the stream is now: say so on the clock.
      this.#sendClock(run, Number.isNaN(run.clock) ? t.baseTs : run.clock, key);
      return new Response(passed, {
        headers: { "content-type": "application/json" },
      });
    }
    // Held without watching `req.signal`: a request whose client went away is
    // still answered (into the void) when its record is reached.
    const body = await new Promise<string | null>((resolve) => {
      const list = t.waiters.get(key);
      if (list) list.push(resolve);
      else t.waiters.set(key, [resolve]);
      t.run?.wake?.();
    });
    if (body === null) {
      return json(503, { error: `Playback stopped before GET ${key}` });
    }
    return new Response(body, {
      headers: { "content-type": "application/json" },
    });
  }

  /** Abandons the path's current run and starts a new one for `socket`. */
  #startRun(t: Timeline, socket: WebSocket): void {
    if (this.#closed) return;
    t.run?.abort.abort();
    const run: Run = {
      socket,
      abort: new AbortController(),
      passed: new Map(),
      requested: new Set(),
      clock: NaN,
    };
    t.run = run;
    t.complete = false;
    this.#runs++;
    this.#play(t, run).catch((e) => {
      if (!run.abort.signal.aborted) {
        this.#log(`simulator ${t.path}: playback failed: ${e}`);
      }
    });
  }

  /** Plays one run of a timeline until it ends or is abandoned. */
  async #play(t: Timeline, run: Run): Promise<void> {
    const signal = run.abort.signal;
    const speed = this.#speed;
    let clockStart = performance.now();
    let sent = 0; // recorded frames of this run
    let sinceYield = 0;
    this.#sendClock(run, t.baseTs);
    for (let i = 0; i < t.steps.length; i++) {
      const step = t.steps[i];
      if (speed !== "max") {
        const target = clockStart + (step.ts - t.baseTs) / speed;
        for (
          let d = target - performance.now();
          d >= 1;
          d = target - performance.now()
        ) {
          await sleep(Math.min(d, SLEEP_CHUNK_MS), signal);
          if (signal.aborted) return;
          sinceYield = 0;
        }
      }
      if (step.kind === "rest") {
        const waited = await this.#gate(t, run, step);
        if (signal.aborted) return;
        clockStart += waited; // the playback clock stands still at a gate
        sinceYield = 0;
        continue;
      }
      if (run.socket.readyState !== WebSocket.OPEN) return;
      if (step.ts !== run.clock) this.#sendClock(run, step.ts);
      run.socket.send(step.binary ?? step.text!);
      this.#framesSent++;
      const extra = this.#inject.get(sent);
      if (extra) {
        for (const text of extra) run.socket.send(text);
        this.#framesInjected += extra.length;
      }
      sent++;
      if (++sinceYield >= YIELD_EVERY) {
        await macrotask();
        if (signal.aborted) return;
        sinceYield = 0;
      }
    }
    if (this.#endTs > run.clock) this.#sendClock(run, this.#endTs);
    t.complete = true;
    if (this.#allComplete()) {
      for (const w of this.#doneWaiters) w.resolve();
      this.#doneWaiters = [];
    }
  }

  /**
   * Waits at a timeline REST record until it has been requested (or the gate
   * times out), then answers the held requests and marks it passed.
   * @returns wall time spent waiting, ms.
   */
  async #gate(t: Timeline, run: Run, step: RestStep): Promise<number> {
    const demanded = () =>
      (t.waiters.get(step.key)?.length ?? 0) > 0 || run.requested.has(step.key);
    const t0 = performance.now();
    if (!demanded()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, this.#gateTimeoutMs);
        run.abort.signal.addEventListener("abort", finish, { once: true });
        run.wake = () => {
          if (demanded()) finish();
        };
        function finish() {
          clearTimeout(timer);
          run.abort.signal.removeEventListener("abort", finish);
          run.wake = undefined;
          resolve();
        }
      });
      if (run.abort.signal.aborted) return 0;
      if (!demanded()) {
        this.#log(
          `simulator ${t.path}: GET ${step.key} not requested within ${this.#gateTimeoutMs} ms, skipped`,
        );
      }
    }
    run.passed.set(step.key, step.body);
    run.requested.delete(step.key);
    const list = t.waiters.get(step.key);
    if (list) {
      t.waiters.delete(step.key);
      for (const w of list) {
        this.#sendClock(run, step.ts, step.key);
        w(step.body);
      }
    }
    return performance.now() - t0;
  }

  /**
   * With `clock` on, sends a clock frame on the run's socket (when open),
   * shifted by the clock offset.
   * @param run the run.
   * @param ts recorded time, ms.
   * @param rest the key of the REST response sent right after it.
   */
  #sendClock(run: Run, ts: number, rest?: string): void {
    if (!this.#clock || run.socket.readyState !== WebSocket.OPEN) return;
    run.socket.send(clockFrame(ts + this.#clockOffsetMs, rest));
    run.clock = ts;
  }

  /** Whether every timeline's latest run is complete. */
  #allComplete(): boolean {
    for (const t of this.#timelines.values()) if (!t.complete) return false;
    return true;
  }
}

/** Splits a capture into static REST bodies and per-path timelines. */
function buildTimelines(capture: Capture): {
  statics: Map<string, string>;
  timelines: Map<string, Timeline>;
  restOwner: Map<string, Timeline>;
} {
  const records = capture.records;
  let firstOpen = Infinity;
  const connPath = new Map<string, string>();
  const baseTs = new Map<string, number>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.kind !== "open") continue;
    const path = new URL(r.url).pathname || "/";
    connPath.set(r.url, path);
    if (!baseTs.has(path)) baseTs.set(path, r.ts); // records are sorted by ts
    if (r.ts < firstOpen) firstOpen = r.ts;
  }
  const steps = new Map<string, Step[]>();
  for (const path of baseTs.keys()) steps.set(path, []);
  // Timeline REST records go to the earliest-opened path (first in `baseTs`).
  const restPath: string | undefined = baseTs.keys().next().value;
  const statics = new Map<string, string>();
  const restKeys = new Set<string>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.kind === "recv") {
      const path = connPath.get(r.conn);
      if (path === undefined) continue; // unreachable: a recv always follows its open
      if (r.ts >= baseTs.get(path)!) steps.get(path)!.push(r);
    } else if (r.kind === "http") {
      const key = keyOf(r.url);
      if (restPath === undefined || r.ts < firstOpen) statics.set(key, r.body);
      else {
        steps.get(restPath)!.push({
          kind: "rest",
          ts: r.ts,
          key,
          body: r.body,
        });
        restKeys.add(key);
      }
    }
  }
  const timelines = new Map<string, Timeline>();
  for (const [path, list] of steps) {
    timelines.set(path, {
      path,
      baseTs: baseTs.get(path)!,
      steps: list,
      waiters: new Map(),
      complete: false,
    });
  }
  const restOwner = new Map<string, Timeline>();
  if (restPath !== undefined) {
    const owner = timelines.get(restPath)!;
    for (const key of restKeys) restOwner.set(key, owner);
  }
  return { statics, timelines, restOwner };
}
