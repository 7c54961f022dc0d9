// The README's example, run as written against the mock upstream: the user's environment variables
// point it at the mock.
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
});

it("README: an OpenAI Chat request streams from Anthropic, translated", async () => {
  vi.stubEnv("ANTHROPIC_BASE_URL", mock.baseUrl("anthropic"));
  vi.stubEnv("ANTHROPIC_API_KEY", "sk-ant");
  mock.enqueue({ text: ["Hi ", "there"] });
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  await importExample(tsExample(new URL("../README.md", import.meta.url)), import.meta.url);

  expect(log).toHaveBeenCalledWith("Hi there");
  const sent = mock.requests[0]!;
  expect(sent.path).toBe("/v1/messages");
  expect(sent.headers["x-api-key"]).toBe("sk-ant");
  expect(sent.body).toMatchObject({ model: "claude-3-5-haiku-latest", stream: true, max_tokens: 200, messages: [{ role: "user", content: "Say hi" }] });
});
