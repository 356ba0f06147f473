/**
 * OKX v5 public WebSocket, current order-book procedure (from 2026-06-23).
 * Docs: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 * Changelog: https://www.okx.com/docs-v5/log_en/ ("Delist initial snapshot and
 * checksum field in order book channels", and the 2026-05-21 notice that the
 * `checksum` of `books` is always 0 from 2026-06-23).
 *
 * OKX retired the `books` checksum (pushed as 0 since 2026-06-23) and delists
 * the initial in-stream snapshot; its "How to manage a local order book
 * correctly" now reads: buffer the `books` updates, ignore a `snapshot`
 * action, fetch `GET /api/v5/market/books`, drop updates with
 * `seqId <= snapshot seqId`, start at the update with
 * `prevSeqId <= snapshot seqId < seqId`, then require each `prevSeqId` to
 * equal the previous `seqId`. With `first = prevSeqId + 1` and `last = seqId`
 * that is the `rest` rule with `link: "prev"` and `align: 1`
 * (`first <= S + 1 <= last`). The in-stream snapshot, while OKX still sends
 * it, is ignored, so the adapter works before and after the delisting. A
 * maintenance reset of the numbering (`seqId < prevSeqId`) reconnects, which
 * resyncs every book.
 *
 * The earlier feed (in-stream snapshot, CRC32 checksum, `seqId` added along
 * the way) is `okx_checksum.ts`.
 *
 * @module
 */

import type { BookDelta, BookSnapshot, Instrument } from "../market/events.ts";
import {
  type Adapter,
  type ColumnarDelta,
  MalformedFrameError,
  ResyncError,
} from "./adapter.ts";
import { baseLevels, sequenceValue } from "./_common.ts";
import {
  OKX_KEEPALIVE,
  OKX_METADATA_URLS,
  OKX_REST,
  OKX_WS,
  type OkxBook,
  okxBook,
  okxBookFields,
  okxData,
  okxInstruments,
  okxIsHeartbeat,
  okxParser,
  type OkxScanRule,
  okxSubscribe,
} from "./_okx.ts";
import type { OkxBookScanner } from "./okx_scan.ts";

/**
 * OKX adapter: `books` (400 levels, 100 ms) synced to the REST snapshot by
 * `seqId`/`prevSeqId`, `trades` and `liquidation-orders`; contract sizes
 * converted to base (inverse contracts divide by the price).
 */
export const okxAdapter: Adapter = {
  id: "okx",
  docs:
    "https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel",
  restOrigin: OKX_REST,
  metadataUrls: OKX_METADATA_URLS,
  instruments: okxInstruments,
  url: () => OKX_WS,
  subscribe: okxSubscribe,
  keepalive: OKX_KEEPALIVE,
  isHeartbeat: okxIsHeartbeat,
  parser: (instruments) =>
    okxParser(instruments, sequencedBook, { scan: SEQUENCED_SCAN }),
  book: {
    // First update: prevSeqId <= snapshot seqId < seqId; then
    // prevSeqId == previous seqId.
    sync: { kind: "rest", link: "prev", align: 1 },
    // 400 levels, the depth of the `books` channel (the REST default is 1).
    snapshotUrl: (symbol) =>
      `${OKX_REST}/api/v5/market/books?instId=${symbol}&sz=400`,
    parseSnapshot: restSnapshot,
  },
};

/** {@link sequencedBook}'s sequence fields, for scanned updates. */
const SEQUENCED_SCAN: OkxScanRule = {
  keepText: false,
  header(s: OkxBookScanner, delta: ColumnarDelta): boolean {
    // The scanner read them as `sequenceValue` does. Without a seqId, or
    // at a sequence reset, the reader throws: `parse` reports it.
    const seq = s.seqId;
    const prev = s.prevSeqId === s.prevSeqId ? s.prevSeqId : -1;
    if (seq !== seq || seq < prev) return false;
    delta.first = prev + 1;
    delta.last = seq;
    delta.prev = prev;
    delta.checksum = undefined;
    return true;
  },
};

/**
 * A `books` item of this version: updates become deltas covering
 * `prevSeqId + 1 .. seqId`, linked by `prev = prevSeqId`; the in-stream
 * `snapshot` action is ignored (the book starts from the REST snapshot).
 * @throws {MalformedFrameError} for an item without `seqId`.
 * @throws {ResyncError} on a maintenance reset of the numbering.
 */
function sequencedBook(
  inst: Instrument,
  item: OkxBook,
  action: "snapshot" | "update",
  recvTs: number,
): BookDelta | null {
  if (action === "snapshot") return null;
  const d = okxBook(item, inst.exchangeSymbol);
  const seq = sequence(inst, d);
  const fields = okxBookFields(inst, d, recvTs, {
    bids: baseLevels(d.bids, inst),
    asks: baseLevels(d.asks, inst),
  });
  // An update covers the venue ids after prevSeqId up to seqId. A heartbeat
  // (no change for ~60 s) has seqId == prevSeqId: not newer than the book,
  // BookSync drops it.
  const prev = d.prevSeqId === undefined || d.prevSeqId === -1
    ? -1
    : sequenceValue(d.prevSeqId);
  if (prev !== prev) {
    throw new MalformedFrameError(
      `Book ${inst.exchangeSymbol} with bad prevSeqId ${d.prevSeqId}`,
      inst.exchangeSymbol,
    );
  }
  // A maintenance reset restarts the numbering (seqId < prevSeqId): every
  // later update would look older than the book, so the books start over.
  if (seq < prev) {
    throw new ResyncError(
      `Sequence reset on ${inst.exchangeSymbol}: seqId ${seq} < prevSeqId ${prev}`,
    );
  }
  return { type: "book_delta", ...fields, first: prev + 1, last: seq, prev };
}

/** The `seqId` of a book, which this version needs. */
function sequence(inst: Instrument, d: OkxBook): number {
  const seq = typeof d.seqId === "number" ? sequenceValue(d.seqId) : NaN;
  if (seq !== seq) {
    throw new MalformedFrameError(
      `Book ${inst.exchangeSymbol} without seqId: ${d.seqId}`,
      inst.exchangeSymbol,
    );
  }
  return seq;
}

/**
 * Reads a `GET /api/v5/market/books?instId=…&sz=400` snapshot; its `seqId`
 * lines up with the WebSocket `books` updates' `prevSeqId`/`seqId`.
 * @throws {MalformedFrameError} when the body is not JSON, its `code` is not
 *   "0", or the book has no `seqId`.
 */
function restSnapshot(
  body: string,
  recvTs: number,
  inst: Instrument,
): BookSnapshot {
  const book = okxData<unknown>(body, "Snapshot")[0];
  if (book === undefined) {
    throw new MalformedFrameError(
      `Snapshot without a book: ${body.slice(0, 80)}`,
    );
  }
  const d = okxBook(book, inst.exchangeSymbol);
  const seq = sequence(inst, d);
  const fields = okxBookFields(inst, d, recvTs, {
    bids: baseLevels(d.bids, inst),
    asks: baseLevels(d.asks, inst),
  });
  return { type: "book_snapshot", ...fields, sequence: seq };
}
