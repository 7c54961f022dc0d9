import { describe, expect, it } from "vitest";
import type { CanonicalRequest, StreamEvent } from "@bitrouter/core";
import { openaiChatCodec as codec } from "../src/protocols/openai-chat/index.js";
import { BitrouterError } from "@bitrouter/core";
import { collectParts, decodeStream, encodeStream, parseSse } from "./sdk-helpers.js";

const base = { model: "gpt-test", messages: [{ role: "user", content: "hi" }] };

function rejects(body: unknown): BitrouterError {
  try {
    codec.decodeRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(BitrouterError);
    return e as BitrouterError;
  }
  throw new Error("expected decodeRequest to throw");
}

describe("openai-chat decodeRequest", () => {
  it("maps every role: system/developer (also mid-conversation) to system in order, tool runs merged", () => {
    const req = codec.decodeRequest({
      model: "m",
      messages: [
        { role: "system", content: "S1" },
        { role: "developer", content: [{ type: "text", text: "D1" }] },
        { role: "user", content: "question" },
        {
          role: "assistant",
          content: "",
          tool_calls: [
            { id: "c1", type: "function", function: { name: "a", arguments: "{}" } },
            { id: "c2", type: "function", function: { name: "b", arguments: { x: 1 } } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "r1" },
        { role: "tool", tool_call_id: "c2", content: [{ type: "text", text: "r2" }] },
        { role: "system", content: "S2 (mid-conversation)" },
        { role: "assistant", content: null, refusal: "I can't help with that." },
      ],
    });
    expect(req.system).toEqual([
      { type: "text", text: "S1" },
      { type: "text", text: "D1" },
      { type: "text", text: "S2 (mid-conversation)" },
    ]);
    expect(req.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "question" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_call", id: "c1", name: "a", arguments: "{}" },
          // an object from a sloppy client is normalised to a JSON string
          { type: "tool_call", id: "c2", name: "b", arguments: '{"x":1}' },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", toolCallId: "c1", content: [{ type: "text", text: "r1" }] },
          { type: "tool_result", toolCallId: "c2", content: [{ type: "text", text: "r2" }] },
        ],
      },
      { role: "assistant", content: [{ type: "text", text: "I can't help with that." }] },
    ]);
  });

  it("pairs legacy function_call / function messages by name", () => {
    const req = codec.decodeRequest({
      model: "m",
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: null, function_call: { name: "lookup", arguments: '{"q":1}' } },
        { role: "function", name: "lookup", content: "found" },
      ],
      functions: [{ name: "lookup", parameters: { type: "object", properties: { q: { type: "number" } } } }],
      function_call: { name: "lookup" },
    });
    const call = req.messages[1]!.content[0]!;
    expect(call).toMatchObject({ type: "tool_call", name: "lookup", arguments: '{"q":1}' });
    expect(req.messages[2]!.content[0]).toEqual({
      type: "tool_result",
      toolCallId: (call as { id: string }).id,
      name: "lookup",
      content: [{ type: "text", text: "found" }],
    });
    expect(req.tools).toEqual([{ name: "lookup", parameters: { type: "object", properties: { q: { type: "number" } } } }]);
    expect(req.toolChoice).toEqual({ type: "tool", name: "lookup" });
  });

  it("reads image URLs (http and data:), detail, and files by id or inline data", () => {
    const req = codec.decodeRequest({
      model: "m",
      messages: [
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: "https://x.test/cat.png", detail: "high" } },
            { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQ" } },
            { type: "file", file: { file_id: "file-abc" } },
            { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=", filename: "doc.pdf" } },
          ],
        },
      ],
    });
    expect(req.messages[0]!.content).toEqual([
      { type: "image", source: { kind: "url", url: "https://x.test/cat.png" }, detail: "high" },
      { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: "/9j/4AAQ" } },
      { type: "file", source: { kind: "file_id", fileId: "file-abc" } },
      { type: "file", source: { kind: "base64", mediaType: "application/pdf", data: "JVBERi0=" }, mediaType: "application/pdf", filename: "doc.pdf" },
    ]);
  });

  it("reads sampling, format and streaming options; prefers max_completion_tokens", () => {
    const req = codec.decodeRequest({
      ...base,
      max_tokens: 10,
      max_completion_tokens: 20,
      temperature: 0.3,
      top_p: 0.9,
      stop: "END",
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      user: "u-1",
      reasoning_effort: "high",
      response_format: {
        type: "json_schema",
        json_schema: { name: "out", schema: { type: "object", properties: { b: {}, a: {} } }, strict: true, description: "d" },
      },
      tool_choice: "required",
      parallel_tool_calls: false,
      stream: true,
      stream_options: { include_usage: true },
      n: 1,
      logit_bias: { "50256": -100 },
      some_future_field: { nested: true },
    });
    expect(req).toMatchObject({
      maxTokens: 20,
      temperature: 0.3,
      topP: 0.9,
      stop: ["END"],
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      user: "u-1",
      reasoning: { effort: "high" },
      toolChoice: { type: "required" },
      parallelToolCalls: false,
      stream: true,
      includeUsage: true,
    });
    expect(req.responseFormat).toEqual({
      type: "json_schema",
      name: "out",
      schema: { type: "object", properties: { b: {}, a: {} } },
      strict: true,
      description: "d",
    });
    // key order of schemas survives (prompt caches depend on it)
    expect(Object.keys((req.responseFormat as { schema: { properties: object } } | undefined)?.schema.properties ?? {})).toEqual(["b", "a"]);
    expect(codec.decodeRequest({ ...base, max_tokens: 10 }).maxTokens).toBe(10);
  });

  it("rejects what it cannot serve with invalid_request naming the field", () => {
    expect(rejects({ ...base, n: 2 })).toMatchObject({ kind: "invalid_request", status: 400, param: "n" });
    expect(
      rejects({ model: "m", messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAA", format: "wav" } }] }] }),
    ).toMatchObject({ param: "messages[0].content[0].type" });
    expect(rejects({ model: "m", messages: [{ role: "narrator", content: "x" }] }).param).toBe("messages[0].role");
    expect(rejects({ model: "m", messages: [] }).param).toBe("messages");
    expect(rejects({ messages: base.messages }).param).toBe("model");
    expect(rejects({ ...base, temperature: "hot" }).param).toBe("temperature");
    expect(rejects({ ...base, tools: [{ type: "web_search" }] }).param).toBe("tools[0].type");
    expect(rejects({ ...base, reasoning_effort: "extreme" }).param).toBe("reasoning_effort");
    expect(rejects({ model: "m", messages: [{ role: "tool", content: "x" }] }).param).toBe("messages[0].tool_call_id");
    expect(rejects({ ...base, n: 3 }).message).toMatch(/n must be 1/);
  });
});

