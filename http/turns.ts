/**
 * Cooperative time slicing for the main thread, which runs HTTP, every SSE
 * stream and the supervisor's heartbeats at once.
 *
 * Stream work (a burst of new viewers, a column fanned out to a thousand of
 * them) is cut into units that each ask {@link turn} first. The units of one
 * event-loop turn share a budget of {@link SLICE_MS} and {@link SLICE_BYTES}
 * (see {@link charge}); past it, a unit waits for the next turn, after the
 * event loop has polled I/O and run its timers.
 * Why not a `setTimeout(0)` per unit: every timer that is due runs in the
 * same timers phase, so a thousand units yielding at once would resume back
 * to back, one long run again. Here one timer marks the end of each turn and
 * the waiting units resume in order, about as many as the last turn
 * admitted; each asks again before working, so only a budget's worth of
 * them works per turn and the rest wait again.
 *
 * @module
 */

/** Main-thread time the sliced work may take per event-loop turn, ms. */
export const SLICE_MS = 5;

/**
 * Bytes the sliced work may hand to the HTTP server per turn. The server
 * writes them to the sockets on this same thread, after the turn's
 * JavaScript, out of sight of the time budget: a column fanned out to a
 * thousand viewers is 20 MB of socket writes.
 */
export const SLICE_BYTES = 1024 * 1024;

/**
 * The event loop's own timer, taken when this module loads: the end of a turn
 * must be a real turn even where a test has faked the clock for the code it
 * watches (the streams' ping timers).
 */
const nextTurn = globalThis.setTimeout.bind(globalThis);

let sliceStart = 0;
let sliceBytes = 0;
/** Whether a slice is open in the current turn. */
let open = false;
/** Whether the end-of-turn timer is pending. */
let scheduled = false;
/** Units waiting for a turn, oldest first from `head`. */
let waiting: (() => void)[] = [];
let head = 0;
/** Units admitted in the current turn. */
let admitted = 0;
/** How many waiting units a new turn resumes: about what the last turn admitted. */
let resumeCount = 16;

/**
 * Runs at the start of the next turn: closes the slice and resumes about as
 * many waiting units as the last turn admitted (resuming all of a thousand,
 * only to send most back to wait, would cost a turn of its own).
 */
function endTurn(): void {
  scheduled = false;
  open = false;
  resumeCount = Math.min(1024, Math.max(8, admitted + 4));
  const end = Math.min(waiting.length, head + resumeCount);
  const resume = waiting.slice(head, end);
  head = end;
  if (head === waiting.length) {
    waiting = [];
    head = 0;
  } else if (head > 4096 && head * 2 > waiting.length) {
    waiting = waiting.slice(head);
    head = 0;
  }
  for (const r of resume) r();
  // Units left waiting are resumed by later turns.
  if (head < waiting.length) schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  nextTurn(endTurn, 0);
}

/**
 * Asks for main-thread time before a unit of work.
 * @returns nothing while the turn's budget lasts (go on at once), else a
 * promise that resolves in a later turn (ask again then).
 * @example
 * ```ts
 * while (streaming) {
 *   await turn();
 *   writeSomeColumns();
 * }
 * ```
 */
export function turn(): Promise<void> | undefined {
  const now = performance.now();
  if (!open) {
    open = true;
    sliceStart = now;
    sliceBytes = 0;
    admitted = 1;
    schedule();
    return undefined;
  }
  if (now - sliceStart < SLICE_MS && sliceBytes < SLICE_BYTES) {
    admitted++;
    return undefined;
  }
  schedule();
  return new Promise<void>((resolve) => waiting.push(resolve));
}

/**
 * Waits until the turn's budget admits a unit: {@link turn} until it says go.
 * @returns when the unit may run.
 * @example
 * ```ts
 * await slot();
 * ```
 */
export async function slot(): Promise<void> {
  let p: Promise<void> | undefined;
  while ((p = turn())) await p;
}

/**
 * Counts bytes a unit handed to the HTTP server against the turn's
 * {@link SLICE_BYTES}.
 * @param bytes bytes enqueued.
 * @example
 * ```ts
 * controller.enqueue(chunk);
 * charge(chunk.byteLength);
 * ```
 */
export function charge(bytes: number): void {
  sliceBytes += bytes;
}
