/**
 * Time labels of the viewer: the heatmap's time axis, its cursor readout and
 * the replay clock. Every time is a column's or a session's event time (ms
 * since the Unix epoch, UTC), never the wall clock: a replay shows when its
 * recording happened.
 *
 * @module
 */

/** Options for {@linkcode formatTime} and {@linkcode timeAxisLabels}. */
export interface TimeFormat {
  /**
   * Label in UTC (a replay's recording time) rather than the browser's time
   * zone (the live view).
   * @default {false}
   */
  utc?: boolean;
  /**
   * Show seconds.
   * @default {false}
   */
  seconds?: boolean;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Formats a time of day as `HH:MM` or `HH:MM:SS`.
 * @param ms ms since epoch.
 * @param format time zone and seconds.
 * @returns the text.
 * @example The time of day in UTC
 * ```ts
 * formatTime(Date.UTC(2021, 9, 11, 23, 59, 58), { utc: true, seconds: true }); // "23:59:58"
 * ```
 */
export function formatTime(ms: number, format: TimeFormat = {}): string {
  const d = new Date(ms);
  const utc = format.utc ?? false;
  const hm = utc
    ? `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`
    : `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (!format.seconds) return hm;
  return `${hm}:${pad2(utc ? d.getUTCSeconds() : d.getSeconds())}`;
}

/**
 * Formats a date as `YYYY-MM-DD`.
 * @param ms ms since epoch.
 * @param utc the UTC date rather than the browser's.
 * @returns the text.
 * @example The UTC date
 * ```ts
 * formatDate(Date.UTC(2021, 9, 11, 23, 59), true); // "2021-10-11"
 * ```
 */
export function formatDate(ms: number, utc: boolean): string {
  const d = new Date(ms);
  return utc
    ? `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${
      pad2(d.getUTCDate())
    }`
    : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/**
 * Formats a replay's clock: the UTC date and time of its position.
 * @param ms ms since epoch.
 * @returns `YYYY-MM-DD HH:MM:SS UTC`, or `–` for a time that is not finite.
 * @example A session's position
 * ```ts
 * formatClock(Date.UTC(2021, 9, 11, 23, 59, 58, 250)); // "2021-10-11 23:59:58 UTC"
 * ```
 */
export function formatClock(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  return `${formatDate(ms, true)} ${
    formatTime(ms, { utc: true, seconds: true })
  } UTC`;
}

/**
 * Labels of the heatmap's time axis. In UTC (a replay) the first label and
 * every label on a new day carry the date on a second line, so the
 * recording's day is always on screen; in local time (live) labels are the
 * time of day only.
 * @param splits tick times, ms since epoch, ascending.
 * @param format time zone and seconds.
 * @returns one label per split.
 * @example Across midnight in UTC
 * ```ts
 * timeAxisLabels([Date.UTC(2021, 9, 11, 23, 59), Date.UTC(2021, 9, 12)], { utc: true });
 * // ["23:59\n2021-10-11", "00:00\n2021-10-12"]
 * ```
 */
export function timeAxisLabels(
  splits: readonly number[],
  format: TimeFormat = {},
): string[] {
  const utc = format.utc ?? false;
  const out = new Array<string>(splits.length);
  let day = "";
  for (let i = 0; i < splits.length; i++) {
    const t = formatTime(splits[i], format);
    if (!utc) {
      out[i] = t;
      continue;
    }
    const d = formatDate(splits[i], true);
    out[i] = d === day ? t : `${t}\n${d}`;
    day = d;
  }
  return out;
}
