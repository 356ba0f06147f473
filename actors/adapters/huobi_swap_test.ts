/**
 * HTX swaps adapter on real frames: the February 2022 cryptofeed capture
 * (`/swap-ws` and `/linear-swap-ws`, gzip binary frames and their decoded
 * text) and tardis-node's `huobi-dm-swap` / `huobi-dm-linear-swap` inputs.
 * Expected sizes follow HTX's contract specs: a coin-margined contract is
 * worth `contract_size` USD, so base = contracts × contract_size / price
 * (inverse); a USDT-margined contract is `contract_size` base
 * (base = contracts × contract_size). Trades also carry HTX's own base
 * `quantity` and liquidations their base `amount`, which the conversion must
 * reproduce. Liquidations come from the notification endpoints, whose
 * frames (subscription acks, `op` pings, notifications) are read by the same
 * parser on the bookless notification connections.
 */

import assert from "node:assert/strict";
import { gunzipSync, gzipSync } from "node:zlib";
import { BookSync } from "../market/book_sync.ts";
import { parseCaptureText, type RecvRecord } from "../capture/capture.ts";
import type { BookDelta, BookSnapshot, Instrument } from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";
import { huobiSwapAdapter } from "./huobi_swap.ts";
import { assertSane, assertVenueErrors, docFrames } from "./_testing.ts";

const CAPTURES = "../shared/data/captures/cryptofeed";
const TARDIS = "../shared/data/samples/tardis-node-inputs";

function assertClose(got: number, want: number, what: string): void {
  assert.ok(
    Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)),
    `${what}: ${got} != ${want}`,
  );
}

async function received(path: string): Promise<RecvRecord[]> {
  const out: RecvRecord[] = [];
  for (const r of parseCaptureText(await Deno.readTextFile(path), path)) {
    if (r.kind === "recv") out.push(r);
  }
  return out;
}

/** Instruments from the recorded swap_contract_info bodies (both families). */
async function instruments(): Promise<Map<string, Instrument>> {
  const bodies = (await Deno.readTextFile(`${CAPTURES}/HUOBI_SWAP.0`)).split(
    "\n",
  ).filter((l) => l.includes("swap_contract_info -> ")).map((l) =>
    l.slice(l.indexOf(": ") + 2)
  );
  assert.equal(bodies.length, 2);
  return new Map(
    huobiSwapAdapter.instruments(bodies).map((i) => [i.exchangeSymbol, i]),
  );
}

Deno.test("huobi-swap: instruments: coin-margined are inverse (USD per contract), USDT-margined linear (base per contract)", async () => {
  const insts = await instruments();
  // 50 coin-margined and 121 USDT-margined perpetuals were listed.
  assert.equal(insts.size, 171);
  assert.deepEqual(insts.get("BTC-USD"), {
    exchange: "huobi-swap",
    exchangeSymbol: "BTC-USD",
    symbol: "BTC-USD",
    base: "BTC",
    quote: "USD",
    market: "perpetual",
    contractSize: 100,
    inverse: true,
  });
  assert.deepEqual(insts.get("BTC-USDT"), {
    exchange: "huobi-swap",
    exchangeSymbol: "BTC-USDT",
    symbol: "BTC-USDT",
    base: "BTC",
    quote: "USDT",
    market: "perpetual",
    contractSize: 0.001,
  });
  assert.equal(insts.get("SOS-USDT")?.contractSize, 100000);
  // A dated USDT-margined future (business_type=all) is not a swap.
  const futures = JSON.stringify({
    status: "ok",
    data: [{
      contract_code: "BTC-USDT-220325",
      contract_size: 0.001,
      business_type: "futures",
    }],
  });
  assert.deepEqual(huobiSwapAdapter.instruments([futures]), []);
});

