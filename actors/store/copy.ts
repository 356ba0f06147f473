/**
 * Encoding rows for COPY.
 *
 * The writer's row builders use {@link BinaryCopyWriter}: PostgreSQL's
 * binary COPY format
 * (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4):
 * the signature `PGCOPY\n\377\r\n\0`, an int32 flags field and an int32
 * header-extension length (both 0), then per row an int16 field count and
 * per field an int32 byte length (-1 for NULL) and the value in the type's
 * binary send format, big-endian; an int16 -1 ends the data. Values are
 * written straight into one growable buffer: no string per number, no parse
 * on the server.
 *
 * {@link CopyWriter} and the `*Field` functions write COPY text
 * (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2),
 * for hand-written rows (tests, seeds) that read better as text: one line
 * per row, tabs between fields, `\N` for NULL, arrays as `{1,2.5}`.
 *
 * @module
 */

import type { CopyPart } from "./db.ts";

/** `PGCOPY\n\377\r\n\0`, flags 0, header extension length 0. */
const HEADER = new Uint8Array([
  0x50,
  0x47,
  0x43,
  0x4f,
  0x50,
  0x59,
  0x0a,
  0xff,
  0x0d,
  0x0a,
  0x00,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
]);

/** Bytes before the first row of binary COPY data. */
export const COPY_HEADER_BYTES = HEADER.length;

/** Bytes of the trailer (int16 -1) after the last row. */
export const COPY_TRAILER_BYTES = 2;

/** ms from the Unix epoch to PostgreSQL's epoch, 2000-01-01T00:00:00Z. */
const PG_EPOCH_MS = 946_684_800_000;

/** The type oid of `float8`, in array headers. */
const FLOAT8_OID = 701;

/** Largest |ms| a JavaScript `Date` holds. */
const MAX_MS = 8.64e15;

const utf8 = new TextEncoder();

/**
 * Accumulates the rows of one table as binary COPY data: start a row with
 * {@link row}, then one typed field call per column in column order.
 *
 * Field types must match the columns' exactly (binary COPY does no casts):
 * `time` → `timestamptz`, `text` → `text`, `float8` → `float8`, `int4` →
 * `int`, `int8` → `bigint`, `float8Array` → `float8[]`, `bytea` → `bytea`.
 *
 * @example
 * ```ts
 * const w = new BinaryCopyWriter("trades", ["ts", "exchange", "price"]);
 * w.row().time(ts).text("binance").float8(60000);
 * if (w.rows) parts.push(w.take());
 * ```
 */
export class BinaryCopyWriter {
  /** Table name. */
  readonly table: string;
  /** Column names, in field order. */
  readonly columns: readonly string[];
  /** Rows added since the last {@link take}. */
  rows = 0;
  #buf: Uint8Array;
  #dv: DataView;
  #at = HEADER.length;

