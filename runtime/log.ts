/**
 * Logging: one {@link Logger} shape for the main thread and the actors.
 *
 * A line is a level, a message and named fields. The fields coby binds:
 * - `actor`: the actor (or program) that wrote it, e.g. `conn:binance`;
 * - `cid`: the correlation id: a connection's incarnation
 *   (`conn:binance#k3f9.2`: the actor, a tag of the worker's run, and the
 *   socket's ordinal, new on each (re)connect) or a replay session's id;
 * - `exchange` and `symbol` where the line is about one.
 *
 * The main thread formats and writes lines ({@link createLogger}); an actor
 * hands its records to the supervisor (`ctx.log`), which adds `actor` and
 * writes them through its logger ({@link recordLogger} wraps such a sink).
 * `COBY_LOG=json` selects JSON lines, one object a line; readable text is the
 * default. `COBY_LOG_LEVEL` (`debug`, `info`, `warn`, `error`; default
 * `info`) drops lines below it.
 *
 * Secrets are never logged: code that logs a URL passes it through
 * {@link redactUrl}, and every line written is scrubbed by
 * {@link redactText} besides (an error message may quote a URL).
 *
 * @module
 */

/** Severity of a line, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Every level, lowest first. */
const LOG_LEVELS: readonly LogLevel[] = [
  "debug",
  "info",
  "warn",
  "error",
];

/** A value a field may carry; `undefined` fields are left out of the line. */
export type LogValue = string | number | boolean | null | undefined;

/**
 * Named values of a line: `actor`, `cid`, `exchange`, `symbol` (see the
 * module notes) and any other, e.g. `url`.
 */
export type LogFields = Readonly<Record<string, LogValue>>;

/** One line before it is formatted. */
export interface LogRecord {
  /** When, ms since epoch UTC. */
  readonly time: number;
  /** Severity. */
  readonly level: LogLevel;
  /** The message. */
  readonly msg: string;
  /** Its fields. */
  readonly fields: LogFields;
}

/** How lines are written: readable text or JSON objects. */
export type LogFormat = "text" | "json";

/**
 * Writes lines at a level, with fields; a child binds fields to every line
 * it writes.
 */
export interface Logger {
  /**
   * Writes one line.
   * @param level severity.
   * @param msg the message.
   * @param fields its fields; they override bound fields of the same name.
   */
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  /** Writes a `debug` line (see {@link Logger.log}). */
  debug(msg: string, fields?: LogFields): void;
  /** Writes an `info` line (see {@link Logger.log}). */
  info(msg: string, fields?: LogFields): void;
  /** Writes a `warn` line (see {@link Logger.log}). */
  warn(msg: string, fields?: LogFields): void;
  /** Writes an `error` line (see {@link Logger.log}). */
  error(msg: string, fields?: LogFields): void;
  /**
   * A logger writing through this one with `fields` bound to every line.
   * @param fields the bound fields; they override this logger's own.
   * @returns the child.
   */
  child(fields: LogFields): Logger;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /**
   * Line format.
   * @default "text"
   */
  format?: LogFormat;
  /**
   * Lines below this level are dropped.
   * @default "info"
   */
  level?: LogLevel;
  /**
   * Writes one formatted line (no trailing newline).
   * @default console.log (stdout)
   */
  write?: (line: string, level: LogLevel) => void;
  /**
   * The clock, ms since epoch UTC.
   * @default Date.now
   */
  now?: () => number;
}

/** Fields written first, in this order, before any other. */
const FIRST = ["actor", "cid", "exchange", "symbol"] as const;

/**
 * Formats a record as readable text:
 * `<ISO time> <level> [<actor>] <msg> cid=… exchange=… symbol=… k=v`.
 * String values with spaces, quotes, `=` or control characters are JSON
 * quoted; a newline in the message is written `\n`, so a record is one line.
 * @param r the record.
 * @returns the line, without a newline.
 * @example
 * ```ts
 * formatText({ time: 0, level: "warn", msg: "resync (gap)", fields: { actor: "conn:binance", symbol: "BTCUSDT" } });
 * // "1970-01-01T00:00:00.000Z warn [conn:binance] resync (gap) symbol=BTCUSDT"
 * ```
 */
