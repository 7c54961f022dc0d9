import { parseConfig } from "@bitrouter/config";
import type { ResolvedConfig } from "@bitrouter/config";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";

/** A resolved config whose built-in providers point at one mock upstream (no built-ins inherited). */
export function mockConfig(mock: MockUpstream, extraYaml = "", env: Record<string, string> = {}): ResolvedConfig {
  const yaml = `
inherit_defaults: false
providers:
  oai:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: key-oai
    models:
      gpt-test:
        max_output_tokens: 1000
        pricing:
          input_tokens: { no_cache: 2.5, cache_read: 1.25 }
          output_tokens: { text: 10 }
  ant:
    api_protocol: anthropic
    api_base: ${mock.baseUrl("anthropic")}
    api_key: key-ant
    models:
      claude-test:
        max_output_tokens: 2048
  goo:
    api_protocol: google
    api_base: ${mock.baseUrl("google")}
    api_key: key-goo
${extraYaml}`;
  return parseConfig(yaml, { env }).config;
}

export function chatBody(model: string, text = "hello", extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model, messages: [{ role: "user", content: text }], ...extra });
}

/** Reads a streamed Response body into text. */
export async function readAll(response: Response): Promise<string> {
  return await response.text();
}

/**
 * One mock upstream for the tests of the enclosing file (or describe block), reset before each
 * test: call it where the tests are declared, and `mock()` inside them.
 */
export function useMock(): () => MockUpstream {
  let mock: MockUpstream | undefined;
  beforeAll(async () => {
    mock = await startMock();
  });
  afterAll(async () => {
    await mock?.close();
  });
  beforeEach(() => mock?.reset());
  return () => {
    if (!mock) throw new Error("useMock: the mock starts in beforeAll");
    return mock;
  };
}
