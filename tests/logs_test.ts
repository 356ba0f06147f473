/**
 * Structured logs from real actors: the connection actor, run by the
 * supervisor against the exchange simulator playing the Binance capture,
 * writes JSON lines carrying its actor, exchange and a correlation id that
 * changes when the socket reconnects; a replay session's lines carry the
 * session's id.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readCapture } from "../actors/capture/capture.ts";
import { ExchangeSimulator } from "../actors/capture/simulator.ts";
import { ReplayActorConfig, Sessions } from "../actors/replay.ts";
import type { ActorContext } from "../runtime/actor.ts";
import { createLogger, type LogFields, type LogLevel } from "../runtime/log.ts";
import { Supervisor } from "../runtime/supervisor.ts";
import { captureFiles } from "./_replay.ts";

const BINANCE = captureFiles("BINANCE");
const SYMBOLS = ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"];
/** A frame that is not JSON, sent after the 20th frame of every run. */
const MALFORMED = `{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpd`;

/** A NKNUSDT depth update far past the book's sequence: a gap. */
const GAP = JSON.stringify({
  stream: "nknusdt@depth@100ms",
  data: {
    e: "depthUpdate",
    E: 1633998512068,
    s: "NKNUSDT",
    U: 900_000_000,
    u: 900_000_001,
    b: [],
    a: [],
  },
});

/** One JSON log line, parsed. */
interface Line {
  time: string;
  level: LogLevel;
  actor?: string;
  cid?: string;
  exchange?: string;
  symbol?: string;
  msg: string;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("logs: a connection actor's JSON lines carry actor, exchange and a correlation id new on each reconnect", async () => {
  const sim = await ExchangeSimulator.start(await readCapture(BINANCE), {
    speed: "max",
    inject: [
      { afterFrame: 20, text: MALFORMED },
      { afterFrame: 200, text: GAP },
    ],
    log: () => {},
  });
  const raw: string[] = [];
  const sup = new Supervisor(
    [{
      id: "conn:binance",
      module: new URL("../actors/connection/mod.ts", import.meta.url),
      config: {
        exchange: "binance",
        symbols: SYMBOLS,
        wsOrigin: sim.wsOrigin,
        restOrigin: sim.origin,
        // Once the recording has played, the feed is silent: reconnect.
        silenceMs: 1000,
      },
    }],
    [],
    { logger: createLogger({ format: "json", write: (l) => raw.push(l) }) },
  );
  try {
    await sup.start();
    const lines = () => raw.map((l) => JSON.parse(l) as Line);
    const malformed = () =>
      lines().filter((l) => /malformed frame/.test(l.msg));
    // One malformed frame per run: two runs, two sockets.
    await until(() => malformed().length >= 2, "a second run");
    const all = lines();
    const mine = all.filter((l) => l.actor === "conn:binance");
    assert.ok(mine.length >= 4, raw.join("\n"));
    for (const l of mine) {
      assert.equal(l.exchange, "binance", JSON.stringify(l));
      assert.match(l.cid!, /^conn:binance#[0-9a-f]{4}\.\d+$/);
      assert.ok(!Number.isNaN(Date.parse(l.time)));
    }
    const [first, second] = malformed();
    assert.equal(first.level, "warn");
    assert.match(first.cid!, /\.1$/);
    assert.match(second.cid!, /\.2$/);
    assert.equal(
      first.cid!.replace(/\.\d+$/, ""),
      second.cid!.replace(/\.\d+$/, ""),
      "one worker run",
    );
    // Each socket opened under its own id, and the silence that ended the
    // first is logged under the first's id.
    const opens = mine.filter((l) => l.msg === "binance: socket open");
    assert.deepEqual(opens.slice(0, 2).map((l) => l.cid), [
      first.cid,
      second.cid,
    ]);
    const silent = mine.find((l) =>
      /no data for 1000 ms; retrying/.test(l.msg)
    );
    assert.equal(silent?.cid, first.cid, raw.join("\n"));
    // A line about one book names its symbol.
    const gap = mine.find((l) => /resync \(sequence gap/.test(l.msg));
    assert.equal(gap?.symbol, "NKNUSDT", raw.join("\n"));
    assert.ok(opens.some((o) => o.cid === gap?.cid), "under a socket's id");
    assert.ok(
      mine.filter((l) => l.symbol === undefined).every((l) =>
        !/NKNUSDT/.test(l.msg)
      ),
      "no line about NKNUSDT without its symbol",
    );
  } finally {
    await sup.stop();
    await sim.close();
  }
});

Deno.test("logs: a replay session's lines carry its id as the correlation id", async () => {
  const got: { level: LogLevel; msg: string; fields: LogFields }[] = [];
  const ctx: ActorContext = {
    status: () => {},
    stats: () => {},
    log: (level, msg, fields = {}) => got.push({ level, msg, fields }),
    output: () => {},
    exit: () => {},
  };
  const sessions = new Sessions(ReplayActorConfig.parse({}), ctx, new Map());
  try {
    await sessions.create("r-logs", {
      source: "files",
      files: BINANCE,
      speed: "max",
    });
    await sessions.create("r-other", {
      source: "files",
      files: BINANCE,
      speed: 1,
    });
  } finally {
    sessions.stopAll();
  }
  const of = (id: string) => got.filter((l) => l.fields.cid === id);
  assert.deepEqual(of("r-logs").map((l) => l.msg), [
    "replay r-logs started (files, speed max)",
    "replay r-logs stopped",
  ]);
  assert.deepEqual(of("r-other").map((l) => l.msg), [
    "replay r-other started (files, speed 1)",
    "replay r-other stopped",
  ]);
  assert.equal(got.length, 4, JSON.stringify(got));
});
