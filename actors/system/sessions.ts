/**
 * Replay sessions as the main thread keeps them: each session's heatmap hub
 * (its columns, apart from live data), its latest progress and whether it
 * ended, who created it, and the listeners of its SSE streams. The sessions
 * themselves run in the replay actor (`actors/replay.ts`); this routes the
 * actor's `session` output (`ReplayOutput`) and forwards control requests.
 *
 * @module
 */

import { RequestError } from "../../runtime/protocol.ts";
import type {
  ReplayControl,
  ReplayDump,
  ReplayOutput,
  ReplayProgress,
  ReplayRequests,
  ReplaySpec,
} from "../market/requests.ts";
import { HeatmapHub } from "./hub.ts";

/**
 * What a session's SSE streams hear besides columns: its progress, a seek
 * (`reset`: columns restart at `at`; follow {@link ReplaySessions.hub}
 * again) and its end (once).
 */
export type SessionNotice =
  | { kind: "progress"; progress: ReplayProgress }
  | { kind: "reset"; at: number }
  | { kind: "end"; progress: ReplayProgress };

/** Sends a typed request to the replay actor (the supervisor's `request`). */
export type ReplayRequester = <K extends keyof ReplayRequests & string>(
  method: K,
  params: ReplayRequests[K]["params"],
) => Promise<ReplayRequests[K]["result"]>;

/** One session as the main thread keeps it. */
interface Entry {
  hub: HeatmapHub;
  progress: ReplayProgress;
  /** Who created it: an API key, or null without keys. */
  owner: string | null;
  ended: boolean;
  listeners: Set<(n: SessionNotice) => void>;
}

/** Options for {@link ReplaySessions}. */
export interface ReplaySessionsOptions {
  /** Heatmap ticks a session's hub keeps per symbol. */
  history: number;
  /** Bytes a session's hub may hold. */
  historyBytes?: number;
}

/**
 * The registry of replay sessions.
 *
 * @example
 * ```ts
 * const sessions = new ReplaySessions((m, p) => sup.request("replay", m, p), { history: 3600 });
 * // supervisor onOutput: if (channel === "session") sessions.onOutput(data as ReplayOutput);
 * const p = await sessions.create({ source: "files", files, speed: 10 }, null);
 * const feed = sessions.hub(p.id)!.follow("BTC-USDT", null);
 * ```
 */
export class ReplaySessions {
  readonly #request: ReplayRequester;
  readonly #opts: ReplaySessionsOptions;
  readonly #entries = new Map<string, Entry>();
  #next = 1;

  /**
   * @param request sends a request to the replay actor.
   * @param options what each session's hub keeps.
   */
  constructor(request: ReplayRequester, options: ReplaySessionsOptions) {
    this.#request = request;
    this.#opts = options;
  }

