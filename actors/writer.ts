/**
 * Writer actor: stores what coby receives and draws (see docs/history.md).
 * It takes the connection actors' event batches and health events (links
 * named `store`) and the consolidator's column batches (link `columns`),
 * and writes them through the writer engine (`actors/store/writer.ts`):
 * validated rows, in batches written once each, spooled to disk while the
 * database cannot take them.
 *
 * The actor owns the database (PGlite has one connection), so it also
 * answers the history queries (`HistoryRequests`, `actors/store/queries.ts`),
 * as requests and on the port of a link named `history` (the replay actor's
 * replay from the store; not an input).
 *
 * It is also the fan-out point: it publishes what it receives on the bus
 * (`actors/live/bus.ts`: Redis Streams with a Redis URL, else
 * BroadcastChannel), keeps the live cache (`actors/live/state.ts`) that
 * answers the live frame and books, and every second sets the latest book,
 * BBO and bars per symbol as bus keys.
 *
 * Requests: `flush` (write everything received, answer when stored), the
 * history queries and the live ones (`LiveRequests`). Stats: `WriterStats` (`actors/market/requests.ts`), every
 * second.
 *
 * @module
 */

import { z } from "zod";
import { runActor } from "../runtime/actor.ts";
import { servePort } from "../runtime/port_request.ts";
import { RequestError } from "../runtime/protocol.ts";
import type { EventBatch } from "./market/batch.ts";
import type { HealthEvent } from "./market/events.ts";
import type { ColumnBatch } from "./market/heatmap.ts";
import type { WriterErrorCode, WriterRequests } from "./market/requests.ts";
import { BarBuilder } from "./store/bars.ts";
import { ColumnRows } from "./store/columns.ts";
import type { Db } from "./store/db.ts";
import { historyHandlers, type HistoryRequests } from "./store/queries.ts";
import { Spool } from "./store/spool.ts";
import { connectionLost, type WriteBatch, Writer } from "./store/writer.ts";
import type { Bus } from "./live/bus.ts";
import { STREAMS } from "./live/bus.ts";
import { encodeBatch } from "./live/codec.ts";
import { openBus } from "./live/open.ts";
import { liveHandlers, type LiveRequests, LiveState } from "./live/state.ts";
import type { Bar } from "./store/queries/ohlcv.ts";

const DAY_MS = 86_400_000;

