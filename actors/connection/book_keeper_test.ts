import assert from "node:assert/strict";
import type { Followed } from "./book_keeper.ts";
import { BookKeeper } from "./book_keeper.ts";
import { newCounters } from "./stats.ts";
import { binanceFuturesAdapter } from "../adapters/binance_futures.ts";
import { krakenV1Adapter } from "../adapters/kraken_v1.ts";
import { BatchBuilder, columns, Kind } from "../market/batch.ts";
import { OrderBook } from "../market/book.ts";
import type { Instrument, MarketEvent } from "../market/events.ts";

const CAPTURES = "../shared/data/captures/cryptofeed";

/** Text of every received frame of a capture file with `needle`, in order. */
async function frames(file: string, needle: string): Promise<string[]> {
  return (await Deno.readTextFile(`${CAPTURES}/${file}`)).split("\n")
    .filter((l) => /^\d/.test(l) && l.includes(needle))
    .map((l) => l.slice(l.indexOf(": ") + 2));
}

const sushi: Instrument = {
  exchange: "binance-futures",
  exchangeSymbol: "SUSHIUSDT",
  symbol: "SUSHI-USDT",
  base: "SUSHI",
  quote: "USDT",
  market: "perpetual",
  contractSize: 1,
};

/** A keeper over one instrument with every hook recorded. */
function keeper(
  spec = binanceFuturesAdapter.book,
  inst = sushi,
  options: { socket?: boolean; books?: boolean } = {},
) {
  const calls = {
    snapshots: [] as string[],
    sent: [] as string[],
    reconnects: 0,
    warnings: [] as string[],
    emitted: [] as MarketEvent[],
    health: [] as string[],
  };
  const batch = new BatchBuilder(inst.exchange);
  const counters = newCounters();
  const k = new BookKeeper({
    exchange: inst.exchange,
    spec,
    books: options.books,
    batch,
    counters,
    hooks: {
      needSnapshot: (f: Followed) =>
        calls.snapshots.push(f.inst.exchangeSymbol),
      send: (fr) => {
        if (options.socket === false) return false;
        calls.sent.push(...fr);
        return true;
      },
      reconnect: () => calls.reconnects++,
      warn: (m) => calls.warnings.push(m),
      emit: (ev) => calls.emitted.push(ev),
      health: (kind, f, detail) =>
        calls.health.push(`${kind} ${f.inst.exchangeSymbol}: ${detail}`),
    },
  });
  k.follow([inst], 1000);
  return { k, batch, counters, calls, f: k.followed.get(inst.exchangeSymbol)! };
}

/** Kinds of the records in a batch, in order. */
function kinds(batch: BatchBuilder): number[] {
  const b = batch.take();
  return Array.from(columns(b).code, (c) => c % 8);
}

/** The BINANCE_FUTURES capture's SUSHIUSDT snapshot and depth deltas. */
async function sushiData() {
  const http = (await Deno.readTextFile(`${CAPTURES}/BINANCE_FUTURES.http.0.0`))
    .split("\n").find((l) => l.includes("depth?symbol=SUSHIUSDT"))!;
  const body = http.slice(http.indexOf(": ") + 2);
  const parser = binanceFuturesAdapter.parser(new Map([["SUSHIUSDT", sushi]]));
  const deltas: MarketEvent[] = [];
  for (const fr of await frames("BINANCE_FUTURES.ws.1.0", "sushiusdt@depth")) {
    deltas.push(...parser.parse(fr, 2000));
  }
  const snap = binanceFuturesAdapter.book.parseSnapshot!(body, 3000, sushi);
  return { snap, deltas };
}

