/**
 * One WebSocket session of a connection actor: open, subscribe,
 * keepalive, silence watchdog and the proactive reconnect some venues
 * require, and the receive time of each frame: the wall clock live, or the
 * recorded clock the exchange simulator sends in a replay (its clock frames,
 * see `actors/market/clock.ts`, are consumed here). Knows nothing of any
 * venue's frames.
 *
 * @module
 */

import { parseClockFrame } from "../market/clock.ts";

/**
 * Where receive times come from: `wall` is `Date.now()` when a frame
 * arrives; `recorded` is the last clock frame's time (0 before the first).
 */
export type ClockMode = "wall" | "recorded";

/** Options for {@link runSocket}. */
export interface SocketOptions {
  /** ws:// or wss:// URL. */
  url: string;
  /** Frames sent right after the socket opens. */
  subscribe: readonly string[];
  /**
   * Called for every received data frame (text, or bytes for binary frames)
   * with its local receive time (ms since epoch, see {@link clock}) and
   * whether it is only a heartbeat.
   */
  onFrame(frame: string | Uint8Array, recvTs: number, heartbeat: boolean): void;
  /**
   * Where receive times come from. With `recorded`, clock frames set the
   * receive time of the frames after them and go to {@link onClock}, never
   * to {@link onFrame}; they do not count as life for the watchdog.
   * @default "wall"
   */
  clock?: ClockMode;
  /**
   * Recorded clock only: a clock frame arrived, in order with the data
   * frames: its time (ms since epoch) and the REST request key it names
   * (`ClockFrame.rest`), if any.
   */
  onClock?(ts: number, rest: string | undefined): void;
  /**
   * Whether a frame is only a heartbeat; heartbeats do not count as life for
   * the silence watchdog, so a feed that sends nothing else is reconnected.
   * Absent: every frame counts.
   */
  isHeartbeat?(frame: string | Uint8Array): boolean;
  /** Called once the socket is open and subscriptions are sent, with a sender. */
  onOpen?(send: (frame: string) => void): void;
  /**
   * Close and reconnect after this many ms without a frame other than a
   * heartbeat.
   * @default 30000
   */
  silenceMs?: number;
  /** Close and reconnect before the venue does, ms since open. */
  maxAgeMs?: number;
  /** An application-level ping frame and its period, for venues that need one. */
  keepalive?: { frame: string; intervalMs: number };
  /** Aborting closes the socket. */
  signal: AbortSignal;
}

/**
 * Runs one WebSocket session until it closes for any reason.
 * @param options the session.
 * @returns why the session ended, e.g. `closed 1006` or `no data for 30000 ms`.
 * @example
 * ```ts
 * const why = await runSocket({ url, subscribe: [], onFrame: console.log, signal });
 * ```
 */
export function runSocket(options: SocketOptions): Promise<string> {
  const { promise, resolve } = Promise.withResolvers<string>();
  const silenceMs = options.silenceMs ?? 30_000;
  let ws: WebSocket;
  try {
    ws = new WebSocket(options.url);
    ws.binaryType = "arraybuffer";
  } catch (e) {
    return Promise.resolve(`cannot open: ${(e as Error).message}`);
  }
  let last = Date.now();
  let reason = "";
  const timers: ReturnType<typeof setInterval>[] = [];
  const close = (why: string) => {
    if (reason) return;
    reason = why;
    try {
      ws.close(1000);
    } catch { /* already closing */ }
    finish();
  };
  const finish = () => {
    for (const t of timers) clearInterval(t);
    options.signal.removeEventListener("abort", onAbort);
    resolve(reason || "closed");
  };
  const onAbort = () => close("stopped");
  options.signal.addEventListener("abort", onAbort);
  ws.onopen = () => {
    last = Date.now();
    for (const f of options.subscribe) ws.send(f);
    if (options.keepalive) {
      const k = options.keepalive;
      timers.push(setInterval(() => ws.send(k.frame), k.intervalMs));
    }
    if (options.maxAgeMs) {
      timers.push(
        setTimeout(
          () => close(`proactive reconnect after ${options.maxAgeMs} ms`),
          options.maxAgeMs,
        ),
      );
    }
    options.onOpen?.((f) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(f);
    });
  };
  timers.push(setInterval(() => {
    if (Date.now() - last > silenceMs) close(`no data for ${silenceMs} ms`);
  }, Math.min(silenceMs, 1000)));
  const recorded = options.clock === "recorded";
  let clock = 0;
  ws.onmessage = (ev) => {
    const now = Date.now();
    const d = ev.data;
    const frame = typeof d === "string" ? d : new Uint8Array(d as ArrayBuffer);
    if (recorded) {
      const c = parseClockFrame(frame);
      if (c) {
        clock = c.ts;
        options.onClock?.(c.ts, c.rest);
        return;
      }
    }
    const heartbeat = options.isHeartbeat?.(frame) ?? false;
    if (!heartbeat) last = now;
    options.onFrame(frame, recorded ? clock : now, heartbeat);
  };
  ws.onerror = (ev) => {
    if (!reason) {
      reason = `error: ${(ev as ErrorEvent).message ?? "socket error"}`;
    }
  };
  ws.onclose = (ev) => {
    if (!reason) {
      reason = `closed ${ev.code}${ev.reason ? ` ${ev.reason}` : ""}`;
    }
    finish();
  };
  return promise;
}
