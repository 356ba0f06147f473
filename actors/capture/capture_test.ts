import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import {
  decodeBytesLiteral,
  exchangeOfUrl,
  groupByExchange,
  parseCaptureText,
  readCapture,
  readCaptures,
  recordedConnections,
} from "./capture.ts";

const DIR = "../shared/data/captures/cryptofeed";

Deno.test("decodeBytesLiteral decodes escapes and printable ASCII", () => {
  assert.deepEqual(
    decodeBytesLiteral(String.raw`b'\x1f\x8bA\n\r\t\\\'"z'`),
    new Uint8Array([0x1f, 0x8b, 0x41, 10, 13, 9, 0x5c, 0x27, 0x22, 0x7a]),
  );
  assert.deepEqual(
    decodeBytesLiteral(String.raw`b"it's \"x\""`),
    new TextEncoder().encode(`it's "x"`),
  );
  assert.deepEqual(decodeBytesLiteral("b''"), new Uint8Array(0));
  assert.throws(() => decodeBytesLiteral("'abc'"), SyntaxError);
  assert.throws(() => decodeBytesLiteral(String.raw`b'\x4'`), SyntaxError);
  assert.throws(() => decodeBytesLiteral(String.raw`b'\q'`), SyntaxError);
  assert.throws(() => decodeBytesLiteral("b'é'"), SyntaxError);
});

Deno.test("HUOBI binary frames gunzip to the lines of decoded/", async () => {
  const file = `${DIR}/HUOBI.ws.44.0`;
  const raw = (await Deno.readTextFile(file)).split("\n");
  const decoded = (await Deno.readTextFile(`${DIR}/decoded/HUOBI.ws.44.0`))
    .split("\n");
  const records = parseCaptureText(raw.join("\n"), file);
  // Records map 1:1 to non-empty lines; walk both together.
  let r = 0;
  let binaries = 0;
  let doubleQuoted = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "") continue;
    const rec = records[r++];
    if (rec.kind !== "recv" || !rec.binary) continue;
    binaries++;
    if (raw[i].includes(': b"')) doubleQuoted++;
    const text = new TextDecoder().decode(gunzipSync(rec.binary));
    const expected = decoded[i].slice(decoded[i].indexOf(": ") + 2);
    assert.equal(text, expected, `line ${i + 1}`);
    assert.equal(rec.conn, "wss://api.huobi.pro/ws");
    assert.ok(Number.isFinite(rec.ts) && rec.ts > 1.6e12);
  }
  assert.equal(r, records.length);
  assert.equal(binaries, 362);
  assert.ok(doubleQuoted > 0, 'the file has b"..." literals too');
});

Deno.test("parseCaptureText reads every record kind", () => {
  const text = [
    "https://api.binance.com/api/v3/exchangeInfo -> 1633998511.5: {}",
    'configuration: {"trades":["NKN-USDT"]}',
    "wss://stream.binance.com:9443/stream?streams=a <-> 1633998512",
    'wss://stream.binance.com:9443/stream?streams=a <- 1633998512.25: {"op":"ping"}',
    '1633998512.5: {"a":1}',
    "",
  ].join("\n");
  const recs = parseCaptureText(text, "X.0");
  assert.deepEqual(recs.map((r) => r.kind), [
    "http",
    "config",
    "open",
    "sent",
    "recv",
  ]);
  assert.deepEqual(recs[0], {
    kind: "http",
    url: "https://api.binance.com/api/v3/exchangeInfo",
    ts: 1633998511500,
    body: "{}",
    file: "X.0",
  });
  assert.deepEqual(recs[4], {
    kind: "recv",
    conn: "wss://stream.binance.com:9443/stream?streams=a",
    ts: 1633998512500,
    text: '{"a":1}',
    file: "X.0",
  });
});

Deno.test("parseCaptureText names the file and line of an unreadable line", () => {
  assert.throws(
    () =>
      parseCaptureText(
        "wss://x.kraken.com <-> 1\nnot a record\n",
        "KRAKEN.ws.1.0",
      ),
    /line 2 of KRAKEN\.ws\.1\.0/,
  );
  assert.throws(
    () => parseCaptureText("1618678132.8: {}", "K.ws.1.0"),
    /before any open line/,
  );
  assert.throws(() => parseCaptureText("12x: {}", "K.ws.1.0"), /bad timestamp/);
});

