/**
 * The HTTP edge: a wrong method is 405 with `Allow`; numbers are plain
 * decimal integers; lengths are capped and errors echo only a short prefix;
 * empty list entries are refused; CORS answers configured origins only; the
 * `Host` header must name this server (DNS rebinding); a symbol followed by
 * the configuration streams before its first column while an unknown one is
 * 404; every error is `{error, code}`; and `deno task replay` listens where
 * it says it does.
 */

import assert from "node:assert/strict";
import { type AppOptions, createApp, type ErrorBody } from "../http/app.ts";
import type { AppDeps } from "../http/deps.ts";
import { HeatmapHub } from "../actors/system/hub.ts";
import { parseConfig } from "../actors/system/config.ts";
import type { BookView, CobyRequests } from "../actors/market/requests.ts";
import type {
  RequestMethod,
  RequestParams,
  RequestResult,
} from "../runtime/protocol.ts";
import type { ActorInfo } from "../runtime/supervisor.ts";
import { captureFiles } from "./_replay.ts";

const BOOK: BookView = {
  exchange: "binance",
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  market: "spot",
  state: "synced",
  lastSequence: 1,
  bids: [[100, 1]],
  asks: [[101, 1]],
};

const RUNNING: ActorInfo = {
  id: "conn:binance",
  state: "running",
  restart: "permanent",
  circuit: "closed",
  detail: "",
  restarts: 0,
  lastError: null,
  stats: {},
};

/** Deps whose one connection answers every book request with `BOOK`; records the depths asked. */
function deps(
  config?: Record<string, unknown>,
): AppDeps & { depths: number[] } {
  const depths: number[] = [];
  return {
    depths,
    actors: () => [RUNNING],
    request<K extends RequestMethod<CobyRequests>>(
      _id: string,
      _method: K,
      params: RequestParams<CobyRequests, K>,
    ): Promise<RequestResult<CobyRequests, K>> {
      depths.push((params as { depth: number }).depth);
      return Promise.resolve(BOOK as RequestResult<CobyRequests, K>);
    },
    hub: new HeatmapHub(10),
    metrics: { render: () => Promise.resolve("") },
    exchanges: ["binance", "kraken"],
    config: config ? parseConfig(config) : undefined,
  };
}

function app(options: AppOptions = {}, config?: Record<string, unknown>) {
  return createApp(deps(config), options);
}

/** `s` as a literal inside a RegExp. */
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Asserts an error response: status, `code`, the body's shape, and returns the message. */
async function error(
  res: Response,
  status: number,
  code: string,
): Promise<string> {
  assert.equal(res.status, status);
  const body = await res.json() as ErrorBody;
  assert.deepEqual(Object.keys(body).sort(), ["code", "error"]);
  assert.equal(body.code, code, body.error);
  assert.match(body.error, /^[A-Z✖]/, "starts with a capital");
  assert.doesNotMatch(body.error, /\.$/, "no trailing period");
  return body.error;
}

Deno.test("http edge: a wrong method is 405 with Allow, an unknown path 404", async () => {
  const a = app();
  for (
    const [method, path] of [
      ["POST", "/healthz"],
      ["DELETE", "/api/v1/book"],
      ["PUT", "/api/v1/heatmap/stream"],
      ["OPTIONS", "/api/v1/symbols"],
    ]
  ) {
    const res = await a.request(path, { method });
    assert.equal(res.headers.get("Allow"), "GET, HEAD", `${method} ${path}`);
    const msg = await error(res, 405, "method_not_allowed");
    assert.equal(
      msg,
      `Method ${method} is not allowed on ${path}; allowed: GET, HEAD`,
    );
  }
  const head = await a.request("/healthz", { method: "HEAD" });
  assert.equal(head.status, 200);
  await error(
    await a.request("/nowhere", { method: "POST" }),
    404,
    "not_found",
  );
});

Deno.test("http edge: depth is a plain decimal integer from 1 to 5000", async () => {
  const d = deps();
  const a = createApp(d);
  const get = (depth: string) =>
    a.request(
      `/api/v1/book?exchange=binance&symbol=BTCUSDT&depth=${
        encodeURIComponent(depth)
      }`,
    );
  for (
    const bad of [
      "0x10",
      "1e3",
      " 7",
      "7 ",
      "+7",
      "-1",
      "7.0",
      "",
      "0",
      "5001",
      "99999999999",
    ]
  ) {
    const msg = await error(await get(bad), 400, "bad_request");
    assert.match(
      msg,
      new RegExp(
        `depth ${
          escape(JSON.stringify(bad.slice(0, 40)))
        }.* must be an integer`,
      ),
      `depth=${bad}`,
    );
  }
  for (const good of ["1", "16", "1000", "5000"]) {
    const res = await get(good);
    assert.equal(res.status, 200, `depth=${good}`);
    await res.body?.cancel();
  }
  const dflt = await a.request("/api/v1/book?exchange=binance&symbol=BTCUSDT");
  assert.equal(dflt.status, 200);
  await dflt.body?.cancel();
  assert.deepEqual(d.depths, [1, 16, 1000, 5000, 50]);
});

