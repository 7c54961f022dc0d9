// The daemon: its PID file (`<run-dir>/bitrouter.pid`, the process id as decimal text, written by
// the server once its control socket is up and removed after the drain), liveness checks, and the
// start / stop mechanics behind `bitrouter start | stop | restart | status`.
import { spawn } from "node:child_process";
import { request } from "node:http";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { lock } from "proper-lockfile";
import type { ControlStatus } from "@bitrouter/server/control-client";
import { SERVING_NODE_FLAGS } from "@bitrouter/server/heap";

/** What a running server reports on its control socket (`GET /status`). */
export type ServerStatus = ControlStatus;

export type DaemonState =
  /** `server` is missing when the control socket did not answer in time (a busy or stopping server). */
  | { state: "running"; pid: number; server?: ServerStatus }
  | { state: "stopped" }
  /** The server died without cleaning up (kill -9, crash): the PID file names a process that is gone. */
  | { state: "crashed"; pid: number }
  /** The PID file holds garbage, or its PID now belongs to another program (the control socket does not answer for it). */
  | { state: "stale"; pid?: number };

/** The files of one BitRouter home that the daemon commands touch. */
export interface DaemonPaths {
  runDir: string;
  logsDir: string;
  pidFile: string;
  controlSocket: string;
}

/** The background server's stdout and stderr (startup errors land here; requests go to bitrouter.log). */
export const DAEMON_LOG_NAME = "daemon.log";

export async function readPidFile(pidFile: string): Promise<number | undefined | null> {
  let text: string;
  try {
    text = await readFile(pidFile, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Whether a process with this id is alive. A zombie (exited, not yet reaped by its parent; common
 * for a daemon whose parent is an init that does not reap) counts as gone.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses, so split at the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no procfs (macOS): kill(0) is all we know
  }
}

/** A quick check from the PID file alone (no control socket): for callers that must not wait. */
export async function daemonStatus(pidFile: string): Promise<DaemonState> {
  const pid = await readPidFile(pidFile);
  if (pid === undefined) return { state: "stopped" };
  if (pid === null) return { state: "stale" };
  return processExists(pid) ? { state: "running", pid } : { state: "crashed", pid };
}

/**
 * `GET /status` on the control socket: the report; "refused" when no server listens there (no
 * socket file, or nobody accepting); undefined when it does not answer within `timeoutMs` (the
 * request is then abandoned, so a hung server does not keep this process alive).
 */
export function queryServer(controlSocket: string, timeoutMs = 2000): Promise<ServerStatus | undefined | "refused"> {
  return new Promise((resolve) => {
    const req = request({ socketPath: controlSocket, path: "/status" }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(text) as ServerStatus) : undefined);
        } catch {
          resolve(undefined);
        }
      });
      res.on("error", () => resolve(undefined));
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(undefined);
    }, timeoutMs);
    req.on("close", () => clearTimeout(timer));
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED" || error.code === "ENOENT" ? "refused" : undefined));
    req.end();
  });
}

/**
 * The daemon's state, confirmed on the control socket: a live PID from the PID file is "stale"
 * when nothing listens on the socket and the process is not `bitrouter serve`. A socket that is
 * there but slow (busy, draining) still counts as running, so a live server's PID file is never
 * taken for stale; a server answering on the socket is running whatever the PID file says.
 */
