/**
 * The writer engine: turns the connection actors' event batches and health
 * events and the consolidator's column batches into write batches, and
 * writes each batch once, in order, whatever the database does.
 *
 * - Rows: {@link EventRows} (trades, liquidations, book keyframes and
 *   changes, health events), a {@link ColumnSink} (heatmap, rollups,
 *   imbalances, exclusions) and a {@link BarSource} (1 s bars of the seconds
 *   the watermark has passed).
 * - Watermark: each input's event clock (`EventBatch.clock`); the watermark
 *   is the lowest of them. An input whose clock has not moved for `stallMs`
 *   of wall time (or that never reported one since it was linked) stops
 *   holding it back; when every input is stalled, the highest clock is the
 *   watermark. It never goes back.
 * - Batches: formed every `flushMs` while no batch waits in the queue, and
 *   as soon as `batchRows` rows are pending, so batches grow with the load
 *   instead of queueing up; id `<instance>:<counter>` with a random
 *   instance per process, stable across retries (the database skips an id
 *   it already has).
 * - Order and durability: batches wait in a queue of at most `queueRows`
 *   rows. When the queue is full or the database fails, the queue and every
 *   new batch go to the {@link Spool} (fsynced), so what is spooled is always
 *   older than what is queued; the spool is drained first, in order, then
 *   the queue. Nothing is dropped: a batch the database refuses while it
 *   answers otherwise (`poisonAttempts` times) is moved to the quarantine
 *   spool and logged.
 * - Failures: retried with exponential backoff (`runtime/backoff.ts`) until
 *   the database is back; a database that cannot be opened is retried the
 *   same way. A spool left by an earlier process is drained before anything
 *   new.
 * - Partitions: `ensurePartitions` for the UTC days a batch's rows fall
 *   on, before its first write (days already ensured are cached).
 * - Maintenance every `maintenanceMs`: `rollup` up to the watermark of the
 *   last committed batch, `applyRetention` at the event clock of the last
 *   committed batch.
 * - Hung calls: a database call that has not settled after `callTimeoutMs`
 *   counts as a lost connection, and the database is opened afresh (a
 *   driver can leave a call pending forever when its backend dies).
 *
 * @module
 */

import { backoffDelay, sleep } from "../../runtime/backoff.ts";
import {
  LatencyHistogram,
  type LatencySnapshot,
} from "../../runtime/latency.ts";
import { RequestError } from "../../runtime/protocol.ts";
import { processLog } from "../../runtime/log.ts";
import type { EventBatch } from "../market/batch.ts";
import type { HealthEvent } from "../market/events.ts";
import type { ColumnBatch } from "../market/heatmap.ts";
import type { WriterErrorCode, WriterStats } from "../market/requests.ts";
import { eachField, joinCopyData, readTimeAt } from "./copy.ts";
import type { CopyPart, Db } from "./db.ts";
import { applyRetention, ensurePartitions, rollup } from "./maintain.ts";
import { EventRows } from "./rows.ts";
import type { Spool } from "./spool.ts";
import { Rejections, validTime } from "./validate.ts";

/** A write batch: rows of several tables, written in one transaction. */
export interface WriteBatch {
  /** `<instance>:<counter>`; the database writes an id once. */
  readonly id: string;
  /** Rows per table, at most one part per table and column list. */
  readonly parts: CopyPart[];
  /** Rows over every part. */
  readonly rows: number;
  /**
   * The UTC days its rows fall on (by `ts`), each day's start in ms since
   * epoch, ascending: the day partitions it needs.
   */
  readonly days: number[];
  /** The watermark when it was formed, ms; null before any input clock. */
  readonly watermark: number | null;
  /** The newest input clock when it was formed, ms; null before any. */
  readonly clock: number | null;
}

/** The 1 s bar builder the writer feeds (`BarBuilder` in `bars.ts`). */
export interface BarSource {
  /** Adds the trades of a batch. */
  onBatch(b: EventBatch): void;
  /**
   * Takes the bars of every second that ended at or before `upTo` (ms).
   * @returns the `ohlcv_1s` rows, or null when none.
   */
  take(upTo: number): CopyPart | null;
  /** Bars not written, by reason (cumulative). */
  readonly rejected: ReadonlyMap<string, number>;
  /** Trades that arrived after their second was taken (cumulative). */
  readonly late: number;
}

