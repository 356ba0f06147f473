import assert from "node:assert/strict";
import { formatClock, formatDate, formatTime, timeAxisLabels } from "./time.ts";

// 2021-10-11 23:59:58.250 UTC, the day of the shared Binance capture.
const T = Date.UTC(2021, 9, 11, 23, 59, 58, 250);

Deno.test("formatTime prints the UTC time of day, with or without seconds", () => {
  assert.equal(formatTime(T, { utc: true }), "23:59");
  assert.equal(formatTime(T, { utc: true, seconds: true }), "23:59:58");
  assert.equal(
    formatTime(Date.UTC(2021, 9, 12, 1, 2, 3), { utc: true, seconds: true }),
    "01:02:03",
  );
});

Deno.test("formatTime in local time follows the browser's time zone", () => {
  const d = new Date(T);
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  assert.equal(formatTime(T), `${hh}:${mm}`);
});

Deno.test("formatDate prints the UTC date", () => {
  assert.equal(formatDate(T, true), "2021-10-11");
  assert.equal(formatDate(T + 2_000, true), "2021-10-12");
});

Deno.test("formatClock prints the UTC date and time, seconds truncated", () => {
  assert.equal(formatClock(T), "2021-10-11 23:59:58 UTC");
  assert.equal(
    formatClock(T),
    new Date(T).toISOString().slice(0, 19).replace("T", " ") + " UTC",
  );
  assert.equal(formatClock(NaN), "–");
});

Deno.test("timeAxisLabels dates the first label and each new day in UTC", () => {
  const minute = 60_000;
  const start = Date.UTC(2021, 9, 11, 23, 58);
  const splits = [
    start,
    start + minute,
    start + 2 * minute,
    start + 3 * minute,
  ];
  assert.deepEqual(timeAxisLabels(splits, { utc: true }), [
    "23:58\n2021-10-11",
    "23:59",
    "00:00\n2021-10-12",
    "00:01",
  ]);
  assert.deepEqual(timeAxisLabels([], { utc: true }), []);
});

Deno.test("timeAxisLabels in local time are times of day only", () => {
  const splits = [T, T + 1_000];
  assert.deepEqual(
    timeAxisLabels(splits, { seconds: true }),
    splits.map((s) => formatTime(s, { seconds: true })),
  );
  assert.ok(timeAxisLabels(splits).every((l) => !l.includes("\n")));
});
