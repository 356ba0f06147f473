/**
 * The session loop of a connection actor: loads the venue's instruments once,
 * then opens a WebSocket session (after the venue's REST handshake where it
 * has one), and when a session ends for any reason reconnects with jittered
 * backoff until the actor stops. Knows nothing of frames or books.
 *
 * @module
 */

import { backoffDelay, sleep } from "../../runtime/backoff.ts";
import type { Adapter } from "../adapters/adapter.ts";
import type { Instrument } from "../market/events.ts";
import { resolveSymbols } from "../market/symbols.ts";
import { errorText, restRequest, rewrite } from "./rest.ts";
import { type ClockMode, runSocket } from "./socket.ts";

/** Options for {@link Session}. */
export interface SessionOptions {
  /** The venue. */
  adapter: Adapter;
  /** Configured symbols: venue names or selectors. */
  symbols: readonly string[];
  /** The connection group (see `Adapter.connectionGroup`). */
  group: string;
  /** Replaces the adapter's WebSocket origin. */
  wsOrigin?: string;
  /** Replaces the adapter's REST origin. */
  restOrigin?: string;
  /** Reconnect after this long without a data frame, ms. */
  silenceMs: number;
  /** Stops the loop for good. */
  signal: AbortSignal;
  /** The instruments to follow, once, before the first session. */
  onInstruments(found: readonly Instrument[], missing: readonly string[]): void;
  /** A session is connecting (`why` is ""), or ended (`why` says why). */
  onState(state: "connecting" | "disconnected", why: string): void;
  /**
   * A session opened and subscribed; `send` writes to its socket. `url` is
   * the venue's WebSocket URL (before `wsOrigin` replaces its origin) and
   * `subscribed` the frames sent on opening.
   */
  onOpen(
    send: (frame: string) => void,
    url: string,
    subscribed: readonly string[],
  ): void;
  /**
   * A frame was sent on the open socket after its subscriptions, with the
   * venue's WebSocket URL (for the recorder). The socket's own keepalive
   * pings (`Adapter.keepalive`) are not told of.
   */
  onSent?(url: string, frame: string): void;
  /**
   * An instrument metadata response arrived, with the venue's URL (for the
   * recorder). Only GETs: a POST's response (Hyperliquid's `/info`) is not
   * told of, since a replay finds REST responses by path and query alone.
   */
  onMetadata?(url: string, body: string): void;
  /** A frame arrived (see `SocketOptions.onFrame`). */
  onFrame(frame: string | Uint8Array, recvTs: number, heartbeat: boolean): void;
  /**
   * Where receive times come from (see `SocketOptions.clock`).
   * @default "wall"
   */
  clock?: ClockMode;
  /** Recorded clock: a clock frame arrived (see `SocketOptions.onClock`). */
  onClock?(ts: number, rest: string | undefined): void;
  /** Logs a warning. */
  warn(msg: string): void;
}

/**
 * Runs sessions until the actor stops.
 *
 * @example
 * ```ts
 * const s = new Session({ adapter, symbols: ["BTC-USDT"], group: "", silenceMs: 30_000, signal, ... });
 * s.run();
 * s.reconnect(); // end the current session; the loop opens the next
 * ```
 */
export class Session {
  readonly #o: SessionOptions;
  #current: AbortController | null = null;
  #instruments: readonly Instrument[] | null = null;
  #send: ((frame: string) => void) | null = null;

  /** @param options the venue, symbols, endpoints and callbacks. */
  constructor(options: SessionOptions) {
    this.#o = options;
  }

  /**
   * Sends frames on the open socket.
   * @param frames the frames.
   * @returns false when no socket is open (nothing was sent).
   */
  send(frames: readonly string[]): boolean {
    const send = this.#send;
    if (!send) return false;
    for (const f of frames) send(f);
    return true;
  }

  /** Ends the current session; the loop reconnects after its backoff. */
  reconnect(): void {
    this.#current?.abort();
  }

  /**
   * A REST request to the venue (origin replaced when configured).
   * @param url the venue's URL.
   * @param method GET or POST.
   * @param body a JSON body.
   * @returns the response body.
   * @throws {Error} on a transport error or a non-2xx status.
   */
  get(
    url: string,
    method: "GET" | "POST" = "GET",
    body?: string,
  ): Promise<string> {
    return restRequest(url, {
      origin: this.#o.restOrigin,
      method,
      body,
      signal: this.#o.signal,
    });
  }

  /**
   * Runs until the actor's signal aborts.
   * @param onEnd called after each session with why it ended; the loop
   * then waits its backoff.
   */
  async run(onEnd: (why: string) => void): Promise<void> {
    const o = this.#o;
    const ad = o.adapter;
    let attempt = 0;
    while (!o.signal.aborted) {
      this.#current = new AbortController();
      const session = AbortSignal.any([o.signal, this.#current.signal]);
      let why: string;
      try {
        const insts = this.#instruments ??= await this.#loadInstruments();
        o.onState("connecting", "");
        const c = ad.connect;
        const endpoint = c ? await this.get(c.url, c.method) : undefined;
        const symbols = insts.map((i) => i.exchangeSymbol);
        const url = ad.url(symbols, endpoint, o.group);
        const subscribe = ad.subscribe(symbols, o.group);
        why = await runSocket({
          url: rewrite(url, o.wsOrigin),
          subscribe,
          keepalive: ad.keepalive,
          silenceMs: o.silenceMs,
          maxAgeMs: ad.maxConnectionAgeMs,
          signal: session,
          isHeartbeat: (f) => ad.isHeartbeat(f),
          onOpen: (send) => {
            attempt = 0;
            const sent = o.onSent;
            this.#send = sent
              ? (f) => {
                send(f);
                sent(url, f);
              }
              : send;
            o.onOpen(this.#send, url, subscribe);
          },
          onFrame: o.onFrame,
          clock: o.clock,
          onClock: o.onClock,
        });
      } catch (e) {
        why = errorText(e);
      }
      this.#send = null;
      if (o.signal.aborted) break;
      onEnd(why);
      const delay = backoffDelay(attempt++);
      o.warn(`${ad.id}: ${why}; retrying in ${Math.round(delay)} ms`);
      await sleep(delay, o.signal);
    }
  }

  async #loadInstruments(): Promise<readonly Instrument[]> {
    const ad = this.#o.adapter;
    const bodies = await Promise.all(
      ad.metadataUrls.map(async (u, i) => {
        const post = ad.metadataBodies?.[i];
        if (post != null) return this.get(u, "POST", post);
        const body = await this.get(u);
        this.#o.onMetadata?.(u, body);
        return body;
      }),
    );
    const { found, missing } = resolveSymbols(
      this.#o.symbols,
      ad.instruments(bodies),
    );
    if (!found.length) {
      throw new Error(
        `None of the symbols ${this.#o.symbols.join(", ")} is listed`,
      );
    }
    this.#o.onInstruments(found, missing);
    return found;
  }
}
