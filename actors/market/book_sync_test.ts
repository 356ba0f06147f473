import assert from "node:assert/strict";
import { binanceFuturesAdapter } from "../adapters/binance_futures.ts";
import { BookSync } from "./book_sync.ts";
import type { BookDelta, Instrument } from "./events.ts";

const CAPTURES = "../shared/data/captures/cryptofeed";
/** A USD-M perpetual of the capture. */
function perp(exchangeSymbol: string, base: string): Instrument {
  return {
    exchange: "binance-futures",
    exchangeSymbol,
    symbol: `${base}-USDT`,
    base,
    quote: "USDT",
    market: "perpetual",
    contractSize: 1,
  };
}

/** The capture's deltas of one symbol and its REST snapshot, parsed by the real adapter. */
async function capturedStream(inst: Instrument) {
  const parser = binanceFuturesAdapter.parser(
    new Map([[inst.exchangeSymbol, inst]]),
  );
  const deltas: BookDelta[] = [];
  for (
    const line
      of (await Deno.readTextFile(`${CAPTURES}/BINANCE_FUTURES.ws.1.0`)).split(
        "\n",
      )
  ) {
    const i = line.indexOf(": {");
    if (i < 0 || line.startsWith("wss://")) continue;
    for (const e of parser.parse(line.slice(i + 2), 0)) {
      if (e.type === "book_delta") deltas.push(e);
    }
  }
  const http = (await Deno.readTextFile(`${CAPTURES}/BINANCE_FUTURES.http.0.0`))
    .split("\n")
    .find((l) => l.includes(`symbol=${inst.exchangeSymbol}&`))!;
  const snap = binanceFuturesAdapter.book.parseSnapshot!(
    http.slice(http.indexOf(": ") + 2),
    0,
    inst,
  );
  return { deltas, snap };
}

/** The capture's SUSHIUSDT deltas and its REST snapshot. */
function sushiStream() {
  return capturedStream(perp("SUSHIUSDT", "SUSHI"));
}

Deno.test("book sync: USD-M capture buffers until the snapshot, then links every pu", async () => {
  const { deltas, snap } = await sushiStream();
  const sync = new BookSync(binanceFuturesAdapter.book.sync);
  // Deltas received before the snapshot (by local time in the capture) are buffered.
  const before = deltas.filter((d) => d.last < snap.sequence + 20);
  for (const d of before) assert.equal(sync.delta(d), "buffered");
  const v = sync.snapshot(snap);
  assert.equal(v.result, "synced");
  // Only deltas ending at or after the snapshot id are kept, and the first covers it.
  assert.ok(v.apply.every((d) => d.last >= snap.sequence));
  if (v.apply.length) assert.ok(v.apply[0].first <= snap.sequence);
  const rest = deltas.slice(before.length);
  assert.ok(rest.length > 100);
  for (const d of rest) assert.equal(sync.delta(d), "apply");
  assert.equal(sync.lastSeq, deltas.at(-1)!.last);
});

Deno.test("book sync: a dropped delta is a gap and sends the book back to buffering", async () => {
  const { deltas, snap } = await sushiStream();
  const sync = new BookSync(binanceFuturesAdapter.book.sync);
  const after = deltas.filter((d) => d.last >= snap.sequence);
  assert.equal(sync.snapshot(snap).result, "synced");
  assert.equal(sync.delta(after[0]), "apply");
  assert.equal(sync.delta(after[1]), "apply");
  assert.equal(sync.delta(after[3]), "gap"); // after[2] lost
  assert.equal(sync.state, "buffering");
  assert.equal(sync.delta(after[4]), "buffered");
  // The old snapshot cannot bridge to the buffered deltas.
  assert.equal(sync.snapshot(snap).result, "too_old");
});