export async function inspectDaemon(paths: Pick<DaemonPaths, "pidFile" | "controlSocket">, timeoutMs = 2000): Promise<DaemonState> {
  const pid = await readPidFile(paths.pidFile);
  if (pid === undefined) {
    // No PID file (removed by hand?): a server answering on the socket still runs.
    const server = exists(paths.controlSocket) ? await queryServer(paths.controlSocket, timeoutMs) : undefined;
    return typeof server === "object" && processExists(server.pid) ? { state: "running", pid: server.pid, server } : { state: "stopped" };
  }
  if (pid === null) return { state: "stale" };
  if (!processExists(pid)) return { state: "crashed", pid };
  const server = await queryServer(paths.controlSocket, timeoutMs);
  if (server === "refused") {
    // The server writes its PID file after the socket is up and removes it after closing the
    // socket: a live PID with no socket is another program, unless the server just finished or
    // listens on another socket (started with a config that moves it: keep its PID file).
    if ((await readPidFile(paths.pidFile)) !== pid || !processExists(pid)) return { state: "stopped" };
    return looksLikeServer(pid) ? { state: "running", pid } : { state: "stale", pid };
  }
  if (server === undefined) return { state: "running", pid };
  // A server answers, but for another PID than the file's: the socket is the authority.
  return { state: "running", pid: server.pid, server };
}

/** Whether the process's command line is `<node> <...>/bin.js serve ...` (Linux; false without procfs). */
function looksLikeServer(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.includes("serve") && argv.some((arg) => arg.endsWith("bin.js") || arg.endsWith("bitrouter"));
  } catch {
    return false;
  }
}

/**
 * Removes a PID file that no longer names a live server, and the control socket it left behind
 * (only when nothing answers on it). Returns what was removed.
 */
export async function cleanStale(paths: Pick<DaemonPaths, "pidFile" | "controlSocket">, state: DaemonState): Promise<string[]> {
  if (state.state !== "crashed" && state.state !== "stale") return [];
  const removed: string[] = [];
  // Re-read: a server that started meanwhile has written its own PID.
  const now = await readPidFile(paths.pidFile);
  if (now === (state.pid ?? null)) {
    rmSync(paths.pidFile, { force: true });
    removed.push(paths.pidFile);
  }
  if (exists(paths.controlSocket) && (await socketRefuses(paths.controlSocket))) {
    rmSync(paths.controlSocket, { force: true });
    removed.push(paths.controlSocket);
  }
  return removed;
}

/**
 * Whether nothing listens on the socket any more. A process that was just killed can take a moment
 * to release it (the connect hangs instead of being refused), so an unanswered query is asked again.
 */
async function socketRefuses(socket: string): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const answer = await queryServer(socket, 1500);
    if (answer === "refused") return true;
    if (answer !== undefined) return false; // a live server answers: not ours to remove
    await sleep(300);
  }
  return false;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export interface StartOptions {
  paths: DaemonPaths;
  /** The arguments after `bitrouter` for the background process, e.g. ["serve", "--home-dir", ...]. */
  serveArgs: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** How long to wait for `GET /health` before giving up (ms). */
  timeoutMs: number;
}

export type StartResult =
  | { outcome: "started"; pid: number; url: string }
  | { outcome: "already-running"; pid: number; url?: string }
  | { outcome: "failed"; reason: string; logTail: string; pid?: number };

const BIN = fileURLToPath(new URL("./bin.js", import.meta.url));

/**
 * Start the server in the background. A lock in the run directory serialises concurrent starts:
 * the second one waits for the first and then finds the daemon running. The lock goes stale when
 * its holder dies (its mtime stops being refreshed), so a killed `start` never blocks the next.
 */
export async function startDaemon(options: StartOptions): Promise<StartResult> {
  const { paths } = options;
  mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.logsDir, { recursive: true });
  const lockTarget = join(paths.runDir, "bitrouter.start");
  const release = await lock(lockTarget, {
    realpath: false,
    stale: 10_000,
    update: 2_000,
    retries: { retries: Math.ceil((options.timeoutMs + 15_000) / 250), factor: 1, minTimeout: 250, maxTimeout: 250 },
  });
  try {
    const state = await inspectDaemon(paths);
    if (state.state === "running") return { outcome: "already-running", pid: state.pid, ...(state.server ? { url: state.server.url } : {}) };
    await cleanStale(paths, state);
    return await spawnAndWait(options);
  } finally {
    await release().catch(() => undefined); // already released as stale: nothing left to do
  }
}