  /**
   * @param table table name.
   * @param columns column names, in the order each row's fields are added.
   */
  constructor(table: string, columns: readonly string[]) {
    this.table = table;
    this.columns = columns;
    this.#buf = new Uint8Array(1 << 16);
    this.#buf.set(HEADER);
    this.#dv = new DataView(this.#buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  #room(n: number): void {
    const need = this.#at + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const buf = new Uint8Array(size);
    buf.set(this.#buf.subarray(0, this.#at));
    this.#buf = buf;
    this.#dv = new DataView(buf.buffer);
  }

  /**
   * Starts a row (its field count is the number of columns).
   * @returns this writer, for the row's fields.
   */
  row(): this {
    this.#room(2);
    this.#dv.setInt16(this.#at, this.columns.length);
    this.#at += 2;
    this.rows++;
    return this;
  }

  /**
   * A `timestamptz` field, stored at whole milliseconds (fractions are
   * truncated, as `new Date(ms)` does).
   * @param ms ms since the Unix epoch.
   * @returns this writer.
   * @throws {RangeError} when `ms` is not a valid `Date` time.
   */
  time(ms: number): this {
    if (!(Math.abs(ms) <= MAX_MS)) throw new RangeError(`Invalid time: ${ms}`);
    const us = (Math.trunc(ms) - PG_EPOCH_MS) * 1000;
    const hi = Math.floor(us / 4294967296);
    this.#room(12);
    const dv = this.#dv;
    dv.setInt32(this.#at, 8);
    dv.setInt32(this.#at + 4, hi);
    dv.setUint32(this.#at + 8, us - hi * 4294967296);
    this.#at += 12;
    return this;
  }

  /**
   * A `text` field, UTF-8.
   * @param s the text (any characters; nothing is escaped in binary COPY).
   * @returns this writer.
   */
  text(s: string): this {
    const n = s.length;
    this.#room(4 + 3 * n);
    const buf = this.#buf;
    const start = this.#at + 4;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    const len = i === n
      ? n
      : i + utf8.encodeInto(s.slice(i), buf.subarray(start + i)).written;
    this.#dv.setInt32(this.#at, len);
    this.#at = start + len;
    return this;
  }

  /**
   * A `float8` field (NaN and ±Infinity are stored as such).
   * @param x the number.
   * @returns this writer.
   */
  float8(x: number): this {
    this.#room(12);
    this.#dv.setInt32(this.#at, 8);
    this.#dv.setFloat64(this.#at + 4, x);
    this.#at += 12;
    return this;
  }

  /**
   * An `int` (int4) field.
   * @param x an integer in int32 range (the low 32 bits are stored).
   * @returns this writer.
   */
  int4(x: number): this {
    this.#room(8);
    this.#dv.setInt32(this.#at, 4);
    this.#dv.setInt32(this.#at + 4, x);
    this.#at += 8;
    return this;
  }

  /**
   * A `bigint` (int8) field.
   * @param x a safe integer (|x| ≤ 2^53 − 1).
   * @returns this writer.
   * @throws {RangeError} when `x` is not a safe integer.
   */
  int8(x: number): this {
    if (!Number.isSafeInteger(x)) {
      throw new RangeError(`Not a safe integer for int8: ${x}`);
    }
    const hi = Math.floor(x / 4294967296);
    this.#room(12);
    this.#dv.setInt32(this.#at, 8);
    this.#dv.setInt32(this.#at + 4, hi);
    this.#dv.setUint32(this.#at + 8, x - hi * 4294967296);
    this.#at += 12;
    return this;
  }

  /**
   * A one-dimensional `float8[]` field (no NULL elements) from part of an
   * array of numbers; an empty range is the empty array `{}`.
   * @param a the numbers.
   * @param from first index.
   * @param to end index (exclusive).
   * @returns this writer.
   */
  float8Array(a: ArrayLike<number>, from = 0, to = a.length): this {
    const n = to > from ? to - from : 0;
    const bytes = n === 0 ? 12 : 20 + 12 * n;
    this.#room(4 + bytes);
    const dv = this.#dv;
    let at = this.#at;
    dv.setInt32(at, bytes);
    dv.setInt32(at + 4, n === 0 ? 0 : 1); // ndim
    dv.setInt32(at + 8, 0); // has nulls
    dv.setInt32(at + 12, FLOAT8_OID);
    at += 16;
    if (n > 0) {
      dv.setInt32(at, n); // dimension
      dv.setInt32(at + 4, 1); // lower bound
      at += 8;
      for (let i = from; i < to; i++) {
        dv.setInt32(at, 8);
        dv.setFloat64(at + 4, a[i]);
        at += 12;
      }
    }
    this.#at = at;
    return this;
  }

  /**
   * A `bytea` field: the bytes as they are.
   * @param b the bytes.
   * @returns this writer.
   */
  bytea(b: Uint8Array): this {
    this.#room(4 + b.length);
    this.#dv.setInt32(this.#at, b.length);
    this.#buf.set(b, this.#at + 4);
    this.#at += 4 + b.length;
    return this;
  }

  /**
   * A NULL field.
   * @returns this writer.
   */
  null(): this {
    this.#room(4);
    this.#dv.setInt32(this.#at, -1);
    this.#at += 4;
    return this;
  }

  /**
   * The rows added so far, and a fresh start.
   * @returns the part for `Db.writeBatch`: `data` is complete binary COPY
   *   data (header, rows, trailer), a copy the writer no longer touches.
   */
  take(): CopyPart {
    this.#room(COPY_TRAILER_BYTES);
    this.#dv.setInt16(this.#at, -1);
    const part: CopyPart = {
      table: this.table,
      columns: this.columns,
      data: this.#buf.slice(0, this.#at + COPY_TRAILER_BYTES),
      rows: this.rows,
    };
    this.#at = HEADER.length;
    this.rows = 0;
    return part;
  }
}

/**
 * Joins binary COPY data of the same columns into one: the first header,
 * every part's rows in order, one trailer.
 * @param datas complete binary COPY data (as {@link BinaryCopyWriter.take} makes).
 * @returns the joined data; the only element itself when there is one.
 * @throws {RangeError} when an element is shorter than header and trailer.
 * @example
 * ```ts
 * const data = joinCopyData([a.data, b.data]); // a's rows then b's
 * ```
 */
export function joinCopyData(
  datas: readonly Uint8Array<ArrayBuffer>[],
): Uint8Array<ArrayBuffer> {
  if (datas.length === 1) return datas[0];
  const frame = HEADER.length + COPY_TRAILER_BYTES;
  let total = frame;
  for (const d of datas) {
    if (d.length < frame) {
      throw new RangeError(`Not binary COPY data: ${d.length} bytes`);
    }
    total += d.length - frame;
  }
  const out = new Uint8Array(total);
  out.set(HEADER);
  let at = HEADER.length;
  for (const d of datas) {
    out.set(d.subarray(HEADER.length, d.length - COPY_TRAILER_BYTES), at);
    at += d.length - frame;
  }
  new DataView(out.buffer).setInt16(at, -1);
  return out;
}

/**
 * Walks the rows of binary COPY data, handing over one field of each.
 * @param data complete binary COPY data.
 * @param field the field's index in each row.
 * @param visit called per row with a view of the data and the field's
 *   byte offset and length (-1 for NULL).
 * @returns the number of rows.
 * @throws {RangeError} when the data is not binary COPY data or a row has
 *   too few fields.
 * @example
 * ```ts
 * eachField(part.data, 0, (dv, at, len) => console.log(dv.getFloat64(at)));
 * ```
 */
export function eachField(
  data: Uint8Array,
  field: number,
  visit: (dv: DataView, at: number, len: number) => void,
): number {
  for (let i = 0; i < 11; i++) {
    if (data[i] !== HEADER[i]) {
      throw new RangeError("Not binary COPY data: bad signature");
    }
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 15 + 4 + dv.getInt32(15);
  let rows = 0;
  for (;;) {
    const count = dv.getInt16(at);
    at += 2;
    if (count === -1) return rows;
    if (field >= count) {
      throw new RangeError(
        `Row ${rows} has ${count} fields, no field ${field}`,
      );
    }
    for (let k = 0; k < count; k++) {
      const len = dv.getInt32(at);
      at += 4;
      if (k === field) visit(dv, at, len);
      if (len > 0) at += len;
    }
    rows++;
  }
}

/**
 * Reads a binary `timestamptz` / `int8` value as ms since the Unix epoch.
 * @param dv the data.
 * @param at the value's byte offset (8 bytes: µs since 2000-01-01 UTC).
 * @returns ms since the Unix epoch.
 * @example
 * ```ts
 * eachField(part.data, 0, (dv, at) => days.add(readTimeAt(dv, at)));
 * ```
 */
export function readTimeAt(dv: DataView, at: number): number {
  const us = dv.getInt32(at) * 4294967296 + dv.getUint32(at + 4);
  return Math.floor(us / 1000) + PG_EPOCH_MS;
}

/** The COPY text of NULL. */
export const NULL = "\\N";

let lastMs = NaN;
let lastIso = "";

/**
 * A `timestamptz` field: ISO-8601 UTC with milliseconds.
 * @param ms ms since the Unix epoch.
 * @returns e.g. `2026-12-02T14:11:46.123Z`.
 * @throws {RangeError} when `ms` is not a valid time.
 */
export function timeField(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/**
 * A `text` field, with the characters COPY treats specially escaped.
 * @param s the text.
 */
export function textField(s: string): string {
  return /[\\\t\n\r]/.test(s)
    ? s.replace(
      /[\\\t\n\r]/g,
      (c) =>
        c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
    )
    : s;
}

/**
 * A `float8[]` field from part of an array of numbers.
 * @param a the numbers.
 * @param from first index.
 * @param to end index (exclusive).
 * @returns e.g. `{60000,0.5,60001.5,0}`; `{}` when empty.
 */
export function floatArrayField(
  a: ArrayLike<number>,
  from = 0,
  to = a.length,
): string {
  if (to <= from) return "{}";
  let s = "{" + a[from];
  for (let i = from + 1; i < to; i++) s += "," + a[i];
  return s + "}";
}

/** Two lowercase hex digits per byte value. */
const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/**
 * A `bytea` field in hex form: `\x` and two hex digits per byte, the
 * backslash doubled as COPY text escapes it.
 * @param b the bytes.
 * @returns e.g. `\\x01ff` for the bytes 1 and 255.
 * @example
 * ```ts
 * w.row([timeField(ts), byteaField(encodeSizes(sides))]);
 * ```
 */
export function byteaField(b: Uint8Array): string {
  let s = "\\\\x";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

/**
 * Accumulates the rows of one table into a {@link CopyPart} of COPY text
 * (for hand-written rows; the row builders use {@link BinaryCopyWriter}).
 *
 * @example
 * ```ts
 * const w = new CopyWriter("trades", ["ts", "exchange", "price"]);
 * w.row([timeField(ts), textField("binance"), String(60000)]);
 * if (w.rows) parts.push(w.take());
 * ```
 */
export class CopyWriter {
  /** Table name. */
  readonly table: string;
  /** Column names, in field order. */
  readonly columns: readonly string[];
  #text = "";
  /** Rows added since the last {@link take}. */
  rows = 0;

  /**
   * @param table table name.
   * @param columns column names, in the order `row` gets its fields.
   */
  constructor(table: string, columns: readonly string[]) {
    this.table = table;
    this.columns = columns;
  }

  /**
   * Adds one row.
   * @param fields encoded fields (see the field functions), one per column.
   */
  row(fields: readonly string[]): void {
    this.#text += fields.join("\t") + "\n";
    this.rows++;
  }

  /**
   * The rows added so far, and a fresh start.
   * @returns the part for `Db.writeBatch`.
   */
  take(): CopyPart {
    const part: CopyPart = {
      table: this.table,
      columns: this.columns,
      text: this.#text,
      rows: this.rows,
    };
    this.#text = "";
    this.rows = 0;
    return part;
  }
}
