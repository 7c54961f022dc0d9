// Claude Code (`claude -p … --output-format json`) through BitRouter to each upstream protocol:
// its default model and a named one, a text answer and a tool round trip (its own Read tool).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import type { TestServer } from "../../test/harness.js";
import { MARKER, TEXT, UPSTREAM_KEY, answerText, answerWithTool, cleanEnv, inferenceRequests, run, startServer, tempHome, upstreamKeyOf } from "./harness.js";
import type { Upstream } from "./harness.js";
import { DEFAULT_MODELS, installedPaths } from "./install.mjs";

const { modules } = installedPaths();
const claude = join(modules, "@anthropic-ai/claude-code/bin/claude.exe");
const upstreams: Upstream[] = ["anthropic", "openai-chat", "google"];

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock?.close();
});
beforeEach(() => mock.reset());

async function claudeP(server: TestServer, prompt: string, args: string[] = []): Promise<{ result: string; is_error: boolean; raw: string }> {
  const home = tempHome("claude");
  writeFileSync(join(home, "note.txt"), `The marker is ${MARKER}.\n`);
  const env = cleanEnv(home, {
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: "client-key-not-for-upstream",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  });
  const out = await run(claude, ["-p", prompt, "--output-format", "json", ...args], { cwd: home, env });
  const line = out.stdout.trim().split("\n").pop() ?? "";
  try {
    return { ...(JSON.parse(line) as { result: string; is_error: boolean }), raw: line };
  } catch {
    throw new Error(`claude printed no JSON result (exit ${out.code})\nstdout: ${out.stdout.slice(-2000)}\nstderr: ${out.stderr.slice(-2000)}`);
  }
}

describe.each(upstreams)("Claude Code -> %s upstream", (upstream) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(mock, upstream);
  });
  afterAll(async () => {
    await server?.close();
  });

  it(`answers text with its default model (${DEFAULT_MODELS.claude})`, async () => {
    answerText(mock);
    const out = await claudeP(server, "say hi");
    expect(out.is_error, out.raw).toBe(false);
    expect(out.result).toContain(TEXT);
    const sent = inferenceRequests(mock);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => upstreamKeyOf(r) === UPSTREAM_KEY[upstream])).toBe(true);
  });

  it("completes a tool round trip (Read) with a named model", async () => {
    answerWithTool(mock, "Read", { file_path: "note.txt" });
    const out = await claudeP(server, "read note.txt and tell me the marker", ["--model", "e2e-model", "--allowedTools", "Read"]);
    expect(out.is_error, out.raw).toBe(false);
    expect(out.result).toContain(`The tool said ${MARKER}`);
    // The file's content went back up as the tool result.
    expect(inferenceRequests(mock).some((r) => r.rawBody.includes(MARKER))).toBe(true);
  });
});
