/**
 * Raw recording by the connection actors: a simulated live run (the
 * exchange simulator serving a shared capture over real sockets) is
 * recorded, the recording is read back as a capture, and it holds what the
 * connection received, the REST responses it applied, and replays (without
 * sockets) to the live run's books.
 */

import assert from "node:assert/strict";
import { Replay } from "../actors/system/capture_replay.ts";
import {
  exchangeOfUrl,
  readCapture,
  type TimedRecord,
} from "../actors/capture/capture.ts";
import { playToEnd } from "../actors/replay/files.ts";
import { captureFiles } from "./_replay.ts";
import {
  ConfigError,
  loadConfig,
  parseConfig,
} from "../actors/system/config.ts";
import { isConnectionOf, topology } from "../actors/system/topology.ts";

const quiet = { onLog: () => {} };

/** Recording files of one exchange under `dir`, sorted by name (= start time). */
function recordingFiles(dir: string, exchange: string): string[] {
  return [...Deno.readDirSync(`${dir}/${exchange}`)]
    .map((e) => `${dir}/${exchange}/${e.name}`)
    .sort();
}

/** A received frame as comparable data: time to 1 µs, text or bytes. */
function frame(r: TimedRecord): unknown {
  if (r.kind !== "recv") throw new Error(`Not a received frame: ${r.kind}`);
  return [Math.round(r.ts * 1000), r.text ?? [...r.binary!]];
}

/**
 * Records a simulated live run of a shared capture and checks the
 * recording against the capture and the run.
 * @param prefix the capture's name, e.g. `BINANCE`.
 * @param exchange its exchange id.
 * @returns what was checked, for venue-specific assertions.
 */
