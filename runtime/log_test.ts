import assert from "node:assert/strict";
import {
  createLogger,
  formatJson,
  formatText,
  type LogFields,
  type LogLevel,
  logOptionsFromEnv,
  recordLogger,
  redactText,
  redactUrl,
} from "./log.ts";

/** A logger writing into a list, on a fixed clock. */
function capture(
  format: "text" | "json",
  level?: LogLevel,
): {
  lines: string[];
  levels: LogLevel[];
  log: ReturnType<typeof createLogger>;
} {
  const lines: string[] = [];
  const levels: LogLevel[] = [];
  const log = createLogger({
    format,
    level,
    now: () => Date.UTC(2026, 11, 3, 16, 40, 1, 250),
    write: (line, lvl) => {
      lines.push(line);
      levels.push(lvl);
    },
  });
  return { lines, levels, log };
}

Deno.test("log: text lines carry the time, level, actor, message and fields in order", () => {
  const log = capture("text");
  log.log.child({ actor: "conn:binance", exchange: "binance" })
    .child({ cid: "conn:binance#9f3c.2" })
    .warn("binance NKNUSDT: resync (sequence gap at 12 (prev 10))", {
      symbol: "NKNUSDT",
      url: "ws://h/stream?streams=a b",
    });
  assert.deepEqual(log.lines, [
    "2026-12-03T16:40:01.250Z warn [conn:binance] binance NKNUSDT: resync " +
    "(sequence gap at 12 (prev 10)) cid=conn:binance#9f3c.2 exchange=binance " +
    'symbol=NKNUSDT url="ws://h/stream?streams=a b"',
  ]);
});

Deno.test("log: a text line is one line, without an actor when none is bound", () => {
  const { lines, log } = capture("text");
  log.error("two\nlines", { n: 3, ok: false, none: null, gone: undefined });
  assert.deepEqual(lines, [
    "2026-12-03T16:40:01.250Z error two\\nlines n=3 ok=false none=null",
  ]);
});

Deno.test("log: JSON lines are one object with time, level, the known fields first and msg last", () => {
  const { lines, log } = capture("json");
  const session = log.child({ actor: "replay", cid: "r-42" });
  session.info("replay r-42 started", { exchange: "okx", speed: 10 });
  session.debug("dropped: below info");
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0],
    '{"time":"2026-12-03T16:40:01.250Z","level":"info","actor":"replay",' +
      '"cid":"r-42","exchange":"okx","speed":10,"msg":"replay r-42 started"}',
  );
  // A field cannot replace the record's own time, level or message.
  log.warn("real", { time: "x", level: "error", msg: "fake" });
  const o = JSON.parse(lines[1]);
  assert.deepEqual([o.time, o.level, o.msg], [
    "2026-12-03T16:40:01.250Z",
    "warn",
    "real",
  ]);
});

Deno.test("log: lines below the level are dropped; each is written with its level", () => {
  const { lines, levels, log } = capture("json", "warn");
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ["w", "e"]);
  assert.deepEqual(levels, ["warn", "error"]);
  const all = capture("text", "debug");
  all.log.debug("d");
  assert.match(all.lines[0], /^\S+ debug d$/);
});

Deno.test("log: a record logger hands records on with bound fields merged, later ones winning", () => {
  const got: [LogLevel, string, LogFields][] = [];
  const log = recordLogger((l, m, f) => got.push([l, m, f]), {
    exchange: "kraken",
    cid: "a",
  });
  log.child({ cid: "b" }).warn("checksum", { symbol: "GRT/ETH" });
  log.info("plain");
  assert.deepEqual(got, [
    ["warn", "checksum", { exchange: "kraken", cid: "b", symbol: "GRT/ETH" }],
    ["info", "plain", { exchange: "kraken", cid: "a" }],
  ]);
});

Deno.test("log: the formatters take records directly", () => {
  const r = { time: 0, level: "info" as const, msg: "m", fields: {} };
  assert.equal(formatText(r), "1970-01-01T00:00:00.000Z info m");
  assert.equal(
    formatJson(r),
    '{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"m"}',
  );
});

Deno.test("log: COBY_LOG and COBY_LOG_LEVEL select format and level; a bad value is reported, not fatal", () => {
  const env = (vars: Record<string, string>) => (k: string) => vars[k];
  assert.deepEqual(logOptionsFromEnv(env({})), {
    format: "text",
    level: "info",
    problems: [],
  });
  assert.deepEqual(
    logOptionsFromEnv(env({ COBY_LOG: "JSON", COBY_LOG_LEVEL: "debug" })),
    { format: "json", level: "debug", problems: [] },
  );
  const bad = logOptionsFromEnv(
    env({ COBY_LOG: "xml", COBY_LOG_LEVEL: "loud" }),
  );
  assert.equal(bad.format, "text");
  assert.equal(bad.level, "info");
  assert.deepEqual(bad.problems, [
    'COBY_LOG "xml" is not text or json; logging text',
    'COBY_LOG_LEVEL "loud" is not one of debug, info, warn, error; logging from info',
  ]);
});

Deno.test("log: redactUrl drops tokens, API keys and user info, and keeps the rest", () => {
  assert.equal(
    redactUrl(
      "http://127.0.0.1:8080/api/v1/heatmap/stream?symbol=BTC-USD&token=eyJhbGciOi.x.y&depth=5",
    ),
    "http://127.0.0.1:8080/api/v1/heatmap/stream?symbol=BTC-USD&depth=5",
  );
  assert.equal(
    redactUrl("/api/v1/replay/r1/stream?API_KEY=k1&access_token=t&Key=z"),
    "/api/v1/replay/r1/stream",
  );
  assert.equal(
    redactUrl("redis://user:secret@redis:6379/0"),
    "redis://redis:6379/0",
  );
  assert.equal(
    redactUrl("wss://ws.kucoin.com/endpoint?token=2neAiuYvAU61&connectId=7"),
    "wss://ws.kucoin.com/endpoint?connectId=7",
  );
  assert.equal(redactUrl("/api/v1/health"), "/api/v1/health");
});

Deno.test("log: text quoting a URL loses its credentials, and so does every line written", () => {
  assert.equal(
    redactText(
      "Cannot open wss://ws.kucoin.com/endpoint?token=2neAiuYvAU61&connectId=7: refused",
    ),
    "Cannot open wss://ws.kucoin.com/endpoint?token=REDACTED&connectId=7: refused",
  );
  assert.equal(
    redactText("redis://coby:s3cret@redis:6379 down; GET /x?a=1&API_KEY=k1"),
    "redis://redis:6379 down; GET /x?a=1&API_KEY=REDACTED",
  );
  assert.equal(redactText("resync (gap at 12)"), "resync (gap at 12)");
  for (const format of ["text", "json"] as const) {
    const { lines, log } = capture(format);
    log.error("GET /api/v1/replay/r1/stream?token=eyJhbGciOi.x.y failed", {
      url: "http://h/api/v1/heatmap/stream?symbol=BTC-USD&token=eyJ.a.b",
    });
    assert.doesNotMatch(lines[0], /eyJ/, lines[0]);
    assert.match(lines[0], /symbol=BTC-USD/);
  }
});