describe("openai-chat encodeRequest", () => {
  const req: CanonicalRequest = {
    model: "virtual",
    system: [{ type: "text", text: "S" }],
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "q" },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: "AAA" } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "hidden" },
          { type: "tool_call", id: "c1", name: "f", arguments: "" },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", toolCallId: "c1", content: [{ type: "text", text: "ok" }] },
          { type: "text", text: "and?" },
        ],
      },
    ],
    tools: [{ name: "f", parameters: { type: "object" } }],
    maxTokens: 100,
    stream: true,
  };

  it("builds /chat/completions with tool messages, data URLs, max_completion_tokens and include_usage", () => {
    const up = codec.encodeRequest(req, { model: "gpt-4o" });
    expect(up.path).toBe("/chat/completions");
    expect(up.body).toEqual({
      model: "gpt-4o",
      messages: [
        { role: "system", content: "S" },
        {
          role: "user",
          content: [
            { type: "text", text: "q" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAA" } },
          ],
        },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "" } }] },
        { role: "tool", tool_call_id: "c1", content: "ok" },
        { role: "user", content: "and?" },
      ],
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      max_completion_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("never sends parallel_tool_calls without tools (OpenAI rejects it)", () => {
    const up = codec.encodeRequest(
      { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "x" }] }], parallelToolCalls: false, stream: false },
      { model: "m" },
    );
    expect(up.body.parallel_tool_calls).toBeUndefined();
  });
});

