/**
 * One replay session: paces a {@link ReplaySource} on the event clock at a
 * speed (0.1× to 1000×, or as fast as it goes), runs the same aggregation
 * and consolidation as live over its book samples and batches (the source
 * buckets its own books on the ticks, as a connection actor does; the
 * aggregation and the source share one table of bucket sizes), and reports
 * columns, progress, seeks and its end.
 *
 * Pacing: while playing, event time runs `speed` times as fast as wall time
 * from an anchor (set at start, resume, seek and each change of speed); each
 * slice applies the events up to the event time reached (at most
 * {@link SLICE_EVENTS} of them, then it yields), and hands the batches,
 * stamped with that clock, to the aggregation. At `max` it applies slices
 * back to back, yielding between them so control requests get through.
 * Columns depend only on the events and their recorded times, never on the
 * slices, so a session gives the same columns at any speed. A silence of
 * more than {@link SKIP_MS} of event time (captures of different days
 * played together) is skipped at once, at any speed.
 *
 * Seek: the source is positioned at the instant (books exact there), a
 * fresh aggregation starts from it, and `onReset` says so; columns resume
 * at the next tick boundary after it. At the end of its range a session
 * ends (`onEnd`, once) and stays ended; with `loop` it seeks back to the
 * start instead.
 *
 * @module
 */

import { clearImmediate, setImmediate } from "node:timers";
import type { EventBatch } from "../market/batch.ts";
import { Aggregator, type AggregatorConfig } from "../market/aggregate.ts";
import { consolidate } from "../market/consolidate.ts";
import { type ColumnBatch, encodeColumns } from "../market/heatmap.ts";
import { BucketSizes } from "../market/sampler.ts";
import type {
  ReplayControl,
  ReplayProgress,
  ReplaySpec,
  ReplayState,
} from "../market/requests.ts";
import type { ReplaySource } from "./source.ts";

/** Events applied in one slice before the session yields. */
export const SLICE_EVENTS = 20_000;

/** Wall time between progress reports while playing, ms. */
export const PROGRESS_MS = 250;

/**
 * Event time without events after which a session skips to the next event
 * at once (and the longest event time one slice covers), ms.
 */
export const SKIP_MS = 60_000;

/** Longest wait between two slices at a finite speed, wall ms. */
const MAX_WAIT_MS = 50;

/** Slowest and fastest finite speed. */
export const SPEED_RANGE = [0.1, 1000] as const;

/** Options for {@link ReplaySession}. */
export interface SessionOptions {
  /** The session's id. */
  id: string;
  /** What it plays (range, speed, loop, paused). */
  spec: ReplaySpec;
  /** The events, opened. */
  source: ReplaySource;
  /** The aggregation's settings (tick, range, buckets, aliases). */
  aggregator: Omit<AggregatorConfig, "inputs">;
  /** Consolidation's outlier threshold, fraction of the consensus mid. */
  outlierThreshold: number;
  /** Receives each tick's per-exchange and consolidated columns. */
  onColumns(batch: ColumnBatch): void;
  /** Receives progress about every {@link PROGRESS_MS} and on each change. */
  onProgress(p: ReplayProgress): void;
  /** After a seek: columns restart at `at`. */
  onReset(at: number): void;
  /** Once, at the end of the range. */
  onEnd(p: ReplayProgress): void;
  /** Receives every batch the source gave (an importing session stores them). */
  onBatches?(batches: EventBatch[]): void;
  /** Receives NDJSON of the applied events (when the source keeps them). */
  onEvents?(ndjson: string): void;
  /** Reports a failure of the source; the session is then `failed`. */
  onError?(e: Error): void;
  /**
   * Monotonic wall clock, ms.
   * @default performance.now
   */
  now?: () => number;
}

/**
 * A session's validated speed.
 * @param speed a multiple of real time or `max`.
 * @returns the speed.
 * @throws {RangeError} outside {@link SPEED_RANGE}.
 */
