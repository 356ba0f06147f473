import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { BookSync } from "../market/book_sync.ts";
import type { BookDelta, Instrument, MarketEvent } from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { mexcFuturesAdapter } from "./mexc_futures.ts";
import { assertSane, assertVenueErrors, docFrames } from "./_testing.ts";

const SAMPLES = "../shared/data/samples/tardis-node-inputs/mexc-futures.ndjson";
const lines = (await Deno.readTextFile(SAMPLES)).trim().split("\n");
const objs = lines.map((l) => JSON.parse(l));

/** BTC_USDT: 0.0001 BTC per contract (contract detail). */
const CS = 0.0001;
const btc: Instrument = {
  exchange: "mexc-futures",
  exchangeSymbol: "BTC_USDT",
  symbol: "BTC-USDT",
  base: "BTC",
  quote: "USDT",
  market: "perpetual",
  contractSize: CS,
};
const base = {
  exchange: "mexc-futures",
  exchangeSymbol: "BTC_USDT",
  symbol: "BTC-USDT",
  market: "perpetual",
} as const;

function parse(
  i: number,
  frame: string | Uint8Array = lines[i],
): MarketEvent[] {
  const ev = mexcFuturesAdapter.parser(new Map([["BTC_USDT", btc]])).parse(
    frame,
    1000 + i,
  );
  assertSane(ev);
  return ev;
}

/** Level sizes are contracts × 0.0001: compare within float rounding. */
function assertLevels(got: number[], want: number[]): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) < 1e-12, `${got} vs ${want}`);
  }
}

Deno.test("mexc-futures: push.deal list → trades in base (contracts × 0.0001); T=1 buy, T=2 sell", () => {
  const ev = parse(0);
  assert.equal(ev.length, 2);
  const [a, b] = ev;
  assert.deepEqual({ ...a, size: 0 }, {
    type: "trade",
    ...base,
    exchangeTs: 1755487578276,
    localTs: 1000,
    id: "13064218826",
    price: 115309.8,
    size: 0,
    rawSize: 55,
    side: "sell",
  });
  assert.ok(a.type === "trade" && Math.abs(a.size - 0.0055) < 1e-15);
  assert.ok(b.type === "trade" && b.side === "buy" && b.rawSize === 11);
  assert.ok(b.type === "trade" && Math.abs(b.size - 0.0011) < 1e-15);
  assert.equal(b.type === "trade" && b.exchangeTs, 1755487578275);
  // The documented single-object form (no trade id).
  const [t] = parse(
    0,
    `{"channel":"push.deal","data":{"M":1,"O":1,"T":1,"p":6866.5,"t":1587442049632,"v":2096},"symbol":"BTC_USDT","ts":1587442022003}`,
  );
  assert.ok(t.type === "trade");
  assert.equal(t.id, "");
  assert.equal(t.side, "buy");
  assert.equal(t.rawSize, 2096);
  assert.ok(Math.abs(t.size - 0.2096) < 1e-15);
  assert.equal(t.exchangeTs, 1587442049632);
});

Deno.test("mexc-futures: push.depth → book_delta; level [price, contracts, orders] sized by contracts", () => {
  const [d] = parse(1) as BookDelta[];
  assert.deepEqual({ ...d, bids: [], asks: [] }, {
    type: "book_delta",
    ...base,
    exchangeTs: 1587442022003,
    localTs: 1001,
    first: 96801927,
    last: 96801927,
    prev: -1,
    bids: [],
    asks: [],
    contractSize: CS,
  });
  // [6859.5, 3251, 1]: 3251 contracts in 1 order; [6858.5, 42, 7]: 42 in 7.
  assertLevels(d.asks, [6859.5, 0.3251]);
  assertLevels(d.bids, [6858.5, 0.0042]);
  // A compressed push names its range begin..end.
  const [c] = parse(4) as BookDelta[];
  assert.equal(c.first, 96801931);
  assert.equal(c.last, 96801931);
  assertLevels(c.asks, [6860.5, 0]); // 0 contracts: remove the level
  assertLevels(c.bids, [6858.5, 0.0006]);
  const [late] = parse(10) as BookDelta[];
  assert.deepEqual([late.first, late.last], [102, 102]);
  assertLevels(late.asks, [101, 0.0001]);
  assert.deepEqual(late.bids, []);
});

Deno.test("mexc-futures: REST snapshot then diffs: version + 1 applies, a missing version is a gap", () => {
  // tardis' generated snapshot line holds the REST body's `data`.
  const snap = mexcFuturesAdapter.book.parseSnapshot!(
    JSON.stringify({ success: true, code: 0, data: objs[2].data }),
    2000,
    btc,
  );
  assert.equal(snap.sequence, 96801926);
  assert.equal(snap.exchangeTs, 1587442021003);
  assertLevels(snap.asks, [6860.5, 0.0002]);
  assertLevels(snap.bids, [6857.5, 0.0004]);
  assert.equal(snap.contractSize, CS);
  assert.deepEqual(parse(2), []); // not a venue frame
  const sync = new BookSync(mexcFuturesAdapter.book.sync);
  assert.equal(sync.snapshot(snap).result, "synced");
  assert.equal(sync.delta(parse(1)[0] as BookDelta), "apply"); // 96801927
  // 96801930 after 96801927: versions 928 and 929 are missing.
  assert.equal(sync.delta(parse(3)[0] as BookDelta), "gap");
});

