import assert from "node:assert/strict";
import { ConnectionStatsTracker } from "./stats.ts";

Deno.test("connection stats: rate per period, heartbeats counted apart, last message time", () => {
  const s = new ConnectionStatsTracker("kraken", 30_000, 0);
  for (let i = 0; i < 30; i++) s.frame(100 + i, i % 3 === 0);
  const a = s.snapshot(2000, new Map());
  assert.equal(a.counters.frames, 30);
  assert.equal(a.counters.heartbeats, 10);
  assert.equal(a.messageRate, 15);
  assert.equal(a.lastMessageTs, 129);
  s.frame(2500, false);
  assert.equal(s.snapshot(3000, new Map()).messageRate, 1);
});

Deno.test("connection stats: a book unsynced past the timeout degrades a connected connection", () => {
  const s = new ConnectionStatsTracker("binance", 30_000, 0);
  assert.deepEqual(s.setState("connecting", ""), {
    state: "degraded",
    detail: "connecting",
  });
  assert.equal(s.health(0, new Map()), null);
  assert.deepEqual(s.setState("connected", ""), {
    state: "running",
    detail: "connected",
  });
  const books = new Map([
    ["BTCUSDT", { state: "synced", lastSequence: 9, unsyncedSince: 0 }],
    ["ETHUSDT", { state: "buffering", lastSequence: -1, unsyncedSince: 1000 }],
  ]);
  assert.deepEqual(s.health(30_000, books), {
    state: "running",
    detail: "connected",
  });
  assert.deepEqual(s.health(31_001, books), {
    state: "degraded",
    detail: "connected: 1 book(s) cannot sync",
  });
  const stats = s.snapshot(31_001, books);
  assert.deepEqual(stats.books.ETHUSDT, {
    state: "buffering",
    lastSequence: -1,
  });
});

Deno.test("connection stats: a venue error shows at once with the venue's message and clears on the next session", () => {
  const s = new ConnectionStatsTracker("kraken", 30_000, 0);
  s.setState("connected", "");
  s.venueError({
    message: "Currency pair not supported XBT/NOPE",
    symbol: "XBT/NOPE",
    ts: 500,
  });
  assert.deepEqual(s.health(600, new Map()), {
    state: "degraded",
    detail: "connected: venue error: Currency pair not supported XBT/NOPE",
  });
  const stats = s.snapshot(600, new Map());
  assert.equal(stats.counters.venueErrors, 1);
  assert.deepEqual(stats.venueError, {
    message: "Currency pair not supported XBT/NOPE",
    symbol: "XBT/NOPE",
    ts: 500,
  });
  s.setState("disconnected", "closed 1006");
  assert.equal(s.lastError, "closed 1006");
  s.setState("connected", "");
  assert.equal(s.snapshot(700, new Map()).venueError, null);
  assert.equal(s.snapshot(700, new Map()).counters.venueErrors, 1);
});
