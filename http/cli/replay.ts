/**
 * `deno task replay <capture files…> [--speed N|max] [--dump out.json] [--events out.ndjson] [--port N] [--tick ms] [--alias USDT=USD …]`
 *
 * Serves cryptofeed captures through the exchange simulator and runs coby's
 * actors against it. With `--dump` it exits when the captures end and writes
 * the books and counters; without it, it also serves the viewer.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import { createApp } from "../app.ts";
import { Replay } from "../../actors/system/capture_replay.ts";

const Args = z.object({
  speed: z.union([z.literal("max"), z.coerce.number().positive()]).default(1),
  dump: z.string().optional(),
  events: z.string().optional(),
  depth: z.coerce.number().int().positive().default(50),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  tick: z.coerce.number().int().positive().default(1000),
  alias: z.array(
    z.string().regex(/^[A-Z0-9]+=[A-Z0-9]+$/, "alias must look like USDT=USD"),
  )
    .default([]),
});

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      speed: { type: "string" },
      dump: { type: "string" },
      events: { type: "string" },
      depth: { type: "string" },
      port: { type: "string" },
      tick: { type: "string" },
      alias: { type: "string", multiple: true },
    },
  });
  const parsed = Args.safeParse(values);
  if (!parsed.success || positionals.length === 0) {
    console.error(
      parsed.success
        ? "Give at least one capture file"
        : z.prettifyError(parsed.error),
    );
    console.error(
      "usage: deno task replay <capture files…> [--speed N|max] [--dump out.json] [--events out.ndjson] [--port N] [--tick ms] [--alias USDT=USD …]",
    );
    Deno.exit(2);
  }
  const args = parsed.data;
  const events = args.events
    ? await Deno.open(args.events, {
      write: true,
      create: true,
      truncate: true,
    })
    : null;
  const enc = new TextEncoder();
  let writes = Promise.resolve();
  let replay: Replay;
  try {
    replay = await Replay.start(positionals, {
      speed: args.speed,
      tickMs: args.tick,
      quoteAliases: Object.fromEntries(args.alias.map((a) => a.split("="))),
      onEvents: events
        ? (chunk) => {
          const bytes = enc.encode(chunk);
          writes = writes.then(async () => {
            await events.write(bytes);
          });
        }
        : undefined,
    });
  } catch (e) {
    console.error(`replay: ${(e as Error).message}`);
    Deno.exit(1);
  }
  if (args.dump) {
    await replay.finished();
    const dump = await replay.dump(args.depth);
    await replay.stop();
    await writes;
    events?.close();
    await Deno.writeTextFile(args.dump, JSON.stringify(dump));
    for (const [ex, s] of Object.entries(dump.stats)) {
      console.log(ex, JSON.stringify(s));
    }
    Deno.exit(0);
  }
  Deno.serve(
    {
      port: args.port,
      onListen: ({ port }) =>
        console.log(`coby replay viewer on http://127.0.0.1:${port}/`),
    },
    createApp(replay.coby).fetch,
  );
  await replay.finished(24 * 3600_000);
  console.log(
    "replay: captures delivered; the viewer stays up (Ctrl-C to quit)",
  );
}
