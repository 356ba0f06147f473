/**
 * Test helper (no tests of its own): replays a shared cryptofeed capture
 * the way a connection actor would, frame by frame through the capture's
 * adapter version and a `BookKeeper` into a `BatchBuilder` whose clock is
 * each frame's receive time. Named `_test.ts` because it reads the capture
 * through layers above `actors/store/`.
 *
 * REST snapshots are not offered: books of venues that sync from the stream
 * (Kraken, OKX, Bybit, Coinbase, Bitfinex) sync; the others stay buffering,
 * which does not stop their trades.
 *
 * @module
 */

import { readCapture } from "../capture/capture.ts";
import { BookKeeper } from "../connection/book_keeper.ts";
import { newCounters } from "../connection/stats.ts";
import { BatchBuilder } from "../market/batch.ts";
import type { Instrument, MarketEvent } from "../market/events.ts";
import { resolveSymbols } from "../market/symbols.ts";
import { captureAdapter, captureSymbols } from "../capture/plan.ts";

/** The shared captures, relative to the repo root. */
const CAPTURES = "../shared/data/captures/cryptofeed";

/** A capture ready to replay. */
export interface CaptureFeed {
  /** Exchange id. */
  readonly exchange: string;
  /** The followed instruments. */
  readonly instruments: readonly Instrument[];
  /** The keeper the events go through. */
  readonly keeper: BookKeeper;
  /** The batch the keeper writes to. */
  readonly batch: BatchBuilder;
  /**
   * Replays every received frame.
   * @param onFrame called after each frame's events were applied, with its
   *   receive time (ms) and the events its parser returned.
   * @param beforeFrame called before a frame is applied, with its receive time.
   */
  run(
    onFrame: (recvTs: number, events: readonly MarketEvent[]) => void,
    beforeFrame?: (recvTs: number) => void,
  ): void;
}

/** Path and query of a URL: how recorded REST calls are matched. */
function pathAndQuery(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/**
 * Opens a capture of the shared data.
 * @param prefix its file prefix, e.g. `OKX` (reads `OKX.0`, `OKX.ws.*`).
 * @returns the feed.
 * @throws {Error} when the capture cannot be read or lacks its metadata.
 * @example
 * ```ts
 * const feed = await openCapture("BYBIT");
 * feed.run((ts) => { feed.batch.take(); });
 * ```
 */
export async function openCapture(prefix: string): Promise<CaptureFeed> {
  const files = [...Deno.readDirSync(CAPTURES)]
    .filter((e) => e.name.startsWith(`${prefix}.`) && e.name.endsWith(".0"))
    .map((e) => `${CAPTURES}/${e.name}`)
    .sort();
  const cap = await readCapture(files);
  const adapter = captureAdapter(cap);
  const bodies = new Map<string, string>();
  for (const r of cap.records) {
    if (r.kind === "http") bodies.set(pathAndQuery(r.url), r.body);
  }
  const meta = adapter.metadataUrls.map((u) => {
    const b = bodies.get(pathAndQuery(u));
    if (b === undefined) throw new Error(`${prefix} lacks ${u}`);
    return b;
  });
  const { found } = resolveSymbols(
    captureSymbols(cap, adapter),
    adapter.instruments(meta),
  );
  const batch = new BatchBuilder(cap.exchange);
  const keeper = new BookKeeper({
    exchange: cap.exchange,
    spec: adapter.book,
    batch,
    counters: newCounters(),
    hooks: {
      needSnapshot: () => {},
      send: () => true,
      reconnect: () => {},
      warn: () => {},
    },
  });
  keeper.follow(found, cap.records[0]?.ts ?? 0);
  const parser = adapter.parser(
    new Map(found.map((i) => [i.exchangeSymbol, i])),
  );
  return {
    exchange: cap.exchange,
    instruments: found,
    keeper,
    batch,
    run(onFrame, beforeFrame) {
      for (const r of cap.records) {
        if (r.kind !== "recv") continue;
        beforeFrame?.(r.ts);
        const events = parser.parse(r.text ?? r.binary!, r.ts);
        batch.clock = r.ts;
        for (const ev of events) keeper.onEvent(ev);
        onFrame(r.ts, events);
      }
    },
  };
}
