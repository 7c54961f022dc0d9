import { readFileSync } from "node:fs";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from "@bitrouter/core";
import { BitrouterError } from "@bitrouter/core";
import { ANTHROPIC_FALLBACK_MAX_TOKENS, anthropicCodec as codec } from "../src/protocols/anthropic/index.js";
import { googleCodec } from "../src/protocols/google/index.js";
import { openaiChatCodec } from "../src/protocols/openai-chat/index.js";
import { openaiResponsesCodec } from "../src/protocols/openai-responses/index.js";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/anthropic/${name}`, import.meta.url), "utf8"));

/** Parses SSE text into {event, data} pairs with a real SSE parser. */
function parseSse(text: string): Array<{ event: string | undefined; data: Record<string, unknown> }> {
  const out: Array<{ event: string | undefined; data: Record<string, unknown> }> = [];
  const parser = createParser({ onEvent: (e) => out.push({ event: e.event, data: JSON.parse(e.data) }) });
  parser.feed(text);
  return out;
}

function encodeStream(events: StreamEvent[]): string {
  const encoder = codec.createStreamEncoder(baseRequest);
  return events.map((e) => encoder.encode(e)).join("") + encoder.end();
}

function decodeStream(sse: Array<{ event?: string; data: unknown }>): StreamEvent[] {
  const decoder = codec.createStreamDecoder();
  const events = sse.flatMap((e) => decoder.decode({ event: e.event, data: typeof e.data === "string" ? e.data : JSON.stringify(e.data) }));
  return [...events, ...decoder.end()];
}

/** Start events carry a clock reading: compare without it. */
const withoutCreated = (events: StreamEvent[]) => events.map((e) => (e.type === "start" ? { type: e.type, id: e.id, model: e.model } : e));

const baseRequest: CanonicalRequest = { model: "claude", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], stream: true };
const start: StreamEvent = { type: "start", id: "msg_1", model: "claude-x", created: 1 };

function thrown(fn: () => unknown): BitrouterError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BitrouterError);
    return e as BitrouterError;
  }
  throw new Error("expected an error");
}

describe("anthropic golden fixtures", () => {
  it("decodes the tool-use request and re-encodes the same wire body", () => {
    const f = fixture("request-tools.json");
    const canonical = codec.decodeRequest(f.wire);
    expect(canonical).toEqual(f.canonical);
    const { model: _m, ...wireRest } = f.wire;
    const up = codec.encodeRequest(canonical, { model: "claude-sonnet-4-5" });
    expect(up.path).toBe("/v1/messages");
    expect(up.headers).toEqual({ "anthropic-version": "2023-06-01" });
    expect(up.body).toEqual({ model: "claude-sonnet-4-5", ...wireRest });
  });

  it("decodes the tool_use response with cache usage, and encodes it back", () => {
    const f = fixture("response-tool-use.json");
    const canonical = codec.decodeResponse(f.wire);
    const { created, ...rest } = canonical;
    expect(typeof created).toBe("number");
    expect(rest).toEqual(f.canonical);
    expect(codec.encodeResponse(canonical, baseRequest)).toEqual(f.wire);
  });

  it("decodes the documented stream sequence (ping ignored, empty partial_json skipped)", () => {
    const f = fixture("stream-tool-use.json");
    expect(withoutCreated(decodeStream(f.sse))).toEqual(f.events);
  });

  it("maps the documented error body", () => {
    const f = fixture("error-overloaded.json");
    expect(codec.decodeError(f.status, f.wire)).toEqual(f.info);
    expect(codec.encodeError(f.info)).toEqual({ status: 529, body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } } });
  });
});

describe("anthropic decodeRequest validation", () => {
  const ok = { model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] };

  it("names the offending field", () => {
    expect(thrown(() => codec.decodeRequest({ ...ok, messages: "hi" })).param).toBe("messages");
    const bad = thrown(() => codec.decodeRequest({ ...ok, messages: [{ role: "user", content: [{ type: "video" }] }] }));
    expect(bad.param).toBe("messages[0].content[0].type");
    expect(bad.message).toContain('"video"');
    expect(thrown(() => codec.decodeRequest({ ...ok, messages: [{ role: "tool", content: "x" }] })).param).toBe("messages[0].role");
    expect(thrown(() => codec.decodeRequest({ ...ok, max_tokens: 0 })).param).toBe("max_tokens");
    expect(thrown(() => codec.decodeRequest({ ...ok, temperature: "hot" })).param).toBe("temperature");
    expect(thrown(() => codec.decodeRequest({ model: 1, messages: [] })).param).toBe("model");
  });

  it("keeps a mid-conversation system-role message (newer API versions) in place; leading ones join the system prompt", () => {
    const req = codec.decodeRequest({
      ...ok,
      system: "a",
      messages: [
        { role: "system", content: "lead" },
        { role: "user", content: "hi" },
        { role: "system", content: [{ type: "text", text: "b" }] },
        { role: "user", content: "go" },
      ],
    });
    expect(req.system).toEqual([
      { type: "text", text: "a" },
      { type: "text", text: "lead" },
    ]);
    expect(req.messages.map((m) => m.role)).toEqual(["user", "system", "user"]);
    const wire = codec.encodeRequest(req, { model: "claude-x" }).body as { messages: unknown[] };
    expect(wire.messages[1]).toEqual({ role: "system", content: "b" });
    // Targets without such a message: OpenAI keeps it in place, Gemini appends it to systemInstruction.
    const chat = openaiChatCodec.encodeRequest(req, { model: "gpt-x" }).body as { messages: Array<{ role: string }> };
    expect(chat.messages.map((m) => m.role)).toEqual(["system", "system", "user", "system", "user"]);
    const responses = openaiResponsesCodec.encodeRequest(req, { model: "gpt-x" }).body as { input: Array<{ role?: string }> };
    expect(responses.input.map((m) => m.role)).toEqual(["user", "system", "user"]);
    const gemini = googleCodec.encodeRequest(req, { model: "gemini-x" }).body as { contents: unknown[]; systemInstruction: { parts: unknown[] } };
    expect(gemini.contents).toHaveLength(2);
    expect(gemini.systemInstruction.parts).toEqual([{ text: "a" }, { text: "lead" }, { text: "b" }]);
  });

  it("carries fields canonical cannot say (context_management, effort, adaptive thinking) to Anthropic only", () => {
    const body = { ...ok, max_tokens: 16_000, context_management: { edits: [] }, output_config: { effort: "high" } };
    const wire = codec.encodeRequest(codec.decodeRequest(body), { model: "claude-x" }).body;
    expect(wire).toMatchObject({ context_management: { edits: [] }, output_config: { effort: "high" } });
    expect(wire).not.toHaveProperty("thinking"); // no budget made up from an effort Anthropic understands
    const adaptive = codec.encodeRequest(codec.decodeRequest({ ...body, thinking: { type: "adaptive" } }), { model: "claude-x" }).body;
    expect(adaptive.thinking).toEqual({ type: "adaptive" });
    const chat = openaiChatCodec.encodeRequest(codec.decodeRequest(body), { model: "gpt-x" }).body;
    expect(chat).not.toHaveProperty("context_management");
    expect(chat).not.toHaveProperty("output_config");
    expect(chat.reasoning_effort).toBe("high");
  });

  it("rejects server tools with a clear error", () => {
    const err = thrown(() => codec.decodeRequest({ ...ok, tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 5 }] }));
    expect(err.kind).toBe("invalid_request");
    expect(err.param).toBe("tools[0].type");
    expect(err.message).toMatch(/server tool/);
  });

  it("accepts unknown extra fields from newer API versions", () => {
    const req = codec.decodeRequest({
      ...ok,
      service_tier: "auto",
      container: null,
      messages: [{ role: "user", content: [{ type: "text", text: "x", citations: null }] }],
    });
    expect(req.messages[0]!.content).toEqual([{ type: "text", text: "x" }]);
  });

  it("decodes images, documents, redacted thinking and tool errors", () => {
    const req = codec.decodeRequest({
      ...ok,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBOR" } },
            { type: "image", source: { type: "url", url: "https://example.com/a.jpg" }, cache_control: { type: "ephemeral", ttl: "1h" } },
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBER" }, title: "report.pdf" },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "hello" } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "redacted_thinking", data: "EmwKAhgB" },
            { type: "tool_use", id: "t1", name: "f", input: {} },
          ],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", is_error: true, content: [{ type: "text", text: "boom" }] }] },
      ],
    });
    expect(req.messages[0]!.content).toEqual([
      { type: "image", source: { kind: "base64", mediaType: "image/png", data: "iVBOR" } },
      { type: "image", source: { kind: "url", url: "https://example.com/a.jpg" }, cacheControl: { type: "ephemeral", ttl: "1h" } },
      { type: "file", source: { kind: "base64", mediaType: "application/pdf", data: "JVBER" }, mediaType: "application/pdf", filename: "report.pdf" },
      { type: "file", source: { kind: "base64", mediaType: "text/plain", data: Buffer.from("hello").toString("base64") }, mediaType: "text/plain" },
    ]);
    expect(req.messages[1]!.content).toEqual([
      { type: "reasoning", text: "", redactedData: "EmwKAhgB" },
      { type: "tool_call", id: "t1", name: "f", arguments: "{}" },
    ]);
    expect(req.messages[2]!.content).toEqual([{ type: "tool_result", toolCallId: "t1", isError: true, content: [{ type: "text", text: "boom" }] }]);
    // and the text document goes back out as a text source
    const body = codec.encodeRequest(req, { model: "m" }).body as { messages: Array<{ content: Array<Record<string, unknown>> }> };
    expect(body.messages[0]!.content[3]).toEqual({ type: "document", source: { type: "text", media_type: "text/plain", data: "hello" } });
  });

  it("maps tool_choice any/tool/none and output_config", () => {
    expect(codec.decodeRequest({ ...ok, tool_choice: { type: "any" } }).toolChoice).toEqual({ type: "required" });
    expect(codec.decodeRequest({ ...ok, tool_choice: { type: "tool", name: "f" } }).toolChoice).toEqual({ type: "tool", name: "f" });
    expect(codec.decodeRequest({ ...ok, tool_choice: { type: "none" } }).toolChoice).toEqual({ type: "none" });
    const schema = { type: "object", properties: { a: { type: "string" } } };
    expect(codec.decodeRequest({ ...ok, output_config: { format: { type: "json_schema", schema } } }).responseFormat).toEqual({
      type: "json_schema",
      name: "response",
      schema,
    });
    expect(codec.decodeRequest({ ...ok, thinking: { type: "disabled" } }).reasoning).toEqual({ enabled: false });
  });
});

describe("anthropic encodeRequest", () => {
  it("max_tokens: request, then the catalog default, then the documented fallback", () => {
    expect(codec.encodeRequest({ ...baseRequest, maxTokens: 77 }, { model: "m", defaultMaxTokens: 500 }).body.max_tokens).toBe(77);
    expect(codec.encodeRequest(baseRequest, { model: "m", defaultMaxTokens: 500 }).body.max_tokens).toBe(500);
    expect(codec.encodeRequest(baseRequest, { model: "m" }).body.max_tokens).toBe(ANTHROPIC_FALLBACK_MAX_TOKENS);
    expect(ANTHROPIC_FALLBACK_MAX_TOKENS).toBe(4096);
  });

  it("translates an OpenAI-style conversation: tool results first, unsigned reasoning dropped, parallel off", () => {
    const req: CanonicalRequest = {
      model: "x",
      stream: false,
      system: [{ type: "text", text: "sys" }],
      messages: [
        { role: "user", content: [{ type: "text", text: "q" }] },
        {
          role: "assistant",
          content: [
            { type: "reasoning", text: "thoughts from another provider" },
            { type: "tool_call", id: "call_1", name: "f", arguments: "" },
          ],
        },
        {
          role: "user",
          content: [
            { type: "text", text: "see result" },
            { type: "tool_result", toolCallId: "call_1", content: [{ type: "text", text: "42" }] },
          ],
        },
      ],
      tools: [{ name: "f", parameters: {} }],
      parallelToolCalls: false,
      responseFormat: { type: "json_object" },
      seed: 3,
    };
    const body = codec.encodeRequest(req, { model: "claude" }).body;
    expect(body).toEqual({
      model: "claude",
      max_tokens: 4096,
      system: "sys",
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: [{ type: "tool_use", id: "call_1", name: "f", input: {} }] },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "call_1", content: "42" },
            { type: "text", text: "see result" },
          ],
        },
      ],
      tools: [{ name: "f", input_schema: { type: "object" } }],
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
    });
  });

  it("skips a turn left empty by dropped parts", () => {
    const req: CanonicalRequest = {
      ...baseRequest,
      messages: [
        { role: "user", content: [{ type: "text", text: "q" }] },
        { role: "assistant", content: [{ type: "reasoning", text: "unsigned thoughts" }] },
        { role: "user", content: [{ type: "text", text: "again" }] },
      ],
    };
    expect(codec.encodeRequest(req, { model: "m" }).body.messages).toEqual([
      { role: "user", content: "q" },
      { role: "user", content: "again" },
    ]);
  });

  it("keeps tool order and schema key order", () => {
    const tools = ["zeta", "alpha", "mid"].map((name) => ({
      name,
      parameters: { type: "object", required: ["b"], properties: { b: { type: "string" }, a: { type: "number" } } },
    }));
    const body = codec.encodeRequest({ ...baseRequest, tools }, { model: "m" }).body as { tools: Array<{ name: string; input_schema: object }> };
    expect(body.tools.map((t) => t.name)).toEqual(["zeta", "alpha", "mid"]);
    expect(JSON.stringify(body.tools[0]!.input_schema)).toBe('{"type":"object","required":["b"],"properties":{"b":{"type":"string"},"a":{"type":"number"}}}');
  });

  it("thinking: effort becomes a budget below max_tokens; json_schema becomes output_config", () => {
    const body = codec.encodeRequest(
      {
        ...baseRequest,
        maxTokens: 4000,
        reasoning: { effort: "high" },
        responseFormat: { type: "json_schema", name: "x", schema: { type: "object", properties: { a: { type: "object", properties: {} } } } },
      },
      { model: "m" },
    ).body;
    expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 3999 });
    // Anthropic rejects object schemas that do not set additionalProperties: false.
    const closed = { type: "object", properties: { a: { type: "object", properties: {}, additionalProperties: false } }, additionalProperties: false };
    expect(body.output_config).toEqual({ format: { type: "json_schema", schema: closed } });
    expect(codec.encodeRequest({ ...baseRequest, maxTokens: 500, reasoning: { effort: "low" } }, { model: "m" }).body.thinking).toBeUndefined();
  });

  it("thinking drops sampling changes Anthropic rejects with it; a forced tool drops thinking", () => {
    const req: CanonicalRequest = { ...baseRequest, maxTokens: 8000, temperature: 0.2, topP: 0.5, topK: 5, reasoning: { budgetTokens: 2000 } };
    const body = codec.encodeRequest(req, { model: "m" }).body;
    expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 2000 });
    expect([body.temperature, body.top_p, body.top_k]).toEqual([undefined, undefined, undefined]);
    const forced = codec.encodeRequest(
      { ...req, tools: [{ name: "f", parameters: { type: "object" } }], toolChoice: { type: "tool", name: "f" } },
      { model: "m" },
    ).body;
    expect(forced.thinking).toBeUndefined();
    expect(forced.tool_choice).toEqual({ type: "tool", name: "f" });
    expect([forced.temperature, forced.top_p, forced.top_k]).toEqual([0.2, 0.5, 5]);
  });

  it("rejects malformed tool-call arguments and unsupported files, naming the field", () => {
    const bad: CanonicalRequest = {
      ...baseRequest,
      messages: [{ role: "assistant", content: [{ type: "tool_call", id: "a", name: "f", arguments: "{oops" }] }],
    };
    expect(thrown(() => codec.encodeRequest(bad, { model: "m" })).param).toBe("messages[0].content[0].arguments");
    const audio: CanonicalRequest = {
      ...baseRequest,
      messages: [{ role: "user", content: [{ type: "file", source: { kind: "base64", mediaType: "audio/wav", data: "UklG" } }] }],
    };
    expect(thrown(() => codec.encodeRequest(audio, { model: "m" })).message).toContain("audio/wav");
  });
});

describe("anthropic responses", () => {
  const response: CanonicalResponse = {
    id: "resp_1",
    model: "gpt-x",
    created: 1,
    content: [
      { type: "reasoning", text: "hmm", signature: "sig" },
      { type: "text", text: "hello" },
      { type: "tool_call", id: "call_a", name: "f", arguments: "not json" },
    ],
    stopReason: "length",
    usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 30, reasoningTokens: 20 },
  };

  it("encodes usage with cache tokens subtracted from input_tokens and thinking tokens kept", () => {
    const body = codec.encodeResponse(response, baseRequest);
    expect(body.usage).toEqual({
      input_tokens: 70,
      output_tokens: 50,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 30,
      output_tokens_details: { thinking_tokens: 20 },
    });
    expect(body.stop_reason).toBe("max_tokens");
    expect((body.content as unknown[])[2]).toEqual({ type: "tool_use", id: "call_a", name: "f", input: {} });
  });

  it("maps every stop reason", () => {
    const cases: Array<[string, string]> = [
      ["end_turn", "stop"],
      ["max_tokens", "length"],
      ["stop_sequence", "stop_sequence"],
      ["tool_use", "tool_calls"],
      ["pause_turn", "stop"],
      ["refusal", "content_filter"],
    ];
    for (const [wire, canonical] of cases) {
      expect(codec.decodeResponse({ id: "m", model: "c", content: [], stop_reason: wire, usage: { input_tokens: 1, output_tokens: 1 } }).stopReason).toBe(
        canonical,
      );
    }
    const withSeq = codec.decodeResponse({ id: "m", model: "c", content: [], stop_reason: "stop_sequence", stop_sequence: "END", usage: {} });
    expect(withSeq.stopSequence).toBe("END");
  });
});

describe("anthropic errors", () => {
  it("maps each kind to its type and status", () => {
    const cases: Array<[Parameters<typeof codec.encodeError>[0], number, string]> = [
      [{ kind: "invalid_request", message: "m", status: 400 }, 400, "invalid_request_error"],
      [{ kind: "authentication", message: "m", status: 401 }, 401, "authentication_error"],
      [{ kind: "permission", message: "m", status: 403 }, 403, "permission_error"],
      [{ kind: "not_found", message: "m", status: 404 }, 404, "not_found_error"],
      [{ kind: "payload_too_large", message: "m", status: 413 }, 413, "request_too_large"],
      [{ kind: "rate_limit", message: "m", status: 429 }, 429, "rate_limit_error"],
      [{ kind: "internal", message: "m", status: 500 }, 500, "api_error"],
      [{ kind: "upstream", message: "m", status: 502 }, 502, "api_error"],
      [{ kind: "overloaded", message: "m", status: 503 }, 529, "overloaded_error"],
      [{ kind: "guardrail", message: "m", status: 403 }, 403, "permission_error"],
    ];
    for (const [info, status, type] of cases) {
      expect(codec.encodeError(info)).toEqual({ status, body: { type: "error", error: { type, message: "m" } } });
    }
  });

  it("never passes an API key from upstream error text on", () => {
    const key = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
    const info = codec.decodeError(401, { type: "error", error: { type: "authentication_error", message: `invalid x-api-key ${key}` } });
    expect(info.message).not.toContain("AbCdEfGh");
    const html = codec.decodeError(500, `<pre>upstream echo: Authorization: Bearer ${key}</pre>`);
    expect(html.message).not.toContain("AbCdEfGh");
  });

  it("gives a clear message for an HTML upstream error", () => {
    const info = codec.decodeError(502, "<html><body>Bad gateway</body></html>");
    expect(info.kind).toBe("upstream");
    expect(info.message).toContain("HTTP 502");
    expect(info.message).toContain("Bad gateway");
    expect(codec.decodeError(401, { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }).kind).toBe("authentication");
  });
});

describe("anthropic stream encoder", () => {
  it("emits the exact event sequence Claude Code expects", () => {
    const sse = parseSse(
      encodeStream([
        start,
        { type: "usage", usage: { inputTokens: 10, outputTokens: 0 } },
        { type: "text_delta", index: 0, text: "Hel" },
        { type: "text_delta", index: 0, text: "lo" },
        { type: "finish", stopReason: "stop", usage: { inputTokens: 10, outputTokens: 2 } },
      ]),
    );
    expect(sse.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(sse.every((e) => e.event === e.data.type)).toBe(true);
    expect(sse[0]!.data.message).toMatchObject({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-x",
      content: [],
      usage: { input_tokens: 10, output_tokens: 0 },
    });
    expect(sse[5]!.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { input_tokens: 10, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  });

  /** Checks the structural rules: one message_start first, blocks never overlap, indices 0..n-1 in order. */
  function checkStructure(sse: ReturnType<typeof parseSse>) {
    expect(sse[0]!.event).toBe("message_start");
    expect(sse.filter((e) => e.event === "message_start")).toHaveLength(1);
    let open: number | undefined;
    let next = 0;
    for (const e of sse) {
      if (e.event === "content_block_start") {
        expect(open).toBeUndefined();
        expect(e.data.index).toBe(next++);
        open = e.data.index as number;
      } else if (e.event === "content_block_delta") {
        expect(e.data.index).toBe(open);
      } else if (e.event === "content_block_stop") {
        expect(e.data.index).toBe(open);
        open = undefined;
      }
    }
    expect(open).toBeUndefined();
  }

  it("serialises interleaved tool calls into non-overlapping blocks", () => {
    const sse = parseSse(
      encodeStream([
        start,
        { type: "tool_call_start", index: 0, id: "call_a", name: "a" },
        { type: "tool_call_start", index: 1, id: "call_b", name: "b" },
        { type: "tool_call_delta", index: 0, argumentsDelta: '{"x":' },
        { type: "tool_call_delta", index: 1, argumentsDelta: '{"y":2}' },
        { type: "tool_call_delta", index: 0, argumentsDelta: "1}" },
        { type: "finish", stopReason: "tool_calls", usage: { inputTokens: 5, outputTokens: 5 } },
      ]),
    );
    checkStructure(sse);
    const blocks = sse.filter((e) => e.event === "content_block_start").map((e) => e.data.content_block);
    expect(blocks).toEqual([
      { type: "tool_use", id: "call_a", name: "a", input: {} },
      { type: "tool_use", id: "call_b", name: "b", input: {} },
    ]);
    const json = (i: number) =>
      sse
        .filter((e) => e.event === "content_block_delta" && e.data.index === i)
        .map((e) => (e.data.delta as { partial_json: string }).partial_json)
        .join("");
    expect(json(0)).toBe('{"x":1}');
    expect(json(1)).toBe('{"y":2}');
    expect(sse.at(-2)!.data.delta).toEqual({ stop_reason: "tool_use", stop_sequence: null });
    expect(sse.at(-1)!.event).toBe("message_stop");
  });

  it("handles text, then a tool call with empty arguments, then more text", () => {
    const sse = parseSse(
      encodeStream([
        start,
        { type: "text_delta", index: 0, text: "Let me look." },
        { type: "tool_call_start", index: 1, id: "call_a", name: "now" },
        { type: "part_end", index: 1 },
        { type: "text_delta", index: 2, text: "Done." },
        { type: "finish", stopReason: "tool_calls" },
      ]),
    );
    checkStructure(sse);
    expect(sse.filter((e) => e.event === "content_block_start").map((e) => (e.data.content_block as { type: string }).type)).toEqual([
      "text",
      "tool_use",
      "text",
    ]);
    // usage only in finish (here: none at all) still yields a valid message_delta
    expect(sse.at(-2)!.data.usage).toMatchObject({ output_tokens: 0 });
  });

  it("streams reasoning with its signature, and redacted thinking as its own block", () => {
    const sse = parseSse(
      encodeStream([
        start,
        { type: "reasoning_delta", index: 0, text: "think" },
        { type: "reasoning_signature", index: 0, signature: "sig" },
        { type: "reasoning_signature", index: 1, redactedData: "opaque" },
        { type: "text_delta", index: 2, text: "answer" },
        { type: "finish", stopReason: "stop", usage: { inputTokens: 1, outputTokens: 3, cacheReadTokens: 0 } },
      ]),
    );
    checkStructure(sse);
    const deltas = sse.filter((e) => e.event === "content_block_delta").map((e) => e.data.delta);
    expect(deltas).toEqual([
      { type: "thinking_delta", thinking: "think" },
      { type: "signature_delta", signature: "sig" },
      { type: "text_delta", text: "answer" },
    ]);
    expect(sse.filter((e) => e.event === "content_block_start")[1]!.data.content_block).toEqual({ type: "redacted_thinking", data: "opaque" });
  });

  it("streams the answer as soon as it starts after reasoning, even without part_end (OpenAI chat style)", () => {
    const encoder = codec.createStreamEncoder(baseRequest);
    encoder.encode(start);
    encoder.encode({ type: "reasoning_delta", index: 0, text: "hmm" });
    const out = parseSse(encoder.encode({ type: "text_delta", index: 1, text: "Answer" }));
    expect(out.map((e) => e.event)).toEqual(["content_block_stop", "content_block_start", "content_block_delta"]);
    expect(out[2]!.data).toEqual({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Answer" } });
  });

  it("text deltas after an early close continue in a new text block, never an overlapping one", () => {
    const sse = parseSse(
      encodeStream([
        start,
        { type: "text_delta", index: 0, text: "a" },
        { type: "tool_call_start", index: 1, id: "t", name: "f" },
        { type: "text_delta", index: 0, text: "b" },
        { type: "tool_call_delta", index: 1, argumentsDelta: "{}" },
        { type: "finish", stopReason: "tool_calls" },
      ]),
    );
    checkStructure(sse);
    const text = sse
      .filter((e) => e.event === "content_block_delta" && (e.data.delta as { type: string }).type === "text_delta")
      .map((e) => (e.data.delta as { text: string }).text);
    expect(text.join("")).toBe("ab");
  });

  it("after start, an error ends the stream with an error event and no message_stop", () => {
    const sse = parseSse(encodeStream([start, { type: "error", error: { kind: "overloaded", message: "busy", status: 503 } }]));
    expect(sse.map((e) => e.event)).toEqual(["message_start", "error"]);
    expect(sse[1]!.data).toEqual({ type: "error", error: { type: "overloaded_error", message: "busy" } });
  });

  it("a stream that ends without finish ends with an error, not message_stop", () => {
    const sse = parseSse(encodeStream([start, { type: "text_delta", index: 0, text: "partial" }]));
    expect(sse.at(-1)!.event).toBe("error");
    expect(sse.some((e) => e.event === "message_stop")).toBe(false);
  });
});

describe("anthropic stream decoder", () => {
  it("turns a mid-stream error event into a canonical error", () => {
    const events = decodeStream([
      { event: "message_start", data: { type: "message_start", message: { id: "m", model: "c", usage: { input_tokens: 1, output_tokens: 1 } } } },
      { event: "error", data: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } } },
    ]);
    expect(events.at(-1)).toEqual({ type: "error", error: { kind: "overloaded", message: "Overloaded", status: 503 } });
  });

  it("reports a truncated stream as an error", () => {
    const events = decodeStream([
      { event: "message_start", data: { type: "message_start", message: { id: "m", model: "c", usage: { input_tokens: 1, output_tokens: 1 } } } },
      { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } },
    ]);
    expect(events.at(-1)).toEqual({ type: "error", error: { kind: "upstream", message: "stream ended early", status: 502 } });
  });

  it("gives a tool call without argument deltas the arguments {}", () => {
    const events = decodeStream([
      { event: "message_start", data: { type: "message_start", message: { id: "m", model: "c", usage: { input_tokens: 1, output_tokens: 1 } } } },
      { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "t", name: "now", input: {} } } },
      { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
      { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 3 } } },
      { event: "message_stop", data: { type: "message_stop" } },
    ]);
    expect(events.filter((e) => e.type === "tool_call_delta")).toEqual([{ type: "tool_call_delta", index: 0, argumentsDelta: "{}" }]);
  });
});