async function recordRun(prefix: string, exchange: string) {
  const files = captureFiles(prefix);
  const tmp = await Deno.makeTempDir();
  try {
    const replay = await Replay.start(files, {
      speed: "max",
      supervisor: quiet,
      record: { dir: tmp, exchanges: ["*"] },
    });
    let live;
    try {
      await replay.finished();
      live = await replay.dump(5000);
    } finally {
      await replay.stop(); // the connection actors complete their files
    }
    assert.equal(live.stats[exchange].recordErrors, 0);
    assert.equal(live.stats[exchange].recordDropped, 0);
    const cap = await readCapture(files);
    const paths = recordingFiles(tmp, exchange);
    for (const p of paths) {
      assert.match(p, /\.ndjson\.gz$/);
      assert.deepEqual([...(await Deno.readFile(p)).slice(0, 2)], [0x1f, 0x8b]);
    }
    const rec = await readCapture(paths);
    assert.equal(rec.exchange, exchange);
    // Every frame the connection received, in order, at its recorded time:
    // the venue's frames, as the capture holds them.
    const got = rec.records.filter((r) => r.kind === "recv");
    const want = cap.records.filter((r) => r.kind === "recv");
    assert.equal(got.length, live.stats[exchange].frames);
    assert.deepEqual(got.map(frame), want.map(frame));
    // The socket opened on the venue's URL (not the simulator's), and the
    // frames are of it.
    const opens = rec.records.filter((r) => r.kind === "open");
    assert.equal(opens.length, 1);
    assert.equal(exchangeOfUrl(opens[0].url), exchange);
    for (const r of got) {
      assert.equal(r.kind === "recv" && r.conn, opens[0].url);
    }
    // The REST responses (metadata, snapshots) are the recorded ones.
    const recorded = new Map<string, string>();
    for (const r of cap.records) {
      if (r.kind === "http") recorded.set(r.url, r.body);
    }
    const http = rec.records.filter((r) => r.kind === "http");
    for (const r of http) {
      assert.equal(r.kind === "http" && r.body, recorded.get(r.url), r.url);
    }
    // Replayed without sockets, the recording gives the live run's books.
    const again = await playToEnd(paths, { depth: 5000 });
    assert.deepEqual(
      Object.keys(again.books[exchange]).sort(),
      Object.keys(live.books[exchange]).sort(),
    );
    assert.deepEqual(again.books[exchange], live.books[exchange]);
    // And so does the exchange simulator serving the recording over sockets
    // (`deno task replay <recording files>`).
    const served = await Replay.start(paths, {
      speed: "max",
      supervisor: quiet,
    });
    try {
      await served.finished();
      const dump = await served.dump(5000);
      assert.deepEqual(dump.books[exchange], live.books[exchange]);
      assert.equal(dump.stats[exchange].frames, live.stats[exchange].frames);
    } finally {
      await served.stop();
    }
    return { live, rec, http };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("record: a simulated live Binance run records its frames and REST snapshots, and replays to the same books", async () => {
  const { live, rec, http } = await recordRun("BINANCE", "binance");
  // exchangeInfo and one REST snapshot per book.
  const books = Object.keys(live.books.binance);
  assert.equal(books.length, 4);
  assert.deepEqual(
    http.map((r) => r.kind === "http" && new URL(r.url).pathname).sort(),
    [
      "/api/v3/depth",
      "/api/v3/depth",
      "/api/v3/depth",
      "/api/v3/depth",
      "/api/v3/exchangeInfo",
    ],
  );
  for (const b of Object.values(live.books.binance)) {
    assert.equal(b.state, "synced");
  }
  // Binance names its streams in the URL: nothing sent.
  assert.equal(rec.records.filter((r) => r.kind === "sent").length, 0);
});

Deno.test("record: a simulated live HTX run records its gzip binary frames and what it sent, and replays to the same books", async () => {
  const { live, rec } = await recordRun("HUOBI", "huobi");
  const binary = rec.records.filter((r) => r.kind === "recv" && r.binary);
  assert.ok(binary.length > 0);
  // Subscriptions (and pongs) were recorded as sent on the socket.
  const sent = rec.records.filter((r) => r.kind === "sent");
  assert.ok(sent.some((r) => r.kind === "sent" && r.text.includes('"sub"')));
  assert.ok(Object.keys(live.books.huobi).length > 0);
});

Deno.test("record config: COBY_RECORD and COBY_RECORD_DIR; only the recorded exchanges' connections record", async () => {
  /** Connection actor id → its `record` config. */
  const recordOf = (cfg: Awaited<ReturnType<typeof loadConfig>>) =>
    new Map(
      topology(cfg).specs.filter((s) => s.id.startsWith("conn:")).map((s) => [
        s.id,
        (s.config as { record?: unknown }).record,
      ]),
    );
  const env = (vars: Record<string, string>) => (k: string) => vars[k];
  // Default: nothing recorded.
  const none = await loadConfig(env({}));
  assert.deepEqual(none.record, {
    dir: "data/record",
    exchanges: [],
    maxBytes: 256 * 2 ** 20,
    maxAgeMs: 3_600_000,
  });
  assert.ok([...recordOf(none).values()].every((r) => r === undefined));
  const some = await loadConfig(
    env({ COBY_RECORD: "binance, huobi", COBY_RECORD_DIR: "/tmp/rec" }),
  );
  assert.deepEqual(some.record.exchanges, ["binance", "huobi"]);
  const conns = recordOf(some);
  const want = {
    dir: "/tmp/rec",
    maxBytes: 256 * 2 ** 20,
    maxAgeMs: 3_600_000,
  };
  for (const [id, record] of conns) {
    const recorded = isConnectionOf(id, "binance") ||
      isConnectionOf(id, "huobi");
    assert.deepEqual(record, recorded ? want : undefined, id);
  }
  assert.ok(conns.has("conn:binance") && conns.has("conn:kraken"));
  const all = recordOf(await loadConfig(env({ COBY_RECORD: "*" })));
  assert.ok(all.size > 10);
  assert.ok([...all.values()].every((r) => r !== undefined));
  assert.throws(
    () => parseConfig({ record: { exchanges: ["binanse"] } }),
    (e) =>
      e instanceof ConfigError &&
      /record\.exchanges: unknown exchange binanse/.test(e.message),
  );
  await assert.rejects(
    () => loadConfig(env({ COBY_RECORD: "binance,," })),
    /Invalid COBY_RECORD/,
  );
});
