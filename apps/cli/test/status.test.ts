import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const FAKE_KEY = "sk-test-FAKEKEY-0123456789abcdef";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawn the built CLI with a clean environment (no inherited keys, HOME in a temp dir). */
function bitrouter(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Run {
  const home = mkdtempSync(join(tmpdir(), "bitrouter-cli-user-"));
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? home,
    env: { PATH: process.env.PATH ?? "", HOME: home, ...options.env },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const tempDir = (prefix = "bitrouter-cli-") => mkdtempSync(join(tmpdir(), prefix));

describe("bitrouter status", () => {
  it("scaffolds a new home and reports it, showing a key as present but never its value", () => {
    const home = join(tempDir(), "home");
    const run = bitrouter(["status", "--home-dir", home], { env: { OPENAI_API_KEY: FAKE_KEY } });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`Created ${home}`);
    for (const file of ["bitrouter.yaml", ".env", ".gitignore", "run", "logs"]) expect(existsSync(join(home, file))).toBe(true);
    expect(statSync(join(home, ".env")).mode & 0o777).toBe(0o600);
    expect(run.stdout).toContain(`home      ${home} (from --home-dir)`);
    expect(run.stdout).toContain(`database  sqlite://${home}/bitrouter.db?mode=rwc (default)`);
    expect(run.stdout).toContain("listen    127.0.0.1:8787");
    expect(run.stdout).toContain("daemon    not running");
    expect(run.stdout).toMatch(/openai\s+openai\s+https:\/\/api\.openai\.com\/v1\s+present\s+\d+/);
    expect(run.stdout).toMatch(/anthropic\s+anthropic\s+https:\/\/api\.anthropic\.com\s+absent/);
    expect(run.stdout + run.stderr).not.toContain(FAKE_KEY);
    expect(run.stdout + run.stderr).not.toContain("FAKEKEY");

    // Second run: nothing to create.
    const again = bitrouter(["status", "--home-dir", home]);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe("");
  });

  it("--json reports paths, providers, models and daemon state; keys only as present/absent", () => {
    const home = tempDir();
    writeFileSync(
      join(home, "bitrouter.yaml"),
      `server:
  listen: 127.0.0.1:9911
providers:
  my-proxy:
    derives: openai
    api_base: https://proxy.example/v1
    api_key: \${PROXY_KEY}
models:
  fast:
    strategy: load_balance
    endpoints:
      - provider: openai
        model_id: gpt-4o-mini
        api_key: sk-endpoint-SECRETKEY
      - provider: my-proxy
        service_id: gpt-4o-mini
`,
    );
    writeFileSync(join(home, ".env"), `PROXY_KEY=${FAKE_KEY}\n`, { mode: 0o600 });
    const run = bitrouter(["status", "--json", "--home-dir", home, "--db", "postgres://bitrouter:db-Passw0rd@127.0.0.1:5432/test"]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.paths).toMatchObject({
      home,
      home_source: "flag",
      config_file: join(home, "bitrouter.yaml"),
      config_file_exists: true,
      env_file: join(home, ".env"),
      run_dir: join(home, "run"),
      logs_dir: join(home, "logs"),
      control_socket: join(home, "run", "bitrouter.sock"),
      database_url: "postgres://bitrouter:***@127.0.0.1:5432/test",
      database_url_source: "flag",
    });
    expect(report.server).toEqual({ listen: "127.0.0.1:9911", configured_listen: "127.0.0.1:9911", log_level: "info" });
    expect(report.daemon).toEqual({ state: "stopped", pid_file: join(home, "run", "bitrouter.pid") });
    const proxy = report.providers.find((p: { name: string }) => p.name === "my-proxy");
    expect(proxy).toMatchObject({ api_protocol: "openai", api_base: "https://proxy.example/v1", api_key: "present", available: true, derives: "openai" });
    expect(proxy.models).toBeGreaterThan(10);
    expect(report.providers.find((p: { name: string }) => p.name === "openai").api_key).toBe("absent");
    expect(report.models).toEqual([{ name: "fast", strategy: "load_balance", endpoints: ["openai:gpt-4o-mini", "my-proxy:gpt-4o-mini"] }]);
    for (const secret of [FAKE_KEY, "SECRETKEY", "db-Passw0rd"]) expect(run.stdout + run.stderr).not.toContain(secret);
  });

  it("a PID file naming a live non-BitRouter process is stale, a dead PID a crash; both are removed", async () => {
    const home = tempDir();
    const pidFile = join(home, "run", "bitrouter.pid");
    mkdirSync(join(home, "run"), { recursive: true });
    // This test process is alive but answers no control socket: not our server.
    writeFileSync(pidFile, `${process.pid}\n`);
    expect(bitrouter(["status", "--home-dir", home]).stdout).toContain(
      `daemon    not running (stale PID file ${pidFile}: pid ${process.pid} is another program; cleaned up)`,
    );
    expect(existsSync(pidFile)).toBe(false);

    const child = spawn(process.execPath, ["-e", ""]);
    const deadPid = child.pid as number;
    await new Promise((resolve) => child.on("exit", resolve));
    writeFileSync(pidFile, `${deadPid}\n`);
    const crashed = bitrouter(["status", "--json", "--home-dir", home]);
    expect(JSON.parse(crashed.stdout).daemon).toEqual({ state: "crashed", pid: deadPid, pid_file: pidFile, cleaned: [pidFile] });
    expect(existsSync(pidFile)).toBe(false);
  });

  it("finds the home: ./bitrouter.yaml in the cwd (INIT_CWD under `pnpm bitrouter`), then BITROUTER_HOME", () => {
    const project = tempDir();
    writeFileSync(join(project, "bitrouter.yaml"), "server:\n  listen: 127.0.0.1:7001\n");
    const inCwd = JSON.parse(bitrouter(["status", "--json"], { cwd: project }).stdout);
    expect(inCwd.paths).toMatchObject({ home: project, home_source: "cwd" });
    expect(inCwd.server.listen).toBe("127.0.0.1:7001");

    const viaPnpm = JSON.parse(bitrouter(["status", "--json"], { cwd: tempDir(), env: { npm_lifecycle_event: "bitrouter", INIT_CWD: project } }).stdout);
    expect(viaPnpm.paths.home).toBe(project);
    // INIT_CWD left over from some other script is not trusted.
    const other = tempDir();
    const stray = JSON.parse(
      bitrouter(["status", "--json"], { cwd: other, env: { npm_lifecycle_event: "test", INIT_CWD: project, BITROUTER_HOME: other } }).stdout,
    );
    expect(stray.paths).toMatchObject({ home: other, home_source: "env" });
  });

  it("a config error prints the located message, exits 1, and does not leak the key", () => {
    const home = tempDir();
    writeFileSync(
      join(home, "bitrouter.yaml"),
      "providers:\n  openai:\n    api_kye: ${OPENAI_API_KEY}\nmodels:\n  m:\n    endpoints:\n      - provider: opnai\n        model_id: gpt-4o\n",
    );
    const run = bitrouter(["status", "--home-dir", home], { env: { OPENAI_API_KEY: FAKE_KEY } });
    expect(run.code).toBe(1);
    // The daemon's state still shows (nothing runs here); the error is on stderr.
    expect(run.stdout).toMatch(/daemon\s+not running/);
    expect(run.stderr).toContain(`${join(home, "bitrouter.yaml")}:3:5: providers.openai.api_kye: unknown key "api_kye" (did you mean "api_key"?)`);
    expect(run.stderr).not.toContain(FAKE_KEY);
  });
});

describe("bitrouter CLI", () => {
  it("a home that cannot be created fails with exit 1 and a plain message", () => {
    const file = join(tempDir(), "not-a-dir");
    writeFileSync(file, "");
    const run = bitrouter(["status", "--home-dir", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error: ENOTDIR/);
    expect(run.stderr).not.toContain("    at ");
  });

  it("usage errors exit 2", () => {
    const unknownFlag = bitrouter(["status", "--bogus"]);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("--bogus");
    const unknownCommand = bitrouter(["statsu"]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("bitrouter status");
  });

  it("--version and --help", () => {
    const version = bitrouter(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = bitrouter(["status", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--home-dir");
    expect(help.stdout).toContain("--json");
    const bare = bitrouter([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain("bitrouter status");
  });
});
