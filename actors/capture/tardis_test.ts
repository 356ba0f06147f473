import assert from "node:assert/strict";
import {
  parseCaptureText,
  readCapture,
  readCaptures,
  type TimedRecord,
} from "./capture.ts";
import {
  exchangeOfTardisName,
  firstEnvelopeUrl,
  isTardisText,
  parseTardisText,
  parseTardisTime,
} from "./tardis.ts";
// The writer lives with the recorder (the connection layer cannot import
// this one); a colocated test may import across.
import {
  tardisConnLine,
  tardisLine,
  tardisTime,
} from "../connection/recorder.ts";
import { adapterFor } from "../adapters/mod.ts";
import { playToEnd } from "../replay/files.ts";

const DIR = "../shared/data/captures/cryptofeed";

/** Within 1 µs. */
function assertSameTime(got: number, want: number, what: string): void {
  assert.ok(
    Math.abs(got - want) < 0.001,
    `${what}: ${got} is not ${want} to 1 µs`,
  );
}

/** Gzips a text with CompressionStream. */
async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The shared Binance capture as tardis.dev writes Binance raw data: every
 * received frame raw, every REST depth snapshot as a generated
 * `<symbol>@depthSnapshot` message carrying the parsed REST body.
 */
async function binanceAsTardis(): Promise<string> {
  const frames = parseCaptureText(
    await Deno.readTextFile(`${DIR}/BINANCE.ws.1.0`),
    "ws",
  );
  const snapshots = parseCaptureText(
    await Deno.readTextFile(`${DIR}/BINANCE.http.0.0`),
    "http",
  );
  const lines: [number, string][] = [];
  for (const r of frames) {
    if (r.kind === "recv") lines.push([r.ts, `${tardisTime(r.ts)} ${r.text}`]);
  }
  for (const r of snapshots) {
    if (r.kind !== "http") continue;
    const symbol = new URL(r.url).searchParams.get("symbol")!;
    const msg = {
      stream: `${symbol.toLowerCase()}@depthSnapshot`,
      generated: true,
      data: JSON.parse(r.body),
    };
    lines.push([r.ts, `${tardisTime(r.ts)} ${JSON.stringify(msg)}`]);
  }
  lines.sort((a, b) => a[0] - b[0]);
  return lines.map(([, l]) => l).join("\n") + "\n";
}

/** The received frames and REST responses of a capture. */
function recvAndHttp(records: readonly TimedRecord[]): TimedRecord[] {
  return records.filter((r) => r.kind === "recv" || r.kind === "http");
}

Deno.test("tardis timestamps: any fraction length, written to 0.1 µs, read back within 1 µs", () => {
  // tardis.dev's documented example line's timestamp.
  assert.equal(
    parseTardisTime("2019-07-01T00:00:00.0418338Z"),
    Date.UTC(2019, 6, 1) + 41.8338,
  );
  assert.equal(
    parseTardisTime("2019-07-01T00:00:01Z"),
    Date.UTC(2019, 6, 1, 0, 0, 1),
  );
  assert.equal(
    parseTardisTime("2019-07-01T00:00:00.5Z"),
    Date.UTC(2019, 6, 1) + 500,
  );
  assert.ok(Number.isNaN(parseTardisTime("2019-07-01 00:00:00Z")));
  assert.ok(Number.isNaN(parseTardisTime("1633998512.0633569")));
  // A float ms time is precise to about 0.24 µs today: written to 0.1 µs,
  // every time reads back within 1 µs.
  const t0 = parseTardisTime("2019-07-01T00:00:00.0418338Z");
  assert.match(tardisTime(t0), /^2019-07-01T00:00:00\.041833\dZ$/);
  for (const ts of [t0, 1633998512063.3569, 1618678070522.8748, 1e12 + 0.5]) {
    assertSameTime(parseTardisTime(tardisTime(ts)), ts, String(ts));
  }
  assert.equal(
    tardisTime(Date.UTC(2019, 6, 1) + 41.5),
    "2019-07-01T00:00:00.0415Z",
  );
  assert.equal(
    tardisTime(Date.UTC(2019, 6, 1) + 41),
    "2019-07-01T00:00:00.041Z",
  );
  // A fraction that rounds up to the next ms carries.
  assert.equal(
    tardisTime(Date.UTC(2019, 6, 1) + 41.99999),
    "2019-07-01T00:00:00.042Z",
  );
  assert.throws(() => tardisTime(NaN), RangeError);
});