/** The column rows builder the writer feeds (`ColumnRows` in `columns.ts`). */
export interface ColumnSink {
  /**
   * The rows a column batch adds.
   * @throws {RangeError} on a column time that is not a date.
   */
  onColumns(c: ColumnBatch): CopyPart[];
}

/** The maintenance jobs (`maintain.ts`), replaceable in tests. */
export interface Maintenance {
  /** Creates the day partitions of `[fromMs, toMs]` (plain path). */
  ensurePartitions(db: Db, fromMs: number, toMs: number): Promise<unknown>;
  /** Fills the OHLCV rollups for intervals closed by `upTo` (ms). */
  rollup(db: Db, upTo: number): Promise<unknown>;
  /** Drops what is older than `nowMs - retentionMs`. */
  applyRetention(db: Db, retentionMs: number, nowMs: number): Promise<unknown>;
}

/** Options for {@link Writer}. */
export interface WriterOptions {
  /**
   * Opens (and migrates) the database; retried with backoff while it
   * throws.
   */
  open(): Promise<Db>;
  /** Where batches wait while the database cannot take them. */
  spool: Spool<WriteBatch>;
  /**
   * Where batches go that the database refuses while it answers (a poison
   * batch); none: such a batch is logged as an error and dropped.
   */
  quarantine?: Spool<WriteBatch>;
  /** 1 s bars; none: no bars. */
  bars?: BarSource;
  /** Column rows; none: column batches are ignored. */
  columns?: ColumnSink;
  /**
   * Maintenance jobs.
   * @default ensurePartitions, rollup and applyRetention of maintain.ts
   */
  maintenance?: Maintenance;
  /**
   * Form a batch this often while none waits in the queue, ms.
   * @default 250
   */
  flushMs?: number;
  /**
   * Form a batch as soon as this many rows are pending.
   * @default 50000
   */
  batchRows?: number;
  /**
   * Rows the in-memory queue holds; past it batches go to the spool.
   * @default 2000000
   */
  queueRows?: number;
  /**
   * History kept, ms.
   * @default 30 days
   */
  retentionMs?: number;
  /**
   * Rollup and retention run this often, ms.
   * @default 60000
   */
  maintenanceMs?: number;
  /**
   * Wall time after which an input whose clock does not move stops holding
   * the watermark back, ms.
   * @default 5000
   */
  stallMs?: number;
  /**
   * First retry delay after a failure, ms.
   * @default 250
   */
  retryBaseMs?: number;
  /**
   * Longest retry delay, ms.
   * @default 30000
   */
  retryMaxMs?: number;
  /**
   * A database call (a batch write, a probe, a maintenance job) that has
   * not settled after this long counts as a lost connection, ms: the
   * database is opened afresh and the batch retried.
   * @default 60000
   */
  callTimeoutMs?: number;
  /**
   * Failures of one batch, with the database answering, before it is
   * quarantined.
   * @default 3
   */
  poisonAttempts?: number;
  /**
   * Log lines.
   * @default the process's logger (`runtime/log.ts`), as actor `writer`
   */
  log?: (level: "debug" | "info" | "warn" | "error", msg: string) => void;
  /**
   * Health changes: `running` while writing, `degraded` while the database
   * fails (the detail says why).
   */
  status?: (state: "running" | "degraded", detail: string) => void;
  /**
   * Monotonic wall clock, ms (stall valve, maintenance).
   * @default performance.now
   */
  now?: () => number;
}

const DAY_MS = 86_400_000;

/**
 * How long {@link Writer.drain} waits, once everything is written, for
 * messages still on their way, ms.
 */
export const DRAIN_QUIET_MS = 50;

/** Most days per `ensurePartitions` call (it refuses more than 366). */
const MAX_DAYS_PER_CALL = 300;

/** One input's clock. */
interface Input {
  /** Latest `EventBatch.clock`, ms; -Infinity before the first. */
  clock: number;
  /** Wall time (monotonic) the clock last moved, or the link. */
  movedAt: number;
}

/** A batch to write next and where it waits. */
interface Next {
  readonly batch: WriteBatch;
  readonly from: "spool" | "queue";
}