describe("openai-chat decodeResponse", () => {
  it("reads DeepSeek reasoning_content, OpenRouter reasoning, object arguments and usage details", () => {
    const res = codec.decodeResponse({
      id: "x",
      object: "chat.completion",
      created: 5,
      model: "deepseek-reasoner",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "42",
            reasoning_content: "think",
            tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: { a: 1 } } }],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 4 },
        completion_tokens_details: { reasoning_tokens: 2 },
      },
    });
    expect(res).toEqual({
      id: "x",
      model: "deepseek-reasoner",
      created: 5,
      content: [
        { type: "reasoning", text: "think" },
        { type: "text", text: "42" },
        { type: "tool_call", id: "t", name: "f", arguments: '{"a":1}' },
      ],
      stopReason: "tool_calls",
      usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 4, reasoningTokens: 2 },
    });
    const or = codec.decodeResponse({
      id: "y",
      model: "m",
      created: 1,
      choices: [{ message: { content: "a", reasoning: "r" }, finish_reason: "function_call" }],
    });
    expect(or.content[0]).toEqual({ type: "reasoning", text: "r" });
    expect(or.stopReason).toBe("tool_calls");
  });

  it("maps every finish_reason", () => {
    const stop = (finish_reason: string | null) =>
      codec.decodeResponse({ id: "", model: "", created: 0, choices: [{ message: { content: "x" }, finish_reason }] }).stopReason;
    expect([stop("stop"), stop("length"), stop("tool_calls"), stop("content_filter"), stop("function_call"), stop(null)]).toEqual([
      "stop",
      "length",
      "tool_calls",
      "content_filter",
      "tool_calls",
      "stop",
    ]);
  });

  it("treats a 200 answer with an error body as an upstream error", () => {
    expect(() => codec.decodeResponse({ error: { message: "provider down", type: "server_error" } })).toThrow(/provider down/);
  });
});

