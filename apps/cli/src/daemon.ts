// The daemon's PID file: `<run-dir>/bitrouter.pid`, holding the process id as decimal text.
import { readFile } from "node:fs/promises";

export type DaemonState =
  | { state: "running"; pid: number }
  | { state: "stopped" }
  /** The PID file names a process that no longer exists (or holds garbage). */
  | { state: "stale"; pid?: number };

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

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function daemonStatus(pidFile: string): Promise<DaemonState> {
  const pid = await readPidFile(pidFile);
  if (pid === undefined) return { state: "stopped" };
  if (pid === null) return { state: "stale" };
  return processExists(pid) ? { state: "running", pid } : { state: "stale", pid };
}