Deno.test("huobi-swap: each symbol has its family's market connection and its notification connection", () => {
  const a = huobiSwapAdapter;
  const g = a.connectionGroup!;
  assert.deepEqual(g("BTC-USD"), ["swap", "swap-notify"]);
  assert.deepEqual(g("BTC-USD-PERP"), ["swap", "swap-notify"]);
  assert.deepEqual(g("BTC-USDT"), ["linear", "linear-notify"]);
  assert.deepEqual(g("ETH-USDT-PERP"), ["linear", "linear-notify"]);
  // Notification connections carry liquidations only.
  assert.deepEqual(a.booklessGroups, ["swap-notify", "linear-notify"]);
  const urls: [string[], string, string][] = [
    [["ATOM-USD", "SHIB-USD"], "swap", "wss://api.hbdm.com/swap-ws"],
    [["GRT-USDT"], "linear", "wss://api.hbdm.com/linear-swap-ws"],
    [["BTC-USD"], "swap-notify", "wss://api.hbdm.com/swap-notification"],
    [
      ["BTC-USDT", "ETH-USDT"],
      "linear-notify",
      "wss://api.hbdm.com/linear-swap-notification",
    ],
  ];
  for (const [symbols, group, url] of urls) {
    assert.equal(a.url(symbols, undefined, group), url, group);
  }
  // Without a group: the symbols' market endpoint.
  assert.equal(a.url(["ATOM-USD"]), "wss://api.hbdm.com/swap-ws");
  assert.throws(() => a.url(["BTC-USD", "BTC-USDT"]), /BTC-USDT/);
  assert.throws(
    () => a.url(["BTC-USDT"], undefined, "swap-notify"),
    /BTC-USDT is not served on the HTX swap-notify endpoint/,
  );
  assert.throws(() => a.url(["BTC-USD"], undefined, "options"), /"options"/);
});

Deno.test("huobi-swap: notification connections subscribe public liquidation_orders per contract", () => {
  // The documented request: {"op":"sub","cid":…,"topic":"public.BTC-USD.liquidation_orders"}.
  for (const group of ["swap-notify", "linear-notify"]) {
    const s = group === "swap-notify" ? "BTC-USD" : "BTC-USDT";
    assert.deepEqual(
      huobiSwapAdapter.subscribe([s], group).map((f) => JSON.parse(f)),
      [{ op: "sub", cid: `${s}.l`, topic: `public.${s}.liquidation_orders` }],
    );
  }
});

Deno.test("huobi-swap: subscriptions ask for incremental 150-level books; resync re-subscribes", () => {
  assert.deepEqual(
    huobiSwapAdapter.subscribe(["BTC-USDT"], "linear").map((f) =>
      JSON.parse(f)
    ),
    [
      {
        sub: "market.BTC-USDT.depth.size_150.high_freq",
        data_type: "incremental",
        id: "BTC-USDT.b",
      },
      { sub: "market.BTC-USDT.trade.detail", id: "BTC-USDT.t" },
    ],
  );
  assert.deepEqual(huobiSwapAdapter.book.sync, {
    kind: "stream",
    link: "next",
  });
  assert.deepEqual(
    huobiSwapAdapter.book.resubscribe!("BTC-USD").map((f) => JSON.parse(f)),
    [
      {
        unsub: "market.BTC-USD.depth.size_150.high_freq",
        data_type: "incremental",
        id: "BTC-USD.u",
      },
      {
        sub: "market.BTC-USD.depth.size_150.high_freq",
        data_type: "incremental",
        id: "BTC-USD.b",
      },
    ],
  );
});

