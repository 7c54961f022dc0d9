// The README's example, run as written against mock upstreams: the user's environment variables
// point the built-in providers at the mocks.
import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { importExample, startMock, tsExample, type MockUpstream } from "@bitrouter/testkit";

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(() => mock.close());
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  mock.reset();
});

it("README: generate on a virtual model fails over from OpenAI to Anthropic", async () => {
  vi.stubEnv("OPENAI_API_KEY", "sk-openai");
  vi.stubEnv("OPENAI_BASE_URL", mock.baseUrl("openai-chat"));
  vi.stubEnv("ANTHROPIC_API_KEY", "sk-ant");
  vi.stubEnv("ANTHROPIC_BASE_URL", mock.baseUrl("anthropic"));
  mock.enqueue({ error: "rate_limit" }, { text: "hi!", usage: { input: 5, output: 2 } });
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  await importExample(tsExample(new URL("../README.md", import.meta.url)), import.meta.url);

  expect(mock.requests.map((r) => [r.protocol, (r.body as { model: string }).model])).toEqual([
    ["openai-chat", "gpt-4o-mini"],
    ["anthropic", "claude-3-5-haiku-latest"],
  ]);
  expect(log).toHaveBeenCalledWith([{ type: "text", text: "hi!" }], expect.objectContaining({ inputTokens: 5, outputTokens: 2 }));
});
