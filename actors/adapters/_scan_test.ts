import assert from "node:assert/strict";
import fc from "fast-check";
import { JsonCursor, newSide, readLevels } from "./_scan.ts";

const cursor = new JsonCursor();
const encoder = new TextEncoder();

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
  // The same token read from its bytes (as an inflated frame is read).
  c.resetBytes(encoder.encode(s));
  let u = c.number();
  if (c.pos !== s.length) u = NaN;
  assert.ok(Object.is(v, u), `${s}: number() ${v}, from bytes ${u}`);
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

Deno.test("JsonCursor.resetBytes: ASCII bytes read as their text; a non-ASCII byte anywhere is refused", () => {
  const c = new JsonCursor();
  const text = '{"ch":"market.btcusdt.depth.step0","v":[1.5E-7,2]}';
  for (let at = 0; at <= text.length; at++) {
    // A non-ASCII character at each place, the word-wise test's every lane.
    const odd = text.slice(0, at) + "é" + text.slice(at);
    assert.equal(c.resetBytes(encoder.encode(odd)), false, odd);
    assert.equal(c.end, 0);
  }
  assert.ok(c.resetBytes(encoder.encode(text)));
  assert.equal(c.end, text.length);
  assert.equal(c.text, "");
  assert.ok(c.take('{"ch":"'));
  assert.equal(c.stringBody(), 33);
  c.pos = text.indexOf("[") + 1;
  assert.equal(c.number(), 1.5e-7);
  // A longer text after a shorter one grows the buffer; its slack is zero.
  const long = `[${"1.25,".repeat(2000)}7]`;
  assert.ok(c.resetBytes(encoder.encode(long)));
  assert.equal(c.bytes[long.length], 0);
  c.pos = long.length - 2;
  assert.equal(c.number(), 7);
});

Deno.test("JsonCursor.decimal: the 8-decimal and short-fraction paths' edges read as parseFloat reads them", () => {
  for (
    const s of [
      "60000.01000000",
      "0.10000000",
      "0.00000001",
      "0.000000001",
      "0.00000000",
      "1.12345678",
      "1.123456789",
      "1.1234567",
      "12345678.12345678",
      "123456789.5",
      "99999999.99999999",
      // 2^53 - 1 and 2^53 over 10^8: the largest exact mantissa, and past it.
      "90071992.54740991",
      "90071992.54740992",
      "90071992.54740993",
      "12345678",
      "123456789",
      "1.12345678e5",
      "1.12345678E-5",
      "1.1234567e+3",
      "7.5",
      "7.05",
      "0.5",
      "0.05000000",
    ]
  ) assertExact(s);
});

/** Bytes that end a number token: what follows it in a frame, and the bytes just below "0" and above "9". */
const terminator = fc.constantFrom(...'",]}x +-/:', "");

Deno.test("JsonCursor.decimal: fuzzed fixed-point tokens, then any terminator, read as number() reads them", () => {
  const token = fc.tuple(
    fc.oneof(
      fc.constant("0"),
      fc.tuple(fc.constantFrom(..."123456789"), digits(0, 9)).map(([a, b]) =>
        a + b
      ),
      digits(2, 3), // leading zeros: refused
    ),
    fc.option(digits(0, 11), { nil: undefined }),
    fc.option(fc.constantFrom("e5", "E-3", "e+22", "e"), { nil: undefined }),
    terminator,
  );
  const c = new JsonCursor();
  fc.assert(
    fc.property(token, ([int, frac, exp, end]) => {
      const s = int + (frac === undefined ? "" : "." + frac) + (exp ?? "");
      const text = s + end;
      c.reset(text);
      const v = c.number();
      const vPos = c.pos;
      c.reset(text);
      const w = c.decimal();
      assert.ok(Object.is(v, w), `${text}: number() ${v}, decimal() ${w}`);
      assert.equal(c.pos, vPos, text);
      const valid = !Number.isNaN(oracle(s));
      if (valid) {
        assert.ok(Object.is(w, parseFloat(s)), `${text}: ${w}`);
        assert.equal(c.pos, s.length, text);
      } else {
        assert.ok(Number.isNaN(w), `${text}: ${w}`);
        assert.equal(c.pos, 0, text);
      }
    }),
    { numRuns: 20_000 },
  );
});

