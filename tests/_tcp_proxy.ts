/**
 * A TCP proxy for chaos tests: listens on 127.0.0.1 and pipes every
 * connection both ways to a target, until told to cut. {@link TcpProxy.cut}
 * closes every open connection and the listening socket, so new connections
 * are refused (ECONNREFUSED) as from a host whose server is down;
 * {@link TcpProxy.open} listens again on the same port.
 *
 * @module
 */

/** Options for {@link TcpProxy.start}. */
export interface TcpProxyOptions {
  /**
   * Where connections go.
   * @default { hostname: "127.0.0.1", port: 5432 }
   */
  target?: { hostname: string; port: number };
  /**
   * Start refusing: the port is reserved, nothing listens until
   * {@link TcpProxy.open}.
   * @default false
   */
  refusing?: boolean;
}

/**
 * A cuttable TCP proxy on 127.0.0.1.
 *
 * @example
 * ```ts
 * const proxy = TcpProxy.start();
 * const url = `postgres://postgres@127.0.0.1:${proxy.port}/db`;
 * proxy.cut(); // every connection dropped, new ones refused
 * proxy.open(); // accepting again
 * await proxy.close();
 * ```
 */
export class TcpProxy {
  /** The port it listens on (kept while cut). */
  readonly port: number;
  readonly #target: { hostname: string; port: number };
  readonly #conns = new Set<Deno.Conn>();
  #listener: Deno.Listener | undefined;
  #accepting: Promise<void> | undefined;
  #accepted = 0;
  #cuts = 0;

  private constructor(
    port: number,
    target: { hostname: string; port: number },
  ) {
    this.port = port;
    this.#target = target;
  }

  /**
   * Starts a proxy on a free port of 127.0.0.1.
   * @param options the target, and whether it starts refusing.
   * @returns the proxy, listening unless `refusing`.
   * @throws what `Deno.listen` throws.
   * @example
   * ```ts
   * const proxy = TcpProxy.start({ refusing: true });
   * ```
   */
  static start(options: TcpProxyOptions = {}): TcpProxy {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = new TcpProxy(
      l.addr.port,
      options.target ?? { hostname: "127.0.0.1", port: 5432 },
    );
    if (options.refusing) l.close();
    else p.#serve(l);
    return p;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Sockets open now (client and target sides). */
  get sockets(): number {
    return this.#conns.size;
  }

  /** Whether it listens now. */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  /**
   * Closes every open connection (both sides) and stops listening: new
   * connections are refused until {@link open}.
   * @returns connections closed.
   */
  cut(): number {
    this.#cuts++;
    this.#listener?.close();
    this.#listener = undefined;
    const n = this.#conns.size;
    for (const c of this.#conns) closeQuietly(c);
    this.#conns.clear();
    return n;
  }

  /**
   * Listens again on the same port (nothing when it listens already).
   * @example
   * ```ts
   * proxy.open();
   * ```
   * @throws {Deno.errors.AddrInUse} when another process took the port
   *   meanwhile.
   */
  open(): void {
    if (this.#listener) return;
    this.#serve(Deno.listen({ hostname: "127.0.0.1", port: this.port }));
  }

  /**
   * Cuts everything and waits for the accept loop to end.
   * @returns when closed.
   * @example
   * ```ts
   * await proxy.close();
   * ```
   */
  async close(): Promise<void> {
    this.cut();
    await this.#accepting;
  }

  #serve(l: Deno.Listener): void {
    this.#listener = l;
    this.#accepting = (async () => {
      try {
        for await (const client of l) {
          this.#accepted++;
          this.#pipe(client);
        }
      } catch {
        // The listener was closed by cut().
      }
    })();
  }

  async #pipe(client: Deno.Conn): Promise<void> {
    const cuts = this.#cuts;
    this.#conns.add(client);
    let server: Deno.Conn;
    try {
      server = await Deno.connect(this.#target);
    } catch {
      this.#conns.delete(client);
      closeQuietly(client);
      return;
    }
    if (cuts !== this.#cuts) {
      // Cut while connecting: this connection is one of those dropped.
      closeQuietly(server);
      closeQuietly(client);
      return;
    }
    this.#conns.add(server);
    const done = () => {
      this.#conns.delete(client);
      this.#conns.delete(server);
      closeQuietly(client);
      closeQuietly(server);
    };
    await Promise.allSettled([
      copy(client, server),
      copy(server, client),
    ]);
    done();
  }
}

/** Copies `from` to `to` until `from` ends or either side fails. */
async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      for (let off = 0; off < n;) off += await to.write(buf.subarray(off, n));
    }
  } finally {
    // Either side ending ends the pair: the other copy fails on its next
    // read or write.
    closeQuietly(from);
    closeQuietly(to);
  }
}

/** Closes a connection that may already be closed. */
function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch {
    // Already closed.
  }
}
