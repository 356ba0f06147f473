/**
 * Order-book synchronisation, written once for every venue. Adapters declare
 * their rule as data ({@link SyncRule}); this module buffers deltas until a
 * snapshot arrives, aligns the snapshot with the buffered deltas, and checks
 * the sequence of every later delta. A failed check is reported as a gap so
 * the caller resyncs; it never throws.
 *
 * @module
 */

import type { BookDelta, BookSnapshot } from "./events.ts";

/**
 * How a venue's books synchronise.
 *
 * `rest`: deltas are sequenced and a REST snapshot is fetched to start from.
 * - `link: "next"`: each delta's `first` is the previous delta's `last + 1`
 *   (Binance spot `U == prev u + 1`).
 * - `link: "prev"`: each delta's `prev` equals the previous delta's `last`
 *   (Binance USD-M `pu == prev u`).
 * - `align`: the first delta applied after a snapshot with sequence `S` must
 *   cover `S + align`, i.e. `first <= S + align <= last`, or link to the
 *   snapshot as it links to a delta (`prev == S`, `first == S + 1`); deltas
 *   with `last < S + align` are older than the snapshot and dropped.
 *   Binance spot uses 1, Binance USD-M uses 0. The link matters on USD-M,
 *   whose update ids skip: when the snapshot's `lastUpdateId` is the `u` of a
 *   diff that was not buffered, the next diff has `U > lastUpdateId` but
 *   `pu == lastUpdateId`, and follows the snapshot directly.
 *
 * `stream`: the venue sends the snapshot in the stream when subscribing;
 * deltas before it are ignored. `link` checks deltas as above, or `none` for
 * venues that number nothing (their checksums, if any, guard the book).
 *
 * `snapshots`: every book message is a full snapshot (HTX `depth.step0`,
 * Hyperliquid `l2Book`); nothing to link.
 */
export type SyncRule =
  | {
    readonly kind: "rest";
    readonly link: "next" | "prev";
    readonly align: 0 | 1;
  }
  | { readonly kind: "stream"; readonly link: "next" | "prev" | "none" }
  | { readonly kind: "snapshots" };

/**
 * Result of feeding a delta: apply it; it was buffered until a REST snapshot
 * (fetch one); it was ignored while waiting for an in-stream snapshot; it was
 * older than the book; or a gap (resync).
 */
export type DeltaVerdict = "apply" | "buffered" | "waiting" | "stale" | "gap";

/** The sequence fields of a delta, all {@link BookSync.advance} reads. */
export type DeltaHeader = Pick<BookDelta, "first" | "last" | "prev">;

/** Result of feeding a snapshot. */
export interface SnapshotVerdict {
  /** `synced`: apply the snapshot then `apply`; `too_old`: fetch a newer snapshot. */
  readonly result: "synced" | "too_old" | "gap";
  /** Buffered deltas to apply after the snapshot, in order. */
  readonly apply: BookDelta[];
}

/** Options for {@link BookSync}. */
export interface BookSyncOptions {
  /**
   * Most deltas buffered while waiting for a snapshot; the oldest are dropped.
   * @default 10000
   */
  maxBuffer?: number;
}

/**
 * Per-symbol sequence state machine.
 *
 * @example Binance spot
 * ```ts
 * const sync = new BookSync({ kind: "rest", link: "next", align: 1 });
 * sync.delta(d1);            // "buffered"
 * const v = sync.snapshot(s); // { result: "synced", apply: [d1] }
 * ```
 */
export class BookSync {
  /** `buffering` until a snapshot aligns; then `synced`. */
  state: "buffering" | "synced" = "buffering";
  /** Venue sequence the book is at, or -1 when not synced. */
  lastSeq = -1;
  readonly #rule: SyncRule;
  readonly #maxBuffer: number;
  #buffer: BookDelta[] = [];
  /** True right after a snapshot, before the first delta is applied. */
  #fresh = false;
  /**
   * The highest sequence any delta has shown (`rest` rule), kept across
   * resets: a snapshot that cannot bring the book at least this far is
   * older than what was already seen, and is refused.
   */
  #seen = -1;

  /**
   * @param rule the venue's sync rule.
   * @param options buffering limits.
   */
  constructor(rule: SyncRule, options: BookSyncOptions = {}) {
    this.#rule = rule;
    this.#maxBuffer = options.maxBuffer ?? 10_000;
  }

