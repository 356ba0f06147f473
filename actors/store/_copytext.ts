/**
 * Test helper: reads PostgreSQL COPY text (what `copy.ts` writes) back into
 * values, the way the server would, so tests check the rows a
 * {@link CopyPart} really carries
 * (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2).
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
 * @param part a part from a row builder.
 * @returns the rows, in order.
 * @throws {Error} when a line's field count differs from the columns', or
 *   `rows` from the number of lines.
 * @example
 * ```ts
 * readCopyPart(part)[0].exchange; // "binance"
 * ```
 */
export function readCopyPart(part: CopyPart): CopyRow[] {
  const lines = readCopyText(part.text);
  if (lines.length !== part.rows) {
    throw new Error(
      `${part.table}: rows says ${part.rows}, text has ${lines.length} lines`,
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