Deno.test("huobi-swap: every gzip frame of both captured connections parses like its decoded text; pings get the recorded pongs", async () => {
  const insts = await instruments();
  let snapshots = 0;
  let trades = 0;
  for (const n of [1, 2]) {
    const file = `HUOBI_SWAP.ws.${n}.0`;
    const bin = await received(`${CAPTURES}/${file}`);
    const txt = await received(`${CAPTURES}/decoded/${file}`);
    assert.equal(bin.length, txt.length);
    const a = huobiSwapAdapter.parser(insts);
    const b = huobiSwapAdapter.parser(insts);
    const pongs: string[] = [];
    for (let i = 0; i < bin.length; i++) {
      const ea = a.parse(bin[i].binary!, bin[i].ts);
      assert.deepEqual(ea, b.parse(txt[i].text!, txt[i].ts), `${file} ${i}`);
      assertSane(ea);
      pongs.push(...a.outbox!);
      a.outbox!.length = 0;
      for (const e of ea) {
        if (e.type === "book_snapshot") snapshots++;
        else if (e.type === "trade") {
          trades++;
          // HTX's own base `quantity` for the same trade.
          const q = JSON.parse(txt[i].text!).tick.data.find((
            d: { id: number },
          ) => String(d.id) === e.id).quantity;
          assertClose(e.size, q, `${e.exchangeSymbol} trade ${e.id}`);
        } else assert.fail(`unexpected ${e.type}`);
      }
    }
    const sent = (await Deno.readTextFile(`${CAPTURES}/${file}`)).split("\n")
      .filter((l) => l.includes(" <- ") && l.includes('"pong"'))
      .map((l) => l.slice(l.indexOf(": ") + 2));
    assert.equal(pongs.length, 6);
    assert.deepEqual(pongs, sent);
  }
  assert.equal(snapshots, 2862);
  assert.equal(trades, 25);
});

Deno.test("huobi-swap: depth.step0 images: inverse sizes are contracts × USD / price, linear contracts × base", async () => {
  const insts = await instruments();
  const p = huobiSwapAdapter.parser(insts);
  const first = async (file: string, prefix: string) =>
    (await received(`${CAPTURES}/decoded/${file}`)).find((r) =>
      r.text!.startsWith(prefix)
    )!.text!;
  const [atom] = p.parse(
    await first("HUOBI_SWAP.ws.1.0", '{"ch":"market.ATOM-USD.depth.step0"'),
    9,
  ) as BookSnapshot[];
  assert.equal(atom.type, "book_snapshot");
  assert.equal(atom.symbol, "ATOM-USD");
  assert.equal(atom.market, "perpetual");
  assert.equal(atom.exchangeTs, 1645289384842);
  assert.equal(atom.sequence, 1645289384);
  assert.equal(atom.contractSize, 10);
  assert.equal(atom.inverse, true);
  assert.equal(atom.bids.length, 90 * 2);
  assert.equal(atom.asks.length, 89 * 2);
  // 50 contracts of 10 USD at 26.5766 USD per ATOM.
  assert.deepEqual(atom.bids.slice(0, 2), [26.5766, 50 * 10 / 26.5766]);
  assert.deepEqual(atom.asks.slice(0, 2), [26.5805, 23 * 10 / 26.5805]);
  assert.deepEqual(atom.bids.slice(-2), [20.8, 111 * 10 / 20.8]);
  const [grt] = p.parse(
    await first("HUOBI_SWAP.ws.2.0", '{"ch":"market.GRT-USDT.depth.step0"'),
    9,
  ) as BookSnapshot[];
  assert.equal(grt.inverse, undefined);
  assert.equal(grt.contractSize, 10);
  assert.equal(grt.exchangeTs, 1645289384828);
  // 250 contracts of 10 GRT.
  assert.deepEqual(grt.bids.slice(0, 4), [0.41887, 2500, 0.41868, 1200]);
  assert.deepEqual(grt.asks.slice(-2), [0.46715, 420]);
});

Deno.test("huobi-swap: trade.detail: amount is contracts, rawSize keeps it", async () => {
  const insts = await instruments();
  const p = huobiSwapAdapter.parser(insts);
  const atom = (await received(`${CAPTURES}/decoded/HUOBI_SWAP.ws.1.0`))[0];
  const [t] = p.parse(atom.text!, 3);
  assert.equal(t.type, "trade");
  if (t.type !== "trade") return;
  assert.equal(t.id, "743774717120000");
  assert.equal(t.side, "buy");
  assert.equal(t.price, 26.5841);
  assert.equal(t.rawSize, 6);
  assert.equal(t.exchangeTs, 1645289382216);
  // 6 contracts × 10 USD / 26.5841 = HTX's quantity 2.25698819971336...
  assertClose(t.size, 2.2569881997133624986, "ATOM-USD size");
  const grt = (await received(`${CAPTURES}/decoded/HUOBI_SWAP.ws.2.0`))[0];
  const [u] = p.parse(grt.text!, 3);
  assert.deepEqual(u, {
    type: "trade",
    exchange: "huobi-swap",
    exchangeSymbol: "GRT-USDT",
    symbol: "GRT-USDT",
    market: "perpetual",
    exchangeTs: 1645289380927,
    localTs: 3,
    id: "431311833130000",
    price: 0.41912,
    size: 40, // 4 contracts × 10 GRT = HTX's quantity
    rawSize: 4,
    side: "buy",
  });
});

