import assert from "node:assert/strict";
import { createClient } from "redis";
import { openRedisBus, type RedisBus } from "./redis.ts";

const URL = "redis://127.0.0.1:6379";

/** A prefix of this test's own. */
function prefix(): string {
  return `test:${crypto.randomUUID().slice(0, 8)}:`;
}

/** Polls until `ok()` holds, or fails naming `what`. */
async function waitFor(
  ok: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > end) {
      throw new Error(`Timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A plain client to look at Redis from outside the bus. */
async function inspector(url = URL) {
  const c = createClient({ url });
  c.on("error", () => {});
  return await c.connect();
}

/** Deletes every key under `p`. */
async function cleanup(p: string): Promise<void> {
  const c = await inspector();
  const keys = await c.keys(`${p}*`);
  if (keys.length > 0) await c.del(keys);
  c.destroy();
}

/** A bus that records its log lines. */
async function open(p: string, url = URL) {
  const lines: string[] = [];
  const bus = await openRedisBus(url, {
    prefix: p,
    log: (level, msg) => lines.push(`${level} ${msg}`),
  });
  return { bus, lines };
}

/** Waits until every write so far has been answered. */
function flushed(bus: RedisBus, n: number): Promise<void> {
  return waitFor(() => {
    const s = bus.stats();
    return s.published + s.failed >= n;
  }, `${n} writes`);
}

const dec = new TextDecoder();

Deno.test("RedisBus delivers entries in order, byte for byte", async () => {
  const p = prefix();
  const { bus, lines } = await open(p);
  const got: Uint8Array[] = [];
  const stop = bus.follow("s", (d) => got.push(d));
  const sent: (Uint8Array | string)[] = [
    new Uint8Array([0, 0, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0]),
    "héllo ✓",
    new Uint8Array(0),
    new Uint8Array(100_000).map((_, i) => i % 251),
    // A view into a larger buffer: only its bytes go.
    new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4),
  ];
  for (const d of sent) bus.publish("s", d, 1000);
  await waitFor(() => got.length === sent.length, "the entries");
  const enc = new TextEncoder();
  for (let i = 0; i < sent.length; i++) {
    const want = typeof sent[i] === "string"
      ? enc.encode(sent[i] as string)
      : sent[i];
    assert.deepEqual(got[i], want, `entry ${i}`);
    assert.deepEqual(got[i].constructor, Uint8Array);
  }
  assert.deepEqual(bus.stats().published, sent.length);
  assert.deepEqual(bus.stats().delivered, sent.length);
  assert.deepEqual(bus.stats().failed, 0);
  assert(bus.stats().up);
  stop();
  await bus.close();
  await cleanup(p);
  assert.deepEqual(lines, []);
});

Deno.test("RedisBus follow backfills the newest, then goes live without gap or duplicate", async () => {
  const p = prefix();
  const { bus } = await open(p);
  for (let i = 0; i < 10; i++) bus.publish("s", `e${i}`, 1000);
  await flushed(bus, 10);
  const got: string[] = [];
  const stop = bus.follow("s", (d) => got.push(dec.decode(d)), {
    backfill: 4,
  });
  // Published in the same tick as follow(): must not be missed.
  for (let i = 10; i < 15; i++) bus.publish("s", `e${i}`, 1000);
  await waitFor(() => got.length >= 9, "backfill and live entries");
  for (let i = 15; i < 20; i++) bus.publish("s", `e${i}`, 1000);
  await waitFor(() => got.length >= 14, "later entries");
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, Array.from({ length: 14 }, (_, i) => `e${i + 6}`));

  // Without backfill: nothing old, everything new, even on an empty stream.
  const fresh: string[] = [];
  const empty: string[] = [];
  const stop2 = bus.follow("s", (d) => fresh.push(dec.decode(d)));
  const stop3 = bus.follow("empty", (d) => empty.push(dec.decode(d)), {
    backfill: 5,
  });
  bus.publish("s", "new", 1000);
  bus.publish("empty", "first", 1000);
  await waitFor(() => fresh.length === 1 && empty.length === 1, "new entries");
  assert.deepEqual(fresh, ["new"]);
  assert.deepEqual(empty, ["first"]);
  stop();
  stop2();
  stop3();
  await bus.close();
  await cleanup(p);
});

Deno.test("RedisBus caps streams at about maxLen", async () => {
  const p = prefix();
  const { bus } = await open(p);
  for (let i = 0; i < 3000; i++) bus.publish("capped", `entry ${i}`, 200);
  await flushed(bus, 3000);
  assert.deepEqual(bus.stats().published, 3000);
  const c = await inspector();
  const len = await c.xLen(`${p}capped`);
  // `~` trims whole macro nodes (100 entries each by default).
  assert(len >= 200 && len <= 400, `XLEN ${len}`);
  c.destroy();
  await bus.close();
  await cleanup(p);
});

Deno.test("RedisBus sets and gets keys under its prefix", async () => {
  const p = prefix();
  const { bus } = await open(p);
  assert.deepEqual(await bus.get("k"), null);
  bus.set("k", "v1");
  bus.set("k", "v2 ✓");
  assert.deepEqual(await bus.get("k"), "v2 ✓");
  const c = await inspector();
  assert.deepEqual(await c.get(`${p}k`), "v2 ✓");
  c.destroy();
  assert.deepEqual(bus.stats().published, 2);
  await bus.close();
  await cleanup(p);
});

Deno.test("RedisBus follower that stopped receives nothing more", async () => {
  const p = prefix();
  const { bus } = await open(p);
  const stopped: string[] = [];
  const kept: string[] = [];
  const stop = bus.follow("s", (d) => stopped.push(dec.decode(d)));
  const stop2 = bus.follow("s", (d) => kept.push(dec.decode(d)));
  bus.publish("s", "a", 100);
  await waitFor(() => stopped.length === 1 && kept.length === 1, "a");
  stop();
  stop(); // Harmless.
  bus.publish("s", "b", 100);
  bus.publish("s", "c", 100);
  await waitFor(() => kept.length === 3, "b and c");
  assert.deepEqual(stopped, ["a"]);
  stop2();
  await bus.close();
  await cleanup(p);
});

Deno.test("RedisBus follower whose callback throws is logged once and goes on", async () => {
  const p = prefix();
  const { bus, lines } = await open(p);
  const got: string[] = [];
  const stop = bus.follow("s", (d) => {
    got.push(dec.decode(d));
    throw new Error("Bad entry");
  });
  for (const e of ["a", "b", "c"]) bus.publish("s", e, 100);
  await waitFor(() => got.length === 3, "every entry");
  assert.deepEqual(got, ["a", "b", "c"]);
  assert.deepEqual(lines, [
    "error Follower of s threw (Bad entry); further throws not logged",
  ]);
  stop();
  await bus.close();
  await cleanup(p);
});

Deno.test("RedisBus close is idempotent; writes after it are counted failed", async () => {
  const p = prefix();
  const { bus, lines } = await open(p);
  const got: string[] = [];
  bus.follow("s", (d) => got.push(dec.decode(d)));
  for (let i = 0; i < 100; i++) bus.publish("s", `e${i}`, 1000);
  // Close waits for the pending writes, and stops the follower.
  await Promise.all([bus.close(), bus.close()]);
  assert.deepEqual(bus.stats().published, 100);
  assert(!bus.stats().up);
  await bus.close();
  bus.publish("s", "late", 1000);
  bus.set("k", "late");
  await waitFor(() => bus.stats().failed === 2, "failures");
  await assert.rejects(bus.get("k"), /^Error: Cannot get k from Redis: /);
  bus.follow("s", () => got.push("after close"))();
  assert(!got.includes("after close"));
  assert.deepEqual(lines.filter((l) => l.startsWith("warn")).length, 1);
  const c = await inspector();
  assert.deepEqual(await c.xLen(`${p}s`), 100);
  c.destroy();
  await cleanup(p);
});

/** A free TCP port of 127.0.0.1. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

Deno.test("openRedisBus rejects with one clear line when Redis is unreachable", async () => {
  const port = freePort();
  const t0 = performance.now();
  await assert.rejects(
    openRedisBus(`redis://:secret@127.0.0.1:${port}`),
    (err: Error) => {
      assert.match(
        err.message,
        new RegExp(
          `^Cannot connect to Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}: \\S[^\\n]*$`,
        ),
      );
      return true;
    },
  );
  assert(performance.now() - t0 < 6000);
  await assert.rejects(
    openRedisBus("http://127.0.0.1:6379"),
    /^Error: Cannot connect to Redis at http:\/\/127\.0\.0\.1:6379: \S/,
  );
});

