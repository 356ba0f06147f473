/**
 * Chaos tests of the store (issue 8): the rows counted at both ends, none
 * missing and none doubled.
 *
 * 1. PostgreSQL unreachable for 30 s mid-replay: `deno task replay` of the
 *    HTX spot capture at 0.45× stores through a TCP proxy (`_tcp_proxy.ts`)
 *    that drops every connection and refuses new ones for 30 s, then
 *    accepts again. The writer spools, comes back and drains before the
 *    replay exits; every trade and liquidation the connections applied
 *    (`--dump` counters, `--events` log) is in the database once, every
 *    applied book snapshot is there, and no book row is doubled.
 * 2. coby killed with SIGKILL while the database is unreachable, then
 *    started again: every batch the killed process had made durable in its
 *    spool is written exactly once by the next process.
 *
 * `deno task replay --store postgres://…` keeps its spool in `data/coby/spool`
 * under the working directory (the replay's `store.dataDir` default; it does
 * not read `COBY_DATA_DIR`), so each child runs in its own temporary
 * directory.
 *
 * @module
 */

import assert from "node:assert/strict";
import { adminSql, withPostgresUrl } from "../actors/store/_testing.ts";
import { Spool } from "../actors/store/spool.ts";
import type { WriteBatch } from "../actors/store/writer.ts";
import { captureFiles } from "./_replay.ts";
import { TcpProxy } from "./_tcp_proxy.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CONFIG = `${ROOT}deno.json`;
const OUTAGE_MS = 30_000;

/** A child `deno run` whose stdout and stderr are collected as they come. */
class Child {
  readonly process: Deno.ChildProcess;
  output = "";
  readonly #pumps: Promise<void>[];

  constructor(args: string[], cwd: string, env: Record<string, string> = {}) {
    this.process = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "-q", "--config", CONFIG, ...args],
      cwd,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#pumps = [this.process.stdout, this.process.stderr].map(async (s) => {
      const dec = new TextDecoder();
      for await (const chunk of s) this.output += dec.decode(chunk);
    });
  }

  /** Sends `signal` (if still running) and waits for the exit. */
  end(signal: Deno.Signal): Promise<Deno.CommandStatus> {
    try {
      this.process.kill(signal);
    } catch {
      // Already exited.
    }
    return this.exit();
  }

  /** Waits for the exit and the last output. */
  async exit(): Promise<Deno.CommandStatus> {
    const status = await this.process.status;
    await Promise.all(this.#pumps);
    return status;
  }
}

/** A free TCP port on 127.0.0.1 (listened on and released). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr;
  l.close();
  return port;
}

/** `url` with its port replaced by the proxy's. */
function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.port = String(proxy.port);
  return u.href;
}

/** Polls `check` every 200 ms until it returns true; throws after `ms`. */
async function until(
  what: string | (() => string),
  ms: number,
  check: () => Promise<boolean> | boolean,
): Promise<void> {
  const end = performance.now() + ms;
  for (;;) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    if (performance.now() > end) {
      throw new Error(
        `Timed out: ${typeof what === "string" ? what : what()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Bytes in the spool segment files of `dir` (0 when none or no dir). */
async function spoolBytes(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && /^spool-\d+\.log$/.test(e.name)) {
        n += (await Deno.stat(`${dir}/${e.name}`)).size;
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return n;
}

/** Rows per exchange of a table. */
async function countByExchange(
  sql: ReturnType<typeof adminSql>,
  table: string,
): Promise<Map<string, number>> {
  const rows = await sql.unsafe<{ exchange: string; n: number }[]>(
    `SELECT exchange, count(*)::int AS n FROM ${table} GROUP BY exchange`,
  );
  return new Map(rows.map((r) => [r.exchange, r.n]));
}

/** Book rows sharing `(exchange, symbol, ts, seq)`: each is a doubled row. */
async function duplicateBookKeys(
  sql: ReturnType<typeof adminSql>,
  table: string,
): Promise<number> {
  const [r] = await sql.unsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table}
       GROUP BY exchange, symbol, ts, seq HAVING count(*) > 1) d`,
  );
  return r.n;
}

/**
 * Applied book events of an events log, counted per `exchange symbol ms`:
 * deltas; snapshots that start a book; and images, snapshots on a book
 * already in sync, which the book keeper stores as the levels they changed
 * (none when the image equals the book).
 */
async function bookLog(path: string): Promise<{
  deltas: Map<string, number>;
  snapshots: Map<string, number>;
  images: Map<string, number>;
}> {
  const deltas = new Map<string, number>();
  const snapshots = new Map<string, number>();
  const images = new Map<string, number>();
  const count = (m: Map<string, number>, key: string) =>
    m.set(key, (m.get(key) ?? 0) + 1);
  /** Each book as the log leaves it: `side price` → size. */
  const books = new Map<string, Map<string, number>>();
  for (const line of (await Deno.readTextFile(path)).split("\n")) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (e.type !== "book_delta" && e.type !== "book_snapshot") continue;
    const key = `${e.exchange} ${e.exchangeSymbol} ${Math.floor(e.localTs)}`;
    const id = `${e.exchange} ${e.exchangeSymbol}`;
    const before = books.get(id);
    const book = e.type === "book_delta" && before
      ? new Map(before)
      : new Map<string, number>();
    for (const [side, levels] of [["b", e.bids], ["a", e.asks]] as const) {
      for (const [price, size] of levels as number[][]) {
        if (size > 0) book.set(`${side} ${price}`, size);
        else book.delete(`${side} ${price}`);
      }
    }
    books.set(id, book);
    if (e.type === "book_delta") count(deltas, key);
    else if (!before) count(snapshots, key);
    else if (
      before.size !== book.size ||
      [...book].some(([level, size]) => before.get(level) !== size)
    ) count(images, key);
  }
  return { deltas, snapshots, images };
}

