import assert from "node:assert/strict";
import {
  type Capture,
  parseCaptureText,
  readCapture,
  type TimedRecord,
} from "./capture.ts";
import { ExchangeSimulator } from "./simulator.ts";

const DIR = "../shared/data/captures/cryptofeed";
const BINANCE = ["BINANCE.0", "BINANCE.http.0.0", "BINANCE.ws.1.0"].map((f) =>
  `${DIR}/${f}`
);

/** A client socket that records what it receives. */
class Client {
  readonly ws: WebSocket;
  readonly frames: (string | Uint8Array)[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;
  onFrame?: (n: number) => void;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error(`WebSocket ${url} failed`));
    });
    this.closed = new Promise((resolve) => this.ws.onclose = () => resolve());
    this.ws.onmessage = (e) => {
      this.frames.push(
        typeof e.data === "string" ? e.data : new Uint8Array(e.data),
      );
      this.onFrame?.(this.frames.length);
    };
  }

  /** Waits until `n` frames arrived, then a little longer to catch extras. */
  async received(n: number, timeoutMs = 5000): Promise<number> {
    const end = performance.now() + timeoutMs;
    while (this.frames.length < n && performance.now() < end) await delay(10);
    await delay(50);
    return this.frames.length;
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Fails instead of hanging when `p` does not settle in time. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function recvCount(text: string, file: string): number {
  return parseCaptureText(text, file).filter((r) => r.kind === "recv").length;
}

function recordedBody(cap: Capture, urlPart: string): string {
  const r = cap.records.find((r) =>
    r.kind === "http" && r.url.includes(urlPart)
  );
  assert.ok(r && r.kind === "http", urlPart);
  return r.body;
}

Deno.test("simulator replays BINANCE at max speed with gated depth snapshots", async () => {
  const cap = await readCapture(BINANCE);
  const expected = recvCount(
    await Deno.readTextFile(`${DIR}/BINANCE.ws.1.0`),
    "BINANCE.ws.1.0",
  );
  const warnings: string[] = [];
  const sim = await ExchangeSimulator.start(cap, {
    speed: "max",
    log: (m) => warnings.push(m),
  });
  const client = new Client(`${sim.wsOrigin}/stream?streams=x`);
  try {
    const symbols = ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"];
    let snapshots: Promise<{ status: number; body: string }[]> | undefined;
    client.onFrame = (n) => {
      if (n !== 1) return;
      // Right after the first frame, as the connection actor does on its first diff.
      snapshots = Promise.all(symbols.map(async (s) => {
        const res = await fetch(
          `${sim.origin}/api/v3/depth?symbol=${s}&limit=1000`,
        );
        return { status: res.status, body: await res.text() };
      }));
    };
    await within(sim.done, 10_000, "sim.done");
    assert.equal(await client.received(expected), expected);
    assert.equal(sim.framesSent, expected);
    assert.equal(sim.runs, 1);
    assert.deepEqual(warnings, []); // every snapshot was requested: no gate timed out

    assert.ok(snapshots);
    const got = await snapshots;
    for (let i = 0; i < symbols.length; i++) {
      assert.equal(got[i].status, 200);
      assert.equal(got[i].body, recordedBody(cap, `symbol=${symbols[i]}&`));
    }

    const info = await fetch(`${sim.origin}/api/v3/exchangeInfo`);
    assert.equal(info.status, 200);
    assert.equal(info.headers.get("content-type"), "application/json");
    assert.equal(await info.text(), recordedBody(cap, "/api/v3/exchangeInfo"));
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("simulator skips unrequested snapshots, restarts on reconnect, 404s unknown URLs", async () => {
  const cap = await readCapture(BINANCE);
  const warnings: string[] = [];
  const sim = await ExchangeSimulator.start(cap, {
    speed: "max",
    gateTimeoutMs: 20,
    log: (m) => warnings.push(m),
  });
  const a = new Client(`${sim.wsOrigin}/stream?streams=a`);
  let b: Client | undefined;
  try {
    await within(sim.done, 10_000, "first run");
    assert.equal(await a.received(265), 265);
    assert.equal(warnings.length, 4);
    assert.match(
      warnings[0],
      /GET \/api\/v3\/depth\?symbol=NKNUSDT&limit=1000 not requested/,
    );

    // A passed (here: skipped) snapshot is answered at once.
    const snap = await fetch(
      `${sim.origin}/api/v3/depth?symbol=LRCBTC&limit=1000`,
    );
    assert.equal(await snap.text(), recordedBody(cap, "symbol=LRCBTC&"));
    // Query strings match exactly, parameter order included.
    const swapped = await fetch(
      `${sim.origin}/api/v3/depth?limit=1000&symbol=LRCBTC`,
    );
    assert.equal(swapped.status, 404);
    assert.match((await swapped.json()).error, /No recorded response/);

    await a.close();
    b = new Client(`${sim.wsOrigin}/stream?streams=b`);
    await within(b.opened, 2000, "second socket");
    await within(sim.done, 10_000, "second run");
    assert.equal(await b.received(265), 265);
    assert.equal(sim.runs, 2);
    assert.equal(sim.framesSent, 530);

    const res = await fetch(`${sim.wsOrigin.replace("ws:", "http:")}/nowhere`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  } finally {
    await a.close();
    await b?.close();
    await sim.close();
  }
});

Deno.test("simulator paces by speed, sends binary frames and injects frames", async () => {
  const conn = "wss://api.huobi.pro/ws";
  const t0 = 1_618_678_069_000;
  const records: TimedRecord[] = [
    { kind: "open", url: conn, ts: t0, file: "f" },
    { kind: "recv", conn, ts: t0 + 100, text: "a", file: "f" },
    {
      kind: "recv",
      conn,
      ts: t0 + 200,
      binary: new Uint8Array([1, 2, 255]),
      file: "f",
    },
    {
      kind: "http",
      url: "https://api.huobi.pro/snap?x=1",
      ts: t0 + 300,
      body: "{}",
      file: "f",
    },
    { kind: "recv", conn, ts: t0 + 400, text: "c", file: "f" },
  ];
  const sim = await ExchangeSimulator.start({
    exchange: "huobi",
    files: ["f"],
    records,
  }, {
    speed: 2,
    inject: [{ afterFrame: 0, text: "{not json" }],
  });
  const client = new Client(`${sim.wsOrigin}/ws`);
  try {
    await within(client.opened, 2000, "open");
    const start = performance.now();
    // Held until the playback clock reaches the record: 300 ms / speed 2.
    const snap = fetch(`${sim.origin}/snap?x=1`).then(async (r) => {
      await r.text();
      return performance.now() - start;
    });
    await within(sim.done, 5000, "sim.done");
    const heldFor = await snap;
    assert.ok(heldFor >= 130, `snapshot released after ${heldFor} ms`);
    const elapsed = performance.now() - start;
    assert.ok(
      elapsed >= 180 && elapsed < 1000,
      `elapsed ${elapsed} ms for 400 ms at speed 2`,
    );
    assert.equal(await client.received(4), 4);
    assert.deepEqual(client.frames, [
      "a",
      "{not json",
      new Uint8Array([1, 2, 255]),
      "c",
    ]);
    assert.equal(sim.framesSent, 3);
    assert.equal(sim.framesInjected, 1);
  } finally {
    await client.close();
    await sim.close();
  }
});

Deno.test("simulator plays each WebSocket path as its own timeline", async () => {
  const swap = "wss://api.hbdm.com/swap-ws";
  const linear = "wss://api.hbdm.com/linear-swap-ws";
  const t0 = 1_645_289_383_000;
  const records: TimedRecord[] = [
    {
      kind: "http",
      url: "https://api.hbdm.com/swap-api/v1/swap_contract_info",
      ts: t0 - 5,
      body: "[]",
      file: "f",
    },
    { kind: "open", url: swap, ts: t0, file: "f" },
    { kind: "open", url: linear, ts: t0 + 1, file: "g" },
    { kind: "recv", conn: swap, ts: t0 + 2, text: "s1", file: "f" },
    { kind: "recv", conn: linear, ts: t0 + 3, text: "l1", file: "g" },
    { kind: "recv", conn: swap, ts: t0 + 4, text: "s2", file: "f" },
  ];
  const sim = await ExchangeSimulator.start({
    exchange: "huobi-swap",
    files: ["f", "g"],
    records,
  }, {
    speed: "max",
  });
  const s = new Client(`${sim.wsOrigin}/swap-ws`);
  let l: Client | undefined;
  try {
    assert.deepEqual(sim.wsPaths, ["/swap-ws", "/linear-swap-ws"]);
    assert.equal(await s.received(2), 2);
    let resolved = false;
    const done = sim.done.then(() => resolved = true);
    await delay(50);
    assert.equal(resolved, false, "done waits for the second path");
    l = new Client(`${sim.wsOrigin}/linear-swap-ws`);
    await within(done, 2000, "sim.done");
    assert.deepEqual(s.frames, ["s1", "s2"]);
    assert.equal(await l.received(1), 1);
    assert.deepEqual(l.frames, ["l1"]);
    const meta = await fetch(`${sim.origin}/swap-api/v1/swap_contract_info`);
    assert.equal(await meta.text(), "[]");
  } finally {
    await s.close();
    await l?.close();
    await sim.close();
  }
});

Deno.test("simulator synthesizes KuCoin's bullet-public endpoint pointing at itself", async () => {
  const conn = "wss://push-private.kucoin.com/endpoint?token=TOKEN";
  const t0 = 1_619_378_325_000;
  const records: TimedRecord[] = [
    {
      kind: "http",
      url: "https://api.kucoin.com/api/v1/symbols",
      ts: t0 - 5,
      body: '{"code":"200000","data":[]}',
      file: "f",
    },
    { kind: "open", url: conn, ts: t0, file: "f" },
    { kind: "recv", conn, ts: t0 + 1, text: '{"type":"welcome"}', file: "f" },
  ];
  const sim = await ExchangeSimulator.start(
    { exchange: "kucoin", files: ["f"], records },
    { speed: "max" },
  );
  let client: Client | undefined;
  try {
    for (const path of ["/api/v1/bullet-public", "/api/v1/bullet-private"]) {
      const res = await fetch(`${sim.origin}${path}`, { method: "POST" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      const body = await res.json();
      assert.equal(body.code, "200000");
      assert.equal(body.data.token, "TOKEN");
      assert.equal(body.data.instanceServers.length, 1);
      assert.equal(
        body.data.instanceServers[0].endpoint,
        `${sim.wsOrigin}/endpoint`,
      );
      assert.equal(body.data.instanceServers[0].pingInterval, 18_000);
    }
    // Only POST is synthesized; other exchanges get no such route.
    const get = await fetch(`${sim.origin}/api/v1/bullet-public`);
    assert.equal(get.status, 404);
    await get.body?.cancel();
    // The endpoint it names is the recorded connection's path.
    client = new Client(`${sim.wsOrigin}/endpoint?token=TOKEN&connectId=x`);
    assert.equal(await client.received(1), 1);
    assert.deepEqual(client.frames, ['{"type":"welcome"}']);
  } finally {
    await client?.close();
    await sim.close();
  }

  const binance = await ExchangeSimulator.start(
    { exchange: "binance", files: [], records: [] },
    { speed: "max" },
  );
  try {
    const res = await fetch(`${binance.origin}/api/v1/bullet-public`, {
      method: "POST",
    });
    assert.equal(res.status, 405);
    await res.body?.cancel();
  } finally {
    await binance.close();
  }
});

Deno.test("simulator with clock frames: the recorded open, each new recorded time, each REST answer and the capture's end", async () => {
  const conn = "wss://api.huobi.pro/ws";
  const t0 = 1_618_678_069_000.5;
  const records: TimedRecord[] = [
    { kind: "open", url: conn, ts: t0, file: "f" },
    { kind: "recv", conn, ts: t0 + 100, text: "a", file: "f" },
    { kind: "recv", conn, ts: t0 + 100, text: "b", file: "f" },
    {
      kind: "http",
      url: "https://api.huobi.pro/snap?x=1",
      ts: t0 + 300,
      body: "{}",
      file: "f",
    },
    { kind: "recv", conn, ts: t0 + 400, text: "c", file: "f" },
    { kind: "sent", url: conn, ts: t0 + 500, text: "ping", file: "f" },
  ];
  const sim = await ExchangeSimulator.start({
    exchange: "huobi",
    files: ["f"],
    records,
  }, { speed: "max", clock: true });
  const client = new Client(`${sim.wsOrigin}/ws`);
  const clock = (ts: number, rest?: string) =>
    `\u0000coby-clock ${ts}${rest ? ` ${rest}` : ""}`;
  try {
    await within(client.opened, 2000, "open");
    const held = fetch(`${sim.origin}/snap?x=1`).then((r) => r.text());
    await within(sim.done, 5000, "sim.done");
    assert.equal(await held, "{}", "the response itself is unchanged");
    assert.equal(await client.received(8), 8);
    assert.deepEqual(client.frames, [
      clock(t0),
      clock(t0 + 100),
      "a",
      "b",
      clock(t0 + 300, "/snap?x=1"),
      clock(t0 + 400),
      "c",
      clock(t0 + 500),
    ]);
    assert.equal(sim.framesSent, 3);
    // A request for a record already passed is answered at once, where the
    // stream is.
    assert.equal(await (await fetch(`${sim.origin}/snap?x=1`)).text(), "{}");
    assert.equal(await client.received(9), 9);
    assert.equal(client.frames[8], clock(t0 + 500, "/snap?x=1"));
  } finally {
    await client.close();
    await sim.close();
  }

  // Shifted onto another clock: every clock frame moves, nothing else.
  const shifted = await ExchangeSimulator.start({
    exchange: "huobi",
    files: ["f"],
    records,
  }, {
    speed: "max",
    clock: true,
    clockOffsetMs: 1000,
    gateTimeoutMs: 20, // nobody asks for the snapshot this time
    log: () => {},
  });
  const other = new Client(`${shifted.wsOrigin}/ws`);
  try {
    await within(shifted.done, 5000, "shifted sim.done");
    assert.equal(await other.received(7), 7);
    assert.deepEqual(other.frames, [
      clock(t0 + 1000),
      clock(t0 + 1100),
      "a",
      "b",
      clock(t0 + 1400),
      "c",
      clock(t0 + 1500),
    ]);
  } finally {
    await other.close();
    await shifted.close();
  }
});
