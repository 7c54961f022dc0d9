// SDK acceptance: the official `openai` SDK talks to a loopback server that answers with our
// encoders' output; we assert what the SDK parsed, and that our decoders accept what it sent.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import type { CanonicalRequest, CanonicalResponse, ErrorInfo, StreamEvent } from "@bitrouter/core";
import { openaiChatCodec } from "../src/protocols/openai-chat/index.js";
import { openaiResponsesCodec } from "../src/protocols/openai-responses/index.js";
import { decodeStream, encodeStream, sendJson, sendSse, startServer, type TestServer } from "./sdk-helpers.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const client = (s: TestServer): OpenAI => new OpenAI({ apiKey: "test-key", baseURL: s.baseURL, maxRetries: 0 });

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

const usage = { inputTokens: 120, outputTokens: 40, cacheReadTokens: 100, reasoningTokens: 12 };

const response: CanonicalResponse = {
  id: "chatcmpl-123",
  model: "gpt-test",
  created: 1_700_000_000,
  content: [
    { type: "reasoning", text: "thinking" },
    { type: "text", text: "Checking both cities." },
    { type: "tool_call", id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}' },
    { type: "tool_call", id: "call_b", name: "get_weather", arguments: '{"city":"Tokyo"}' },
  ],
  stopReason: "tool_calls",
  usage,
};

/** Two tool calls whose argument deltas interleave, text before them, usage only in `finish`. */
const streamEvents: StreamEvent[] = [
  { type: "start", id: "chatcmpl-9", model: "gpt-test", created: 1_700_000_000 },
  { type: "reasoning_delta", index: 0, text: "hmm " },
  { type: "reasoning_delta", index: 0, text: "ok" },
  { type: "text_delta", index: 1, text: "Héllo, " },
  { type: "text_delta", index: 1, text: "wörld 🌍" },
  { type: "tool_call_start", index: 2, id: "call_a", name: "get_weather" },
  { type: "tool_call_start", index: 3, id: "call_b", name: "get_weather" },
  { type: "tool_call_delta", index: 2, argumentsDelta: '{"city":' },
  { type: "tool_call_delta", index: 3, argumentsDelta: '{"city":"To' },
  { type: "tool_call_delta", index: 2, argumentsDelta: '"Paris"}' },
  { type: "tool_call_delta", index: 3, argumentsDelta: 'kyo"}' },
  { type: "finish", stopReason: "tool_calls", usage },
];

const midStreamError: ErrorInfo = { kind: "rate_limit", message: "budget exhausted", status: 429, code: "budget_exceeded" };

