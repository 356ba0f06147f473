/**
 * `deno task replay <capture files…> [--speed N|max] [--from T] [--to T] [--dump out.json] [--events out.ndjson] [--depth N] [--host H] [--port N] [--allow-host NAME …] [--tick ms] [--alias USDT=USD …] [--store DIR|postgres://…|none] [--via-simulator]`
 *
 * Runs one replay session on capture files (cryptofeed's raw format,
 * tardis.dev's raw format, coby's own recordings; gzip or not): the frames
 * go through the same adapters and book keeper as live, without sockets,
 * paced at `--speed` over `[--from, --to)` (ISO-8601 or epoch ms; default
 * the whole capture). With `--dump` it exits when the session ends and
 * writes the books and counters; without it, it serves the viewer for that
 * session on `--host` (default 127.0.0.1, loopback only), prints its
 * address, shows a progress bar on a terminal, prints where the capture
 * ends, and keeps the viewer up on the final state without playing it
 * again. The viewer answers requests whose `Host` is a loopback name, the
 * bind address or an `--allow-host` name (DNS rebinding protection).
 *
 * `--via-simulator` replays through the exchange simulator instead: real
 * sockets against the recorded traffic, the connection actors as live.
 *
 * What it replays is written into the store, as live data is: by default the
 * configured one (`DATABASE_URL`, else the PGlite directory `COBY_DATA_DIR`,
 * else `data/coby`), so a capture can be imported and then queried;
 * `--store DIR` or `--store postgres://…` picks another, `--store none`
 * stores nothing. With `REDIS_URL` set, it publishes on Redis as a live
 * process does (so `deno task serve` can serve it).
 *
 * Every failure ends with one line on stderr and a non-zero exit: 2 for a
 * bad command line, 1 for anything else (an unreadable or unsupported
 * capture, a busy port, a replay that does not finish).
 *
 * @module
 */

import { createApp } from "../app.ts";
import { Replay } from "../../actors/system/capture_replay.ts";
import { parseConfig } from "../../actors/system/config.ts";
import { type Coby, startCoby } from "../../actors/system/start.ts";
import type { ReplayProgress } from "../../actors/market/requests.ts";
import { listen, oneLine } from "./_listen.ts";
import { processLog } from "../../runtime/log.ts";

/** The command line, as printed with a usage error. */
export const USAGE =
  "deno task replay <capture files…> [--speed N|max] [--from T] [--to T] [--dump out.json] [--events out.ndjson] [--depth N] [--host H] [--port N] [--allow-host NAME …] [--tick ms] [--alias USDT=USD …] [--store DIR|postgres://…|none] [--via-simulator]";

/** A parsed `deno task replay` command line. */
export interface ReplayArgs {
  /** Capture files, in the order given. */
  files: string[];
  /** Playback speed: a multiple of real time, or `max`. */
  speed: number | "max";
  /** Start of the range, ms since epoch; absent: the capture's start. */
  from?: number;
  /** End of the range (exclusive), ms since epoch; absent: the capture's end. */
  to?: number;
  /** Replay through the exchange simulator (sockets) instead of a session. */
  viaSimulator: boolean;
  /** Where to write the final books and counters; absent: serve the viewer. */
  dump?: string;
  /** Where to write every applied event as NDJSON. */
  events?: string;
  /** Levels per side in the dump. */
  depth: number;
  /** Address the viewer listens on. */
  host: string;
  /** Port of the viewer. */
  port: number;
  /** Host names the viewer answers besides loopback names and `host`. */
  allowHosts: string[];
  /** Heatmap tick, ms. */
  tick: number;
  /** Quote currencies consolidated as one, e.g. `{USDT: "USD"}`. */
  aliases: Record<string, string>;
  /**
   * Where the replayed data is stored: a PostgreSQL URL, a PGlite data
   * directory, `none`, or absent for the configured store.
   */
  store?: string;
}

/** Thrown for a bad command line; the message names the bad option or value. */
export class UsageError extends Error {
  /**
   * Makes the error.
   * @param message what is wrong, naming the option and its value.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Reads one option value; throws a {@link UsageError} naming it when bad. */
type Reader = (value: string, name: string) => unknown;

const positiveInt: Reader = (v, name) => {
  if (!/^\d+$/.test(v) || +v <= 0) {
    throw new UsageError(`Invalid --${name} "${v}": not a positive integer`);
  }
  return +v;
};

/** A time: ISO-8601 with a zone, or epoch ms. */
const time: Reader = (v, name) => {
  const ms = /^\d+$/.test(v)
    ? +v
    : /^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:?\d\d)$/.test(v)
    ? Date.parse(v)
    : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `Invalid --${name} "${v}": not an ISO-8601 time with a zone (2021-10-12T00:28:40Z) or epoch ms`,
    );
  }
  return ms;
};