Deno.test("book sync: the spot rule needs U <= lastUpdateId + 1 <= u for the first delta", () => {
  const mk = (first: number, last: number): BookDelta => ({
    type: "book_delta",
    exchange: "binance",
    exchangeSymbol: "NKNUSDT",
    symbol: "NKN-USDT",
    market: "spot",
    exchangeTs: 0,
    localTs: 0,
    first,
    last,
    prev: -1,
    bids: [],
    asks: [],
    contractSize: 1,
  });
  // From BINANCE.ws.1.0: the snapshot lastUpdateId is 499869752.
  const sync = new BookSync({ kind: "rest", link: "next", align: 1 });
  sync.delta(mk(499869750, 499869752)); // fully inside the snapshot: dropped
  sync.delta(mk(499869753, 499869754));
  const v = sync.snapshot(
    { ...mk(0, 0), type: "book_snapshot", sequence: 499869752 } as never,
  );
  assert.equal(v.result, "synced");
  assert.deepEqual(v.apply.map((d) => d.first), [499869753]);
  assert.equal(sync.delta(mk(499869755, 499869757)), "apply");
  assert.equal(sync.delta(mk(499869757, 499869757)), "stale");
  assert.equal(sync.delta(mk(499869759, 499869760)), "gap");
});

Deno.test("book sync: a USD-M diff whose pu is the snapshot's lastUpdateId follows it directly, buffered or not (AKROUSDT in the capture)", async () => {
  // Real frames, unedited: AKROUSDT's REST snapshot has lastUpdateId
  // 600859605486, the `u` of one diff and the `pu` of the next, whose `U`
  // (600859609657) is past lastUpdateId because USD-M update ids skip.
  const { deltas, snap } = await capturedStream(perp("AKROUSDT", "AKRO"));
  const k = deltas.findIndex((d) => d.prev === snap.sequence);
  assert.ok(k > 0, "a diff with pu == lastUpdateId");
  assert.equal(deltas[k - 1].last, snap.sequence);
  assert.ok(deltas[k].first > snap.sequence);
  const rest = deltas.slice(k);
  // Buffering began after the diff ending at lastUpdateId (a connection
  // opened just then): the next one, linked by pu, is no reason to fetch
  // the snapshot again.
  const buffered = new BookSync(binanceFuturesAdapter.book.sync);
  for (const d of rest.slice(0, 3)) assert.equal(buffered.delta(d), "buffered");
  const v = buffered.snapshot(snap);
  assert.equal(v.result, "synced");
  assert.deepEqual(v.apply, rest.slice(0, 3));
  for (const d of rest.slice(3)) assert.equal(buffered.delta(d), "apply");
  // Nothing buffered: the first diff after the snapshot applies, no gap.
  const fresh = new BookSync(binanceFuturesAdapter.book.sync);
  assert.equal(fresh.snapshot(snap).result, "synced");
  for (const d of rest) assert.equal(fresh.delta(d), "apply");
  assert.equal(fresh.lastSeq, deltas.at(-1)!.last);
  // The same diff edited to link to neither (pu before lastUpdateId, U
  // after it) still means the snapshot is too old.
  const orphan = { ...rest[0], prev: snap.sequence - 1 };
  const old = new BookSync(binanceFuturesAdapter.book.sync);
  old.delta(orphan);
  assert.equal(old.snapshot(snap).result, "too_old");
});

Deno.test("book sync: a snapshot that cannot reach the highest sequence seen is too old, even with the buffer gone", async () => {
  const { deltas, snap } = await sushiStream();
  const after = deltas.filter((d) => d.last > snap.sequence);
  // A buffer of one: the deltas that would link the snapshot forward are lost.
  const sync = new BookSync(binanceFuturesAdapter.book.sync, { maxBuffer: 1 });
  for (const d of after.slice(0, 4)) assert.equal(sync.delta(d), "buffered");
  const v = sync.snapshot(snap);
  assert.equal(v.result, "too_old");
  assert.equal(sync.state, "buffering");
  sync.reset();
  // Reset keeps what was seen: the same snapshot is still refused.
  assert.equal(sync.snapshot(snap).result, "too_old");
  // A snapshot at the last seen sequence (edited from the real one) aligns.
  const last = after[3].last;
  assert.equal(sync.snapshot({ ...snap, sequence: last }).result, "synced");
  assert.equal(sync.lastSeq, last);
});
