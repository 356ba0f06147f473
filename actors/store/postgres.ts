/**
 * The PostgreSQL driver: a {@link Db} over postgres.js. Write batches are one
 * transaction each, the rows streamed with `COPY … FROM STDIN`. A lost
 * connection rejects the call in flight (a terminated backend, a closed
 * socket); the next call opens a new connection.
 *
 * Around postgres.js 3.4.9's handling of a connection that dies (checked
 * against its source):
 * - A connection closed while a write of it was pending stays broken (its
 *   write timer is cleared but not reset); a statement queued on a socket
 *   that errored is never answered; and a `sql.begin` transaction whose
 *   connection dies writes its ROLLBACK to the dead socket, an uncaught
 *   TypeError that ends the process (porsager/postgres#1208). So a client is
 *   retired and replaced as soon as one of its connections closes or a call
 *   fails with a connection error (connections are never closed by idle or
 *   lifetime timers here, so every close is a loss). Write batches run their
 *   own BEGIN … COMMIT on a client of one connection, issue nothing more on
 *   it once it closed, and on any failure end that connection instead of
 *   sending ROLLBACK (the server rolls back a closed session's transaction).
 * - A COPY the server rejects after the rows were sent never settles its
 *   writable (porsager/postgres#1173): see `copyIn`.
 *
 * @module
 */

import postgres from "postgres";
import net from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { copyCommand } from "./_sql.ts";
import type { CopyPart, Db } from "./db.ts";

/** How {@link openPostgres} connects. */
export interface PostgresOptions {
  /**
   * Connections for queries; write batches have one of their own besides.
   * @default 4
   */
  readonly max?: number;
  /**
   * Seconds to wait for a connection (TCP and startup) before the call
   * that needed it rejects.
   * @default 10
   */
  readonly connectTimeoutS?: number;
  /**
   * Seconds of silence before TCP keepalive probes start on a connection,
   * so a peer that vanished without closing is eventually noticed.
   * @default 30
   */
  readonly keepAliveS?: number;
  /**
   * Seconds a write batch may take before its connection is closed and the
   * batch rejects (nothing of it committed): bounds a batch stuck on a
   * connection that vanished without a reset, which TCP alone would notice
   * only after many minutes.
   * @default 120
   */
  readonly writeTimeoutS?: number;
  /**
   * `application_name` of the connections (shows in `pg_stat_activity`);
   * the write batches' connection adds `_writer`.
   * @default "coby"
   */
  readonly applicationName?: string;
}

/** COPY data is streamed in pieces of about this many bytes (or UTF-16 code units). */
const CHUNK = 1 << 20;

/**
 * The pieces of a part's rows, about {@link CHUNK} long: binary data cut
 * anywhere, text at line ends (so no piece splits a character).
 */
function* pieces(rows: string | Uint8Array): Generator<string | Uint8Array> {
  if (typeof rows !== "string") {
    for (let at = 0; at < rows.length; at += CHUNK) {
      yield rows.subarray(at, at + CHUNK);
    }
    return;
  }
  let at = 0;
  while (at < rows.length) {
    let end = rows.indexOf("\n", Math.min(at + CHUNK, rows.length) - 1);
    end = end < 0 ? rows.length : end + 1;
    yield rows.slice(at, end);
    at = end;
  }
}

/**
 * Streams `rows` (binary COPY data or COPY text, as `command` says) into
 * `COPY … FROM STDIN` and waits for the server's verdict.
 *
 * postgres.js 3.4.9 never settles the writable when the server rejects the
 * rows after the stream ended (porsager/postgres#1173): it hands the error
 * only to the query, whose promise already resolved with the stream, so a
 * plain `pipeline` would wait forever. The query's `reject` is wrapped to
 * catch that error too.
 *
 * @throws the server's error (bad rows), or the connection's.
 */
async function copyIn(
  sql: postgres.Sql,
  command: string,
  rows: string | Uint8Array,
): Promise<void> {
  const query = sql.unsafe(command);
  const internal = query as unknown as { reject?: (err: unknown) => void };
  const reject = internal.reject;
  if (typeof reject !== "function") {
    throw new Error(
      "postgres.js without Query.reject: check copyIn's workaround",
    );
  }
  let fail: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, r) => fail = r);
  failed.catch(() => {}); // Settled too when nobody waits for it any more.
  internal.reject = (err) => {
    fail(err);
    reject(err);
  };
  const sink = await query.writable();
  await Promise.race([
    pipeline(Readable.from(pieces(rows)), sink),
    failed,
  ]);
}