/** Options and their readers. */
const OPTIONS: Readonly<Record<string, Reader>> = {
  speed: (v, name) => {
    if (v === "max") return v;
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < 0.1 || n > 1000) {
      throw new UsageError(
        `Invalid --${name} "${v}": not a number from 0.1 to 1000, or max`,
      );
    }
    return n;
  },
  from: time,
  to: time,
  dump: (v) => v,
  events: (v) => v,
  store: (v, name) => {
    if (v.trim() === "") {
      throw new UsageError(
        `Invalid --${name} "": want a directory, a postgres:// URL or none`,
      );
    }
    return v;
  },
  depth: positiveInt,
  port: (v, name) => {
    if (!/^\d+$/.test(v) || +v > 65535) {
      throw new UsageError(`Invalid --${name} "${v}": not a port (0-65535)`);
    }
    return +v;
  },
  tick: positiveInt,
  host: (v, name) => {
    if (
      !/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*|[A-Za-z0-9.-]+)$/
        .test(v)
    ) {
      throw new UsageError(
        `Invalid --${name} "${v}": not an address or host name`,
      );
    }
    return v.replace(/^\[(.*)\]$/, "$1");
  },
  "allow-host": (v, name) => {
    if (!/^(\*|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/.test(v)) {
      throw new UsageError(`Invalid --${name} "${v}": not a host name`);
    }
    return v;
  },
  alias: (v, name) => {
    if (!/^[A-Z0-9]+=[A-Z0-9]+$/.test(v)) {
      throw new UsageError(
        `Invalid --${name} "${v}": not QUOTE=QUOTE, e.g. USDT=USD`,
      );
    }
    return v.split("=");
  },
};

/**
 * Parses a `deno task replay` command line. Options take their value as the
 * next argument or after `=`; a value may start with `-` (`--speed -2` is a
 * bad speed, not a missing one); `--alias` and `--allow-host` may be
 * repeated; `--` ends the options.
 * @param argv the arguments after the script name.
 * @returns the parsed arguments with defaults filled in.
 * @throws {UsageError} naming an unknown option, a missing or bad value, or
 *   the missing capture files.
 * @example
 * ```ts
 * parseReplayArgs(["BINANCE.0", "--speed", "max"]).speed; // "max"
 * ```
 */
export function parseReplayArgs(argv: readonly string[]): ReplayArgs {
  const args: ReplayArgs = {
    files: [],
    speed: 1,
    viaSimulator: false,
    depth: 50,
    host: "127.0.0.1",
    port: 8080,
    allowHosts: [],
    tick: 1000,
    aliases: {},
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      args.files.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      args.files.push(a);
      continue;
    }
    if (a === "--via-simulator") {
      args.viaSimulator = true;
      continue;
    }
    const eq = a.indexOf("=");
    const flag = eq < 0 ? a : a.slice(0, eq);
    const name = flag.slice(2);
    const read = flag.startsWith("--") && Object.hasOwn(OPTIONS, name)
      ? OPTIONS[name]
      : undefined;
    if (!read) throw new UsageError(`Unknown option ${flag}`);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else throw new UsageError(`Option --${name} needs a value`);
    const v = read(value, name);
    switch (name) {
      case "alias": {
        const [from, to] = v as [string, string];
        args.aliases[from] = to;
        break;
      }
      case "speed":
        args.speed = v as number | "max";
        break;
      case "from":
      case "to":
        args[name] = v as number;
        break;
      case "host":
        args.host = v as string;
        break;
      case "allow-host":
        args.allowHosts.push(v as string);
        break;
      case "dump":
      case "events":
      case "store":
        args[name] = v as string;
        break;
      default:
        args[name as "depth" | "port" | "tick"] = v as number;
    }
  }
  if (args.files.length === 0) {
    throw new UsageError("Give at least one capture file");
  }
  if (
    args.from !== undefined && args.to !== undefined && args.to <= args.from
  ) {
    throw new UsageError("--to must be after --from");
  }
  if (args.viaSimulator && (args.from !== undefined || args.to !== undefined)) {
    throw new UsageError(
      "--from and --to need a session (drop --via-simulator)",
    );
  }
  return args;
}

/** Anything that takes bytes and says how many it wrote (`Deno.FsFile`). */
export interface ByteWriter {
  /** Writes a prefix of `p`; returns its length. */
  write(p: Uint8Array): Promise<number>;
}

/**
 * Writes all of `bytes`: `FsFile.write` may write only part of a buffer.
 * @param w the writer.
 * @param bytes what to write.
 * @returns when every byte is written.
 * @throws {Error} when a write makes no progress, or what `w.write` throws.
 * @example
 * ```ts
 * await writeAll(file, new TextEncoder().encode("{}\n"));
 * ```
 */
