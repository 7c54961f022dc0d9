import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { LogLevel } from "@bitrouter/core";

const ORDER: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 };

export interface Logger {
  level: LogLevel;
  trace(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Resolves once every line so far is in the log file. */
  flush(): Promise<void>;
  /** Writes out buffered lines and closes the log file. */
  close(): Promise<void>;
}

/**
 * A small leveled logger: one line per entry, `time level message key=value ...`, to stderr and to
 * `<logs-dir>/bitrouter.log`. Callers never pass secrets; `redact` below is a last line of defence
 * for values that look like bearer tokens or API keys.
 */
export function createLogger(options: { level?: LogLevel; logsDir?: string; stderr?: boolean } = {}): Logger {
  // One file descriptor for the life of the logger. A batch is written synchronously, like stderr:
  // an asynchronous write is a hop to the thread pool and back (two thread wake-ups and, with the
  // process pinned to one core, context switches) for what the page cache takes in microseconds.
  let file: number | undefined;
  if (options.logsDir) {
    mkdirSync(options.logsDir, { recursive: true });
    try {
      file = openSync(join(options.logsDir, "bitrouter.log"), "a");
    } catch {
      // an unwritable log file must not stop the server: the lines still go to stderr
    }
  }
  const writeFile = (text: string) => {
    if (file === undefined) return;
    try {
      writeSync(file, text);
    } catch {
      // a full or read-only disk must not take the server down
      closeFile();
    }
  };
  const closeFile = () => {
    if (file === undefined) return;
    const fd = file;
    file = undefined;
    try {
      closeSync(fd);
    } catch {
      // already unusable
    }
  };
  const toStderr = options.stderr ?? true;
  // Lines go out together, at most LOG_BATCH_MS after the first of them: one write per batch
  // instead of one per request or event-loop turn (stderr to a file or pipe and the log file are
  // synchronous writes, see above). Warnings and errors are written at
  // once, after what is pending, so a crash right after one cannot lose it.
  let pending = "";
  let timer: NodeJS.Timeout | undefined;
  const writeOut = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    if (toStderr) process.stderr.write(text);
    writeFile(text);
  };
  const logger: Logger = {
    level: options.level ?? "info",
    trace: (m, f) => write("trace", m, f),
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    flush: () => {
      writeOut();
      return Promise.resolve();
    },
    close: () => {
      writeOut();
      closeFile();
      return Promise.resolve();
    },
  };
  function write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[logger.level]) return;
    let line = `${timestamp()} ${LABEL[level]} ${message}`;
    if (fields) {
      for (const key in fields) {
        const value = fields[key];
        if (value === undefined) continue;
        const text = typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
        line += ` ${key}=${NEEDS_QUOTES.test(text) ? JSON.stringify(text) : text}`;
      }
    }
    pending += redact(line) + "\n";
    if (ORDER[level] >= ORDER.warn || pending.length >= LOG_BATCH_BYTES) writeOut();
    else timer ??= setTimeout(writeOut, LOG_BATCH_MS); // not unref'd: a process ending on its own writes its last lines
  }
  return logger;
}

/** How long an info line may wait for others to share its write, and how much may wait. */
const LOG_BATCH_MS = 50;
const LOG_BATCH_BYTES = 64 * 1024;

const LABEL: Record<LogLevel, string> = { trace: "TRACE", debug: "DEBUG", info: "INFO ", warn: "WARN ", error: "ERROR" };
const NEEDS_QUOTES = /[\s"=]/;

const SECRETISH = /\b(sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|AIza[0-9A-Za-z_-]{20,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+)/g;

/** Masks strings shaped like API keys or JWTs. */
export function redact(text: string): string {
  // Every match starts with one of these: a substring search is cheaper than the regex's scan.
  if (!text.includes("sk-") && !text.includes("AIza") && !text.includes("eyJ")) return text;
  return text.replace(SECRETISH, (m) => `${m.slice(0, 4)}…[redacted]`);
}

// The ISO time of a line, built from the second's prefix: Date#toISOString per line cost ~1 µs.
let secondStart = Number.NaN;
let secondPrefix = "";

/** Now as `new Date().toISOString()` would write it. */
export function timestamp(now = Date.now()): string {
  const ms = now - secondStart;
  if (!(ms >= 0 && ms < 1000)) {
    secondStart = now - (now % 1000);
    secondPrefix = new Date(secondStart).toISOString().slice(0, 20); // "2026-12-05T22:13:16."
    return timestamp(now);
  }
  return `${secondPrefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
}