Deno.test("huobi-swap: tardis huobi-dm-swap inputs: coin-margined liquidations, high_freq update, other channels yield nothing", async () => {
  const insts = await instruments();
  const p = huobiSwapAdapter.parser(insts);
  const lines = (await Deno.readTextFile(`${TARDIS}/huobi-dm-swap.ndjson`))
    .trim().split("\n");
  const out = lines.map((l) => p.parse(l, 77));
  for (const e of out) assertSane(e);
  // 0 liquidation sub ack, 1 subbed, 5 basis, 6 open_interest, 7 funding
  // notify, 10 bbo.
  for (const i of [0, 1, 5, 6, 7, 10]) {
    assert.deepEqual(out[i], [], `line ${i}`);
  }
  // BSV-USD: 8 contracts × 10 USD at 177.3.
  assert.equal(out[2].length, 1);
  assert.equal(out[2][0].type === "trade" && out[2][0].size, 8 * 10 / 177.3);
  // high_freq update: version 164176090 stands for both ends.
  assert.deepEqual(out[4], [{
    type: "book_delta",
    exchange: "huobi-swap",
    exchangeSymbol: "BCH-USD",
    symbol: "BCH-USD",
    market: "perpetual",
    exchangeTs: 1592904821308,
    localTs: 77,
    first: 164176090,
    last: 164176090,
    prev: -1,
    bids: [239.34, 1021 * 10 / 239.34],
    asks: [],
    contractSize: 10,
    inverse: true,
  }]);
  // A liquidation `buy` order closes a short; volume 231 contracts × 10 USD.
  assert.deepEqual(out[8], [{
    type: "liquidation",
    exchange: "huobi-swap",
    exchangeSymbol: "ETH-USD",
    symbol: "ETH-USD",
    market: "perpetual",
    exchangeTs: 1593610492167,
    localTs: 77,
    price: 229.95,
    size: 231 * 10 / 229.95,
    rawSize: 231,
    side: "buy",
  }]);
  assert.equal(out[9][0].type === "liquidation" && out[9][0].side, "sell");
  assert.equal(out[9][0].type === "liquidation" && out[9][0].size, 30 / 153.28);
});

Deno.test("huobi-swap: tardis huobi-dm-linear-swap inputs: linear liquidation, trades without direction skipped", async () => {
  const insts = await instruments();
  const p = huobiSwapAdapter.parser(insts);
  const lines = (await Deno.readTextFile(
    `${TARDIS}/huobi-dm-linear-swap.ndjson`,
  )).trim().split("\n");
  const out = lines.map((l) => p.parse(l, 88));
  for (const e of out) assertSane(e);
  for (const i of [0, 1, 5, 6, 7, 9]) assert.deepEqual(out[i], [], `line ${i}`);
  // EOS-USDT: 6 contracts of 1 EOS.
  assert.equal(out[2][0].type === "trade" && out[2][0].size, 6);
  assert.deepEqual(out[4], [{
    type: "book_delta",
    exchange: "huobi-swap",
    exchangeSymbol: "ETC-USDT",
    symbol: "ETC-USDT",
    market: "perpetual",
    exchangeTs: 1606780833036,
    localTs: 88,
    first: 27290512,
    last: 27290512,
    prev: -1,
    bids: [],
    asks: [6.7918, 118, 6.7941, 0],
    contractSize: 1,
  }]);
  // 227 contracts × 0.001 BTC = HTX's `amount` 0.227; `sell` liquidates a long.
  assert.equal(out[8].length, 1);
  const l = out[8][0];
  assert.equal(l.type, "liquidation");
  if (l.type !== "liquidation") return;
  assert.equal(l.side, "sell");
  assert.equal(l.price, 23350.5);
  assert.equal(l.rawSize, 227);
  assertClose(l.size, 0.227, "BTC-USDT liquidation size");
  assert.equal(l.exchangeTs, 1608226502284);
  // A BTC-USDT trade with `direction: ""` has no taker side: no event.
  assert.deepEqual(out[10], []);
});

