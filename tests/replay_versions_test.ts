/**
 * Which API version a replayed capture is parsed with, and what a replay
 * makes of captures it cannot take as they are.
 *
 * Versions that coexisted are told apart by what the recording subscribed
 * to, not by its date: Bybit v5 was live from early 2023 while v2 was served
 * until October 2023, and HTX served `mbp.150` from mid-2020 beside
 * `depth.step0`. Two captures are built here in cryptofeed's format from real
 * frames recorded before the old date cutoffs, and replayed through the
 * simulator and the real actors:
 * - Bybit v5 (dated 2023-05-01): the real 500-level XRPUSDT file from
 *   nautilus_trader's test data (recorded 2024-12-01: only the capture's
 *   timestamps are rewritten, in memory, to May 2023) and the real v5
 *   `publicTrade` and liquidation frames of tardis-node's inputs (recorded
 *   2023, and one `allLiquidation` of 2025 whose capture timestamp is
 *   rewritten likewise). The instrument metadata is written from the
 *   instruments-info docs (no v5 metadata is recorded); the client's
 *   subscribe frame follows the v5 docs.
 * - HTX `mbp.150` (2020-07-01, real dates): tardis-node's recorded BTCUSDT
 *   increments and the `req` refresh answering them, gzipped as HTX sends
 *   them, with the real HUOBI.0 metadata (its timestamp rewritten to 2020).
 */

import assert from "node:assert/strict";
import { gzipSync, inflateRawSync } from "node:zlib";
import {
  type Capture,
  readCapture,
  readCaptures,
} from "../actors/capture/capture.ts";
import { captureAdapter, captureSymbols } from "../actors/capture/plan.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { adapterFor, adapterForRecording } from "../actors/adapters/mod.ts";
import { bybitAdapter } from "../actors/adapters/bybit.ts";
import { bybitV2Adapter } from "../actors/adapters/bybit_v2.ts";
import { huobiAdapter } from "../actors/adapters/huobi.ts";
import { huobiStep0Adapter } from "../actors/adapters/huobi_step0.ts";
import { resolveSymbols } from "../actors/market/symbols.ts";
import { assertCleanReplay, captureFiles, CAPTURES } from "./_replay.ts";

const SAMPLES = "../shared/data/samples";
const TARDIS = `${SAMPLES}/tardis-node-inputs`;
const OB500 =
  `${SAMPLES}/nautilus_trader/tests/test_data/bybit/xrpusdt-ob500.data.zip`;
const quiet = { onLog: () => {} };

/** Writes capture files (name → lines) to a fresh temp directory. */
async function writeCapture(
  files: Record<string, string[]>,
): Promise<{ dir: string; paths: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "coby_capture_" });
  const paths: string[] = [];
  for (const [name, lines] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, lines.join("\n") + "\n");
    paths.push(`${dir}/${name}`);
  }
  return { dir, paths };
}

/** The first file of a zip archive (stored or deflated). */
function unzipFirst(path: string): string {
  const z = Deno.readFileSync(path);
  const v = new DataView(z.buffer, z.byteOffset, z.byteLength);
  assert.equal(v.getUint32(0, true), 0x04034b50, "zip local header");
  const method = v.getUint16(8, true);
  const size = v.getUint32(18, true);
  const start = 30 + v.getUint16(26, true) + v.getUint16(28, true);
  const data = z.subarray(start, start + size);
  return new TextDecoder().decode(method === 0 ? data : inflateRawSync(data));
}

/** `repr(bytes)`, as cryptofeed writes a binary frame. */
function pyBytes(b: Uint8Array): string {
  let s = "b'";
  for (const c of b) {
    if (c === 0x5c) s += "\\\\";
    else if (c === 0x27) s += "\\'";
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return s + "'";
}

/** Lines of a sample file. */
function lines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l.trim());
}

/** A capture timestamp (epoch seconds, as cryptofeed writes it). */
const sec = (ms: number) => (ms / 1000).toFixed(6);

/** Price → size levels, best first, from a map of a plain rebuild. */
function sorted(m: Map<number, number>, desc: boolean): [number, number][] {
  return [...m].sort((a, b) => desc ? b[0] - a[0] : a[0] - b[0]);
}

