/**
 * What `deno task start` and `deno task serve` share: binding the port
 * before anything starts (a busy port fails at once), then handing
 * requests to the app once it exists; one orderly shutdown on
 * SIGINT/SIGTERM; one line on stderr for a failure.
 *
 * @module
 */

import { processLog } from "../../runtime/log.ts";

/** An app's fetch: the request and its connection's info. */
export type Handler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** A bound server whose app is set once ready. */
export interface Listening {
  /** The bound address, as printed (`http://127.0.0.1:8080/`). */
  readonly url: string;
  /**
   * Starts answering with the app (503 `Starting` until then); it gets the
   * connection's info (the client's address, for the rate limits).
   */
  ready(app: Handler): void;
  /** Stops accepting and finishes the requests under way. */
  shutdown(): Promise<void>;
}

/**
 * One line for stderr from an error.
 * @param e anything thrown.
 * @returns its message on one line.
 */
export function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.trim().replace(/\s*\n\s*/g, "; ");
}

/** Options for {@link listen}. */
export interface ListenOptions {
  /**
   * The message when the port is in use.
   * @default "Cannot listen on <host>:<port>: the port is already in use (set PORT)"
   */
  busy?: string;
}

/**
 * Binds the HTTP port.
 * @param host address to listen on.
 * @param port port (0: any free one).
 * @param options the busy-port message.
 * @returns the listening server.
 * @throws {Error} `Cannot listen on host:port: …` (the port in use, say).
 * @example
 * ```ts
 * const l = listen("127.0.0.1", 8080);
 * l.ready(createApp(deps).fetch);
 * ```
 */
export function listen(
  host: string,
  port: number,
  options: ListenOptions = {},
): Listening {
  let app: Handler | null = null;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname: host, port, onListen: () => {} },
      (req, info) =>
        app ? app(req, info) : new Response("Starting", { status: 503 }),
    );
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new Error(
        options.busy ??
          `Cannot listen on ${host}:${port}: the port is already in use (set PORT)`,
      );
    }
    throw new Error(`Cannot listen on ${host}:${port}: ${oneLine(e)}`);
  }
  const shown = server.addr.hostname.includes(":")
    ? `[${server.addr.hostname}]`
    : server.addr.hostname;
  return {
    url: `http://${shown}:${server.addr.port}/`,
    ready: (a) => app = a,
    shutdown: () => server.shutdown(),
  };
}

/**
 * Runs `stop` once on the first SIGINT or SIGTERM, then exits (1 when it
 * failed). `deno task` forwards the terminal's SIGINT to a process that has
 * received it already, so later signals are ignored.
 * @param name the program's name, for the log lines.
 * @param stop the orderly shutdown.
 */
export function onSignal(name: string, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    processLog().info(`${name}: shutting down`, { actor: name });
    let code = 0;
    try {
      await stop();
    } catch (e) {
      console.error(`${name}: shutdown failed: ${oneLine(e)}`);
      code = 1;
    }
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
}