export function checkSpeed(speed: number | "max"): number | "max" {
  if (speed === "max") return speed;
  if (!(speed >= SPEED_RANGE[0] && speed <= SPEED_RANGE[1])) {
    throw new RangeError(
      `speed ${speed} is outside ${SPEED_RANGE[0]}–${
        SPEED_RANGE[1]
      } (or "max")`,
    );
  }
  return speed;
}

/**
 * A running replay session.
 *
 * @example
 * ```ts
 * const s = new ReplaySession({ id: "r1", spec, source, aggregator, outlierThreshold: 0.02, onColumns, onProgress, onReset, onEnd });
 * await s.start();
 * await s.control({ action: "pause" });
 * await s.control({ seek: s.progress().from + 5_000, action: "resume" });
 * ```
 */
export class ReplaySession {
  readonly id: string;
  readonly #o: SessionOptions;
  readonly #src: ReplaySource;
  readonly #now: () => number;
  readonly from: number;
  readonly to: number;
  #state: ReplayState = "loading";
  #speed: number | "max";
  #loop: boolean;
  #agg!: Aggregator;
  /** Event time every event before which is applied, ms. */
  #position: number;
  /** The instant of the last seek (the range's start at first), ms. */
  #lastSeek: number;
  /** Pacing anchor: wall time and event time at it. */
  #anchorWall = 0;
  #anchorEvent = 0;
  /** Bumped by every seek and stop: a slice of an older one stops. */
  #generation = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The next slice when it is due at once (see `#schedule`). */
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #running = false;
  #events = 0;
  /** Recent `[wall ms, events, position]` samples, for the rates. */
  #samples: [number, number, number][] = [];
  #lastProgress = -Infinity;
  #error: string | undefined;

  /** @param options source, settings and where output goes. */
  constructor(options: SessionOptions) {
    this.#o = options;
    this.id = options.id;
    this.#src = options.source;
    this.#now = options.now ?? (() => performance.now());
    this.#speed = checkSpeed(options.spec.speed);
    this.#loop = options.spec.loop ?? false;
    // Whole ms: a recording's times may have fractions of one.
    const from = options.spec.from ?? Math.floor(options.source.start);
    const to = options.spec.to ?? Math.floor(options.source.end) + 1;
    if (!(to > from)) {
      throw new RangeError(
        `The range is empty: from ${
          new Date(from).toISOString()
        } is not before to ${new Date(to).toISOString()}`,
      );
    }
    this.from = from;
    this.to = to;
    this.#position = from;
    this.#lastSeek = from;
  }

  /** Positions the source at `from` and starts playing (or paused). */
  async start(): Promise<void> {
    await this.#reposition(this.from);
    this.#state = this.#o.spec.paused ? "paused" : "playing";
    this.#anchor();
    this.#report(true);
    this.#schedule(0);
  }

  /**
   * Applies a change: speed, then seek, then pause/resume, then loop.
   * @param c the change.
   * @returns the progress after it.
   * @throws {RangeError} for a speed or seek out of range, or a seek of an
   *   importing session.
   */
  async control(c: ReplayControl): Promise<ReplayProgress> {
    if (this.#state === "stopped" || this.#state === "failed") {
      throw new RangeError(`Session ${this.id} is ${this.#state}`);
    }
    if (c.speed !== undefined) {
      this.#speed = checkSpeed(c.speed);
      this.#anchor();
    }
    if (c.seek !== undefined) {
      if (this.#o.spec.store) {
        throw new RangeError(
          `Session ${this.id} imports into the store and cannot seek`,
        );
      }
      if (!(c.seek >= this.from && c.seek <= this.to)) {
        throw new RangeError(
          `seek ${
            new Date(c.seek).toISOString()
          } is outside the session's range ${
            new Date(this.from).toISOString()
          } – ${new Date(this.to).toISOString()}`,
        );
      }
      await this.#seek(c.seek);
    }
    if (c.action === "pause" && this.#state === "playing") {
      this.#state = "paused";
      this.#cancel();
    } else if (c.action === "resume" && this.#state === "paused") {
      this.#state = "playing";
      this.#anchor();
      this.#schedule(0);
    }
    if (c.loop !== undefined) this.#loop = c.loop;
    this.#report(true);
    return this.progress();
  }

