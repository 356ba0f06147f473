import assert from "node:assert/strict";
import type { ActorContext } from "../../runtime/actor.ts";
import { readCapture, type TimedRecord } from "../capture/capture.ts";
import { ExchangeSimulator } from "../capture/simulator.ts";
import { Connection, ConnectionConfig } from "./mod.ts";
import { Recorder } from "./recorder.ts";

const DIR = "../shared/data/captures/cryptofeed";

/** The recording files under `dir`, sorted by name (= start time). */
function filesIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => `${dir}/${e.name}`).sort();
}

/** A record without its file, ts rounded to 1 µs, for comparing. */
function comparable(r: TimedRecord): Record<string, unknown> {
  return { ...r, ts: Math.round(r.ts * 1000), file: "" };
}

Deno.test("Recorder: a HUOBI capture (gzip binary frames) recorded in rotating files reads back the same", async () => {
  const cap = await readCapture([`${DIR}/HUOBI.0`, `${DIR}/HUOBI.ws.44.0`]);
  const tmp = await Deno.makeTempDir();
  try {
    const warnings: string[] = [];
    const rec = new Recorder({
      dir: tmp,
      exchange: "huobi",
      connection: "conn:huobi",
      maxBytes: 200_000,
      warn: (m) => warnings.push(m),
    });
    for (const r of cap.records) rec.write(r);
    await rec.close();
    assert.equal(rec.errors, 0);
    assert.deepEqual(warnings, []);
    const files = filesIn(`${tmp}/huobi`);
    assert.deepEqual(files, [...rec.files].sort());
    // The capture is ~1.3 MB of lines: several files, each gzip, named
    // after the connection and the start time.
    assert.ok(files.length >= 5, `${files.length} files`);
    for (const f of files) {
      assert.match(
        f,
        /\/huobi_\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.ndjson\.gz$/,
      );
      const head = (await Deno.readFile(f)).slice(0, 2);
      assert.deepEqual([...head], [0x1f, 0x8b]);
    }
    assert.ok(rec.bytes >= 200_000 * (files.length - 1));
    const back = await readCapture(files);
    assert.equal(back.exchange, "huobi");
    assert.deepEqual(back.records.map(comparable), cap.records.map(comparable));
    // Every received frame, in rotated files too, is of the opened connection.
    for (const r of back.records) {
      if (r.kind === "recv") assert.equal(r.conn, "wss://api.huobi.pro/ws");
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("Recorder: files rotate by age; an untimed record goes 1 µs before the next timed one", async () => {
  const cap = await readCapture([`${DIR}/BINANCE.0`, `${DIR}/BINANCE.ws.1.0`]);
  const tmp = await Deno.makeTempDir();
  try {
    const rec = new Recorder({
      dir: tmp,
      exchange: "binance",
      connection: "conn:binance",
      maxAgeMs: 5,
      warn: () => {},
    });
    const [meta, ...rest] = cap.records;
    assert.equal(meta.kind, "http");
    // A replay's recorded clock is unknown before its first clock frame.
    rec.write({ ...meta, ts: 0 });
    for (let i = 0; i < 30; i++) {
      rec.write(rest[i]);
      await new Promise((r) => setTimeout(r, 2));
    }
    await rec.close();
    const files = filesIn(`${tmp}/binance`);
    assert.ok(files.length >= 3, `${files.length} files`);
    const back = await readCapture(files);
    assert.deepEqual(
      back.records.map(comparable),
      [{ ...meta, ts: rest[0].ts - 0.001 }, ...rest.slice(0, 30)].map(
        comparable,
      ),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("Recorder: an I/O error is logged once and counted, never thrown; recording resumes in a new file", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    // The recordings directory is a file: no file can be made under it.
    const blocked = `${tmp}/blocked`;
    await Deno.writeTextFile(blocked, "");
    const warnings: string[] = [];
    const rec = new Recorder({
      dir: blocked,
      exchange: "binance",
      connection: "conn:binance",
      retryMs: 20,
      warn: (m) => warnings.push(m),
    });
    const conn = "wss://stream.binance.com:9443/stream";
    const ts = Date.now();
    rec.write({ kind: "open", url: conn, ts });
    rec.write({ kind: "recv", conn, ts: ts + 1, text: "{}" });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rec.errors, 1);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /recording to .*blocked\/binance\/binance_.* failed/,
    );
    // The directory is fixed; past the retry pause a new file is started,
    // naming the connection its frames belong to.
    await Deno.remove(blocked);
    await Deno.mkdir(blocked);
    rec.write({ kind: "recv", conn, ts: ts + 2, text: '{"a":1}' });
    await rec.close();
    assert.equal(rec.errors, 1);
    assert.equal(warnings.length, 1);
    assert.equal(rec.files.length, 2);
    const back = await readCapture(filesIn(`${blocked}/binance`));
    assert.deepEqual(back.records.map(comparable), [
      comparable({ kind: "recv", conn, ts: ts + 2, text: '{"a":1}', file: "" }),
    ]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("Recorder: past maxQueuedBytes waiting for the disk, records are dropped and counted", async () => {
  const cap = await readCapture([`${DIR}/BINANCE.ws.1.0`]);
  const frames = cap.records.filter((r) => r.kind === "recv").slice(0, 50);
  const tmp = await Deno.makeTempDir();
  try {
    const rec = new Recorder({
      dir: tmp,
      exchange: "binance",
      connection: "conn:binance",
      maxQueuedBytes: 1,
      warn: () => {},
    });
    // In one task nothing reaches the gzip stream: the first line is queued,
    // the others find the queue full.
    for (const r of frames) rec.write(r);
    assert.equal(rec.dropped, frames.length - 1);
    await new Promise((r) => setTimeout(r, 20));
    // Drained: recording goes on.
    rec.write(frames[1]);
    await rec.close();
    assert.equal(rec.errors, 0);
    const back = await readCapture(filesIn(`${tmp}/binance`));
    assert.deepEqual(
      back.records.map(comparable),
      [frames[0], frames[1]].map((r) => comparable({ ...r, conn: "" })),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a live (wall clock) connection records its venue's URLs, every frame at its receive time, and the REST responses", async () => {
  const files = ["BINANCE.0", "BINANCE.http.0.0", "BINANCE.ws.1.0"].map((f) =>
    `${DIR}/${f}`
  );
  const cap = await readCapture(files);
  const sim = await ExchangeSimulator.start(cap, {
    speed: "max",
    log: () => {},
  });
  const tmp = await Deno.makeTempDir();
  const ctx: ActorContext = {
    status: () => {},
    stats: () => {},
    log: () => {},
    output: () => {},
    exit: () => {},
  };
  const t0 = Date.now();
  const conn = new Connection(
    ConnectionConfig.parse({
      exchange: "binance",
      symbols: ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"],
      wsOrigin: sim.wsOrigin,
      restOrigin: sim.origin,
      id: "conn:binance",
      record: { dir: tmp, maxBytes: 1 << 20, maxAgeMs: 60_000 },
    }),
    ctx,
  );
  try {
    conn.start();
    await sim.done;
    while (conn.publish().frames < sim.framesSent) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await conn.stop();
    const t1 = Date.now();
    const counters = conn.publish() as unknown as Record<string, number>;
    assert.equal(counters.recordErrors, 0);
    const rec = await readCapture(filesIn(`${tmp}/binance`));
    assert.equal(rec.exchange, "binance");
    const [open] = rec.records.filter((r) => r.kind === "open");
    assert.equal(
      open.kind === "open" && new URL(open.url).host,
      "stream.binance.com:9443",
    );
    const got = rec.records.filter((r) => r.kind === "recv");
    const want = cap.records.filter((r) => r.kind === "recv");
    assert.deepEqual(
      got.map((r) => r.kind === "recv" && r.text),
      want.map((r) => r.kind === "recv" && r.text),
    );
    // Wall receive times, in order.
    let last = t0;
    for (const r of got) {
      assert.ok(r.ts >= last && r.ts <= t1, `${r.ts} in [${last}, ${t1}]`);
      last = r.ts;
    }
    // exchangeInfo and the four snapshots, as the venue (the simulator) answered.
    const bodies = new Map<string, string>();
    for (const r of cap.records) {
      if (r.kind === "http") bodies.set(r.url, r.body);
    }
    const http = rec.records.filter((r) => r.kind === "http");
    assert.deepEqual(
      [...new Set(http.map((r) => r.kind === "http" && r.url))].sort(),
      [...bodies.keys()].sort(),
    );
    for (const r of http) {
      assert.equal(r.kind === "http" && r.body, bodies.get(r.url), r.url);
    }
  } finally {
    await conn.stop();
    await sim.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
