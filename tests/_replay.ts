/**
 * Shared pieces of the capture-replay scenario tests: where the captures
 * are, which files make up one, and the checks every clean replay passes.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Replay } from "../actors/system/capture_replay.ts";
import type { ReplayDump, ReplayProgress } from "../actors/market/requests.ts";
import { parseConfig } from "../actors/system/config.ts";
import { type Coby, startCoby } from "../actors/system/start.ts";

/** Directory of the shared cryptofeed captures, relative to the repo root. */
export const CAPTURES = "../shared/data/captures/cryptofeed";

/**
 * A well-formed Binance spot diff for NKNUSDT whose first update id jumps far
 * ahead of its book in the `BINANCE` capture: injected into a replay, it is a
 * sequence gap, and the capture holds no later snapshot, so the book stays
 * unsynced.
 */
export const NKN_GAP_FRAME: string = JSON.stringify({
  stream: "nknusdt@depth@100ms",
  data: {
    e: "depthUpdate",
    E: 1633998513000,
    s: "NKNUSDT",
    U: 599869755,
    u: 599869756,
    b: [],
    a: [],
  },
});

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

/**
 * Resolves with a replay session's progress at its end (at once when it has
 * ended already).
 * @param coby the running coby.
 * @param id the session.
 * @param timeoutMs rejects after this long.
 * @throws {Error} when the session fails or does not end in time.
 */
export function sessionEnded(
  coby: Coby,
  id: string,
  timeoutMs = 60_000,
): Promise<ReplayProgress> {
  return new Promise((resolve, reject) => {
    if (coby.replay.ended(id)) return resolve(coby.replay.latest(id)!);
    const timer = setTimeout(
      () => reject(new Error(`session ${id} did not end`)),
      timeoutMs,
    );
    const stop = coby.replay.watch(id, (n) => {
      if (n.kind === "progress" && n.progress.state === "failed") {
        clearTimeout(timer);
        stop();
        reject(new Error(n.progress.error));
      }
      if (n.kind !== "end") return;
      clearTimeout(timer);
      stop();
      resolve(n.progress);
    });
  });
}

/**
 * A coby with no connections and no store that replays the shared captures
 * over HTTP (`replay.dirs` is the shared data).
 * @param keys API keys protecting replay control; none by default.
 * @param quoteAliases quotes consolidated as one.
 */
export function replayCoby(
  keys: string[] = [],
  quoteAliases: Record<string, string> = {},
): Promise<Coby> {
  return startCoby(
    parseConfig({
      exchanges: {},
      quoteAliases,
      api: { keys },
      replay: { dirs: ["../shared/data"] },
    }),
    { store: { enabled: false }, supervisor: { onLog: () => {} } },
  );
}