Deno.test("huobi-swap: a notification connection's frames: liquidations from both tardis inputs and HTX's example; acks, funding and pings yield none", async () => {
  const insts = await instruments();
  // What /swap-notification and /linear-swap-notification send: `op` frames.
  const notify: string[] = [];
  for (const f of ["huobi-dm-swap.ndjson", "huobi-dm-linear-swap.ndjson"]) {
    for (const l of (await Deno.readTextFile(`${TARDIS}/${f}`)).split("\n")) {
      if (l.startsWith('{"op":')) notify.push(l);
    }
  }
  // HTX's coin-margined data update example (BTC-USD, 100 USD contracts),
  // gzip-compressed as the endpoint sends every frame.
  notify.push(JSON.stringify({
    op: "notify",
    topic: "public.BTC-USD.liquidation_orders",
    ts: 1603879731301,
    data: [{
      contract_code: "BTC-USD",
      symbol: "BTC",
      direction: "buy",
      offset: "close",
      volume: 173,
      price: 17102.9,
      created_at: 1606381842485,
      amount: 1.0115243613656164,
    }],
  }));
  notify.push('{"op":"ping","ts":"1603879731301"}');
  const p = huobiSwapAdapter.parser(insts);
  const out = notify.map((l, i) =>
    p.parse(i === notify.length - 2 ? gzipSync(l) : l, 5)
  );
  for (const e of out) assertSane(e);
  // 0 sub ack (err-code 0), 1 funding_rate, 4 sub ack, 5 funding_rate, 8 ping.
  assert.equal(out.length, 9);
  for (const i of [0, 1, 4, 5, 8]) assert.deepEqual(out[i], [], `frame ${i}`);
  assert.deepEqual(p.outbox, ['{"op":"pong","ts":"1603879731301"}']);
  const liq = out.flat().filter((e) => e.type === "liquidation");
  assert.equal(liq.length, 4);
  assert.deepEqual(
    liq.map((
      l,
    ) => [l.exchangeSymbol, l.side, l.price, l.rawSize, l.exchangeTs]),
    [
      ["ETH-USD", "buy", 229.95, 231, 1593610492167],
      ["BSV-USD", "sell", 153.28, 3, 1593585531562],
      ["BTC-USDT", "sell", 23350.5, 227, 1608226502284],
      ["BTC-USD", "buy", 17102.9, 173, 1606381842485],
    ],
  );
  // Sizes in base: 231 × 10 USD / 229.95; 3 × 10 USD / 153.28; 227 × 0.001
  // BTC (HTX's amount 0.227); 173 × 100 USD / 17102.9 (HTX's amount).
  assertClose(liq[0].size, 231 * 10 / 229.95, "ETH-USD");
  assertClose(liq[1].size, 3 * 10 / 153.28, "BSV-USD");
  assertClose(liq[2].size, 0.227, "BTC-USDT");
  assertClose(liq[3].size, 1.0115243613656164, "BTC-USD");
  assert.ok(liq.every((l) => l.market === "perpetual"));
});