Deno.test("book keeper: Binance USD-M deltas buffer, the REST snapshot aligns them, later deltas apply", async () => {
  const { snap, deltas } = await sushiData();
  const { k, batch, counters, calls, f } = keeper();
  assert.equal(k.health().get("SUSHIUSDT")!.state, "buffering");
  assert.equal(k.health().get("SUSHIUSDT")!.unsyncedSince, 1000);
  // Deltas before the snapshot's lastUpdateId are buffered and ask for a snapshot.
  let i = 0;
  for (let d = deltas[0]; d.type === "book_delta" && d.last < snap.sequence;) {
    k.onEvent(d);
    d = deltas[++i];
  }
  assert.ok(i > 0);
  assert.ok(calls.snapshots.length >= 1);
  assert.equal(counters.bookUpdates, 0);
  assert.equal(k.offerSnapshot(f, snap), "synced");
  for (; i < deltas.length; i++) k.onEvent(deltas[i]);
  assert.equal(f.sync.state, "synced");
  assert.equal(f.unsyncedSince, 0);
  assert.ok(counters.bookUpdates > 10, `${counters.bookUpdates} updates`);
  assert.equal(counters.gaps, 0);
  assert.equal(counters.resyncs, 0);
  assert.ok(!f.book.crossed());
  // The book equals a plain rebuild of the snapshot and every later delta.
  const plain = new OrderBook();
  plain.apply(snap.bids, snap.asks);
  for (const d of deltas) {
    if (d.type === "book_delta" && d.last > snap.sequence) {
      plain.apply(d.bids, d.asks);
    }
  }
  assert.deepEqual(f.book.bids.top(Infinity), plain.bids.top(Infinity));
  assert.deepEqual(f.book.asks.top(Infinity), plain.asks.top(Infinity));
  // The aggregator got a clear, then the whole book, then the deltas' levels.
  const ks = kinds(batch);
  assert.equal(ks[0], Kind.Clear);
  assert.ok(ks.slice(1).every((x) => x === Kind.Bid || x === Kind.Ask));
  assert.equal(calls.emitted[0].type, "book_snapshot");
  const view = k.view(f, 3);
  assert.equal(view.bids.length, 3);
  assert.equal(view.state, "synced");
});

