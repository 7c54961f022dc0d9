import { readFileSync } from "node:fs";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import type { CanonicalRequest, CanonicalResponse, JsonObject, StreamEvent } from "@bitrouter/core";
import { BitrouterError } from "@bitrouter/core";
import { googleCodec as codec, toGeminiSchema } from "../src/protocols/google/index.js";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/google/${name}`, import.meta.url), "utf8"));

function parseSse(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const parser = createParser({
    onEvent: (e) => {
      expect(e.event).toBeUndefined(); // Gemini SSE is data-only
      out.push(JSON.parse(e.data));
    },
  });
  parser.feed(text);
  return out;
}

const baseRequest: CanonicalRequest = { model: "g", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], stream: true };
const start: StreamEvent = { type: "start", id: "r1", model: "gemini-x", created: 1 };

function encodeStream(events: StreamEvent[]): string {
  const encoder = codec.createStreamEncoder(baseRequest);
  return events.map((e) => encoder.encode(e)).join("") + encoder.end();
}

function decodeStream(sse: Array<{ data: unknown }>): StreamEvent[] {
  const decoder = codec.createStreamDecoder();
  const events = sse.flatMap((e) => decoder.decode({ data: typeof e.data === "string" ? e.data : JSON.stringify(e.data) }));
  return [...events, ...decoder.end()];
}

const withoutCreated = (events: StreamEvent[]) => events.map((e) => (e.type === "start" ? { type: e.type, id: e.id, model: e.model } : e));

function thrown(fn: () => unknown): BitrouterError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BitrouterError);
    return e as BitrouterError;
  }
  throw new Error("expected an error");
}

describe("google golden fixtures", () => {
  it("decodes the function-calling request (model from the URL) and re-encodes it", () => {
    const f = fixture("request-function-calling.json");
    const canonical = codec.decodeRequest(f.wire, f.options);
    expect(canonical).toEqual(f.canonical);
    const up = codec.encodeRequest(canonical, { model: "gemini-2.5-flash" });
    expect(up.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    // Synthesised call ids are sent along so calls and responses stay paired.
    const expected = structuredClone(f.wire);
    expected.contents[1].parts[0].functionCall = { id: "call_0", ...expected.contents[1].parts[0].functionCall };
    expected.contents[2].parts[0].functionResponse = { id: "call_0", ...expected.contents[2].parts[0].functionResponse };
    expect(up.body).toEqual(expected);
  });

  it("decodes parallel id-less function calls with finishReason STOP as tool_calls, and encodes back", () => {
    const f = fixture("response-function-call.json");
    const { created: _c, ...canonical } = codec.decodeResponse(f.wire);
    expect(canonical).toEqual(f.canonical);
    const back = codec.encodeResponse({ ...canonical, created: 0 }, baseRequest) as { candidates: Array<{ content: { parts: JsonObject[] } }> };
    expect(back.candidates[0]!.content.parts[1]).toEqual({ functionCall: { id: "call_0", name: "get_current_temperature", args: { location: "London" } } });
    expect(back).toMatchObject({ usageMetadata: f.wire.usageMetadata, responseId: f.wire.responseId });
  });

  it("decodes the streamed chunks into one text part", () => {
    const f = fixture("stream-text.json");
    expect(withoutCreated(decodeStream(f.sse))).toEqual(f.events);
  });

  it("maps the documented error body", () => {
    const f = fixture("error-invalid-argument.json");
    expect(codec.decodeError(f.status, f.wire)).toEqual(f.info);
    expect(codec.encodeError(f.info)).toEqual({ status: 400, body: f.wire });
  });
});

describe("google decodeRequest", () => {
  it("requires the model from the URL and validates parts, naming the field", () => {
    expect(thrown(() => codec.decodeRequest({ contents: [] })).param).toBe("model");
    const bad = thrown(() => codec.decodeRequest({ contents: [{ role: "user", parts: [{ executableCode: { code: "1" } }] }] }, { model: "m" }));
    expect(bad.param).toBe("contents[0].parts[0]");
    expect(thrown(() => codec.decodeRequest({ contents: [{ role: "system", parts: [] }] }, { model: "m" })).param).toBe("contents[0].role");
    expect(thrown(() => codec.decodeRequest({ contents: [], generationConfig: { candidateCount: 2 } }, { model: "m" })).param).toBe(
      "generationConfig.candidateCount",
    );
    expect(thrown(() => codec.decodeRequest({ contents: [], tools: [{ googleSearch: {} }] }, { model: "m" })).param).toBe("tools[0].googleSearch");
  });

  it("reads stream from the options, media parts, JSON mode and thinking off", () => {
    const req = codec.decodeRequest(
      {
        contents: [
          {
            parts: [
              { inlineData: { mimeType: "image/jpeg", data: "/9j/" } },
              { fileData: { mimeType: "application/pdf", fileUri: "https://generativelanguage.googleapis.com/v1beta/files/abc" } },
            ],
          },
        ],
        generationConfig: { responseMimeType: "application/json", thinkingConfig: { thinkingBudget: 0 }, candidateCount: 1 },
        futureField: { x: 1 },
      },
      { model: "models/gemini-2.0-flash", stream: true },
    );
    expect(req.model).toBe("gemini-2.0-flash");
    expect(req.stream).toBe(true);
    expect(req.messages[0]!.content).toEqual([
      { type: "image", source: { kind: "base64", mediaType: "image/jpeg", data: "/9j/" } },
      { type: "file", source: { kind: "url", url: "https://generativelanguage.googleapis.com/v1beta/files/abc" }, mediaType: "application/pdf" },
    ]);
    expect(req.responseFormat).toEqual({ type: "json_object" });
    expect(req.reasoning).toEqual({ enabled: false });
  });

  it("maps function calling modes", () => {
    const mode = (functionCallingConfig: object) => codec.decodeRequest({ contents: [], toolConfig: { functionCallingConfig } }, { model: "m" }).toolChoice;
    expect(mode({ mode: "AUTO" })).toEqual({ type: "auto" });
    expect(mode({ mode: "ANY" })).toEqual({ type: "required" });
    expect(mode({ mode: "NONE" })).toEqual({ type: "none" });
    expect(mode({ mode: "VALIDATED" })).toEqual({ type: "auto" });
    expect(mode({ mode: "ANY", allowedFunctionNames: ["f"] })).toEqual({ type: "tool", name: "f" });
  });

  it("accepts parametersJsonSchema and responseJsonSchema as plain JSON Schema", () => {
    const schema = { type: "object", properties: { a: { type: "string" } }, additionalProperties: false };
    const req = codec.decodeRequest(
      {
        contents: [],
        tools: [{ functionDeclarations: [{ name: "f", parametersJsonSchema: schema }, { name: "noargs" }] }],
        generationConfig: { responseMimeType: "application/json", responseJsonSchema: schema },
      },
      { model: "m" },
    );
    expect(req.tools).toEqual([
      { name: "f", parameters: schema },
      { name: "noargs", parameters: { type: "object", properties: {} } },
    ]);
    expect(req.responseFormat).toEqual({ type: "json_schema", name: "response", schema });
  });
});

describe("google encodeRequest", () => {
  it("fills functionResponse.name from the matching earlier call (OpenAI tool messages carry no name)", () => {
    const req: CanonicalRequest = {
      model: "x",
      stream: true,
      messages: [
        { role: "user", content: [{ type: "text", text: "weather?" }] },
        {
          role: "assistant",
          content: [
            { type: "tool_call", id: "call_A", name: "weather", arguments: '{"city":"Paris"}' },
            { type: "tool_call", id: "call_B", name: "time", arguments: "" },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", toolCallId: "call_B", content: [{ type: "text", text: "noon" }] },
            { type: "tool_result", toolCallId: "call_A", content: [{ type: "text", text: '{"temp":20}' }], isError: false },
          ],
        },
      ],
    };
    const up = codec.encodeRequest(req, { model: "gemini-2.5-pro" });
    expect(up.path).toBe("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
    expect((up.body.contents as JsonObject[])[2]).toEqual({
      role: "user",
      parts: [
        { functionResponse: { id: "call_B", name: "time", response: { output: "noon" } } },
        { functionResponse: { id: "call_A", name: "weather", response: { temp: 20 } } },
      ],
    });
    expect((up.body.contents as JsonObject[])[1]).toEqual({
      role: "model",
      parts: [{ functionCall: { id: "call_A", name: "weather", args: { city: "Paris" } } }, { functionCall: { id: "call_B", name: "time", args: {} } }],
    });
    const orphan: CanonicalRequest = { ...req, messages: [{ role: "user", content: [{ type: "tool_result", toolCallId: "zzz", content: [] }] }] };
    expect(thrown(() => codec.encodeRequest(orphan, { model: "g" })).param).toBe("messages[0].content[0]");
  });

  it("gives URL media a mimeType: known, guessed from the extension, image/jpeg for images, else none", () => {
    const req: CanonicalRequest = {
      ...baseRequest,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { kind: "url", url: "https://example.com/cat.PNG?size=2" } },
            { type: "image", source: { kind: "url", url: "https://example.com/signed/abc" } },
            { type: "file", source: { kind: "url", url: "gs://bucket/report" }, mediaType: "application/pdf" },
            { type: "file", source: { kind: "url", url: "https://generativelanguage.googleapis.com/v1beta/files/x1" } },
          ],
        },
      ],
    };
    expect((codec.encodeRequest(req, { model: "g" }).body.contents as JsonObject[])[0]!.parts).toEqual([
      { fileData: { mimeType: "image/png", fileUri: "https://example.com/cat.PNG?size=2" } },
      { fileData: { mimeType: "image/jpeg", fileUri: "https://example.com/signed/abc" } },
      { fileData: { mimeType: "application/pdf", fileUri: "gs://bucket/report" } },
      { fileData: { fileUri: "https://generativelanguage.googleapis.com/v1beta/files/x1" } },
    ]);
  });

  it("skips a turn left empty by dropped parts (reasoning sent by the user)", () => {
    const req: CanonicalRequest = { ...baseRequest, messages: [{ role: "user", content: [{ type: "reasoning", text: "x" }] }, ...baseRequest.messages] };
    expect(codec.encodeRequest(req, { model: "g" }).body.contents).toEqual([{ role: "user", parts: [{ text: "hi" }] }]);
  });

  it("sends a parameterless tool without a schema and gives a typeless schema its object type", () => {
    const req: CanonicalRequest = {
      ...baseRequest,
      tools: [
        { name: "ping", parameters: {} },
        { name: "empty", parameters: { type: "object", properties: {}, additionalProperties: false } },
        { name: "typeless", description: "no type", parameters: { properties: { q: { type: "string" } }, required: ["q"] } },
      ],
      toolChoice: { type: "required" },
    };
    const body = codec.encodeRequest(req, { model: "g" }).body;
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          { name: "ping" },
          { name: "empty" },
          { name: "typeless", description: "no type", parameters: { type: "OBJECT", properties: { q: { type: "STRING" } }, required: ["q"] } },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });
  });

  it("sanitises JSON Schema to Gemini's subset: $ref inlined, nullable, const, unsupported keys dropped", () => {
    const schema: JsonObject = {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      additionalProperties: false,
      strict: true,
      properties: {
        name: { type: ["string", "null"], format: "email", minLength: 1 },
        kind: { const: "fixed" },
        tags: { type: "array", items: { $ref: "#/$defs/Tag" }, uniqueItems: true },
        size: { type: "integer", enum: [1, 2], exclusiveMinimum: 0 },
        pick: { oneOf: [{ type: "string" }, { type: "number" }] },
        maybe: { anyOf: [{ type: "boolean" }, { type: "null" }] },
        tree: { $ref: "#/$defs/Node" },
      },
      required: ["name", "ghost"],
      $defs: {
        Tag: { type: "object", properties: { label: { type: "string", format: "date-time" } }, additionalProperties: false },
        Node: { type: "object", properties: { child: { $ref: "#/$defs/Node" } } },
      },
    };
    const out = toGeminiSchema(schema);
    const props = out.properties as Record<string, JsonObject>;
    expect(Object.keys(out)).toEqual(["type", "properties", "required"]);
    expect(props.name).toEqual({ type: "STRING", minLength: 1, nullable: true });
    expect(props.kind).toEqual({ enum: ["fixed"], type: "STRING" });
    expect(props.tags).toEqual({ type: "ARRAY", items: { type: "OBJECT", properties: { label: { type: "STRING", format: "date-time" } } } });
    expect(props.size).toEqual({ type: "INTEGER" });
    expect(props.pick).toEqual({ anyOf: [{ type: "STRING" }, { type: "NUMBER" }] });
    expect(props.maybe).toEqual({ type: "BOOLEAN", nullable: true });
    expect(out.required).toEqual(["name"]);
    // property names that are also Object.prototype names stay plain properties
    const odd = toGeminiSchema({
      type: "object",
      properties: JSON.parse('{"__proto__":{"type":"string"},"toString":{"type":"number"}}'),
      required: ["__proto__", "constructor"],
    });
    expect(Object.keys(odd.properties as object)).toEqual(["__proto__", "toString"]);
    expect(odd.required).toEqual(["__proto__"]);
    // recursion is cut, never infinite
    expect(JSON.stringify(props.tree)).not.toContain("$ref");
  });

  it("maps JSON mode, json_schema, reasoning and drops what Gemini cannot express", () => {
    const body = codec.encodeRequest(
      {
        ...baseRequest,
        stream: false,
        system: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
        responseFormat: { type: "json_schema", name: "x", schema: { type: "object", properties: { a: { type: "string" } }, additionalProperties: false } },
        reasoning: { effort: "low", includeThoughts: true },
        user: "u1",
        parallelToolCalls: false,
      },
      { model: "models/gemini-2.5-flash" },
    ).body;
    expect(body).toEqual({
      contents: [{ role: "user", parts: [{ text: "hi" }] }],
      systemInstruction: { parts: [{ text: "a" }, { text: "b" }] },
      generationConfig: {
        responseMimeType: "application/json",
        responseSchema: { type: "OBJECT", properties: { a: { type: "STRING" } } },
        thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
      },
    });
  });
});

describe("google responses", () => {
  it("maps finish reasons, a blocked prompt and usage with thoughts", () => {
    const reason = (finishReason: string) => codec.decodeResponse({ candidates: [{ content: { parts: [{ text: "x" }] }, finishReason }] }).stopReason;
    expect(reason("STOP")).toBe("stop");
    expect(reason("MAX_TOKENS")).toBe("length");
    for (const r of ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"]) expect(reason(r)).toBe("content_filter");
    expect(reason("MALFORMED_FUNCTION_CALL")).toBe("error");
    expect(reason("OTHER")).toBe("stop");
    const blocked = codec.decodeResponse({ promptFeedback: { blockReason: "SAFETY" }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } });
    expect(blocked.stopReason).toBe("content_filter");
    expect(blocked.content).toEqual([]);
  });

  it("encodes thought signatures back onto the part they belong to", () => {
    const response: CanonicalResponse = {
      id: "r",
      model: "m",
      created: 0,
      content: [
        { type: "reasoning", text: "thinking", signature: "s1" },
        { type: "reasoning", text: "", signature: "s2" },
        { type: "tool_call", id: "c", name: "f", arguments: '{"a":1}' },
      ],
      stopReason: "tool_calls",
      usage: { inputTokens: 10, outputTokens: 20, reasoningTokens: 5 },
    };
    const body = codec.encodeResponse(response, baseRequest);
    expect(body.candidates).toEqual([
      {
        content: {
          role: "model",
          parts: [
            { text: "thinking", thought: true, thoughtSignature: "s1" },
            { functionCall: { id: "c", name: "f", args: { a: 1 } }, thoughtSignature: "s2" },
          ],
        },
        finishReason: "STOP",
        index: 0,
      },
    ]);
    expect(body.usageMetadata).toEqual({ promptTokenCount: 10, candidatesTokenCount: 15, totalTokenCount: 30, thoughtsTokenCount: 5 });
    const { created: _c, ...back } = codec.decodeResponse(body);
    const { created: _r, ...expected } = response;
    expect(back).toEqual(expected);
  });
});

describe("google errors", () => {
  it("maps each kind to a status string", () => {
    const cases: Array<[Parameters<typeof codec.encodeError>[0], string]> = [
      [{ kind: "invalid_request", message: "m", status: 400 }, "INVALID_ARGUMENT"],
      [{ kind: "authentication", message: "m", status: 401 }, "UNAUTHENTICATED"],
      [{ kind: "permission", message: "m", status: 403 }, "PERMISSION_DENIED"],
      [{ kind: "not_found", message: "m", status: 404 }, "NOT_FOUND"],
      [{ kind: "rate_limit", message: "m", status: 429 }, "RESOURCE_EXHAUSTED"],
      [{ kind: "internal", message: "m", status: 500 }, "INTERNAL"],
      [{ kind: "overloaded", message: "m", status: 503 }, "UNAVAILABLE"],
      [{ kind: "timeout", message: "m", status: 504 }, "DEADLINE_EXCEEDED"],
    ];
    for (const [info, status] of cases)
      expect(codec.encodeError(info)).toEqual({ status: info.status, body: { error: { code: info.status, message: "m", status } } });
  });

  it("never passes an API key from upstream error text on", () => {
    const info = codec.decodeError(400, {
      error: { code: 400, message: "API key AIzaSyA1234567890abcdefghijklmnopqrstu not valid", status: "INVALID_ARGUMENT" },
    });
    expect(info.message).not.toContain("AIzaSyA1234567890");
  });

  it("decodes known statuses, the array-wrapped form and non-JSON bodies", () => {
    expect(codec.decodeError(429, { error: { code: 429, message: "Quota exceeded", status: "RESOURCE_EXHAUSTED" } })).toEqual({
      kind: "rate_limit",
      message: "Quota exceeded",
      status: 429,
    });
    expect(codec.decodeError(503, [{ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } }]).kind).toBe("overloaded");
    const html = codec.decodeError(500, "<!DOCTYPE html><title>Error 500</title>");
    expect(html).toMatchObject({ kind: "upstream", status: 502 });
    expect(html.message).toContain("HTTP 500");
  });
});

describe("google stream encoder", () => {
  it("streams text and sends parallel tool calls whole, with finishReason and usage on the last chunk", () => {
    const chunks = parseSse(
      encodeStream([
        start,
        { type: "text_delta", index: 0, text: "Checking" },
        { type: "tool_call_start", index: 1, id: "call_a", name: "a" },
        { type: "tool_call_start", index: 2, id: "call_b", name: "b" },
        { type: "tool_call_delta", index: 1, argumentsDelta: '{"x":' },
        { type: "tool_call_delta", index: 2, argumentsDelta: '{"y":2}' },
        { type: "tool_call_delta", index: 1, argumentsDelta: "1}" },
        { type: "part_end", index: 2 },
        { type: "finish", stopReason: "tool_calls", usage: { inputTokens: 9, outputTokens: 7, cacheReadTokens: 4, reasoningTokens: 2 } },
      ]),
    );
    const parts = chunks.map((c) => (c.candidates as Array<{ content: { parts: unknown[] } }>)[0]!.content.parts);
    expect(parts).toEqual([
      [{ text: "Checking" }],
      [{ functionCall: { id: "call_b", name: "b", args: { y: 2 } } }],
      [{ functionCall: { id: "call_a", name: "a", args: { x: 1 } } }],
    ]);
    const last = chunks.at(-1)!;
    expect((last.candidates as Array<{ finishReason: string }>)[0]!.finishReason).toBe("STOP");
    expect(last.usageMetadata).toEqual({
      promptTokenCount: 9,
      candidatesTokenCount: 5,
      totalTokenCount: 16,
      cachedContentTokenCount: 4,
      thoughtsTokenCount: 2,
    });
    expect(last.responseId).toBe("r1");
  });

  it("an error after start is a data: {error} event and nothing that looks like a finish", () => {
    const chunks = parseSse(encodeStream([start, { type: "error", error: { kind: "rate_limit", message: "slow down", status: 429 } }]));
    expect(chunks).toEqual([{ error: { code: 429, message: "slow down", status: "RESOURCE_EXHAUSTED" } }]);
  });

  it("a stream without finish ends with an error", () => {
    const chunks = parseSse(encodeStream([start, { type: "text_delta", index: 0, text: "par" }]));
    expect(chunks.at(-1)).toEqual({ error: { code: 502, message: "stream ended early", status: "INTERNAL" } });
  });
});

describe("google stream decoder", () => {
  it("numbers id-less calls per response, marks STOP with calls as tool_calls, keeps signatures", () => {
    const events = decodeStream([
      { data: { candidates: [{ content: { role: "model", parts: [{ text: "plan", thought: true }] } }], responseId: "x", modelVersion: "m" } },
      {
        data: {
          candidates: [
            {
              content: {
                role: "model",
                parts: [{ functionCall: { name: "f", args: { a: 1 } }, thoughtSignature: "sig" }, { functionCall: { name: "g", args: {} } }],
              },
            },
          ],
        },
      },
      {
        data: {
          candidates: [{ content: { role: "model", parts: [] }, finishReason: "STOP" }],
          usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, thoughtsTokenCount: 1, totalTokenCount: 6 },
        },
      },
    ]);
    expect(withoutCreated(events)).toEqual([
      { type: "start", id: "x", model: "m" },
      { type: "reasoning_delta", index: 0, text: "plan" },
      { type: "part_end", index: 0 },
      { type: "reasoning_signature", index: 1, signature: "sig" },
      { type: "part_end", index: 1 },
      { type: "tool_call_start", index: 2, id: "call_0", name: "f" },
      { type: "tool_call_delta", index: 2, argumentsDelta: '{"a":1}' },
      { type: "part_end", index: 2 },
      { type: "tool_call_start", index: 3, id: "call_1", name: "g" },
      { type: "tool_call_delta", index: 3, argumentsDelta: "{}" },
      { type: "part_end", index: 3 },
      { type: "usage", usage: { inputTokens: 3, outputTokens: 3, reasoningTokens: 1 } },
      { type: "finish", stopReason: "tool_calls", usage: { inputTokens: 3, outputTokens: 3, reasoningTokens: 1 } },
    ]);
  });

  it("turns a mid-stream error chunk into an error event, and a cut stream into one too", () => {
    const events = decodeStream([
      { data: { candidates: [{ content: { parts: [{ text: "a" }] } }] } },
      { data: { error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } } },
    ]);
    expect(events.at(-1)).toEqual({ type: "error", error: { kind: "overloaded", message: "The model is overloaded.", status: 503 } });
    const cut = decodeStream([{ data: { candidates: [{ content: { parts: [{ text: "a" }] } }] } }]);
    expect(cut.at(-1)).toEqual({ type: "error", error: { kind: "upstream", message: "stream ended early", status: 502 } });
  });

  it("a blocked prompt finishes with content_filter", () => {
    const events = decodeStream([
      { data: { promptFeedback: { blockReason: "PROHIBITED_CONTENT" }, usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 } } },
    ]);
    expect(events.at(-1)).toEqual({ type: "finish", stopReason: "content_filter", usage: { inputTokens: 4, outputTokens: 0 } });
  });
});