export async function writeAll(
  w: ByteWriter,
  bytes: Uint8Array,
): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    const n = await w.write(bytes.subarray(off));
    if (!(n > 0)) {
      throw new Error(`Write stopped at byte ${off} of ${bytes.length}`);
    }
    off += n;
  }
}

/** Opens a file for writing, naming the option when it cannot be. */
async function create(path: string, option: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { write: true, create: true, truncate: true });
  } catch (e) {
    throw new Error(`Cannot write --${option} ${path}: ${oneLine(e)}`);
  }
}

/** Where `--events` NDJSON goes: appended in order, the first error kept. */
class EventLog {
  readonly #file: Deno.FsFile;
  readonly #path: string;
  readonly #enc = new TextEncoder();
  #writes = Promise.resolve();
  #error: unknown = null;

  private constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#path = path;
  }

  /** Opens `--events PATH`, naming it when it cannot be. */
  static async open(path: string): Promise<EventLog> {
    return new EventLog(await create(path, "events"), path);
  }

  /** Appends a chunk of NDJSON. */
  write(chunk: string): void {
    const bytes = this.#enc.encode(chunk);
    this.#writes = this.#writes.then(() => writeAll(this.#file, bytes)).catch(
      (e) => {
        this.#error ??= e;
      },
    );
  }

  /** Waits for every write and closes; throws the first write error. */
  async close(): Promise<void> {
    await this.#writes;
    this.#file.close();
    if (this.#error) {
      throw new Error(`Cannot write --events ${this.#path}: ${this.#error}`);
    }
  }

  /** Closes and deletes the file (nothing was replayed). */
  async discard(): Promise<void> {
    this.#file.close();
    await Deno.remove(this.#path).catch(() => {});
  }
}

/** The bus section: published on Redis as a live process would, when there is one. */
function busOf(): { url?: string; prefix: string } {
  return {
    url: Deno.env.get("REDIS_URL") || undefined,
    prefix: Deno.env.get("COBY_BUS_PREFIX") || "coby:",
  };
}

/** A progress bar line: `[#####-----]  42.0 %  2021-10-12T00:28:45.120Z  12 345 ev/s`. */
function bar(p: ReplayProgress): string {
  const n = 30;
  const done = Math.round((p.percent / 100) * n);
  return `[${"#".repeat(done)}${"-".repeat(n - done)}] ${
    p.percent.toFixed(1).padStart(5)
  } %  ${new Date(p.position).toISOString()}  ${p.eventsPerSecond} ev/s`;
}

/**
 * Runs one replay session on the files; resolves with the exit code, or
 * never in viewer mode.
 * @throws {Error} for anything that stops the replay.
 */
async function runSession(args: ReplayArgs): Promise<number> {
  // Listen before starting anything, so a busy port fails at once.
  const server = args.dump ? null : listen(args.host, args.port, {
    busy: `Port ${args.port} is already in use; choose another with --port`,
  });
  const events = args.events ? await EventLog.open(args.events) : null;
  const store = storeOf(args.store);
  let coby: Coby | undefined;
  let id: string;
  let exchanges: string[];
  try {
    coby = await startCoby(
      parseConfig({
        exchanges: {},
        tickMs: args.tick,
        quoteAliases: args.aliases,
      }),
      {
        store,
        bus: busOf(),
        importReplay: store.enabled,
        onEvents: events ? (chunk) => events.write(chunk) : undefined,
      },
    );
    ({ id, exchanges } = await coby.replay.create({
      source: "files",
      files: args.files,
      speed: args.speed,
      from: args.from,
      to: args.to,
      paused: true,
      // What a replay of files plays is imported into the store.
      store: store.enabled,
      emitEvents: events !== null,
    }, null));
  } catch (e) {
    // Nothing was replayed: leave no empty event log behind.
    await events?.discard();
    await coby?.supervisor.stop();
    throw e;
  }
  const sessions = coby.replay;
  const tty = !args.dump && Deno.stderr.isTerminal();
  const ended = new Promise<ReplayProgress>((resolve, reject) => {
    sessions.watch(id, (n) => {
      if (n.kind === "end") resolve(n.progress);
      else if (n.kind !== "progress") return;
      else if (n.progress.state === "failed") {
        reject(new Error(n.progress.error ?? "the replay failed"));
      } else if (tty) {
        Deno.stderr.writeSync(new TextEncoder().encode(`\r${bar(n.progress)}`));
      }
    });
  });
  // Opened before playback can end, so a bad path fails early.
  const dump = args.dump ? await create(args.dump, "dump") : null;
  if (!dump) {
    // The routes know the replayed exchanges (the live cache's books).
    server!.ready(
      createApp({ ...coby, exchanges }, {
        host: args.host,
        allowedHosts: args.allowHosts,
      }).fetch,
    );
    const first = await firstSymbol(coby, id);
    processLog().info(
      `coby replay viewer on ${server!.url}?session=${id}${
        first ? `&symbol=${first}` : ""
      }`,
      { actor: "replay", cid: id },
    );
  }
  await sessions.control(id, { action: "resume" });
  const end = await ended;
  if (dump) {
    const books = await sessions.books(id, args.depth);
    // Stopping flushes the writer: what was imported is stored.
    await coby.supervisor.stop();
    await events?.close();
    await writeAll(dump, new TextEncoder().encode(JSON.stringify(books)));
    dump.close();
    for (const [ex, s] of Object.entries(books.stats)) {
      console.log(ex, JSON.stringify(s));
    }
    return 0;
  }
  if (tty) Deno.stderr.writeSync(new TextEncoder().encode(`\r${bar(end)}\n`));
  processLog().info(
    `replay: the capture ends at ${
      new Date(end.position).toISOString()
    }; the viewer stays on the final state (Ctrl-C to quit)`,
    { actor: "replay", cid: id },
  );
  return await new Promise<never>(() => {});
}

