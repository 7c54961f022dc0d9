/**
 * Child processes of the benchmark: each target runs alone in its own process (its RSS and CPU
 * are its own), pinned to a core with taskset when the machine has more than one.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import type { MockPorts } from "./targets/mocks.js";

export interface Pinning {
  /** Core list (taskset -c syntax) for the load generator and the mocks, or undefined when not pinned. */
  client?: string;
  /** Core list for every proxy under test. */
  proxy?: string;
  description: string;
}

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * With 2+ cores: the proxy under test gets the last core, the load generator and the mocks share
 * the others. The current process (the load generator) is pinned at once.
 */
export function planPinning(): Pinning {
  const cores = availableParallelism();
  if (cores < 2) return { description: "not pinned: one core" };
  if (!hasTaskset()) return { description: "not pinned: taskset (util-linux) not found" };
  const client = cores === 2 ? "0" : `0-${cores - 2}`;
  const proxy = String(cores - 1);
  execFileSync("taskset", ["-cp", client, String(process.pid)], { stdio: "ignore" });
  return { client, proxy, description: `load generator + mocks on core ${client}, each proxy on core ${proxy} (taskset)` };
}

/**
 * Keeps `cores` from idling while a measurement runs: a busy loop at SCHED_IDLE, which the kernel
 * runs only when nothing else wants the core, so a proxy there is woken without the host's exit
 * from idle (on this VM, more than the pass-through's whole added latency at 1,000 req/s). The
 * spinner's CPU time is its own, not the proxy's. Undefined where chrt (util-linux) is missing.
 */
export function keepAwake(cores: string): { stop(): void } | undefined {
  try {
    execFileSync("chrt", ["--version"], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  const spinner = spawn("taskset", ["-c", cores, "chrt", "-i", "0", process.execPath, "-e", "for (;;);"], { stdio: "ignore" });
  // Also when the bench exits early (Ctrl-C, an error): a spinner left behind would skew everything after.
  const kill = () => void spinner.kill("SIGKILL");
  process.once("exit", kill);
  return {
    stop() {
      process.off("exit", kill);
      kill();
    },
  };
}

export interface Child<T> {
  name: string;
  process: ChildProcess;
  pid: number;
  ready: T;
  stop(): Promise<void>;
}

/** Spawns `node [nodeArgs] script [args]` (under taskset when `cores` is set) and waits for its `{ready}` IPC message. */
/** A mock's origin on loopback. */
export const origin = (port: number): string => `http://127.0.0.1:${port}`;

/** The bitrouter target's arguments (targets/bitrouter.ts): its providers pointed at the mocks, then `extra`. */
export function bitrouterArgs(ports: MockPorts, ...extra: string[]): string[] {
  return ["--openai", origin(ports.openai), "--idle", origin(ports.idle), "--anthropic", origin(ports.anthropic), ...extra];
}

export async function startChild<T>(
  name: string,
  script: string,
  args: string[],
  options: { cores?: string; nodeArgs?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Child<T>> {
  const nodeCmd = [process.execPath, ...(options.nodeArgs ?? []), script, ...args];
  const [command, ...rest] = options.cores ? ["taskset", "-c", options.cores, ...nodeCmd] : nodeCmd;
  const log = stderrFile(name);
  const child = spawn(command!, rest, { stdio: ["ignore", "ignore", log.fd, "ipc"], env: options.env ?? process.env });
  closeSync(log.fd);
  const ready = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${options.timeoutMs ?? 20_000} ms; stderr:\n${log.tail()}`)),
      options.timeoutMs ?? 20_000,
    );
    child.on("message", (message: { ready?: T }) => {
      if (message?.ready) {
        clearTimeout(timer);
        resolve(message.ready);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}) before it was ready; stderr:\n${log.tail()}`));
    });
  });
  return { name, process: child, pid: child.pid!, ready, stop: () => stopProcess(child).then(log.remove) };
}

/** Spawns a process that is ready once `probe` answers (for peers that cannot speak IPC to us). */
export async function startProbed(
  name: string,
  command: string[],
  probe: () => Promise<boolean>,
  options: { cores?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Omit<Child<undefined>, "ready">> {
  const [cmd, ...rest] = options.cores ? ["taskset", "-c", options.cores, ...command] : command;
  const log = stderrFile(name);
  const child = spawn(cmd!, rest, { stdio: ["ignore", "ignore", log.fd], env: options.env ?? process.env });
  closeSync(log.fd);
  let exited = false;
  child.once("exit", () => (exited = true));
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await probe().catch(() => false))) {
    if (exited) throw new Error(`${name} exited before it answered; stderr:\n${log.tail()}`);
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`${name} did not answer within ${options.timeoutMs ?? 30_000} ms; stderr:\n${log.tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name, process: child, pid: child.pid!, stop: () => stopProcess(child).then(log.remove) };
}

/**
 * A child's stderr goes to a temp file, not a pipe: reading a pipe would cost the load generator CPU
 * on every log line, and a pipe nobody reads blocks the child. The tail is shown when a start fails.
 */
function stderrFile(name: string): { fd: number; tail(): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "bitrouter-bench-"));
  const path = join(dir, `${name.replace(/[^\w.-]/g, "_")}.stderr`);
  return {
    fd: openSync(path, "w"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
    tail: () => {
      try {
        return readFileSync(path, "utf8").slice(-4000);
      } catch {
        return "";
      }
    },
  };
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** VmHWM (peak) and VmRSS (current) of a process, in bytes, from /proc; undefined off Linux. */
export function memoryOf(pid: number): { peak: number; current: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
    return { peak: kb("VmHWM"), current: kb("VmRSS") };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in ms; undefined off Linux. */
export function cpuMsOf(pid: number): number | undefined {
  return countersOf(pid)?.cpuMs;
}

/** What the kernel counted for a process so far: CPU, page faults, and its main thread's context switches. */
export interface ProcessCounters {
  cpuMs: number;
  /** Page faults served without I/O (a page mapped in, zeroed or copied) and with I/O, all threads. */
  minorFaults: number;
  majorFaults: number;
  /** The main thread's switches away from the CPU: waiting (voluntary) and preempted (involuntary). */
  voluntarySwitches: number;
  involuntarySwitches: number;
}

/** ProcessCounters from /proc/<pid>/stat and /proc/<pid>/status; undefined off Linux. */
export function countersOf(pid: number): ProcessCounters | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at ") ": minflt and majflt are
    // fields 10 and 12, utime and stime 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const count = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? Number.NaN);
    return {
      cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS,
      minorFaults: Number(fields[7]),
      majorFaults: Number(fields[9]),
      voluntarySwitches: count("voluntary_ctxt_switches"),
      involuntarySwitches: count("nonvoluntary_ctxt_switches"),
    };
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

/**
 * Waits until a process has gone quiet: under 10% of a core over a 250 ms window, or `maxMs` at
 * most. A target that could not keep up (Portkey at 500 req/s of 100 KB) goes on working through
 * its backlog after its measurement ended, on the core the next target is measured on; measuring
 * the next one before that is over charged the first one's work to it. Returns the ms waited.
 */
export async function quiesce(pid: number, maxMs = 15_000): Promise<number> {
  const started = Date.now();
  const windowMs = 250;
  for (;;) {
    const before = cpuMsOf(pid);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = cpuMsOf(pid);
    if (before === undefined || after === undefined || after - before < windowMs * 0.1) return Date.now() - started;
    if (Date.now() - started >= maxMs) return Date.now() - started;
  }
}
