/**
 * `deno task replay <capture files…> [--speed N|max] [--dump out.json] [--events out.ndjson] [--depth N] [--host H] [--port N] [--allow-host NAME …] [--tick ms] [--alias USDT=USD …] [--store DIR|postgres://…|none]`
 *
 * Serves cryptofeed captures through the exchange simulator and runs coby's
 * actors against it. With `--dump` it exits when the captures end and writes
 * the books and counters; without it, it also serves the viewer, on
 * `--host` (default 127.0.0.1, loopback only) and prints the address it
 * listens on. The viewer answers requests whose `Host` is a loopback name,
 * the bind address or an `--allow-host` name (DNS rebinding protection).
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
import { listen, oneLine } from "./_listen.ts";

/** The command line, as printed with a usage error. */
export const USAGE =
  "deno task replay <capture files…> [--speed N|max] [--dump out.json] [--events out.ndjson] [--depth N] [--host H] [--port N] [--allow-host NAME …] [--tick ms] [--alias USDT=USD …] [--store DIR|postgres://…|none]";

/** A parsed `deno task replay` command line. */
export interface ReplayArgs {
  /** Capture files, in the order given. */
  files: string[];
  /** Playback speed: a multiple of real time, or `max`. */
  speed: number | "max";
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

/** Options and their readers. */
const OPTIONS: Readonly<Record<string, Reader>> = {
  speed: (v, name) => {
    if (v === "max") return v;
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n <= 0) {
      throw new UsageError(
        `Invalid --${name} "${v}": not a positive number or max`,
      );
    }
    return n;
  },
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

/**
 * Runs a replay; resolves with the exit code, or never in viewer mode.
 * @throws {Error} for anything that stops the replay.
 */
async function main(args: ReplayArgs): Promise<number> {
  const enc = new TextEncoder();
  // Listen before starting anything, so a busy port fails at once.
  const server = args.dump ? null : listen(args.host, args.port, {
    busy: `Port ${args.port} is already in use; choose another with --port`,
  });
  const events = args.events ? await create(args.events, "events") : null;
  let writes = Promise.resolve();
  let writeError: unknown = null;
  let replay: Replay;
  try {
    replay = await Replay.start(args.files, {
      store: storeOf(args.store),
      // Published on Redis as a live process would, when there is one.
      bus: {
        url: Deno.env.get("REDIS_URL") || undefined,
        prefix: Deno.env.get("COBY_BUS_PREFIX") || "coby:",
      },
      speed: args.speed,
      tickMs: args.tick,
      quoteAliases: args.aliases,
      onEvents: events
        ? (chunk) => {
          const bytes = enc.encode(chunk);
          writes = writes.then(() => writeAll(events, bytes)).catch((e) => {
            writeError ??= e;
          });
        }
        : undefined,
    });
  } catch (e) {
    // Nothing was replayed: leave no empty event log behind.
    if (events) {
      events.close();
      await Deno.remove(args.events!).catch(() => {});
    }
    throw e;
  }
  // Opened before playback can end, so a bad path fails early.
  const dump = args.dump ? await create(args.dump, "dump") : null;
  if (dump) {
    await replay.finished();
    const books = await replay.dump(args.depth);
    await replay.stop();
    await writes;
    events?.close();
    if (writeError) {
      throw new Error(`Cannot write --events ${args.events}: ${writeError}`);
    }
    await writeAll(dump, enc.encode(JSON.stringify(books)));
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
  console.log(`coby replay viewer on ${server!.url}`);
  await replay.finished(24 * 3600_000);
  console.log(
    "replay: captures delivered; the viewer stays up (Ctrl-C to quit)",
  );
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
    Deno.exit(await main(args));
  } catch (e) {
    console.error(`replay: ${oneLine(e)}`);
    Deno.exit(1);
  }
}
