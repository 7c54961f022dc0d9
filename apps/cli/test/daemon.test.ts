import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SERVING_NODE_FLAGS } from "@bitrouter/server/heap";
import { startMock, type MockUpstream } from "@bitrouter/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, freePort, killLeftovers, readPid, run, tempDir, waitFor } from "./daemon-helpers.js";

const FAKE_KEY = "sk-test-DAEMONKEY-0123456789abcdef";
const runDirs: string[] = [];
let mock: MockUpstream;

beforeAll(async () => {
  mock = await startMock({ models: ["mock-model"] });
});

afterAll(async () => {
  killLeftovers(runDirs);
  await mock.close();
});

/** A home whose OpenAI provider is the mock upstream, listening on a free port. */
async function home(): Promise<{ home: string; port: number; pidFile: string; env: Record<string, string> }> {
  const dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, "bitrouter.yaml"), `server:\n  listen: 127.0.0.1:${port}\n`);
  runDirs.push(join(dir, "run"));
  return { home: dir, port, pidFile: join(dir, "run", "bitrouter.pid"), env: { OPENAI_API_KEY: FAKE_KEY, OPENAI_BASE_URL: mock.baseUrl("openai-chat") } };
}

async function status(homeDir: string, env: Record<string, string> = {}, extra: string[] = []) {
  const result = await run(["status", "--json", "--home-dir", homeDir, ...extra], { env });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as {
    server: { listen: string; configured_listen: string };
    daemon: Record<string, unknown> & {
      state: string;
      pid?: number;
      server?: { url: string; uptime_s: number; models: string[]; routes: unknown[]; stats: Record<string, number> };
    };
  };
}

function chat(port: number, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "openai:mock-model", messages: [{ role: "user", content: "hi" }], ...body }),
  });
}

