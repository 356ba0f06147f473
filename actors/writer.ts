/**
 * Writer actor: stores what coby receives and draws (see docs/history.md).
 * It takes the connection actors' event batches and health events (links
 * named `store`) and the consolidator's column batches (link `columns`),
 * and writes them through the writer engine (`actors/store/writer.ts`):
 * validated rows, in batches written once each, spooled to disk while the
 * database cannot take them.
 *
 * The actor owns the database (PGlite has one connection), so it also
 * answers the history queries (`HistoryRequests`, `actors/store/queries.ts`).
 *
 * Requests: `flush` (write everything received, answer when stored) and the
 * history queries. Stats: `WriterStats` (`actors/market/requests.ts`), every
 * second.
 *
 * @module
 */

import { z } from "zod";
import { runActor } from "../runtime/actor.ts";
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
}).strict();
/** Parsed writer config. */
export type WriterConfig = z.infer<typeof WriterConfig>;

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let writer: Writer;
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
  runActor<WriterRequests & HistoryRequests>({
    async init(config, ctx) {
      const cfg = WriterConfig.parse(config ?? {});
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
        bars: new BarBuilder({ quoteAliases: cfg.quoteAliases }),
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
      setInterval(() => ctx.stats({ ...writer.stats() }), 1000);
    },
    link(name, peer, role, port) {
      if (role !== "in") return;
      const key = `${name}\u0000${peer}`;
      ports.get(key)?.close();
      ports.set(key, port);
      if (name !== "columns") writer.link(peer);
      port.onmessage = (ev) => {
        const m = ev.data as EventBatch | HealthEvent | ColumnBatch;
        if (m.type === "batch") writer.onBatch(m, peer);
        else if (m.type === "health") writer.onHealth(m);
        else if (m.type === "columns") writer.onColumns(m);
      };
    },
    requests: {
      flush: ({ timeoutMs }) => writer.drain(timeoutMs),
      ...historyHandlers(db),
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
    },
  });
}
