/**
 * Two processes share the local Redis and PostgreSQL (issue 8): one
 * ingests (`deno task replay` of the Binance capture, which runs coby's
 * actors as live and publishes on Redis), the other runs `deno task serve`
 * with no connectors. The serving process must stream the same heatmap
 * columns, answer the same history queries, serve the same live frame and
 * the same books (from its live cache) as the ingesting one.
 *
 * The serving process starts first, so it follows the streams from their
 * start; a second serving process started after the replay ended gets the
 * columns from the stream's backfill.
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import { withPostgresUrl } from "../actors/store/_testing.ts";
import { captureFiles } from "./_replay.ts";

const REDIS_URL = Deno.env.get("COBY_TEST_REDIS_URL") ??
  "redis://127.0.0.1:6379";

/** A child process whose stdout is scanned for its listening URL. */
interface Proc {
  url: string;
  lines: string[];
  child: Deno.ChildProcess;
}

/** Starts a coby CLI and waits for the line naming its URL. */
async function spawn(
  args: string[],
  env: Record<string, string>,
  marker: RegExp,
): Promise<Proc> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const dec = new TextDecoderStream();
  const reader = child.stdout.pipeThrough(dec).getReader();
  const errs: string[] = [];
  (async () => {
    for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) {
      errs.push(t);
    }
  })();
  let buf = "";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    const m = marker.exec(buf);
    if (m) {
      lines.push(buf);
      // Keep draining stdout so the child never blocks on a full pipe.
      (async () => {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          lines.push(r.value);
        }
      })();
      return { url: m[1], lines, child };
    }
  }
  child.kill("SIGKILL");
  await child.status;
  throw new Error(`${args[0]} did not start: ${buf} ${errs.join("")}`);
}

/** Stops a child with SIGTERM and waits for it. */
async function stop(p: Proc): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* already gone */ }
  await p.child.status;
}