async function spawnAndWait(options: StartOptions): Promise<StartResult> {
  const { paths } = options;
  const logFile = join(paths.logsDir, DAEMON_LOG_NAME);
  const fd = openSync(logFile, "a", 0o600);
  const logStart = statSync(logFile).size;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let pid: number;
  try {
    writeSync(fd, `--- bitrouter start ${new Date().toISOString()}: ${options.serveArgs.join(" ")}\n`);
    // Own session and process group: the terminal's Ctrl+C / hang-up does not reach the daemon.
    // `--` before the script: see bin.ts (a --env-file argument must reach BitRouter, not Node).
    const child = spawn(process.execPath, [...SERVING_NODE_FLAGS, "--", BIN, ...options.serveArgs], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    child.on("exit", (code, signal) => (exit = { code, signal }));
    child.unref();
    if (child.pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once("error", resolve));
      return { outcome: "failed", reason: `could not run ${process.execPath}: ${error.message}`, logTail: "" };
    }
    pid = child.pid;
  } finally {
    closeSync(fd);
  }

  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (exit) {
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      return { outcome: "failed", reason: `the server ${how} during startup`, logTail: logTail(logFile, logStart), pid };
    }
    const server = await queryServer(paths.controlSocket, 1000);
    if (typeof server === "object" && server.pid === pid && (await healthy(server.url))) {
      return { outcome: "started", pid, url: server.url };
    }
    await sleep(100);
  }
  // Not up in time: do not leave a half-started server behind.
  await stopProcess(pid, paths.pidFile, 5_000);
  return {
    outcome: "failed",
    reason: `the server did not answer GET /health within ${Math.round(options.timeoutMs / 1000)}s (stopped it)`,
    logTail: logTail(logFile, logStart),
    pid,
  };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** The last lines the daemon wrote to its log since `from` (this start's output). */
export function logTail(logFile: string, from = 0, lines = 30): string {
  try {
    const text = readFileSync(logFile).subarray(from).toString("utf8");
    return text
      .split("\n")
      .filter((line) => !line.startsWith("--- bitrouter start "))
      .slice(-lines - 1)
      .join("\n")
      .trim();
  } catch {
    return "";
  }
}

export type StopResult =
  | { outcome: "stopped"; pid: number; killed: boolean; elapsedMs: number }
  | { outcome: "not-running"; cleaned: string[]; previous: DaemonState }
  | { outcome: "failed"; pid: number; reason: string };

/**
 * Stop the daemon: SIGTERM, wait until the process is gone and its PID file removed (the server
 * drains in-flight requests first), SIGKILL after `timeoutMs`. Stale files are cleaned.
 */
export async function stopDaemon(paths: DaemonPaths, timeoutMs: number): Promise<StopResult> {
  const state = await inspectDaemon(paths);
  if (state.state !== "running") {
    return { outcome: "not-running", cleaned: await cleanStale(paths, state), previous: state };
  }
  const started = Date.now();
  const result = await stopProcess(state.pid, paths.pidFile, timeoutMs);
  if (result === "alive") return { outcome: "failed", pid: state.pid, reason: `pid ${state.pid} survived SIGKILL` };
  if (result === "killed") await cleanStale(paths, { state: "crashed", pid: state.pid });
  return { outcome: "stopped", pid: state.pid, killed: result === "killed", elapsedMs: Date.now() - started };
}

async function stopProcess(pid: number, pidFile: string, timeoutMs: number): Promise<"terminated" | "killed" | "alive"> {
  const gone = async () => !processExists(pid) && (await readPidFile(pidFile)) !== pid;
  if (!signal(pid, "SIGTERM")) return "terminated";
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await gone()) return "terminated";
    await sleep(100);
  }
  if (!processExists(pid)) return "killed"; // exited but left its PID file: same cleanup as a kill
  signal(pid, "SIGKILL");
  for (let i = 0; i < 50; i++) {
    if (!processExists(pid)) return "killed";
    await sleep(100);
  }
  return "alive";
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}