// ---- Bybit v5, recorded while v2 was still served ----

/** 2023-05-01: v5 live, v2 retired only on 2023-10-16. */
const BYBIT_T0 = Date.UTC(2023, 4, 1);

/** A v5 instruments-info entry, shaped as in the docs. */
const v5Entry = (symbol: string, base: string) => ({
  symbol,
  contractType: "LinearPerpetual",
  status: "Trading",
  baseCoin: base,
  quoteCoin: "USDT",
  settleCoin: "USDT",
  launchTime: "1585526400000",
  deliveryTime: "0",
  priceFilter: { tickSize: "0.0001" },
  lotSizeFilter: { qtyStep: "1" },
});

function bybitV5Capture(): {
  files: Record<string, string[]>;
  book: string[];
  trades: number;
  liquidations: number;
} {
  const linear = JSON.stringify({
    retCode: 0,
    retMsg: "OK",
    result: {
      category: "linear",
      list: [
        v5Entry("XRPUSDT", "XRP"),
        v5Entry("LTCUSDT", "LTC"),
        v5Entry("GALAUSDT", "GALA"),
        v5Entry("PIPPINUSDT", "PIPPIN"),
      ],
      nextPageCursor: "",
    },
  });
  const inverse = JSON.stringify({
    retCode: 0,
    retMsg: "OK",
    result: { category: "inverse", list: [], nextPageCursor: "" },
  });
  const book = unzipFirst(OB500).split("\n").filter((l) => l);
  const tardis = lines(`${TARDIS}/bybit.ndjson`);
  const others = tardis.filter((l) =>
    /"topic":"(publicTrade\.LTCUSDT|liquidation\.GALAUSDT|allLiquidation\.PIPPINUSDT)"/
      .test(l)
  );
  let trades = 0;
  let liquidations = 0;
  for (const l of others) {
    const m = JSON.parse(l);
    if (m.topic.startsWith("publicTrade")) trades += m.data.length;
    else liquidations += Array.isArray(m.data) ? m.data.length : 1;
  }
  const ws = "wss://stream.bybit.com/v5/public/linear";
  const topics = [
    "orderbook.500.XRPUSDT",
    "publicTrade.LTCUSDT",
    "liquidation.GALAUSDT",
    "allLiquidation.PIPPINUSDT",
  ];
  // Capture timestamps: every frame 100 ms after the one before, from T0 + 2 s.
  const frames = [...book.slice(0, 10), ...others, ...book.slice(10)];
  return {
    files: {
      "BYBIT.0": [
        `https://api.bybit.com/v5/market/instruments-info?category=linear&limit=1000 -> ${
          sec(BYBIT_T0)
        }: ${linear}`,
        `https://api.bybit.com/v5/market/instruments-info?category=inverse&limit=1000 -> ${
          sec(BYBIT_T0 + 100)
        }: ${inverse}`,
        `configuration: ${
          JSON.stringify({
            l2_book: ["XRP-USDT-PERP"],
            trades: ["XRP-USDT-PERP", "LTC-USDT-PERP"],
            liquidations: ["GALA-USDT-PERP", "PIPPIN-USDT-PERP"],
          })
        }`,
      ],
      "BYBIT.ws.1.0": [
        `${ws} <-> ${sec(BYBIT_T0 + 1000)}`,
        `${ws} <- ${sec(BYBIT_T0 + 1100)}: ${
          JSON.stringify({ op: "subscribe", args: topics })
        }`,
        ...frames.map((f, i) => `${sec(BYBIT_T0 + 2000 + 100 * i)}: ${f}`),
      ],
    },
    book,
    trades,
    liquidations,
  };
}

