/**
 * `deno task fuzz [frames] [--seed N] [--only text] [--max-length N]
 * [--verbose]`:
 * feeds mutated real frames into every adapter version, `frames` per
 * version (100 000 by default; `deno task fuzz 1000000` for the big run),
 * and prints one line of figures per version. Exits non-zero with
 * fast-check's shrunk counterexample when a property breaks.
 *
 * @module
 */

import { loadCorpora } from "./corpus.ts";
import { fuzzCorpus } from "./run.ts";

/** Parsed command line. */
interface Args {
  frames: number;
  seed: number;
  only?: string;
  maxLength?: number;
  verbose: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { frames: 100_000, seed: 1, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--seed") args.seed = +value();
    else if (a === "--only") args.only = value();
    else if (a === "--max-length") args.maxLength = +value();
    else if (a === "--verbose") args.verbose = true;
    else if (/^\d+$/.test(a.replaceAll("_", ""))) {
      args.frames = +a.replaceAll("_", "");
    } else throw new Error(`Unknown argument ${a}`);
  }
  if (!(args.frames > 0) || !Number.isSafeInteger(args.seed)) {
    throw new Error(`Bad frame count ${args.frames} or seed ${args.seed}`);
  }
  return args;
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const command = `deno task fuzz ${args.frames}${
    args.seed !== 1 ? ` --seed ${args.seed}` : ""
  }${args.only ? ` --only ${args.only}` : ""}${
    args.maxLength ? ` --max-length ${args.maxLength}` : ""
  }`;
  console.log(
    `${command}  (frames per adapter version; fast-check seed ${args.seed})`,
  );
  const fmt = (n: number) => Math.round(n).toLocaleString("en");
  let total = 0;
  const t0 = performance.now();
  for (const corpus of await loadCorpora()) {
    if (args.only && !corpus.name.includes(args.only)) continue;
    const r = fuzzCorpus(corpus, {
      frames: args.frames,
      seed: args.seed,
      maxLength: args.maxLength,
      ...(args.verbose
        ? { onUnattributed: (w: string) => console.log(w) }
        : {}),
    });
    const s = r.stats;
    total += s.frames;
    console.log(
      `${corpus.name.padEnd(58)} ${fmt(s.frames).padStart(10)} frames in ${
        fmt(r.runs)
      } runs, ${fmt(s.frames / (r.ms / 1000))}/s: ${fmt(s.mutated)} mutated, ${
        fmt(s.malformed)
      } malformed (${fmt(s.malformedBook)} of a book), ${
        fmt(s.resyncErrors)
      } resync, ${fmt(s.venueErrors)} venue errors; ${
        fmt(s.applied)
      } events applied, ${fmt(s.resyncs)} book resyncs, ${
        fmt(s.snapshotsServed)
      } snapshots served, ${fmt(s.bookChecks)} synced-book checks, ${
        fmt(s.strictChecks)
      } strict checks, ${fmt(s.syncedAtEnd)} books synced at run ends`,
    );
  }
  console.log(
    `all properties held: ${fmt(total)} frames in ${
      fmt((performance.now() - t0) / 1000)
    } s`,
  );
}
