// A user's shell for the tests that run documentation as written (README, agent skill): a fresh
// home, `bitrouter` on the PATH as the built CLI, and bash. Each call belongs to one test attempt:
// when it ends, a daemon the script left running is stopped and the home removed.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { onTestFinished } from "vitest";
import { BIN } from "./daemon-helpers.js";

export interface UserShell {
  home: string;
  env: Record<string, string>;
  /** Runs a script in bash from the home directory; `-e` (stop at the first failing command) unless told otherwise. */
  bash(script: string, options?: { exitOnError?: boolean }): Promise<{ stdout: string; stderr: string }>;
}

export function userShell(extraEnv: Record<string, string> = {}): UserShell {
  const home = mkdtempSync(join(tmpdir(), "bitrouter-user-shell-"));
  mkdirSync(join(home, "bin"));
  writeFileSync(join(home, "bin", "bitrouter"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  const env = { PATH: `${join(home, "bin")}:${process.env.PATH ?? ""}`, HOME: home, ...extraEnv };
  onTestFinished(async () => {
    await promisify(execFile)(process.execPath, [BIN, "stop"], { cwd: home, env }).catch(() => {}); // a no-op when nothing runs
    rmSync(home, { recursive: true, force: true });
  });
  return {
    home,
    env,
    bash: (script, options = {}) => promisify(execFile)("bash", [...(options.exitOnError === false ? [] : ["-e"]), "-c", script], { cwd: home, env }),
  };
}
