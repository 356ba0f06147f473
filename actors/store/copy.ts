/**
 * Encoding rows in PostgreSQL's COPY text format
 * (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2):
 * one line per row, fields separated by tabs, `\N` for NULL, backslash
 * escapes in text, arrays as `{1,2.5}`. Numbers are written with
 * `String(x)`, the shortest text that reads back as the same double.
 *
 * @module
 */

import type { CopyPart } from "./db.ts";

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

/**
 * Accumulates the rows of one table into a {@link CopyPart}.
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
