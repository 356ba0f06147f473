/**
 * `deno task load`: the heatmap SSE stream under a crowd of viewers, on
 * loopback only and bounded in time and count.
 *
 * ```sh
 * deno task load [--clients 1000] [--paused 20] [--duration 60] [--speed 0.25]
 *   [--tick 1000] [--history-bytes 64] [--warmup 90] [--settle 20] [--symbol S]
 * ```
 *
 * This process is the server: a replay of every shared capture (`--speed`,
 * slow enough that the recorded traffic lasts the whole run; the heatmap
 * ticks every `--tick` ms regardless) with the HTTP app on 127.0.0.1. It
 * waits until the heatmap history is full (`--history-bytes` MiB; a full ring
 * keeps the memory baseline honest), then starts two child processes so
 * that client work never hides a server stall:
 *
 * - clients: first `--paused` viewers that connect and never read, then,
 *   after a soak, `--clients` viewers at once on one symbol (`--symbol`, by
 *   default the one with the most exchanges), each reading for `--duration`
 *   seconds; then every one leaves.
 * - probe: `GET /healthz` every 25 ms, for the latency during the burst.
 *
 * Reported, each figure after the command line: clients held, columns
 * delivered per client, p50/p99 delivery latency (hub push → client read),
 * `/healthz` latency during the connect burst, baseline, peak and settled
 * RSS, memory per paused client against the queue cap, and actor restarts;
 * then each goal with its verdict.
 *
 * @module
 */

import { createApp } from "../http/app.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import type { ColumnBatch } from "../actors/market/heatmap.ts";

/** The bench's command line. */
interface LoadArgs {
  clients: number;
  paused: number;
  duration: number;
  speed: number;
  tick: number;
  historyBytes: number;
  warmup: number;
  settle: number;
  symbol: string | null;
  streamQueue: number;
  role: "server" | "clients" | "probe";
  url: string;
  soak: number;
}

/** Limits that keep a run bounded whatever the command line says. */
const LIMITS = { clients: 5000, paused: 500, duration: 300, warmup: 300 };

