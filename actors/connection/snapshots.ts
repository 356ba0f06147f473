/**
 * The snapshot loop: gets a snapshot for a buffering book until one aligns
 * with the buffered deltas, over REST (`snapshotUrl` + `parseSnapshot`) or by
 * asking over the socket (`requestSnapshot`; the reply arrives as an event),
 * with backoff between attempts. One loop per book at a time.
 *
 * @module
 */

import { backoffDelay, sleep } from "../../runtime/backoff.ts";
import type { LogFields } from "../../runtime/log.ts";
import type { BookSpec } from "../adapters/adapter.ts";
import type { BookKeeper, Followed } from "./book_keeper.ts";
import { errorText } from "./rest.ts";
import { type ConnectionCounters, countResync } from "./stats.ts";

/** What the snapshot loop needs from its connection. */
export interface SnapshotDeps {
  /** The venue's book spec. */
  spec: BookSpec;
  /** The books. */
  keeper: BookKeeper;
  /** Counters, updated in place (a snapshot that does not align is a resync). */
  counters: ConnectionCounters;
  /**
   * A REST GET of a snapshot. `take` runs with the body and its receive time
   * (ms since epoch, on the connection's event clock) at the point of the
   * connection's event stream where the response belongs, and its result
   * is returned.
   * @throws {Error} on a transport error, a non-2xx status, or what `take`
   * throws.
   */
  fetch<T>(url: string, take: (body: string, recvTs: number) => T): Promise<T>;
  /**
   * Sends frames on the socket.
   * @returns false when no socket is open.
   */
  send(frames: readonly string[]): boolean;
  /** A snapshot did not align: a resync of `f`, with its cause. */
  onResync?(f: Followed, why: string): void;
  /**
   * Logs a warning.
   * @param msg the line.
   * @param fields its fields: `symbol`, the book's.
   */
  warn(msg: string, fields?: LogFields): void;
  /** Ends every loop (the actor stops). */
  signal: AbortSignal;
}

/**
 * Runs the snapshot loops of one connection.
 *
 * @example
 * ```ts
 * const loops = new SnapshotLoops({ spec, keeper, counters, fetch, send, warn, signal });
 * loops.request(followed); // from KeeperHooks.needSnapshot
 * ```
 */
export class SnapshotLoops {
  readonly #d: SnapshotDeps;
  readonly #running = new Set<Followed>();

  /** @param deps the venue spec, the books and the I/O. */
  constructor(deps: SnapshotDeps) {
    this.#d = deps;
  }

  /**
   * Starts a loop for a buffering book unless one runs or the venue has no
   * way to send a snapshot on request.
   * @param f the book.
   * @returns the loop, which ends when the book is synced or the actor stops.
   */
  request(f: Followed): Promise<void> {
    const { snapshotUrl, parseSnapshot, requestSnapshot } = this.#d.spec;
    if (
      this.#running.has(f) ||
      !(requestSnapshot || (snapshotUrl && parseSnapshot))
    ) return Promise.resolve();
    this.#running.add(f);
    return this.#loop(f).finally(() => this.#running.delete(f));
  }

  async #loop(f: Followed): Promise<void> {
    const { spec, keeper, signal } = this.#d;
    const sym = f.inst.exchangeSymbol;
    const venue = f.inst.exchange;
    for (
      let attempt = 0;
      !signal.aborted && f.sync.state === "buffering";
      attempt++
    ) {
      if (spec.requestSnapshot) {
        this.#d.send(spec.requestSnapshot(sym));
        await sleep(
          backoffDelay(attempt, { baseMs: 1000, maxMs: 10_000 }),
          signal,
        );
        continue;
      }
      try {
        const result = await this.#d.fetch(
          spec.snapshotUrl!(sym),
          (body, recvTs) =>
            keeper.offerSnapshot(
              f,
              spec.parseSnapshot!(body, recvTs, f.inst),
            ),
        );
        if (result === "synced") return;
        countResync(this.#d.counters, "stale");
        this.#d.onResync?.(f, `snapshot ${result}`);
        this.#d.warn(`${venue} ${sym}: snapshot ${result}, refetching`, {
          symbol: sym,
        });
      } catch (e) {
        if (signal.aborted) return;
        this.#d.warn(
          `${venue} ${sym}: snapshot failed (${errorText(e)})`,
          { symbol: sym },
        );
      }
      await sleep(
        backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 }),
        signal,
      );
    }
  }
}