describe("bitrouter start / status / reload / stop", () => {
  it("runs the server in the background, reports live counters, reloads, and stops it", async () => {
    const h = await home();
    const started = await run(["start", "--home-dir", h.home], { env: h.env });
    expect(started.code, started.stderr).toBe(0);
    const pid = readPid(h.pidFile)!;
    expect(started.stdout).toContain(`BitRouter started (pid ${pid}), listening on http://127.0.0.1:${h.port}`);
    expect(alive(pid)).toBe(true);
    // Its own session and process group: a Ctrl+C in the terminal that ran `start` does not reach it.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      .slice(readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2)
      .split(" ");
    expect(Number(stat[2])).toBe(pid); // process group id
    expect(Number(stat[3])).toBe(pid); // session id
    // Node runs it with the serving flags (heap policies V8 reads only from its command line).
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    expect(argv.slice(1, argv.indexOf("--"))).toEqual(SERVING_NODE_FLAGS);

    const answer = await chat(h.port);
    expect(answer.status).toBe(200);
    await answer.json();
    mock.enqueue({ error: "invalid_request", message: "bad request from the mock" });
    const failed = await chat(h.port);
    expect(failed.status).toBe(400);
    await failed.body?.cancel();

    const report = await status(h.home, h.env);
    expect(report.daemon).toMatchObject({ state: "running", pid, server: { url: `http://127.0.0.1:${h.port}`, pid } });
    expect(report.daemon.server!.stats).toMatchObject({ requests: 2, errors: 1 });
    expect(report.daemon.server!.stats.outputTokens).toBeGreaterThan(0);
    const text = await run(["status", "--home-dir", h.home], { env: h.env });
    expect(text.stdout).toMatch(new RegExp(`daemon\\s+running \\(pid ${pid}, up \\d+s\\)`));
    expect(text.stdout).toMatch(new RegExp(`url\\s+http://127\\.0\\.0\\.1:${h.port}\\n`));
    expect(text.stdout).toMatch(/requests\s+2 \(1 error\), [\d.]+ req\/s, p50 \d+ ms, p99 \d+ ms/);
    expect(text.stdout).toMatch(/tokens\s+\d+ in, \d+ out/);
    expect(text.stdout).toMatch(/spend\s+\$\d+\.\d+ since start/);
    expect(text.stdout + text.stderr).not.toContain("DAEMONKEY");

    // A config change, hot-reloaded into the daemon.
    writeFileSync(
      join(h.home, "bitrouter.yaml"),
      `server:\n  listen: 127.0.0.1:${h.port}\nmodels:\n  fast:\n    endpoints:\n      - provider: openai\n        model_id: mock-model\n`,
    );
    const reloaded = await run(["reload", "--home-dir", h.home], { env: h.env });
    expect(reloaded.code, reloaded.stderr).toBe(0);
    expect((await status(h.home, h.env)).daemon.server!.models).toEqual(["fast"]);
    const viaAlias = await chat(h.port, { model: "fast" });
    expect(viaAlias.status).toBe(200);
    await viaAlias.json();
    // status --json carries the per-route counters GET /v1/routes gives a caller.
    const routes = (await (await fetch(`http://127.0.0.1:${h.port}/v1/routes`)).json()) as { data: unknown[] };
    expect(routes.data).toEqual([{ name: "fast", source: "config", strategy: "priority", endpoints: ["openai:mock-model"], requests: 1, errors: 0 }]);
    expect((await status(h.home, h.env)).daemon.server!.routes).toEqual(routes.data);

    const stopped = await run(["stop", "--home-dir", h.home]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(new RegExp(`BitRouter stopped \\(pid ${pid}, [\\d.]+s\\)`));
    expect(alive(pid)).toBe(false);
    expect(existsSync(h.pidFile)).toBe(false);
    expect(existsSync(join(h.home, "run", "bitrouter.sock"))).toBe(false);
    expect((await status(h.home)).daemon).toEqual({ state: "stopped", pid_file: h.pidFile });
    await expect(fetch(`http://127.0.0.1:${h.port}/health`)).rejects.toThrow();
    // The daemon's own output went to logs/daemon.log, the request log to logs/bitrouter.log.
    expect(readFileSync(join(h.home, "logs", "daemon.log"), "utf8")).toContain(`BitRouter listening on http://127.0.0.1:${h.port}`);
    expect(readFileSync(join(h.home, "logs", "bitrouter.log"), "utf8")).toContain("configuration reloaded");
  });

  it("the repository's `pnpm bitrouter` script starts node with the serving flags too", () => {
    const root = JSON.parse(readFileSync(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8")) as { scripts: Record<string, string> };
    const argv = root.scripts.bitrouter!.split(" ");
    expect(argv.slice(1, argv.indexOf("--"))).toEqual(SERVING_NODE_FLAGS);
  });

  it("works with every global flag: files outside the home, --db, --env-file, --config-file", async () => {
    const base = tempDir();
    const homeDir = join(base, "home");
    const port = await freePort();
    const dirs = {
      config: join(base, "etc", "br.yaml"),
      env: join(base, "secrets", "br.env"),
      run: join(base, "var", "run"),
      logs: join(base, "var", "log"),
      db: join(base, "data", "ledger.db"),
    };
    for (const dir of ["etc", "secrets", "data"]) mkdirSync(join(base, dir), { recursive: true });
    writeFileSync(dirs.config, `server:\n  listen: 127.0.0.1:${port}\n`);
    writeFileSync(dirs.env, `OPENAI_API_KEY=${FAKE_KEY}\nOPENAI_BASE_URL=${mock.baseUrl("openai-chat")}\n`, { mode: 0o600 });
    runDirs.push(dirs.run);
    const flags = [
      "--home-dir",
      homeDir,
      "--config-file",
      dirs.config,
      "--env-file",
      dirs.env,
      "--run-dir",
      dirs.run,
      "--logs-dir",
      dirs.logs,
      "--db",
      `sqlite://${dirs.db}`,
    ];

    const started = await run(["start", ...flags]);
    expect(started.code, started.stderr).toBe(0);
    const pid = readPid(join(dirs.run, "bitrouter.pid"))!;
    expect(started.stdout).toContain(`pid ${pid}), listening on http://127.0.0.1:${port}`);
    expect(existsSync(join(dirs.run, "bitrouter.sock"))).toBe(true);
    expect(existsSync(join(dirs.logs, "daemon.log"))).toBe(true);
    expect(existsSync(join(homeDir, "run", "bitrouter.pid"))).toBe(false);
    const answer = await chat(port);
    expect(answer.status).toBe(200); // the key came from --env-file
    await answer.json();

    const report = await status(homeDir, {}, flags.slice(2));
    expect(report.daemon).toMatchObject({ state: "running", pid, server: { stats: { requests: 1 } } });
    // Without the flags, the same home knows nothing of this daemon.
    expect((await status(homeDir)).daemon.state).toBe("stopped");

    const stopped = await run(["stop", ...flags]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(dirs.db)).toBe(true); // the ledger went to --db
    // The request was metered into that database before the daemon exited.
    const usage = await run(["usage", "--json", "--by", "model", ...flags]);
    expect(usage.code, usage.stderr).toBe(0);
    expect(JSON.parse(usage.stdout).rows[0]).toMatchObject({ requests: 1 });
  });

  it("two concurrent starts give one daemon; both exit 0", async () => {
    const h = await home();
    const [a, b] = await Promise.all([run(["start", "--home-dir", h.home], { env: h.env }), run(["start", "--home-dir", h.home], { env: h.env })]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const pid = readPid(h.pidFile)!;
    const outputs = [a.stdout, b.stdout].sort();
    expect(outputs[0]).toContain(`BitRouter is already running (pid ${pid}) on http://127.0.0.1:${h.port}`);
    expect(outputs[1]).toContain(`BitRouter started (pid ${pid})`);
    // Only one server was ever spawned.
    expect(readFileSync(join(h.home, "logs", "daemon.log"), "utf8").match(/^--- bitrouter start /gm)).toHaveLength(1);
    expect((await run(["stop", "--home-dir", h.home])).code).toBe(0);
  });

  it("restart replaces the process and keeps serving", async () => {
    const h = await home();
    expect((await run(["start", "--home-dir", h.home], { env: h.env })).code).toBe(0);
    const first = readPid(h.pidFile)!;
    const restarted = await run(["restart", "--home-dir", h.home], { env: h.env });
    expect(restarted.code, restarted.stderr).toBe(0);
    const second = readPid(h.pidFile)!;
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(restarted.stdout).toContain(`BitRouter stopped (pid ${first})`);
    expect(restarted.stdout).toContain(`BitRouter started (pid ${second})`);
    expect((await fetch(`http://127.0.0.1:${h.port}/health`)).status).toBe(200);
    // Restart with nothing running just starts.
    expect((await run(["stop", "--home-dir", h.home])).code).toBe(0);
    const cold = await run(["restart", "--home-dir", h.home], { env: h.env });
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.stdout).toContain("BitRouter started");
    expect((await run(["stop", "--home-dir", h.home])).code).toBe(0);
  });

  it("restart starts the daemon again with the flags start was given (--listen, --db, --allow-open-network)", async () => {
    const h = await home();
    const other = await freePort();
    const db = join(tempDir(), "elsewhere.db");
    const started = await run(["start", "--home-dir", h.home, "--listen", `127.0.0.1:${other}`, "--db", `sqlite://${db}`, "--allow-open-network"], {
      env: h.env,
    });
    expect(started.code, started.stderr).toBe(0);
    const restarted = await run(["restart", "--home-dir", h.home], { env: h.env });
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stderr).toContain(`Restarting with the flags it was started with: --db *** --listen 127.0.0.1:${other} --allow-open-network`);
    expect(restarted.stdout).toContain(`listening on http://127.0.0.1:${other}`);
    const answer = await chat(other);
    expect(answer.status).toBe(200);
    await answer.json();
    // The ledger is still the --db one, the password-free URL never printed in full.
    await waitFor(() => existsSync(db));
    const report = await status(h.home, h.env);
    expect(report.daemon.server!.url).toBe(`http://127.0.0.1:${other}`);
    // status says where the daemon listens (its --listen), and the configured address beside it.
    expect(report.server).toMatchObject({ listen: `127.0.0.1:${other}`, configured_listen: `127.0.0.1:${h.port}` });
    const text = await run(["status", "--home-dir", h.home], { env: h.env });
    expect(text.stdout).toMatch(new RegExp(`listen\\s+127\\.0\\.0\\.1:${other} \\(server\\.listen: 127\\.0\\.0\\.1:${h.port}\\)`));
    // Flags given to restart win, and are what the next restart reuses.
    const moved = await freePort();
    const again = await run(["restart", "--home-dir", h.home, "--listen", `127.0.0.1:${moved}`], { env: h.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`listening on http://127.0.0.1:${moved}`);
    expect(statSync(join(h.home, "run", "bitrouter.start.json")).mode & 0o777).toBe(0o600);
    expect((await run(["stop", "--home-dir", h.home])).code).toBe(0);
  });

  it("a broken config does not block stop or status while the daemon runs", async () => {
    const h = await home();
    expect((await run(["start", "--home-dir", h.home], { env: h.env })).code).toBe(0);
    const pid = readPid(h.pidFile)!;
    writeFileSync(join(h.home, "bitrouter.yaml"), `server:\n  lisen: 127.0.0.1:${h.port}\n`);

    const text = await run(["status", "--home-dir", h.home], { env: h.env });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`daemon\\s+running \\(pid ${pid}, up \\d+s\\)`));
    expect(text.stderr).toContain('server.lisen: unknown key "lisen" (did you mean "listen"?)');
    const json = await run(["status", "--json", "--home-dir", h.home], { env: h.env });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { config_error: string; daemon: { state: string; pid: number } };
    expect(report.daemon).toMatchObject({ state: "running", pid });
    expect(report.config_error).toContain("lisen");

    const stopped = await run(["stop", "--home-dir", h.home]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toContain("warning: the configuration does not load");
    expect(stopped.stderr).toContain("lisen");
    expect(stopped.stdout).toMatch(new RegExp(`BitRouter stopped \\(pid ${pid}, [\\d.]+s\\)`));
    expect(alive(pid)).toBe(false);
  });

  it("stop waits for in-flight requests to drain", async () => {
    const h = await home();
    expect((await run(["start", "--home-dir", h.home], { env: h.env })).code).toBe(0);
    mock.reset();
    mock.enqueue({ text: "slow answer", delayMs: 1500 });
    const inflight = chat(h.port);
    await waitFor(() => mock.requests.length > 0);
    const stopped = await run(["stop", "--home-dir", h.home]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const answer = await inflight;
    expect(answer.status).toBe(200);
    expect(JSON.stringify(await answer.json())).toContain("slow answer");
  });

  it("stop escalates to SIGKILL after --timeout and cleans up after it", async () => {
    const h = await home();
    expect((await run(["start", "--home-dir", h.home], { env: h.env })).code).toBe(0);
    const pid = readPid(h.pidFile)!;
    mock.reset();
    mock.enqueue({ hang: true });
    const inflight = chat(h.port).catch(() => undefined);
    await waitFor(() => mock.requests.length > 0);
    const begun = Date.now();
    const stopped = await run(["stop", "--timeout", "1", "--home-dir", h.home]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`BitRouter (pid ${pid}) did not stop within 1: killed with SIGKILL`);
    expect(Date.now() - begun).toBeLessThan(15_000);
    expect(alive(pid), "process still alive").toBe(false);
    expect(existsSync(h.pidFile), "PID file left").toBe(false);
    expect(existsSync(join(h.home, "run", "bitrouter.sock")), "control socket left").toBe(false);
    await inflight; // the connection died with the server
    mock.reset();
  });
});

describe("stale PID files and crashes", () => {
  it("a server killed with SIGKILL is reported as crashed, cleaned up, and start works again", async () => {
    const h = await home();
    expect((await run(["start", "--home-dir", h.home], { env: h.env })).code).toBe(0);
    const pid = readPid(h.pidFile)!;
    process.kill(pid, "SIGKILL");
    await waitFor(() => !alive(pid));
    expect(existsSync(h.pidFile)).toBe(true);

    const text = await run(["status", "--home-dir", h.home]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`not running (crashed: pid ${pid} exited without removing its PID file; cleaned up)`);
    expect(existsSync(h.pidFile)).toBe(false);
    expect(existsSync(join(h.home, "run", "bitrouter.sock"))).toBe(false);

    // The JSON form, on a fresh crash.
    expect((await run(["start", "--home-dir", h.home], { env: h.env })).code).toBe(0);
    const second = readPid(h.pidFile)!;
    process.kill(second, "SIGKILL");
    await waitFor(() => !alive(second));
    expect((await status(h.home)).daemon).toEqual({
      state: "crashed",
      pid: second,
      pid_file: h.pidFile,
      cleaned: [h.pidFile, join(h.home, "run", "bitrouter.sock")],
    });

    const again = await run(["start", "--home-dir", h.home], { env: h.env });
    expect(again.code, again.stderr).toBe(0);
    expect((await run(["stop", "--home-dir", h.home])).code).toBe(0);
  });

  it("a PID reused by another program is stale: reported, cleaned, and not signalled", async () => {
    const h = await home();
    mkdirSync(join(h.home, "run"), { recursive: true });
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
    try {
      writeFileSync(h.pidFile, `${other.pid}\n`);
      const report = await status(h.home);
      expect(report.daemon).toEqual({ state: "stale", pid: other.pid, pid_file: h.pidFile, cleaned: [h.pidFile] });
      expect(existsSync(h.pidFile)).toBe(false);

      writeFileSync(h.pidFile, `${other.pid}\n`);
      const text = await run(["status", "--home-dir", h.home]);
      expect(text.stdout).toContain(`not running (stale PID file ${h.pidFile}: pid ${other.pid} is another program; cleaned up)`);

      writeFileSync(h.pidFile, `${other.pid}\n`);
      const stopped = await run(["stop", "--home-dir", h.home]);
      expect(stopped.code).toBe(0);
      expect(stopped.stdout).toContain(`BitRouter is not running: the PID file named pid ${other.pid}, another program.`);
      expect(alive(other.pid!)).toBe(true); // never signalled
      expect(existsSync(h.pidFile)).toBe(false);

      // start does not mistake it for a running daemon either.
      writeFileSync(h.pidFile, `${other.pid}\n`);
      const started = await run(["start", "--home-dir", h.home], { env: h.env });
      expect(started.code, started.stderr).toBe(0);
      expect(readPid(h.pidFile)).not.toBe(other.pid);
      expect((await run(["stop", "--home-dir", h.home])).code).toBe(0);
      expect(alive(other.pid!)).toBe(true);
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("a live server whose control socket is elsewhere keeps its PID file, and stop still stops it", async () => {
    const h = await home();
    const config = join(tempDir(), "moved.yaml");
    writeFileSync(config, `server:\n  listen: 127.0.0.1:${h.port}\n  control:\n    socket: moved.sock\n`);
    expect((await run(["start", "--home-dir", h.home, "--config-file", config], { env: h.env })).code).toBe(0);
    const pid = readPid(h.pidFile)!;
    expect(existsSync(join(h.home, "run", "moved.sock"))).toBe(true);
    // Without --config-file, status looks for run/bitrouter.sock: no live numbers, but no cleanup either.
    const text = await run(["status", "--home-dir", h.home]);
    expect(text.stdout).toContain(`daemon    running (pid ${pid}, control socket not answering)`);
    expect(readPid(h.pidFile)).toBe(pid);
    const stopped = await run(["stop", "--home-dir", h.home]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`BitRouter stopped (pid ${pid}`);
    expect(alive(pid)).toBe(false);
  });

  it("a server whose PID file was deleted is still found through its control socket and stopped", async () => {
    const h = await home();
    expect((await run(["start", "--home-dir", h.home], { env: h.env })).code).toBe(0);
    const pid = readPid(h.pidFile)!;
    rmSync(h.pidFile);
    expect((await status(h.home)).daemon).toMatchObject({ state: "running", pid });
    const stopped = await run(["stop", "--home-dir", h.home]);
    expect(stopped.stdout).toContain(`BitRouter stopped (pid ${pid}`);
    expect(alive(pid)).toBe(false);
  });

  it("a PID file with garbage is stale and removed", async () => {
    const h = await home();
    mkdirSync(join(h.home, "run"), { recursive: true });
    writeFileSync(h.pidFile, "not-a-pid\n");
    expect((await status(h.home)).daemon).toEqual({ state: "stale", pid_file: h.pidFile, cleaned: [h.pidFile] });
  });

  it("stop with nothing running exits 0, even on a home that does not exist yet", async () => {
    const h = await home();
    const stopped = await run(["stop", "--home-dir", h.home]);
    expect(stopped).toMatchObject({ code: 0, stdout: "BitRouter is not running.\n" });
    const nowhere = join(tempDir(), "never-created");
    const none = await run(["stop", "--home-dir", nowhere]);
    expect(none).toMatchObject({ code: 0, stdout: "BitRouter is not running.\n" });
    expect(existsSync(nowhere)).toBe(false);
  });
});

describe("start failures and usage", () => {
  it("a server that cannot start: exit 1 with the reason from daemon.log, nothing left running", async () => {
    const h = await home();
    const blocker = (await import("node:net")).createServer();
    await new Promise<void>((resolve) => blocker.listen(h.port, "127.0.0.1", resolve));
    try {
      const started = await run(["start", "--home-dir", h.home], { env: h.env });
      expect(started.code).toBe(1);
      expect(started.stderr).toContain("BitRouter did not start: the server exited with code 1 during startup.");
      expect(started.stderr).toContain(`Last lines of ${join(h.home, "logs", "daemon.log")}:`);
      expect(started.stderr).toContain(`cannot listen on 127.0.0.1:${h.port}: the address is already in use`);
      expect(started.stderr).not.toContain("DAEMONKEY");
      expect(existsSync(h.pidFile)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it("a daemon on a public address without an account is refused by the server, reason shown", async () => {
    const h = await home();
    const started = await run(["start", "--home-dir", h.home, "--listen", `0.0.0.0:${h.port}`], { env: h.env });
    expect(started.code).toBe(1);
    expect(started.stderr).toContain("refusing to listen on 0.0.0.0 without authentication");
    expect(existsSync(h.pidFile)).toBe(false);
  });

  it("an invalid config fails before forking, with the located message", async () => {
    const h = await home();
    writeFileSync(join(h.home, "bitrouter.yaml"), "server:\n  lisen: 127.0.0.1:1\n");
    const started = await run(["start", "--home-dir", h.home]);
    expect(started.code).toBe(1);
    expect(started.stderr).toContain('server.lisen: unknown key "lisen" (did you mean "listen"?)');
    expect(existsSync(join(h.home, "logs", "daemon.log"))).toBe(false);
  });

  it("bad timeouts and mistyped flags are usage errors (exit 2) naming the valid flag", async () => {
    const badTimeout = await run(["stop", "--timeout", "soon"]);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain("--timeout takes seconds (30) or a duration (1500ms, 30s, 2m); got 'soon'");
    const typo = await run(["stop", "--tiemout", "3"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("Did you mean --timeout?");
    const typoStart = await run(["start", "--lisen", "127.0.0.1:1"]);
    expect(typoStart.code).toBe(2);
    expect(typoStart.stderr).toContain("Did you mean --listen?");
    const command = await run(["strat"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("bitrouter start");
    const help = await run(["start", "--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--listen", "--start-timeout", "--home-dir", "--run-dir", "--logs-dir", "--db"]) expect(help.stdout).toContain(flag);
  });
});
