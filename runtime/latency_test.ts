/**
 * The worker-side latency histogram: values land in OpenTelemetry's
 * explicit buckets (upper bound inclusive), snapshots are copies, and the
 * connections of one exchange merge.
 */

import assert from "node:assert/strict";
import {
  LATENCY_BOUNDS_MS,
  LatencyHistogram,
  mergeLatency,
} from "./latency.ts";

Deno.test("latency histogram: a value on a bound counts in that bound's bucket", () => {
  const h = new LatencyHistogram();
  for (const v of [0.05, 0.1, 0.11, 1, 10000, 10001, -3]) h.record(v);
  const s = h.snapshot();
  assert.equal(s.counts.length, LATENCY_BOUNDS_MS.length + 1);
  assert.equal(s.counts[0], 3); // -3, 0.05 and 0.1
  assert.equal(s.counts[1], 1); // 0.11 in (0.1, 0.25]
  assert.equal(s.counts[LATENCY_BOUNDS_MS.indexOf(1)], 1);
  assert.equal(s.counts[LATENCY_BOUNDS_MS.length - 1], 1); // 10000
  assert.equal(s.counts[LATENCY_BOUNDS_MS.length], 1); // 10001, overflow
  assert.equal(s.count, 7);
  assert.equal(s.sum, 0.05 + 0.1 + 0.11 + 1 + 10000 + 10001 - 3);
  assert.equal(s.min, -3);
  assert.equal(s.max, 10001);
});

Deno.test("latency histogram: NaN is ignored and a snapshot does not move with later values", () => {
  const h = new LatencyHistogram([1, 2]);
  h.record(NaN);
  h.record(1.5);
  const before = h.snapshot();
  h.record(5);
  assert.deepEqual(before.counts, [0, 1, 0]);
  assert.equal(before.count, 1);
  assert.deepEqual(h.snapshot().counts, [0, 1, 1]);
});

Deno.test("latency histogram: merging sums buckets; bad or different bounds throw", () => {
  const a = new LatencyHistogram([1, 10]);
  const b = new LatencyHistogram([1, 10]);
  a.record(0.5);
  b.record(5);
  b.record(50);
  const m = mergeLatency(a.snapshot(), b.snapshot());
  assert.deepEqual(m.counts, [1, 1, 1]);
  assert.equal(m.count, 3);
  assert.equal(m.sum, 55.5);
  assert.equal(m.min, 0.5);
  assert.equal(m.max, 50);
  assert.throws(
    () => mergeLatency(a.snapshot(), new LatencyHistogram([1]).snapshot()),
    RangeError,
  );
  assert.throws(() => new LatencyHistogram([2, 1]), /ascending/);
  assert.throws(() => new LatencyHistogram([]), /empty/);
});
