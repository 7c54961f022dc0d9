/**
 * A caller's protocol feature headers (anthropic-beta, anthropic-version, openai-beta) reach
 * upstreams of its own protocol on the fast path and on the translated path (content hooks on), and
 * a Claude-Code-like body (betas' fields, a system message inside `messages`) arrives whole. Routes
 * to another protocol drop them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

let mock: MockUpstream;
let fast: TestServer;
let translated: TestServer;

beforeAll(async () => {
  mock = await startMock();
  fast = await startTestServer(providersYaml(mock));
  // Guardrails inspect content, so same-protocol requests take the translated path.
  translated = await startTestServer(`${providersYaml(mock)}\nguardrails:\n  enabled: true\n`);
});
afterAll(async () => {
  await fast?.close();
  await translated?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const BETAS = ["context-management-2025-06-27", "interleaved-thinking-2025-05-14"];
const VERSION = "2099-01-01";

/** What Claude Code sends for its default model (the fields that only make sense with its betas). */
function claudeCodeBody(model: string) {
  return {
    model,
    max_tokens: 16_000,
    betas: BETAS,
    thinking: { type: "adaptive" },
    system: [{ type: "text" as const, text: "You are Claude Code." }],
    messages: [
      { role: "user", content: "list the files" },
      { role: "assistant", content: "Sure." },
      { role: "system", content: "The user switched to plan mode." },
      { role: "user", content: "go on" },
    ],
    context_management: { edits: [{ type: "clear_tool_uses_20250919" }] },
    output_config: { effort: "high" },
  };
}

const anthropic = (server: TestServer) => new Anthropic({ baseURL: server.url, apiKey: "x", maxRetries: 0, defaultHeaders: { "anthropic-version": VERSION } });

describe.each([
  ["the fast path", () => fast],
  ["the translated path", () => translated],
])("same protocol, %s", (_name, server) => {
  it("forwards anthropic-beta and the client's anthropic-version, and the Claude Code body arrives whole", async () => {
    const body = claudeCodeBody("ant:claude-test");
    const message = await anthropic(server()).beta.messages.create(body as never);
    expect(message.content[0]).toMatchObject({ type: "text", text: "mock: go on" });
    const received = mock.requests[0]!;
    expect(received.headers["anthropic-beta"]).toBe(BETAS.join(","));
    expect(received.headers["anthropic-version"]).toBe(VERSION);
    expect(received.headers["x-api-key"]).toBe("key-ant");
    expect(received.body).toMatchObject({
      model: "claude-test",
      context_management: body.context_management,
      output_config: { effort: "high" },
      thinking: { type: "adaptive" },
      max_tokens: 16_000,
    });
    // The mid-conversation system message stays where the caller put it.
    const messages = (received.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "system", "user"]);
    expect(messages[2]!.content).toBe("The user switched to plan mode.");
  });

  it("forwards openai-beta to an OpenAI upstream", async () => {
    const client = new OpenAI({ baseURL: `${server().url}/v1`, apiKey: "x", maxRetries: 0, defaultHeaders: { "openai-beta": "assistants=v2" } });
    await client.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] });
    expect(mock.requests[0]!.headers["openai-beta"]).toBe("assistants=v2");
  });
});

it("drops the caller's feature headers on a route to another protocol", async () => {
  const message = await anthropic(fast).beta.messages.create({ ...claudeCodeBody("oai:gpt-test") } as never);
  expect(message.content[0]).toMatchObject({ type: "text" });
  const received = mock.requests[0]!;
  expect(received.path).toBe("/v1/chat/completions");
  expect(received.headers["anthropic-beta"]).toBeUndefined();
  expect(received.headers["anthropic-version"]).toBeUndefined();
  expect(received.body).not.toHaveProperty("context_management");
});

it("sends BitRouter's own anthropic-version when the caller sent none", async () => {
  await fetch(`${fast.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "ant:claude-test", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
  });
  expect(mock.requests[0]!.headers["anthropic-version"]).toBe("2023-06-01");
  expect(mock.requests[0]!.headers["anthropic-beta"]).toBeUndefined();
});
