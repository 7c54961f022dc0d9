// The Vercel AI SDK (`ai` + @ai-sdk/openai, /anthropic, /google) and LangChain (@langchain/openai,
// /anthropic, /google-genai), each provider package against each upstream protocol: a streamed text
// answer and a tool round trip. They need Node >= 22, so each runs as a child on the cached Node 24.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { codeBlocks, startMock } from "@bitrouter/testkit";
import type { MockHandler, MockUpstream } from "@bitrouter/testkit";
import { startTestServer, type TestServer } from "../../test/harness.js";
import { MARKER, TEXT, UPSTREAM_KEY, cleanEnv, inferenceRequests, run, startServer, tempHome, textAnswer, toolAnswer, upstreamKeyOf } from "./harness.js";
import type { Upstream } from "./harness.js";
import { installedPaths } from "./install.mjs";

const { modules, node24 } = installedPaths();
const clientsDir = join(modules, "..");
const upstreams: Upstream[] = ["openai-chat", "anthropic", "google"];
const CLIENTS = [
  { script: "ai-sdk.mjs", sdk: "openai" }, // @ai-sdk/openai's default: the Responses API
  { script: "ai-sdk.mjs", sdk: "openai-chat" },
  { script: "ai-sdk.mjs", sdk: "anthropic" },
  { script: "ai-sdk.mjs", sdk: "google" },
  { script: "langchain.mjs", sdk: "openai" },
  { script: "langchain.mjs", sdk: "anthropic" },
  { script: "langchain.mjs", sdk: "google" },
] as const;

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
  for (const script of ["ai-sdk.mjs", "langchain.mjs"])
    copyFileSync(new URL(`./scripts/${script}`, import.meta.url), join(clientsDir, `bitrouter-e2e-${script}`));
});
afterAll(async () => {
  await mock?.close();
});
beforeEach(() => mock.reset());

/** Text for the streamed prompt, the tool round trip for the other. */
const handler: MockHandler = (request) => (request.rawBody.includes("say hi") ? textAnswer()(request) : toolAnswer("get_marker", { key: "a" })(request));

describe.each(upstreams)("SDKs -> %s upstream", (upstream) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(mock, upstream);
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(CLIENTS)("$script $sdk: streamed text and a tool round trip", async ({ script, sdk }) => {
    mock.handle(handler);
    const out = await run(node24, [join(clientsDir, `bitrouter-e2e-${script}`), sdk, server.url, "e2e-model"], {
      cwd: clientsDir,
      env: cleanEnv(tempHome("sdk"), { MARKER }),
      timeoutMs: 60_000,
    });
    let result: { stream: string; tool: string };
    try {
      result = JSON.parse(out.stdout) as { stream: string; tool: string };
    } catch {
      throw new Error(`${script} ${sdk} failed (exit ${out.code})\nstdout: ${out.stdout.slice(-2000)}\nstderr: ${out.stderr.slice(-3000)}`);
    }
    expect(result.stream).toBe(TEXT);
    expect(result.tool).toBe(`The tool said ${MARKER}.`);
    const sent = inferenceRequests(mock);
    expect(sent.every((r) => upstreamKeyOf(r) === UPSTREAM_KEY[upstream])).toBe(true);
    // The tool's result reached the upstream as the result itself, not as a wrapper around it.
    const withResult = sent.find((r) => r.rawBody.includes(MARKER))!;
    expect(withResult.rawBody).not.toContain('\\"content\\"');
  });
});

describe("the docs' examples, as written (docs/integrations/ai-sdk.md, langchain.md)", () => {
  let server: TestServer;
  beforeAll(async () => {
    // What the examples ask for: the virtual model `smart` and anthropic:… directly, answered by the mock.
    server = await startTestServer(`providers:
  anthropic: { api_base: ${mock.baseUrl("anthropic")}, api_key: key-ant }
models:
  smart: { endpoints: [{ provider: anthropic, model_id: up-model }] }
`);
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(["ai-sdk.md", "langchain.md"])("%s", async (page) => {
    const [code] = codeBlocks(readFileSync(new URL(`../../../../docs/integrations/${page}`, import.meta.url), "utf8"), "ts");
    // Plain JavaScript, next to the pinned clients so its imports resolve there; the server is this one.
    const script = join(clientsDir, `bitrouter-e2e-docs-${page.replace(".md", "")}.mjs`);
    writeFileSync(script, code!.replaceAll("http://127.0.0.1:8787", server.url));
    mock.handle(textAnswer());
    const out = await run(node24, [script], { cwd: clientsDir, env: cleanEnv(tempHome("docs"), { BITROUTER_API_KEY: "client-key" }), timeoutMs: 60_000 });
    expect(out.code, `stdout: ${out.stdout.slice(-2000)}\nstderr: ${out.stderr.slice(-3000)}`).toBe(0);
    expect(inferenceRequests(mock).length).toBeGreaterThan(0);
    expect(inferenceRequests(mock).every((r) => upstreamKeyOf(r) === "key-ant")).toBe(true);
  });
});