describe("openai SDK <-> openai-chat encoders", () => {
  it("chat.completions.create parses encodeResponse: text, parallel tool calls, usage, finish_reason", async () => {
    let decoded: CanonicalRequest | undefined;
    server = await startServer((body, res) => {
      decoded = openaiChatCodec.decodeRequest(body);
      sendJson(res, 200, openaiChatCodec.encodeResponse(response, decoded));
    });
    const completion = await client(server).chat.completions.create({
      model: "gpt-test",
      messages: [
        { role: "developer", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Weather?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" } },
          ],
        },
      ],
      tools: [weatherTool],
      tool_choice: "auto",
      parallel_tool_calls: true,
      max_completion_tokens: 256,
      reasoning_effort: "low",
    });
    expect(server.paths[0]).toBe("/v1/chat/completions");
    expect(decoded).toMatchObject({
      model: "gpt-test",
      system: [{ type: "text", text: "Be brief." }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Weather?" },
            { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" }, detail: "low" },
          ],
        },
      ],
      tools: [{ name: "get_weather" }],
      toolChoice: { type: "auto" },
      parallelToolCalls: true,
      maxTokens: 256,
      reasoning: { effort: "low" },
      stream: false,
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBe("Checking both cities.");
    expect(choice.message.tool_calls?.map((t) => (t.type === "function" ? [t.id, t.function.name, t.function.arguments] : []))).toEqual([
      ["call_a", "get_weather", '{"city":"Paris"}'],
      ["call_b", "get_weather", '{"city":"Tokyo"}'],
    ]);
    expect(completion.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 40, total_tokens: 160 });
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(100);
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(12);
  });

  it("chat.completions.stream assembles interleaved parallel tool calls, text and the usage chunk", async () => {
    let decoded: CanonicalRequest | undefined;
    server = await startServer((body, res) => {
      decoded = openaiChatCodec.decodeRequest(body);
      sendSse(res, encodeStream(openaiChatCodec, decoded, streamEvents));
    });
    const stream = client(server).chat.completions.stream({
      model: "gpt-test",
      messages: [{ role: "user", content: "Weather in Paris and Tokyo?" }],
      tools: [weatherTool],
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    stream.on("chunk", (c) => chunks.push(c));
    const final = await stream.finalChatCompletion();
    expect(decoded).toMatchObject({ stream: true, includeUsage: true });
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    const message = final.choices[0]!.message;
    expect(message.content).toBe("Héllo, wörld 🌍");
    expect(message.tool_calls?.map((t) => (t.type === "function" ? [t.id, t.function.name, t.function.arguments] : []))).toEqual([
      ["call_a", "get_weather", '{"city":"Paris"}'],
      ["call_b", "get_weather", '{"city":"Tokyo"}'],
    ]);
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(final.usage).toMatchObject({
      prompt_tokens: 120,
      completion_tokens: 40,
      prompt_tokens_details: { cached_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 12 },
    });
  });

  it("a mid-stream error surfaces as an SDK APIError, after the text already streamed", async () => {
    server = await startServer((body, res) => {
      const req = openaiChatCodec.decodeRequest(body);
      sendSse(
        res,
        encodeStream(openaiChatCodec, req, [streamEvents[0]!, { type: "text_delta", index: 0, text: "partial" }, { type: "error", error: midStreamError }]),
      );
    });
    const stream = await client(server).chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    const failure = await (async () => {
      try {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(text).toBe("partial");
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).message).toContain("budget exhausted");
    expect((failure as InstanceType<typeof OpenAI.APIError>).type).toBe("rate_limit_error");
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe("budget_exceeded");
  });

  it("encodeError answers surface as the SDK's typed errors with status, type, param and code", async () => {
    const errors: ErrorInfo[] = [
      { kind: "rate_limit", message: "slow down", status: 429 },
      { kind: "invalid_request", message: "messages[0].role is wrong", status: 400, param: "messages[0].role" },
      { kind: "authentication", message: "bad key", status: 401 },
      { kind: "not_found", message: "no such model", status: 404, code: "model_not_found" },
      { kind: "overloaded", message: "busy", status: 503 },
    ];
    let i = 0;
    server = await startServer((_body, res) => {
      const { status, body } = openaiChatCodec.encodeError(errors[i++]!);
      sendJson(res, status, body);
    });
    const seen: Array<[unknown, number | undefined, string | undefined, string | null | undefined, string | null | undefined]> = [];
    for (const _ of errors) {
      try {
        await client(server).chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] });
      } catch (e) {
        const err = e as InstanceType<typeof OpenAI.APIError>;
        seen.push([err.constructor, err.status, err.type, err.param, err.code]);
      }
    }
    expect(seen).toEqual([
      [OpenAI.RateLimitError, 429, "rate_limit_error", null, "rate_limit_exceeded"],
      [OpenAI.BadRequestError, 400, "invalid_request_error", "messages[0].role", null],
      [OpenAI.AuthenticationError, 401, "authentication_error", null, "invalid_api_key"],
      [OpenAI.NotFoundError, 404, "not_found_error", null, "model_not_found"],
      [OpenAI.InternalServerError, 503, "server_error", null, "overloaded"],
    ]);
  });
});