Deno.test("JsonCursor.quotedNumber: 8-decimal strings in a frame, a longer one before it, read as parseFloat reads them", () => {
  const c = new JsonCursor();
  // A long frame first leaves its bytes past a shorter frame's slack.
  c.reset(`["${"9".repeat(3000)}"]`);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 99_999_999 }),
      fc.integer({ min: 0, max: 99_999_999 }),
      (a, b) => {
        const s = `${a}.${String(b).padStart(8, "0")}`;
        c.reset(`["${s}"]`);
        assert.ok(c.take("["));
        assert.ok(Object.is(c.quotedNumber(), parseFloat(s)), s);
        assert.ok(c.take("]"));
        c.reset(`"${s}`); // no closing quote: refused
        assert.ok(Number.isNaN(c.quotedNumber()), s);
      },
    ),
    { numRuns: 10_000 },
  );
});

Deno.test("JsonCursor.take: literals inside, across and past the text's end, and in an unread text", () => {
  const c = new JsonCursor();
  c.reset('{"a":1}');
  assert.ok(c.take('{"a"'));
  assert.equal(c.pos, 4);
  assert.equal(c.take(":2"), false);
  assert.equal(c.pos, 4);
  assert.ok(c.take(""));
  assert.ok(c.take(":1}"));
  assert.equal(c.pos, 7);
  assert.equal(c.take("}"), false); // past the end: the slack is no text
  assert.equal(c.take("\0"), false);
  c.pos = 5;
  assert.equal(c.take("1}x"), false); // runs past the end
  assert.equal(c.take("1é"), false); // a non-ASCII literal matches nothing
  assert.equal(c.pos, 5);
  // A refused (non-ASCII) text is still matched as text, as before.
  assert.equal(c.reset('{"é":1}'), false);
  assert.ok(c.take('{"é"'));
  assert.equal(c.pos, 4);
});

Deno.test("readLevels: separators, empty and growing arrays, refusals", () => {
  const c = new JsonCursor();
  const side = newSide();
  c.reset('[["1.5","2"],["3","0.00000000"]],');
  assert.ok(readLevels(c, side));
  assert.equal(side.count, 2);
  assert.deepEqual([...side.prices.subarray(0, 2)], [1.5, 3]);
  assert.deepEqual([...side.sizes.subarray(0, 2)], [2, 0]);
  assert.equal(c.pos, c.text.length - 1);
  c.reset("[]");
  assert.ok(readLevels(c, side));
  assert.equal(side.count, 0);
  assert.equal(c.pos, 2);
  // 200 levels: the arrays grow from 64, keeping what was read.
  const levels = Array.from(
    { length: 200 },
    (_, i) => [(60000 + i / 100).toFixed(8), (i / 1e8).toFixed(8)],
  );
  c.reset(JSON.stringify(levels));
  assert.ok(readLevels(c, side));
  assert.equal(side.count, 200);
  for (let i = 0; i < 200; i++) {
    assert.equal(side.prices[i], parseFloat(levels[i][0]));
    assert.equal(side.sizes[i], parseFloat(levels[i][1]));
  }
  for (
    const bad of [
      '[["1.5","2"],]',
      '[["1.5","2"]',
      '[["1.5","2"]x',
      '[["1.5","2"],"3"]',
      '[["1.5",2]]',
      '[[1.5,"2"]]',
      '[["1.5","2","3"]]',
      '[["1.5"]]',
      '[["0","2"]]', // price out of range
      '[["1.5","-0"]]', // -0 is left to the adapter
      '[["1.5","-1"]]',
      '[ ["1.5","2"]]',
      '[["1.5" ,"2"]]',
      "[",
      "",
    ]
  ) {
    c.reset(bad);
    assert.equal(readLevels(c, side), false, bad);
  }
});
