/**
 * `@modelcontextprotocol/conformance` (every server scenario, `--suite all`) against a bridge
 * `/mcp/<name>` in front of the testkit's conformance upstream: the bridge loses nothing of the
 * protocol. The conformance CLI needs Node >= 22: on older Node this file is skipped (CI runs it
 * in its Node 24 pass).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConformanceMock } from "@bitrouter/testkit";
import type { McpHost } from "@bitrouter/testkit";
import { startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

const conformance = createRequire(import.meta.url).resolve("@modelcontextprotocol/conformance/dist/index.js");
const supported = Number(process.versions.node.split(".")[0]) >= 22;

let upstream: McpHost;
let server: TestServer;

beforeAll(async () => {
  if (!supported) return;
  upstream = await startConformanceMock();
  // Open mode on loopback, as the conformance client sends no token.
  server = await startTestServer(`inherit_defaults: false\nproviders:\n  conf:\n    api_protocol: mcp\n    api_base: ${upstream.url}\n    bridge: true\n`);
});
afterAll(async () => {
  await server?.close();
  await upstream?.stop();
});

function run(url: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const cwd = mkdtempSync(join(tmpdir(), "bitrouter-conformance-")); // it writes results/ there
    const child = spawn(process.execPath, [conformance, "server", "--url", url, "--suite", "all"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe.skipIf(!supported)("MCP conformance", () => {
  it("every server scenario passes through a bridge", async () => {
    const { code, output } = await run(`${server.url}/mcp/conf`);
    const summary = output.slice(output.indexOf("=== SUMMARY ==="));
    expect(summary).toMatch(/Total: \d+ passed, 0 failed/);
    expect(summary).not.toContain("✗");
    expect(code).toBe(0);
  }, 180_000);
});