/**
 * The writer engine. Feed it with {@link onBatch}, {@link onHealth} and
 * {@link onColumns}; {@link start} runs the write loop and the flush timer;
 * {@link stop} writes or spools everything before it resolves.
 *
 * @example
 * ```ts
 * const w = new Writer({
 *   open: () => openDb({ dataDir: "data/coby" }),
 *   spool: await Spool.open("data/coby/spool"),
 *   bars: new BarBuilder(),
 *   columns: new ColumnRows(),
 * });
 * w.start();
 * port.onmessage = (ev) => w.onBatch(ev.data, "conn:binance");
 * await w.stop();
 * ```
 */
export class Writer {
  readonly #o: WriterOptions;
  readonly #m: Maintenance;
  readonly #rejections = new Rejections();
  readonly #rows = new EventRows({ rejections: this.#rejections });
  readonly #instance: string;
  readonly #inputs = new Map<string, Input>();
  readonly #queue: WriteBatch[] = [];
  readonly #days = new Set<number>();
  readonly #counters: Record<string, number> = {
    batches: 0,
    rows: 0,
    duplicateBatches: 0,
    rejected: 0,
    spooledBatches: 0,
    spoolCorrupt: 0,
    quarantinedBatches: 0,
    lostBatches: 0,
    writeErrors: 0,
    lateTrades: 0,
  };
  #db: Db | undefined;
  #failing: string | undefined;
  #failedAt = 0;
  #attempt = 0;
  #poison: { id: string; n: number } | undefined;
  #pending: CopyPart[] = [];
  #pendingRows = 0;
  /** The UTC days of the pending parts' rows (day start, ms). */
  #pendingDays = new Set<number>();
  #queueRows = 0;
  /** Spool appends in flight. */
  #appending = 0;
  /** Messages taken (batches, health events, columns). */
  #received = 0;
  #counter = 0;
  #watermark = -Infinity;
  #committedWatermark = -Infinity;
  #committedClock = -Infinity;
  #writeMsLast: number | null = null;
  #writeMsSum = 0;
  /** Arrival times (`#now()`) of the messages whose rows are pending. */
  #arrivals: number[] = [];
  /** Arrival times of the messages in each formed batch not yet committed, by id. */
  readonly #batchArrivals = new Map<string, number[]>();
  readonly #batchToCommit = new LatencyHistogram();
  #lastMaintenance: number;
  #wakeup = Promise.withResolvers<void>();
  #progress = Promise.withResolvers<void>();
  #loop: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopping = false;
  readonly #abort = new AbortController();

  /** @param options the database, spool, row builders and limits. */
  constructor(options: WriterOptions) {
    this.#o = options;
    this.#m = options.maintenance ??
      { ensurePartitions, rollup, applyRetention };
    this.#instance = crypto.randomUUID();
    this.#lastMaintenance = this.#now();
  }

  /** The database when it is open, else undefined. */
  get db(): Db | undefined {
    return this.#db;
  }

  /**
   * Starts the write loop (first draining any spool left behind) and the
   * flush timer.
   */
  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
    this.#timer = setInterval(() => {
      // While batches wait, rows gather into the next one (up to
      // `batchRows`): under load batches grow instead of queueing up.
      if (this.#queue.length === 0) this.flush();
    }, this.#o.flushMs ?? 250);
  }

  /**
   * A connection actor was (re)linked: it holds the watermark back from
   * now until it reports a clock, at most `stallMs`.
   * @param input its actor id.
   */
  link(input: string): void {
    if (!this.#inputs.has(input)) {
      this.#inputs.set(input, { clock: -Infinity, movedAt: this.#now() });
    }
  }

  /**
   * Takes an event batch: its rows, its trades for the bars, its clock.
   * @param b the batch (times ms since epoch).
   * @param input the sending connection's actor id.
   */
  onBatch(b: EventBatch, input: string): void {
    if (this.#stopping) return;
    this.#received++;
    const now = this.#now();
    const i = this.#inputs.get(input);
    if (!i) this.#inputs.set(input, { clock: b.clock, movedAt: now });
    else if (b.clock > i.clock) {
      i.clock = b.clock;
      i.movedAt = now;
    }
    this.#rows.onBatch(b);
    this.#o.bars?.onBatch(b);
    if (b.n > 0) this.#arrivals.push(now);
    this.#full();
  }

  /**
   * Takes a health event from a connection actor.
   * @param h the event.
   */
  onHealth(h: HealthEvent): void {
    if (this.#stopping) return;
    this.#received++;
    this.#rows.onHealth(h);
    this.#arrivals.push(this.#now());
    this.#full();
  }

  /**
   * Takes a tick's columns from the consolidator.
   * @param c the batch (its buffer is read now, not kept).
   */
  onColumns(c: ColumnBatch): void {
    if (this.#stopping || !this.#o.columns) return;
    this.#received++;
    if (!validTime(c.ts)) {
      for (const _ of c.columns) {
        this.#rejections.add("bad time", `columns of tick ${c.ts}`);
      }
      return;
    }
    let parts: CopyPart[];
    try {
      parts = this.#o.columns.onColumns(c);
    } catch (e) {
      this.#log("error", `Columns of tick ${c.ts} not stored: ${errorText(e)}`);
      return;
    }
    for (const p of parts) this.#add(p);
    if (parts.length) this.#arrivals.push(this.#now());
    this.#full();
  }

  /**
   * Forms a write batch of everything pending (and the bars the watermark
   * closed) and queues it; the write loop writes it.
   */
  flush(): void {
    if (!this.#stopping) this.#form(this.watermark());
  }

  /**
   * Forms a batch of everything pending and waits until every batch formed
   * so far is written, and no message has arrived for a quiet period
   * ({@link DRAIN_QUIET_MS}: messages on their way from other actors are
   * taken in too).
   * @param timeoutMs give up waiting after this long.
   * @returns the stats then.
   * @throws {RequestError} `timeout` when the timeout passes first (the
   *   database failing, say); nothing is lost: it waits in the queue or the
   *   spool.
   */
  async drain(timeoutMs = 30_000): Promise<WriterStats> {
    const deadline = this.#now() + timeoutMs;
    for (;;) {
      this.flush();
      while (!this.#idleNow()) {
        const left = deadline - this.#now();
        if (left <= 0) {
          throw new RequestError<WriterErrorCode>(
            "timeout",
            `Writes not done within ${timeoutMs} ms${
              this.#failing
                ? `: the database is failing (${this.#failing})`
                : ""
            }`,
          );
        }
        await Promise.race([
          this.#progress.promise,
          sleep(Math.min(left, 100)),
        ]);
      }
      const received = this.#received;
      await sleep(DRAIN_QUIET_MS);
      if (this.#received === received && this.#idleNow()) return this.stats();
    }
  }

  /**
   * The watermark: no input will send a record with an earlier receive time
   * (stalled inputs aside), ms; -Infinity before any clock.
   * @returns ms since epoch.
   */
  watermark(): number {
    const now = this.#now();
    const stallMs = this.#o.stallMs ?? 5000;
    let low = Infinity;
    let high = -Infinity;
    for (const i of this.#inputs.values()) {
      if (i.clock > high) high = i.clock;
      if (now - i.movedAt < stallMs && i.clock < low) low = i.clock;
    }
    const w = low < Infinity ? low : high;
    if (w > this.#watermark) this.#watermark = w;
    return this.#watermark;
  }

  /**
   * The writer's stats.
   * @returns counters, queue, spool, latency and lag.
   */
  stats(): WriterStats {
    const c: Record<string, number> = { ...this.#counters };
    let rejected = 0;
    for (const [reason, n] of this.#rejections.total) {
      c[`rejected.${reason}`] = n;
      rejected += n;
    }
    for (const [reason, n] of this.#o.bars?.rejected ?? []) {
      c[`rejected.bar ${reason}`] = n;
      rejected += n;
    }
    c.rejected = rejected;
    c.lateTrades = this.#o.bars?.late ?? 0;
    c.spoolCorrupt = this.#o.spool.corrupt;
    let clock = -Infinity;
    for (const i of this.#inputs.values()) clock = Math.max(clock, i.clock);
    const lag = this.#idleNow() ? 0 : clock - this.#committedClock;
    const w = this.#watermark;
    return {
      counters: c,
      db: this.#db ? (this.#failing ? "down" : "up") : "connecting",
      queueRows: this.#queueRows,
      pendingRows: this.#rows.rows + this.#pendingRows,
      spoolBytes: this.#o.spool.bytes,
      writeMsLast: this.#writeMsLast,
      writeMsAvg: this.#counters.batches + this.#counters.duplicateBatches
        ? this.#writeMsSum /
          (this.#counters.batches + this.#counters.duplicateBatches)
        : null,
      lagMs: Number.isFinite(lag) ? Math.max(0, lag) : 0,
      watermark: Number.isFinite(w) ? w : null,
      inputs: this.#inputs.size,
    };
  }

  /**
   * Batch → commit latency: from each message's arrival (an event batch
   * with records, a health event, a tick's columns) to the commit of the
   * write batch holding its rows, ms on the writer's monotonic clock. A
   * batch drained from a spool an earlier process left has no arrival and
   * is not counted.
   * @returns the cumulative histogram.
   */
  latency(): LatencySnapshot {
    return this.#batchToCommit.snapshot();
  }

  /**
   * Stops: forms a last batch (with every open bar: the inputs have
   * stopped), writes what it can within `timeoutMs`, spools the rest and
   * closes the spool and the database.
   * @param timeoutMs time for the last writes, ms.
   * @returns when everything is written or spooled.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.#stopping) return;
    clearInterval(this.#timer);
    this.#form(Infinity);
    this.#stopping = true;
    const deadline = this.#now() + timeoutMs;
    while (this.#loop && !this.#idleNow() && !this.#failing) {
      const left = deadline - this.#now();
      if (left <= 0) break;
      await Promise.race([this.#progress.promise, sleep(Math.min(left, 100))]);
    }
    this.#abort.abort();
    this.#wakeup.resolve();
    if (this.#loop) {
      await Promise.race([
        this.#loop,
        sleep(Math.max(0, deadline - this.#now())),
      ]);
    }
    if (this.#queue.length) this.#toSpool([]);
    await this.#o.spool.close();
    await this.#o.quarantine?.close();
    await this.#db?.close();
    this.#db = undefined;
  }

  /** Adds a part to the pending rows. */
  #add(p: CopyPart): void {
    if (p.rows === 0) return;
    this.#pending.push(p);
    this.#pendingRows += p.rows;
    for (const d of daysOf(p)) this.#pendingDays.add(d);
  }

  /** Forms a batch when `batchRows` rows are pending. */
  #full(): void {
    if (this.#rows.rows + this.#pendingRows >= (this.#o.batchRows ?? 50_000)) {
      this.#form(this.watermark());
    }
  }

  /** Forms a batch of the pending rows and the bars closed by `upTo`. */
  #form(upTo: number): void {
    if (this.#o.bars && upTo > -Infinity) {
      try {
        const bars = this.#o.bars.take(upTo);
        if (bars) this.#add(bars);
      } catch (e) {
        this.#log("error", `Bars not written: ${errorText(e)}`);
      }
    }
    for (const l of this.#rejections.take()) this.#log("warn", l);
    const days = [...new Set([...this.#rows.days, ...this.#pendingDays])]
      .sort((a, b) => a - b);
    const parts = merge([...this.#rows.take(), ...this.#pending]);
    let rows = 0;
    for (const p of parts) rows += p.rows;
    this.#pending = [];
    this.#pendingRows = 0;
    this.#pendingDays = new Set();
    const clock = this.#clock();
    const arrivals = this.#arrivals;
    this.#arrivals = [];
    if (rows === 0) {
      // Nothing to write: when nothing waits either, all is committed.
      if (this.#idleNow()) {
        this.#committedClock = Math.max(this.#committedClock, clock);
        this.#committedWatermark = Math.max(
          this.#committedWatermark,
          this.#watermark,
        );
      }
      return;
    }
    const batch: WriteBatch = {
      id: `${this.#instance}:${++this.#counter}`,
      parts,
      rows,
      days,
      watermark: Number.isFinite(this.#watermark) ? this.#watermark : null,
      clock: Number.isFinite(clock) ? clock : null,
    };
    if (arrivals.length) this.#batchArrivals.set(batch.id, arrivals);
    if (
      this.#failing ||
      this.#queueRows + rows > (this.#o.queueRows ?? 2_000_000)
    ) this.#toSpool([batch]);
    else {
      this.#queue.push(batch);
      this.#queueRows += rows;
    }
    this.#wakeup.resolve();
  }

  /** Moves the queue, then `more`, to the spool (in that order). */
  #toSpool(more: WriteBatch[]): void {
    const batches = [...this.#queue.splice(0), ...more];
    this.#queueRows = 0;
    this.#counters.spooledBatches += batches.length;
    this.#appending++;
    this.#o.spool.append(batches).catch((e) => {
      this.#counters.lostBatches += batches.length;
      for (const b of batches) this.#batchArrivals.delete(b.id);
      this.#log(
        "error",
        `Spool append failed, ${batches.length} batches (${
          batches.map((b) => b.id).join(", ")
        }) lost: ${errorText(e)}`,
      );
    }).finally(() => {
      this.#appending--;
      this.#wakeup.resolve();
    });
  }

  /** The write loop. */
  async #run(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      this.#wakeup = Promise.withResolvers();
      if (!this.#db) {
        await this.#connect();
        continue;
      }
      if (this.#now() - this.#lastMaintenance >= this.#maintenanceMs) {
        await this.#maintain(this.#db);
      }
      let next: Next | undefined;
      try {
        next = await this.#next();
      } catch (e) {
        this.#log("error", `Spool read failed: ${errorText(e)}`);
        await sleep(this.#retryDelay(), this.#abort.signal);
        continue;
      }
      if (next) await this.#write(this.#db, next);
      else {
        this.#signalProgress();
        const wait = this.#maintenanceMs -
          (this.#now() - this.#lastMaintenance);
        await Promise.race([
          this.#wakeup.promise,
          sleep(Math.max(0, wait), this.#abort.signal),
        ]);
      }
    }
  }

  get #maintenanceMs(): number {
    return this.#o.maintenanceMs ?? 60_000;
  }

  /** Opens the database, or notes the failure and waits. */
  async #connect(): Promise<void> {
    try {
      this.#db = await this.#timed(this.#o.open(), "open");
      this.#log("info", `Database open (${this.#db.kind})`);
      if (this.#failing) this.#recovered();
      else this.#o.status?.("running", "Database open");
    } catch (e) {
      this.#failed(`cannot open: ${errorText(e)}`);
      await sleep(this.#retryDelay(), this.#abort.signal);
    }
  }

  /** The oldest batch not written: the spool's first, else the queue's. */
  async #next(): Promise<Next | undefined> {
    const spooled = await this.#o.spool.peek();
    if (spooled) return { batch: spooled, from: "spool" };
    const queued = this.#queue[0];
    return queued ? { batch: queued, from: "queue" } : undefined;
  }

  /** Writes one batch; on failure decides between an outage and a poison batch. */
  async #write(db: Db, next: Next): Promise<void> {
    const { batch } = next;
    let fresh: boolean;
    const t0 = this.#now();
    try {
      await this.#timed(this.#ensureDays(db, batch), "partitions");
      fresh = await this.#timed(db.writeBatch(batch.id, batch.parts), "write");
    } catch (e) {
      this.#counters.writeErrors++;
      this.#days.clear();
      if (e instanceof TimeoutError) {
        // A call that never settles may hold a connection for good: open
        // the database afresh. The batch keeps its id, so should the lost
        // call commit after all, the retry is skipped.
        this.#log("warn", `${e.message}; reopening the database`);
        this.#db = undefined;
        db.close().catch(() => {});
        this.#failed(e.message);
      } else if (!(await this.#answers(db))) {
        this.#failed(`write of ${batch.id} failed: ${errorText(e)}`);
        await sleep(this.#retryDelay(), this.#abort.signal);
      } else if (connectionLost(e)) {
        // The connection died under the write; the driver has a new one.
        this.#log(
          "warn",
          `Write of ${batch.id} lost its connection, retrying: ${errorText(e)}`,
        );
        await sleep(this.#retryDelay(0), this.#abort.signal);
      } else await this.#refused(next, e);
      return;
    }
    const committedAt = this.#now();
    const ms = committedAt - t0;
    this.#writeMsLast = ms;
    this.#writeMsSum += ms;
    for (const t of this.#batchArrivals.get(batch.id) ?? []) {
      this.#batchToCommit.record(committedAt - t);
    }
    await this.#done(next);
    if (fresh) {
      this.#counters.batches++;
      this.#counters.rows += batch.rows;
      for (const p of batch.parts) {
        const k = `rows.${p.table}`;
        this.#counters[k] = (this.#counters[k] ?? 0) + p.rows;
      }
    } else this.#counters.duplicateBatches++;
    if (batch.watermark !== null) {
      this.#committedWatermark = Math.max(
        this.#committedWatermark,
        batch.watermark,
      );
    }
    if (batch.clock !== null) {
      this.#committedClock = Math.max(this.#committedClock, batch.clock);
    }
    this.#poison = undefined;
    if (this.#failing) this.#recovered();
    this.#signalProgress();
  }

  /** Removes a written (or quarantined) batch from where it waited. */
  async #done(next: Next): Promise<void> {
    this.#batchArrivals.delete(next.batch.id);
    if (next.from === "spool") await this.#o.spool.shift();
    else if (this.#queue[0] === next.batch) {
      this.#queue.shift();
      this.#queueRows -= next.batch.rows;
    }
    // Else the queue went to the spool meanwhile: the spooled copy is a
    // duplicate id, skipped when drained.
  }

  /** A batch failed while the database answers: retry, then quarantine. */
  async #refused(next: Next, e: unknown): Promise<void> {
    const { batch } = next;
    const p = this.#poison?.id === batch.id
      ? this.#poison
      : this.#poison = { id: batch.id, n: 0 };
    p.n++;
    const limit = this.#o.poisonAttempts ?? 3;
    if (p.n < limit) {
      this.#log(
        "warn",
        `Batch ${batch.id} refused (attempt ${p.n} of ${limit}): ${
          errorText(e)
        }`,
      );
      await sleep(this.#retryDelay(p.n - 1), this.#abort.signal);
      return;
    }
    this.#counters.quarantinedBatches++;
    const q = this.#o.quarantine;
    if (q) {
      try {
        await q.append([batch]);
      } catch (qe) {
        this.#counters.lostBatches++;
        this.#log("error", `Quarantine append failed: ${errorText(qe)}`);
      }
    }
    this.#log(
      "error",
      `Batch ${batch.id} (${batch.rows} rows, ${
        batch.parts.map((x) => `${x.table} ${x.rows}`).join(", ")
      }) refused ${p.n} times, ${
        q ? "moved to the quarantine spool" : "dropped"
      }: ${errorText(e)}`,
    );
    this.#poison = undefined;
    await this.#done(next);
  }

  /** Whether the database answers a trivial query. */
  async #answers(db: Db): Promise<boolean> {
    try {
      await this.#timed(db.query("SELECT 1"), "probe");
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Creates the day partitions a batch needs, unless known to exist: one
   * call per run of consecutive missing days (a batch may hold rows of days
   * far apart, a replay of captures of several years).
   */
  async #ensureDays(db: Db, b: WriteBatch): Promise<void> {
    const missing = b.days.filter((d) => !this.#days.has(d));
    for (let i = 0; i < missing.length;) {
      let j = i + 1;
      while (
        j < missing.length && missing[j] === missing[j - 1] + DAY_MS &&
        j - i < MAX_DAYS_PER_CALL
      ) j++;
      await this.#m.ensurePartitions(db, missing[i], missing[j - 1]);
      for (let k = i; k < j; k++) this.#days.add(missing[k]);
      i = j;
    }
  }

  /** Rollup and retention; a failure is logged, the writes go on. */
  async #maintain(db: Db): Promise<void> {
    this.#lastMaintenance = this.#now();
    try {
      if (Number.isFinite(this.#committedWatermark)) {
        await this.#timed(
          this.#m.rollup(db, this.#committedWatermark),
          "rollup",
        );
      }
      if (Number.isFinite(this.#committedClock)) {
        await this.#timed(
          this.#m.applyRetention(
            db,
            this.#o.retentionMs ?? 30 * DAY_MS,
            this.#committedClock,
          ),
          "retention",
        );
        // Dropped partitions are created again when rows need them.
        this.#days.clear();
      }
    } catch (e) {
      this.#log("warn", `Maintenance failed: ${errorText(e)}`);
    }
  }

  /**
   * `p`, or a {@link TimeoutError} when it does not settle within
   * `callTimeoutMs` (the promise itself is left to settle unobserved).
   */
  #timed<T>(p: Promise<T>, what: string): Promise<T> {
    const ms = this.#o.callTimeoutMs ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new TimeoutError(`Database ${what} not done within ${ms} ms`)),
        ms,
      );
    });
    p.catch(() => {});
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  /** The database fails: spool from now on, and say so once. */
  #failed(why: string): void {
    if (!this.#failing) {
      this.#failedAt = this.#now();
      this.#log("warn", `Database failing, spooling: ${why}`);
      this.#o.status?.("degraded", `Database failing: ${why}`);
    }
    this.#failing = why;
    this.#attempt++;
    if (this.#queue.length) this.#toSpool([]);
  }

  /** The database answers again. */
  #recovered(): void {
    const s = ((this.#now() - this.#failedAt) / 1000).toFixed(1);
    this.#log("info", `Database back after ${s} s; draining the spool`);
    this.#o.status?.("running", "Database back");
    this.#failing = undefined;
    this.#attempt = 0;
  }

  #retryDelay(attempt = this.#attempt): number {
    return backoffDelay(Math.max(0, attempt - 1), {
      baseMs: this.#o.retryBaseMs ?? 250,
      maxMs: this.#o.retryMaxMs ?? 30_000,
    });
  }

  /** True when nothing waits: no pending rows, queue, spool or append. */
  #idleNow(): boolean {
    return this.#queue.length === 0 && this.#appending === 0 &&
      this.#o.spool.bytes === 0 && this.#rows.rows === 0 &&
      this.#pendingRows === 0;
  }

  #signalProgress(): void {
    this.#progress.resolve();
    this.#progress = Promise.withResolvers();
  }

  /** The newest input clock, ms. */
  #clock(): number {
    let c = -Infinity;
    for (const i of this.#inputs.values()) if (i.clock > c) c = i.clock;
    return c;
  }

  #now(): number {
    return this.#o.now?.() ?? performance.now();
  }

  #log(level: "debug" | "info" | "warn" | "error", msg: string): void {
    if (this.#o.log) this.#o.log(level, msg);
    else processLog().log(level, msg, { actor: "writer" });
  }
}