Deno.test("mexc-futures: gzip binary frames read like text ones", () => {
  const gz = gzipSync(new TextEncoder().encode(lines[1]));
  assert.deepEqual(parse(1, gz), parse(1));
  assert.deepEqual(parse(1, new TextEncoder().encode(lines[1])), parse(1));
});

Deno.test("mexc-futures: tickers, prices, acks and pongs yield nothing; garbage throws", () => {
  for (const i of [5, 6, 7, 8, 9]) assert.deepEqual(parse(i), [], `line ${i}`);
  assert.deepEqual(parse(0, `{"channel":"pong","data":1587453241453}`), []);
  assert.deepEqual(
    parse(0, `{"channel":"rs.sub.depth","data":"success","ts":1587442022003}`),
    [],
  );
  // Another contract's depth: not followed.
  assert.deepEqual(
    parse(0, JSON.stringify({ ...objs[1], symbol: "ETH_USDT" })),
    [],
  );
  assert.throws(() => parse(0, "{"), MalformedFrameError);
  assert.throws(
    () => parse(0, new Uint8Array([0x1f, 0x8b, 1])),
    MalformedFrameError,
  );
  assert.throws(
    () => parse(0, `{"channel":"push.depth","symbol":"BTC_USDT","data":{}}`),
    MalformedFrameError,
  );
  assert.throws(
    () =>
      parse(
        0,
        `{"channel":"push.depth","symbol":"BTC_USDT","data":{"version":1,"asks":[["x",1,1]]}}`,
      ),
    MalformedFrameError,
  );
});

Deno.test("mexc-futures: contract detail → linear perpetuals; subscriptions and URLs", () => {
  const detail = {
    success: true,
    code: 0,
    data: [
      {
        symbol: "BTC_USDT",
        displayNameEn: "BTC_USDT PERPETUAL",
        baseCoin: "BTC",
        quoteCoin: "USDT",
        settleCoin: "USDT",
        contractSize: 0.0001,
        futureType: 1,
        state: 0,
      },
      // Coin-margined: contract unit undocumented, left out.
      {
        symbol: "BTC_USD",
        baseCoin: "BTC",
        quoteCoin: "USD",
        settleCoin: "BTC",
        contractSize: 1,
        futureType: 1,
        state: 0,
      },
    ],
  };
  assert.deepEqual(mexcFuturesAdapter.instruments([JSON.stringify(detail)]), [
    btc,
  ]);
  assert.throws(
    () =>
      mexcFuturesAdapter.instruments([
        JSON.stringify({ data: [{ ...detail.data[0], contractSize: 0 }] }),
      ]),
    MalformedFrameError,
  );
  assert.equal(
    mexcFuturesAdapter.url(["BTC_USDT"]),
    "wss://contract.mexc.com/edge",
  );
  assert.deepEqual(
    mexcFuturesAdapter.subscribe(["BTC_USDT"]).map((s) => JSON.parse(s)),
    [
      {
        method: "sub.depth",
        param: { symbol: "BTC_USDT", compress: true },
        gzip: false,
      },
      { method: "sub.deal", param: { symbol: "BTC_USDT" }, gzip: false },
    ],
  );
  assert.equal(mexcFuturesAdapter.keepalive?.frame, `{"method":"ping"}`);
  assert.equal(
    mexcFuturesAdapter.book.snapshotUrl!("BTC_USDT"),
    "https://contract.mexc.com/api/v1/contract/depth/BTC_USDT?limit=1000",
  );
  assert.throws(
    () =>
      mexcFuturesAdapter.book.parseSnapshot!(
        `{"success":false,"code":1001}`,
        0,
        btc,
      ),
    MalformedFrameError,
  );
});

Deno.test("mexc-futures: isHeartbeat is true for the docs' pong, false for tardis' real frames (text and gzip)", async () => {
  for (const l of lines) {
    assert.equal(mexcFuturesAdapter.isHeartbeat(l), false, l.slice(0, 60));
    assert.equal(
      mexcFuturesAdapter.isHeartbeat(gzipSync(new TextEncoder().encode(l))),
      false,
    );
  }
  const { heartbeats } = await docFrames("mexc", "futures");
  assert.ok(heartbeats.length > 0);
  for (const f of heartbeats) {
    assert.ok(mexcFuturesAdapter.isHeartbeat(f), f);
    assert.deepEqual(parse(0, f), []);
  }
});

Deno.test("mexc-futures: rs.error throws VenueError with MEXC's data; rs.sub acks do not", async () => {
  assertVenueErrors(
    mexcFuturesAdapter.parser(new Map([["BTC_USDT", btc]])),
    (await docFrames("mexc", "futures")).errors,
  );
  assert.deepEqual(
    parse(0, `{"channel":"rs.sub.depth","data":"success","ts":1587442022003}`),
    [],
  );
});
