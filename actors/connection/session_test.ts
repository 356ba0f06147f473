import assert from "node:assert/strict";
import { binanceAdapter } from "../adapters/binance.ts";
import { Session } from "./session.ts";

const CAPTURES = "../shared/data/captures/cryptofeed";

/**
 * A local venue: `/api/v3/exchangeInfo` answers the capture's body; each
 * WebSocket gets one recorded frame and is then closed by the server.
 */
async function venue() {
  const line =
    (await Deno.readTextFile(`${CAPTURES}/BINANCE.0`)).split("\n")[0];
  const info = line.slice(line.indexOf(": ") + 2);
  const paths: string[] = [];
  let metadataGets = 0;
  const server = Deno.serve({ port: 0, onListen: () => {} }, (req) => {
    const u = new URL(req.url);
    if (u.pathname === "/api/v3/exchangeInfo") {
      metadataGets++;
      return new Response(info);
    }
    paths.push(u.pathname + u.search);
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      socket.send('{"stream":"x","data":{}}');
      setTimeout(() => socket.close(4000, "bye"), 20);
    };
    return response;
  });
  const origin = `127.0.0.1:${server.addr.port}`;
  return { server, origin, paths, gets: () => metadataGets };
}

Deno.test("session: instruments load once, each closed session reconnects with backoff, unknown symbols are named", async () => {
  const v = await venue();
  const stop = new AbortController();
  const states: string[] = [];
  const ends: string[] = [];
  let opens = 0;
  let frames = 0;
  let missing: readonly string[] = [];
  const s = new Session({
    adapter: binanceAdapter,
    symbols: ["BTC-USDT", "NOPE-USDT"],
    group: "",
    wsOrigin: `ws://${v.origin}`,
    restOrigin: `http://${v.origin}`,
    silenceMs: 5000,
    signal: stop.signal,
    onInstruments: (found, miss) => {
      assert.deepEqual(found.map((i) => i.exchangeSymbol), ["BTCUSDT"]);
      missing = miss;
    },
    onState: (state, why) => states.push(why ? `${state}: ${why}` : state),
    onOpen: () => opens++,
    onFrame: (_f, _ts, hb) => {
      assert.equal(hb, false);
      frames++;
    },
    warn: () => {},
  });
  assert.equal(s.send(["x"]), false);
  const run = s.run((why) => ends.push(why));
  const end = Date.now() + 10_000;
  while (opens < 2 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
  }
  stop.abort();
  await run;
  await v.server.shutdown();
  assert.ok(opens >= 2, `${opens} sessions`);
  assert.equal(v.gets(), 1, "instruments are loaded once");
  assert.deepEqual(missing, ["NOPE-USDT"]);
  assert.ok(frames >= 2);
  assert.equal(states[0], "connecting");
  assert.match(ends[0], /^closed 4000 bye$/);
  assert.ok(v.paths[0].includes("btcusdt@depth"), v.paths[0]);
});

Deno.test("session: a venue that lists none of the symbols ends each attempt with a clear reason", async () => {
  const v = await venue();
  const stop = new AbortController();
  const ends: string[] = [];
  const s = new Session({
    adapter: binanceAdapter,
    symbols: ["NOPE-USDT"],
    group: "",
    wsOrigin: `ws://${v.origin}`,
    restOrigin: `http://${v.origin}`,
    silenceMs: 5000,
    signal: stop.signal,
    onInstruments: () => assert.fail("no instruments expected"),
    onState: () => {},
    onOpen: () => assert.fail("no session expected"),
    onFrame: () => {},
    warn: () => {},
  });
  const run = s.run((why) => {
    ends.push(why);
    stop.abort();
  });
  await run;
  await v.server.shutdown();
  assert.deepEqual(ends, ["None of the symbols NOPE-USDT is listed"]);
});
