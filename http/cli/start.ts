/**
 * `deno task start`: loads the configuration, starts the actors and serves
 * the HTTP API and viewer until SIGINT/SIGTERM, then shuts down in order.
 *
 * @module
 */

import { createApp } from "../app.ts";
import { startCoby } from "../../actors/system/start.ts";
import { ConfigError, loadConfig } from "../../actors/system/config.ts";

if (import.meta.main) {
  try {
    const cfg = await loadConfig((k) => Deno.env.get(k));
    const coby = await startCoby(cfg);
    const server = Deno.serve(
      {
        hostname: cfg.http.host,
        port: cfg.http.port,
        onListen: ({ hostname, port }) =>
          console.log(`coby listening on http://${hostname}:${port}/`),
      },
      createApp(coby).fetch,
    );
    const shutdown = async () => {
      console.log("coby: shutting down");
      await coby.supervisor.stop();
      await server.shutdown();
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGINT", shutdown);
    Deno.addSignalListener("SIGTERM", shutdown);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      Deno.exit(2);
    }
    throw e;
  }
}
