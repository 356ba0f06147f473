/**
 * Opening coby's database: PostgreSQL when a URL is configured, otherwise the
 * embedded PGlite in a data directory; migrated before it is handed out.
 *
 * @module
 */

import type { Db } from "./db.ts";
import { migrate } from "./migrate.ts";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";

/** Where coby's database is. */
export interface OpenDbOptions {
  /**
   * PostgreSQL URL (`postgres://…` or `postgresql://…`, e.g. from
   * `DATABASE_URL`); when set, `dataDir` is not used.
   * @default undefined
   */
  readonly url?: string;
  /**
   * PGlite data directory, used when `url` is not set (created when
   * missing).
   * @default undefined
   */
  readonly dataDir?: string;
  /**
   * TimescaleDB: age after which chunks are dropped, in ms (set when the
   * policies are first created).
   * @default 30 days
   */
  readonly retentionMs?: number;
  /**
   * TimescaleDB: age after which chunks are compressed, in ms.
   * @default 1 day
   */
  readonly compressAfterMs?: number;
}

/**
 * Opens the database and applies the migrations it lacks.
 * @param options the URL or the data directory, and the TimescaleDB ages.
 * @returns the migrated database.
 * @throws {TypeError} when `url` is not a `postgres://` or `postgresql://` URL
 *   (the message names only its scheme), or neither `url` nor `dataDir` is
 *   set.
 * @throws the driver's error when the database cannot be reached or opened,
 *   or the migration's error (the connection is closed then).
 *
 * @example
 * ```ts
 * const db = await openDb({
 *   url: Deno.env.get("DATABASE_URL"),
 *   dataDir: "data/pglite",
 * });
 * ```
 */
export async function openDb(options: OpenDbOptions): Promise<Db> {
  const { url, dataDir } = options;
  let db: Db;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? "(none)";
      throw new TypeError(
        `Invalid database URL scheme: ${
          scheme.slice(0, 20)
        } (want postgres://)`,
      );
    }
    db = await openPostgres(url);
  } else if (dataDir) {
    db = await openPglite({ dataDir });
  } else {
    throw new TypeError("Neither a database URL nor a data directory is set");
  }
  try {
    await migrate(db, options);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
