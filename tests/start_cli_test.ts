/**
 * `deno task start` as a user runs it, and how it fails: one line on stderr
 * and a non-zero exit, never a stack trace; warnings name what is ignored;
 * one shutdown however many signals arrive. The configured exchange points
 * at a closed local port, so nothing leaves the machine.
 */

import assert from "node:assert/strict";

/** A config file: Binance only, its endpoints on a closed local port. */
async function localConfig(): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      exchanges: {
        binance: {
          symbols: ["BTC-USDT"],
          restOrigin: "http://127.0.0.1:9",
          wsOrigin: "ws://127.0.0.1:9",
        },
      },
    }),
  );
  return file;
}

/** Collects a child's output stream as text. */
async function collect(
  stream: ReadableStream<Uint8Array>,
  sink: { text: string },
): Promise<void> {
  const dec = new TextDecoder();
  for await (const chunk of stream) {
    sink.text += dec.decode(chunk, { stream: true });
  }
}

/** The history data directory of every start here (never the repo's `data/`). */
const DATA_DIR = Deno.makeTempDirSync({ prefix: "coby-start-cli-" });
globalThis.addEventListener("unload", () => {
  Deno.removeSync(DATA_DIR, { recursive: true });
});

/**
 * Starts `deno task start` with `env`, waits until it listens, sends it
 * SIGINT, and `signals - 1` more once it says it is shutting down (as
 * `deno task` forwards the terminal's SIGINT to a child that has received it
 * already); then waits for it to exit.
 */
async function startAndInterrupt(
  env: Record<string, string>,
  signals: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", "http/cli/start.ts"],
    env: { PORT: "0", HOST: "127.0.0.1", COBY_DATA_DIR: DATA_DIR, ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { text: "" };
  const err = { text: "" };
  const reading = Promise.all([
    collect(child.stdout, out),
    collect(child.stderr, err),
  ]);
  const deadline = Date.now() + 60_000;
  while (!out.text.includes("coby listening on http://127.0.0.1:")) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`start did not listen:\n${out.text}\n${err.text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGINT");
  if (signals > 1) {
    while (!out.text.includes("coby: shutting down")) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    for (let i = 1; i < signals; i++) {
      try {
        child.kill("SIGINT");
      } catch {
        break; // it has exited already
      }
    }
  }
  const { code } = await child.status;
  await reading;
  return { code, stdout: out.text, stderr: err.text };
}

/** Asserts `stderr` is one line, no stack trace, matching `want`. */
function assertOneLine(stderr: string, want: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `not one line:\n${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at /m, "stack trace");
  assert.match(lines[0], want);
}

Deno.test("start CLI: a port in use is one line and exit 1, before any actor starts", async () => {
  const config = await localConfig();
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "-q", "http/cli/start.ts"],
      env: {
        COBY_CONFIG: config,
        PORT: String(port),
        HOST: "127.0.0.1",
        COBY_DATA_DIR: DATA_DIR,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 1);
    assertOneLine(
      new TextDecoder().decode(out.stderr),
      new RegExp(
        `^coby: Cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use \\(set PORT\\)$`,
      ),
    );
    assert.equal(new TextDecoder().decode(out.stdout), "");
  } finally {
    busy.close();
    await Deno.remove(config);
  }
});

Deno.test("start CLI: a bad configuration is one line and exit 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", "http/cli/start.ts"],
    env: { COBY_TICK_MS: "-5" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assertOneLine(
    new TextDecoder().decode(out.stderr),
    /^coby: Invalid config at tickMs: /,
  );
});

Deno.test("start CLI: COBY_SYMBOLS=NOPE is warned about on stderr, naming it", async () => {
  const config = await localConfig();
  try {
    const r = await startAndInterrupt({
      COBY_CONFIG: config,
      COBY_EXCHANGES: "binance",
      COBY_SYMBOLS: "NOPE",
    }, 1);
    assert.equal(r.code, 0, r.stderr);
    assertOneLine(
      r.stderr,
      /^coby: warning: COBY_SYMBOLS "NOPE" is not a selector .* binance /,
    );
  } finally {
    await Deno.remove(config);
  }
});

Deno.test("start CLI: two SIGINTs (as `deno task` forwards one) shut down once", async () => {
  const config = await localConfig();
  try {
    const r = await startAndInterrupt({ COBY_CONFIG: config }, 2);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split("coby: shutting down").length - 1, 1, r.stdout);
    assert.equal(r.stderr, "");
  } finally {
    await Deno.remove(config);
  }
});
