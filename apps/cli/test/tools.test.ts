/**
 * `bitrouter tools list | status | discover`, `usage --by tool` and `agents list | status` against
 * a real `bitrouter serve` with a testkit MCP upstream, a dead one, and configured agents.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMcpMock, type McpMock } from "@bitrouter/testkit";
import { loadConfig } from "@bitrouter/config";
import { controlSocketPath, resolveHomePaths } from "../src/home.js";
import { readSnapshot } from "../src/tui/data.js";
import { panelText } from "../src/tui/view.js";
import { run } from "./daemon-helpers.js";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

let web: McpMock;
let agentHost: Server;
let agentUrl: string;
let home: string;
let child: ChildProcess;
let url: string;

// Asynchronous on purpose: the upstreams live in this process and must keep answering meanwhile.
const cli = (args: string[]) => run([...args, "--home-dir", home], { env: { HOME: home } });

beforeAll(async () => {
  web = await startMcpMock({ name: "web" });
  agentHost = createServer((req, res) => {
    if (req.url === "/.well-known/agent-card.json") res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ name: "Researcher" }));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => agentHost.listen(0, "127.0.0.1", resolve));
  agentUrl = `http://127.0.0.1:${(agentHost.address() as AddressInfo).port}`;
  home = mkdtempSync(join(tmpdir(), "bitrouter-tools-"));
  writeFileSync(
    join(home, "bitrouter.yaml"),
    `inherit_defaults: false
providers:
  web:
    api_protocol: mcp
    api_base: ${web.url}
    bridge: true
  dead:
    api_protocol: mcp
    api_base: http://127.0.0.1:9/mcp
tools:
  plus:
    endpoints: [{ provider: web, service_id: add }]
    pricing: { default: 0.5 }
guardrails:
  tools:
    providers:
      web: { filter: { deny: [echo] } }
agents:
  researcher: { url: ${agentUrl} }
  local: { command: node, args: [agent.js] }
  missing: { command: no-such-agent-binary }
`,
  );
  child = spawn(process.execPath, [BIN, "serve", "--home-dir", home, "--listen", "127.0.0.1:0"], { env: { PATH: process.env.PATH ?? "", HOME: home } });
  let out = "";
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000);
    const check = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.on("exit", () => reject(new Error(`serve exited:\n${out}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    await new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGTERM");
    });
  }
  await web?.close();
  await new Promise<void>((resolve) => (agentHost ? agentHost.close(() => resolve()) : resolve()));
});

describe("bitrouter tools", () => {
  it("list shows the gateway's tools with their server, filters applied", async () => {
    const listed = await cli(["tools", "list", "--json"]);
    expect(listed.code).toBe(0);
    const tools = JSON.parse(listed.stdout) as { name: string; server?: string }[];
    expect(tools.map((t) => t.name)).toEqual(["web__add", "plus"]);
    expect(tools[0]!.server).toBe("web");
    const table = await cli(["tools", "list"]);
    expect(table.stdout).toMatch(/web__add\s+web\s+Adds two numbers/);
  });

  it("status shows each upstream: connected or its error, tool count, hidden by filters, ping", async () => {
    const status = await cli(["tools", "status", "--json"]);
    const rows = JSON.parse(status.stdout) as { name: string; state: string; tools?: number; hidden?: number; lastPingMs?: number; error?: string }[];
    expect(rows.find((r) => r.name === "web")).toMatchObject({ state: "connected", tools: 2, hidden: 1 });
    expect(rows.find((r) => r.name === "web")!.lastPingMs).toBeGreaterThanOrEqual(0);
    expect(rows.find((r) => r.name === "dead")).toMatchObject({ state: "failed" });
    expect(rows.find((r) => r.name === "dead")!.error).toBeTruthy();
    expect(status.code).toBe(1); // an upstream is down
    expect((await cli(["tools", "status"])).stdout).toMatch(/dead\s+http\s+failed: /);
  });

  it("discover prints a tools: block for one server", async () => {
    const found = await cli(["tools", "discover", "web"]);
    expect(found.code).toBe(0);
    expect(found.stdout).toMatch(/^tools:\n {2}add:\n {4}endpoints:\n {6}- provider: web\n {8}service_id: add\n/);
    expect(found.stdout).toContain("input_schema:");
    const unknown = await cli(["tools", "discover", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no MCP or REST tool provider named 'nope'");
  });

  it("usage --by tool reports calls and spend per tool", async () => {
    const client = new Client({ name: "t", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    await client.callTool({ name: "plus", arguments: { a: 1, b: 2 } });
    await client.callTool({ name: "plus", arguments: { a: 3, b: 4 } });
    await client.close();
    // The ledger writes in batches (at least every second): read until both rows are there.
    let rows: { group: string; requests: number; costMicroUsd: number }[] = [];
    for (let i = 0; i < 50 && !rows.some((r) => r.requests === 2); i++) {
      rows = (JSON.parse((await cli(["usage", "--by", "tool", "--json"])).stdout) as { rows: typeof rows }).rows;
      if (!rows.some((r) => r.requests === 2)) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(rows).toEqual([expect.objectContaining({ group: "web/add", requests: 2, costMicroUsd: 1_000_000 })]);
  });
});

describe("the dashboard", () => {
  it("shows the MCP upstreams and today's tool calls in the Providers panel", async () => {
    const paths = resolveHomePaths({ homeDir: home }, {}, home);
    const loaded = await loadConfig({ paths, env: {}, cwd: home });
    const snapshot = await readSnapshot(controlSocketPath(paths.runDir, loaded.config.server.control.socket), loaded, "daemon");
    const text = panelText(snapshot).providers;
    expect(text).toMatch(/MCP \/ tools {3}2 calls today, \$1\.0000/); // the two calls of the usage test above
    expect(text).toMatch(/web\s+http\s+\{green-fg\}connected\{\/green-fg\} {2}2 tools/);
    expect(text).toMatch(/dead\s+http\s+\{red-fg\}failed: /);
  });
});

describe("bitrouter agents", () => {
  it("list shows the configured agents", async () => {
    const listed = JSON.parse((await cli(["agents", "list", "--json"])).stdout) as { name: string; kind: string }[];
    expect(listed.map((a) => [a.name, a.kind])).toEqual([
      ["researcher", "a2a"],
      ["local", "acp"],
      ["missing", "acp"],
    ]);
  });

  it("status checks the agent card of remote agents and the PATH for local ones", async () => {
    const status = await cli(["agents", "status", "--json"]);
    const rows = JSON.parse(status.stdout) as { name: string; ok: boolean; detail: string }[];
    expect(rows.find((r) => r.name === "researcher")).toMatchObject({ ok: true });
    expect(rows.find((r) => r.name === "researcher")!.detail).toContain('"Researcher"');
    expect(rows.find((r) => r.name === "local")).toMatchObject({ ok: true });
    expect(rows.find((r) => r.name === "missing")).toMatchObject({ ok: false, detail: "'no-such-agent-binary' not found on PATH" });
    expect(status.code).toBe(1);
  });
});