/**
 * A redis-server of the test's own, that can be killed and restarted; its
 * append-only file keeps the data across.
 */
class OwnRedis {
  readonly port = freePort();
  readonly #dir = Deno.makeTempDirSync({ prefix: "coby_redis_" });
  #child: Deno.ChildProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.#dir,
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const end = performance.now() + 5000;
    for (;;) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: this.port }))
          .close();
        return;
      } catch (err) {
        if (performance.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Kills the server as a crash would. */
  async kill(): Promise<void> {
    this.#child?.kill("SIGKILL");
    await this.#child?.status;
    this.#child = undefined;
  }

  /** Kills the server and deletes its files. */
  async remove(): Promise<void> {
    await this.kill();
    await Deno.remove(this.#dir, { recursive: true });
  }
}

Deno.test("RedisBus survives an outage: writes counted failed, follower resumes", async () => {
  const server = new OwnRedis();
  await server.start();
  try {
    const { bus, lines } = await open("test:outage:", server.url);
    const got: string[] = [];
    const stop = bus.follow("s", (d) => got.push(dec.decode(d)));
    bus.publish("s", "before", 100);
    await waitFor(() => got.length === 1, "the entry before");

    await server.kill();
    await waitFor(() => !bus.stats().up, "the bus to notice");
    for (let i = 0; i < 50; i++) bus.publish("s", `lost${i}`, 100);
    bus.set("k", "lost");
    await waitFor(() => bus.stats().failed === 51, "the failures");
    await assert.rejects(bus.get("k"), /^Error: Cannot get k from Redis: /);
    // Once per outage each: the connection, the follower, the writes.
    const warns = lines.filter((l) => l.startsWith("warn"));
    assert.equal(warns.length, 3, warns.join("\n"));

    await server.start();
    // Written by another client while the bus may still be reconnecting:
    // the follower resumes after the last entry it delivered, not at the end.
    const other = await inspector(server.url);
    for (let i = 0; i < 5; i++) {
      await other.sendCommand([
        "XADD",
        "test:outage:s",
        "*",
        "d",
        `during${i}`,
      ]);
    }
    other.destroy();
    await waitFor(() => bus.stats().up, "the reconnect", 10_000);
    for (let i = 0; i < 5; i++) bus.publish("s", `after${i}`, 100);
    await waitFor(() => got.length === 11, "the entries after", 10_000);
    assert.deepEqual(got, [
      "before",
      ...Array.from({ length: 5 }, (_, i) => `during${i}`),
      ...Array.from({ length: 5 }, (_, i) => `after${i}`),
    ]);
    assert.deepEqual(bus.stats().failed, 51);
    assert.deepEqual(
      lines.filter((l) => l.startsWith("info")).length,
      3,
      lines.join("\n"),
    );
    stop();
    await bus.close();
  } finally {
    await server.remove();
  }
});

Deno.test("RedisBus close gives up on writes Redis does not answer after 2 s", async () => {
  const server = new OwnRedis();
  await server.start();
  try {
    const { bus } = await open("test:pause:", server.url);
    const other = await inspector(server.url);
    // Write commands of every client now wait, unanswered, for 4 s.
    await other.sendCommand(["CLIENT", "PAUSE", "4000", "WRITE"]);
    for (let i = 0; i < 3; i++) bus.publish("s", `e${i}`, 100);
    bus.set("k", "v");
    const t0 = performance.now();
    await bus.close();
    const took = performance.now() - t0;
    assert(took > 1900 && took < 3000, `close took ${took} ms`);
    await waitFor(() => bus.stats().failed === 4, "the failures");
    assert.equal(bus.stats().published, 0);
    await other.sendCommand(["CLIENT", "UNPAUSE"]);
    other.destroy();
  } finally {
    await server.remove();
  }
});
