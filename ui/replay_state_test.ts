import assert from "node:assert/strict";
import type { ReplayProgress } from "../actors/market/requests.ts";
import {
  API_KEY_STORAGE,
  formatPercent,
  formatRate,
  INITIAL_REPLAY_VIEW,
  parseSpeed,
  percentOf,
  playButton,
  replayReducer,
  replayTarget,
  type ReplayView,
  speedLabel,
  speedOptions,
  SPEEDS,
} from "./replay_state.ts";

// The range of the shared Binance capture's first minutes (2021-10-11 UTC).
const FROM = Date.UTC(2021, 9, 11, 23, 59, 0);
const TO = Date.UTC(2021, 9, 12, 0, 4, 0);

function progress(
  state: ReplayProgress["state"],
  position: number,
): ReplayProgress {
  return {
    id: "r1",
    state,
    speed: 5,
    loop: false,
    from: FROM,
    to: TO,
    position,
    percent: percentOf({ from: FROM, to: TO }, position),
    events: 1234,
    eventsPerSecond: 5678,
    expectedEnd: null,
    exchanges: ["binance"],
  };
}

function fold(...notices: Parameters<typeof replayReducer>[1][]): ReplayView {
  return notices.reduce(replayReducer, INITIAL_REPLAY_VIEW);
}

/** A `Storage` stand-in over a map. */
function memoryStorage(): Pick<Storage, "getItem" | "setItem"> & {
  map: Map<string, string>;
} {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
  };
}

Deno.test("replayTarget: no session is the live view", () => {
  const s = memoryStorage();
  assert.equal(replayTarget(new URL("http://h/?symbol=BTC-USDT"), s), null);
  assert.equal(replayTarget(new URL("http://h/?session="), s), null);
});

Deno.test("replayTarget remembers the key and reuses it on a later visit", () => {
  const s = memoryStorage();
  assert.deepEqual(replayTarget(new URL("http://h/?session=r1"), s), {
    id: "r1",
    key: null,
  });
  assert.deepEqual(
    replayTarget(new URL("http://h/?symbol=BTC-USDT&session=r1&key=k1"), s),
    { id: "r1", key: "k1" },
  );
  assert.equal(s.map.get(API_KEY_STORAGE), "k1");
  assert.deepEqual(replayTarget(new URL("http://h/?session=r2"), s), {
    id: "r2",
    key: "k1",
  });
  // A new key replaces the remembered one.
  replayTarget(new URL("http://h/?session=r2&key=k2"), s);
  assert.equal(s.map.get(API_KEY_STORAGE), "k2");
});

Deno.test("replayReducer follows progress and the play button follows the state", () => {
  let v = fold();
  assert.deepEqual(playButton(v), { label: "loading", action: null });
  v = replayReducer(v, {
    kind: "progress",
    progress: progress("playing", FROM + 1000),
  });
  assert.equal(v.progress?.position, FROM + 1000);
  assert.deepEqual(playButton(v), { label: "pause", action: "pause" });
  v = replayReducer(v, {
    kind: "control",
    progress: progress("paused", FROM + 2000),
  });
  assert.deepEqual(playButton(v), { label: "play", action: "resume" });
  assert.equal(v.ended, false);
  v = replayReducer(v, {
    kind: "progress",
    progress: progress("failed", FROM + 2000),
  });
  assert.deepEqual(playButton(v), { label: "failed", action: null });
});

Deno.test("replayReducer: a reset moves the clock to the seek time and clears the end", () => {
  const at = FROM + 30_000;
  const v = fold(
    { kind: "progress", progress: progress("playing", TO - 1000) },
    { kind: "end", progress: progress("ended", TO) },
    { kind: "reset", at },
  );
  assert.equal(v.ended, false);
  assert.equal(v.resets, 1);
  assert.equal(v.progress?.position, at);
  assert.equal(v.progress?.percent, percentOf({ from: FROM, to: TO }, at));
  // The next progress takes over.
  const next = replayReducer(v, {
    kind: "progress",
    progress: progress("paused", at),
  });
  assert.deepEqual(playButton(next), { label: "play", action: "resume" });
});

Deno.test("replayReducer: an ended session stays ended until a reset", () => {
  const end = progress("ended", TO);
  let v = fold(
    { kind: "progress", progress: progress("playing", TO - 5000) },
    { kind: "end", progress: end },
  );
  assert.deepEqual(playButton(v), { label: "ended", action: null });
  // A control's reply that left before the end arrives after it.
  v = replayReducer(v, {
    kind: "control",
    progress: progress("playing", TO - 4000),
  });
  assert.equal(v.ended, true);
  assert.equal(v.progress, end);
  // A page opened after the end learns it from the state alone.
  const late = fold({ kind: "control", progress: end });
  assert.equal(late.ended, true);
  assert.deepEqual(playButton(late), { label: "ended", action: null });
});

Deno.test("replayReducer keeps an error until a control succeeds", () => {
  let v = fold({ kind: "error", message: "PATCH failed with status 401" });
  v = replayReducer(v, {
    kind: "progress",
    progress: progress("playing", FROM),
  });
  assert.equal(v.error, "PATCH failed with status 401");
  v = replayReducer(v, { kind: "control", progress: progress("paused", FROM) });
  assert.equal(v.error, null);
});

Deno.test("percentOf clamps to the range", () => {
  const r = { from: FROM, to: TO };
  assert.equal(percentOf(r, FROM), 0);
  assert.equal(percentOf(r, TO), 100);
  assert.equal(percentOf(r, (FROM + TO) / 2), 50);
  assert.equal(percentOf(r, FROM - 1), 0);
  assert.equal(percentOf(r, TO + 1), 100);
  assert.equal(percentOf({ from: FROM, to: FROM }, FROM), 0);
});

Deno.test("speedOptions adds the session's own speed in order", () => {
  assert.deepEqual(speedOptions(5), [...SPEEDS]);
  assert.deepEqual(speedOptions("max"), [...SPEEDS]);
  assert.deepEqual(speedOptions(null), [...SPEEDS]);
  assert.deepEqual(speedOptions(4), [0.1, 0.5, 1, 2, 4, 5, 10, 100, "max"]);
  assert.deepEqual(speedOptions(1000), [
    0.1,
    0.5,
    1,
    2,
    5,
    10,
    100,
    1000,
    "max",
  ]);
});

Deno.test("parseSpeed reads every offered speed back from its option value", () => {
  for (const s of SPEEDS) assert.equal(parseSpeed(String(s)), s);
  assert.throws(() => parseSpeed("fast"), /got "fast"/);
  assert.throws(() => parseSpeed("0"), /got "0"/);
  assert.throws(() => parseSpeed(""), /got ""/);
});

Deno.test("speedLabel, formatRate and formatPercent", () => {
  assert.equal(speedLabel("max"), "max");
  assert.equal(speedLabel(0.1), "0.1×");
  assert.equal(formatRate(850.4), "850 ev/s");
  assert.equal(formatRate(12_345), "12.3k ev/s");
  assert.equal(formatRate(1_204_000), "1.20M ev/s");
  assert.equal(formatRate(NaN), "–");
  assert.equal(formatPercent(42.04), "42.0%");
  assert.equal(formatPercent(100), "100.0%");
  assert.equal(formatPercent(NaN), "–");
});