export function formatText(r: LogRecord): string {
  const actor = r.fields.actor;
  let line = `${isoTime(r.time)} ${r.level} ${
    actor == null ? "" : `[${actor}] `
  }${r.msg.replace(/\r?\n/g, "\\n")}`;
  for (const [k, v] of orderedFields(r.fields)) {
    if (k === "actor") continue;
    line += ` ${k}=${textValue(v)}`;
  }
  return line;
}

/**
 * Formats a record as one JSON object:
 * `{"time":"<ISO>","level":…,"actor":…,"cid":…,"exchange":…,"symbol":…,…,"msg":…}`
 * (fields in that order, absent ones left out, `msg` last).
 * @param r the record.
 * @returns the line, without a newline.
 * @example
 * ```ts
 * formatJson({ time: 0, level: "info", msg: "open", fields: { cid: "conn:okx#a1.1" } });
 * // '{"time":"1970-01-01T00:00:00.000Z","level":"info","cid":"conn:okx#a1.1","msg":"open"}'
 * ```
 */
export function formatJson(r: LogRecord): string {
  const o: Record<string, unknown> = { time: isoTime(r.time), level: r.level };
  for (const [k, v] of orderedFields(r.fields)) {
    // `time`, `level` and `msg` are the record's own.
    if (k !== "time" && k !== "level" && k !== "msg") o[k] = v;
  }
  o.msg = r.msg;
  return JSON.stringify(o);
}

/**
 * A logger that formats and writes each line at or above its level, its
 * message and string fields scrubbed of credentials ({@link redactText}).
 * @param options format, level, writer and clock.
 * @returns the logger.
 * @example
 * ```ts
 * const log = createLogger({ format: "json" }).child({ actor: "coby" });
 * log.info("coby listening on http://127.0.0.1:8080/");
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format === "json" ? formatJson : formatText;
  const min = LOG_LEVELS.indexOf(options.level ?? "info");
  const write = options.write ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  return recordLogger((level, msg, fields) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const clean: Record<string, LogValue> = {};
    for (const [k, v] of Object.entries(fields)) {
      clean[k] = typeof v === "string" ? redactText(v) : v;
    }
    write(
      format({ time: now(), level, msg: redactText(msg), fields: clean }),
      level,
    );
  });
}

/**
 * A logger that hands every record to `emit` (unformatted, unfiltered):
 * the worker side's `ctx.log`, or a test's list.
 * @param emit receives each record's level, message and fields (bound ones
 * merged in).
 * @param fields fields bound to every record.
 * @returns the logger.
 * @example
 * ```ts
 * const log = recordLogger(ctx.log, { exchange: "binance" });
 * log.warn("malformed frame", { cid: "conn:binance#k3f9.1" });
 * ```
 */
export function recordLogger(
  emit: (level: LogLevel, msg: string, fields: LogFields) => void,
  fields: LogFields = {},
): Logger {
  const log = (level: LogLevel, msg: string, more?: LogFields) =>
    emit(level, msg, more ? { ...fields, ...more } : fields);
  return {
    log,
    debug: (msg, more) => log("debug", msg, more),
    info: (msg, more) => log("info", msg, more),
    warn: (msg, more) => log("warn", msg, more),
    error: (msg, more) => log("error", msg, more),
    child: (more) => recordLogger(emit, { ...fields, ...more }),
  };
}

/**
 * Logger options from the environment: `COBY_LOG` (`text` or `json`) and
 * `COBY_LOG_LEVEL`. Unset or empty values take the defaults; a value that
 * is neither is reported in `problems` and the default used, so a typo never
 * stops coby.
 * @param env reads a variable, e.g. `(k) => Deno.env.get(k)`.
 * @returns the format and level, and the problems found.
 * @example
 * ```ts
 * logOptionsFromEnv((k) => ({ COBY_LOG: "json" })[k]); // { format: "json", level: "info", problems: [] }
 * ```
 */
export function logOptionsFromEnv(
  env: (key: string) => string | undefined,
): { format: LogFormat; level: LogLevel; problems: string[] } {
  const problems: string[] = [];
  const format = env("COBY_LOG")?.trim().toLowerCase() || "text";
  const level = env("COBY_LOG_LEVEL")?.trim().toLowerCase() || "info";
  const okFormat = format === "text" || format === "json";
  const okLevel = (LOG_LEVELS as readonly string[]).includes(level);
  if (!okFormat) {
    problems.push(
      `COBY_LOG ${
        JSON.stringify(env("COBY_LOG"))
      } is not text or json; logging text`,
    );
  }
  if (!okLevel) {
    problems.push(
      `COBY_LOG_LEVEL ${JSON.stringify(env("COBY_LOG_LEVEL"))} is not one of ${
        LOG_LEVELS.join(", ")
      }; logging from info`,
    );
  }
  return {
    format: okFormat ? format : "text",
    level: okLevel ? level as LogLevel : "info",
    problems,
  };
}