Deno.test("huobi-swap: high_freq snapshot then version + 1 updates sync; a skipped version is a gap", () => {
  const p = huobiSwapAdapter.parser(
    new Map([["BTC-USDT", {
      exchange: "huobi-swap",
      exchangeSymbol: "BTC-USDT",
      symbol: "BTC-USDT",
      base: "BTC",
      quote: "USDT",
      market: "perpetual",
      contractSize: 0.001,
    }]]),
  );
  // Hand-made frames in the documented shape (as the real ETC-USDT update).
  const frame = (event: string, version: number, bids: number[][]) =>
    JSON.stringify({
      ch: "market.BTC-USDT.depth.size_150.high_freq",
      tick: {
        asks: [[23351, 5]],
        bids,
        ch: "market.BTC-USDT.depth.size_150.high_freq",
        event,
        id: 1,
        mrid: 1,
        ts: 1608226502000 + version,
        version,
      },
      ts: 1608226502001,
    });
  const sync = new BookSync(huobiSwapAdapter.book.sync);
  const [snap] = p.parse(frame("snapshot", 100, [[23350, 1000]]), 1);
  assert.equal(snap.type, "book_snapshot");
  assert.deepEqual((snap as BookSnapshot).bids, [23350, 1]);
  assert.equal((snap as BookSnapshot).sequence, 100);
  sync.snapshot(snap as BookSnapshot);
  const d = (v: number) =>
    p.parse(frame("update", v, [[23350, 0]]), 1)[0] as BookDelta;
  assert.equal(sync.delta(d(100)), "stale");
  assert.equal(sync.delta(d(101)), "apply");
  assert.equal(sync.delta(d(103)), "gap");
});

Deno.test("huobi-swap: pings on market and notification endpoints are answered; garbage is malformed", () => {
  const p = huobiSwapAdapter.parser(new Map());
  assert.deepEqual(p.parse('{"ping":1645289389619}', 1), []);
  assert.deepEqual(p.parse('{"op":"ping","ts":"1645289389619"}', 1), []);
  assert.deepEqual(p.outbox, [
    '{"pong":1645289389619}',
    '{"op":"pong","ts":"1645289389619"}',
  ]);
  assert.throws(
    () => p.parse(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), 1),
    MalformedFrameError,
  );
});

Deno.test("huobi-swap: isHeartbeat is true for the captures' pings (gzip and decoded) and the notification ping, false for every other frame", async () => {
  let pings = 0;
  let others = 0;
  for (const name of ["HUOBI_SWAP.ws.1.0", "HUOBI_SWAP.ws.2.0"]) {
    for (
      const path of [`${CAPTURES}/${name}`, `${CAPTURES}/decoded/${name}`]
    ) {
      for (const r of await received(path)) {
        const frame = r.binary ?? r.text!;
        // The oracle: every frame inflated and read as JSON.
        const msg = JSON.parse(
          r.binary ? new TextDecoder().decode(gunzipSync(r.binary)) : r.text!,
        );
        const ping = msg.ping !== undefined;
        assert.equal(huobiSwapAdapter.isHeartbeat(frame), ping, path);
        if (ping) pings++;
        else others++;
      }
    }
  }
  assert.ok(pings > 10 && others > 5000, `${pings} pings, ${others} others`);
  const notify = huobiSwapAdapter.parser(new Map());
  for (const f of (await docFrames("huobi", "notification")).heartbeats) {
    assert.ok(huobiSwapAdapter.isHeartbeat(f), f);
    assert.ok(huobiSwapAdapter.isHeartbeat(gzipSync(f)), f);
    assert.deepEqual(notify.parse(f, 1), []);
  }
  assert.equal(notify.outbox!.length, 1);
  // Not gzip: not a ping (the parser reports such a frame).
  assert.equal(huobiSwapAdapter.isHeartbeat(new Uint8Array([1, 2, 3])), false);
});

Deno.test("huobi-swap: error replies on market and notification endpoints throw VenueError with err-msg and the symbol of the id, cid or topic", async () => {
  const insts = await instruments();
  assertVenueErrors(
    huobiSwapAdapter.parser(insts),
    (await docFrames("huobi", "market")).errors,
  );
  assertVenueErrors(
    huobiSwapAdapter.parser(insts),
    (await docFrames("huobi", "notification")).errors,
  );
  // The captures' `subbed` acks are no errors.
  const p = huobiSwapAdapter.parser(insts);
  let acks = 0;
  for (const r of await received(`${CAPTURES}/decoded/HUOBI_SWAP.ws.1.0`)) {
    if (!r.text!.includes(`"subbed"`)) continue;
    acks++;
    assert.deepEqual(p.parse(r.text!, 1), []);
  }
  assert.ok(acks > 0);
});