/**
 * Merges parts of the same table, columns and format (binary or text) into
 * one.
 * @param parts parts in order.
 * @returns one part per table, column list and format, first-seen order.
 */
function merge(parts: CopyPart[]): CopyPart[] {
  const by = new Map<string, CopyPart[]>();
  for (const p of parts) {
    if (p.rows === 0) continue;
    const k = `${p.data ? "b" : "t"}:${p.table}(${p.columns.join(",")})`;
    const same = by.get(k);
    if (same) same.push(p);
    else by.set(k, [p]);
  }
  const out: CopyPart[] = [];
  for (const same of by.values()) {
    if (same.length === 1) {
      out.push(same[0]);
      continue;
    }
    let rows = 0;
    for (const p of same) rows += p.rows;
    const { table, columns } = same[0];
    out.push(
      same[0].data
        ? { table, columns, rows, data: joinCopyData(same.map((p) => p.data!)) }
        : { table, columns, rows, text: same.map((p) => p.text).join("") },
    );
  }
  return out;
}

/**
 * The UTC days of a part's rows, read from the `ts` field of each row
 * (binary: µs since 2000; text: an ISO time whose first ten characters name
 * the day).
 * @param p the part.
 * @returns each day's start, ms since epoch; none when it has no `ts`.
 */
