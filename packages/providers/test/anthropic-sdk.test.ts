// SDK acceptance: the official @anthropic-ai/sdk talks to a tiny local server that answers with this
// codec's encoders; what the SDK parses is what Claude Code and other Anthropic clients will see.
import type { IncomingMessage } from "node:http";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, sendJson, startServer } from "./sdk-helpers.js";
import type { CanonicalResponse, ErrorInfo, StreamEvent } from "@bitrouter/core";
import { anthropicCodec as codec } from "../src/protocols/anthropic/index.js";
import { googleCodec } from "../src/protocols/google/index.js";

type Reply = { kind: "json"; status: number; body: unknown } | { kind: "sse"; text: string };

let server: TestServer;
let client: Anthropic;
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
  client = new Anthropic({ apiKey: "test-key", baseURL: server.baseURL.replace(/\/v1$/, ""), maxRetries: 0 });
});

afterAll(() => server.close());

function sse(events: StreamEvent[]): string {
  const encoder = codec.createStreamEncoder({ model: "m", messages: [], stream: true });
  return events.map((e) => encoder.encode(e)).join("") + encoder.end();
}

const params = {
  model: "claude-test",
  max_tokens: 1024,
  system: [{ type: "text" as const, text: "Be brief.", cache_control: { type: "ephemeral" as const } }],
  tools: [
    { name: "get_weather", description: "Weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] } },
    { name: "get_time", input_schema: { type: "object" as const, properties: {} } },
  ],
  messages: [{ role: "user" as const, content: "Weather and time in Paris?" }],
};

describe("@anthropic-ai/sdk against the anthropic encoders", () => {
  it("messages.create parses text, parallel tool calls, cache and thinking usage, stop reason", async () => {
    const response: CanonicalResponse = {
      id: "msg_01",
      model: "claude-sonnet-4-5",
      created: 0,
      content: [
        { type: "text", text: "Checking both." },
        { type: "tool_call", id: "toolu_1", name: "get_weather", arguments: '{"city":"Paris"}' },
        { type: "tool_call", id: "toolu_2", name: "get_time", arguments: "" },
      ],
      stopReason: "tool_calls",
      usage: { inputTokens: 1200, outputTokens: 80, cacheReadTokens: 1000, cacheWriteTokens: 100, reasoningTokens: 30 },
    };
    reply = { kind: "json", status: 200, body: codec.encodeResponse(response, codec.decodeRequest(params)) };
    const message = await client.messages.create(params);
    expect(message.content[0]).toMatchObject({ type: "text", text: "Checking both." });
    expect(message.content.slice(1)).toMatchObject([
      { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_2", name: "get_time", input: {} },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({
      input_tokens: 100,
      output_tokens: 80,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 100,
      output_tokens_details: { thinking_tokens: 30 },
    });
    // The SDK's own request body passes through the decoder.
    expect(captured?.url).toBe("/v1/messages");
    expect(captured?.headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const decoded = codec.decodeRequest(captured!.body);
    expect(decoded.system).toEqual([{ type: "text", text: "Be brief.", cacheControl: { type: "ephemeral" } }]);
    expect(decoded.tools?.map((t) => t.name)).toEqual(["get_weather", "get_time"]);
    expect(decoded.maxTokens).toBe(1024);
  });

  it("messages.stream -> finalMessage assembles interleaved tool calls, reasoning and usage", async () => {
    reply = {
      kind: "sse",
      text: sse([
        { type: "start", id: "msg_02", model: "claude-sonnet-4-5", created: 0 },
        { type: "usage", usage: { inputTokens: 500, outputTokens: 1, cacheReadTokens: 400 } },
        { type: "reasoning_delta", index: 0, text: "Two tools." },
        { type: "reasoning_signature", index: 0, signature: "sig-abc" },
        { type: "text_delta", index: 1, text: "On it" },
        { type: "tool_call_start", index: 2, id: "toolu_a", name: "get_weather" },
        { type: "tool_call_start", index: 3, id: "toolu_b", name: "get_time" },
        { type: "tool_call_delta", index: 2, argumentsDelta: '{"city":' },
        { type: "tool_call_delta", index: 3, argumentsDelta: "{}" },
        { type: "tool_call_delta", index: 2, argumentsDelta: '"Paris"}' },
        { type: "finish", stopReason: "tool_calls", usage: { inputTokens: 500, outputTokens: 42, cacheReadTokens: 400, reasoningTokens: 12 } },
      ]),
    };
    const stream = client.messages.stream(params);
    const texts: string[] = [];
    stream.on("text", (t) => texts.push(t));
    const message = await stream.finalMessage();
    expect(texts.join("")).toBe("On it");
    expect(message.id).toBe("msg_02");
    expect(message.content).toMatchObject([
      { type: "thinking", thinking: "Two tools.", signature: "sig-abc" },
      { type: "text", text: "On it" },
      { type: "tool_use", id: "toolu_a", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_b", name: "get_time", input: {} },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 100, output_tokens: 42, cache_read_input_tokens: 400, output_tokens_details: { thinking_tokens: 12 } });
    const decoded = codec.decodeRequest(captured!.body);
    expect(decoded.stream).toBe(true);
  });

  it("usage known only at finish still reaches the SDK's final message (input and cache tokens too)", async () => {
    reply = {
      kind: "sse",
      text: sse([
        { type: "start", id: "msg_04", model: "gpt-x", created: 0 },
        { type: "text_delta", index: 0, text: "Hi" },
        { type: "finish", stopReason: "length", usage: { inputTokens: 900, outputTokens: 7, cacheReadTokens: 800 } },
      ]),
    };
    const message = await client.messages.stream(params).finalMessage();
    expect(message.content).toMatchObject([{ type: "text", text: "Hi" }]);
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.usage).toMatchObject({ input_tokens: 100, output_tokens: 7, cache_read_input_tokens: 800, cache_creation_input_tokens: 0 });
  });

  it("a Gemini upstream stream (id-less parallel calls, thoughts, cache) reaches the SDK as a valid Anthropic stream", async () => {
    const gemini = [
      { candidates: [{ content: { role: "model", parts: [{ text: "Plan: two calls.", thought: true }] } }], responseId: "g1", modelVersion: "gemini-2.5-pro" },
      { candidates: [{ content: { role: "model", parts: [{ text: "Looking up" }] } }] },
      {
        candidates: [
          {
            content: {
              role: "model",
              parts: [
                { functionCall: { name: "get_weather", args: { city: "Oslo" } }, thoughtSignature: "c2ln" },
                { functionCall: { name: "get_time", args: {} } },
              ],
            },
            finishReason: "STOP",
          },
        ],
        usageMetadata: { promptTokenCount: 700, candidatesTokenCount: 20, thoughtsTokenCount: 15, cachedContentTokenCount: 600, totalTokenCount: 735 },
      },
    ];
    const decoder = googleCodec.createStreamDecoder();
    const events = [...gemini.flatMap((chunk) => decoder.decode({ data: JSON.stringify(chunk) })), ...decoder.end()];
    reply = { kind: "sse", text: sse(events) };
    const message = await client.messages.stream(params).finalMessage();
    expect(message.content.filter((b) => b.type === "tool_use")).toMatchObject([
      { type: "tool_use", id: "call_0", name: "get_weather", input: { city: "Oslo" } },
      { type: "tool_use", id: "call_1", name: "get_time", input: {} },
    ]);
    expect(message.content.find((b) => b.type === "text")).toMatchObject({ text: "Looking up" });
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 600, output_tokens: 35, output_tokens_details: { thinking_tokens: 15 } });
  });

  it("HTTP errors surface with the right status and type", async () => {
    const cases: Array<[ErrorInfo, number, string, unknown]> = [
      [{ kind: "rate_limit", message: "budget exhausted", status: 429 }, 429, "rate_limit_error", Anthropic.RateLimitError],
      [{ kind: "authentication", message: "bad key", status: 401 }, 401, "authentication_error", Anthropic.AuthenticationError],
      [{ kind: "overloaded", message: "busy", status: 503 }, 529, "overloaded_error", Anthropic.InternalServerError],
      [{ kind: "invalid_request", message: "messages: required", status: 400, param: "messages" }, 400, "invalid_request_error", Anthropic.BadRequestError],
    ];
    for (const [info, status, type, cls] of cases) {
      const { status: httpStatus, body } = codec.encodeError(info);
      reply = { kind: "json", status: httpStatus, body };
      const err = await client.messages.create(params).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls as typeof Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(status);
      expect((err as { error: { error: { type: string; message: string } } }).error.error).toEqual({ type, message: info.message });
    }
  });

  it("a mid-stream error event makes the SDK stream throw, not finish", async () => {
    reply = {
      kind: "sse",
      text: sse([
        { type: "start", id: "msg_03", model: "claude", created: 0 },
        { type: "text_delta", index: 0, text: "partial" },
        { type: "error", error: { kind: "overloaded", message: "upstream overloaded", status: 503 } },
      ]),
    };
    const err = await client.messages
      .stream(params)
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as { error: { error: { type: string } } }).error.error.type).toBe("overloaded_error");
  });
});
