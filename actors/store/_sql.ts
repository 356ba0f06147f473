/**
 * SQL text the drivers and the maintenance jobs build from names: identifiers
 * are checked against a strict pattern and quoted, never spliced in raw.
 *
 * @module
 */

import type { CopyPart } from "./db.ts";

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A quoted SQL identifier.
 * @param name a lower-case table or column name, e.g. `book_changes`.
 * @returns the name in double quotes, e.g. `"book_changes"`.
 * @throws {TypeError} when `name` is not `[a-z_][a-z0-9_]*` of at most 63
 *   characters.
 *
 * @example
 * ```ts
 * ident("trades_p20260115"); // '"trades_p20260115"'
 * ident("x; DROP TABLE y"); // throws TypeError
 * ```
 */
export function ident(name: string): string {
  if (!IDENT.test(name)) {
    throw new TypeError(`Invalid SQL identifier: ${JSON.stringify(name)}`);
  }
  return `"${name}"`;
}

/**
 * The COPY command that loads one part.
 * @param part the table and its columns (the rows are not read).
 * @param source `STDIN` (postgres.js streams the rows) or `'/dev/blob'`
 *   (PGlite reads the blob passed with the query).
 * @returns e.g. `COPY "trades" ("ts", "price") FROM STDIN`, with
 *   `WITH (FORMAT binary)` appended for a part carrying binary `data`.
 * @throws {TypeError} when the table or a column is not a plain identifier,
 *   or there are no columns.
 *
 * @example
 * ```ts
 * copyCommand({ table: "trades", columns: ["ts", "price"], text: "", rows: 0 }, "STDIN");
 * // 'COPY "trades" ("ts", "price") FROM STDIN'
 * ```
 */
export function copyCommand(
  part: CopyPart,
  source: "STDIN" | "'/dev/blob'",
): string {
  if (part.columns.length === 0) {
    throw new TypeError(`No columns to COPY into ${part.table}`);
  }
  const columns = part.columns.map(ident).join(", ");
  const binary = part.data !== undefined ? " WITH (FORMAT binary)" : "";
  return `COPY ${ident(part.table)} (${columns}) FROM ${source}${binary}`;
}