  /**
   * Feeds one delta.
   * @param d the delta, in arrival order.
   * @returns what the caller must do with it; on `gap` the state is back to
   * buffering (with `d` buffered: do not reset again) and the caller must
   * fetch a snapshot.
   */
  delta(d: BookDelta): DeltaVerdict {
    if (this.advance(d)) return "apply";
    const rule = this.#rule;
    if (rule.kind !== "rest") {
      if (this.state === "buffering") return "waiting";
      // Synced, and it does not follow: old news, or a gap.
      if (d.last <= this.lastSeq) return "stale";
      this.reset();
      return "gap";
    }
    if (d.last > this.#seen) this.#seen = d.last;
    if (this.state === "buffering") {
      if (this.#buffer.length >= this.#maxBuffer) this.#buffer.shift();
      this.#buffer.push(d);
      return "buffered";
    }
    // Synced, and it does not follow: anything ending before the edge is
    // old news (see `advance`), the rest a gap.
    const edge = this.#fresh ? this.lastSeq + rule.align : this.lastSeq + 1;
    if (d.last < edge) return "stale";
    this.reset();
    this.#buffer.push(d);
    return "gap";
  }

  /**
   * Takes a delta only when it applies: the book is synced and the delta
   * follows it, the case where {@link BookSync.delta} returns `apply` (and
   * then the same state change). Otherwise nothing changes, and the caller
   * feeds the delta to `delta`, which buffers it, drops it or finds the gap.
   * Reads only the sequence fields, so a caller holding a delta's header
   * without its event (a venue scanner's) need not build one.
   * @param d the delta's sequence fields, in arrival order.
   * @returns true when the caller must apply the delta.
   * @example
   * ```ts
   * if (sync.advance({ first: 101, last: 105, prev: 100 })) book.apply(…);
   * ```
   */
  advance(d: DeltaHeader): boolean {
    if (this.state !== "synced") return false;
    const rule = this.#rule;
    if (rule.kind !== "rest") {
      if (rule.kind === "snapshots" || rule.link === "none") return true;
      if (d.last <= this.lastSeq || !this.#linked(d, this.lastSeq)) {
        return false;
      }
      this.lastSeq = d.last;
      return true;
    }
    // Right after a snapshot S, the first delta to apply covers S + align or
    // links to S; later, anything ending at or before the book's sequence is
    // old news.
    const edge = this.#fresh ? this.lastSeq + rule.align : this.lastSeq + 1;
    if (d.last < edge) return false;
    const ok = this.#fresh
      ? d.first <= edge || this.#linked(d, this.lastSeq)
      : this.#linked(d, this.lastSeq);
    if (!ok) return false;
    if (d.last > this.#seen) this.#seen = d.last;
    this.#fresh = false;
    this.lastSeq = d.last;
    return true;
  }

  /**
   * Feeds a snapshot and aligns the buffered deltas with it.
   * @param s the snapshot.
   * @returns the verdict; on `synced` the caller applies `s` then `apply`.
   */
  snapshot(s: BookSnapshot): SnapshotVerdict {
    const rule = this.#rule;
    if (rule.kind !== "rest") {
      this.snapshotAt(s.sequence);
      return { result: "synced", apply: [] };
    }
    const edge = s.sequence + rule.align;
    let i = 0;
    while (i < this.#buffer.length && this.#buffer[i].last < edge) i++;
    const pending = this.#buffer.slice(i);
    if (
      pending.length > 0 && pending[0].first > edge &&
      !this.#linked(pending[0], s.sequence)
    ) {
      this.#buffer = pending;
      return { result: "too_old", apply: [] };
    }
    for (let j = 1; j < pending.length; j++) {
      if (!this.#linked(pending[j], pending[j - 1].last)) {
        this.#buffer = pending.slice(j);
        return { result: "gap", apply: [] };
      }
    }
    const last = pending.length ? pending[pending.length - 1].last : s.sequence;
    if (last < this.#seen) {
      // Updates up to #seen were seen and are not in the buffer any more:
      // this snapshot would leave the book behind them.
      this.#buffer = pending;
      return { result: "too_old", apply: [] };
    }
    this.#buffer = [];
    this.state = "synced";
    this.#fresh = pending.length === 0;
    this.lastSeq = last;
    return { result: "synced", apply: pending };
  }

  /**
   * An in-stream image under a rule other than `rest` (`stream`,
   * `snapshots`): the image is the book whatever came before, so the book
   * is in sync at its sequence; `snapshot` of it does the same.
   * @param sequence the image's sequence (-1 when the venue numbers none).
   * @throws {Error} under the `rest` rule, which aligns a snapshot with the
   *   buffered deltas (use `snapshot`).
   */
  snapshotAt(sequence: number): void {
    if (this.#rule.kind === "rest") {
      throw new Error("snapshotAt under the rest rule: use snapshot()");
    }
    this.state = "synced";
    this.lastSeq = sequence;
  }

  /**
   * Starts over on a new stream (a new connection): drops the book state and
   * what was seen, since a venue may renumber across connections.
   */
  restart(): void {
    this.#seen = -1;
    this.reset();
  }

  /**
   * Drops the book state; deltas are buffered until the next snapshot. The
   * highest sequence seen is kept, so an older snapshot is still refused.
   */
  reset(): void {
    this.state = "buffering";
    this.lastSeq = -1;
    this.#fresh = false;
    this.#buffer = [];
  }

  #linked(d: DeltaHeader, last: number): boolean {
    const link = (this.#rule as { link: string }).link;
    return link === "next" ? d.first === last + 1 : d.prev === last;
  }
}
