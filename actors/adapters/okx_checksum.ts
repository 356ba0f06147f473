/**
 * OKX v5 public WebSocket as served until 2026-06-22: `books` sends its
 * snapshot in the stream and every frame carries a CRC32 checksum of the top
 * 25 levels. Retired when OKX set that checksum to 0 (2026-06-23); the current
 * version is `okx.ts`.
 * Docs: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 *
 * Sequence numbers: `seqId`/`prevSeqId` were added to `books` later in this
 * era; cryptofeed's OKX recording of 2022-05-13 has none. A
 * `link: "prev"` rule would call every such update a gap, and emitting
 * invented sequences would hide the real ones. So this version syncs on the
 * in-stream snapshot with `link: "none"` and lets the checksum, present on
 * every frame of the era, guard the book: any divergence in the top 25
 * levels fails it and resubscribes the instrument. `seqId`, when sent, is
 * still reported on the events.
 *
 * @module
 */

import type { BookDelta, BookSnapshot, Instrument } from "../market/events.ts";
import {
  type Adapter,
  type ColumnarDelta,
  MalformedFrameError,
} from "./adapter.ts";
import { baseLevels, checksumValue, sequenceValue } from "./_common.ts";
import {
  OKX_KEEPALIVE,
  OKX_METADATA_URLS,
  OKX_REST,
  OKX_WS,
  type OkxBook,
  okxBook,
  okxBookFields,
  okxChecksum,
  okxInstruments,
  okxIsHeartbeat,
  okxParser,
  okxResubscribe,
  type OkxScanRule,
  okxSubscribe,
} from "./_okx.ts";
import type { OkxBookScanner } from "./okx_scan.ts";

/**
 * OKX adapter of the checksum era: `books` synced on the in-stream snapshot
 * and verified by its CRC32 checksum, `trades` and `liquidation-orders`.
 */
export const okxChecksumAdapter: Adapter = {
  id: "okx",
  docs:
    "https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel",
  // Last day with checksums: 2026-06-22 (UTC), end of day.
  until: Date.UTC(2026, 5, 23) - 1,
  restOrigin: OKX_REST,
  metadataUrls: OKX_METADATA_URLS,
  instruments: okxInstruments,
  url: () => OKX_WS,
  subscribe: okxSubscribe,
  keepalive: OKX_KEEPALIVE,
  isHeartbeat: okxIsHeartbeat,
  parser: (instruments) =>
    okxParser(instruments, checksummedBook, { scan: CHECKSUMMED_SCAN }),
  book: {
    sync: { kind: "stream", link: "none" },
    checksum: okxChecksum,
    // Unsubscribe + subscribe `books` makes OKX send a fresh snapshot.
    resubscribe: okxResubscribe,
  },
};

/** {@link checksummedBook}'s sequence fields and checksum, for scanned updates. */
const CHECKSUMMED_SCAN: OkxScanRule = {
  keepText: true,
  header(s: OkxBookScanner, delta: ColumnarDelta): boolean {
    // The scanner read them as `checksumValue` and `sequenceValue` do.
    const seq = s.seqId === s.seqId ? s.seqId : -1;
    const prev = s.prevSeqId === s.prevSeqId ? s.prevSeqId : -1;
    const hasSeq = seq >= 0;
    delta.first = hasSeq ? prev + 1 : -1;
    delta.last = seq;
    delta.prev = hasSeq ? prev : -1;
    delta.checksum = s.checksum === s.checksum ? s.checksum : undefined;
    return true;
  },
};

/**
 * A `books` item of this era: the in-stream snapshot and the updates, each
 * with the venue's `checksum` and the level strings it is computed over.
 * `seqId`/`prevSeqId`, where sent, are reported (-1 otherwise) but not
 * relied on.
 * @throws {MalformedFrameError} for an unreadable item.
 */
function checksummedBook(
  inst: Instrument,
  item: OkxBook,
  action: "snapshot" | "update",
  recvTs: number,
): BookSnapshot | BookDelta {
  const sym = inst.exchangeSymbol;
  const d = okxBook(item, sym);
  const rawBids = new Array<string>(d.bids?.length ?? 0);
  const rawAsks = new Array<string>(d.asks?.length ?? 0);
  const fields = okxBookFields(inst, d, recvTs, {
    bids: baseLevels(d.bids, inst, { text: rawBids }),
    asks: baseLevels(d.asks, inst, { text: rawAsks }),
  });
  const checksum = d.checksum == null ? undefined : checksumValue(d.checksum);
  if (checksum !== checksum) {
    throw new MalformedFrameError(
      `Bad checksum ${JSON.stringify(d.checksum)} of ${sym}`,
      sym,
    );
  }
  const check = checksum !== undefined
    ? { checksum, raw: { bids: rawBids, asks: rawAsks } }
    : {};
  // Reported where sent; -1 (prevSeqId of a snapshot) is no number.
  const seq = d.seqId == null ? -1 : sequenceValue(d.seqId);
  const prev = d.prevSeqId == null || d.prevSeqId === -1
    ? -1
    : sequenceValue(d.prevSeqId);
  if (seq !== seq || prev !== prev) {
    throw new MalformedFrameError(
      `Bad seqId/prevSeqId ${d.seqId}/${d.prevSeqId} of ${sym}`,
      sym,
    );
  }
  if (action === "snapshot") {
    return { type: "book_snapshot", ...fields, ...check, sequence: seq };
  }
  const hasSeq = seq >= 0;
  return {
    type: "book_delta",
    ...fields,
    ...check,
    first: hasSeq ? prev + 1 : -1,
    last: seq,
    prev: hasSeq ? prev : -1,
  };
}
