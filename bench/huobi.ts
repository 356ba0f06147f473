/**
 * `deno run -A bench/huobi.ts`: HTX capture replay throughput. HTX gzips
 * every frame, and the captures' `depth.step0` sends a whole 150-level
 * image on every push. The frames of the HTX spot and swap captures go
 * through the adapters and book keepers (`FileSource`), then through a whole
 * session at max speed (the aggregation and consolidation too), next to the
 * ceiling of gunzip plus JSON.parse of the same frames, in the same run.
 * Each figure is the best of five runs; reading and indexing the files
 * (`FileSource.open`) is left out.
 *
 * @module
 */

import { readCaptures } from "../actors/capture/capture.ts";
import { FileSource } from "../actors/replay/files.ts";
import { parseFrames, runSession } from "./_replay_common.ts";

const CMD = "deno run -A bench/huobi.ts";
const DIR = "../shared/data/captures/cryptofeed";
const RUNS = 5;

const files = [...Deno.readDirSync(DIR)]
  .filter((e) => e.isFile && /^HUOBI(_SWAP)?\..*0$/.test(e.name))
  .map((e) => `${DIR}/${e.name}`)
  .sort();

/**
 * The best wall time of `RUNS` runs of `fn`, ms; `prepare` runs untimed
 * before each.
 */
async function best<T>(
  prepare: () => Promise<T> | T,
  fn: (x: T) => Promise<void> | void,
): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const x = await prepare();
    const t0 = performance.now();
    await fn(x);
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const frames: (string | Uint8Array)[] = [];
for (const c of await readCaptures(files)) {
  for (const r of c.records) {
    if (r.kind === "recv") frames.push(r.binary ?? r.text!);
  }
}
const n = frames.length;
let sink = 0;
const parseMs = await best(() => {}, () => void (sink += parseFrames(frames)));

// Opening a source reads and indexes the files: left out of the timings.
const sourceMs = await best(() => FileSource.open(files), async (src) => {
  await src.seek(src.start);
  src.advance(Infinity, Infinity);
  src.take(src.end);
});

const sessionMs = await best(
  () => FileSource.open(files),
  (source) => runSession(files, source),
);

const rate = (ms: number) => Math.round(n / (ms / 1000));
const ceiling = rate(parseMs);
const line = (what: string, ms: number) =>
  console.log(
    `  ${what.padEnd(30)} ${
      rate(ms).toLocaleString("en").padStart(8)
    } frames/s = ${(rate(ms) / ceiling).toFixed(2)}× gunzip + JSON.parse`,
  );
console.log(
  `\n${CMD}  (${files.length} files, ${n} frames, best of ${RUNS}; opening the files left out)`,
);
console.log(
  `  ${"gunzipSync + JSON.parse".padEnd(30)} ${
    ceiling.toLocaleString("en").padStart(8)
  } frames/s`,
);
line("capture replay, source", sourceMs);
line("capture replay, session max", sessionMs);
if (sink < 0) console.log(sink);
