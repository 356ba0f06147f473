import assert from "node:assert/strict";
import { decodeSizes, encodeSizes } from "./sizes.ts";

/** Sizes as stored and as the stream sends them: 6 significant digits. */
function round6(a: ArrayLike<number>): number[] {
  return Array.from(a, (x) => +x.toPrecision(6));
}

/** Sizes that probe the rounding: ties, powers of ten, extremes, specials. */
function awkwardSizes(): number[] {
  let seed = 5;
  const r = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const xs = [
    1.234565,
    999999.5,
    99999.95,
    9.999995,
    0.1,
    0.3,
    1e21,
    1e-7,
    5e-324,
    1e-59,
    9.99999e67,
    1.7976931348623157e308,
    NaN,
    Infinity,
    -Infinity,
    -0,
    -2.5,
  ];
  for (let i = 0; i < 20_000; i++) {
    const k = r();
    const scale = 10 ** Math.floor(r() * 24 - 12);
    xs.push(
      k < 0.3
        ? Math.round(r() * 2e6) / 2 * scale // ties at the 6th digit
        : k < 0.5
        ? scale * (1 + (r() - 0.5) * 1e-12) // around a power of ten
        : k < 0.6
        ? 10 ** (r() * 140 - 70) // beyond the fast path
        : r() ** 4 * 50, // order-book sizes
    );
  }
  return xs;
}

Deno.test("sizes: stored sizes are the stream's 6 significant digits, NaN and ±Infinity kept", () => {
  const xs = awkwardSizes();
  const zeros = new Array<number>(xs.length).fill(0);
  // Sells: the sizes within 13 decades, written 3 bytes a size.
  const near = xs.map((x) => x > 1e-4 && x < 1e9 ? x : 0);
  const back = decodeSizes(
    encodeSizes([xs, zeros, xs.slice().reverse(), near]),
  );
  // Beyond the stored exponents: 0 under 1e-59, Infinity over 9.99999e67.
  const want = xs.map((x) => {
    const v = +x.toPrecision(6);
    const a = Math.abs(v);
    if (a < 1e-59) return 0;
    return a > 9.99999e67 && a < Infinity ? Math.sign(v) * Infinity : v;
  });
  assert.deepEqual(back.bids, want);
  assert.deepEqual(back.asks, zeros);
  assert.deepEqual(back.buys, want.slice().reverse());
  assert.deepEqual(back.sells, round6(near));
  assert.ok(near.some((x) => x !== +x.toPrecision(6)));
});

Deno.test("sizes: sizes take 3 bytes a stored bucket, 4 past 16 decades, a bitmap only for a side with gaps", () => {
  const n = 1000;
  const dense = Array.from({ length: n }, (_, i) => 0.5 + i / 7);
  const gaps = dense.map((x, i) => i % 3 === 0 ? 0 : x);
  const empty = new Array<number>(n).fill(0);
  const stored = gaps.filter((x) => x !== 0).length;
  // One run in the middle, as a column's bids below the mid.
  const run = dense.map((x, i) => i >= 100 && i < 600 ? x : 0);
  const bytes = encodeSizes([dense, gaps, run, empty]);
  // Format and n; count, base and first of three sides, the count of the
  // empty one; the bitmap of the side with gaps; the sizes.
  assert.equal(bytes.length, 5 + 3 * 9 + 4 + n / 8 + 3 * (n + stored + 500));
  // Sizes 17 decades apart, or a negative one: whole codes.
  for (const odd of [1e-9, -1]) {
    const wide = dense.map((x, i) => i === 7 ? odd : x * 1e7);
    const whole = encodeSizes([wide, empty, empty, empty]);
    assert.equal(whole.length, 5 + 9 + 3 * 4 + 4 * n);
    assert.deepEqual(decodeSizes(whole).bids, round6(wide));
  }
  assert.deepEqual(decodeSizes(bytes), {
    bids: round6(dense),
    asks: round6(gaps),
    buys: round6(run),
    sells: empty,
  });
  // 1e-60 rounds to no size at all: stored like 0.
  assert.equal(
    encodeSizes([[1e-60], [0], [0], [0]]).length,
    encodeSizes([[0], [0], [0], [0]]).length,
  );
});

Deno.test("sizes: sizes of the wrong shape or bytes that are not sizes throw RangeError", () => {
  assert.throws(() => encodeSizes([[1], [2], [3]]), RangeError);
  assert.throws(() => encodeSizes([[1], [2], [3], [4, 5]]), RangeError);
  const good = encodeSizes([[1, 0, 2], [0, 0, 3], [0, 0, 0], [4, 4, 4]]);
  assert.deepEqual(decodeSizes(good).sells, [4, 4, 4]);
  const bad = (f: (b: Uint8Array) => void) => {
    const b = good.slice();
    f(b);
    return b;
  };
  for (
    const b of [
      good.subarray(0, 3), // no n
      good.subarray(0, good.length - 1), // the last size cut
      bad((b) => b[0] = 2), // another format
      // The bids' bitmap (after format, n, count, base, first) marks 3
      // buckets, count 2; then a bucket past n.
      bad((b) => b[14] = 0b111),
      bad((b) => b[14] = 0b1111),
      // The asks' run (3 at bucket 2; first after the bids' 2 sizes) moved
      // to bucket 3, past n.
      bad((b) => b[26] = 3),
      Uint8Array.of(...good, 0), // a byte after the sides
    ]
  ) {
    assert.throws(() => decodeSizes(b), RangeError);
  }
});
