// SDK acceptance: the official @google/genai SDK talks to a tiny local server that answers with this
// codec's encoders; what the SDK parses is what Gemini clients will see.
import type { IncomingMessage } from "node:http";
import { ApiError, FunctionCallingConfigMode, GoogleGenAI, Type } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, sendJson, startServer } from "./sdk-helpers.js";
import type { CanonicalResponse, StreamEvent } from "@bitrouter/core";
import { anthropicCodec } from "../src/protocols/anthropic/index.js";
import { googleCodec as codec } from "../src/protocols/google/index.js";

type Reply = { kind: "json"; status: number; body: unknown } | { kind: "sse"; text: string };

let server: TestServer;
let ai: GoogleGenAI;
let reply: Reply;
let captured: { url: string; headers: IncomingMessage["headers"]; body: unknown } | undefined;

beforeAll(async () => {
  server = await startServer((body, res, req) => {
    captured = { url: req.url ?? "", headers: req.headers, body };
    if (reply.kind === "json") sendJson(res, reply.status, reply.body);
    else {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(reply.text);
    }
  });
  ai = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: server.baseURL.replace(/\/v1$/, "") } });
});

afterAll(() => server.close());

/** The model and stream flag come from the URL, as the router will pass them. */
function decodeCaptured() {
  const match = /^\/v1beta\/models\/([^:]+):(generateContent|streamGenerateContent)/.exec(captured!.url);
  expect(match).not.toBeNull();
  return codec.decodeRequest(captured!.body, { model: decodeURIComponent(match![1]!), stream: match![2] === "streamGenerateContent" });
}

function sse(events: StreamEvent[]): string {
  const encoder = codec.createStreamEncoder({ model: "m", messages: [], stream: true });
  return events.map((e) => encoder.encode(e)).join("") + encoder.end();
}

const config = {
  systemInstruction: "Be brief.",
  temperature: 0.2,
  maxOutputTokens: 256,
  tools: [
    {
      functionDeclarations: [
        { name: "get_weather", description: "Weather", parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ["city"] } },
        { name: "get_time", description: "Time now" },
      ],
    },
  ],
  toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } },
  thinkingConfig: { thinkingBudget: 512, includeThoughts: true },
};