Deno.test("exchangeOfUrl recognises hosts", () => {
  const cases: [string, string | undefined][] = [
    ["wss://stream.binance.com:9443/stream", "binance"],
    ["https://api.binance.com/api/v3/depth", "binance"],
    ["wss://fstream.binance.com/stream", "binance-futures"],
    ["https://fapi.binance.com/fapi/v1/depth", "binance-futures"],
    ["wss://dstream.binance.com/stream", "binance-delivery"],
    ["https://dapi.binance.com/dapi/v1/depth", "binance-delivery"],
    ["wss://stream.binance.us:9443/ws", "binance-us"],
    ["https://api.binance.us/api/v3/depth", "binance-us"],
    ["wss://ws-feed.pro.coinbase.com", "coinbase"],
    ["wss://ws.kraken.com", "kraken"],
    ["wss://stream.bybit.com/realtime", "bybit"],
    ["wss://ws.okx.com:8443/ws/v5/public", "okx"],
    ["https://www.okex.com/api/v5/public/instruments", "okx"],
    ["wss://api.huobi.pro/ws", "huobi"],
    ["wss://api.hbdm.com/swap-ws", "huobi-swap"],
    ["wss://push-private.kucoin.com/endpoint?token=TOKEN", "kucoin"],
    ["wss://api.gateio.ws/ws/v4/", "gateio"],
    ["wss://api.bitfinex.com/ws/2", "bitfinex"],
    ["wss://stream.bybit.com/v5/public/linear", "bybit"],
    ["wss://stream.bybit.com/v5/public/spot", "bybit-spot"],
    [
      "https://api.bybit.com/v5/market/instruments-info?category=spot",
      "bybit-spot",
    ],
    [
      "https://api.bybit.com/v5/market/instruments-info?category=inverse&limit=1000",
      "bybit",
    ],
    ["wss://advanced-trade-ws.coinbase.com", "coinbase"],
    ["wss://ws.kraken.com/v2", "kraken"],
    ["wss://api.huobi.pro/feed", "huobi"],
    ["wss://api.hyperliquid.xyz/ws", "hyperliquid"],
    ["wss://wbs-api.mexc.com/ws", "mexc"],
    ["wss://contract.mexc.com/edge", "mexc-futures"],
    [
      "https://api.gateio.ws/api/v4/spot/order_book?currency_pair=BTC_USDT",
      "gateio",
    ],
    // Markets of the same venues coby does not speak: never the spot venue.
    ["wss://fx-ws.gateio.ws/v4/ws/usdt", undefined],
    ["https://api.gateio.ws/api/v4/futures/usdt/contracts", undefined],
    ["wss://futures.kraken.com/ws/v1", undefined],
    ["wss://api.hbdm.com/ws", undefined], // HTX delivery futures
    ["wss://stream.bybit.com/v5/public/option", undefined],
    ["wss://nbstream.binance.com/eoptions/stream", undefined],
    ["wss://ws-api-futures.kucoin.com/endpoint", undefined],
    ["https://api-futures.kucoin.com/api/v1/contracts/active", undefined],
    ["wss://example.com/ws", undefined],
    ["not a url", undefined],
  ];
  for (const [url, id] of cases) assert.equal(exchangeOfUrl(url), id, url);
});

Deno.test("readCapture merges one exchange's files sorted by ts", async () => {
  const cap = await readCapture(
    ["BINANCE.ws.1.0", "BINANCE.0", "BINANCE.http.0.0"].map((f) =>
      `${DIR}/${f}`
    ),
  );
  assert.equal(cap.exchange, "binance");
  assert.equal(cap.files.length, 3);
  assert.deepEqual(cap.config?.trades, [
    "NKN-USDT",
    "BLZ-ETH",
    "LRC-BTC",
    "RUNE-EUR",
  ]);
  assert.equal(cap.records.length, 1 + 5 + 265);
  assert.equal(cap.records[0].kind, "http"); // exchangeInfo precedes the open
  assert.equal(cap.records[1].kind, "open");
  for (let i = 1; i < cap.records.length; i++) {
    assert.ok(cap.records[i - 1].ts <= cap.records[i].ts);
  }
});

