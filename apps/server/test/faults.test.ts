/**
 * Upstream faults through the real server, seen by the official SDKs: a 2xx that breaks before its
 * first event fails over (or answers 502), answers and error bodies are capped, a hung endpoint is
 * given up after first_byte_timeout, Retry-After reaches the caller, and an abandoned stream is
 * recorded once with its true outcome. The same-protocol fast path and the translated path agree.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import type { CompletionRecord } from "@bitrouter/core";
import { startMock } from "@bitrouter/testkit";
import type { MockReply, MockUpstream } from "@bitrouter/testkit";
import { startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

let mock: MockUpstream;
let server: TestServer;
const records: CompletionRecord[] = [];

function yaml(mock: MockUpstream, server: string): string {
  const provider = (name: string, protocol: string, base: string) => `
  ${name}:
    api_protocol: ${protocol}
    api_base: ${base}
    api_key: key-${name}-0123456789`;
  return `
inherit_defaults: false
server:
${server}
providers:${provider("oai", "openai", mock.baseUrl("openai-chat"))}${provider("oai2", "openai", mock.baseUrl("openai-chat"))}${provider("ant", "anthropic", mock.baseUrl("anthropic"))}${provider("ant2", "anthropic", mock.baseUrl("anthropic"))}
models:
  two-oai:
    endpoints: [{ provider: oai, model_id: first }, { provider: oai2, model_id: second }]
  two-ant:
    endpoints: [{ provider: ant, model_id: first }, { provider: ant2, model_id: second }]
  ant-then-oai:
    endpoints: [{ provider: ant, model_id: first }, { provider: oai, model_id: second }]
  solo-oai:
    endpoints: [{ provider: oai, model_id: only }]
  solo-ant:
    endpoints: [{ provider: ant, model_id: only }]
`;
}

beforeAll(async () => {
  mock = await startMock();
  server = await startTestServer(yaml(mock, "  first_byte_timeout: 1s\n  request_timeout: 60s\n  response_limit: 1mb"), {
    hooks: () => [{ name: "record", onComplete: (record) => void records.push(record) }],
  });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => {
  mock.reset();
  records.length = 0;
});

const openai = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "x", maxRetries: 0 });
const anthropic = () => new Anthropic({ baseURL: server.url, apiKey: "x", maxRetries: 0 });
const post = (path: string, body: unknown) =>
  fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const until = async (predicate: () => boolean) => mock.until(predicate, 10_000);

async function streamText(model: string, content = "hello"): Promise<string> {
  const stream = await openai().chat.completions.create({ model, stream: true, messages: [{ role: "user", content }] });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  return text;
}

const HTML_200: MockReply = { status: 200, body: "<html><body>Please sign in to the proxy</body></html>", headers: { "content-type": "text/html" } };
const MALFORMED_SSE: MockReply = { status: 200, body: "data: {not json\n\n", headers: { "content-type": "text/event-stream" } };
const EMPTY_SSE: MockReply = { status: 200, body: "", headers: { "content-type": "text/event-stream" } };

describe("a 2xx that fails before its first event", () => {
  const streamFaults: Array<[string, MockReply]> = [
    ["a reset after the response head", { failAfterChunks: 0 }],
    ["an HTML page", HTML_200],
    ["malformed SSE", MALFORMED_SSE],
    ["an empty stream", EMPTY_SSE],
  ];

  it.each(streamFaults)("fails over on the fast path (stream: %s)", async (_name, fault) => {
    mock.enqueue(fault);
    expect(await streamText("two-oai")).toBe("mock: hello");
    expect(mock.requests.map((r) => r.headers.authorization)).toEqual(["Bearer key-oai-0123456789", "Bearer key-oai2-0123456789"]);
    await until(() => records.length === 1);
    expect(records[0]).toMatchObject({ status: 200, attempts: 2, provider: "oai2" });
    expect(records[0]!.errorKind).toBeUndefined();
  });

  it.each(streamFaults)("fails over on the translated path too (stream: %s)", async (_name, fault) => {
    mock.enqueue(fault);
    expect(await streamText("ant-then-oai")).toBe("mock: hello");
    expect(mock.requests.map((r) => r.path)).toEqual(["/v1/messages", "/v1/chat/completions"]);
  });

  const jsonFaults: Array<[string, MockReply]> = [
    ["an HTML page", HTML_200],
    ["a body that is not the protocol's answer", { status: 200, body: { hello: "world" } }],
    ["a body cut after the head", { status: 200, body: '{"id":"chatcmpl-1","choices":[', cutAfterBody: true, headers: { "content-type": "application/json" } }],
    // Large enough (over 4 KB) for the fast path's usage-only metering, which must still see these are not answers.
    ["a JSON error object", { status: 200, body: { error: { message: "overloaded ".repeat(500), type: "server_error" } } }],
    [
      "an error object beside choices",
      { status: 200, body: { choices: [{ message: { content: "x".repeat(5000) } }], error: { message: "failed", type: "server_error" } } },
    ],
    ["a large body without choices", { status: 200, body: { id: "chatcmpl-1", object: "chat.completion", data: "x".repeat(5000) } }],
  ];

  it.each(jsonFaults)("fails over on the fast path (non-stream: %s)", async (_name, fault) => {
    mock.enqueue(fault);
    const r = await openai().chat.completions.create({ model: "two-oai", messages: [{ role: "user", content: "hello" }] });
    expect(r.choices[0]!.message.content).toBe("mock: hello");
    expect(mock.requests).toHaveLength(2);
  });

  it("meters a large answer (fast path, from its usage field alone) exactly as a whole decode does", async () => {
    const usage = { input: 12, output: 3000, cacheRead: 4, reasoning: 100 };
    mock.enqueue({ text: "y".repeat(8000), usage });
    const r = await openai().chat.completions.create({ model: "solo-oai", messages: [{ role: "user", content: "hello" }] });
    expect(r.choices[0]!.message.content).toHaveLength(8000);
    await until(() => records.length === 1);
    expect(records[0]).toMatchObject({ status: 200, usage: { inputTokens: 12, outputTokens: 3000, cacheReadTokens: 4, reasoningTokens: 100 } });
  });

  it("answers 502 in the caller's shape when no endpoint is left, and keeps serving", async () => {
    mock.enqueue(HTML_200, HTML_200);
    const error = await anthropic()
      .messages.create({ model: "solo-ant", max_tokens: 20, messages: [{ role: "user", content: "hello" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof Anthropic.APIError>).message).toMatch(/ant: /);

    const streamed = await anthropic()
      .messages.stream({ model: "solo-ant", max_tokens: 20, messages: [{ role: "user", content: "hello" }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(Anthropic.APIError);
    expect((streamed as InstanceType<typeof Anthropic.APIError>).status).toBe(502);

    const ok = await anthropic().messages.create({ model: "solo-ant", max_tokens: 20, messages: [{ role: "user", content: "again" }] });
    expect(ok.content[0]).toMatchObject({ type: "text", text: "mock: again" });
    await until(() => records.length === 3);
    expect(records.map((r) => r.status)).toEqual([502, 502, 200]);
  });

  it("after the first byte, a broken stream ends with the protocol's error event (not 'internal error')", async () => {
    mock.enqueue({ text: ["a ", "b ", "c ", "d ", "e "], failAfterChunks: 3 });
    const error = await streamText("two-oai").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/oai: the stream broke/);
    expect(mock.requests).toHaveLength(1);
    await until(() => records.length === 1);
    expect(records[0]).toMatchObject({ status: 200, errorKind: "upstream" });
  });
});

describe("size caps", () => {
  it("never echoes a 200 MB error body: it is cut at 64 KB and the upstream connection closed", async () => {
    mock.enqueue({ status: 400, body: '{"error":{"message":"', padBytes: 200 * 1024 * 1024, headers: { "content-type": "application/json" } });
    const res = await post("/v1/chat/completions", { model: "solo-oai", messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text.length).toBeLessThan(70 * 1024);
    expect(JSON.parse(text)).toMatchObject({ error: { message: expect.stringMatching(/^oai: upstream answered 400/) } });
    await until(() => mock.aborted === 1);
  });

  it("refuses a non-stream answer over server.response_limit with 502, without failing over", async () => {
    mock.enqueue({
      status: 200,
      body: '{"id":"x","choices":[{"message":{"content":"',
      padBytes: 5 * 1024 * 1024,
      headers: { "content-type": "application/json" },
    });
    const error = await openai()
      .chat.completions.create({ model: "two-oai", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as Error).message).toMatch(/server\.response_limit/);
    expect(mock.requests).toHaveLength(1);
  });

  it("streams a stream longer than the limit: only whole answers are buffered", async () => {
    const words = Array.from({ length: 30 }, (_, i) => `${String(i).padStart(2, "0")}${"y".repeat(50 * 1024)} `);
    mock.enqueue({ text: words });
    expect(await streamText("solo-oai")).toBe(words.join(""));
  });
});

describe("first_byte_timeout", () => {
  it("gives up a stream endpoint that never sends its head and fails over to the healthy one in time", async () => {
    mock.enqueue({ hang: true });
    const started = Date.now();
    expect(await streamText("two-oai")).toBe("mock: hello");
    expect(Date.now() - started).toBeLessThan(20_000); // a third of request_timeout (60 s): the hung endpoint did not eat it
    await until(() => records.length === 1);
    expect(records[0]).toMatchObject({ status: 200, attempts: 2, provider: "oai2" });
  });

  it("applies on the translated path too", async () => {
    mock.enqueue({ hang: true });
    expect(await streamText("ant-then-oai")).toBe("mock: hello");
    expect(mock.requests.map((r) => r.path)).toEqual(["/v1/messages", "/v1/chat/completions"]);
  });

  it("blames the endpoint that timed out once the request's deadline is spent, and tries no other", async () => {
    const short = await startTestServer(yaml(mock, "  request_timeout: 1500ms"));
    try {
      mock.enqueue({ hang: true });
      const res = await fetch(`${short.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "two-oai", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(504);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toMatch(/^oai: /);
      expect(mock.requests).toHaveLength(1);
    } finally {
      await short.close();
    }
  });
});

describe("Retry-After", () => {
  it("passes an upstream 503's Retry-After on (fast path)", async () => {
    mock.enqueue({ error: "overloaded", status: 503, headers: { "retry-after": "17" } });
    const res = await post("/v1/chat/completions", { model: "solo-oai", messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("17");
  });

  it("passes an upstream 429's Retry-After on (translated path)", async () => {
    mock.enqueue({ error: "rate_limit", status: 429, headers: { "retry-after": "5" } });
    const res = await post("/v1/messages", { model: "solo-oai", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
  });
});

describe("an abandoned stream", () => {
  async function abandon(path: string, body: unknown): Promise<void> {
    const res = await post(path, body);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
  }
  const slow = { text: Array.from({ length: 100 }, (_, i) => `w${i} `), chunkDelayMs: 30 };

  it("is recorded once as 499 and cancels the upstream (fast path)", async () => {
    mock.enqueue(slow);
    await abandon("/v1/chat/completions", { model: "solo-oai", stream: true, messages: [{ role: "user", content: "long" }] });
    await until(() => mock.aborted === 1 && records.length === 1);
    expect(records[0]).toMatchObject({ status: 499, errorKind: "cancelled", provider: "oai", stream: true });
    expect(records[0]!.ttfbMs).toBeGreaterThanOrEqual(0);
  });

  it("is recorded once as 499 and cancels the upstream (translated path), not as a clean 200", async () => {
    mock.enqueue(slow);
    await abandon("/v1/messages", { model: "solo-oai", stream: true, max_tokens: 10, messages: [{ role: "user", content: "long" }] });
    await until(() => mock.aborted === 1 && records.length === 1);
    expect(records[0]).toMatchObject({ status: 499, errorKind: "cancelled", provider: "oai", stream: true });
  });

  it("a non-stream request the caller gives up on is recorded once as 499 and cancels the upstream", async () => {
    mock.enqueue({ text: "late", delayMs: 10_000 });
    const controller = new AbortController();
    const pending = fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "solo-oai", messages: [{ role: "user", content: "hi" }] }),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await until(() => mock.requests.length === 1);
    controller.abort();
    await pending;
    await until(() => mock.aborted === 1 && records.length === 1);
    expect(records[0]).toMatchObject({ status: 499, errorKind: "cancelled" });
  });

  it("a stream read to its end is recorded once as 200", async () => {
    await streamText("solo-oai");
    await until(() => records.length === 1);
    expect(records[0]).toMatchObject({ status: 200, provider: "oai" });
    expect(records[0]!.errorKind).toBeUndefined();
    expect(records[0]!.usage?.outputTokens).toBeGreaterThan(0);
  });
});