Deno.test("tardis format detection and file-name exchange ids", () => {
  assert.ok(isTardisText('\n2019-07-01T00:00:00.0418338Z {"stream":"x"}'));
  assert.ok(!isTardisText("1633998512.0633569: {}"));
  assert.ok(!isTardisText("configuration: {}"));
  assert.equal(
    exchangeOfTardisName("x/binance-futures_2020-09-01.gz"),
    "binance-futures",
  );
  assert.equal(exchangeOfTardisName("binance-2021-10-12.json.gz"), "binance");
  assert.equal(exchangeOfTardisName("okex_2021.gz"), "okx");
  assert.equal(exchangeOfTardisName("gate-io.gz"), "gateio");
  assert.equal(exchangeOfTardisName("huobi-dm-linear-swap_x.gz"), "huobi-swap");
  assert.equal(
    exchangeOfTardisName("huobi-swap.linear_x.ndjson.gz"),
    "huobi-swap",
  );
  // HTX delivery futures and unknown names are no exchange of coby's.
  assert.equal(exchangeOfTardisName("huobi-dm_2021.gz"), undefined);
  assert.equal(exchangeOfTardisName("binancefoo.gz"), undefined);
  assert.equal(exchangeOfTardisName("feed.gz"), undefined);
});

Deno.test("tardis Binance data (frames + @depthSnapshot), gzipped, reads as the cryptofeed capture does and replays to the same books", async () => {
  const cf = await readCapture([
    `${DIR}/BINANCE.0`,
    `${DIR}/BINANCE.http.0.0`,
    `${DIR}/BINANCE.ws.1.0`,
  ]);
  const text = await binanceAsTardis();
  const cfBooks = await playToEnd(cf.files, { depth: 5000 });
  assert.equal(Object.keys(cfBooks.books.binance).length, 4);
  const tmp = await Deno.makeTempDir();
  try {
    // Named by its tardis exchange id, gzipped.
    const named = `${tmp}/binance_2021-10-12.json.gz`;
    await Deno.writeFile(named, await gzip(text));
    // Named by nothing, plain: the exchange comes from the metadata file.
    const anonymous = `${tmp}/feed.log`;
    await Deno.writeTextFile(anonymous, text);
    for (const file of [named, anonymous]) {
      const caps = await readCaptures([`${DIR}/BINANCE.0`, file]);
      assert.equal(caps.length, 1, file);
      const [cap] = caps;
      assert.equal(cap.exchange, "binance");
      assert.deepEqual(cap.config, cf.config);
      const want = recvAndHttp(cf.records);
      const got = recvAndHttp(cap.records);
      assert.equal(got.length, want.length);
      let snapshots = 0;
      for (let i = 0; i < want.length; i++) {
        const w = want[i];
        const g = got[i];
        assert.equal(g.kind, w.kind, `record ${i}`);
        assertSameTime(g.ts, w.ts, `record ${i}`);
        if (w.kind === "recv" && g.kind === "recv") {
          assert.equal(g.text, w.text, `record ${i}`);
          assert.equal(g.conn, "", "a plain tardis file names no connection");
        } else if (w.kind === "http" && g.kind === "http") {
          // The snapshot URL coby's Binance adapter fetches is the one
          // cryptofeed recorded, and the body is the REST body.
          assert.equal(g.url, w.url, `record ${i}`);
          assert.equal(g.body, w.body, `record ${i}`);
          if (w.url.includes("/depth?")) snapshots++;
        }
      }
      assert.equal(snapshots, 4);
      // And it replays to the same books.
      const tardisBooks = await playToEnd([`${DIR}/BINANCE.0`, file], {
        depth: 5000,
      });
      assert.deepEqual(tardisBooks, cfBooks, file);
    }
    // Alone, or among files of several exchanges, the anonymous file's
    // exchange cannot be told.
    await assert.rejects(
      () => readCaptures([anonymous]),
      new RegExp(
        `Cannot recognise the exchange of ${anonymous}: .*no file read with it tells it`,
      ),
    );
    await assert.rejects(
      () => readCaptures([`${DIR}/BINANCE.0`, `${DIR}/KRAKEN.0`, anonymous]),
      /several exchanges \(binance, kraken\)/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("tardisLine round trip: every HUOBI record (gzip binary frames) reads back the same", async () => {
  const cap = await readCapture([`${DIR}/HUOBI.0`, `${DIR}/HUOBI.ws.44.0`]);
  const text = cap.records.map(tardisLine).join("\n") + "\n";
  assert.equal(
    firstEnvelopeUrl(text),
    "https://api.huobi.pro/v1/common/symbols",
  );
  const tmp = await Deno.makeTempDir();
  try {
    const file = `${tmp}/recording.ndjson.gz`;
    await Deno.writeFile(file, await gzip(text));
    // The exchange comes from the envelopes' URLs, not the file name.
    const back = await readCapture([file]);
    assert.equal(back.exchange, "huobi");
    assert.equal(back.records.length, cap.records.length);
    let binaries = 0;
    for (let i = 0; i < cap.records.length; i++) {
      const w = cap.records[i];
      const g = back.records[i];
      assertSameTime(g.ts, w.ts, `record ${i}`);
      assert.equal(g.file, file);
      assert.deepEqual({ ...g, ts: 0, file: "" }, { ...w, ts: 0, file: "" });
      if (w.kind === "recv" && w.binary) binaries++;
    }
    assert.equal(binaries, 362);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("tardisLine: text frames a raw line cannot hold go in an envelope; a rotated file's conn line", () => {
  const conn = "wss://api.huobi.pro/ws";
  const ts = Date.UTC(2021, 3, 17) + 0.25;
  const records = [
    { kind: "recv", conn, ts, text: "two\nlines" },
    { kind: "recv", conn, ts, text: '{"generated":true,"stream":"x"}' },
    { kind: "recv", conn, ts, text: "pong" },
  ] as const;
  const text = [tardisConnLine(conn, ts), ...records.map(tardisLine)].join(
    "\n",
  );
  assert.equal(text.split("\n").length, 4);
  assert.ok(text.endsWith(" pong"), "a plain text frame is written raw");
  const back = parseTardisText(text, "f", "huobi");
  assert.deepEqual(back, records.map((r) => ({ ...r, file: "f" })));
});

Deno.test("parseTardisText: bad lines fail naming the file and line; other generated messages are skipped", () => {
  assert.throws(
    () =>
      parseTardisText("2021-01-01T00:00:00Z {}\nnot a line", "f", "binance"),
    /line 2 of f \(bad timestamp\)/,
  );
  assert.throws(
    () =>
      parseTardisText(
        '2021-01-01T00:00:00Z {"generated":true,"coby":"nope"}',
        "f",
        "binance",
      ),
    /unknown coby envelope "nope"/,
  );
  // Kraken takes its snapshots in the stream: a REST snapshot is wrong there.
  assert.equal(adapterFor("kraken").book.snapshotUrl, undefined);
  assert.throws(
    () =>
      parseTardisText(
        '2021-01-01T00:00:00Z {"stream":"x@depthSnapshot","generated":true,"data":{}}',
        "f",
        "kraken",
      ),
    /a REST snapshot, but kraken takes none/,
  );
  assert.deepEqual(
    parseTardisText(
      '2021-01-01T00:00:00Z {"stream":"x@bookTicker","generated":true,"data":{}}',
      "f",
      "binance",
    ),
    [],
  );
});
