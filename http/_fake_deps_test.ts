/**
 * Test helper (no tests of its own): the app services the HTTP tests serve
 * over a replay (usually `fakeReplay().sessions` of
 * `routes/_fake_replay_test.ts`), with no actors and Binance configured.
 *
 * @module
 */

import { parseConfig } from "../actors/system/config.ts";
import { HeatmapHub } from "../actors/system/hub.ts";
import type { ReplaySessions } from "../actors/system/sessions.ts";
import type { AppDeps } from "./deps.ts";

/** Options for {@link fakeDeps}. */
export interface FakeDepsOptions {
  /**
   * Columns the heatmap hub keeps.
   * @default 10
   */
  readonly hubSize?: number;
}

/**
 * App services over a replay: no actors (a request rejects), an empty
 * `/metrics`, exchange `binance` (BTC-USDT) and replay dirs
 * `../shared/data`.
 * @param replay the replay sessions the routes drive.
 * @param api the config's `api` section (keys, JWT, rate limits).
 * @param options the hub's size.
 * @returns the services for `createApp`.
 * @throws {ConfigError} when `api` is not a valid `api` section.
 * @example
 * ```ts
 * const app = createApp(fakeDeps(fakeReplay().sessions, { keys: [key] }));
 * ```
 */
export function fakeDeps(
  replay: ReplaySessions,
  api: Record<string, unknown> = {},
  options: FakeDepsOptions = {},
): AppDeps {
  return {
    actors: () => [],
    request: () => Promise.reject(new Error("No actors in this test")),
    hub: new HeatmapHub(options.hubSize ?? 10),
    replay,
    metrics: { render: () => Promise.resolve("") },
    exchanges: ["binance"],
    config: parseConfig({
      exchanges: { binance: { symbols: ["BTC-USDT"] } },
      replay: { dirs: ["../shared/data"] },
      api,
    }),
  };
}
