import assert from "node:assert/strict";
import { clockFrame, parseClockFrame, restKey } from "./clock.ts";

Deno.test("clock frames: recorded times and REST keys round-trip; anything else is not a clock frame", () => {
  const ts = 1633998512063.357; // a recorded receive time, fractional ms
  assert.deepEqual(parseClockFrame(clockFrame(ts)), { ts });
  const key = restKey(
    "https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000",
  );
  assert.equal(key, "/api/v3/depth?symbol=NKNUSDT&limit=1000");
  assert.deepEqual(parseClockFrame(clockFrame(ts, key)), { ts, rest: key });
  for (
    const frame of [
      '{"stream":"nknusdt@depth@100ms"}',
      "\u0000coby-clock ",
      "\u0000coby-clock 0x10",
      "\u0000coby-clock Infinity",
      "\u0000coby-clock 12 ",
      "\u0000coby-clock 12 a b",
      "coby-clock 12",
      new TextEncoder().encode("\u0000coby-clock 12"),
    ]
  ) assert.equal(parseClockFrame(frame), null, String(frame));
  assert.throws(() => clockFrame(NaN), RangeError);
  assert.throws(() => clockFrame(ts, "/a b"), RangeError);
});