Deno.test("http edge: long input is 400 and no error echoes more than a short prefix", async () => {
  const a = app();
  const long = "Z".repeat(10_000);
  for (
    const path of [
      `/api/v1/book?exchange=binance&symbol=${long}`,
      `/api/v1/book?exchange=${long}&symbol=BTCUSDT`,
      `/api/v1/heatmap/stream?symbol=${long}-USDT`,
      `/api/v1/heatmap/stream?symbol=BTC-USDT&exchanges=${long}`,
    ]
  ) {
    const res = await a.request(path);
    const text = await res.clone().text();
    await error(res, 400, "bad_request");
    assert.ok(text.length < 400, `${text.length} bytes: ${text.slice(0, 80)}`);
    assert.ok(!text.includes("Z".repeat(50)), "the input is echoed");
  }
  const res = await a.request(`/${long}`);
  const body = await res.clone().json();
  await error(res, 404, "not_found");
  assert.equal(body.error, `Not found: /${"Z".repeat(39)}…`);
});

Deno.test("http edge: an empty entry in exchanges is 400", async () => {
  const a = app({}, { exchanges: { binance: { symbols: ["BTC-USDT"] } } });
  for (const list of [",,,", "binance,", ",binance", "binance,,kraken", " "]) {
    const msg = await error(
      await a.request(
        `/api/v1/heatmap/stream?symbol=BTC-USDT&exchanges=${
          encodeURIComponent(list)
        }`,
      ),
      400,
      "bad_request",
    );
    assert.match(
      msg,
      new RegExp(
        `exchanges ${JSON.stringify(list)} must not have an empty entry`,
      ),
      list,
    );
    assert.doesNotMatch(msg, /comma list/, "one message per fault");
  }
  const ok = await a.request(
    "/api/v1/heatmap/stream?symbol=BTC-USDT&exchanges=binance,kraken",
  );
  assert.equal(ok.status, 200);
  await ok.body!.cancel();
});

