/**
 * The order of a connection's inputs on the recorded clock: socket frames,
 * clock frames and REST responses are applied in the order of the recorded
 * stream, whatever the replay speed. A REST response arrives on its own HTTP
 * connection, racing the socket; the simulator sends a clock frame naming
 * the request (`ClockFrame.rest`) right before the response, and the
 * response is applied exactly there: frames after that clock frame wait
 * until it is in, and a response that comes first waits for its clock frame.
 *
 * Live (wall clock) connections apply everything as it arrives and do not
 * use this.
 *
 * @module
 */

/** Options for {@link StreamSequencer}. */
export interface SequencerOptions {
  /**
   * Wall time a REST response waits for the clock frame that places it
   * before it is applied where the stream is (a response the simulator did
   * not mark, e.g. one served from its static records), ms.
   * @default 5000
   */
  markerWaitMs?: number;
  /**
   * Wall time the stream waits at a clock frame for the response it names
   * before going on without it (the response is then applied when it
   * arrives), ms.
   * @default 5000
   */
  responseWaitMs?: number;
}

/** A REST request in flight. */
interface Slot<T> {
  readonly key: string;
  readonly take: (body: string) => T;
  readonly resolve: (value: T) => void;
  readonly reject: (e: unknown) => void;
  /** The body once it arrived. */
  body?: string;
  /** The stream passed the clock frame naming this request. */
  passed: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Applies a connection's inputs in recorded-stream order.
 *
 * @example
 * ```ts
 * const seq = new StreamSequencer();
 * // From the socket, in arrival order:
 * seq.run(() => applyFrame(frame, recvTs));
 * seq.marker(key, () => advanceClock(ts)); // a clock frame naming `GET key`
 * // From the snapshot loop:
 * const result = await seq.fetch(key, () => get(url), (body) => offer(body));
 * ```
 */
export class StreamSequencer {
  readonly #markerWaitMs: number;
  readonly #responseWaitMs: number;
  /** Work waiting behind a clock frame whose response is not in yet. */
  #queue: (() => void)[] = [];
  /** The request the stream waits for; null when it flows. */
  #waiting: Slot<unknown> | null = null;
  #waitTimer: ReturnType<typeof setTimeout> | undefined;
  /** Requests in flight by key, oldest first. */
  readonly #slots = new Map<string, Slot<unknown>[]>();
  #closed = false;

  /** @param options how long either side waits for the other. */
  constructor(options: SequencerOptions = {}) {
    this.#markerWaitMs = options.markerWaitMs ?? 5000;
    this.#responseWaitMs = options.responseWaitMs ?? 5000;
  }

  /**
   * Runs `fn` in stream order: now, unless the stream waits for a response.
   * @param fn the work (applying one frame, a clock step, a session end).
   */
  run(fn: () => void): void {
    if (this.#waiting || this.#queue.length) this.#queue.push(fn);
    else fn();
  }

  /**
   * A clock frame naming a REST request: runs `step` (the clock advance) in
   * stream order, then applies the response of the oldest request in
   * flight for `key` there, waiting for it when it is not in yet. A key
   * with no request in flight is only a clock step.
   * @param key the request's path and query (`restKey`).
   * @param step the clock advance.
   */
  marker(key: string, step: () => void): void {
    this.run(() => {
      step();
      const slot = this.#slots.get(key)?.find((s) => !s.passed);
      if (!slot) return;
      slot.passed = true;
      if (slot.body !== undefined) {
        this.#take(slot);
        return;
      }
      this.#waiting = slot;
      this.#waitTimer = setTimeout(
        () => this.#resume(slot),
        this.#responseWaitMs,
      );
    });
  }

  /**
   * Makes a REST request whose response is applied in stream order.
   * @param key the request's path and query (`restKey`), as the clock frame
   * placing it names it.
   * @param get makes the request and resolves with the body.
   * @param take applies the body, in stream order.
   * @returns what `take` returns.
   * @throws {Error} what `get` or `take` throws; `Sequencer closed` once
   * {@link close} was called.
   */
  fetch<T>(
    key: string,
    get: () => Promise<string>,
    take: (body: string) => T,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("Sequencer closed"));
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const slot: Slot<T> = { key, take, resolve, reject, passed: false };
    const list = this.#slots.get(key);
    if (list) list.push(slot as Slot<unknown>);
    else this.#slots.set(key, [slot as Slot<unknown>]);
    get().then(
      (body) => this.#arrived(slot as Slot<unknown>, body),
      (e) => this.#failed(slot as Slot<unknown>, e),
    );
    return promise;
  }

  /** Stops waiting: queued work runs now, requests in flight reject. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#waitTimer);
    this.#waiting = null;
    for (const list of this.#slots.values()) {
      for (const s of list) {
        clearTimeout(s.timer);
        s.reject(new Error("Sequencer closed"));
      }
    }
    this.#slots.clear();
    this.#drain();
  }

  #arrived(slot: Slot<unknown>, body: string): void {
    if (this.#closed) return;
    slot.body = body;
    if (this.#waiting === slot) {
      this.#take(slot);
      this.#resume(slot);
    } else if (slot.passed) {
      // Its clock frame was passed after waiting too long: apply it now.
      this.#run(slot);
    } else {
      slot.timer = setTimeout(() => {
        slot.passed = true;
        this.#run(slot);
      }, this.#markerWaitMs);
    }
  }

  #failed(slot: Slot<unknown>, e: unknown): void {
    if (this.#closed) return;
    this.#forget(slot);
    slot.reject(e);
    if (this.#waiting === slot) this.#resume(slot);
  }

  /** Applies a slot's body in stream order. */
  #run(slot: Slot<unknown>): void {
    this.run(() => this.#take(slot));
  }

  #take(slot: Slot<unknown>): void {
    clearTimeout(slot.timer);
    this.#forget(slot);
    try {
      slot.resolve(slot.take(slot.body!));
    } catch (e) {
      slot.reject(e);
    }
  }

  #forget(slot: Slot<unknown>): void {
    const list = this.#slots.get(slot.key);
    const i = list?.indexOf(slot) ?? -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.#slots.delete(slot.key);
  }

  /** The stream stops waiting for `slot` and runs what queued behind it. */
  #resume(slot: Slot<unknown>): void {
    if (this.#waiting !== slot) return;
    clearTimeout(this.#waitTimer);
    this.#waiting = null;
    this.#drain();
  }

  #drain(): void {
    while (!this.#waiting && this.#queue.length) this.#queue.shift()!();
  }
}
