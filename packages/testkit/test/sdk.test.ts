// The official SDKs talk to the mock directly: if they parse its answers (stream and non-stream, text,
// parallel tool calls, usage), the mock speaks the real wire formats.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MockScript, type MockUpstream, startMock } from "../src/index.js";

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  mock.reset();
});

const twoCalls = {
  text: "Checking both.",
  toolCalls: [
    { id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}', chunks: ['{"ci', 'ty":"Pa', 'ris"}'] },
    { id: "call_b", name: "get_time", arguments: '{"tz":"Europe/Paris"}' },
  ],
  usage: { input: 120, output: 30, cacheRead: 100, reasoning: 0 },
} satisfies MockScript;

describe("openai SDK, Chat Completions", () => {
  const client = () => new OpenAI({ apiKey: "sk-test", baseURL: mock.baseUrl("openai-chat"), maxRetries: 0 });

  it("reads the default echo answer and usage computed from lengths", async () => {
    const res = await client().chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: "hello there" }] });
    expect(res.choices[0]?.message.content).toBe("mock: hello there");
    expect(res.model).toBe("gpt-x");
    expect(res.usage?.prompt_tokens).toBe(3); // 11 chars / 4, rounded up
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0));
    expect(mock.requests[0]?.headers.authorization).toBe("Bearer sk-test");
    expect(mock.requests[0]?.path).toBe("/v1/chat/completions");
  });

  it("returns parallel tool calls non-stream", async () => {
    mock.enqueue(twoCalls);
    const res = await client().chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: "weather?" }] });
    const calls = res.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((c) => c.type === "function" && [c.id, c.function.name, c.function.arguments])).toEqual([
      ["call_a", "get_weather", '{"city":"Paris"}'],
      ["call_b", "get_time", '{"tz":"Europe/Paris"}'],
    ]);
    expect(res.choices[0]?.finish_reason).toBe("tool_calls");
    expect(res.usage?.prompt_tokens_details?.cached_tokens).toBe(100);
  });

  it("streams role first, tool-call fragments by index, finish, usage chunk with choices [], [DONE]", async () => {
    mock.enqueue(twoCalls);
    const stream = await client().chat.completions.create({
      model: "gpt-x",
      messages: [{ role: "user", content: "weather?" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const last = chunks[chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    const args = new Map<number, string>();
    for (const c of chunks) for (const t of c.choices[0]?.delta.tool_calls ?? []) args.set(t.index, (args.get(t.index) ?? "") + (t.function?.arguments ?? ""));
    expect([...args.entries()]).toEqual([
      [0, '{"city":"Paris"}'],
      [1, '{"tz":"Europe/Paris"}'],
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(["tool_calls"]);
    expect(mock.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("assembles a streamed text answer with the SDK's stream helper", async () => {
    mock.enqueue({ text: ["Hel", "lo, ", "world"] });
    const final = await client()
      .chat.completions.stream({ model: "gpt-x", messages: [{ role: "user", content: "hi" }] })
      .finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("Hello, world");
    expect(final.choices[0]?.finish_reason).toBe("stop");
  });

  it("maps error answers to the SDK's error classes", async () => {
    mock.enqueue({ error: "rate_limit" });
    const err = await client()
      .chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("rate_limit_exceeded");
  });
});

describe("openai SDK, Responses", () => {
  const client = () => new OpenAI({ apiKey: "sk-test", baseURL: mock.baseUrl("openai-responses"), maxRetries: 0 });

  it("reads text, reasoning summary and usage non-stream", async () => {
    mock.enqueue({ reasoning: "Think first.", text: "Answer.", usage: { input: 50, output: 20, reasoning: 8, cacheRead: 10 } });
    const res = await client().responses.create({ model: "o-x", input: "question" });
    expect(res.output_text).toBe("Answer.");
    expect(res.output.map((o) => o.type)).toEqual(["reasoning", "message"]);
    expect(res.usage).toMatchObject({ input_tokens: 50, output_tokens: 20, total_tokens: 70 });
    expect(res.usage?.output_tokens_details.reasoning_tokens).toBe(8);
    expect(res.usage?.input_tokens_details.cached_tokens).toBe(10);
  });

  it("streams typed events with increasing sequence numbers into a final response with parallel calls", async () => {
    mock.enqueue(twoCalls);
    const stream = client().responses.stream({ model: "o-x", input: [{ role: "user", content: "weather?" }] });
    const seqs: number[] = [];
    const types: string[] = [];
    stream.on("event", (e) => {
      seqs.push(e.sequence_number);
      types.push(e.type);
    });
    const final = await stream.finalResponse();
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(types[0]).toBe("response.created");
    expect(types[types.length - 1]).toBe("response.completed");
    expect(final.output_text).toBe("Checking both.");
    const calls = final.output.filter((o) => o.type === "function_call");
    expect(calls.map((c) => c.type === "function_call" && [c.call_id, c.name, c.arguments])).toEqual([
      ["call_a", "get_weather", '{"city":"Paris"}'],
      ["call_b", "get_time", '{"tz":"Europe/Paris"}'],
    ]);
    expect(final.usage?.total_tokens).toBe(150);
  });

  it("reports a length cut as an incomplete response", async () => {
    mock.enqueue({ text: "Cut", finish: "length" });
    const final = await client().responses.stream({ model: "o-x", input: "q" }).finalResponse();
    expect(final.status).toBe("incomplete");
    expect(final.incomplete_details?.reason).toBe("max_output_tokens");
  });
});

describe("@anthropic-ai/sdk, Messages", () => {
  const client = () => new Anthropic({ apiKey: "sk-ant-test", baseURL: mock.baseUrl("anthropic"), maxRetries: 0 });

  it("reads text, tool_use input objects and cache usage non-stream", async () => {
    mock.enqueue(twoCalls);
    const res = await client().messages.create({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "weather?" }] });
    expect(res.content.map((b) => b.type)).toEqual(["text", "tool_use", "tool_use"]);
    const tools = res.content.filter((b) => b.type === "tool_use");
    expect(tools.map((b) => b.type === "tool_use" && [b.id, b.name, b.input])).toEqual([
      ["call_a", "get_weather", { city: "Paris" }],
      ["call_b", "get_time", { tz: "Europe/Paris" }],
    ]);
    expect(res.stop_reason).toBe("tool_use");
    // input_tokens excludes cache reads: 120 prompt tokens, 100 of them read from the cache.
    expect(res.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 100, output_tokens: 30 });
    // This SDK version sends the key as a bearer token; older ones used x-api-key.
    const h = mock.requests[0]?.headers ?? {};
    expect(h["x-api-key"] ?? h.authorization).toMatch(/^(Bearer )?sk-ant-test$/);
    expect(h["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("streams thinking, text and parallel tool blocks into the SDK's final message", async () => {
    mock.enqueue({ ...twoCalls, reasoning: "Let me think." });
    const stream = client().messages.stream({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "weather?" }] });
    const types: string[] = [];
    stream.on("streamEvent", (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(types.filter((t) => t === "message_start")).toHaveLength(1);
    expect(types.filter((t) => t === "content_block_start")).toHaveLength(4);
    expect(types.filter((t) => t === "content_block_stop")).toHaveLength(4);
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(final.content.map((b) => b.type)).toEqual(["thinking", "text", "tool_use", "tool_use"]);
    const thinking = final.content[0];
    expect(thinking?.type === "thinking" && thinking.thinking).toBe("Let me think.");
    const lastTool = final.content[3];
    expect(lastTool?.type === "tool_use" && lastTool.input).toEqual({ tz: "Europe/Paris" });
    expect(final.stop_reason).toBe("tool_use");
    expect(final.usage.output_tokens).toBe(30);
  });

  it("answers 529 overloaded in Anthropic's error shape", async () => {
    mock.enqueue({ error: "overloaded" });
    const err = await client()
      .messages.create({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
  });

  it("surfaces an in-band stream error event", async () => {
    mock.enqueue({ text: ["a", "b", "c"], streamError: { afterChunks: 3, error: "overloaded" } });
    const err = await client()
      .messages.stream({ model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(String(err)).toContain("overloaded_error");
  });
});

describe("@google/genai, Gemini", () => {
  const client = () => new GoogleGenAI({ apiKey: "g-test", httpOptions: { baseUrl: mock.baseUrl("google") } });

  it("reads text, function calls and usage non-stream", async () => {
    mock.enqueue({ ...twoCalls, reasoning: "Hmm.", usage: { input: 120, output: 30, cacheRead: 100, reasoning: 5 } });
    const res = await client().models.generateContent({ model: "gemini-x", contents: "weather?" });
    expect(res.text).toBe("Checking both.");
    expect(res.functionCalls?.map((c) => [c.name, c.args])).toEqual([
      ["get_weather", { city: "Paris" }],
      ["get_time", { tz: "Europe/Paris" }],
    ]);
    expect(res.usageMetadata).toMatchObject({
      promptTokenCount: 120,
      candidatesTokenCount: 25,
      thoughtsTokenCount: 5,
      cachedContentTokenCount: 100,
      totalTokenCount: 150,
    });
    expect(mock.requests[0]?.path).toBe("/v1beta/models/gemini-x:generateContent");
    expect(mock.requests[0]?.headers["x-goog-api-key"]).toBe("g-test");
  });

  it("streams data chunks with usageMetadata and finishReason on the last", async () => {
    mock.enqueue({ text: ["One ", "two ", "three"], toolCalls: twoCalls.toolCalls, usage: { input: 9, output: 7 } });
    const chunks = [];
    for await (const chunk of await client().models.generateContentStream({ model: "gemini-x", contents: "count" })) chunks.push(chunk);
    expect(chunks.map((c) => c.text ?? "").join("")).toBe("One two three");
    const last = chunks[chunks.length - 1];
    expect(last?.candidates?.[0]?.finishReason).toBe("STOP");
    expect(last?.usageMetadata?.totalTokenCount).toBe(16);
    expect(chunks.slice(0, -1).every((c) => c.usageMetadata === undefined)).toBe(true);
    expect(last?.functionCalls?.map((c) => c.name)).toEqual(["get_weather", "get_time"]);
    expect(mock.requests[0]?.path).toBe("/v1beta/models/gemini-x:streamGenerateContent?alt=sse");
  });

  it("answers 429 in Google's error shape", async () => {
    mock.enqueue({ error: "rate_limit" });
    const err = await client()
      .models.generateContent({ model: "gemini-x", contents: "hi" })
      .catch((e: unknown) => e);
    expect(String(err)).toContain("RESOURCE_EXHAUSTED");
    expect((err as { status?: number }).status).toBe(429);
  });
});