/** Thrown for a bad command line, naming the option and its value. */
class UsageError extends Error {
  /**
   * Makes the error.
   * @param message what is wrong.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function parseArgs(argv: readonly string[]): LoadArgs {
  const a: LoadArgs = {
    clients: 1000,
    paused: 20,
    duration: 60,
    speed: 0.25,
    tick: 1000,
    historyBytes: 64,
    warmup: 90,
    settle: 20,
    symbol: null,
    streamQueue: 60,
    role: "server",
    url: "",
    soak: 10,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined) {
      throw new UsageError(`Option ${flag} needs a value`);
    }
    const num = (max: number, min = 0) => {
      const n = Number(value);
      if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) {
        throw new UsageError(
          `Invalid ${flag} "${value}": not a number from ${min} to ${max}`,
        );
      }
      return n;
    };
    switch (flag) {
      case "--clients":
        a.clients = num(LIMITS.clients, 1);
        break;
      case "--paused":
        a.paused = num(LIMITS.paused);
        break;
      case "--duration":
        a.duration = num(LIMITS.duration, 1);
        break;
      case "--speed":
        a.speed = num(1000, 0.01);
        break;
      case "--tick":
        a.tick = num(60_000, 50);
        break;
      case "--history-bytes":
        a.historyBytes = num(4096, 1);
        break;
      case "--warmup":
        a.warmup = num(LIMITS.warmup, 1);
        break;
      case "--settle":
        a.settle = num(300, 1);
        break;
      case "--soak":
        a.soak = num(120, 0);
        break;
      case "--stream-queue":
        a.streamQueue = num(10_000, 1);
        break;
      case "--symbol":
        if (!/^[A-Z0-9]+-[A-Z0-9]+$/.test(value)) {
          throw new UsageError(`Invalid --symbol "${value}": not BASE-QUOTE`);
        }
        a.symbol = value;
        break;
      case "--role":
        if (value !== "clients" && value !== "probe") {
          throw new UsageError(`Invalid --role "${value}"`);
        }
        a.role = value;
        break;
      case "--url": {
        const u = new URL(value);
        if (u.hostname !== "127.0.0.1") {
          throw new UsageError(`Invalid --url "${value}": loopback only`);
        }
        a.url = value;
        break;
      }
      default:
        throw new UsageError(`Unknown option ${flag}`);
    }
  }
  return a;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The `q` quantile of sorted numbers. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

const MB = 2 ** 20;
const fmtMB = (b: number) => `${(b / MB).toFixed(0)} MB`;
const fmtMs = (ms: number) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;

// ---------------------------------------------------------------- clients

/** What the clients process reports. */
interface ClientsReport {
  type: "result";
  /** Epoch ms the active burst started and when every client had a column. */
  burstStart: number;
  burstEnd: number;
  /** Active clients that stayed connected to the end. */
  held: number;
  /** Active clients that failed (status, error), by reason. */
  failed: Record<string, number>;
  /** Paused clients connected (200). */
  pausedHeld: number;
  /** Columns read per active client. */
  columns: number[];
  /** Gap events per active client, summed. */
  gaps: number;
  /** Epoch ms each active client got its response headers. */
  connectedAt: number[];
  /** Column ts → epoch ms it was read, over every active client. */
  reads: Record<string, number[]>;
}

const enc = new TextEncoder();
const COLUMN = enc.encode('event: column\ndata: {"ts":');
const GAP = enc.encode("event: gap");

/** Whether `data` holds `pat` at `at`. */
function startsAt(data: Uint8Array, at: number, pat: Uint8Array): boolean {
  for (let i = 0; i < pat.length; i++) {
    if (data[at + i] !== pat[i]) return false;
  }
  return true;
}

/**
 * An SSE scanner over raw bytes that finds each `column` event's `ts` and
 * each `gap` event without decoding the columns: a thousand viewers read a
 * gigabyte of history, and decoding it all would load the machine that runs
 * the server. Each position is scanned once; a few bytes carry over between
 * chunks so an event start split across them is found.
 */
function scanner(
  onColumn: (ts: number) => void,
  onGap: () => void,
): (chunk: Uint8Array) => void {
  let carry = new Uint8Array(0);
  return (chunk) => {
    let data = chunk;
    if (carry.length) {
      data = new Uint8Array(carry.length + chunk.length);
      data.set(carry);
      data.set(chunk, carry.length);
    }
    // Room for the pattern and a 13-digit ts after any position scanned.
    const limit = data.length - COLUMN.length - 16;
    let p = 0;
    while (p <= limit) {
      const k = data.indexOf(101, p); // "e"
      if (k < 0 || k > limit) {
        p = limit + 1;
        break;
      }
      if (startsAt(data, k, COLUMN)) {
        let ts = 0;
        let d = k + COLUMN.length;
        while (data[d] >= 48 && data[d] <= 57) ts = ts * 10 + data[d++] - 48;
        onColumn(ts);
        p = d;
      } else if (startsAt(data, k, GAP)) {
        onGap();
        p = k + GAP.length;
      } else p = k + 1;
    }
    carry = data.slice(Math.max(0, p));
  };
}

/** The clients process: paused viewers, then the burst of active ones. */
async function clients(args: LoadArgs): Promise<void> {
  const out = (o: unknown) => console.log(JSON.stringify(o));
  const url = args.url;
  const abort = new AbortController();
  // Paused viewers: connected, never read.
  const paused = await Promise.all(
    Array.from({ length: args.paused }, async () => {
      try {
        const res = await fetch(url, { signal: abort.signal });
        return res.status === 200 ? res : null;
      } catch {
        return null;
      }
    }),
  );
  const pausedHeld = paused.filter((r) => r !== null).length;
  out({ type: "paused", held: pausedHeld });
  await sleep(args.soak * 1000);
  const reads = new Map<number, number[]>();
  const failed: Record<string, number> = {};
  const columns = new Array<number>(args.clients).fill(0);
  const connectedAt = new Array<number>(args.clients).fill(0);
  const firstColumn = new Array<number>(args.clients).fill(0);
  // Clients that have their first column, or failed before it.
  let settled = 0;
  let gaps = 0;
  let held = 0;
  const burstStart = Date.now();
  out({ type: "burst", start: burstStart });
  const end = burstStart + args.duration * 1000;
  const one = async (i: number) => {
    let res: Response;
    try {
      res = await fetch(url, { signal: abort.signal });
    } catch (e) {
      const k = (e as Error).name;
      failed[k] = (failed[k] ?? 0) + 1;
      settled++;
      return;
    }
    if (res.status !== 200) {
      settled++;
      failed[`status ${res.status}`] = (failed[`status ${res.status}`] ?? 0) +
        1;
      await res.body?.cancel();
      return;
    }
    connectedAt[i] = Date.now();
    const reader = res.body!.getReader();
    let ok = true;
    const scan = scanner((ts) => {
      const now = Date.now();
      columns[i]++;
      if (!firstColumn[i]) {
        firstColumn[i] = now;
        settled++;
      }
      let list = reads.get(ts);
      if (!list) reads.set(ts, list = []);
      list.push(now);
    }, () => gaps++);
    try {
      while (Date.now() < end) {
        const { value, done } = await reader.read();
        if (done) {
          ok = false;
          failed["ended"] = (failed["ended"] ?? 0) + 1;
          break;
        }
        scan(value);
      }
    } catch (e) {
      ok = false;
      const k = (e as Error).name;
      failed[k] = (failed[k] ?? 0) + 1;
    }
    if (!firstColumn[i]) settled++;
    if (ok) held++;
    await reader.cancel().catch(() => {});
  };
  const all = Promise.all(
    Array.from({ length: args.clients }, (_, i) => one(i)),
  );
  // The burst ends when every client that connected has its first column.
  let burstEnd = 0;
  while (Date.now() < end) {
    await sleep(20);
    if (settled >= args.clients) {
      burstEnd = Date.now();
      break;
    }
  }
  out({ type: "burst-end", end: burstEnd || Date.now() });
  await all;
  abort.abort();
  out(
    {
      type: "result",
      burstStart,
      burstEnd: burstEnd || end,
      held,
      failed,
      pausedHeld,
      columns,
      gaps,
      connectedAt,
      reads: Object.fromEntries(reads),
    } satisfies ClientsReport,
  );
}

// ------------------------------------------------------------------ probe

/** The probe process: `/healthz` every 25 ms for `--duration` seconds. */
async function probe(args: LoadArgs): Promise<void> {
  const samples: [number, number][] = [];
  const end = Date.now() + args.duration * 1000;
  while (Date.now() < end) {
    const t0 = Date.now();
    const p0 = performance.now();
    try {
      const res = await fetch(args.url, {
        signal: AbortSignal.timeout(30_000),
      });
      await res.body?.cancel();
      samples.push([t0, performance.now() - p0]);
    } catch {
      samples.push([t0, 30_000]);
    }
    await sleep(25);
  }
  console.log(JSON.stringify({ type: "probe", samples }));
}

// ----------------------------------------------------------------- server

/** Reads a child's stdout as JSON lines, calling `on` for each. */
async function lines(
  stream: ReadableStream<Uint8Array>,
  on: (o: Record<string, unknown>) => void,
): Promise<void> {
  let buf = "";
  const dec = new TextDecoder();
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let at;
    while ((at = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, at);
      buf = buf.slice(at + 1);
      if (line.startsWith("{")) on(JSON.parse(line));
    }
  }
}

