// The examples of this package's README and of the repository README's quick start, run as written:
// the user's environment points the built-in providers at the mock upstream.
import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { tmpdir } from "node:os";
import { parseConfig } from "@bitrouter/config";
import { importExample, startMock, tsExample, type MockUpstream } from "@bitrouter/testkit";
import { createLogger, startRuntime } from "../src/index.js";

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

it("the repository README's quick start: the OpenAI SDK asks an Anthropic model through the server", async () => {
  vi.stubEnv("ANTHROPIC_API_KEY", "sk-ant");
  vi.stubEnv("ANTHROPIC_BASE_URL", mock.baseUrl("anthropic"));
  const runtime = await startRuntime({
    load: () => parseConfig("", { env: process.env }).config,
    paths: { runDir: tmpdir() },
    listen: "127.0.0.1:0",
    logger: createLogger({ level: "error" }),
  });
  try {
    mock.enqueue({ text: "Hello from Claude" });
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    // The README's server listens on the default 127.0.0.1:8787; this one on a free port.
    const example = tsExample(new URL("../../../README.md", import.meta.url)).replaceAll("127.0.0.1:8787", new URL(runtime.url).host);

    await importExample(example, import.meta.url);

    expect(log).toHaveBeenCalledWith("Hello from Claude");
    expect(mock.requests.at(-1)).toMatchObject({ protocol: "anthropic", body: { model: "claude-sonnet-4-20250514" } });
  } finally {
    await runtime.shutdown();
  }
});
