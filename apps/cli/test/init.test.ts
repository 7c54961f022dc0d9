import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMock, type MockUpstream } from "@bitrouter/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, Terminal, freePort } from "./tui-tmux.js";

const KEY = "sk-test-WIZARDKEY-0123456789abcdef";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI with a clean environment (HOME in a temp dir, no inherited keys). */
function bitrouter(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const home = mkdtempSync(join(tmpdir(), "bitrouter-init-user-"));
  return new Promise((resolve, reject) => {
    // Async spawn: the mock upstream lives in this process and must keep answering.
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: home,
      env: { PATH: process.env.PATH ?? "", HOME: home, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function waitUntil(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const tempHome = () => join(mkdtempSync(join(tmpdir(), "bitrouter-init-")), "home");

let mock: MockUpstream;
let rejecting: Server;
let rejectingUrl: string;
const rejectedAuth: string[] = [];

beforeAll(async () => {
  mock = await startMock();
  // An upstream that refuses every key (the mock lists models for anyone).
  rejecting = createServer((req, res) => {
    rejectedAuth.push(req.headers.authorization ?? "");
    res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"message":"bad key"}}');
  });
  await new Promise<void>((resolve) => rejecting.listen(0, "127.0.0.1", () => resolve()));
  rejectingUrl = `http://127.0.0.1:${(rejecting.address() as { port: number }).port}/v1`;
});

afterAll(async () => {
  await mock.close();
  await new Promise((resolve) => rejecting.close(resolve));
});

describe("bitrouter init --non-interactive", () => {
  it("stores the key in .env (0600), references it from the YAML, verifies it, and never prints it", async () => {
    const home = tempHome();
    const run = await bitrouter(
      [
        "init",
        "--home-dir",
        home,
        "--non-interactive",
        "--provider",
        "openai",
        "--api-key",
        KEY,
        "--model",
        "default=openai:gpt-4o,openai:gpt-4o-mini",
        "--listen",
        "127.0.0.1:9123",
      ],
      { OPENAI_BASE_URL: mock.baseUrl("openai-chat") },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`openai: 127.0.0.1:${mock.port} accepted the key`);
    expect(mock.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/models" });
    expect(mock.requests.at(-1)!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(run.stdout).toContain("OPENAI_API_KEY=(hidden)");
    expect(run.stdout + run.stderr).not.toContain("WIZARDKEY");

    const env = join(home, ".env");
    expect(statSync(env).mode & 0o777).toBe(0o600);
    expect(readFileSync(env, "utf8")).toMatch(new RegExp(`^OPENAI_API_KEY=${KEY}$`, "m"));
    const yaml = readFileSync(join(home, "bitrouter.yaml"), "utf8");
    expect(yaml).toContain("api_key: ${OPENAI_API_KEY}");
    expect(yaml).not.toContain(KEY);
    expect(yaml).toContain("listen: 127.0.0.1:9123");

    // The result loads: status sees the key (from .env) and the model.
    const status = JSON.parse((await bitrouter(["status", "--json", "--home-dir", home])).stdout);
    expect(status.server.listen).toBe("127.0.0.1:9123");
    expect(status.providers.find((p: { name: string }) => p.name === "openai").api_key).toBe("present");
    expect(status.models).toEqual([{ name: "default", strategy: "priority", endpoints: ["openai:gpt-4o", "openai:gpt-4o-mini"] }]);
  });

  it("re-running adds to the config and keeps its comments and other sections", async () => {
    const home = tempHome();
    await bitrouter(["status", "--home-dir", home]); // scaffold
    writeFileSync(
      join(home, "bitrouter.yaml"),
      `# my notes: keep this comment
server:
  listen: 127.0.0.1:9124 # the port the team uses
guardrails:
  enabled: false
providers:
  openai:
    api_key: \${OPENAI_API_KEY}
`,
    );
    const run = await bitrouter(
      [
        "init",
        "--home-dir",
        home,
        "--non-interactive",
        "--provider",
        "anthropic",
        "--api-key-env",
        "MY_ANTHROPIC",
        "--model",
        "smart=anthropic:claude-sonnet-4-20250514,openai:gpt-4o,openai:gpt-4o-next",
        "--strategy",
        "load_balance",
        "--skip-verify",
      ],
      { MY_ANTHROPIC: KEY },
    );
    expect(run.code).toBe(0);
    const yaml = readFileSync(join(home, "bitrouter.yaml"), "utf8");
    expect(yaml).toContain("# my notes: keep this comment");
    expect(yaml).toContain("listen: 127.0.0.1:9124 # the port the team uses");
    expect(yaml).toContain("guardrails:\n  enabled: false");
    expect(yaml).toContain("  openai:\n    api_key: ${OPENAI_API_KEY}\n  anthropic:\n    api_key: ${MY_ANTHROPIC}");
    expect(yaml).toContain("  smart:\n    strategy: load_balance");
    // A model id the catalog does not list is accepted, with a note; listed ones get none.
    expect(run.stderr).toContain("note: openai:gpt-4o-next is not in the provider's catalog: it is sent as is, with no pricing");
    expect(run.stderr).not.toContain("note: openai:gpt-4o ");
    // A referenced variable is not copied into .env.
    expect(readFileSync(join(home, ".env"), "utf8")).not.toContain("MY_ANTHROPIC");
    expect(run.stdout + run.stderr).not.toContain("WIZARDKEY");
  });

  it("fills in sections written empty (server:, providers.<name>:)", async () => {
    const home = tempHome();
    await bitrouter(["status", "--home-dir", home]);
    writeFileSync(join(home, "bitrouter.yaml"), "server:\nproviders:\n  openai:\n");
    const run = await bitrouter(["init", "--home-dir", home, "--non-interactive", "--provider", "openai", "--listen", "127.0.0.1:9126", "--skip-verify"]);
    expect(run.code).toBe(0);
    expect(readFileSync(join(home, "bitrouter.yaml"), "utf8")).toBe(
      "server:\n  listen: 127.0.0.1:9126\nproviders:\n  openai:\n    api_key: ${OPENAI_API_KEY}\n",
    );
  });

  it("a rejected key writes nothing and exits 1; an unreachable provider is said plainly", async () => {
    const home = tempHome();
    const rejected = await bitrouter(["init", "--home-dir", home, "--non-interactive", "--provider", "openai", "--api-key", KEY], {
      OPENAI_BASE_URL: rejectingUrl,
    });
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain(`rejected the key (HTTP 401). Nothing was written`);
    expect(rejectedAuth.at(-1)).toBe(`Bearer ${KEY}`);
    expect(readFileSync(join(home, "bitrouter.yaml"), "utf8")).not.toMatch(/^providers:/m);
    expect(readFileSync(join(home, ".env"), "utf8")).not.toContain(KEY);
    expect(rejected.stdout + rejected.stderr).not.toContain("WIZARDKEY");

    const closed = await freePort();
    const offline = await bitrouter(["init", "--home-dir", home, "--non-interactive", "--provider", "openai", "--api-key", KEY], {
      OPENAI_BASE_URL: `http://127.0.0.1:${closed}/v1`,
    });
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain(`openai: could not reach 127.0.0.1:${closed}: key not verified`);
    expect(readFileSync(join(home, ".env"), "utf8")).toContain(`OPENAI_API_KEY=${KEY}`);
  });

  it("bad provider, model and strategy flags are usage errors (exit 2) that name the flag", async () => {
    const home = tempHome();
    const [unknown, model, strategy] = await Promise.all([
      bitrouter(["init", "--home-dir", home, "--non-interactive", "--provider", "opnai"]),
      bitrouter(["init", "--home-dir", home, "--non-interactive", "--provider", "openai", "--model", "fast=gpt-4o"]),
      bitrouter(["init", "--home-dir", home, "--non-interactive", "--model", "fast=openai:gpt-4o", "--strategy", "random"]),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--provider: unknown provider 'opnai'; choose from openai, anthropic");
    expect(model.code).toBe(2);
    expect(model.stderr).toContain("--model: 'gpt-4o' is not provider:model_id");
    expect(strategy.code).toBe(2);
    expect(strategy.stderr).toContain("--strategy must be priority or load_balance; got 'random'");
    const alone = await bitrouter(["init", "--home-dir", home, "--non-interactive", "--provider", "openai", "--strategy", "load_balance", "--skip-verify"]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--strategy goes with --model");
    expect(readFileSync(join(home, "bitrouter.yaml"), "utf8")).not.toMatch(/^(providers|models):/m);
  });

  it("bad listen and key counts are usage errors; without a terminal the wizard says how to script it", async () => {
    const home = tempHome();
    const [listen, count, noTty] = await Promise.all([
      bitrouter(["init", "--home-dir", home, "--non-interactive", "--listen", "localhost"]),
      bitrouter(["init", "--home-dir", home, "--non-interactive", "--provider", "openai", "--provider", "anthropic", "--api-key", KEY]),
      bitrouter(["init", "--home-dir", home]),
    ]);
    expect(listen.code).toBe(2);
    expect(listen.stderr).toContain("--listen: 'localhost' is not host:port");
    expect(count.code).toBe(2);
    expect(count.stderr).toContain("give one --api-key per --provider (2 providers, 1 keys)");
    expect(count.stderr).not.toContain("WIZARDKEY");
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain("not a terminal: run `bitrouter init --non-interactive --provider NAME ...`");
    expect(readFileSync(join(home, "bitrouter.yaml"), "utf8")).not.toMatch(/^(providers|server):/m);
  });
});

describe("bitrouter init (interactive, in a terminal)", () => {
  it("walks through providers, key, model and listen address, then writes the files", async () => {
    const home = tempHome();
    const term = new Terminal(["init", "--home-dir", home], { env: { HOME: home }, cwd: tmpdir() });
    try {
      await term.waitFor("Providers to set up");
      term.keys("Space", "Enter"); // openai is first
      await term.waitFor("openai: API base URL");
      term.keys("C-u");
      term.type(mock.baseUrl("openai-chat")); // a compatible server instead of api.openai.com
      term.keys("Enter");
      await term.waitFor("openai: API key");
      term.keys("Enter"); // paste a key
      await term.waitFor("openai API key");
      term.type(KEY);
      term.keys("Enter");
      let screen = await term.waitFor("Define a virtual model");
      expect(screen).toContain(`ok: 127.0.0.1:${mock.port} accepted the key`);
      expect(screen).not.toContain("WIZARDKEY"); // the prompt masks it
      term.keys("Enter");
      await term.waitFor("Model name");
      term.keys("C-u");
      term.type("main");
      term.keys("Enter");
      await term.waitFor("Endpoints");
      term.keys("Enter"); // the suggested openai:gpt-4o
      await term.waitFor("Listen address");
      term.keys("C-u");
      term.type("127.0.0.1:9125");
      term.keys("Enter");
      screen = await term.waitFor("Write these files?");
      expect(screen).toContain("providers.openai.api_key: ${OPENAI_API_KEY}");
      expect(screen).toContain(`providers.openai.api_base: ${mock.baseUrl("openai-chat")}`);
      expect(screen).toContain("models.main: priority -> openai:gpt-4o");
      expect(screen).toContain("OPENAI_API_KEY=(hidden)");
      term.keys("Enter");
      screen = await term.waitFor("[exited 0]");
      expect(screen).toContain("Wrote:");
      expect(screen).not.toContain("WIZARDKEY");
    } finally {
      term.close();
    }
    expect(statSync(join(home, ".env")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(home, ".env"), "utf8")).toContain(`OPENAI_API_KEY=${KEY}`);
    const yaml = readFileSync(join(home, "bitrouter.yaml"), "utf8");
    expect(yaml).toContain("api_key: ${OPENAI_API_KEY}");
    expect(yaml).toContain(`api_base: ${mock.baseUrl("openai-chat")}`);
    expect(yaml).toContain("listen: 127.0.0.1:9125");
    expect(yaml).toContain("  main:\n    strategy: priority\n    endpoints:\n      - provider: openai\n        model_id: gpt-4o");
    // The scaffold's explanatory comments are still there.
    expect(yaml).toContain("# BitRouter configuration;");
  });

  it("re-run on an existing config asks to add to it, keeps its comment, and references an existing variable", async () => {
    const home = tempHome();
    await bitrouter(["status", "--home-dir", home]);
    writeFileSync(join(home, "bitrouter.yaml"), "# team config: do not remove\nproviders:\n  openai:\n    api_key: ${OPENAI_API_KEY}\n");
    const term = new Terminal(["init", "--home-dir", home, "--skip-verify"], { env: { HOME: home, DEEPSEEK_API_KEY: KEY }, cwd: tmpdir() });
    try {
      await term.waitFor("A configuration already exists. Add to it");
      term.keys("Enter");
      const list = await term.waitFor("Providers to set up");
      expect(list).toMatch(/deepseek\s+https:\/\/api\.deepseek\.com\/v1\s+\(DEEPSEEK_API_KEY is set\)/);
      // deepseek is the fifth entry.
      term.keys("Down", "Down", "Down", "Down", "Space", "Enter");
      await term.waitFor("deepseek: API base URL");
      term.keys("Enter"); // the built-in endpoint
      await term.waitFor("deepseek: API key");
      term.keys("Enter"); // use DEEPSEEK_API_KEY, already set
      await term.waitFor("Define a virtual model");
      term.type("n");
      term.keys("Enter");
      await term.waitFor("Listen address");
      term.keys("Enter");
      await term.waitFor("Write these files?");
      term.keys("Enter");
      await term.waitFor("[exited 0]");
    } finally {
      term.close();
    }
    const yaml = readFileSync(join(home, "bitrouter.yaml"), "utf8");
    expect(yaml).toBe("# team config: do not remove\nproviders:\n  openai:\n    api_key: ${OPENAI_API_KEY}\n  deepseek:\n    api_key: ${DEEPSEEK_API_KEY}\n");
    expect(readFileSync(join(home, ".env"), "utf8")).not.toContain(KEY);
  });

  it("a key the provider rejects is asked for again; skipping the provider keeps nothing", async () => {
    const home = tempHome();
    const term = new Terminal(["init", "--home-dir", home], { env: { HOME: home, OPENAI_BASE_URL: rejectingUrl }, cwd: tmpdir() });
    try {
      await term.waitFor("Providers to set up");
      term.keys("Space", "Enter");
      await term.waitFor("openai: API base URL");
      term.keys("Enter");
      await term.waitFor("openai: API key");
      term.keys("Enter");
      await term.waitFor("openai API key");
      term.type(KEY);
      term.keys("Enter");
      const screen = await term.waitFor("openai rejected the key. What now?");
      expect(screen).toMatch(/note: 127\.0\.0\.1:\d+ rejected the key \(HTTP 401\)/);
      const before = rejectedAuth.length;
      term.keys("Enter"); // default: enter another key
      await term.waitFor("? openai API key");
      term.type("sk-test-SECONDTRY-0123456789");
      term.keys("Enter");
      await term.waitFor("? openai rejected the key. What now?");
      await waitUntil(() => rejectedAuth.length > before);
      expect(rejectedAuth.at(-1)).toBe("Bearer sk-test-SECONDTRY-0123456789"); // the second key was the one checked
      term.keys("Down", "Enter"); // skip openai
      const end = await term.waitFor("[exited 1]");
      expect(end).toContain("No provider left to set up.");
      expect(end).not.toContain("WIZARDKEY");
      expect(end).not.toContain("SECONDTRY");
    } finally {
      term.close();
    }
    expect(readFileSync(join(home, ".env"), "utf8")).not.toContain(KEY);
  });

  it("answer flags given at a terminal are used, not asked again; a network address says the account comes first", async () => {
    const home = tempHome();
    const port = await freePort();
    const term = new Terminal(
      [
        "init",
        "--home-dir",
        home,
        "--provider",
        "openai",
        "--api-key-env",
        "MY_OPENAI_KEY",
        "--api-base",
        "http://127.0.0.1:11434/v1",
        "--listen",
        `0.0.0.0:${port}`,
        "--skip-verify",
      ],
      {
        env: { HOME: home },
        cwd: tmpdir(),
      },
    );
    try {
      const screen = await term.waitFor("[exited 0]");
      expect(screen).not.toContain("Providers to set up");
      expect(screen).toContain(`Next: 0.0.0.0:${port} is reachable from the network, so the server requires API keys there`);
      expect(screen).toContain("`bitrouter account -g`");
    } finally {
      term.close();
    }
    const yaml = readFileSync(join(home, "bitrouter.yaml"), "utf8");
    expect(yaml).toContain(`listen: 0.0.0.0:${port}`);
    expect(yaml).toContain("api_key: ${MY_OPENAI_KEY}");
    expect(yaml).toContain("api_base: http://127.0.0.1:11434/v1");
  });

  it("Ctrl+C cancels without writing anything", async () => {
    const home = tempHome();
    const term = new Terminal(["init", "--home-dir", home], { env: { HOME: home }, cwd: tmpdir() });
    try {
      await term.waitFor("Providers to set up");
      term.keys("C-c");
      const screen = await term.waitFor("[exited 1]");
      expect(screen).toContain("Setup cancelled; nothing was written.");
    } finally {
      term.close();
    }
    expect(existsSync(join(home, "bitrouter.yaml"))).toBe(true); // the scaffold
    expect(readFileSync(join(home, "bitrouter.yaml"), "utf8")).not.toMatch(/^providers:/m);
  });
});
