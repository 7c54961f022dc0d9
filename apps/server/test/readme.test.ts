// The README's example, run as written: the user's environment points the built-in OpenAI provider
// at the mock upstream.
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

it("README: starts the server, answers /health and an OpenAI SDK call, shuts down", async () => {
  vi.stubEnv("OPENAI_API_KEY", "sk-openai");
  vi.stubEnv("OPENAI_BASE_URL", mock.baseUrl("openai-chat"));
  mock.enqueue({ text: "Hello from the provider" });
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  await importExample(tsExample(new URL("../README.md", import.meta.url)), import.meta.url);

  expect(log.mock.calls).toEqual([[{ status: "ok", uptime_s: expect.any(Number) }], ["Hello from the provider"]]);
  expect(mock.requests[0]?.headers.authorization).toBe("Bearer sk-openai");
  expect(mock.requests[0]?.body).toMatchObject({ model: "gpt-4o-mini" });
});
