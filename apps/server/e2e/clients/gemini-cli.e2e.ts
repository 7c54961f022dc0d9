// Gemini CLI (`gemini -p … --output-format json`, API-key auth, base URL pointed at BitRouter) through
// BitRouter to each upstream: its default models, a text answer and a tool round trip (read_file).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMock } from "@bitrouter/testkit";
import type { MockHandler, MockUpstream } from "@bitrouter/testkit";
import type { TestServer } from "../../test/harness.js";
import { MARKER, TEXT, UPSTREAM_KEY, cleanEnv, inferenceRequests, run, startServer, tempHome, textAnswer, toolAnswer, upstreamKeyOf } from "./harness.js";
import type { Upstream } from "./harness.js";
import { installedPaths } from "./install.mjs";

const { modules } = installedPaths();
const gemini = join(modules, "@google/gemini-cli/bundle/gemini.js");
const upstreams: Upstream[] = ["google", "openai-chat", "anthropic"];

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock?.close();
});
beforeEach(() => mock.reset());

/**
 * Gemini CLI first asks its router model for a complexity score, as JSON under an upper-case
 * `responseJsonSchema` (OBJECT, STRING, INTEGER): answer that, and the main turn with `main`.
 */
function withClassifier(main: MockHandler): MockHandler {
  return (request) =>
    request.rawBody.includes("complexity_score") ? { text: JSON.stringify({ complexity_reasoning: "simple", complexity_score: 5 }) } : main(request);
}

async function geminiP(server: TestServer, prompt: string): Promise<{ response?: string; error?: unknown; raw: string }> {
  const home = tempHome("gemini");
  mkdirSync(join(home, ".gemini"));
  writeFileSync(
    join(home, ".gemini", "settings.json"),
    JSON.stringify({
      security: { auth: { selectedType: "gemini-api-key" } },
      telemetry: { enabled: false },
      privacy: { usageStatisticsEnabled: false },
      general: { disableAutoUpdate: true },
    }),
  );
  writeFileSync(join(home, "note.txt"), `The marker is ${MARKER}.\n`);
  const env = cleanEnv(home, { GEMINI_API_KEY: "client-key-not-for-upstream", GOOGLE_GEMINI_BASE_URL: server.url, GEMINI_CLI_TRUST_WORKSPACE: "true" });
  const out = await run(process.execPath, [gemini, "-p", prompt, "--output-format", "json"], { cwd: home, env });
  const start = out.stdout.indexOf("{");
  try {
    return { ...(JSON.parse(out.stdout.slice(start)) as { response?: string; error?: unknown }), raw: out.stdout.slice(-3000) + out.stderr.slice(-3000) };
  } catch {
    throw new Error(`gemini printed no JSON (exit ${out.code})\nstdout: ${out.stdout.slice(-2000)}\nstderr: ${out.stderr.slice(-2000)}`);
  }
}

describe.each(upstreams)("Gemini CLI -> %s upstream", (upstream) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(mock, upstream);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers text with its default models", async () => {
    mock.handle(withClassifier(textAnswer()));
    const out = await geminiP(server, "say hi");
    expect(out.error, out.raw).toBeUndefined();
    expect(out.response).toContain(TEXT);
    const sent = inferenceRequests(mock);
    // The classifier's schema reached a translated upstream with JSON Schema's lower-case types.
    const classifier = sent.find((r) => r.rawBody.includes("complexity_score"));
    if (classifier && upstream !== "google") expect(classifier.rawBody).not.toMatch(/"type":\s*"(OBJECT|STRING|INTEGER)"/);
    expect(sent.every((r) => upstreamKeyOf(r) === UPSTREAM_KEY[upstream])).toBe(true);
  });

  it("completes a tool round trip (read_file)", async () => {
    mock.handle(withClassifier(toolAnswer("read_file", { file_path: "note.txt" })));
    const out = await geminiP(server, "read note.txt and tell me the marker");
    expect(out.error, out.raw).toBeUndefined();
    expect(out.response).toContain(`The tool said ${MARKER}`);
    expect(inferenceRequests(mock).some((r) => r.rawBody.includes(MARKER))).toBe(true);
  });
});