/** GET as JSON, asserting 200. */
async function json(base: string, path: string): Promise<any> {
  const res = await fetch(new URL(path, base));
  const body = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(body)}`);
  return body;
}

/**
 * The columns a new SSE viewer of `symbol` gets (the kept history), read
 * until the stream is quiet for 1.5 s.
 */
async function columns(
  base: string,
  symbol: string,
  session?: string,
): Promise<unknown[]> {
  const ac = new AbortController();
  const res = await fetch(
    new URL(
      `/api/v1/heatmap/stream?symbol=${symbol}${
        session ? `&session=${session}` : ""
      }`,
      base,
    ),
    { signal: ac.signal },
  );
  if (res.status !== 200) {
    assert.fail(`${base}: ${res.status} ${await res.text()}`);
  }
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const out: unknown[] = [];
  let buf = "";
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const quiet = new Promise<null>((r) => {
      timer = setTimeout(() => r(null), 1500);
    });
    const next = await Promise.race([reader.read(), quiet]);
    clearTimeout(timer);
    if (next === null || next.done) break;
    buf += next.value;
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, end);
      buf = buf.slice(end + 2);
      if (!event.startsWith("event: column")) continue;
      const data = event.split("\n").find((l) => l.startsWith("data: "));
      if (data) out.push(JSON.parse(data.slice(6)));
    }
  }
  ac.abort();
  await reader.cancel().catch(() => {});
  return out;
}

/**
 * Polls until `f` gives the same answer twice, 500 ms apart (an error, such
 * as a 503 while the database opens, counts as no answer yet).
 */
async function settled<T>(f: () => Promise<T>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: string | undefined;
  for (;;) {
    try {
      const now = await f();
      const text = JSON.stringify(now);
      if (text === last) return now;
      last = text;
    } catch (e) {
      if (Date.now() > end) throw e;
      last = undefined;
    }
    if (Date.now() > end) throw new Error("The answer never settled");
    await new Promise((r) => setTimeout(r, 500));
  }
}

Deno.test("serve: a process with no connectors streams, queries, frames and books what an ingesting process publishes on Redis", async () => {
  await withPostgresUrl(async (dbUrl) => {
    const prefix = `test:${crypto.randomUUID().slice(0, 8)}:`;
    const dataDir = await Deno.makeTempDir({ prefix: "coby-serve-" });
    const env = {
      REDIS_URL,
      COBY_BUS_PREFIX: prefix,
      DATABASE_URL: dbUrl,
      COBY_DATA_DIR: dataDir,
      PORT: "0",
      // Only the capture's exchange is known to the serving process.
      COBY_EXCHANGES: "binance",
    };
    const serving = /coby serve listening on (\S+)/;
    const b = await spawn(["http/cli/serve.ts"], env, serving);
    let a: Proc | undefined;
    let late: Proc | undefined;
    try {
      a = await spawn(
        [
          "http/cli/replay.ts",
          ...captureFiles("BINANCE"),
          "--speed",
          "max",
          "--port",
          "0",
        ],
        env,
        /coby replay viewer on (\S+)/,
      );
      // The replay prints its viewer's address with its session.
      const printed = new URL(a.url);
      const ingest = printed.origin;
      const session = printed.searchParams.get("session")!;
      // Everything stored, and the serving process caught up with it.
      const trades = (base: string) =>
        json(
          base,
          "/api/v1/trades?exchange=binance&symbol=NKNUSDT&from=0&limit=100000",
        );
      const stored = await settled(() => trades(ingest));
      assert.ok(stored.length > 0, "the replay stored trades");
      assert.deepEqual(await trades(b.url), stored);

      const frame = "/api/v1/frame?symbol=NKN-USDT&window=5m&depth=20";
      const liveA = await settled(() => json(ingest, frame));
      const liveB = await settled(() => json(b.url, frame));
      assert.deepEqual(liveB, liveA);
      assert.ok(liveA.trades.length > 0 && liveA.books.length === 1);
      // Historical at the same instant: the same answer from the store.
      const hist = await json(b.url, `${frame}&at=${liveA.at}`);
      assert.deepEqual(hist.trades, liveA.trades);
      assert.deepEqual(hist.books, liveA.books);

      // The serving process's books come from its live cache.
      const book = "/api/v1/book?exchange=binance&symbol=NKNUSDT&depth=50";
      const { lastSequence: _a, ...bookA } = await json(ingest, book);
      const { lastSequence: _b, ...bookB } = await json(b.url, book);
      assert.deepEqual(bookB, bookA);

      const want = await columns(ingest, "NKN-USDT", session);
      assert.ok(want.length > 5, `${want.length} columns`);
      assert.deepEqual(await columns(b.url, "NKN-USDT"), want);

      // The ingesting process counts what it published on Redis.
      const metrics = await (await fetch(new URL("/metrics", ingest))).text();
      const published = /^coby_bus_published_total(?:\{[^}]*\})? (\d+)/m
        .exec(metrics);
      assert.ok(published && Number(published[1]) > 0, "coby_bus_published");
      assert.match(metrics, /^coby_bus_up(?:\{[^}]*\})? 1$/m);

      // A serving process started later takes the columns from the stream.
      late = await spawn(["http/cli/serve.ts"], env, serving);
      // Its backfill arrives just after it listens.
      const lateUrl = late.url;
      await settled(async () => {
        const { symbols } = await json(lateUrl, "/api/v1/symbols");
        const s = symbols.find((x: { symbol: string }) =>
          x.symbol === "NKN-USDT"
        );
        if (!s) throw new Error("NKN-USDT not backfilled yet");
        return s;
      });
      assert.deepEqual(await columns(late.url, "NKN-USDT"), want);
    } finally {
      for (const p of [late, a, b]) if (p) await stop(p);
      await Deno.remove(dataDir, { recursive: true });
      const redis = createClient({ url: REDIS_URL });
      await redis.connect();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(keys);
      await redis.quit();
    }
  });
});

Deno.test("serve: without Redis, one line on stderr and a non-zero exit", async () => {
  const run = async (env: Record<string, string>) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "http/cli/serve.ts"],
      // An empty REDIS_URL counts as unset.
      env: { PORT: "0", REDIS_URL: "", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  };
  const unset = await run({});
  assert.equal(unset.code, 2);
  assert.match(unset.stderr, /^coby serve: REDIS_URL is not set[^\n]*\n$/);
  const down = await run({ REDIS_URL: "redis://127.0.0.1:1" });
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    /^coby serve: Cannot connect to Redis at redis:\/\/127\.0\.0\.1:1: [^\n]+\n$/,
  );
});
