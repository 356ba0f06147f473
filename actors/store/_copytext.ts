/**
 * Test helper: reads the rows a {@link CopyPart} carries back into values,
 * the way the server would, so tests check them: COPY text
 * (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2)
 * and binary COPY (what `copy.ts` writes,
 * https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4),
 * binary fields shown as the server's COPY text would show them.
 *
 * @module
 */

import type { CopyPart } from "./db.ts";

/** One row of a part: column name → field text with escapes decoded, null for `\N`. */
export type CopyRow = Record<string, string | null>;

/** Single-character escapes of COPY text. */
const ESCAPES: Readonly<Record<string, string>> = {
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/**
 * Decodes one field of COPY text.
 * @param raw the field as written between tabs.
 * @returns its text, or null for `\N`.
 * @example
 * ```ts
 * readField("a\\tb"); // "a\tb"
 * readField("\\N"); // null
 * ```
 */
export function readField(raw: string): string | null {
  if (raw === "\\N") return null;
  return raw.replace(
    /\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g,
    (_, e: string) => {
      if (e[0] === "x" && e.length > 1) {
        return String.fromCharCode(parseInt(e.slice(1), 16));
      }
      if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
      return ESCAPES[e] ?? e;
    },
  );
}

/**
 * Splits COPY text into rows of decoded fields.
 * @param text lines ending in `\n`, fields separated by tabs.
 * @returns one array of fields per line.
 * @throws {Error} when the text does not end with a newline.
 * @example
 * ```ts
 * readCopyText("1\t\\N\n"); // [["1", null]]
 * ```
 */
export function readCopyText(text: string): (string | null)[][] {
  if (text === "") return [];
  if (!text.endsWith("\n")) {
    throw new Error(
      `COPY text does not end with a newline: ${text.slice(-40)}`,
    );
  }
  return text.slice(0, -1).split("\n").map((line) =>
    line.split("\t").map(readField)
  );
}

/**
 * The rows of a part, keyed by its column names.
 * @param part a part from a row builder (binary) or written by hand (text).
 * @returns the rows, in order; binary fields as COPY text (see
 *   {@link readBinaryCopy}).
 * @throws {Error} when a line's field count differs from the columns', or
 *   `rows` from the number of lines.
 * @example
 * ```ts
 * readCopyPart(part)[0].exchange; // "binance"
 * ```
 */
export function readCopyPart(part: CopyPart): CopyRow[] {
  const lines = part.data
    ? readBinaryCopy(part.data, part.columns)
    : readCopyText(part.text ?? "");
  if (lines.length !== part.rows) {
    throw new Error(
      `${part.table}: rows says ${part.rows}, data has ${lines.length} rows`,
    );
  }
  return lines.map((fields, i) => {
    if (fields.length !== part.columns.length) {
      throw new Error(
        `${part.table} line ${i}: ${fields.length} fields for ${part.columns.length} columns`,
      );
    }
    const row: CopyRow = {};
    part.columns.forEach((c, k) => row[c] = fields[k]);
    return row;
  });
}

/** Binary field types of coby's columns, by column name (float8 otherwise). */
const TYPES: Readonly<
  Record<
    string,
    "time" | "text" | "int4" | "int8" | "float8" | "float8[]"
  >
> = {
  ts: "time",
  exchange_ts: "time",
  exchange: "text",
  symbol: "text",
  exchange_symbol: "text",
  market: "text",
  side: "text",
  connection: "text",
  kind: "text",
  detail: "text",
  seq: "int4",
  trades: "int4",
  lo: "int8",
  bids: "float8[]",
  asks: "float8[]",
  buys: "float8[]",
  sells: "float8[]",
};

/** ms from the Unix epoch to 2000-01-01T00:00:00Z. */
const PG_EPOCH_MS = 946_684_800_000;

/**
 * Reads binary COPY data, typing each field by its column's name in coby's
 * schema (`ts`/`exchange_ts` timestamptz, names text, `seq`/`trades` int4,
 * `lo` int8, `bids`/`asks`/`buys`/`sells` float8[], the rest float8), and
 * shows each value as COPY text would: times ISO-8601 UTC, numbers
 * `String(x)`, arrays `{1,2.5}`, NULL as null.
 * @param data complete binary COPY data.
 * @param columns the part's columns.
 * @returns one array of fields per row.
 * @throws {Error} when the signature, a length or the trailer is wrong.
 * @example
 * ```ts
 * readBinaryCopy(part.data, part.columns)[0][0]; // "2026-11-01T00:00:00.010Z"
 * ```
 */
export function readBinaryCopy(
  data: Uint8Array,
  columns: readonly string[],
): (string | null)[][] {
  const sig = "PGCOPY\n\xff\r\n\0";
  for (let i = 0; i < sig.length; i++) {
    if (data[i] !== sig.charCodeAt(i)) throw new Error("Bad PGCOPY signature");
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 15 + 4 + dv.getInt32(15);
  const int8 = (p: number) => dv.getInt32(p) * 4294967296 + dv.getUint32(p + 4);
  const out: (string | null)[][] = [];
  for (;;) {
    const count = dv.getInt16(at);
    at += 2;
    if (count === -1) break;
    const fields: (string | null)[] = [];
    for (let k = 0; k < count; k++) {
      const len = dv.getInt32(at);
      at += 4;
      if (len === -1) {
        fields.push(null);
        continue;
      }
      if (at + len > data.length) {
        throw new Error(`Field past the end at ${at}`);
      }
      const type = TYPES[columns[k]] ?? "float8";
      const fixed = { time: 8, int4: 4, int8: 8, float8: 8 } as Record<
        string,
        number
      >;
      if (fixed[type] !== undefined && len !== fixed[type]) {
        throw new Error(`${columns[k]}: ${len} bytes for ${type}`);
      }
      if (type === "time") {
        fields.push(
          new Date(Math.floor(int8(at) / 1000) + PG_EPOCH_MS).toISOString(),
        );
      } else if (type === "text") {
        fields.push(new TextDecoder().decode(data.subarray(at, at + len)));
      } else if (type === "int4") fields.push(String(dv.getInt32(at)));
      else if (type === "int8") fields.push(String(int8(at)));
      else if (type === "float8") fields.push(String(dv.getFloat64(at)));
      else {
        const ndim = dv.getInt32(at);
        if (dv.getInt32(at + 8) !== 701) {
          throw new Error(`${columns[k]}: not float8[]`);
        }
        const xs: number[] = [];
        if (ndim === 1) {
          const n = dv.getInt32(at + 12);
          for (let i = 0, p = at + 20; i < n; i++, p += 12) {
            if (dv.getInt32(p) !== 8) {
              throw new Error(`${columns[k]}: bad element`);
            }
            xs.push(dv.getFloat64(p + 4));
          }
        } else if (ndim !== 0) {
          throw new Error(`${columns[k]}: ${ndim} dimensions`);
        }
        fields.push(`{${xs.join(",")}}`);
      }
      at += len;
    }
    out.push(fields);
  }
  if (at !== data.length) {
    throw new Error(`${data.length - at} bytes after the trailer`);
  }
  return out;
}

/**
 * Reads a `float8[]` field (one dimension, no NULL elements).
 * @param field the decoded field, e.g. `{1,2.5,-3e-7}`.
 * @returns the numbers.
 * @throws {Error} when it is not a brace-enclosed list of numbers.
 * @example
 * ```ts
 * readFloatArray("{1,2.5}"); // [1, 2.5]
 * ```
 */
export function readFloatArray(field: string | null): number[] {
  if (field === null || !field.startsWith("{") || !field.endsWith("}")) {
    throw new Error(`Not a float8[] field: ${field}`);
  }
  const body = field.slice(1, -1);
  if (body === "") return [];
  return body.split(",").map((s) => {
    const x = Number(s);
    if (s.trim() === "" || (x !== x && s !== "NaN")) {
      throw new Error(`Not a number in float8[] field: ${s}`);
    }
    return x;
  });
}

/**
 * Reads a number field.
 * @param field the decoded field.
 * @returns the number, or null for NULL.
 * @throws {Error} when the text is not a number.
 * @example
 * ```ts
 * readNumber("0.25"); // 0.25
 * ```
 */
export function readNumber(field: string | null): number | null {
  if (field === null) return null;
  const x = Number(field);
  if (field.trim() === "" || (x !== x && field !== "NaN")) {
    throw new Error(`Not a number: ${field}`);
  }
  return x;
}

/**
 * Reads a `timestamptz` field written as ISO-8601 UTC.
 * @param field the decoded field, e.g. `2021-04-17T16:43:07.000Z`.
 * @returns ms since the Unix epoch.
 * @throws {Error} when it is NULL or not an ISO-8601 UTC time.
 * @example
 * ```ts
 * readTime("1970-01-01T00:00:01.000Z"); // 1000
 * ```
 */
export function readTime(field: string | null): number {
  if (field === null || !/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(field)) {
    throw new Error(`Not an ISO-8601 UTC time: ${field}`);
  }
  return Date.parse(field);
}
