/**
 * The database coby stores history in, behind one small interface: PostgreSQL
 * through postgres.js, or the embedded PGlite. Both run the same SQL; each
 * bulk-loads with its own COPY.
 *
 * @module
 */

/**
 * Rows for one table of a write batch, as COPY data: binary `data` (what the
 * row builders' `BinaryCopyWriter` in `copy.ts`
 * makes: the fast path) or COPY `text` (hand-written rows in tests and
 * seeds). Set one of the two; when `data` is set, `text` is ignored.
 */
export interface CopyPart {
  /** Table name, e.g. `trades`. */
  readonly table: string;
  /** Column names, in the order of the fields of each row. */
  readonly columns: readonly string[];
  /** Number of rows. */
  readonly rows: number;
  /**
   * The rows in PostgreSQL's binary COPY format, loaded
   * `WITH (FORMAT binary)`: the `PGCOPY` header, per row an int16 field
   * count and per field an int32 length (-1 NULL) and the value's binary
   * form (`timestamptz` int64 µs since 2000-01-01 UTC, `float8` IEEE
   * big-endian, `float8[]` with element oid 701), then an int16 -1.
   */
  readonly data?: Uint8Array<ArrayBuffer>;
  /**
   * The rows in COPY text format, when `data` is absent: one line per row
   * ending in `\n`, fields separated by `\t`, `\N` for NULL, arrays as
   * `{1,2.5,3}`, times as ISO-8601 UTC strings.
   */
  readonly text?: string;
}

/** Which engine a {@link Db} talks to. */
export type DbKind = "postgres" | "pglite";

/** A database connection (or the embedded database), ready for use. */
export interface Db {
  /** The engine. */
  readonly kind: DbKind;
  /** True when the TimescaleDB extension is installed in this database. */
  readonly timescale: boolean;
  /**
   * Runs one parameterized statement.
   * @param text SQL with `$1…$n` placeholders.
   * @param params their values.
   * @returns the rows, as objects keyed by column name: `timestamptz` as
   *   `Date`, `int8` as a number (a bigint past 2^53), `numeric` as a
   *   string, arrays as arrays, on every engine.
   * @throws the driver's error (a lost connection included).
   */
  query<T = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<T[]>;
  /**
   * Runs a script of statements without parameters (a migration) as one
   * simple query: unless it holds BEGIN/COMMIT of its own, it is one
   * implicit transaction, committed whole or not at all.
   * @param sql the statements.
   * @throws the driver's error; nothing of the script is committed then.
   */
  exec(sql: string): Promise<void>;
  /**
   * Writes one batch in one transaction: inserts `id` into `ingest_batches`
   * and, unless it was there already, COPYs every part.
   * @param id the batch's id (unique per batch, stable across retries).
   * @param parts rows per table.
   * @returns true when written now, false when the id was already written.
   * @throws the driver's error; nothing of the batch is committed then.
   */
  writeBatch(id: string, parts: readonly CopyPart[]): Promise<boolean>;
  /**
   * Closes the connection (flushes PGlite's data directory), after the write
   * batches under way. Closing twice is harmless.
   */
  close(): Promise<void>;
}