function daysOf(p: CopyPart): number[] {
  const col = p.columns.indexOf("ts");
  if (col < 0) return [];
  const days = new Set<number>();
  if (p.data) {
    let last = NaN;
    eachField(p.data, col, (dv, at) => {
      const ms = readTimeAt(dv, at);
      if (ms >= last && ms < last + DAY_MS) return;
      last = Math.floor(ms / DAY_MS) * DAY_MS;
      days.add(last);
    });
    return [...days];
  }
  const text = p.text ?? "";
  for (let at = 0; at < text.length;) {
    let from = at;
    for (let k = 0; k < col; k++) from = text.indexOf("\t", from) + 1;
    days.add(Date.parse(text.slice(from, from + 10)));
    at = text.indexOf("\n", at) + 1;
    if (at === 0) break;
  }
  return [...days];
}

/** A database call that did not settle in time. */
class TimeoutError extends Error {
  override name = "TimeoutError";
}

/**
 * Whether an error is a lost connection rather than the database refusing
 * the data: a SQLSTATE of class 08 (connection exception) or 57P
 * (operator intervention: a terminated backend, a shutdown), postgres.js's
 * `CONNECTION_*` and `CONNECT_TIMEOUT`, or a socket error.
 * @param e the error.
 * @returns true for a lost connection.
 * @example
 * ```ts
 * connectionLost(Object.assign(new Error("terminating connection"), { code: "57P01" })); // true
 * connectionLost(new Error("invalid input syntax for type double precision")); // false
 * ```
 */
export function connectionLost(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string") {
    if (/^(08|57P)/.test(code) || /^CONNECT(ION)?_/.test(code)) return true;
    if (/^E(CONN|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH)/.test(code)) return true;
  }
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.ConnectionRefused ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.TimedOut;
}

/** An error's message. */
function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