function child(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", new URL(import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** The process's memory, for the log: RSS, V8 heap used, external. */
function memLine(): string {
  const m = Deno.memoryUsage();
  return `RSS ${fmtMB(m.rss)}, heap ${fmtMB(m.heapUsed)} of ${
    fmtMB(m.heapTotal)
  }, external ${fmtMB(m.external)}`;
}

/** Median RSS over `n` samples `ms` apart. */
async function rssMedian(n: number, ms: number): Promise<number> {
  const s: number[] = [];
  for (let i = 0; i < n; i++) {
    s.push(Deno.memoryUsage().rss);
    await sleep(ms);
  }
  return s.sort((a, b) => a - b)[Math.floor(n / 2)];
}

async function server(args: LoadArgs, command: string): Promise<number> {
  const dir = new URL("../../shared/data/captures/cryptofeed/", import.meta.url)
    .pathname;
  const files = [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(".0"))
    .map((e) => dir + e.name).sort();
  const log = (m: string) => console.error(`load: ${m}`);
  log(`replaying ${files.length} capture files at speed ${args.speed}`);
  const replay = await Replay.start(files, {
    speed: args.speed,
    tickMs: args.tick,
    historyBytes: args.historyBytes * MB,
    supervisor: {
      onLog: (id, level, msg) => {
        if (level === "error") log(`[${id}] ${msg}`);
      },
    },
  });
  const coby = replay.coby;
  const hub = coby.hub;
  // When each tick reached the hub, for delivery latency.
  const pushed = new Map<number, number>();
  const push = hub.push.bind(hub);
  hub.push = (b: ColumnBatch) => {
    pushed.set(b.ts, Date.now());
    push(b);
  };
  const maxStreams = args.clients + args.paused + 50;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createApp(coby, { maxStreams, streamQueue: args.streamQueue }).fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    // Warm up until the history is full: the memory baseline is then the
    // steady state, not a ring still filling.
    const cap = args.historyBytes * MB;
    const warmEnd = performance.now() + args.warmup * 1000;
    while (performance.now() < warmEnd && hub.stats().bytes < cap * 0.9) {
      await sleep(500);
    }
    const symbols = hub.symbols();
    const symbol = args.symbol ??
      [...symbols].sort((a, b) =>
        b.exchanges.length - a.exchanges.length || b.columns - a.columns
      )[0]?.symbol;
    if (!symbol || !hub.has(symbol)) {
      throw new Error(`Symbol ${symbol ?? "(none)"} has no heatmap data`);
    }
    const info = symbols.find((s) => s.symbol === symbol)!;
    const full = hub.stats();
    log(
      `history ${fmtMB(full.bytes)} of ${fmtMB(cap)}, ${full.ticks} ticks; ` +
        `${symbol} (${info.exchanges.join(", ")}) ${info.columns} columns`,
    );
    // ... and until RSS has settled from start-up (two 5 s medians within 3%).
    let baseline = await rssMedian(5, 1000);
    // RSS drift without viewers, bytes per ms (the replay's books still grow).
    let drift = 0;
    for (let i = 0; i < 12; i++) {
      const next = await rssMedian(5, 1000);
      const moved = Math.abs(next / baseline - 1);
      drift = Math.max(0, (next - baseline) / 5000);
      baseline = next;
      if (moved < 0.03) break;
    }
    const baselineAt = performance.now();
    const restarts0 = coby.actors().reduce((s, a) => s + a.restarts, 0);
    log(`baseline: ${memLine()}`);

    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, Deno.memoryUsage().rss);
        await sleep(250);
      }
    })();
    // The server's own event-loop lag: how late a 20 ms timer fires.
    const lags: [number, number][] = [];
    let lastTick = performance.now();
    const lagTimer = setInterval(() => {
      const now = performance.now();
      lags.push([Date.now(), now - lastTick - 20]);
      lastTick = now;
    }, 20);
    const stream = `${base}/api/v1/heatmap/stream?symbol=${symbol}`;
    const total = args.soak + args.duration + 5;
    const probeProc = child([
      "--role",
      "probe",
      "--url",
      `${base}/healthz`,
      "--duration",
      String(total),
    ]);
    const clientsProc = child([
      "--role",
      "clients",
      "--url",
      stream,
      "--clients",
      String(args.clients),
      "--paused",
      String(args.paused),
      "--duration",
      String(args.duration),
      "--soak",
      String(args.soak),
    ]);
    let result: ClientsReport | null = null;
    let probeSamples: [number, number][] = [];
    let pausedRss = 0;
    let pausedAt = 0;
    let pausedHeld = 0;
    let hubPaused = hub.stats();
    const clientsDone = lines(clientsProc.stdout, (o) => {
      if (o.type === "paused") {
        log(`paused viewers connected: ${memLine()}`);
        pausedHeld = o.held as number;
        // Memory with only the paused viewers, after they had time to fill
        // whatever buffers they can.
        setTimeout(async () => {
          pausedRss = await rssMedian(3, 500);
          pausedAt = performance.now();
          hubPaused = hub.stats();
        }, Math.max(0, args.soak * 1000 - 2000));
      } else if (o.type === "burst") log("burst");
      else if (o.type === "burst-end") {
        log(`every client has a column: ${memLine()}`);
      } else if (o.type === "result") result = o as unknown as ClientsReport;
    });
    const probeDone = lines(probeProc.stdout, (o) => {
      if (o.type === "probe") probeSamples = o.samples as [number, number][];
    });
    await Promise.all([clientsDone, clientsProc.status]);
    log("clients left; settling");
    await sleep(Math.max(0, args.settle * 1000 - 5000));
    const settled = await rssMedian(5, 1000);
    const after = hub.stats();
    log(`settled: ${memLine()}`);
    sampling = false;
    clearInterval(lagTimer);
    await sampler;
    await Promise.all([probeDone, probeProc.status]);
    const restarts = coby.actors().reduce((s, a) => s + a.restarts, 0) -
      restarts0;
    if (!result) throw new Error("The clients process reported nothing");
    const r: ClientsReport = result;

    // Delivery latency: hub push → client read, live columns only; apart
    // for the second half of the run, once the viewers' histories (a
    // gigabyte over loopback for 1,000 viewers) have drained.
    const lat: number[] = [];
    const steady: number[] = [];
    const firstConnect = Math.min(...r.connectedAt.filter((t) => t > 0));
    const half = r.burstStart + args.duration * 500;
    for (const [ts, list] of Object.entries(r.reads)) {
      const at = pushed.get(Number(ts));
      if (at === undefined || at < firstConnect) continue;
      for (const t of list) {
        lat.push(t - at);
        if (at > half) steady.push(t - at);
      }
    }
    lat.sort((a, b) => a - b);
    steady.sort((a, b) => a - b);
    const burst = probeSamples
      .filter(([t]) => t >= r.burstStart && t <= r.burstEnd + 1000)
      .map(([, ms]) => ms).sort((a, b) => a - b);
    const cols = [...r.columns].sort((a, b) => a - b);
    const burstLag = lags.filter(([t]) =>
      t >= r.burstStart && t <= r.burstEnd + 1000
    ).reduce((m, [, l]) => Math.max(m, l), 0);
    const runLag = lags.reduce((m, [, l]) => Math.max(m, l), 0);
    const perPaused = args.paused
      ? Math.max(0, pausedRss - baseline - drift * (pausedAt - baselineAt)) /
        args.paused
      : 0;
    const columnBytes = Math.round(
      (hubPaused.bytes || full.bytes) / Math.max(1, full.ticks),
    );

    const rows: [string, string][] = [
      [
        "clients held",
        `${r.held} of ${args.clients} (failed: ${
          JSON.stringify(r.failed)
        }); paused connected ${pausedHeld} of ${args.paused}`,
      ],
      [
        "columns per client",
        `min ${cols[0]}, median ${quantile(cols, 0.5)}, max ${
          cols.at(-1)
        } (history ${info.columns} + ~${
          Math.round(args.duration * 1000 / args.tick)
        } live); gap events ${r.gaps}`,
      ],
      [
        "delivery latency (hub push → client read)",
        `p50 ${fmtMs(quantile(lat, 0.5))}, p99 ${
          fmtMs(quantile(lat, 0.99))
        }, max ${fmtMs(lat.at(-1) ?? NaN)} over ${lat.length} live columns; ` +
        `second half of the run p50 ${fmtMs(quantile(steady, 0.5))}, p99 ${
          fmtMs(quantile(steady, 0.99))
        }`,
      ],
      [
        "/healthz latency during the connect burst",
        `p50 ${fmtMs(quantile(burst, 0.5))}, p99 ${
          fmtMs(quantile(burst, 0.99))
        }, max ${fmtMs(burst.at(-1) ?? NaN)} over ${burst.length} probes in ${
          ((r.burstEnd - r.burstStart) / 1000).toFixed(1)
        } s`,
      ],
      [
        "RSS",
        `baseline ${fmtMB(baseline)}, with ${args.paused} paused ${
          fmtMB(pausedRss)
        }, peak ${fmtMB(peak)}, settled ${fmtMB(settled)} (${
          ((settled / baseline - 1) * 100).toFixed(1)
        }% vs baseline)`,
      ],
      [
        "memory per paused client",
        `${
          (perPaused / MB).toFixed(2)
        } MB measured (RSS with the paused viewers minus baseline and the idle drift of ${
          (drift * 1000 / MB).toFixed(2)
        } MB/s, ÷ ${args.paused}); a stream holds a cursor and the chunk in flight, its lag capped at ${args.streamQueue} columns ≈ ${
          (args.streamQueue * columnBytes / MB).toFixed(1)
        } MB at most`,
      ],
      [
        "heatmap hub",
        `${
          fmtMB(after.bytes)
        } kept, ${after.ticks} ticks, ${after.followers} streams open after the clients left`,
      ],
      [
        "server event-loop lag (20 ms timer)",
        `max ${fmtMs(burstLag)} during the burst, ${
          fmtMs(runLag)
        } over the run; supervisor discounted ${
          fmtMs(coby.supervisor.lagMs())
        } of its own lag since start`,
      ],
      ["actor restarts", String(restarts)],
    ];
    const goals: [string, boolean, string][] = [
      ["zero actor restarts", restarts === 0, String(restarts)],
      [
        "/healthz p99 < 100 ms during the burst",
        quantile(burst, 0.99) < 100,
        fmtMs(quantile(burst, 0.99)),
      ],
      [
        "RSS back within 10% of baseline",
        settled <= baseline * 1.1,
        `${((settled / baseline - 1) * 100).toFixed(1)}%`,
      ],
      [
        "memory per paused client bounded by the queue cap",
        perPaused <= Math.max(args.streamQueue * columnBytes, MB),
        `${(perPaused / MB).toFixed(2)} MB`,
      ],
    ];
    console.log(`command: ${command}`);
    for (const [k, v] of rows) console.log(`  ${k}: ${v}`);
    console.log("goals:");
    for (const [k, ok, v] of goals) {
      console.log(`  ${ok ? "met   " : "MISSED"} ${k} (${v})`);
    }
    return goals.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    await server.shutdown();
    await replay.stop();
  }
}

if (import.meta.main) {
  let args: LoadArgs;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    console.error(`load: ${(e as Error).message}`);
    Deno.exit(2);
  }
  if (args.role === "clients") await clients(args);
  else if (args.role === "probe") await probe(args);
  else {
    const command = ["deno task load", ...Deno.args].join(" ");
    Deno.exit(await server(args, command));
  }
  Deno.exit(0);
}