/** Config of the writer. */
export const WriterConfig = z.object({
  /** PostgreSQL URL; none: the embedded PGlite in `dataDir/pglite`. */
  url: z.string().optional(),
  /** Where PGlite's data (`pglite/`) and the spool (`spool/`) live. */
  dataDir: z.string().default("data/coby"),
  /** The spool directory; default `dataDir/spool`. */
  spoolDir: z.string().optional(),
  /** Form a write batch this often while none waits, ms. */
  flushMs: z.number().int().positive().default(250),
  /** Form a write batch as soon as this many rows are pending. */
  batchRows: z.number().int().positive().default(50_000),
  /** Rows the in-memory queue holds before batches go to the spool. */
  queueRows: z.number().int().positive().default(2_000_000),
  /** History kept, ms. */
  retentionMs: z.number().positive().default(30 * DAY_MS),
  /** Rollup and retention run this often, ms. */
  maintenanceMs: z.number().int().positive().default(60_000),
  /** Wall time after which an input whose clock is stuck stops holding the watermark, ms. */
  stallMs: z.number().positive().default(5000),
  /** Quote aliases of the consolidated bars, e.g. `{USDT: "USD"}`. */
  quoteAliases: z.record(z.string(), z.string()).default({}),
  /** The fan-out bus: Redis URL (none: in-process), name prefix, stream caps. */
  bus: z.object({
    url: z.string().optional(),
    prefix: z.string().default("coby:"),
    /** Event batches kept in the `events` stream, about. */
    eventsMaxLen: z.number().int().positive().default(100_000),
    /** Column batches (ticks) kept in the `columns` stream, about. */
    columnsMaxLen: z.number().int().positive().default(3600),
  }).strict().prefault({}),
}).strict();
/** Parsed writer config. */
export type WriterConfig = z.infer<typeof WriterConfig>;

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let writer: Writer;
  let caps: WriterConfig["bus"];
  let bus: Bus | undefined;
  let live: LiveState;
  /** Bars taken since the last publish, published together. */
  let bars: Bar[] = [];
  const ports = new Map<string, MessagePort>();
  const db = (): Db => {
    const d = writer?.db;
    if (!d) {
      throw new RequestError<WriterErrorCode>(
        "no_database",
        "The database is not open yet",
      );
    }
    return d;
  };
  runActor<WriterRequests & HistoryRequests & LiveRequests>({
    async init(config, ctx) {
      const cfg = WriterConfig.parse(config ?? {});
      caps = cfg.bus;
      live = new LiveState({ quoteAliases: cfg.quoteAliases });
      bus = await openBus({
        url: caps.url,
        prefix: caps.prefix,
        log: (level, msg) => ctx.log(level, msg),
      });
      const onBar = (bar: Bar) => {
        if (bars.length === 0) {
          queueMicrotask(() => {
            live.onBars(bars);
            bus?.publish(STREAMS.bars, JSON.stringify(bars), 10_000);
            bars = [];
          });
        }
        bars.push(bar);
      };
      const spoolDir = cfg.spoolDir ?? `${cfg.dataDir}/spool`;
      const warn = (msg: string) => ctx.log("warn", msg);
      writer = new Writer({
        // The drivers load on first use: PGlite's module is large, and the
        // actor must be ready (and linked) before the feeds start sending.
        open: async () =>
          (await import("./store/open.ts")).openDb({
            url: cfg.url,
            dataDir: `${cfg.dataDir}/pglite`,
            retentionMs: cfg.retentionMs,
          }),
        spool: await Spool.open<WriteBatch>(spoolDir, { warn }),
        quarantine: await Spool.open<WriteBatch>(`${spoolDir}/quarantine`, {
          warn,
        }),
        bars: new BarBuilder({ quoteAliases: cfg.quoteAliases, onBar }),
        columns: new ColumnRows(),
        flushMs: cfg.flushMs,
        batchRows: cfg.batchRows,
        queueRows: cfg.queueRows,
        retentionMs: cfg.retentionMs,
        maintenanceMs: cfg.maintenanceMs,
        stallMs: cfg.stallMs,
        log: (level, msg) => ctx.log(level, msg),
        status: (state, detail) => ctx.status(state, detail),
      });
      // postgres.js can report a connection reset outside any call (a
      // socket error after the backend died): the write loop sees the loss
      // on its next call, so it must not crash the actor.
      self.addEventListener("unhandledrejection", (e) => {
        if (!connectionLost(e.reason)) return;
        e.preventDefault();
        ctx.log("warn", `Database connection reset: ${e.reason?.message}`);
      });
      writer.start();
      setInterval(() => {
        const stats = writer.stats();
        const b = bus?.stats();
        ctx.stats({
          ...stats,
          counters: {
            ...stats.counters,
            busPublished: b?.published ?? 0,
            busFailed: b?.failed ?? 0,
          },
          bus: b?.up === false ? "down" : "up",
          latency: { batch_to_commit: writer.latency() },
        });
        for (const [k, v] of live.latest()) bus?.set(k, v);
      }, 1000);
    },
    link(name, peer, role, port) {
      if (role !== "in") return;
      const key = `${name}\u0000${peer}`;
      ports.get(key)?.close();
      ports.set(key, port);
      // Not an input: the replay actor's history queries (replay from the
      // store), served on the port.
      if (name === "history") {
        servePort<HistoryRequests>(port, historyHandlers(db));
        return;
      }
      if (name !== "columns") writer.link(peer);
      port.onmessage = (ev) => {
        const m = ev.data as EventBatch | HealthEvent | ColumnBatch;
        if (m.type === "batch") {
          writer.onBatch(m, peer);
          live.onBatch(m);
          bus?.publish(STREAMS.events, encodeBatch(m), caps.eventsMaxLen);
        } else if (m.type === "health") {
          writer.onHealth(m);
          live.onHealth(m);
          bus?.publish(STREAMS.health, JSON.stringify(m), 10_000);
        } else if (m.type === "columns") {
          writer.onColumns(m);
          live.onColumns(m);
          bus?.publish(STREAMS.columns, encodeBatch(m), caps.columnsMaxLen);
        }
      };
    },
    requests: {
      flush: ({ timeoutMs }) => writer.drain(timeoutMs),
      ...historyHandlers(db),
      ...liveHandlers(() => live),
    },
    async stop() {
      if (!writer) return;
      // The feeds' last batches may still be on their way (they stopped
      // first, on other ports): take them in before the last write.
      try {
        await writer.drain(5000);
      } catch {
        // Not written in time (the database failing): stop spools it.
      }
      await writer.stop();
      await bus?.close();
    },
  });
}
