import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMock, type MockUpstream } from "@bitrouter/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, Terminal, freePort } from "./tui-tmux.js";

const KEY = "sk-test-TUIKEY-0123456789abcdef";

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock.close();
});

/** A home whose only keyed provider is the mock upstream (an OpenAI derivative, so it has prices). */
function homeWithMock(port: number): string {
  const home = mkdtempSync(join(tmpdir(), "bitrouter-tui-"));
  writeFileSync(
    join(home, "bitrouter.yaml"),
    `server:
  listen: 127.0.0.1:${port}
providers:
  mock:
    derives: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: \${MOCK_KEY}
models:
  fast:
    endpoints:
      - provider: mock
        model_id: gpt-4o-mini
`,
  );
  writeFileSync(join(home, ".env"), `MOCK_KEY=${KEY}\n`, { mode: 0o600 });
  return home;
}

function run(args: string[], home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: home, env: { PATH: process.env.PATH ?? "", HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `bitrouter serve` in the background; resolves once it listens. */
async function serve(home: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, "serve", "--home-dir", home], {
    cwd: home,
    env: { PATH: process.env.PATH ?? "", HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output += c.toString();
      if (output.includes("BitRouter listening on")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    child.once("exit", (code) => reject(new Error(`serve exited ${code}:\n${output}`)));
  });
  return child;
}

async function chat(port: number, model: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello there" }] }),
  });
  await response.text();
  return response.status;
}

/** Lines holding both titles: the grid puts Providers and Routes side by side. */
const sideBySide = (screen: string) => screen.split("\n").some((line) => line.includes("Providers") && line.includes("Routes"));