Deno.test("readCapture rejects mixed exchanges; readCaptures groups them by URL", async () => {
  const files = ["BINANCE.ws.1.0", "BINANCE_FUTURES.ws.1.0", "BINANCE.0"].map((
    f,
  ) => `${DIR}/${f}`);
  await assert.rejects(
    () => readCapture(files),
    /several exchanges given to readCapture: binance \(.*\); binance-futures \(/,
  );
  const caps = await readCaptures(files);
  assert.deepEqual(caps.map((c) => [c.exchange, c.files.length]), [[
    "binance",
    2,
  ], ["binance-futures", 1]]);
  const groups = await groupByExchange(files);
  assert.deepEqual([...groups.keys()], ["binance", "binance-futures"]);
  await assert.rejects(() => readCapture([]), /No capture files/);
});

Deno.test("readCapture names a file whose exchange is unknown", async () => {
  const path = await Deno.makeTempFile({ suffix: ".ws.1.0" });
  try {
    await Deno.writeTextFile(
      path,
      "wss://example.com/ws <-> 1618678132.3\n1618678132.4: {}\n",
    );
    await assert.rejects(
      () => readCapture([path]),
      (e: Error) => e.message.includes(path) && /example\.com/.test(e.message),
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readCapture names the host of a venue's unsupported market within a second", async () => {
  // The real Gate.io spot capture with only the WebSocket host changed to
  // Gate.io's USDT futures host, and the real Kraken capture with its host
  // changed to Kraken Futures: once misread as the spot venues.
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [src, from, to] of [
        [
          "GATEIO.ws.1.0",
          "wss://api.gateio.ws/ws/v4/",
          "wss://fx-ws.gateio.ws/v4/ws/usdt",
        ],
        ["KRAKEN.ws.48.0", "wss://ws.kraken.com", "wss://futures.kraken.com"],
      ]
    ) {
      const text = await Deno.readTextFile(`${DIR}/${src}`);
      assert.ok(text.includes(from));
      await Deno.writeTextFile(`${dir}/${src}`, text.replaceAll(from, to));
      const t0 = performance.now();
      await assert.rejects(
        () => readCaptures([`${DIR}/${src.split(".")[0]}.0`, `${dir}/${src}`]),
        (e: Error) =>
          e.message.startsWith("Unsupported exchange or market at ") &&
          e.message.includes(new URL(to).host) &&
          e.message.includes(`${dir}/${src}`),
      );
      assert.ok(performance.now() - t0 < 1000, `${src} took too long`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recordedConnections: each URL opened with the frames sent on it", async () => {
  const huobi = await readCapture([`${DIR}/HUOBI.0`, `${DIR}/HUOBI.ws.44.0`]);
  const conns = recordedConnections(huobi);
  assert.deepEqual(conns.map((c) => c.url), ["wss://api.huobi.pro/ws"]);
  assert.equal(conns[0].sent[0], '{"sub":"market.trioeth.depth.step0","id":1}');
  // 20 subscriptions (depth.step0 and trade.detail of 10 symbols), then
  // the answers to HTX's pings.
  const sent = conns[0].sent;
  assert.equal(sent.filter((f) => f.startsWith('{"sub":"market.')).length, 20);
  assert.ok(sent.slice(20).every((f) => f.startsWith('{"pong":')));
  // Kraken's three connections share one URL: merged, every frame kept.
  const kraken = await readCapture(
    ["KRAKEN.0", "KRAKEN.ws.48.0", "KRAKEN.ws.49.0", "KRAKEN.ws.50.0"].map((
      f,
    ) => `${DIR}/${f}`),
  );
  const [k] = recordedConnections(kraken);
  assert.equal(recordedConnections(kraken).length, 1);
  assert.equal(k.url, "wss://ws.kraken.com");
  assert.equal(
    k.sent.length,
    kraken.records.filter((r) => r.kind === "sent").length,
  );
});
