import assert from "node:assert/strict";
import { readBinaryCopy } from "./_copytext.ts";
import {
  BinaryCopyWriter,
  eachField,
  joinCopyData,
  readTimeAt,
} from "./copy.ts";

const COLUMNS = ["ts", "exchange", "seq", "lo", "price", "bids", "detail"];

Deno.test("BinaryCopyWriter: every field type reads back as the server would show it", () => {
  const w = new BinaryCopyWriter("t", COLUMNS);
  const ts = Date.UTC(2026, 0, 15, 12, 30, 45, 123);
  w.row().time(ts + 0.9).text("binance").int4(-7).int8(-(2 ** 40) - 3)
    .float8(60000.25).float8Array([1, 2.5, -3e-7, 4], 1, 3).text("é\t€ 😀");
  w.row().time(Date.UTC(1999, 11, 31, 23, 59, 59, 999)).text("").int4(0)
    .int8(0).float8(NaN).float8Array([]).null();
  assert.equal(w.rows, 2);
  const part = w.take();
  assert.equal(w.rows, 0);
  assert.deepEqual(part.columns, COLUMNS);
  assert.deepEqual(readBinaryCopy(part.data!, part.columns), [
    [
      "2026-01-15T12:30:45.123Z", // fractions of a ms are truncated
      "binance",
      "-7",
      String(-(2 ** 40) - 3),
      "60000.25",
      "{2.5,-3e-7}",
      "é\t€ 😀",
    ],
    ["1999-12-31T23:59:59.999Z", "", "0", "0", "NaN", "{}", null],
  ]);
  // The writer starts afresh after take.
  w.row().time(ts).text("x").int4(1).int8(1).float8(1).float8Array([1])
    .null();
  assert.equal(readBinaryCopy(w.take().data!, COLUMNS).length, 1);
});

Deno.test("BinaryCopyWriter: the buffer grows past its first 64 KiB", () => {
  const w = new BinaryCopyWriter("t", ["bids"]);
  const big = Float64Array.from({ length: 10_000 }, (_, i) => i / 4);
  w.row().float8Array(big);
  w.row().float8Array(big, 9_999);
  const [a, b] = readBinaryCopy(w.take().data!, ["bids"]);
  assert.equal(a[0], `{${Array.from(big).join(",")}}`);
  assert.equal(b[0], "{2499.75}");
});

Deno.test("BinaryCopyWriter: invalid times and unsafe int8 values throw", () => {
  const w = new BinaryCopyWriter("t", ["ts"]);
  assert.throws(() => w.row().time(NaN), RangeError);
  assert.throws(() => w.time(9e15), RangeError);
  assert.throws(() => w.int8(2 ** 53), RangeError);
  assert.throws(() => w.int8(1.5), RangeError);
});

Deno.test("joinCopyData and eachField: rows of several parts in order, their times read back", () => {
  const part = (times: number[]) => {
    const w = new BinaryCopyWriter("t", ["exchange", "ts"]);
    for (const t of times) w.row().text("okx").time(t);
    return w.take().data!;
  };
  const a = part([Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2, 5)]);
  const b = part([Date.UTC(2025, 11, 31, 23, 59, 59, 999)]);
  assert.equal(joinCopyData([a]), a);
  const joined = joinCopyData([a, b]);
  const times: number[] = [];
  assert.equal(
    eachField(joined, 1, (dv, at, len) => {
      assert.equal(len, 8);
      times.push(readTimeAt(dv, at));
    }),
    3,
  );
  assert.deepEqual(times, [
    Date.UTC(2026, 0, 1),
    Date.UTC(2026, 0, 2, 5),
    Date.UTC(2025, 11, 31, 23, 59, 59, 999),
  ]);
  assert.deepEqual(
    readBinaryCopy(joined, ["exchange", "ts"]).map((r) => r[0]),
    ["okx", "okx", "okx"],
  );
  assert.throws(() => eachField(joined, 2, () => {}), RangeError);
  assert.throws(() => eachField(new Uint8Array(21), 0, () => {}), RangeError);
  assert.throws(() => joinCopyData([a, new Uint8Array(3)]), RangeError);
});
