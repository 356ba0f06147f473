/**
 * Aggregator actor: runs the aggregation (`Aggregator` in
 * `actors/market/aggregate.ts`) over the connection actors' book samples and
 * trade batches and sends each closed tick's columns to the consolidator as
 * one transferable buffer. It keeps no book: each connection buckets its own
 * (`actors/market/sampler.ts`).
 *
 * Link messages: in, `BookColumns` (a connection's books at a tick end, or
 * the answer to a `sample` request) and `EventBatch` (trades, liquidations
 * and the clock); out, on the same port, `BucketSizeMessage` (a key's bucket
 * size once fixed; every size fixed so far goes to a new link) and
 * `SampleRequest`.
 *
 * Requests: `columns`, a sample between ticks: every linked connection is
 * asked for its books now (those that do not answer within
 * {@link SAMPLE_WAIT_MS} show their latest tick sample), merged with the
 * open tick's trades so far, stamped with the aggregator's clock; the tick
 * is not closed.
 *
 * Latency: `book_to_column` in its stats counts, for each tick that carries
 * changes received since the previous one, the time from the last batch or
 * sample received to the column's emission, on this thread's monotonic
 * clock (ms).
 *
 * @module
 */

import { runActor } from "../runtime/actor.ts";
import { LatencyHistogram } from "../runtime/latency.ts";
import type { EventBatch } from "./market/batch.ts";
import { Aggregator, AggregatorConfig } from "./market/aggregate.ts";
import type { AggregatorRequests } from "./market/requests.ts";
import { decodeColumns, encodeColumns } from "./market/heatmap.ts";
import type {
  BookColumns,
  BucketSizeMessage,
  SampleRequest,
} from "./market/sampler.ts";

/** Longest wait for the connections' answers to a `columns` request, ms. */
export const SAMPLE_WAIT_MS = 1000;

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let agg: Aggregator;
  let out: MessagePort | null = null;
  const peers = new Map<string, MessagePort>();
  const bookToColumn = new LatencyHistogram();
  /** `performance.now()` of the last message with data not yet in a column; -1: none. */
  let changedAt = -1;
  /** Open `sample` requests: id → the answers so far and their completion. */
  const asked = new Map<
    number,
    { answers: Map<string, BookColumns>; left: number; done: () => void }
  >();
  let nextId = 1;
  const tell = (port: MessagePort, key: string, size: number) => {
    const m: BucketSizeMessage = { type: "bucketSize", key, size };
    port.postMessage(m);
  };
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
        onBucketSize(key, size) {
          for (const port of peers.values()) tell(port, key, size);
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
      for (const [key, size] of agg.sizes.entries()) {
        if (agg.sizes.configured(key) === undefined) tell(port, key, size);
      }
      port.onmessage = (ev) => {
        const m = ev.data as EventBatch | BookColumns;
        if (m.type === "books") {
          if (m.request !== undefined) {
            const a = asked.get(m.request);
            if (!a) return; // answered after the wait
            a.answers.set(peer, m);
            if (--a.left === 0) a.done();
            return;
          }
          agg.onBooks(m, peer);
          changedAt = performance.now();
          return;
        }
        // Ticks the batch's clock closes hold earlier changes, not its own:
        // its changes are stamped after it is applied.
        agg.onBatch(m, peer);
        if (m.n > 0) changedAt = performance.now();
      };
    },
    requests: {
      columns: async () => {
        const id = nextId++;
        const answers = new Map<string, BookColumns>();
        const ports = [...peers.values()];
        if (ports.length) {
          const all = Promise.withResolvers<void>();
          asked.set(id, { answers, left: ports.length, done: all.resolve });
          const req: SampleRequest = { type: "sample", id };
          for (const port of ports) port.postMessage(req);
          const timer = setTimeout(all.resolve, SAMPLE_WAIT_MS);
          await all.promise;
          clearTimeout(timer);
          asked.delete(id);
        }
        const ts = agg.clock;
        return decodeColumns(encodeColumns(ts, agg.sample(ts, answers)));
      },
    },
  });
}
