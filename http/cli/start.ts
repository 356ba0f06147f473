/**
 * `deno task start`: loads the configuration, starts the actors and serves
 * the HTTP API and viewer until SIGINT/SIGTERM, then shuts down in order.
 *
 * The port is bound before any actor starts, so a busy port fails at once.
 * The app answers only the hosts and origins the configuration allows
 * (`http.allowedHosts`, `http.corsOrigins`).
 * Every failure ends with one line on stderr and a non-zero exit: 2 for a
 * bad configuration, 1 for anything else. Configuration warnings go to
 * stderr, one line each.
 *
 * @module
 */

import { createApp } from "../app.ts";
import { startCoby } from "../../actors/system/start.ts";
import { ConfigError, loadConfig } from "../../actors/system/config.ts";

/** One line for stderr from an error. */
function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.trim().replace(/\s*\n\s*/g, "; ");
}

if (import.meta.main) {
  try {
    const cfg = await loadConfig((k) => Deno.env.get(k), {
      warn: (m) => console.error(`coby: warning: ${m}`),
    });
    const { host, port } = cfg.http;
    let serve: ((req: Request) => Response | Promise<Response>) | null = null;
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve(
        { hostname: host, port, onListen: () => {} },
        (req) => serve ? serve(req) : new Response("Starting", { status: 503 }),
      );
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) {
        throw new Error(
          `Cannot listen on ${host}:${port}: the port is already in use (set PORT)`,
        );
      }
      throw new Error(`Cannot listen on ${host}:${port}: ${oneLine(e)}`);
    }
    const coby = await startCoby(cfg);
    serve = createApp(coby).fetch;
    const shown = server.addr.hostname.includes(":")
      ? `[${server.addr.hostname}]`
      : server.addr.hostname;
    console.log(`coby listening on http://${shown}:${server.addr.port}/`);
    // One shutdown, however many signals arrive: `deno task` forwards the
    // terminal's SIGINT to a process that has received it already.
    let stopping = false;
    const shutdown = async () => {
      if (stopping) return;
      stopping = true;
      console.log("coby: shutting down");
      let code = 0;
      try {
        await coby.supervisor.stop();
        await server.shutdown();
      } catch (e) {
        console.error(`coby: shutdown failed: ${oneLine(e)}`);
        code = 1;
      }
      Deno.exit(code);
    };
    Deno.addSignalListener("SIGINT", shutdown);
    Deno.addSignalListener("SIGTERM", shutdown);
  } catch (e) {
    console.error(`coby: ${oneLine(e)}`);
    Deno.exit(e instanceof ConfigError ? 2 : 1);
  }
}
