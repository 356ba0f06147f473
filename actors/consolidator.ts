/**
 * Consolidator actor: merges each tick's columns of every exchange for the
 * same consolidation key into one consolidated column, keeping the
 * per-exchange columns, and hands the tick to the supervisor (channel
 * `columns`) for fan-out to viewers.
 *
 * @module
 */

import { type ActorContext, runActor } from "../runtime/actor.ts";
import { mergeColumns } from "./market/consolidate.ts";
import {
  type Column,
  type ColumnBatch,
  type ColumnInit,
  decodeColumns,
  encodeColumns,
} from "./market/heatmap.ts";

/**
 * Adds one consolidated column per key to a tick's columns.
 * @param b the aggregator's tick.
 * @returns a batch holding the per-exchange columns then the consolidated ones.
 */
export function consolidate(b: ColumnBatch): ColumnBatch {
  const cols = decodeColumns(b);
  const groups = new Map<string, Column[]>();
  for (const c of cols) {
    const g = groups.get(c.symbol);
    if (g) g.push(c);
    else groups.set(c.symbol, [c]);
  }
  const all: ColumnInit[] = [...cols];
  for (const g of groups.values()) all.push(mergeColumns(g));
  return encodeColumns(b.ts, all);
}

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let ctx: ActorContext;
  runActor({
    init(_config, c) {
      ctx = c;
    },
    link(_name, _peer, role, port) {
      if (role !== "in") return;
      port.onmessage = (ev) => {
        const out = consolidate(ev.data as ColumnBatch);
        ctx.output("columns", out, [out.buf]);
      };
    },
  });
}