describe("openai-chat stream decoder", () => {
  const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;

  it("assigns distinct indices to parallel tool calls and keeps every character", () => {
    const sse =
      chunk({ role: "assistant", content: "" }) +
      chunk({ content: "Hel" }) +
      chunk({ content: "lo " }) +
      chunk({ tool_calls: [{ index: 0, id: "a", type: "function", function: { name: "f", arguments: "" } }] }) +
      chunk({ tool_calls: [{ index: 1, id: "b", type: "function", function: { name: "g", arguments: '{"y"' } }] }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }) +
      chunk({ tool_calls: [{ index: 1, function: { arguments: ":2}" } }] }) +
      chunk({}, "tool_calls") +
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 1 } } })}\n\n` +
      "data: [DONE]\n\n";
    const events = decodeStream(codec, sse);
    expect(events[0]).toEqual({ type: "start", id: "c", model: "m", created: 1 });
    expect([...collectParts(events).entries()]).toEqual([
      [0, { kind: "text", text: "Hello " }],
      [1, { kind: "tool", text: '{"x":1}', id: "a", name: "f" }],
      [2, { kind: "tool", text: '{"y":2}', id: "b", name: "g" }],
    ]);
    expect(events.at(-1)).toEqual({ type: "finish", stopReason: "tool_calls", usage: { inputTokens: 3, outputTokens: 4, cacheReadTokens: 1 } });
    expect(events.filter((e) => e.type === "start" || e.type === "finish")).toHaveLength(2);
  });

  it("a mid-stream error body becomes an error event, not a finish", () => {
    const events = decodeStream(codec, chunk({ content: "x" }) + `data: {"error":{"message":"overloaded","type":"server_error","code":null}}\n\n`);
    expect(events.at(-1)).toMatchObject({ type: "error", error: { kind: "upstream", message: "overloaded" } });
    expect(events.some((e) => e.type === "finish")).toBe(false);
  });

  it("a truncated stream (no finish_reason, no [DONE]) ends with an error", () => {
    const events = decodeStream(codec, chunk({ role: "assistant" }) + chunk({ content: "half" }));
    expect(events.at(-1)).toMatchObject({ type: "error", error: { kind: "upstream", message: expect.stringContaining("ended early") } });
  });

  it("a finish_reason without [DONE] still finishes (some compatible servers omit it)", () => {
    const events = decodeStream(codec, chunk({ content: "done" }, "stop"));
    expect(events.at(-1)).toEqual({ type: "finish", stopReason: "stop" });
  });
});

describe("openai-chat stream encoder", () => {
  const request: CanonicalRequest = { model: "m", messages: [], stream: true, includeUsage: true };
  const start: StreamEvent = { type: "start", id: "id1", model: "m", created: 9 };
  const chunks = (events: StreamEvent[], req = request) =>
    parseSse(encodeStream(codec, req, events)).map((e) => (e.data === "[DONE]" ? "[DONE]" : JSON.parse(e.data)));

  it("first chunk carries role assistant; tool calls get 0-based distinct indices; usage chunk when asked", () => {
    const out = chunks([
      start,
      { type: "text_delta", index: 0, text: "a" },
      { type: "tool_call_start", index: 1, id: "t1", name: "f" },
      { type: "tool_call_start", index: 2, id: "t2", name: "g" },
      { type: "tool_call_delta", index: 2, argumentsDelta: "{}" },
      { type: "tool_call_delta", index: 1, argumentsDelta: "" },
      { type: "text_delta", index: 3, text: "after the tools" },
      { type: "finish", stopReason: "tool_calls", usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 1, cacheWriteTokens: 3 } },
    ]);
    expect(out[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    const toolDeltas = out.flatMap((c) => (c.choices?.[0]?.delta?.tool_calls ?? []) as Array<{ index: number; id?: string }>);
    expect(toolDeltas.map((t) => [t.index, t.id])).toEqual([
      [0, "t1"],
      [1, "t2"],
      [1, undefined],
    ]);
    expect(out.map((c) => c.choices?.[0]?.delta?.content).filter(Boolean)).toEqual(["a", "after the tools"]);
    expect(out.at(-3).choices[0].finish_reason).toBe("tool_calls");
    expect(out.at(-2)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, prompt_tokens_details: { cached_tokens: 1, cache_write_tokens: 3 } },
    });
    expect(out.at(-1)).toBe("[DONE]");
  });

  it("without include_usage there is no usage chunk", () => {
    const out = chunks([start, { type: "usage", usage: { inputTokens: 1, outputTokens: 1 } }, { type: "finish", stopReason: "stop" }], {
      ...request,
      includeUsage: false,
    });
    expect(out.some((c) => c !== "[DONE]" && c.usage)).toBe(false);
  });

  it("an error after start is an error frame and no [DONE]", () => {
    const out = chunks([start, { type: "error", error: { kind: "timeout", message: "upstream timed out", status: 504 } }]);
    expect(out.at(-1)).toEqual({ error: { message: "upstream timed out", type: "timeout_error", param: null, code: "timeout" } });
    expect(out).not.toContain("[DONE]");
  });

  it("writes a text delta exactly as OpenAI's chunk, whatever characters the text has", () => {
    const text = 'a "quoted" \\ back\nslash\t\u0000\u001f \u2028 </script> é 🙂';
    const frames = parseSse(encodeStream(codec, request, [start, { type: "text_delta", index: 0, text }]));
    expect(frames[1]!.data).toBe(
      JSON.stringify({
        id: "id1",
        object: "chat.completion.chunk",
        created: 9,
        model: "m",
        choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }],
      }),
    );
  });

  it("events that stop without finish never end like a success", () => {
    const out = chunks([start, { type: "text_delta", index: 0, text: "x" }]);
    expect(out.at(-1)).toMatchObject({ error: { message: "stream ended early" } });
    expect(out).not.toContain("[DONE]");
  });
});

describe("openai-chat errors", () => {
  it("decodes OpenAI error bodies by status and keeps param and code", () => {
    expect(codec.decodeError(429, { error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } })).toEqual({
      kind: "rate_limit",
      message: "Rate limit reached",
      status: 429,
      code: "rate_limit_exceeded",
    });
    expect(codec.decodeError(400, { error: { message: "bad", type: "invalid_request_error", param: "messages", code: null } })).toEqual({
      kind: "invalid_request",
      message: "bad",
      status: 400,
      param: "messages",
    });
    expect(codec.decodeError(500, { error: { message: "oops", type: "server_error" } })).toMatchObject({ kind: "upstream", status: 502 });
    expect(codec.decodeError(503, { error: { message: "busy" } })).toMatchObject({ kind: "overloaded", status: 503 });
  });

  it("gives a clear message for HTML and text bodies, and never echoes a key", () => {
    const html = codec.decodeError(502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
    expect(html).toMatchObject({ kind: "upstream", status: 502 });
    expect(html.message).toContain("HTTP 502");
    expect(html.message).toContain("502 Bad Gateway");
    const leaked = codec.decodeError(401, {
      error: { message: "Incorrect API key provided: sk-proj-abcdefghijklmnop1234. Check it.", type: "invalid_request_error", code: "invalid_api_key" },
    });
    expect(leaked.kind).toBe("authentication");
    expect(leaked.message).not.toContain("abcdefghijklmnop1234");
  });
});

describe("openai-chat quirks of OpenAI-compatible servers", () => {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

  it("parallel calls that all reuse index 0 stay distinct calls when their ids differ", () => {
    const events = decodeStream(
      codec,
      chunk({ tool_calls: [{ index: 0, id: "a", type: "function", function: { name: "f", arguments: '{"x":1}' } }] }) +
        chunk({ tool_calls: [{ index: 0, id: "b", type: "function", function: { name: "g", arguments: '{"y":2}' } }] }) +
        chunk({}, "tool_calls") +
        "data: [DONE]\n\n",
    );
    expect([...collectParts(events).values()]).toEqual([
      { kind: "tool", text: '{"x":1}', id: "a", name: "f" },
      { kind: "tool", text: '{"y":2}', id: "b", name: "g" },
    ]);
  });

  it("a call whose id repeats on every delta stays one call", () => {
    const events = decodeStream(
      codec,
      chunk({ tool_calls: [{ index: 0, id: "a", function: { name: "f", arguments: '{"x":' } }] }) +
        chunk({ tool_calls: [{ index: 0, id: "a", function: { arguments: "1}" } }] }) +
        chunk({}, "tool_calls"),
    );
    expect([...collectParts(events).values()]).toEqual([{ kind: "tool", text: '{"x":1}', id: "a", name: "f" }]);
  });

  it("an error body that is a bare string still gives its message", () => {
    expect(codec.decodeError(400, { error: "model is required" })).toMatchObject({ kind: "invalid_request", message: "model is required" });
  });
});

describe("openai-chat validation messages", () => {
  it("says what content may be", () => {
    expect(rejects({ model: "m", messages: [{ role: "user", content: null }] })).toMatchObject({
      param: "messages[0].content",
      message: "messages[0].content must be a string or an array of content parts, got null",
    });
    expect(rejects({ model: "m", messages: [{ role: "user", content: [{ type: "text", text: 5 }] }] })).toMatchObject({
      param: "messages[0].content[0].text",
      message: expect.stringContaining("must be a string"),
    });
  });
});

describe("openai-chat leniency", () => {
  it("accepts the Responses-shaped tool_choice {type: function, name}", () => {
    expect(codec.decodeRequest({ ...base, tool_choice: { type: "function", name: "f" } }).toolChoice).toEqual({ type: "tool", name: "f" });
    expect(rejects({ ...base, tool_choice: { type: "allowed_tools", tools: [] } }).param).toBe("tool_choice");
  });
});

describe("openai-chat cache_control (gateway convention for Anthropic prompt caching)", () => {
  it("is kept in canonical from system and user parts, and never sent to OpenAI", () => {
    const req = codec.decodeRequest({
      model: "m",
      messages: [
        { role: "system", content: [{ type: "text", text: "long context", cache_control: { type: "ephemeral" } }] },
        { role: "user", content: [{ type: "text", text: "q", cache_control: { type: "ephemeral", ttl: "1h" } }] },
      ],
    });
    expect(req.system).toEqual([{ type: "text", text: "long context", cacheControl: { type: "ephemeral" } }]);
    expect(req.messages[0]!.content).toEqual([{ type: "text", text: "q", cacheControl: { type: "ephemeral", ttl: "1h" } }]);
    expect(JSON.stringify(codec.encodeRequest(req, { model: "gpt-4o" }).body)).not.toContain("cache");
  });
});
