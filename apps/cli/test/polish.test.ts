// The small things a user meets first: help that names what a flag takes, `help` and `-V`, a
// closed pipe, and file flags that point at the wrong thing.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { BIN, run, tempDir } from "./daemon-helpers.js";
import { Terminal } from "./tui-tmux.js";

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
    const columns = direct.stdout
      .split("\n")
      .filter((line) => /^ {2}--/.test(line))
      .map((line) => line.search(/ {2,}\S/) + line.slice(line.search(/ {2,}\S/)).search(/\S/));
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
    // As the root `pnpm -s bitrouter` script and the daemon run it: node -- bin.js ... (a global
    // install's `#!/usr/bin/env node` cannot pass `--`: see bin.ts)
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

describe("colour and progress", () => {
  it("colours only a terminal, unless FORCE_COLOR; NO_COLOR turns it off", async () => {
    const home = join(tempDir(), "home");
    const dir = join(tempDir(), "conf");
    mkdirSync(dir);
    const [piped, forced] = await Promise.all([
      run(["status", "--home-dir", home, "--config-file", dir]),
      run(["status", "--home-dir", home, "--config-file", dir], { env: { FORCE_COLOR: "1" } }),
    ]);
    expect(piped.stderr).not.toContain("\x1b[");
    expect(forced.stderr.startsWith("\x1b[31mError:\x1b[39m config file")).toBe(true);

    const screens: string[] = [];
    for (const env of [{}, { NO_COLOR: "1" }] as Record<string, string>[]) {
      const term = new Terminal(["status", "--home-dir", home], { env: { HOME: tempDir(), ...env }, cwd: tempDir(), cols: 160, rows: 50 });
      try {
        await term.waitFor("[exited 0]");
        screens.push(term.screen({ escapes: true }));
      } finally {
        term.close();
      }
    }
    expect(screens[0]).toMatch(/daemon\s+\x1b\[2mnot running/);
    expect(screens[1]).toMatch(/daemon\s+not running/);
    expect(screens[1]).not.toContain("\x1b[2m");
  });

  it("a slow key check shows a spinner at a terminal, cleared when it is done", async () => {
    // A provider that takes 2 s to list its models.
    const slow = createServer((_req, res) => setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end('{"data":[]}'), 2000));
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(slow.address() as { port: number }).port}/v1`;
    const home = join(tempDir(), "home");
    const term = new Terminal(["init", "--home-dir", home, "--provider", "openai", "--api-key", "sk-test-SPINNER-0123456789", "--api-base", base], {
      env: { HOME: tempDir() },
      cwd: tempDir(),
    });
    try {
      await term.waitFor(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Checking the openai key\.\.\./);
      const done = await term.waitFor("[exited 0]");
      expect(done).not.toContain("Checking the openai key");
      expect(done).toContain("openai: 127.0.0.1");
    } finally {
      term.close();
      slow.close();
    }
  });
});
