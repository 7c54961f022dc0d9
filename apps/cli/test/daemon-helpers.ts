// Shared by the daemon tests: spawn the built CLI asynchronously (a daemon start takes a while and
// some tests run two at once), pick free ports, and make sure no daemon outlives the tests.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const tempDir = (prefix = "bitrouter-daemon-") => mkdtempSync(join(tmpdir(), prefix));

/** Run a command line of the CLI (or of another `bitrouter` binary) with a clean environment. */
export function run(args: string[], options: { env?: Record<string, string>; bin?: string[] } = {}): Promise<Run> {
  const home = tempDir("bitrouter-user-");
  const [command, ...prefix] = options.bin ?? [process.execPath, "--", BIN]; // "--": as the bin's shebang runs it
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...prefix, ...args], {
      cwd: home,
      env: { PATH: process.env.PATH ?? "", HOME: home, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port that was free a moment ago (a daemon's URL must be known, so 127.0.0.1:0 will not do). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

export function readPid(pidFile: string): number | undefined {
  return existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : undefined;
}

/** Kill whatever daemon a test left behind in these run directories. */
export function killLeftovers(runDirs: string[]): void {
  for (const dir of runDirs) {
    const pid = readPid(join(dir, "bitrouter.pid"));
    if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL");
  }
}

export async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
