/**
 * Shared pieces of the capture-replay scenario tests: where the captures
 * are, which files make up one, and the checks every clean replay passes.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Replay } from "../actors/system/capture_replay.ts";
import type { ReplayDump } from "../actors/market/requests.ts";

/** Directory of the shared cryptofeed captures, relative to the repo root. */
export const CAPTURES = "../shared/data/captures/cryptofeed";

/**
 * Every file of one capture: `X.0`, `X.http.*` and `X.ws.*` for prefix `X`.
 * @param prefix the capture's name, e.g. `BINANCE` (not `BINANCE_FUTURES`).
 * @returns the paths, sorted.
 */
export function captureFiles(prefix: string): string[] {
  return [...Deno.readDirSync(CAPTURES)]
    .filter((e) =>
      e.isFile && e.name.startsWith(`${prefix}.`) && e.name.endsWith(".0")
    )
    .map((e) => `${CAPTURES}/${e.name}`)
    .sort();
}

/**
 * Asserts an exchange replayed cleanly: no sequence gap, resync, checksum
 * failure or malformed frame, and every recorded frame reached the actor.
 * @param replay the finished replay.
 * @param dump its dump.
 * @param exchange exchange id.
 */
export function assertCleanReplay(
  replay: Replay,
  dump: ReplayDump,
  exchange: string,
): void {
  const s = dump.stats[exchange];
  assert.equal(s.gaps, 0, `${exchange} gaps`);
  assert.equal(s.resyncs, 0, `${exchange} resyncs`);
  assert.equal(s.checksumFailures, 0, `${exchange} checksum failures`);
  assert.equal(s.malformed, 0, `${exchange} malformed`);
  assert.equal(
    s.frames,
    replay.sims.get(exchange)!.framesSent,
    `${exchange} frames`,
  );
}