/** Rows of a book table counted per `exchange symbol ms`. */
async function bookKeys(
  sql: ReturnType<typeof adminSql>,
  table: string,
): Promise<Map<string, number>> {
  const rows = await sql.unsafe<{ k: string; n: number }[]>(
    `SELECT exchange || ' ' || symbol || ' ' ||
       (extract(epoch FROM ts) * 1000)::bigint AS k, count(*)::int AS n
     FROM ${table} GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.k, r.n]));
}

/** Waits for a child's exit, at most `ms`; throws naming `what` after. */
async function exited(
  child: Child,
  what: string,
  ms: number,
): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not exit within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([child.exit(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reruns `fn`, rethrowing its error with the tail of the children's output. */
async function explained(
  children: () => Child[],
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const tails = children().map((c) => c.output.slice(-3000)).join(
      "\n--- next child ---\n",
    );
    throw new Error(
      `${(e as Error).message}\n--- output (tail) ---\n${tails}`,
      {
        cause: e,
      },
    );
  }
}

Deno.test({
  name:
    "store chaos: PostgreSQL unreachable for 30 s mid-replay, every row written once",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withPostgresUrl(async (direct) => {
    const proxy = TcpProxy.start();
    const dir = await Deno.makeTempDir({ prefix: "coby_chaos_" });
    const sql = adminSql(direct);
    const spoolDir = `${dir}/data/coby/spool`;
    // HTX spot: 29 s of recorded data, a full book of each of 10 symbols
    // every second, and trades; at 0.45× the replay lasts about 65 s. The
    // writer retries with backoff capped at 30 s, so after the 30 s outage
    // it is back within about 60 s of the cut, while the replay still runs
    // (`--dump` exits when the captures end, spooling what it could not
    // write). Only one capture: a connection silent for 30 s reconnects
    // and the simulator serves its capture again.
    const files = await Promise.all(
      captureFiles("HUOBI").map((f) => Deno.realPath(f)),
    );
    const child = new Child([
      `${ROOT}http/cli/replay.ts`,
      ...files,
      "--speed",
      "0.45",
      "--dump",
      `${dir}/dump.json`,
      "--events",
      `${dir}/events.ndjson`,
      "--store",
      viaProxy(direct, proxy),
    ], dir);
    try {
      await explained(() => [child], async () => {
        // Rows reach the database before the outage.
        await until("a first batch written", 30_000, async () => {
          const [r] = await sql`SELECT count(*)::int AS n FROM ingest_batches`;
          return r.n > 0;
        });
        await new Promise((r) => setTimeout(r, 1000));
        const [before] =
          await sql`SELECT count(*)::int AS n FROM ingest_batches`;
        const cutAt = performance.now();
        assert.ok(proxy.cut() > 0, "connections to drop");
        // While PostgreSQL is unreachable, batches go to the fsynced spool.
        await until(
          "batches spooled",
          OUTAGE_MS - 2000,
          async () => await spoolBytes(spoolDir) > 0,
        );
        await new Promise((r) =>
          setTimeout(r, Math.max(0, cutAt + OUTAGE_MS - performance.now()))
        );
        const [during] =
          await sql`SELECT count(*)::int AS n FROM ingest_batches`;
        assert.ok(
          during.n - before.n <= 1,
          `${during.n - before.n} batches committed during the outage`,
        );
        proxy.open();
        const status = await exited(child, "the replay", 60_000);
        assert.equal(status.code, 0);

        // Spooled, back, drained: nothing left for a next start.
        assert.match(child.output, /Database failing, spooling/);
        assert.match(child.output, /Database back after [\d.]+ s/);
        // No batch lost to a failed append, quarantined or dropped.
        assert.doesNotMatch(
          child.output,
          /Spool append failed|Quarantine append failed|refused \d+ times/,
        );
        assert.equal(await spoolBytes(spoolDir), 0, "spool left behind");

        // Trades and liquidations: exactly what each exchange applied, by
        // its counters (`--dump`) and by the events log.
        const dump = JSON.parse(await Deno.readTextFile(`${dir}/dump.json`));
        const applied = new Map<string, Record<string, number>>();
        for (
          const line of (await Deno.readTextFile(`${dir}/events.ndjson`))
            .split("\n")
        ) {
          if (!line) continue;
          const e = JSON.parse(line);
          const c = applied.get(e.exchange) ??
            applied.set(e.exchange, {}).get(e.exchange)!;
          c[e.type] = (c[e.type] ?? 0) + 1;
        }
        const trades = await countByExchange(sql, "trades");
        const liquidations = await countByExchange(sql, "liquidations");
        assert.deepEqual(Object.keys(dump.stats), ["huobi"]);
        for (
          const [ex, s] of Object.entries(dump.stats) as [
            string,
            Record<string, number>,
          ][]
        ) {
          assert.ok(s.trades > 0);
          assert.equal(applied.get(ex)?.trade ?? 0, s.trades, `${ex} logged`);
          assert.equal(trades.get(ex) ?? 0, s.trades, `${ex} trades`);
          assert.equal(
            liquidations.get(ex) ?? 0,
            s.liquidations,
            `${ex} liquidations`,
          );
        }
        assert.deepEqual([...trades.keys()], ["huobi"]);

        // Book rows. A snapshot that starts a book is a `book_snapshots` row
        // at its receive ms; the connection also pushes keyframes on its own
        // (each book in full when its event clock crosses a minute, and to a
        // new link), at most two per book in a capture shorter than a
        // minute. An applied delta (HTX sends none) and an image that changed
        // a book in sync (HTX sends one a second) are `book_changes` rows.
        const logged = await bookLog(`${dir}/events.ndjson`);
        const changes = await bookKeys(sql, "book_changes");
        const snapshots = await bookKeys(sql, "book_snapshots");
        const changed = new Map(logged.images);
        for (const [key, n] of logged.deltas) {
          changed.set(key, (changed.get(key) ?? 0) + n);
        }
        assert.ok(logged.images.size > 100);
        assert.deepEqual(changes, changed);
        assert.ok(logged.snapshots.size > 0, "no starting snapshots logged");
        for (const [key, n] of logged.snapshots) {
          assert.ok(
            (snapshots.get(key) ?? 0) >= n,
            `book_snapshots at ${key}: ${snapshots.get(key)} < ${n}`,
          );
        }
        const extra = new Map<string, number>();
        for (const [key, n] of snapshots) {
          const more = n - (logged.snapshots.get(key) ?? 0);
          const book = key.split(" ").slice(0, 2).join(" ");
          if (more > 0) extra.set(book, (extra.get(book) ?? 0) + more);
        }
        for (const [book, n] of extra) {
          assert.ok(n <= 2, `${book}: ${n} keyframes besides its snapshots`);
        }
        for (const t of ["book_changes", "book_snapshots"]) {
          assert.equal(await duplicateBookKeys(sql, t), 0, `${t} doubled`);
        }
      });
    } finally {
      await child.end("SIGKILL");
      await sql.end();
      await proxy.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test({
  name:
    "store chaos: coby killed with SIGKILL while spooling, the next start writes every spooled batch once",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await withPostgresUrl(async (direct) => {
    // PostgreSQL unreachable from the start: every batch goes to the spool.
    const proxy = TcpProxy.start({ refusing: true });
    const dir = await Deno.makeTempDir({ prefix: "coby_chaos_" });
    const sql = adminSql(direct);
    const spoolDir = `${dir}/data/coby/spool`;
    const url = viaProxy(direct, proxy);
    const files = await Promise.all(
      captureFiles("HUOBI").map((f) => Deno.realPath(f)),
    );
    const replay = new Child([
      `${ROOT}http/cli/replay.ts`,
      ...files,
      "--store",
      url,
      "--port",
      String(freePort()),
    ], dir);
    let start: Child | undefined;
    try {
      await explained(() => [replay, ...(start ? [start] : [])], async () => {
        // A few seconds of spooling, then SIGKILL mid-stream: no stop, no
        // last flush. The writer spools a batch every 250 ms while the
        // database fails, fsynced before it counts as spooled; a kill loses
        // only what is not in the spool yet (rows of the last flush
        // interval, an append under way: a torn tail the next start skips).
        await until(
          "batches spooled",
          30_000,
          async () => await spoolBytes(spoolDir) > 0,
        );
        await new Promise((r) => setTimeout(r, 3000));
        assert.doesNotMatch(replay.output, /captures delivered/);
        assert.match(replay.output, /Database failing, spooling/);
        const killed = await replay.end("SIGKILL");
        assert.equal(killed.signal, "SIGKILL");

        // What the killed process left, read from a copy (reading a spool
        // drains it): its batches' ids and rows per table.
        const copy = `${dir}/copy`;
        await Deno.mkdir(copy);
        for await (const e of Deno.readDir(spoolDir)) {
          if (e.isFile) {
            await Deno.copyFile(`${spoolDir}/${e.name}`, `${copy}/${e.name}`);
          }
        }
        const left = await Spool.open<WriteBatch>(copy, { warn: () => {} });
        const ids: string[] = [];
        const rows = new Map<string, number>();
        for (let b = await left.peek(); b; b = await left.peek()) {
          ids.push(b.id);
          for (const p of b.parts) {
            rows.set(p.table, (rows.get(p.table) ?? 0) + p.rows);
          }
          await left.shift();
        }
        const torn = left.corrupt;
        await left.close();
        assert.ok(ids.length >= 5, `${ids.length} batches spooled`);
        assert.ok(torn <= 1, `${torn} corrupt records`);
        assert.ok((rows.get("book_snapshots") ?? 0) > 0);
        assert.equal(new Set(ids).size, ids.length);

        // The database is back; coby starts again on the same data
        // directory with no exchange, so the only rows it can write are
        // the spooled ones.
        proxy.open();
        await Deno.writeTextFile(
          `${dir}/coby.json`,
          JSON.stringify({ exchanges: {} }),
        );
        start = new Child([`${ROOT}http/cli/start.ts`], dir, {
          COBY_CONFIG: `${dir}/coby.json`,
          DATABASE_URL: url,
          COBY_DATA_DIR: `${dir}/data/coby`,
          HOST: "127.0.0.1",
          PORT: String(freePort()),
        });
        await until("the spool drained", 30_000, async () => {
          const [r] = await sql`SELECT count(*)::int AS n FROM ingest_batches`;
          return r.n >= ids.length && await spoolBytes(spoolDir) === 0;
        });
        const stopped = await start.end("SIGTERM");
        assert.equal(stopped.code, 0);

        // Every spooled batch written exactly once, and nothing else.
        const written = await sql<
          { id: string }[]
        >`SELECT id FROM ingest_batches`;
        assert.deepEqual(written.map((r) => r.id).sort(), [...ids].sort());
        for (const [table, n] of rows) {
          const [r] = await sql.unsafe<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM ${table}`,
          );
          assert.equal(r.n, n, `${table} rows`);
        }
        for (const t of ["book_changes", "book_snapshots"]) {
          assert.equal(await duplicateBookKeys(sql, t), 0, `${t} doubled`);
        }
        assert.equal(await spoolBytes(spoolDir), 0);
      });
    } finally {
      await replay.end("SIGKILL");
      await start?.end("SIGKILL");
      await sql.end();
      await proxy.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});