describe("@google/genai against the google encoders", () => {
  it("generateContent parses text, parallel function calls, usage with cache and thoughts", async () => {
    const response: CanonicalResponse = {
      id: "resp-1",
      model: "gemini-2.5-flash",
      created: 0,
      content: [
        { type: "reasoning", text: "Need two calls." },
        { type: "text", text: "Checking." },
        { type: "tool_call", id: "call_0", name: "get_weather", arguments: '{"city":"Paris"}' },
        { type: "tool_call", id: "call_1", name: "get_time", arguments: "" },
      ],
      stopReason: "tool_calls",
      usage: { inputTokens: 300, outputTokens: 50, cacheReadTokens: 200, reasoningTokens: 20 },
    };
    reply = { kind: "json", status: 200, body: codec.encodeResponse(response, { model: "m", messages: [], stream: false }) };
    const result = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "Weather and time in Paris?", config });
    expect(result.text).toBe("Checking.");
    expect(result.functionCalls).toEqual([
      { id: "call_0", name: "get_weather", args: { city: "Paris" } },
      { id: "call_1", name: "get_time", args: {} },
    ]);
    expect(result.candidates?.[0]?.finishReason).toBe("STOP");
    expect(result.candidates?.[0]?.content?.parts?.[0]).toEqual({ text: "Need two calls.", thought: true });
    expect(result.usageMetadata).toEqual({
      promptTokenCount: 300,
      candidatesTokenCount: 30,
      totalTokenCount: 350,
      cachedContentTokenCount: 200,
      thoughtsTokenCount: 20,
    });
    expect(result.responseId).toBe("resp-1");
    expect(result.modelVersion).toBe("gemini-2.5-flash");
    // The SDK's own request body passes through the decoder.
    const decoded = decodeCaptured();
    expect(decoded).toMatchObject({
      model: "gemini-2.5-flash",
      stream: false,
      system: [{ type: "text", text: "Be brief." }],
      temperature: 0.2,
      maxTokens: 256,
      toolChoice: { type: "auto" },
      reasoning: { budgetTokens: 512, includeThoughts: true },
      messages: [{ role: "user", content: [{ type: "text", text: "Weather and time in Paris?" }] }],
    });
    expect(decoded.tools).toEqual([
      { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
      { name: "get_time", description: "Time now", parameters: { type: "object", properties: {} } },
    ]);
    expect(captured!.headers["x-goog-api-key"]).toBe("test-key");
  });

  it("generateContentStream yields the text and tool calls, with usage and finish on the last chunk", async () => {
    reply = {
      kind: "sse",
      text: sse([
        { type: "start", id: "resp-2", model: "gemini-2.5-flash", created: 0 },
        { type: "text_delta", index: 0, text: "Hel" },
        { type: "text_delta", index: 0, text: "lo" },
        { type: "tool_call_start", index: 1, id: "call_0", name: "get_weather" },
        { type: "tool_call_start", index: 2, id: "call_1", name: "get_time" },
        { type: "tool_call_delta", index: 1, argumentsDelta: '{"city":' },
        { type: "tool_call_delta", index: 2, argumentsDelta: "{}" },
        { type: "tool_call_delta", index: 1, argumentsDelta: '"Oslo"}' },
        { type: "finish", stopReason: "tool_calls", usage: { inputTokens: 40, outputTokens: 12, cacheReadTokens: 8, reasoningTokens: 2 } },
      ]),
    };
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "hi", config });
    let text = "";
    const calls: unknown[] = [];
    let last: Awaited<ReturnType<typeof ai.models.generateContent>> | undefined;
    for await (const chunk of stream) {
      text += chunk.text ?? "";
      calls.push(...(chunk.functionCalls ?? []));
      last = chunk;
    }
    expect(text).toBe("Hello");
    expect(calls).toEqual([
      { id: "call_0", name: "get_weather", args: { city: "Oslo" } },
      { id: "call_1", name: "get_time", args: {} },
    ]);
    expect(last?.candidates?.[0]?.finishReason).toBe("STOP");
    expect(last?.usageMetadata).toEqual({
      promptTokenCount: 40,
      candidatesTokenCount: 10,
      totalTokenCount: 52,
      cachedContentTokenCount: 8,
      thoughtsTokenCount: 2,
    });
    expect(captured!.url).toContain(":streamGenerateContent?alt=sse");
    expect(decodeCaptured().stream).toBe(true);
  });

  it("an Anthropic upstream stream (interleaved blocks, cache usage) reaches the SDK as valid Gemini chunks", async () => {
    const anthropic: Array<[string, object]> = [
      [
        "message_start",
        {
          type: "message_start",
          message: {
            id: "msg_x",
            type: "message",
            role: "assistant",
            model: "claude-sonnet-4-5",
            content: [],
            stop_reason: null,
            usage: { input_tokens: 50, output_tokens: 1, cache_read_input_tokens: 300, cache_creation_input_tokens: 20 },
          },
        },
      ],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
      ["ping", { type: "ping" }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Sure" } }],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["content_block_start", { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} } }],
      ["content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"city": "Rome"}' } }],
      ["content_block_stop", { type: "content_block_stop", index: 1 }],
      ["message_delta", { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 30 } }],
      ["message_stop", { type: "message_stop" }],
    ];
    const decoder = anthropicCodec.createStreamDecoder();
    const events = [...anthropic.flatMap(([event, data]) => decoder.decode({ event, data: JSON.stringify(data) })), ...decoder.end()];
    reply = { kind: "sse", text: sse(events) };
    const stream = await ai.models.generateContentStream({ model: "claude-via-gemini", contents: "hi" });
    let text = "";
    const calls: unknown[] = [];
    let last: Awaited<ReturnType<typeof ai.models.generateContent>> | undefined;
    for await (const chunk of stream) {
      text += chunk.text ?? "";
      calls.push(...(chunk.functionCalls ?? []));
      last = chunk;
    }
    expect(text).toBe("Sure");
    expect(calls).toEqual([{ id: "toolu_1", name: "get_weather", args: { city: "Rome" } }]);
    expect(last?.usageMetadata).toEqual({ promptTokenCount: 370, candidatesTokenCount: 30, totalTokenCount: 400, cachedContentTokenCount: 300 });
  });

  it("HTTP errors surface as ApiError with the right status", async () => {
    for (const info of [
      { kind: "rate_limit" as const, message: "quota exhausted", status: 429 },
      { kind: "authentication" as const, message: "bad key", status: 401 },
      { kind: "not_found" as const, message: "no such model", status: 404 },
    ]) {
      const { status, body } = codec.encodeError(info);
      reply = { kind: "json", status, body };
      const err = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hi" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(info.status);
      expect((err as ApiError).message).toContain(info.message);
    }
  });

  it("a mid-stream error chunk makes the SDK stream throw", async () => {
    reply = {
      kind: "sse",
      text: sse([
        { type: "start", id: "r", model: "g", created: 0 },
        { type: "text_delta", index: 0, text: "partial" },
        { type: "error", error: { kind: "overloaded", message: "upstream overloaded", status: 503 } },
      ]),
    };
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "hi" });
    const err = await (async () => {
      for await (const _chunk of stream) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(503);
    expect((err as ApiError).message).toContain("UNAVAILABLE");
  });
});
