import assert from "node:assert/strict";
import {
  decimalsOf,
  exchangeHealth,
  formatBbo,
  reconnectText,
  retryDelayMs,
} from "./status.ts";

const LIVE = {
  state: "running",
  connection: "connected",
  lastMessageAgeMs: 200,
  books: { BTCUSDT: { state: "synced" } },
};

Deno.test("exchangeHealth: green, amber when stale or resyncing, red when down", () => {
  assert.equal(exchangeHealth(LIVE).level, "green");
  assert.deepEqual(exchangeHealth({ ...LIVE, lastMessageAgeMs: 5_001 }), {
    level: "amber",
    reason: "stale 5s",
  });
  assert.equal(
    exchangeHealth({ ...LIVE, lastMessageAgeMs: 5_000 }).level,
    "green",
  );
  assert.deepEqual(
    exchangeHealth({
      ...LIVE,
      books: { BTCUSDT: { state: "synced" }, ETHUSDT: { state: "buffering" } },
    }),
    { level: "amber", reason: "resyncing ETHUSDT" },
  );
  assert.equal(
    exchangeHealth({ ...LIVE, connection: "connecting" }).level,
    "amber",
  );
  assert.equal(
    exchangeHealth({ ...LIVE, lastMessageAgeMs: null }).level,
    "amber",
  );
  assert.equal(
    exchangeHealth({ ...LIVE, connection: "disconnected" }).level,
    "red",
  );
  assert.equal(exchangeHealth({ ...LIVE, state: "restarting" }).level, "red");
  assert.equal(exchangeHealth({ ...LIVE, state: "degraded" }).level, "green");
});

Deno.test("decimalsOf: the book's own decimals, float noise ignored", () => {
  assert.equal(decimalsOf(3000.05), 2);
  assert.equal(decimalsOf(60000), 0);
  assert.equal(decimalsOf(0.1 + 0.2), 1);
  assert.equal(decimalsOf(0.00001234), 8);
  assert.equal(decimalsOf(null), 0);
  assert.equal(decimalsOf(NaN), 0);
});

Deno.test("formatBbo: a 0.05 spread reads 0.05, not the bucket's rounding", () => {
  const bid = 3000.1, ask = 3000.15;
  const d = Math.max(decimalsOf(bid), decimalsOf(ask));
  assert.deepEqual(formatBbo(bid, ask, d), {
    bid: "3000.10",
    ask: "3000.15",
    spread: "0.05",
  });
  assert.deepEqual(formatBbo(null, 5, 1), {
    bid: "–",
    ask: "5.0",
    spread: "–",
  });
});

Deno.test("retryDelayMs and reconnectText: a backoff and its countdown", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(retryDelayMs), [
    1000,
    2000,
    4000,
    8000,
    16000,
    30000,
    30000,
  ]);
  assert.equal(reconnectText(10_000, 6_500), "reconnecting in 4 s");
  assert.equal(reconnectText(10_000, 9_999), "reconnecting in 1 s");
  assert.equal(reconnectText(10_000, 10_000), "reconnecting…");
});