Deno.test("versions: a Bybit v5 capture recorded while v2 was served replays with v5: books, trades and liquidations, nothing malformed", async () => {
  const { files, book, trades, liquidations } = bybitV5Capture();
  assert.ok(trades > 0 && liquidations >= 2, "sample frames found");
  const { dir, paths } = await writeCapture(files);
  try {
    const cap = await readCapture(paths);
    // By date alone this is v2; the recording subscribed v5 topics on /v5.
    assert.equal(adapterFor("bybit", cap.records[0].ts), bybitV2Adapter);
    assert.equal(captureAdapter(cap), bybitAdapter);

    // The symbols the trades and liquidations are of are followed too, as
    // cryptofeed did; only XRPUSDT has a book in the recording.
    const replay = await Replay.start(paths, {
      speed: "max",
      supervisor: quiet,
    });
    try {
      await replay.finished(30_000);
      const dump = await replay.dump(5000);
      const s = dump.stats.bybit;
      assert.equal(s.malformed, 0, "malformed");
      assert.equal(s.gaps, 0, "gaps");
      assert.equal(s.frames, replay.sims.get("bybit")!.framesSent);
      assert.equal(s.bookUpdates, book.length); // 1 snapshot + 49 deltas
      assert.equal(s.trades, trades);
      assert.equal(s.liquidations, liquidations);
      // The book equals a plain rebuild of the recorded frames: the
      // snapshot replaces, size "0" deletes; sizes in XRP.
      const bids = new Map<number, number>();
      const asks = new Map<number, number>();
      for (const f of book) {
        const m = JSON.parse(f);
        if (m.type === "snapshot") {
          bids.clear();
          asks.clear();
        }
        for (const [px, q] of m.data.b) {
          +q === 0 ? bids.delete(+px) : bids.set(+px, +q);
        }
        for (const [px, q] of m.data.a) {
          +q === 0 ? asks.delete(+px) : asks.set(+px, +q);
        }
      }
      const got = dump.books.bybit.XRPUSDT;
      assert.equal(got.state, "synced");
      assert.deepEqual(got.bids, sorted(bids, true));
      assert.deepEqual(got.asks, sorted(asks, false));
      assert.equal(got.bids.length, 500);
    } finally {
      await replay.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- HTX mbp.150, recorded in 2020 ----

function huobiMbpCapture(): {
  files: Record<string, string[]>;
  frames: Record<string, any>[];
} {
  const meta = Deno.readTextFileSync(`${CAPTURES}/HUOBI.0`).split("\n")
    .find((l) => l.startsWith("https://api.huobi.pro/v1/common/symbols -> "))!;
  // tardis-node's BTCUSDT mbp.150 increments and the `req` refresh (rep);
  // the sample's last increment (prevSeqNum …500) follows increments the
  // sample does not carry, so it is left out.
  const frames = lines(`${TARDIS}/huobi.ndjson`)
    .filter((l) => l.includes('market.btcusdt.mbp.150"'))
    .map((l) => JSON.parse(l))
    .filter((m) => m.rep || m.tick.prevSeqNum !== 109409288500)
    .sort((a, b) => a.ts - b.ts);
  const t0 = frames[0].ts - 1000;
  const ws = "wss://api.huobi.pro/feed";
  return {
    files: {
      "HUOBI.0": [
        meta.replace(/ -> [\d.]+: /, ` -> ${sec(t0)}: `),
        `configuration: ${
          JSON.stringify({ l2_book: ["BTC-USDT"], trades: ["BTC-USDT"] })
        }`,
      ],
      "HUOBI.ws.1.0": [
        `${ws} <-> ${sec(t0 + 200)}`,
        `${ws} <- ${sec(t0 + 300)}: ${
          JSON.stringify({ sub: "market.btcusdt.mbp.150", id: "btcusdt.b" })
        }`,
        // Received a few ms after HTX stamped them; gzipped, as HTX sends.
        ...frames.map((m) =>
          `${sec(m.ts + 5)}: ${
            pyBytes(gzipSync(new TextEncoder().encode(JSON.stringify(m))))
          }`
        ),
      ],
    },
    frames,
  };
}

Deno.test("versions: an HTX mbp.150 capture recorded in 2020 replays with the mbp version, its book aligned on the refresh", async () => {
  const { files, frames } = huobiMbpCapture();
  const rep = frames.find((m) => m.rep)!;
  assert.ok(rep && frames.length === 6, "sample frames found");
  const { dir, paths } = await writeCapture(files);
  try {
    const cap = await readCapture(paths);
    assert.equal(new Date(cap.records[0].ts).getUTCFullYear(), 2020);
    assert.equal(adapterFor("huobi", cap.records[0].ts), huobiStep0Adapter);
    assert.equal(captureAdapter(cap), huobiAdapter);

    const replay = await Replay.start(paths, {
      speed: "max",
      supervisor: quiet,
    });
    try {
      await replay.finished(30_000);
      const dump = await replay.dump(5000);
      assertCleanReplay(replay, dump, "huobi");
      // Only the recorded `/feed` book connection runs (no `/ws` trades one).
      assert.deepEqual(
        replay.coby.supervisor.actors().map((a) => a.id).filter((id) =>
          id.startsWith("conn:")
        ),
        ["conn:huobi:books"],
      );
      // The plain rebuild: the refresh's image, then the increments whose
      // prevSeqNum is not older than its seqNum, size 0 deleting.
      const bids = new Map<number, number>(rep.data.bids);
      const asks = new Map<number, number>(rep.data.asks);
      let applied = 1;
      for (const m of frames) {
        if (m.rep || m.tick.prevSeqNum < rep.data.seqNum) continue;
        applied++;
        for (const [px, q] of m.tick.bids) {
          q === 0 ? bids.delete(px) : bids.set(px, q);
        }
        for (const [px, q] of m.tick.asks) {
          q === 0 ? asks.delete(px) : asks.set(px, q);
        }
      }
      assert.equal(applied, 4); // the refresh and 3 increments
      assert.equal(dump.stats.huobi.bookUpdates, applied);
      const got = dump.books.huobi.btcusdt;
      assert.equal(got.state, "synced");
      assert.deepEqual(got.bids, sorted(bids, true));
      assert.deepEqual(got.asks, sorted(asks, false));
      assert.ok(got.bids[0][0] < got.asks[0][0], "uncrossed");
    } finally {
      await replay.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("versions: the real v2 and depth.step0 captures keep their versions at any date", async () => {
  // The real captures with every timestamp moved (in memory) to 2024, after
  // both old versions' cutoffs: what they subscribed to still decides.
  const shift = (cap: Capture, to: number): Capture => {
    const d = to - cap.records[0].ts;
    return {
      ...cap,
      records: cap.records.map((r) => ({ ...r, ts: r.ts + d })),
    };
  };
  const later = Date.UTC(2024, 5, 1);
  const bybit = await readCapture(captureFiles("BYBIT"));
  const huobi = await readCapture(captureFiles("HUOBI"));
  assert.equal(adapterFor("bybit", later), bybitAdapter);
  assert.equal(captureAdapter(shift(bybit, later)), bybitV2Adapter);
  assert.equal(adapterFor("huobi", later), huobiAdapter);
  assert.equal(captureAdapter(shift(huobi, later)), huobiStep0Adapter);
  // A connection no version speaks is named.
  assert.throws(
    () =>
      adapterForRecording("bybit", [{
        url: "wss://stream.bybit.com/spot/quote/ws/v1",
        sent: [],
      }]),
    /No bybit API version coby knows speaks the recorded connection wss:\/\/stream\.bybit\.com\/spot\/quote\/ws\/v1/,
  );
});

// ---- captures without cryptofeed's configuration line ----

Deno.test("versions: without a configuration line the followed symbols come from the recorded subscriptions", async () => {
  const files = [...Deno.readDirSync(CAPTURES)]
    .filter((e) => e.isFile && e.name.endsWith(".0"))
    .map((e) => `${CAPTURES}/${e.name}`);
  const caps = await readCaptures(files);
  assert.equal(caps.length, 11);
  const key = (u: string) => new URL(u).pathname + new URL(u).search;
  for (const cap of caps) {
    const ad = captureAdapter(cap);
    const bodies = new Map<string, string>();
    for (const r of cap.records) {
      if (r.kind === "http") bodies.set(key(r.url), r.body);
    }
    const insts = ad.instruments(
      ad.metadataUrls.map((u) => bodies.get(key(u))!),
    );
    const followed = (symbols: string[]) =>
      resolveSymbols(symbols, insts).found.map((i) => i.exchangeSymbol).sort();
    const inferred = captureSymbols({ ...cap, config: undefined }, ad);
    assert.deepEqual(
      followed(inferred),
      followed(captureSymbols(cap, ad)),
      cap.exchange,
    );
  }
});

Deno.test("versions: a BYBIT capture stripped of its configuration line replays as with it", async () => {
  // The real BYBIT.0 without its `configuration:` line; the WebSocket files
  // are read in place.
  const dir = await Deno.makeTempDir({ prefix: "coby_capture_" });
  try {
    const [meta, ...ws] = captureFiles("BYBIT");
    const text = await Deno.readTextFile(meta);
    assert.match(text, /^configuration: /m);
    await Deno.writeTextFile(
      `${dir}/BYBIT.0`,
      text.split("\n").filter((l) => !l.startsWith("configuration: ")).join(
        "\n",
      ),
    );
    const replay = await Replay.start([`${dir}/BYBIT.0`, ...ws], {
      speed: "max",
      supervisor: quiet,
    });
    try {
      await replay.finished(60_000);
      const dump = await replay.dump(5);
      assertCleanReplay(replay, dump, "bybit");
      // The counts of the replay with the configuration (replay_bybit_test).
      assert.equal(dump.stats.bybit.bookUpdates, 4278);
      assert.equal(dump.stats.bybit.trades, 251);
      const books = Object.values(dump.books.bybit);
      assert.equal(books.length, 10);
      for (const b of books) assert.equal(b.state, "synced");
    } finally {
      await replay.stop();
    }
    // Without the metadata either, the error says what is missing.
    await assert.rejects(
      () => Replay.start(ws, { speed: "max", supervisor: quiet }),
      /The capture of bybit \(.*\) has no cryptofeed configuration line, and lacks the metadata https:\/\/api\.bybit\.com\/v2\/public\/symbols/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- venues and markets coby does not speak ----

Deno.test("versions: a Gate.io futures or Kraken Futures capture fails at once, naming the host", async () => {
  // The real GATEIO and KRAKEN captures with only their WebSocket host
  // changed (in temp files) to Gate.io USDT futures and Kraken Futures.
  for (
    const [prefix, from, to] of [
      [
        "GATEIO",
        "wss://api.gateio.ws/ws/v4/",
        "wss://fx-ws.gateio.ws/v4/ws/usdt",
      ],
      ["KRAKEN", "wss://ws.kraken.com", "wss://futures.kraken.com/ws/v1"],
    ]
  ) {
    const dir = await Deno.makeTempDir({ prefix: "coby_capture_" });
    try {
      const paths: string[] = [];
      for (const f of captureFiles(prefix)) {
        const name = f.slice(f.lastIndexOf("/") + 1);
        const text = await Deno.readTextFile(f);
        await Deno.writeTextFile(`${dir}/${name}`, text.replaceAll(from, to));
        paths.push(`${dir}/${name}`);
      }
      const t0 = performance.now();
      await assert.rejects(
        () => Replay.start(paths, { speed: "max", supervisor: quiet }),
        (e: Error) =>
          e.message.startsWith("Unsupported exchange or market at ") &&
          e.message.includes(new URL(to).host),
      );
      assert.ok(performance.now() - t0 < 1000, `${prefix}: not within 1 s`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("versions: a capture with no WebSocket recording fails at once instead of waiting", async () => {
  // Only the real BINANCE.0 (metadata and configuration): no connection to
  // replay, which used to leave the replay silent until its 120 s timeout.
  const t0 = performance.now();
  await assert.rejects(
    () =>
      Replay.start([`${CAPTURES}/BINANCE.0`], {
        speed: "max",
        supervisor: quiet,
      }),
    /^Error: The capture of binance \(.*BINANCE\.0\) has no recorded WebSocket connection coby can replay \(recorded paths: none\)$/,
  );
  assert.ok(performance.now() - t0 < 1000, "not within 1 s");
});