/** Where postgres.js's parsed options say to connect. */
interface Target {
  readonly host: readonly string[];
  readonly port: readonly number[];
  readonly path?: string | false;
}

/**
 * A socket factory for postgres.js's `socket` option: TCP with Nagle's
 * algorithm off. postgres.js sends a COPY's rows and its CopyDone as two
 * small writes; with Nagle on, the second waits for the server's delayed ACK,
 * 86 ms per small COPY here against 1 ms without. postgres.js takes such a
 * socket as connected and writes at once; node:net holds the writes until
 * the connection is up, and postgres.js's connect timeout still runs. Hosts
 * are tried in turn, one per connection.
 */
function noDelaySocket(): (target: Target) => net.Socket {
  let next = 0;
  return (target) => {
    let socket: net.Socket;
    if (target.path) socket = net.connect(target.path);
    else {
      const i = next++ % target.host.length;
      socket = net.connect({
        host: target.host[i],
        port: target.port[i] ?? target.port[0],
      });
    }
    socket.setNoDelay(true);
    return socket;
  };
}

/**
 * `int8` as a number, like PGlite, or a bigint past 2^53 (postgres.js would
 * give a string).
 */
function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/**
 * Whether the TimescaleDB extension is installed, installing it first when
 * the server offers it. An install that fails (the library not preloaded,
 * too few rights) leaves the plain path.
 */
async function detectTimescale(sql: postgres.Sql): Promise<boolean> {
  const installed = () =>
    sql`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`;
  if ((await installed()).length > 0) return true;
  const available = await sql`
    SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`;
  if (available.length === 0) return false;
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`;
  } catch {
    // E.g. "extension "timescaledb" must be preloaded": run without it.
    return false;
  }
  return (await installed()).length > 0;
}

/** A postgres.js client, until it is retired. */
interface Lease {
  readonly sql: postgres.Sql;
  /** True once the client is retired or one of its connections closed. */
  readonly lost: () => boolean;
  /**
   * Retires the client: the next lease gets a new one, and this one is ended,
   * its calls in flight given `graceS` seconds before they are rejected.
   */
  readonly retire: (graceS: number) => void;
}

/**
 * Hands out one postgres.js client until it is retired or one of its
 * connections closes (then it is retired with 5 s of grace), then a new one.
 */
function renewing(open: (onclose: () => void) => postgres.Sql): {
  lease(): Lease;
  end(): Promise<void>;
} {
  interface Entry {
    readonly sql: postgres.Sql;
    closed: boolean;
    retired: boolean;
  }
  let current: Entry | undefined;
  const ending = new Set<Promise<void>>();
  const retire = (entry: Entry, graceS: number) => {
    if (entry.retired) return;
    entry.retired = entry.closed = true;
    if (current === entry) current = undefined;
    const done: Promise<void> = entry.sql.end({ timeout: graceS })
      .catch(() => {}).finally(() => ending.delete(done));
    ending.add(done);
  };
  return {
    lease() {
      if (current?.closed) retire(current, 5);
      if (!current) {
        const flags = { closed: false, retired: false };
        const sql = open(() => flags.closed = true);
        current = Object.assign(flags, { sql });
      }
      const entry = current;
      return {
        sql: entry.sql,
        lost: () => entry.closed,
        retire: (graceS) => retire(entry, graceS),
      };
    },
    async end() {
      if (current) retire(current, 5);
      await Promise.all(ending);
    },
  };
}

/**
 * Whether an error leaves the connection unusable: anything but an ordinary
 * server error (a socket error, postgres.js's `CONNECTION_*`, a FATAL one
 * such as a terminated backend's).
 */
function connectionError(err: unknown): boolean {
  if (!(err instanceof postgres.PostgresError)) return true;
  return err.severity === "FATAL" || err.severity === "PANIC" ||
    err.code.startsWith("08") || err.code.startsWith("57P");
}

/** Thrown into a write batch whose connection closed between statements. */
function lostConnection(): Error {
  return Object.assign(
    new Error("Connection lost inside a write batch; nothing was committed"),
    { code: "CONNECTION_CLOSED" },
  );
}

/**
 * Connects to PostgreSQL (no migrations: see `openDb`).
 *
 * Results: `timestamptz` as `Date`, `int8` as a number (a bigint past 2^53),
 * `numeric` as a string, arrays as arrays. Calls may run concurrently; write
 * batches run one at a time, in call order.
 *
 * @param url `postgres://user:password@host:port/database` (or
 *   `postgresql://`).
 * @param options pool size and timeouts.
 * @returns the connected database; `timescale` is true when TimescaleDB is
 *   installed (or could be installed now).
 * @throws the driver's error when the server cannot be reached within
 *   `connectTimeoutS` or refuses the login.
 *
 * @example Connect, query, close
 * ```ts
 * const db = await openPostgres("postgres://postgres@127.0.0.1:5432/coby");
 * const [row] = await db.query<{ n: number }>("SELECT count(*) AS n FROM trades");
 * await db.close();
 * ```
 */
