/**
 * `deno run -A bench/replay.ts`: replay throughput on every shared capture,
 * next to the JSON.parse ceiling of the same frames measured in the same
 * run.
 *
 * 1. JSON.parse ceiling: every received frame of the captures parsed once
 *    (binary frames gunzipped first; MEXC-style protobuf frames are not in
 *    the captures), frames per second; and the same with the REST bodies
 *    (instruments and book snapshots) that a replay parses too, so that the
 *    replay is also set against JSON.parse of all it reads;
 * 2. capture-file replay at max speed: the frames through the adapters and
 *    book keepers (`FileSource`), then the same through a whole session
 *    (`ReplaySession`: pacing at `max`, the aggregation and consolidation),
 *    frames per second; the goal is ≥ 0.75× the ceiling (the tardis-dev
 *    library reaches about 0.3×, ccxt about 0.1×);
 * 3. the exchange simulator path (`deno task replay --via-simulator`): real
 *    sockets and one connection actor per connection, frames per second.
 *
 * Each in-process figure is the best of nine runs: on a busy two-core
 * machine a run of the session now and then takes a collection or a JIT
 * tier-up the others do not (run to run it varies by ±15%), and JSON.parse
 * gets the same number of tries.
 *
 * @module
 */

import { readCaptures } from "../actors/capture/capture.ts";
import { FileSource } from "../actors/replay/files.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { parseFrames, runSession } from "./_replay_common.ts";

const CMD = "deno run -A bench/replay.ts";
const DIR = "../shared/data/captures/cryptofeed";
const RUNS = 9;

const files = [...Deno.readDirSync(DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".0"))
  .map((e) => `${DIR}/${e.name}`)
  .sort();

/** The best wall time of `RUNS` runs of `fn`, ms. */
async function best(fn: () => Promise<void> | void): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

/** Whether a REST body is JSON (an error page or an empty body is not). */
function isJson(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

const caps = await readCaptures(files);
const frames: (string | Uint8Array)[] = [];
const bodies: string[] = [];
for (const c of caps) {
  for (const r of c.records) {
    if (r.kind === "recv") frames.push(r.text ?? r.binary!);
    else if (r.kind === "http" && isJson(r.body)) bodies.push(r.body);
  }
}
const n = frames.length;
let sink = 0;
const parseMs = await best(() => void (sink += parseFrames(frames)));
const bodiesMs = await best(() => void (sink += parseFrames(bodies)));
const ceiling = n / (parseMs / 1000);
/** The ceiling's rate were the REST bodies' parse counted in its time. */
const ceilingAll = n / ((parseMs + bodiesMs) / 1000);
const bodyBytes = bodies.reduce((a, b) => a + b.length, 0);

// Both start from the captures read above: reading the files (the capture
// format, not JSON) is timed apart, and a source is planned from them each
// run (its instruments and REST bodies parsed again).
const sourceMs = await best(async () => {
  const src = FileSource.of(caps);
  await src.seek(src.start);
  src.advance(Infinity, Infinity);
  src.take(src.end);
});

const sessionMs = await best(() => runSession(files, FileSource.of(caps)));
const readMs = await best(async () => void (await readCaptures(files)));

const sim = performance.now();
const replay = await Replay.start(files, {
  speed: "max",
  store: { enabled: false },
  supervisor: { onLog: () => {} },
});
await replay.finished();
const simMs = performance.now() - sim;
let simFrames = 0;
for (const s of replay.sims.values()) simFrames += s.framesSent;
await replay.stop();

const rate = (ms: number) => Math.round(n / (ms / 1000));
const x = (r: number) => (r / ceiling).toFixed(2);
const xAll = (r: number) => (r / ceilingAll).toFixed(2);
const sourceRate = rate(sourceMs);
const sessionRate = rate(sessionMs);
console.log(`\n${CMD}  (${files.length} files, ${n} frames, best of ${RUNS})`);
console.log(
  `  JSON.parse ceiling           ${Math.round(ceiling)} frames/s (${
    parseMs.toFixed(1)
  } ms); with the ${bodies.length} REST bodies a replay parses too (${
    (bodyBytes / 1e6).toFixed(1)
  } MB of instruments and snapshots, +${bodiesMs.toFixed(1)} ms): ${
    Math.round(ceilingAll)
  } frames/s`,
);
console.log(
  `  capture replay, source       ${sourceRate} frames/s = ${
    x(sourceRate)
  }× JSON.parse, ${
    xAll(sourceRate)
  }× with the REST bodies (adapters + book keepers; reading the files, ${
    readMs.toFixed(0)
  } ms, apart)`,
);
console.log(
  `  capture replay, session max  ${sessionRate} frames/s = ${
    x(sessionRate)
  }× JSON.parse, ${
    xAll(sessionRate)
  }× with the REST bodies (+ pacing, aggregation, consolidation) — goal ≥ 0.75× JSON.parse of the frames: ${
    sessionRate >= 0.75 * ceiling ? "met" : "missed"
  }`,
);
console.log(
  `  simulator path (--via-simulator)  ${
    Math.round(simFrames / (simMs / 1000))
  } frames/s (${simFrames} frames in ${
    (simMs / 1000).toFixed(1)
  } s, start-up included) = ${
    x(Math.round(simFrames / (simMs / 1000)))
  }× JSON.parse`,
);
console.log(
  "    the gap to the session: the same adapters and book keepers, plus the simulator writing every frame to a real WebSocket, its clock frames, one worker per connection and the messages between them, and start-up, on the same two cores",
);
if (sink < 0) console.log(sink);
