/**
 * Queue depth of the MessageChannel links between actors. A MessagePort
 * cannot tell how many messages wait in it, so each end counts: the sender
 * the messages it posted on the link's current port, the receiver those
 * dispatched to it. Both publish their counts in their stats (`links`), and
 * the supervisor, which wired the link, takes the difference: the messages
 * posted and not yet handled.
 *
 * @module
 */

/** One end of a link as an actor reports it. */
export interface LinkEnd {
  /** `out`: messages posted; `in`: messages dispatched to the actor. */
  readonly role: "in" | "out";
  /** Messages on the current port. */
  readonly count: number;
  /** When this end got the current port, ms since epoch (`Date.now()`). */
  readonly since: number;
}

/**
 * The key of a link end in an actor's `links` stats.
 * @param role the end.
 * @param name the link's name.
 * @param peer the actor at the other end.
 * @returns e.g. `out events aggregator`.
 * @example
 * ```ts
 * linkKey("in", "events", "conn:binance"); // "in events conn:binance"
 * ```
 */
export function linkKey(
  role: "in" | "out",
  name: string,
  peer: string,
): string {
  return `${role} ${name} ${peer}`;
}

/**
 * Counts the messages on an actor's link ports (see the module doc).
 *
 * @example
 * ```ts
 * const meter = new LinkMeter();
 * meter.watch("events", "aggregator", "out", port); // port.postMessage counts
 * ctx.stats({ ...stats, links: meter.snapshot() });
 * ```
 */
export class LinkMeter {
  readonly #ends = new Map<
    string,
    { role: "in" | "out"; count: number; since: number }
  >();

  /** Links watched. */
  get size(): number {
    return this.#ends.size;
  }

  /**
   * Starts counting on a link's new port; the count of its old port ends.
   * An `out` port's `postMessage` counts each message; an `in` port counts
   * each message dispatched to it (a listener next to the actor's own).
   * @param name the link's name.
   * @param peer the actor at the other end.
   * @param role which end this is.
   * @param port the port.
   */
  watch(
    name: string,
    peer: string,
    role: "in" | "out",
    port: MessagePort,
  ): void {
    const end = { role, count: 0, since: Date.now() };
    this.#ends.set(linkKey(role, name, peer), end);
    if (role === "out") {
      const post = port.postMessage.bind(port) as (
        ...args: unknown[]
      ) => void;
      port.postMessage = ((...args: unknown[]) => {
        post(...args);
        end.count++;
      }) as MessagePort["postMessage"];
    } else {
      port.addEventListener("message", () => end.count++);
    }
  }

  /**
   * The counts now.
   * @returns link key (see {@link linkKey}) → end.
   */
  snapshot(): Record<string, LinkEnd> {
    const out: Record<string, LinkEnd> = {};
    for (const [k, e] of this.#ends) out[k] = { ...e };
    return out;
  }
}

/**
 * Messages waiting on a link: posted by the sender on the current port and
 * not yet dispatched to the receiver.
 * @param out the sender's end, from its stats.
 * @param into the receiver's end, from its stats.
 * @param wiredAt when the supervisor wired the current ports, ms since epoch.
 * @returns the depth, or null while an end still reports an older port (or
 * none).
 * @example
 * ```ts
 * linkDepth({ role: "out", count: 10, since: t }, { role: "in", count: 7, since: t }, t); // 3
 * ```
 */
export function linkDepth(
  out: LinkEnd | undefined,
  into: LinkEnd | undefined,
  wiredAt: number,
): number | null {
  if (!out || !into || out.since < wiredAt || into.since < wiredAt) {
    return null;
  }
  return Math.max(0, out.count - into.count);
}
