import assert from "node:assert/strict";
import fc from "fast-check";
import { JsonCursor } from "./_scan.ts";

const cursor = new JsonCursor();

/**
 * The cursor's reading of `s` as one whole number token, else NaN; its
 * general reader (`number`) and its fast one (`decimal`) must agree.
 */
function read(s: string): number {
  const c = cursor;
  c.reset(s);
  let v = c.number();
  if (c.pos !== s.length) v = NaN;
  c.reset(s);
  let w = c.decimal();
  if (c.pos !== s.length) w = NaN;
  assert.ok(Object.is(v, w), `${s}: number() ${v}, decimal() ${w}`);
  return v;
}

/** `JSON.parse`'s reading of `s` as one number, else NaN. */
function oracle(s: string): number {
  if (/\s/.test(s)) return NaN; // JSON.parse would skip whitespace
  try {
    const v = JSON.parse(s);
    return typeof v === "number" ? v : NaN;
  } catch {
    return NaN;
  }
}

/** Asserts the cursor reads `s` as parseFloat does, and whole. */
function assertExact(s: string): void {
  const v = read(s);
  assert.ok(Object.is(v, parseFloat(s)), `${s}: ${v} vs ${parseFloat(s)}`);
  assert.ok(Object.is(v, Number(s)), `${s}: ${v} vs Number ${Number(s)}`);
}

const digits = (min: number, max: number) =>
  fc.string({
    unit: fc.constantFrom(..."0123456789"),
    minLength: min,
    maxLength: max,
  });

/** JSON number tokens: any integer part, fraction and exponent. */
const numberToken = fc.tuple(
  fc.constantFrom("", "-"),
  fc.oneof(
    fc.constant("0"),
    fc.tuple(
      fc.constantFrom(..."123456789"),
      fc.oneof(digits(0, 8), digits(0, 30)),
    ).map(([a, b]) => a + b),
  ),
  // Short fractions take the exact fast path; long ones the fallback.
  fc.option(fc.oneof(digits(1, 10), digits(1, 40)), { nil: undefined }),
  fc.option(
    fc.tuple(
      fc.constantFrom("e", "E"),
      fc.constantFrom("", "+", "-"),
      fc.oneof(digits(1, 2), digits(1, 4)),
    ).map((p) => p.join("")),
    { nil: undefined },
  ),
).map(([sign, int, frac, exp]) =>
  sign + int + (frac === undefined ? "" : "." + frac) + (exp ?? "")
);

Deno.test("JsonCursor.number, decimal: edge values read as parseFloat reads them", () => {
  for (
    const s of [
      "0",
      "-0",
      "0.0",
      "-0.00000000",
      "0.00000001",
      "1e-7",
      "1E-7",
      "1e+7",
      "123456789012345678901234567890",
      "1.0000000000000002",
      "0.30000000000000004",
      "9007199254740991",
      "9007199254740992",
      "9007199254740993",
      "90071992547409931",
      "0.1",
      "60000.01000000",
      "0.35130000",
      "4096.00000000",
      "1e22",
      "1e23",
      "1e-22",
      "1e-23",
      "2.2250738585072014e-308",
      "4.9e-324",
      "1.7976931348623157e308",
      "1e400",
      "-1e400",
      "1e-400",
      "0e99999999999999999999",
      "1e-99999999999999999999",
      "0.000000000000000000000000000001",
      "99999999999999999999999.999999999999999",
      // The fast path's edges: 15 digits in, 16 out; 22 decimals in, 23 out.
      "123456789012345",
      "1234567890123456",
      "12345678.9012345",
      "1234567.890123456",
      "999999999999999",
      "0.0000000000000000000001",
      "0.00000000000000000000001",
      "0.1234567890123456789012",
      "100000000000000.5",
      "9.99999999999999",
      "7",
      "7.0",
    ]
  ) assertExact(s);
});

Deno.test("JsonCursor.number, decimal: non-JSON numbers are refused, pos unchanged", () => {
  for (
    const s of ["", "-", "01", "-01", ".5", "5.", "1e", "1e+", "+1", "a", "-a"]
  ) {
    const c = new JsonCursor();
    for (const reader of [() => c.number(), () => c.decimal()]) {
      c.reset(s);
      const v = reader();
      assert.ok(Number.isNaN(v), `${JSON.stringify(s)} read as ${v}`);
      assert.equal(c.pos, 0);
    }
  }
});

Deno.test("JsonCursor.number, decimal: fuzzed tokens (exponents, leading zeros, long fractions) equal parseFloat", () => {
  fc.assert(fc.property(numberToken, (s) => assertExact(s)), {
    numRuns: 20_000,
  });
});

Deno.test("JsonCursor.number, decimal: every double's shortest, fixed and exponent forms round-trip", () => {
  fc.assert(
    fc.property(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 1, max: 21 }),
      (d, fixed, precision) => {
        const abs = Math.abs(d);
        assertExact(String(d));
        if (abs < 1e21) assertExact(d.toFixed(fixed));
        assertExact(d.toExponential(Math.min(precision, 20)));
        assertExact(d.toPrecision(precision));
        assert.ok(Object.is(read(String(d)), d + 0)); // String(-0) is "0"
      },
    ),
    { numRuns: 10_000 },
  );
});

Deno.test("JsonCursor.number, decimal: any string over the number alphabet reads as JSON.parse reads it", () => {
  const s = fc.string({
    unit: fc.constantFrom(..."0123456789.-+eE"),
    maxLength: 25,
  });
  fc.assert(
    fc.property(s, (x) => {
      const v = read(x);
      assert.ok(Object.is(v, oracle(x)), `${x}: ${v} vs ${oracle(x)}`);
    }),
    { numRuns: 20_000 },
  );
});

Deno.test("JsonCursor: quoted numbers, strings, literals", () => {
  const c = new JsonCursor();
  c.reset('["60000.01000000","-0"],"BTC\\"USDT","a\u0001b","x"');
  assert.ok(c.take("["));
  assert.equal(c.quotedNumber(), 60000.01);
  assert.ok(c.take(","));
  assert.ok(Object.is(c.quotedNumber(), -0));
  assert.ok(c.take('],"'));
  assert.equal(c.stringBody(), -1); // an escape
  const at = c.text.indexOf('"a');
  c.pos = at + 1;
  assert.equal(c.stringBody(), -1); // a control character
  c.pos = c.text.lastIndexOf('"x') + 1;
  assert.equal(c.stringBody(), c.text.length - 1);
  assert.equal(c.pos, c.text.length);
  assert.equal(c.reset('"1.5€"'), false); // not ASCII: nothing to read
  assert.ok(Number.isNaN(c.quotedNumber()));
  c.reset('"1.5x"');
  assert.ok(Number.isNaN(c.quotedNumber()));
  assert.equal(c.pos, 0);
  assert.equal(c.take('"2'), false);
});
