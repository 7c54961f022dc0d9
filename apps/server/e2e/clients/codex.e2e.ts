// Codex (`codex exec`, a custom provider pointed at BitRouter, default features on) through BitRouter
// to each upstream: OpenAI's Responses API as is, and translated to Chat Completions, Anthropic and
// Gemini. The tool round trip uses Codex's own freeform `exec` tool (in its `functions` tool group).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { codeBlocks, startMock } from "@bitrouter/testkit";
import type { MockUpstream, RecordedRequest } from "@bitrouter/testkit";
import type { TestServer } from "../../test/harness.js";
import {
  MARKER,
  TEXT,
  UPSTREAMS,
  UPSTREAM_KEY,
  answerText,
  answerWithTool,
  cleanEnv,
  inferenceRequests,
  run,
  startServer,
  tempHome,
  upstreamKeyOf,
} from "./harness.js";
import type { RunResult } from "./harness.js";
import { installedPaths } from "./install.mjs";

const { modules } = installedPaths();
const codex = join(modules, "@openai/codex/bin/codex.js");
const TOOL_INPUT = `text("${MARKER}")`;

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock?.close();
});
beforeEach(() => mock.reset());

async function codexExec(server: TestServer, prompt: string): Promise<RunResult> {
  const home = tempHome("codex");
  const codexHome = join(home, ".codex");
  mkdirSync(codexHome);
  // docs/integrations/codex.md's config.toml as written (its server is this one), analytics off:
  // only the provider is configured; the model, tools and features are Codex's defaults.
  const [documented] = codeBlocks(readFileSync(new URL("../../../../docs/integrations/codex.md", import.meta.url), "utf8"), "toml");
  writeFileSync(join(codexHome, "config.toml"), `${documented!.replaceAll("http://127.0.0.1:8787", server.url)}\n[analytics]\nenabled = false\n`);
  const env = cleanEnv(home, { CODEX_HOME: codexHome, BITROUTER_API_KEY: "client-key-not-for-upstream" });
  return run(process.execPath, [codex, "exec", "--skip-git-repo-check", prompt], { cwd: home, env });
}

/** What OpenAI's Responses API streams for a freeform tool call (the mock knows only function calls). */
function customToolCallStream(name: string, input: string): string {
  const item = { id: "ctc_1", type: "custom_tool_call", status: "completed", call_id: "call_exec_1", name, namespace: "functions", input };
  const response = (status: string, output: unknown[]) => ({
    id: "resp_1",
    object: "response",
    created_at: 1,
    status,
    model: "up-model",
    output,
    usage: status === "completed" ? { input_tokens: 10, output_tokens: 5, total_tokens: 15 } : null,
  });
  const events: Array<Record<string, unknown>> = [
    { type: "response.created", response: response("in_progress", []) },
    { type: "response.output_item.added", output_index: 0, item: { ...item, status: "in_progress", input: "" } },
    { type: "response.custom_tool_call_input.delta", output_index: 0, item_id: "ctc_1", delta: input },
    { type: "response.custom_tool_call_input.done", output_index: 0, item_id: "ctc_1", input },
    { type: "response.output_item.done", output_index: 0, item },
    { type: "response.completed", response: response("completed", [item]) },
  ];
  return events.map((e, i) => `event: ${String(e.type)}\ndata: ${JSON.stringify({ ...e, sequence_number: i })}\n\n`).join("");
}

describe.each(UPSTREAMS)("Codex -> %s upstream", (upstream) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(mock, upstream);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers text (default model and features)", async () => {
    answerText(mock);
    const out = await codexExec(server, "say hi");
    expect(out.stdout, out.stderr.slice(-3000)).toContain(TEXT);
    const sent = inferenceRequests(mock);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => upstreamKeyOf(r) === UPSTREAM_KEY[upstream])).toBe(true);
    if (upstream === "openai-responses") {
      // As is: Codex's tool groups and additional_tools items reach OpenAI untranslated.
      expect(sent[0]!.path).toBe("/v1/responses");
      expect(sent[0]!.rawBody).toContain('"type":"additional_tools"');
    }
  });

  it("completes a tool round trip with its freeform exec tool", async () => {
    if (upstream === "openai-responses") {
      mock.handle((request: RecordedRequest) =>
        request.rawBody.includes(MARKER)
          ? { text: `The tool said ${MARKER}.` }
          : { status: 200, headers: { "content-type": "text/event-stream" }, body: customToolCallStream("exec", TOOL_INPUT) },
      );
    } else {
      answerWithTool(mock, "exec", { input: TOOL_INPUT });
    }
    const out = await codexExec(server, "run the exec tool");
    expect(out.stdout, out.stderr.slice(-3000)).toContain(`The tool said ${MARKER}`);
    // Codex ran the JavaScript and sent its output back.
    const last = inferenceRequests(mock).at(-1)!;
    expect(last.rawBody).toContain(MARKER);
  });
});