/** A symbol the session has columns for, waiting up to 5 s for its first. */
async function firstSymbol(coby: Coby, id: string): Promise<string | null> {
  for (let i = 0; i < 50; i++) {
    const s = coby.replay.hub(id)?.symbols()[0]?.symbol;
    if (s) return s;
    if (coby.replay.latest(id)?.state !== "paused") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/**
 * Runs a replay through the exchange simulator; resolves with the exit
 * code, or never in viewer mode.
 * @throws {Error} for anything that stops the replay.
 */
async function runSimulator(args: ReplayArgs): Promise<number> {
  // Listen before starting anything, so a busy port fails at once.
  const server = args.dump ? null : listen(args.host, args.port, {
    busy: `Port ${args.port} is already in use; choose another with --port`,
  });
  const events = args.events ? await EventLog.open(args.events) : null;
  let replay: Replay;
  try {
    replay = await Replay.start(args.files, {
      store: storeOf(args.store),
      bus: busOf(),
      speed: args.speed,
      tickMs: args.tick,
      quoteAliases: args.aliases,
      onEvents: events ? (chunk) => events.write(chunk) : undefined,
    });
  } catch (e) {
    await events?.discard();
    throw e;
  }
  // Opened before playback can end, so a bad path fails early.
  const dump = args.dump ? await create(args.dump, "dump") : null;
  if (dump) {
    await replay.finished();
    const books = await replay.dump(args.depth);
    await replay.stop();
    await events?.close();
    await writeAll(dump, new TextEncoder().encode(JSON.stringify(books)));
    dump.close();
    for (const [ex, s] of Object.entries(books.stats)) {
      console.log(ex, JSON.stringify(s));
    }
    return 0;
  }
  server!.ready(
    createApp(replay.coby, {
      host: args.host,
      allowedHosts: args.allowHosts,
    }).fetch,
  );
  const log = processLog().child({ actor: "replay" });
  log.info(`coby replay viewer on ${server!.url}`);
  await replay.finished(24 * 3600_000);
  log.info("replay: captures delivered; the viewer stays up (Ctrl-C to quit)");
  return await new Promise<never>(() => {});
}

/**
 * The store section for a `--store` value.
 * @param store the value; absent for the configured store.
 * @returns overrides of the configuration's `store` section.
 */
function storeOf(store: string | undefined): {
  enabled: boolean;
  url?: string;
  dataDir?: string;
} {
  if (store === "none") return { enabled: false };
  // With a database URL, the data directory still holds the spool.
  const dataDir = Deno.env.get("COBY_DATA_DIR") || "data/coby";
  if (store === undefined) {
    return {
      enabled: true,
      url: Deno.env.get("DATABASE_URL") || undefined,
      dataDir,
    };
  }
  return /^postgres(ql)?:\/\//.test(store)
    ? { enabled: true, url: store, dataDir }
    : { enabled: true, dataDir: store };
}

if (import.meta.main) {
  let args: ReplayArgs;
  try {
    args = parseReplayArgs(Deno.args);
  } catch (e) {
    console.error(`replay: ${oneLine(e)} (usage: ${USAGE})`);
    Deno.exit(2);
  }
  try {
    Deno.exit(
      await (args.viaSimulator ? runSimulator(args) : runSession(args)),
    );
  } catch (e) {
    console.error(`replay: ${oneLine(e)}`);
    Deno.exit(1);
  }
}
