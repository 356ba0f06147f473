/**
 * Test helper (no tests of its own): a fake replay actor behind a real
 * `ReplaySessions`, and real column batches for it to send, shared by the
 * replay routes' and the typed client's tests.
 *
 * @module
 */

import { encodeColumns } from "../../actors/market/heatmap.ts";
import type {
  ReplayControl,
  ReplayProgress,
  ReplaySpec,
} from "../../actors/market/requests.ts";
import {
  type ReplayRequester,
  ReplaySessions,
} from "../../actors/system/sessions.ts";
import { ActorDownError, RequestError } from "../../runtime/protocol.ts";

/** A real capture file inside `replay.dirs` (the fake actor never reads it). */
export const CAPTURE = "../shared/data/captures/cryptofeed/BINANCE.0";

/** Range of every fake session unless the spec says otherwise, ms. */
export const FROM = Date.UTC(2026, 0, 5, 12);
export const TO = FROM + 3_600_000;

/**
 * A fake replay actor: sessions keep a progress the control requests change;
 * a seek sends `reset`; a README is refused as no capture;
 * past `max` sessions it refuses with `too_many_sessions`.
 */
export function fakeReplay(max = 16, down = false) {
  const state = new Map<string, ReplayProgress>();
  const specs = new Map<string, ReplaySpec>();
  const handle = (method: string, params: any): ReplayProgress => {
    if (down) throw new ActorDownError("replay", "restarting");
    const p = state.get(params.id);
    switch (method) {
      case "replayCreate": {
        const spec = params.spec as ReplaySpec;
        if (spec.files?.some((f) => f.endsWith("README.md"))) {
          throw new RequestError(
            "bad_request",
            `File ${spec.files[0]} is no capture`,
          );
        }
        if (state.size >= max) {
          throw new RequestError(
            "too_many_sessions",
            `Too many replay sessions: ${max}`,
          );
        }
        const from = spec.from ?? FROM;
        const made: ReplayProgress = {
          id: params.id,
          state: spec.paused ? "paused" : "playing",
          speed: spec.speed,
          loop: spec.loop ?? false,
          from,
          to: spec.to ?? TO,
          position: from,
          percent: 0,
          events: 0,
          eventsPerSecond: 0,
          expectedEnd: null,
          exchanges: spec.exchanges ?? ["binance"],
        };
        state.set(params.id, made);
        specs.set(params.id, spec);
        return made;
      }
      case "replayProgress":
      case "replayStop":
      case "replayControl": {
        if (!p) {
          throw new RequestError("not_found", `No session ${params.id}`);
        }
        if (method === "replayStop") state.delete(params.id);
        if (method !== "replayControl") return p;
        const c = params.control as ReplayControl;
        const next = { ...p };
        if (c.speed !== undefined) next.speed = c.speed;
        if (c.seek !== undefined) {
          if (c.seek < p.from || c.seek >= p.to) {
            throw new RequestError("bad_request", `Seek ${c.seek} is outside`);
          }
          next.position = c.seek;
          sessions.onOutput({ id: params.id, kind: "reset", at: c.seek });
        }
        if (c.action) next.state = c.action === "pause" ? "paused" : "playing";
        if (c.loop !== undefined) next.loop = c.loop;
        state.set(params.id, next);
        return next;
      }
    }
    throw new Error(`Unexpected request ${method}`);
  };
  const request =
    ((method: string, params: unknown) =>
      new Promise((resolve) =>
        resolve(handle(method, params))
      )) as ReplayRequester;
  // `handle` reaches it only once a request is made, after this line.
  const sessions = new ReplaySessions(request, { history: 100 });
  return { sessions, state, specs };
}

/**
 * One tick of BTC-USDT as the replay actor sends it: binance's column and
 * the consolidated one, two 10-USDT buckets from 60 000, `bid` BTC resting
 * in the first.
 */
export function tick(ts: number, bid: number) {
  const col = (exchange: string) => ({
    exchange,
    exchangeSymbol: exchange === "binance" ? "BTCUSDT" : "BTC-USDT",
    symbol: "BTC-USDT",
    market: exchange === "binance" ? "spot" as const : "mixed" as const,
    ts,
    bucketSize: 10,
    lo: 6000,
    n: 2,
    bestBid: 60005,
    bestAsk: 60012,
    bids: new Float64Array([bid, 0]),
    asks: new Float64Array([0, 2]),
    buys: new Float64Array([0, 0]),
    sells: new Float64Array([0, 0]),
    ...(exchange === "consolidated" ? { parts: ["binance"] } : {}),
  });
  return encodeColumns(ts, [col("binance"), col("consolidated")]);
}