describe("openai SDK <-> openai-responses encoders", () => {
  const respTool = {
    type: "function" as const,
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    strict: false,
  };

  it("responses.create parses encodeResponse: output_text, function calls, reasoning, usage", async () => {
    let decoded: CanonicalRequest | undefined;
    server = await startServer((body, res) => {
      decoded = openaiResponsesCodec.decodeRequest(body);
      sendJson(res, 200, openaiResponsesCodec.encodeResponse(response, decoded));
    });
    const result = await client(server).responses.create({
      model: "gpt-test",
      instructions: "Be brief.",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "Weather?" },
            { type: "input_image", image_url: "https://example.com/a.png", detail: "high" },
          ],
        },
        { type: "function_call", call_id: "call_0", name: "get_weather", arguments: '{"city":"Oslo"}' },
        { type: "function_call_output", call_id: "call_0", output: "rainy" },
      ],
      tools: [respTool],
      reasoning: { effort: "medium", summary: "auto" },
      max_output_tokens: 300,
      store: false,
    });
    expect(server.paths[0]).toBe("/v1/responses");
    expect(decoded).toMatchObject({
      system: [{ type: "text", text: "Be brief." }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Weather?" },
            { type: "image", source: { kind: "url", url: "https://example.com/a.png" }, detail: "high" },
          ],
        },
        { role: "assistant", content: [{ type: "tool_call", id: "call_0", name: "get_weather", arguments: '{"city":"Oslo"}' }] },
        { role: "user", content: [{ type: "tool_result", toolCallId: "call_0", content: [{ type: "text", text: "rainy" }] }] },
      ],
      reasoning: { effort: "medium", includeThoughts: true },
      maxTokens: 300,
    });
    expect(result.object).toBe("response");
    expect(result.status).toBe("completed");
    expect(result.output_text).toBe("Checking both cities.");
    const calls = result.output.filter((o) => o.type === "function_call");
    expect(calls.map((c) => [c.call_id, c.name, c.arguments])).toEqual([
      ["call_a", "get_weather", '{"city":"Paris"}'],
      ["call_b", "get_weather", '{"city":"Tokyo"}'],
    ]);
    const reasoning = result.output.find((o) => o.type === "reasoning");
    expect(reasoning?.type === "reasoning" && reasoning.summary[0]?.text).toBe("thinking");
    expect(result.usage).toMatchObject({
      input_tokens: 120,
      output_tokens: 40,
      total_tokens: 160,
      input_tokens_details: { cached_tokens: 100 },
      output_tokens_details: { reasoning_tokens: 12 },
    });
  });

  it("responses.stream accepts the typed event sequence and builds the final response", async () => {
    server = await startServer((body, res) => {
      const req = openaiResponsesCodec.decodeRequest(body);
      sendSse(res, encodeStream(openaiResponsesCodec, req, streamEvents));
    });
    const stream = client(server).responses.stream({ model: "gpt-test", input: "Weather in Paris and Tokyo?", tools: [respTool] });
    const types: string[] = [];
    const sequence: number[] = [];
    let textDeltas = "";
    stream.on("event", (e) => {
      types.push(e.type);
      sequence.push(e.sequence_number);
    });
    stream.on("response.output_text.delta", (e) => (textDeltas += e.delta));
    const final = await stream.finalResponse();
    expect(sequence).toEqual(sequence.map((_, i) => i));
    expect(types.slice(0, 2)).toEqual(["response.created", "response.in_progress"]);
    expect(types.at(-1)).toBe("response.completed");
    expect(textDeltas).toBe("Héllo, wörld 🌍");
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe("Héllo, wörld 🌍");
    const calls = final.output.filter((o) => o.type === "function_call");
    expect(calls.map((c) => [c.call_id, c.name, c.arguments, c.status])).toEqual([
      ["call_a", "get_weather", '{"city":"Paris"}', "completed"],
      ["call_b", "get_weather", '{"city":"Tokyo"}', "completed"],
    ]);
    expect(final.output.map((o) => o.type)).toEqual(["reasoning", "message", "function_call", "function_call"]);
    expect(final.usage).toMatchObject({
      input_tokens: 120,
      output_tokens: 40,
      input_tokens_details: { cached_tokens: 100 },
      output_tokens_details: { reasoning_tokens: 12 },
    });
  });

  it("a length stop ends with response.incomplete and incomplete_details", async () => {
    server = await startServer((body, res) => {
      const req = openaiResponsesCodec.decodeRequest(body);
      sendSse(
        res,
        encodeStream(openaiResponsesCodec, req, [streamEvents[0]!, { type: "text_delta", index: 0, text: "cut" }, { type: "finish", stopReason: "length" }]),
      );
    });
    const final = await client(server).responses.stream({ model: "gpt-test", input: "long story", max_output_tokens: 16 }).finalResponse();
    expect(final.status).toBe("incomplete");
    expect(final.incomplete_details?.reason).toBe("max_output_tokens");
    expect(final.output_text).toBe("cut");
  });

  it("a mid-stream error reaches the SDK as an error event and a failed response", async () => {
    server = await startServer((body, res) => {
      const req = openaiResponsesCodec.decodeRequest(body);
      sendSse(
        res,
        encodeStream(openaiResponsesCodec, req, [
          streamEvents[0]!,
          { type: "text_delta", index: 0, text: "partial" },
          { type: "error", error: midStreamError },
        ]),
      );
    });
    const stream = await client(server).responses.create({ model: "gpt-test", input: "hi", stream: true });
    const seen: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) seen.push(e);
    const error = seen.find((e) => e.type === "error");
    const failed = seen.at(-1);
    expect(error).toMatchObject({ type: "error", code: "budget_exceeded", message: "budget exhausted" });
    expect(failed?.type).toBe("response.failed");
    expect(failed?.type === "response.failed" && failed.response.error).toEqual({ code: "budget_exceeded", message: "budget exhausted" });
    expect(seen.some((e) => e.type === "response.completed")).toBe(false);
  });

  it("encodeError answers surface as the SDK's typed errors", async () => {
    server = await startServer((_body, res) => {
      const { status, body } = openaiResponsesCodec.encodeError({ kind: "permission", message: "model not allowed for this key", status: 403 });
      sendJson(res, status, body);
    });
    const err = await client(server)
      .responses.create({ model: "m", input: "x" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((err as InstanceType<typeof OpenAI.APIError>).type).toBe("permission_error");
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain("model not allowed");
  });

  it("the SDK's requests are rejected clearly when they need server-side state", async () => {
    server = await startServer((body, res) => {
      try {
        openaiResponsesCodec.decodeRequest(body);
        sendJson(res, 200, {});
      } catch (e) {
        const info = e as ErrorInfo;
        const { status, body: errBody } = openaiResponsesCodec.encodeError(info);
        sendJson(res, status, errBody);
      }
    });
    const err = await client(server)
      .responses.create({ model: "m", input: "again", previous_response_id: "resp_1" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).param).toBe("previous_response_id");
  });
});

