import assert from "node:assert/strict";
import { binanceFuturesAdapter } from "../adapters/binance_futures.ts";
import { BatchBuilder } from "../market/batch.ts";
import type { Instrument } from "../market/events.ts";
import { BookKeeper } from "./book_keeper.ts";
import { SnapshotLoops } from "./snapshots.ts";
import { newCounters } from "./stats.ts";

const CAPTURES = "../shared/data/captures/cryptofeed";

const sushi: Instrument = {
  exchange: "binance-futures",
  exchangeSymbol: "SUSHIUSDT",
  symbol: "SUSHI-USDT",
  base: "SUSHI",
  quote: "USDT",
  market: "perpetual",
  contractSize: 1,
};

Deno.test("snapshot loop: refetches after a failure and a stale snapshot until one aligns, one loop per book", async () => {
  const http = (await Deno.readTextFile(`${CAPTURES}/BINANCE_FUTURES.http.0.0`))
    .split("\n").find((l) => l.includes("depth?symbol=SUSHIUSDT"))!;
  const body = http.slice(http.indexOf(": ") + 2);
  const snap = binanceFuturesAdapter.book.parseSnapshot!(body, 0, sushi);
  const parser = binanceFuturesAdapter.parser(new Map([["SUSHIUSDT", sushi]]));
  const deltas = (await Deno.readTextFile(`${CAPTURES}/BINANCE_FUTURES.ws.1.0`))
    .split("\n").filter((l) => /^\d/.test(l) && l.includes("sushiusdt@depth"))
    .flatMap((l) => parser.parse(l.slice(l.indexOf(": ") + 2), 0));
  // Buffer the deltas from just before the snapshot on: an older snapshot
  // (the first delta's sequence) is too old to align with them.
  const i = deltas.findIndex((d) =>
    d.type === "book_delta" && d.last >= snap.sequence
  );
  const stale = body.replace(
    `"lastUpdateId":${snap.sequence}`,
    `"lastUpdateId":${(deltas[0] as { first: number }).first - 10}`,
  );
  const counters = newCounters();
  const warnings: string[] = [];
  const keeper = new BookKeeper({
    exchange: "binance-futures",
    spec: binanceFuturesAdapter.book,
    batch: new BatchBuilder("binance-futures"),
    counters,
    hooks: {
      needSnapshot: () => {},
      send: () => false,
      reconnect: () => {},
      warn: () => {},
    },
  });
  keeper.follow([sushi], 0);
  const f = keeper.followed.get("SUSHIUSDT")!;
  for (const d of deltas.slice(i - 2, i + 3)) keeper.onEvent(d);
  const urls: string[] = [];
  const resyncs: string[] = [];
  const answers = [
    () => Promise.reject(new Error("HTTP 503")),
    () => Promise.resolve(stale),
    () => Promise.resolve(body),
  ];
  const loops = new SnapshotLoops({
    spec: binanceFuturesAdapter.book,
    keeper,
    counters,
    fetch: async (url, take) => {
      urls.push(url);
      return take(await answers[urls.length - 1](), 42);
    },
    send: () => false,
    onResync: (f, why) => resyncs.push(`${f.inst.exchangeSymbol} ${why}`),
    warn: (m) => warnings.push(m),
    signal: new AbortController().signal,
  });
  const a = loops.request(f);
  const b = loops.request(f); // already running: no second loop
  await Promise.all([a, b]);
  assert.equal(urls.length, 3);
  assert.equal(urls[0], binanceFuturesAdapter.book.snapshotUrl!("SUSHIUSDT"));
  assert.equal(f.sync.state, "synced");
  assert.equal(counters.resyncs, 1);
  assert.equal(resyncs.length, 1);
  assert.match(resyncs[0], /^SUSHIUSDT snapshot \w+$/);
  assert.match(warnings[0], /SUSHIUSDT: snapshot failed \(HTTP 503\)/);
  assert.match(warnings[1], /SUSHIUSDT: snapshot \w+, refetching/);
  assert.ok(f.book.bids.length > 0);
});
