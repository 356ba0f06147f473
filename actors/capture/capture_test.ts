import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import {
  decodeBytesLiteral,
  exchangeOfUrl,
  groupByExchange,
  parseCaptureText,
  readCapture,
  readCaptures,
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
