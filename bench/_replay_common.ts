/**
 * Pieces the capture-replay benches (`bench/replay.ts`, `bench/huobi.ts`)
 * time the same way: the JSON.parse ceiling of the received frames, and one
 * whole replay session at max speed.
 *
 * @module
 */

import { gunzipSync } from "node:zlib";
import { AggregatorConfig } from "../actors/market/aggregate.ts";
import type { FileSource } from "../actors/replay/files.ts";
import { ReplaySession } from "../actors/replay/session.ts";

const dec = new TextDecoder();

/**
 * Parses every frame once, as the ceiling a replay is measured against:
 * binary frames are gunzipped and decoded first.
 * @param frames received frames, text or gzipped binary.
 * @returns how many parsed to a truthy value (a sink, so the work is kept).
 * @throws {Error} from gunzip or JSON.parse on a frame that is neither.
 * @example
 * ```ts
 * const ms = await best(() => void (sink += parseFrames(frames)));
 * ```
 */
export function parseFrames(frames: readonly (string | Uint8Array)[]): number {
  let sink = 0;
  for (const f of frames) {
    const v = JSON.parse(typeof f === "string" ? f : dec.decode(gunzipSync(f)));
    if (v) sink++;
  }
  return sink;
}

const aggregator = AggregatorConfig.parse({});

/**
 * Runs one replay session of `files` at max speed over an open source
 * (pacing, the default aggregation, consolidation), to its end.
 * @param files the capture files the source was opened on.
 * @param source the opened source, consumed.
 * @returns when the session has ended.
 * @throws {Error} the session's error, or `The session made no column`.
 * @example
 * ```ts
 * await runSession(files, await FileSource.open(files));
 * ```
 */
export async function runSession(
  files: string[],
  source: FileSource,
): Promise<void> {
  let columns = 0;
  await new Promise<void>((resolve, reject) => {
    const s = new ReplaySession({
      id: "bench",
      spec: { source: "files", files, speed: "max" },
      source,
      aggregator,
      outlierThreshold: 0.02,
      onColumns: (b) => void (columns += b.columns.length),
      onProgress: () => {},
      onReset: () => {},
      onEnd: () => resolve(),
      onError: reject,
    });
    s.start().catch(reject);
  });
  if (!columns) throw new Error("The session made no column");
}