Deno.test("http edge: CORS answers only configured origins", async () => {
  const none = app();
  const res = await none.request("/healthz", {
    headers: { Origin: "https://evil.example" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Access-Control-Allow-Origin"), null);
  await res.body?.cancel();
  const preflight = await none.request("/api/v1/symbols", {
    method: "OPTIONS",
    headers: {
      Origin: "https://evil.example",
      "Access-Control-Request-Method": "GET",
    },
  });
  assert.equal(preflight.headers.get("Access-Control-Allow-Origin"), null);
  await preflight.body?.cancel();

  const some = app({ corsOrigins: ["https://ok.example"] });
  const ok = await some.request("/api/v1/symbols", {
    headers: { Origin: "https://ok.example" },
  });
  assert.equal(
    ok.headers.get("Access-Control-Allow-Origin"),
    "https://ok.example",
  );
  await ok.body?.cancel();
  const evil = await some.request("/api/v1/symbols", {
    headers: { Origin: "https://evil.example" },
  });
  assert.equal(evil.headers.get("Access-Control-Allow-Origin"), null);
  await evil.body?.cancel();
  const pre = await some.request("/api/v1/symbols", {
    method: "OPTIONS",
    headers: {
      Origin: "https://ok.example",
      "Access-Control-Request-Method": "GET",
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(
    pre.headers.get("Access-Control-Allow-Methods"),
    "GET,HEAD,POST,PATCH,DELETE",
  );
  assert.equal(
    pre.headers.get("Access-Control-Allow-Origin"),
    "https://ok.example",
  );
});

Deno.test("http edge: the Host header must name this server (DNS rebinding)", async () => {
  const get = (a: ReturnType<typeof app>, host?: string) =>
    a.request("/healthz", {
      headers: host === undefined ? {} : { Host: host },
    });
  const local = app();
  for (
    const host of [
      undefined,
      "localhost",
      "localhost:8080",
      "127.0.0.1:8080",
      "[::1]:8080",
      "LOCALHOST:1",
    ]
  ) {
    const res = await get(local, host);
    assert.equal(res.status, 200, String(host));
    await res.body?.cancel();
  }
  for (
    const host of [
      "evil.example",
      "evil.example:8080",
      "127.0.0.1.evil.example",
      "user@localhost",
      "localhost/x",
      "",
    ]
  ) {
    const msg = await error(await get(local, host), 421, "host_not_allowed");
    assert.ok(msg.startsWith(`Host ${host.slice(0, 10)}`), msg);
  }
  // The bind address, the configured names, or any with "*".
  const bound = app({ host: "10.1.2.3", allowedHosts: ["coby.lan"] });
  for (
    const host of ["10.1.2.3:8080", "coby.lan", "COBY.LAN:80", "localhost"]
  ) {
    const res = await get(bound, host);
    assert.equal(res.status, 200, host);
    await res.body?.cancel();
  }
  await error(await get(bound, "coby.evil"), 421, "host_not_allowed");
  const any = app({ host: "0.0.0.0", allowedHosts: ["*"] });
  const res = await get(any, "whatever.example");
  assert.equal(res.status, 200);
  await res.body?.cancel();
  // 0.0.0.0 is no host name: binding to it allows nothing more.
  await error(
    await get(app({ host: "0.0.0.0" }), "0.0.0.0"),
    421,
    "host_not_allowed",
  );
});

Deno.test("http edge: a followed symbol streams before its first column; an unknown one is 404", async () => {
  const a = app({}, {
    exchanges: {
      binance: { symbols: ["BTC-USDT", "ETH-USD-PERP", "XRPUSDT"] },
    },
    quoteAliases: { USDT: "USD" },
  });
  for (const symbol of ["BTC-USD", "ETH-USD"]) {
    const res = await a.request(`/api/v1/heatmap/stream?symbol=${symbol}`);
    assert.equal(res.status, 200, symbol);
    await res.body!.cancel();
  }
  // BTC-USDT is consolidated as BTC-USD; a venue's own name (XRPUSDT) cannot
  // be mapped without its instrument list; ZZZ-QQQ is nowhere.
  for (const symbol of ["BTC-USDT", "XRP-USDT", "ZZZ-QQQ"]) {
    const msg = await error(
      await a.request(`/api/v1/heatmap/stream?symbol=${symbol}`),
      404,
      "unknown_symbol",
    );
    assert.match(msg, new RegExp(`^Symbol ${symbol} has no heatmap`));
  }
});

/** Runs `deno task replay` on the Binance capture until it prints its address. */
async function replayServer(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "-q",
      "http/cli/replay.ts",
      ...captureFiles("BINANCE"),
      "--port",
      "0",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = performance.now() + 60_000;
  let m: RegExpMatchArray | null = null;
  while (!(m = out.match(/viewer on http:\/\/([^/]+):(\d+)\//))) {
    if (performance.now() > deadline) break;
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const stop = async () => {
    child.kill("SIGTERM");
    await reader.cancel();
    await child.stderr.cancel();
    await child.status;
  };
  if (!m) {
    await stop();
    throw new Error(`The replay did not print its address:\n${out}`);
  }
  return { host: m[1], port: Number(m[2]), stop };
}

/** Whether a TCP connection to `hostname:port` is accepted. */
async function accepts(hostname: string, port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname, port })).close();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) return false;
    throw e;
  }
}

/** A raw HTTP/1.1 GET with the Host header given; returns the status line. */
async function rawGet(port: number, host: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
  } finally {
    conn.close();
  }
}

Deno.test("http edge: deno task replay listens where it says (127.0.0.1 by default, --host), and checks Host", async () => {
  const local = await replayServer([]);
  try {
    assert.equal(local.host, "127.0.0.1");
    assert.ok(await accepts("127.0.0.1", local.port));
    // Another loopback address reaches only a server bound to every interface.
    assert.equal(
      await accepts("127.0.0.2", local.port),
      false,
      "listening beyond 127.0.0.1",
    );
    assert.equal(
      await rawGet(local.port, `127.0.0.1:${local.port}`),
      "HTTP/1.1 200 OK",
    );
    assert.equal(
      await rawGet(local.port, "evil.example"),
      "HTTP/1.1 421 Misdirected Request",
    );
  } finally {
    await local.stop();
  }
  const other = await replayServer(["--host", "127.0.0.2"]);
  try {
    assert.equal(other.host, "127.0.0.2");
    assert.ok(await accepts("127.0.0.2", other.port));
    assert.equal(await accepts("127.0.0.1", other.port), false);
  } finally {
    await other.stop();
  }
});