let processLogger: Logger | undefined;

/**
 * The process's logger, made on first use from `COBY_LOG` and
 * `COBY_LOG_LEVEL` (see {@link logOptionsFromEnv}; without permission to
 * read the environment, the defaults), writing to stdout. A bad value is
 * warned about once, through the logger itself.
 * @returns the logger.
 * @example
 * ```ts
 * const log = processLog().child({ actor: "coby serve" });
 * log.warn("DATABASE_URL is not set: no history is served");
 * ```
 */
export function processLog(): Logger {
  if (processLogger) return processLogger;
  const env = (k: string): string | undefined => {
    try {
      return Deno.env.get(k);
    } catch {
      return undefined; // no --allow-env: the defaults
    }
  };
  const { format, level, problems } = logOptionsFromEnv(env);
  processLogger = createLogger({ format, level });
  for (const p of problems) processLogger.warn(p);
  return processLogger;
}

/** Query parameters that carry credentials; dropped by {@link redactUrl}. */
const SECRET_PARAMS = new Set([
  "token",
  "access_token",
  "api_key",
  "apikey",
  "key",
  "jwt",
]);

/**
 * A URL fit for a log line: without credentials. Query parameters named
 * `token`, `access_token`, `api_key`, `apikey`, `key` or `jwt` (any case)
 * are removed, as is a user and password; the rest is kept. A string that
 * is not an absolute URL (a path with a query) is treated the same way.
 * @param url the URL or path.
 * @returns it without the secrets.
 * @example
 * ```ts
 * redactUrl("http://h/api/v1/heatmap/stream?symbol=BTC-USD&token=eyJ…");
 * // "http://h/api/v1/heatmap/stream?symbol=BTC-USD"
 * ```
 */
export function redactUrl(url: string): string {
  let u: URL;
  let relative = false;
  try {
    u = new URL(url);
  } catch {
    u = new URL(url, "http://relative.invalid");
    relative = true;
  }
  u.username = "";
  u.password = "";
  for (const k of [...u.searchParams.keys()]) {
    if (SECRET_PARAMS.has(k.toLowerCase())) u.searchParams.delete(k);
  }
  const s = u.toString();
  return relative ? s.slice(u.origin.length) : s;
}

/** A credential parameter in a query string: its name and `=`, then its value. */
const SECRET_PARAM_TEXT =
  /([?&](?:token|access_token|api_key|apikey|key|jwt)=)[^&#\s"'<>]*/gi;
/** The user and password of a URL: `scheme://` then `user:pass@`. */
const USERINFO_TEXT = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@"'<>]+@/gi;

/**
 * Free text with the credentials of any URL in it replaced: the value of a
 * query parameter named as in {@link redactUrl} becomes `REDACTED`, and a
 * user and password are removed.
 * @param text e.g. an error message quoting a URL.
 * @returns the text without the secrets.
 * @example
 * ```ts
 * redactText("GET /api/v1/heatmap/stream?token=eyJ… failed");
 * // "GET /api/v1/heatmap/stream?token=REDACTED failed"
 * ```
 */
export function redactText(text: string): string {
  if (!text.includes("=") && !text.includes("@")) return text;
  return text.replace(SECRET_PARAM_TEXT, "$1REDACTED").replace(
    USERINFO_TEXT,
    "$1",
  );
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** The defined fields, {@link FIRST} ones first. */
function orderedFields(fields: LogFields): [string, LogValue][] {
  const out: [string, LogValue][] = [];
  for (const k of FIRST) {
    if (fields[k] !== undefined) out.push([k, fields[k]]);
  }
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && !(FIRST as readonly string[]).includes(k)) {
      out.push([k, v]);
    }
  }
  return out;
}

function textValue(v: LogValue): string {
  if (typeof v !== "string") return String(v);
  return v === "" || /[\s"=\\\p{Cc}]/u.test(v) ? JSON.stringify(v) : v;
}