  /** Stops for good: no more output. */
  stop(): ReplayProgress {
    this.#generation++;
    this.#cancel();
    if (this.#state !== "failed") this.#state = "stopped";
    this.#src.close();
    return this.progress();
  }

  /** The state and progress now. */
  progress(): ReplayProgress {
    const span = this.to - this.from;
    const pos = Math.min(Math.max(this.#position, this.from), this.to);
    // Rates over the last second or so of samples.
    let eps = 0;
    let eventRate = 0;
    const s = this.#samples;
    if (s.length > 1) {
      const [w0, e0, p0] = s[0];
      const [w1, e1, p1] = s[s.length - 1];
      const dt = (w1 - w0) / 1000;
      if (dt > 0) {
        eps = (e1 - e0) / dt;
        eventRate = (p1 - p0) / (w1 - w0);
      }
    }
    let expectedEnd: number | null = null;
    if (this.#state === "playing") {
      const rate = this.#speed === "max" ? eventRate : this.#speed;
      if (rate > 0) expectedEnd = Date.now() + (this.to - pos) / rate;
    }
    return {
      id: this.id,
      state: this.#state,
      speed: this.#speed,
      loop: this.#loop,
      from: this.from,
      to: this.to,
      position: pos,
      percent: span > 0 ? ((pos - this.from) / span) * 100 : 100,
      events: this.#events,
      eventsPerSecond: Math.round(eps),
      expectedEnd: expectedEnd === null ? null : Math.round(expectedEnd),
      exchanges: [...this.#src.exchanges],
      ...(this.#error === undefined ? {} : { error: this.#error }),
    };
  }

  /** The books and counters now (`--dump`). */
  dump(depth: number): ReturnType<ReplaySource["dump"]> {
    return this.#src.dump(depth);
  }

  #anchor(): void {
    this.#anchorWall = this.#now();
    this.#anchorEvent = this.#position;
  }

  /**
   * Positions the source and a fresh aggregation at `t`; the source samples
   * its books from `t` on, with the aggregation's bucket sizes.
   */
  async #reposition(t: number): Promise<void> {
    const cfg = this.#o.aggregator;
    const sizes = new BucketSizes(cfg);
    this.#src.sampleBooks(cfg, sizes);
    await this.#src.seek(t);
    this.#position = t;
    this.#lastSeek = t;
    const inputs = [...this.#src.exchanges];
    this.#agg = new Aggregator({ ...cfg, inputs }, {
      sizes,
      onTick: (ts, cols) => {
        const batch = consolidate(
          encodeColumns(ts, cols, { range: cfg.range }),
          { outlierThreshold: this.#o.outlierThreshold, range: cfg.range },
        );
        this.#o.onColumns(batch);
      },
      // Inputs never stall: every slice reports every input's clock.
      now: () => 0,
    });
  }

  async #seek(t: number): Promise<void> {
    const gen = ++this.#generation;
    this.#cancel();
    // A slice in flight (a store page) finishes before the source moves.
    while (this.#running) await new Promise((r) => setTimeout(r, 1));
    if (gen !== this.#generation) return;
    await this.#reposition(t);
    if (this.#state === "ended") this.#state = "paused";
    this.#samples = [];
    this.#anchor();
    this.#o.onReset(t);
    if (this.#state === "playing") this.#schedule(0);
  }

  #schedule(ms: number): void {
    this.#cancel();
    if (this.#state !== "playing") return;
    const gen = this.#generation;
    const run = () => {
      if (gen === this.#generation) void this.#slice(gen);
    };
    // Due at once (max speed runs slice after slice): an immediate, which
    // yields to I/O as a timer does, without the 1–4 ms a timer nested this
    // deep waits.
    if (ms === 0) this.#immediate = setImmediate(run);
    else this.#timer = setTimeout(run, ms);
  }

  /** Cancels the next slice, if one is scheduled. */
  #cancel(): void {
    clearTimeout(this.#timer);
    clearImmediate(this.#immediate);
    this.#immediate = undefined;
  }

  /** Applies the events due now and schedules the next slice. */
  async #slice(gen: number): Promise<void> {
    if (this.#state !== "playing" || this.#running) return;
    this.#running = true;
    try {
      const speed = this.#speed;
      const src = this.#src;
      const first = src.next();
      const walk = this.#o.aggregator.tickMs;
      if (first - this.#last() > SKIP_MS && first < this.to) {
        // A silence (captures of different days): the clock walks one tick
        // past the last event, then jumps to the next one, at any speed,
        // so the columns stay the same at every speed.
        this.#feed(src.take(Math.max(this.#position, this.#last() + walk)));
        this.#agg.jump(first);
        this.#position = first;
        this.#anchor();
      }
      const paced = speed === "max"
        ? this.to
        : this.#anchorEvent + (this.#now() - this.#anchorWall) * speed;
      // A slice never spans a silence: the aggregation would close every
      // tick of it, or skip ticks that hold events.
      const target = Math.min(
        this.to,
        paced,
        Math.max(this.#position, first) + SKIP_MS,
      );
      const applied = await src.advance(target, SLICE_EVENTS);
      if (gen !== this.#generation) return;
      this.#events += applied;
      const next = src.next();
      // Before a silence the clock stops one tick past the last event (the
      // silence walk above takes it there at any speed).
      const hold = next - this.#last() > SKIP_MS
        ? this.#last() + walk
        : Infinity;
      const clock = Math.min(target, next, this.to, hold);
      if (clock > this.#position) this.#position = clock;
      this.#feed(src.take(this.#position));
      const ndjson = src.events?.();
      if (ndjson) this.#o.onEvents?.(ndjson);
      this.#sample();
      if (next >= this.to && target >= this.to) {
        this.#position = this.to;
        this.#finish();
        return;
      }
      this.#report(false);
      if (speed === "max" || next < target || next - target > SKIP_MS) {
        this.#schedule(0);
      } else {
        const wait = (next - target) / (speed as number);
        this.#schedule(Math.max(1, Math.min(MAX_WAIT_MS, wait)));
      }
    } catch (e) {
      this.#error = (e as Error).message;
      this.#state = "failed";
      this.#o.onError?.(e as Error);
      this.#report(true);
    } finally {
      this.#running = false;
    }
  }

  /** The end of the range: loop back, or end once and stay ended. */
  #finish(): void {
    if (this.#loop) {
      void this.#seek(this.from);
      return;
    }
    this.#state = "ended";
    this.#cancel();
    const p = this.progress();
    this.#o.onProgress(p);
    this.#o.onEnd(p);
  }

  /** The last event applied since the last seek (the seek's instant before any), ms. */
  #last(): number {
    return Math.max(this.#src.last(), this.#lastSeek);
  }

  /**
   * Hands the source's book samples, then its batches (taken first: taking
   * samples the tick ends their clock crosses), to the aggregation, and the
   * batches to an importing session's store.
   */
  #feed(batches: EventBatch[]): void {
    for (const s of this.#src.takeBooks()) this.#agg.onBooks(s, s.exchange);
    for (const b of batches) this.#agg.onBatch(b, b.exchange);
    this.#o.onBatches?.(batches);
  }

  #sample(): void {
    const now = this.#now();
    const s = this.#samples;
    s.push([now, this.#events, this.#position]);
    while (s.length > 2 && now - s[0][0] > 1000) s.shift();
  }

  #report(force: boolean): void {
    const now = this.#now();
    if (!force && now - this.#lastProgress < PROGRESS_MS) return;
    this.#lastProgress = now;
    this.#o.onProgress(this.progress());
  }
}
