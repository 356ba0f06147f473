/**
 * `deno task serve`: a process with no connectors that serves the full HTTP
 * API, the SSE heatmap streams and the viewer from what ingesting coby
 * processes publish: their columns and events on the Redis bus
 * (`REDIS_URL`, required) and their history in PostgreSQL (`DATABASE_URL`;
 * without it the history routes answer 503 `no_history`).
 *
 * It follows the bus's streams into a heatmap hub (backfilled with the
 * newest `history` ticks) and a live cache (`actors/live/state.ts`), which
 * answers the live frame and books. Books come from the events, so a book
 * is served once its first keyframe has arrived (at most 60 s after start).
 *
 * Every failure ends with one line on stderr and a non-zero exit: 2 for a
 * bad configuration, 1 for anything else (Redis or PostgreSQL unreachable,
 * a busy port).
 *
 * @module
 */

import { createApp } from "../app.ts";
import type { AppDeps } from "../deps.ts";
import { ConfigError, loadConfig } from "../../actors/system/config.ts";
import { HeatmapHub } from "../../actors/system/hub.ts";
import { createMetrics } from "../../actors/system/metrics.ts";
import { openBus } from "../../actors/live/open.ts";
import { followLive } from "../../actors/live/follow.ts";
import { liveHandlers, LiveState } from "../../actors/live/state.ts";
import { historyHandlers } from "../../actors/store/queries.ts";
import type { Db } from "../../actors/store/db.ts";
import { ActorDownError } from "../../runtime/protocol.ts";
import { listen, oneLine, onSignal } from "./_listen.ts";
import { processLog } from "../../runtime/log.ts";

if (import.meta.main) {
  try {
    const cfg = await loadConfig((k) => Deno.env.get(k), {
      warn: (m) => console.error(`coby serve: warning: ${m}`),
    });
    if (!cfg.bus.url) {
      throw new ConfigError(
        "REDIS_URL is not set: deno task serve follows the ingesting processes' Redis",
      );
    }
    const server = listen(cfg.http.host, cfg.http.port);
    const log = processLog().child({ actor: "coby serve" });
    const bus = await openBus({
      url: cfg.bus.url,
      prefix: cfg.bus.prefix,
      log: (level, msg) => log.log(level, msg, { actor: "bus" }),
    });
    let db: Db | undefined;
    if (cfg.store.url) {
      db = await (await import("../../actors/store/open.ts")).openDb({
        url: cfg.store.url,
      });
    } else {
      log.warn("DATABASE_URL is not set: no history is served");
    }
    const hub = new HeatmapHub(cfg.history, { historyBytes: cfg.historyBytes });
    const live = new LiveState({ quoteAliases: cfg.quoteAliases });
    const following = followLive(bus, live, {
      onColumns: (c) => hub.push(c),
      backfill: cfg.history,
      log: (m) => log.warn(m),
    });
    const lives = liveHandlers(() => live);
    const queries = db ? historyHandlers(() => db) : undefined;
    const metrics = createMetrics(() => [], { hub });
    const deps: AppDeps = {
      actors: () => [],
      request: (id) =>
        Promise.reject(
          new ActorDownError(id, "deno task serve runs no actors"),
        ),
      history: queries &&
        (async (method, params) => await queries[method](params as never)),
      live: async (method, params) => await lives[method](params as never),
      hub,
      metrics,
      exchanges: Object.keys(cfg.exchanges),
      config: cfg,
    };
    server.ready(createApp(deps).fetch);
    log.info(`coby serve listening on ${server.url}`);
    onSignal("coby serve", async () => {
      await metrics.shutdown?.();
      following.stop();
      await bus.close();
      await db?.close();
      await server.shutdown();
    });
  } catch (e) {
    console.error(`coby serve: ${oneLine(e)}`);
    Deno.exit(e instanceof ConfigError ? 2 : 1);
  }
}