describe("bitrouter (the dashboard)", () => {
  it("attaches to a running server: status, providers, routes and live counters; adapts to the width; q quits and leaves the server running", async () => {
    const port = await freePort();
    const home = homeWithMock(port);
    const server = await serve(home);
    const term = new Terminal(["--home-dir", home], { env: { HOME: home }, cwd: home, cols: 120, rows: 40 });
    try {
      let screen = await term.waitFor(/daemon \(pid \d+\)/);
      expect(screen).toContain(`pid ${server.pid}`);
      expect(screen).toContain(`http://127.0.0.1:${port}`);
      expect(screen).toMatch(/mock\s+key present/);
      expect(screen).toMatch(/anthropic\s+key missing/);
      expect(screen).toMatch(/fast\s+config\s+priority\s+0 req/);
      expect(sideBySide(screen)).toBe(true);

      mock.enqueue({ error: "invalid_request", status: 400, message: "mock says no" });
      const statuses = [await chat(port, "fast"), await chat(port, "fast"), await chat(port, "fast")];
      expect(statuses).toEqual([400, 200, 200]);
      screen = await term.waitFor(/requests\s+3\s+errors 1/);
      expect(screen).toMatch(/fast\s+config\s+priority\s+3 req/);
      expect(screen).toMatch(/latency\s+p50 \d+ ms\s+p99 \d+ ms/);
      // Priced through the OpenAI catalog: today's spend comes from the ledger.
      screen = await term.waitFor(/today \$0\.0*[1-9]/);

      expect((await run(["route", "add", "quick", "mock:gpt-4o", "--home-dir", home], home)).code).toBe(0);
      await term.waitFor(/quick\s+dynamic\s+priority/);

      term.resize(80, 60);
      // Narrow: one column, Providers above Routes.
      screen = await term.waitFor(/Providers[^\n]*\n[\s\S]*Routes/);
      expect(sideBySide(screen)).toBe(false);
      expect(screen).toMatch(/requests\s+3\s+errors 1/);
      expect(screen.split("\n").every((line) => line.length <= 80)).toBe(true);

      term.resize(130, 40);
      await term.waitFor(/Providers[^\n]*Routes/);

      term.keys("q");
      screen = await term.waitFor("[exited 0]");
      expect(screen).not.toContain("Stopping the server");
      expect(server.exitCode).toBeNull(); // the daemon keeps serving
      expect(await chat(port, "fast")).toBe(200);
    } finally {
      term.close();
      server.kill("SIGTERM");
    }
  });

  it("follows reloads: a provider added by r appears; a failed reload shows every problem", async () => {
    const port = await freePort();
    const home = homeWithMock(port);
    const server = await serve(home);
    const term = new Terminal(["--home-dir", home], { env: { HOME: home }, cwd: home, cols: 120, rows: 40 });
    try {
      let screen = await term.waitFor(/mock\s+key present/);
      expect(screen).not.toContain("added");
      const config = (await import("node:fs")).readFileSync(join(home, "bitrouter.yaml"), "utf8");
      writeFileSync(
        join(home, "bitrouter.yaml"),
        config.replace(
          "providers:\n",
          `providers:\n  added:\n    derives: openai\n    api_base: ${mock.baseUrl("openai-chat")}\n    api_key: added-key-0123456789\n`,
        ),
      );
      term.keys("r");
      screen = await term.waitFor(/added\s+key present/);
      expect(screen).toContain("configuration reloaded");

      writeFileSync(
        join(home, "bitrouter.yaml"),
        `server:\n  lisen: 127.0.0.1:${port}\nmodels:\n  fast:\n    strategy: fastest\n    endpoints:\n      - provider: mock\n        model_id: gpt-4o-mini\n`,
      );
      term.keys("r");
      screen = await term.waitFor("Reload failed");
      expect(screen).toMatch(/Invalid configuration \(2 problems\)/);
      expect(screen).toContain('unknown key "lisen"');
      expect(screen).toContain("strategy");
      // The server kept its configuration: the added provider is still listed.
      term.keys("Escape");
      screen = await term.waitFor(/^(?![\s\S]*Reload failed)/); // the box is gone
      expect(screen).toMatch(/added\s+key present/);
    } finally {
      term.close();
      server.kill("SIGTERM");
    }
  });

  it("without a running server, serves in-process until q, then drains and stops", async () => {
    const port = await freePort();
    const home = homeWithMock(port);
    const term = new Terminal(["--home-dir", home], { env: { HOME: home }, cwd: home, cols: 120, rows: 40 });
    try {
      await term.waitFor("in this process (stops on quit)");
      expect(existsSync(join(home, "run", "bitrouter.sock"))).toBe(true);
      expect(await chat(port, "fast")).toBe(200);
      expect(await chat(port, "mock:gpt-4o")).toBe(200);
      const screen = await term.waitFor(/requests\s+2\s+errors 0/);
      expect(screen).toMatch(/fast\s+config\s+priority\s+1 req/);
      expect(screen).toContain("q quit");
      expect(screen).not.toContain("TUIKEY");

      term.keys("q");
      const after = await term.waitFor("[exited 0]");
      expect(after).toContain("Stopping the server (draining in-flight requests)...");
      expect(after).toContain("Stopped.");
      expect(existsSync(join(home, "run", "bitrouter.sock"))).toBe(false);
      expect(existsSync(join(home, "run", "bitrouter.pid"))).toBe(false);
      await expect(chat(port, "fast")).rejects.toThrow();
    } finally {
      term.close();
    }
  });

  it("with no provider configured, runs the setup wizard first, then opens the dashboard", async () => {
    const port = await freePort();
    const home = join(mkdtempSync(join(tmpdir(), "bitrouter-tui-")), "home");
    const term = new Terminal(["--home-dir", home], { env: { HOME: home, OPENAI_BASE_URL: mock.baseUrl("openai-chat") }, cwd: tmpdir(), cols: 120, rows: 40 });
    try {
      await term.waitFor("No provider has an API key yet");
      await term.waitFor("Providers to set up");
      term.keys("Space", "Enter");
      await term.waitFor("openai: API base URL");
      term.keys("Enter");
      await term.waitFor("openai: API key");
      term.keys("Enter");
      await term.waitFor("openai API key");
      term.type(KEY);
      term.keys("Enter");
      await term.waitFor("Define a virtual model");
      term.type("n");
      term.keys("Enter");
      await term.waitFor("Listen address");
      term.keys("C-u");
      term.type(`127.0.0.1:${port}`);
      term.keys("Enter");
      await term.waitFor("Write these files?");
      term.keys("Enter");
      const screen = await term.waitFor("in this process (stops on quit)");
      expect(screen).toMatch(/openai\s+key present/);
      expect(screen).toContain(`http://127.0.0.1:${port}`);
      term.keys("C-c");
      await term.waitFor("[exited 0]");
    } finally {
      term.close();
    }
  });

  it("not on a terminal, prints the status and exits", async () => {
    const home = homeWithMock(await freePort());
    const result = await run(["--home-dir", home], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("daemon    not running");
    expect(result.stdout).toMatch(/mock\s+openai\s+http:\/\/127\.0\.0\.1:\d+\/v1\s+present/);
    expect(result.stdout).toContain("Not a terminal, so this is `bitrouter status`");
    expect(result.stdout + result.stderr).not.toContain("TUIKEY");
  });

  it("a mistyped command is a usage error naming the nearest commands, not the dashboard", async () => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-tui-"));
    const result = await run(["serv", "--home-dir", home], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown command "serv".');
    expect(result.stderr).toContain("  bitrouter serve");
    expect(result.stdout).toBe("");
  });
});