Deno.test("book keeper: a sequence gap clears the book, tells the aggregator and fetches a snapshot", async () => {
  const { snap, deltas } = await sushiData();
  const { k, batch, counters, calls, f } = keeper();
  const after = deltas.filter((d) =>
    d.type === "book_delta" && d.last > snap.sequence
  );
  for (const d of deltas) if (!after.includes(d)) k.onEvent(d);
  assert.equal(k.offerSnapshot(f, snap), "synced");
  k.onEvent(after[0]);
  k.onEvent(after[1]);
  batch.take();
  calls.snapshots.length = 0;
  k.onEvent(after[3]); // after[2] is lost
  assert.equal(counters.gaps, 1);
  assert.equal(counters.resyncs, 1);
  assert.equal(counters["resyncs.gap"], 1, "counted with its cause");
  assert.equal(f.sync.state, "buffering");
  assert.equal(f.book.bids.length, 0);
  assert.equal(f.unsyncedSince, after[3].localTs);
  assert.deepEqual(calls.snapshots, ["SUSHIUSDT"]);
  assert.deepEqual(kinds(batch), [Kind.Clear]);
  assert.match(calls.warnings[0], /SUSHIUSDT: resync \(sequence gap at/);
  assert.equal(calls.health.length, 1);
  assert.match(calls.health[0], /^resync SUSHIUSDT: sequence gap at/);
});

Deno.test("book keeper: a Kraken checksum mismatch resubscribes the one book; with no socket it reconnects", async () => {
  const line = (await Deno.readTextFile(`${CAPTURES}/KRAKEN.0`)).split("\n")
    .find((l) => l.includes("/0/public/AssetPairs -> "))!;
  const insts = krakenV1Adapter.instruments([
    line.slice(line.indexOf(": ") + 2),
  ]);
  const xmr = insts.find((i) => i.exchangeSymbol === "XMR/USD")!;
  const updates = await frames("KRAKEN.ws.50.0", '"XMR/USD"]');
  for (const socket of [true, false]) {
    const { k, counters, calls, f } = keeper(krakenV1Adapter.book, xmr, {
      socket,
    });
    const parser = krakenV1Adapter.parser(new Map([["XMR/USD", xmr]]));
    const events = updates.flatMap((u) => parser.parse(u, 5000));
    const firstDelta = events.findIndex((e) => e.type === "book_delta");
    for (let i = 0; i < firstDelta + 5; i++) k.onEvent(events[i]);
    assert.equal(f.sync.state, "synced");
    assert.equal(counters.checksumFailures, 0);
    // Every level Kraken keeps beyond the subscribed depth is dropped.
    assert.ok(f.book.bids.length <= krakenV1Adapter.book.maxDepth!);
    const d = events.slice(firstDelta + 5).find((e) =>
      e.type === "book_delta" && e.checksum !== undefined
    )!;
    assert.ok(d.type === "book_delta");
    k.onEvent({ ...d, checksum: (d.checksum! + 1) >>> 0 });
    assert.equal(counters.checksumFailures, 1);
    assert.equal(counters.resyncs, 1);
    assert.equal(counters["resyncs.checksum"], 1, "counted with its cause");
    assert.equal(f.book.bids.length, 0);
    // The failure, then the resync it causes, each a health event.
    assert.equal(calls.health.length, 2);
    assert.match(calls.health[0], /^checksum XMR\/USD: checksum \d+ != venue/);
    assert.match(calls.health[1], /^resync XMR\/USD: checksum \d+ != venue/);
    if (socket) {
      assert.deepEqual(
        calls.sent,
        krakenV1Adapter.book.resubscribe!("XMR/USD"),
      );
      assert.equal(calls.reconnects, 0);
    } else assert.equal(calls.reconnects, 1);
  }
});

Deno.test("book keeper: a bookless connection counts trades and keeps no book state", async () => {
  const { deltas } = await sushiData();
  const { k, batch, counters, calls } = keeper(
    binanceFuturesAdapter.book,
    sushi,
    { books: false },
  );
  for (const d of deltas) k.onEvent(d);
  const parser = binanceFuturesAdapter.parser(new Map([["SUSHIUSDT", sushi]]));
  const trades = (await frames("BINANCE_FUTURES.ws.1.0", "sushiusdt@aggTrade"))
    .flatMap((fr) => parser.parse(fr, 7000));
  assert.ok(trades.length > 0);
  for (const t of trades) k.onEvent(t);
  assert.equal(counters.bookUpdates, 0);
  assert.equal(calls.snapshots.length, 0);
  assert.equal(counters.trades, trades.length);
  assert.equal(k.health().size, 0);
  assert.equal(k.find("SUSHIUSDT"), undefined);
  const ks = kinds(batch);
  assert.equal(ks.length, trades.length);
  assert.ok(ks.every((x) => x === Kind.Buy || x === Kind.Sell));
});

Deno.test("book keeper: a disconnect voids every book; a new aggregator gets synced books in full", async () => {
  const { snap, deltas } = await sushiData();
  const { k, batch, f } = keeper();
  for (const d of deltas) {
    if (d.type === "book_delta" && d.last < snap.sequence) k.onEvent(d);
  }
  k.offerSnapshot(f, snap);
  batch.take();
  k.keyframe(9000);
  const full = kinds(batch);
  assert.equal(full[0], Kind.Clear);
  assert.equal(full.length, 1 + f.book.bids.length + f.book.asks.length);
  k.disconnect(9100);
  assert.equal(f.sync.state, "buffering");
  assert.equal(f.unsyncedSince, 9100);
  assert.deepEqual(kinds(batch), [Kind.Clear]);
  k.keyframe(9200);
  assert.deepEqual(kinds(batch), [Kind.Clear]);
});

Deno.test("book keeper: after a gap, the older snapshot is refused; the book is never synced behind what was seen", async () => {
  const { snap, deltas } = await sushiData();
  const { k, counters, f } = keeper();
  const after = deltas.filter((d) =>
    d.type === "book_delta" && d.last > snap.sequence
  );
  for (const d of deltas) if (!after.includes(d)) k.onEvent(d);
  assert.equal(k.offerSnapshot(f, snap), "synced");
  k.onEvent(after[0]);
  k.onEvent(after[2]); // after[1] is lost: a gap
  assert.equal(counters.gaps, 1);
  assert.equal(f.sync.state, "buffering");
  // The only snapshot there is predates the delta that showed the gap: it
  // cannot bring the book up to what was seen.
  assert.equal(k.offerSnapshot(f, snap), "too_old");
  assert.equal(f.sync.state, "buffering");
  assert.equal(f.book.bids.length, 0);
  // Every later delta links on from after[2]; a snapshot taken just before
  // after[2] (its sequence edited from the real one, nothing else) aligns.
  const d2 = after[2] as { prev: number };
  for (const d of after.slice(3)) k.onEvent(d);
  assert.equal(k.offerSnapshot(f, { ...snap, sequence: d2.prev }), "synced");
  assert.equal(f.sync.lastSeq, (after.at(-1) as { last: number }).last);
});

Deno.test("book keeper: a disconnect forgets the sequences seen, so a renumbered stream can sync again", async () => {
  const { snap, deltas } = await sushiData();
  const { k, f } = keeper();
  const after = deltas.filter((d) =>
    d.type === "book_delta" && d.last > snap.sequence
  );
  for (const d of deltas) if (!after.includes(d)) k.onEvent(d);
  assert.equal(k.offerSnapshot(f, snap), "synced");
  for (const d of after) k.onEvent(d);
  k.disconnect(9000);
  // The venue restarted its numbering: the real snapshot and first delta,
  // their sequences moved back by the same amount (nothing else edited).
  const shift = snap.sequence - 1000;
  const d0 = after[0];
  assert.ok(d0.type === "book_delta");
  k.onEvent({
    ...d0,
    first: d0.first - shift,
    last: d0.last - shift,
    prev: d0.prev - shift,
  });
  assert.equal(
    k.offerSnapshot(f, { ...snap, sequence: snap.sequence - shift }),
    "synced",
  );
});