  #hub(): HeatmapHub {
    return new HeatmapHub(this.#opts.history, {
      historyBytes: this.#opts.historyBytes,
    });
  }

  /**
   * Creates a session in the replay actor.
   * @param spec what to play.
   * @param owner the creating API key, or null.
   * @returns its first progress (`id` is the session's id).
   * @throws {RequestError} `bad_request`, `too_many_sessions` from the actor.
   * @throws {ActorDownError} when the replay actor is down.
   */
  async create(
    spec: ReplaySpec,
    owner: string | null,
  ): Promise<ReplayProgress> {
    const id = `r${this.#next++}`;
    const entry: Entry = {
      hub: this.#hub(),
      progress: undefined as unknown as ReplayProgress,
      owner,
      ended: false,
      listeners: new Set(),
    };
    // Registered first: columns may arrive before the reply.
    this.#entries.set(id, entry);
    try {
      const p = await this.#request("replayCreate", { id, spec });
      entry.progress ??= p;
      return entry.progress;
    } catch (e) {
      this.#entries.delete(id);
      throw e;
    }
  }

  /**
   * A session's latest progress, from the actor.
   * @param id session id.
   * @throws {RequestError} `not_found`.
   */
  progress(id: string): Promise<ReplayProgress> {
    this.#entry(id);
    return this.#request("replayProgress", { id });
  }

  /**
   * Changes a session (speed, seek, pause/resume, loop).
   * @param id session id.
   * @param control the change.
   * @returns its progress after the change.
   * @throws {RequestError} `not_found`, `bad_request`.
   */
  async control(id: string, control: ReplayControl): Promise<ReplayProgress> {
    this.#entry(id);
    const p = await this.#request("replayControl", { id, control });
    this.#note(id, { kind: "progress", progress: p });
    return p;
  }

  /**
   * Stops a session and forgets it; its streams end.
   * @param id session id.
   * @returns its last progress (state `stopped`).
   * @throws {RequestError} `not_found`.
   */
  async stop(id: string): Promise<ReplayProgress> {
    const e = this.#entry(id);
    let p: ReplayProgress;
    try {
      p = await this.#request("replayStop", { id });
    } finally {
      this.#entries.delete(id);
    }
    p = { ...p, state: "stopped", expectedEnd: null };
    for (const l of e.listeners) l({ kind: "progress", progress: p });
    e.listeners.clear();
    return p;
  }

  /**
   * A session's books and counters (the CLI's `--dump`).
   * @param id session id.
   * @param depth levels per side.
   * @throws {RequestError} `not_found`.
   */
  books(
    id: string,
    depth?: number,
  ): Promise<ReplayDump> {
    this.#entry(id);
    return this.#request("replayBooks", { id, depth });
  }

  /**
   * The session's heatmap hub now (a new one after each seek), or undefined
   * for an unknown session.
   * @param id session id.
   */
  hub(id: string): HeatmapHub | undefined {
    return this.#entries.get(id)?.hub;
  }

  /**
   * The latest progress the actor sent, or undefined for an unknown session.
   * @param id session id.
   */
  latest(id: string): ReplayProgress | undefined {
    return this.#entries.get(id)?.progress;
  }

  /**
   * Whether the session has reached its end (and not looped).
   * @param id session id.
   */
  ended(id: string): boolean {
    return this.#entries.get(id)?.ended ?? false;
  }

  /**
   * Sessions alive that `owner` created.
   * @param owner an API key.
   */
  count(owner: string): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.owner === owner) n++;
    return n;
  }

  /**
   * Who created a session: its API key, null without keys, undefined for
   * an unknown session.
   * @param id session id.
   */
  owner(id: string): string | null | undefined {
    return this.#entries.get(id)?.owner;
  }

  /** Ids of the sessions alive. */
  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Listens to a session's notices until the returned function is called.
   * @param id session id.
   * @param listener gets every progress, reset and end.
   * @returns unsubscribe.
   * @throws {RequestError} `not_found`.
   */
  watch(id: string, listener: (n: SessionNotice) => void): () => void {
    const e = this.#entry(id);
    e.listeners.add(listener);
    return () => e.listeners.delete(listener);
  }

  /**
   * Routes one message of the replay actor's `session` channel.
   * @param m the message.
   */
  onOutput(m: ReplayOutput): void {
    const e = this.#entries.get(m.id);
    if (!e) return;
    switch (m.kind) {
      case "columns":
        e.hub.push(m.batch);
        return;
      case "reset":
        e.hub = this.#hub();
        e.ended = false;
        this.#note(m.id, { kind: "reset", at: m.at });
        return;
      case "progress":
        e.progress = m.progress;
        this.#note(m.id, { kind: "progress", progress: m.progress });
        return;
      case "end":
        e.progress = m.progress;
        if (e.ended) return;
        e.ended = true;
        this.#note(m.id, { kind: "end", progress: m.progress });
        return;
    }
  }

  #note(id: string, n: SessionNotice): void {
    const e = this.#entries.get(id);
    if (!e) return;
    if (n.kind === "progress") e.progress = n.progress;
    for (const l of e.listeners) l(n);
  }

  #entry(id: string): Entry {
    const e = this.#entries.get(id);
    if (!e) {
      throw new RequestError("not_found", `No replay session ${id}`);
    }
    return e;
  }
}
