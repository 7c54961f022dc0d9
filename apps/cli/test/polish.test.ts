// The small things a user meets first: help that names what a flag takes, `help` and `-V`, a
// closed pipe, and file flags that point at the wrong thing.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, run, tempDir } from "./daemon-helpers.js";

function sh(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", command], { cwd: tempDir(), env: { PATH: process.env.PATH ?? "", HOME: tempDir() }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("help and version", () => {
  it("help names each flag's value; `help <command>` is `<command> --help`; -V prints the version", async () => {
    const [direct, viaHelp, version, top] = await Promise.all([run(["start", "--help"]), run(["help", "start"]), run(["-V"]), run(["help"])]);
    expect(direct.code).toBe(0);
    expect(direct.stdout).not.toContain("#0");
    expect(direct.stdout).toMatch(/^ {2}--home-dir <path> {2,}Override the BitRouter home directory$/m);
    expect(direct.stdout).toMatch(/^ {2}--listen <host:port> {2,}Override server\.listen/m);
    expect(direct.stdout).toMatch(/^ {2}--start-timeout <duration> {2,}How long/m);
    // The descriptions still start in one column.
    const columns = direct.stdout.split("\n").filter((line) => /^ {2}--/.test(line)).map((line) => line.search(/ {2,}\S/) + line.slice(line.search(/ {2,}\S/)).search(/\S/));
    expect(new Set(columns).size).toBe(1);
    expect(viaHelp).toMatchObject({ code: 0, stdout: direct.stdout });
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("bitrouter keygen");
    expect(top.stdout).not.toContain("#0");
  });
});

describe("pipes and file flags", () => {
  it("a reader that goes away (| true, | head) ends the command quietly: no stack trace", async () => {
    const home = join(tempDir(), "home");
    const result = await sh(`node -- ${BIN} status --json --home-dir ${home} | true; echo "exit=\${PIPESTATUS[0]}" >&2`);
    expect(result.stderr).not.toContain("EPIPE");
    expect(result.stderr).not.toContain("    at ");
    expect(result.stderr).toMatch(/exit=0/);
  });

  it("--env-file naming a missing file is a one-line error (not Node's exit 9)", async () => {
    const home = join(tempDir(), "home");
    const missing = join(tempDir(), "missing.env");
    // As the root `pnpm -s bitrouter` script and the daemon run it: node -- bin.js ...
    const result = await sh(`node -- ${BIN} status --home-dir ${home} --env-file ${missing}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error: --env-file ${missing}: no such file\n`);
    expect(result.stdout).toBe("");
  });

  it("a config or env path that is a directory is named in a one-line error", async () => {
    const home = join(tempDir(), "home");
    const dir = join(tempDir(), "conf");
    mkdirSync(dir);
    const config = await run(["status", "--home-dir", home, "--config-file", dir]);
    expect(config.code).toBe(1);
    expect(config.stderr.trim().split("\n")).toEqual([
      `Error: config file ${dir} is a directory, not a file: give the file itself (${join(dir, "bitrouter.yaml")}), or the directory as --home-dir`,
    ]);
    const env = await run(["status", "--home-dir", home, "--env-file", dir]);
    expect(env.code).toBe(1);
    expect(env.stderr).toContain(`Error: env file ${dir} is a directory, not a file`);
    expect(env.stderr).not.toContain("EISDIR");
  });
});
