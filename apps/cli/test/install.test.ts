// The global install a user gets from npm: pack the CLI and the workspace packages it needs (as they
// would be published), `npm install -g` them into a temp prefix, and use that `bitrouter`.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { localPrebuilds } from "../../../scripts/pack.mjs";
import { type Registry, startRegistry } from "../../../scripts/registry.mjs";
import { freePort, killLeftovers, readPid, run, tempDir } from "./daemon-helpers.js";

const CLI_DIR = fileURLToPath(new URL("..", import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(CLI_DIR, "package.json"), "utf8")) as { version: string }).version;
const runDirs: string[] = [];
let registry: Registry | undefined;

afterAll(() => {
  killLeftovers(runDirs);
  registry?.close();
});

function exec(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("npm install -g from the packed tarballs", () => {
  it("gives a working bitrouter with no workspace around it: --version, --help, status, start/stop", { timeout: 300_000 }, async () => {
    const work = tempDir("bitrouter-install-");
    // --no-build: global-setup built dist/ already; rebuilding here would rewrite files under the
    // feet of the other test files running the workspace CLI.
    const packed = await exec(process.execPath, [join(CLI_DIR, "scripts", "pack.mjs"), join(work, "tarballs"), "--no-build"]);
    expect(packed.code, packed.output).toBe(0);
    const tarballs = packed.output.split("\n").filter((line) => line.endsWith(".tgz"));
    expect(tarballs.map((t) => t.slice(t.lastIndexOf("/") + 1)).sort()).toEqual(
      expect.arrayContaining(["cli", "config", "server", "store"].map((pkg) => `bitrouter-${pkg}-${VERSION}.tgz`)),
    );
    for (const tarball of tarballs) {
      const manifest = execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" });
      expect(manifest, tarball).not.toContain("workspace:");
    }

    // Third-party packages from the loopback registry (scripts/registry.mjs), as npm resolves them
    // from the public one.
    registry = await startRegistry(tarballs);
    const prefix = join(work, "prefix");
    const env = { ...process.env, ...registry.env, ...localPrebuilds(join(work, "prebuilds")) };
    const installed = await exec("npm", ["install", "-g", "--prefix", prefix, "--loglevel=error", ...tarballs], { cwd: work, env });
    expect(installed.code, installed.output).toBe(0);
    const bin = join(prefix, "bin", "bitrouter");
    // Real copies inside the prefix, not links back into the workspace.
    for (const pkg of ["cli", "server", "config", "store"])
      expect(realpathSync(join(prefix, "lib", "node_modules", "@bitrouter", pkg)).startsWith(realpathSync(prefix))).toBe(true);

    const version = await run(["--version"], { bin: [bin] });
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const help = await run(["--help"], { bin: [bin] });
    expect(help.code).toBe(0);
    for (const command of ["bitrouter start", "bitrouter stop", "bitrouter restart", "bitrouter status", "bitrouter serve"])
      expect(help.stdout).toContain(command);

    const home = join(tempDir(), "home");
    runDirs.push(join(home, "run"));
    const status = await run(["status", "--home-dir", home], { bin: [bin] });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`BitRouter ${VERSION}`);
    expect(status.stdout).toContain("daemon    not running");
    expect(existsSync(join(home, "bitrouter.yaml"))).toBe(true);

    const port = await freePort();
    const started = await run(["start", "--home-dir", home, "--listen", `127.0.0.1:${port}`], { bin: [bin] });
    expect(started.code, `${started.stdout}${started.stderr}`).toBe(0);
    const pid = readPid(join(home, "run", "bitrouter.pid"))!;
    expect(started.stdout).toContain(`BitRouter started (pid ${pid}), listening on http://127.0.0.1:${port}`);
    // The daemon runs the installed copy.
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain(join("@bitrouter", "cli", "dist", "bin.js"));
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const running = await run(["status", "--json", "--home-dir", home], { bin: [bin] });
    expect(JSON.parse(running.stdout).daemon).toMatchObject({ state: "running", pid, server: { url: `http://127.0.0.1:${port}` } });
    const stopped = await run(["stop", "--home-dir", home], { bin: [bin] });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`BitRouter stopped (pid ${pid}`);
    expect(existsSync(join(home, "run", "bitrouter.pid"))).toBe(false);
    // The ledger database was created by the installed better-sqlite3.
    expect(existsSync(join(home, "bitrouter.db"))).toBe(true);
  });
});
