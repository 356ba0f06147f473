/**
 * Aggregator actor: runs the aggregation (`Aggregator` in
 * `actors/market/aggregate.ts`) over the connection actors' batches and sends
 * each closed tick's columns to the consolidator as one transferable buffer.
 *
 * Requests: `columns` (a sample at the current event clock, without closing
 * the tick).
 *
 * Latency: `book_to_column` in its stats counts, for each tick that carries
 * changes received since the previous one, the time from the last batch of
 * changes to the column's emission, on this thread's monotonic clock (ms).
 *
 * @module
 */

import { runActor } from "../runtime/actor.ts";
import { LatencyHistogram } from "../runtime/latency.ts";
import type { EventBatch } from "./market/batch.ts";
import { Aggregator, AggregatorConfig } from "./market/aggregate.ts";
import type { AggregatorRequests } from "./market/requests.ts";
import { decodeColumns, encodeColumns } from "./market/heatmap.ts";

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let agg: Aggregator;
  let out: MessagePort | null = null;
  const peers = new Map<string, MessagePort>();
  const bookToColumn = new LatencyHistogram();
  /** `performance.now()` of the last batch with records not yet in a column; -1: none. */
  let changedAt = -1;
  runActor<AggregatorRequests>({
    init(config, ctx) {
      const cfg = AggregatorConfig.parse(config);
      agg = new Aggregator(cfg, {
        onTick(ts, cols) {
          // The range travels with the batch: the consolidator keeps its
          // columns within the same range around the consensus mid.
          const batch = encodeColumns(ts, cols, { range: cfg.range });
          out?.postMessage(batch, [batch.buf]);
          if (changedAt >= 0) {
            bookToColumn.record(performance.now() - changedAt);
            changedAt = -1;
          }
          ctx.stats({
            counters: { ...agg.counters },
            books: agg.entries.size,
            latency: { book_to_column: bookToColumn.snapshot() },
          });
        },
      });
      setInterval(() => agg.check(), Math.min(cfg.stallMs / 4, 1000));
    },
    link(_name, peer, role, port) {
      if (role === "out") {
        out?.close();
        out = port;
        return;
      }
      peers.get(peer)?.close();
      agg.link(peer);
      peers.set(peer, port);
      port.onmessage = (ev) => {
        const b = ev.data as EventBatch;
        // Ticks the batch's clock closes hold earlier changes, not its own:
        // its changes are stamped after it is applied.
        agg.onBatch(b, peer);
        if (b.n > 0) changedAt = performance.now();
      };
    },
    requests: {
      columns: () => {
        const ts = agg.clock;
        return decodeColumns(encodeColumns(ts, agg.sample(ts, false)));
      },
    },
  });
}
