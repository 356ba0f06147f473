/**
 * Schema migrations: the numbered SQL files in `sql/` (both paths) and in
 * `sql/plain/` or `sql/timescale/` (the path of the database), applied in
 * order of their number, a shared file before a path file of the same number.
 *
 * Each migration runs as one transaction, together with its row in
 * `coby_migrations` (`version` `001` for `sql/001_*.sql`, `plain/002` for
 * `sql/plain/002_*.sql`); an applied version is never run again. Every
 * migration transaction first takes a transaction-level advisory lock, so two
 * processes migrating one database at once apply each file once: the second
 * waits, then finds the version recorded and skips it.
 *
 * @module
 */

import type { Db } from "./db.ts";

/** One migration file. */
export interface Migration {
  /** `001` (shared) or `plain/002`, `timescale/002` (one path). */
  readonly version: string;
  /** The file name's text after the number, e.g. `tables`. */
  readonly name: string;
  /** The statements. */
  readonly sql: string;
}

/** What {@link migrate} reads and the ages it configures. */
export interface MigrateOptions {
  /**
   * The folder holding the shared files and the `plain/` and `timescale/`
   * folders.
   * @default the repository's `sql/`
   */
  readonly dir?: URL;
  /**
   * TimescaleDB: age after which chunks are dropped, in ms (the retention
   * policies set by `sql/timescale/004_policies.sql`).
   * @default 30 days
   */
  readonly retentionMs?: number;
  /**
   * TimescaleDB: age after which chunks are compressed, in ms.
   * @default 1 day
   */
  readonly compressAfterMs?: number;
}

const SQL_DIR = new URL("../../sql/", import.meta.url);
const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;
const LOCK = "SELECT pg_advisory_xact_lock(hashtext('coby_migrations'));";
const DAY_MS = 86_400_000;

/** The migration files of one folder, with their number. */
async function readFolder(
  dir: URL,
  scope: string,
): Promise<{ n: number; migration: Migration }[]> {
  const out: { n: number; migration: Migration }[] = [];
  const seen = new Set<number>();
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".sql")) continue;
    const m = FILE.exec(entry.name);
    if (!m) {
      throw new Error(`Invalid migration file name: ${scope}${entry.name}`);
    }
    const n = Number(m[1]);
    if (seen.has(n)) {
      throw new Error(`Duplicate migration number: ${scope}${m[1]}`);
    }
    seen.add(n);
    const sql = await Deno.readTextFile(new URL(entry.name, dir));
    out.push({ n, migration: { version: scope + m[1], name: m[2], sql } });
  }
  return out;
}

/**
 * The migrations of one path, in the order they apply.
 * @param timescale true for the TimescaleDB path, false for the plain one.
 * @param dir the folder of the shared files (with `plain/` and `timescale/`).
 * @returns shared and path files by number, a shared file first on a tie.
 * @throws {Error} when a `.sql` file is not named `NNN_name.sql` or a number
 *   repeats within a folder; the file system's error when a folder is
 *   missing.
 *
 * @example
 * ```ts
 * const plain = await loadMigrations(false);
 * // [{ version: "001", … }, { version: "plain/002", … }, …]
 * ```
 */
export async function loadMigrations(
  timescale: boolean,
  dir: URL = SQL_DIR,
): Promise<Migration[]> {
  const path = timescale ? "timescale" : "plain";
  const shared = await readFolder(dir, "");
  const own = await readFolder(new URL(`${path}/`, dir), `${path}/`);
  return [
    ...shared.map((f) => ({ ...f, shared: 0 })),
    ...own.map((f) => ({ ...f, shared: 1 })),
  ].sort((a, b) => a.n - b.n || a.shared - b.shared).map((f) => f.migration);
}

/** A positive whole number of ms as an SQL interval literal. */
function interval(ms: number, key: string): string {
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new RangeError(`Invalid ${key}: ${ms} (a positive whole ms)`);
  }
  return `'${ms} milliseconds'`;
}

/** An SQL string literal. */
function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** True for a unique violation of `coby_migrations`' key. */
function alreadyRecorded(err: unknown): boolean {
  const e = err as {
    code?: unknown;
    constraint_name?: unknown;
    constraint?: unknown;
    message?: unknown;
  };
  return e?.code === "23505" && String(e.message).includes("coby_migrations");
}

/**
 * Applies every migration of the database's path not yet recorded.
 *
 * @param db the database; `db.timescale` picks the path.
 * @param options the folder and the TimescaleDB ages.
 * @returns the versions applied now, in order (empty when up to date).
 * @throws {Error} naming the version when a migration fails (nothing of it is
 *   committed, and it stays unrecorded), or when the database was migrated for
 *   the other path (TimescaleDB present before and missing now, or the
 *   reverse).
 * @throws {RangeError} when an age is not a positive whole number of ms.
 *
 * @example
 * ```ts
 * const db = await openPglite({ dataDir: "data/pglite" });
 * await migrate(db); // ["001", "plain/002", "plain/003"] the first time
 * await migrate(db); // []
 * ```
 */
export async function migrate(
  db: Db,
  options: MigrateOptions = {},
): Promise<string[]> {
  const settings = `SELECT set_config('coby.retention', ${
    interval(options.retentionMs ?? 30 * DAY_MS, "retentionMs")
  }, true), set_config('coby.compress_after', ${
    interval(options.compressAfterMs ?? DAY_MS, "compressAfterMs")
  }, true);`;
  const migrations = await loadMigrations(db.timescale, options.dir);
  await db.exec(`${LOCK}
    CREATE TABLE IF NOT EXISTS coby_migrations (
      version text PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    );`);
  const done = new Set(
    (await db.query<{ version: string }>(
      "SELECT version FROM coby_migrations",
    )).map((r) => r.version),
  );
  const other = db.timescale ? "plain/" : "timescale/";
  const foreign = [...done].find((v) => v.startsWith(other));
  if (foreign) {
    throw new Error(
      `Database was migrated for the ${other.slice(0, -1)} path (${foreign}) ` +
        `but TimescaleDB is ${db.timescale ? "present" : "missing"} now`,
    );
  }
  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    try {
      await db.exec(`${LOCK}
${settings}
INSERT INTO coby_migrations (version, name)
  VALUES (${literal(m.version)}, ${literal(m.name)});
${m.sql}`);
    } catch (err) {
      if (alreadyRecorded(err)) continue;
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`Migration ${m.version} (${m.name}) failed: ${msg}`, {
        cause: err,
      });
    }
    applied.push(m.version);
  }
  return applied;
}