describe("openai SDKs across the two OpenAI protocols (decoder -> encoder)", () => {
  const fixture = (dir: string, name: string): { sse: Array<{ event?: string; data: unknown }> } =>
    JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", dir, name), "utf8")) as { sse: Array<{ event?: string; data: unknown }> };
  const sseText = (frames: Array<{ event?: string; data: unknown }>): string =>
    frames.map((e) => `${e.event ? `event: ${e.event}\n` : ""}data: ${typeof e.data === "string" ? e.data : JSON.stringify(e.data)}\n\n`).join("");

  it("a chat client streams an answer that came from a Responses upstream", async () => {
    let upstreamBody: unknown;
    server = await startServer((body, res) => {
      const req = openaiChatCodec.decodeRequest(body);
      upstreamBody = openaiResponsesCodec.encodeRequest(req, { model: "gpt-4.1" }).body;
      const events = decodeStream(openaiResponsesCodec, sseText(fixture("openai-responses", "stream-function-call.json").sse));
      sendSse(res, encodeStream(openaiChatCodec, req, events));
    });
    const final = await client(server)
      .chat.completions.stream({
        model: "router-model",
        messages: [{ role: "user", content: "Weather in Paris?" }],
        tools: [weatherTool],
        stream_options: { include_usage: true },
      })
      .finalChatCompletion();
    expect(upstreamBody).toMatchObject({
      model: "gpt-4.1",
      input: [{ role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }] }],
      tools: [{ type: "function", name: "get_weather", strict: false }],
      stream: true,
      store: false,
    });
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(final.choices[0]!.message.tool_calls?.map((t) => (t.type === "function" ? [t.id, t.function.name, t.function.arguments] : []))).toEqual([
      ["call_1234xyz", "get_weather", '{"location":"Paris, France"}'],
    ]);
    expect(final.usage).toMatchObject({ prompt_tokens: 57, completion_tokens: 18, total_tokens: 75 });
  });

  it("a Responses client streams parallel tool calls that came from a chat upstream", async () => {
    server = await startServer((body, res) => {
      const req = openaiResponsesCodec.decodeRequest(body);
      const events = decodeStream(openaiChatCodec, sseText(fixture("openai-chat", "stream-parallel-tool-calls.json").sse));
      sendSse(res, encodeStream(openaiResponsesCodec, req, events));
    });
    const final = await client(server)
      .responses.stream({
        model: "router-model",
        input: "Weather in Paris and Bogotá?",
        tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { location: { type: "string" } } }, strict: false }],
      })
      .finalResponse();
    expect(final.status).toBe("completed");
    expect(final.output.filter((o) => o.type === "function_call").map((c) => [c.call_id, c.arguments])).toEqual([
      ["call_DdmO9pD3xa9XTPNJ32zg2hcA", '{"location":"Paris, France"}'],
      ["call_ABCDEF", '{"location":"Bogotá, Colombia"}'],
    ]);
  });
});