export async function openPostgres(
  url: string,
  options: PostgresOptions = {},
): Promise<Db> {
  const name = options.applicationName ?? "coby";
  const client =
    (max: number, application_name: string) =>
    (onclose: () => void): postgres.Sql =>
      postgres(url, {
        max,
        connect_timeout: options.connectTimeoutS ?? 10,
        keep_alive: options.keepAliveS ?? 30,
        idle_timeout: 0,
        max_lifetime: 0,
        onclose,
        onnotice: () => {},
        // Not in postgres.js's types; see noDelaySocket.
        ...{ socket: noDelaySocket() },
        connection: { application_name },
        types: {
          int8: {
            to: 20,
            from: [20],
            serialize: (x: number | bigint) => String(x),
            parse: parseInt8,
          },
        },
      });
  const writeTimeoutMs = (options.writeTimeoutS ?? 120) * 1000;
  const pool = renewing(client(options.max ?? 4, name));
  const writer = renewing(client(1, `${name}_writer`));
  let timescale: boolean;
  try {
    timescale = await onPool(detectTimescale);
  } catch (err) {
    await pool.end();
    throw err;
  }

  /** One batch on the writer's single connection, BEGIN … COMMIT. */
  async function write(
    id: string,
    parts: readonly CopyPart[],
    commands: readonly string[],
  ): Promise<boolean> {
    const { sql, lost, retire } = writer.lease();
    // Closing the connection rejects whatever of the batch is in flight.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      retire(0);
    }, writeTimeoutMs);
    // Each statement is issued only while the connection that ran BEGIN is
    // open: after a loss the client would run it on a new connection,
    // outside the transaction.
    const live = () => {
      if (lost()) throw lostConnection();
      return sql;
    };
    try {
      await live()`BEGIN`;
      const fresh = await live()`
        INSERT INTO ingest_batches (id) VALUES (${id})
        ON CONFLICT DO NOTHING RETURNING id`;
      for (let i = 0; fresh.length > 0 && i < parts.length; i++) {
        const p = parts[i];
        if (p.rows > 0) {
          await copyIn(live(), commands[i], p.data ?? p.text ?? "");
        }
      }
      // If the connection goes before COMMIT is answered, the batch may be
      // committed though this rejects: a retry then finds its id.
      await live()`COMMIT`;
      return fresh.length > 0;
    } catch (err) {
      // No ROLLBACK: after a connection error a statement can be lost
      // unanswered (postgres.js drops what is queued on a socket that
      // errored). Closing the connection rolls the transaction back.
      retire(0);
      if (!timedOut) throw err;
      throw Object.assign(
        new Error(
          `Write batch ${id} timed out after ${writeTimeoutMs} ms; nothing was committed`,
          { cause: err },
        ),
        { code: "WRITE_TIMEOUT" },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** `run` on the pool's client, retired when it fails by the connection. */
  async function onPool<T>(run: (sql: postgres.Sql) => Promise<T>) {
    const lease = pool.lease();
    try {
      return await run(lease.sql);
    } catch (err) {
      if (connectionError(err)) lease.retire(5);
      throw err;
    }
  }

  let queue: Promise<unknown> = Promise.resolve();
  function writeBatch(
    id: string,
    parts: readonly CopyPart[],
  ): Promise<boolean> {
    let commands: string[];
    try {
      commands = parts.map((p) => copyCommand(p, "STDIN"));
    } catch (err) {
      return Promise.reject(err);
    }
    const run = queue.then(() => write(id, parts, commands));
    queue = run.catch(() => {});
    return run;
  }

  return {
    kind: "postgres",
    timescale,
    async query<T>(text: string, params: readonly unknown[] = []) {
      const rows = await onPool((sql) =>
        sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])
      );
      return Array.from(rows) as unknown as T[];
    },
    async exec(script: string) {
      await onPool((sql) => sql.unsafe(script));
    },
    writeBatch,
    async close() {
      await queue;
      await Promise.all([pool.end(), writer.end()]);
    },
  };
}
