// Gemini requests exactly as real clients write them (Gemini CLI, @google/genai users, @ai-sdk/google),
// translated for OpenAI and Anthropic upstreams.
import { describe, expect, it } from "vitest";
import type { JsonObject } from "@bitrouter/core";
import { anthropicCodec } from "../src/protocols/anthropic/index.js";
import { googleCodec } from "../src/protocols/google/index.js";
import { openaiChatCodec } from "../src/protocols/openai-chat/index.js";

const decode = (body: unknown) => googleCodec.decodeRequest(body, { model: "m", stream: false });

describe("Gemini upper-case schema types reach OpenAI and Anthropic lower-cased", () => {
  const upper = {
    type: "OBJECT",
    properties: {
      city: { type: "STRING", enum: ["STRING", "Paris"] },
      days: { type: "ARRAY", items: { type: "INTEGER" } },
      default: { type: "BOOLEAN", default: "OBJECT" },
    },
    required: ["city"],
  };
  const lower = {
    type: "object",
    properties: {
      city: { type: "string", enum: ["STRING", "Paris"] },
      days: { type: "array", items: { type: "integer" } },
      default: { type: "boolean", default: "OBJECT" },
    },
    required: ["city"],
  };
  const request = decode({
    contents: [{ role: "user", parts: [{ text: "weather?" }] }],
    tools: [{ functionDeclarations: [{ name: "get_weather", parametersJsonSchema: upper }] }],
    generationConfig: { responseMimeType: "application/json", responseJsonSchema: upper },
  });

  it("in function declarations (parametersJsonSchema)", () => {
    const openai = openaiChatCodec.encodeRequest(request, { model: "gpt" }).body as { tools: Array<{ function: { parameters: JsonObject } }> };
    expect(openai.tools[0]!.function.parameters).toEqual(lower);
    const anthropic = anthropicCodec.encodeRequest(request, { model: "claude" }).body as { tools: Array<{ input_schema: JsonObject }> };
    expect(anthropic.tools[0]!.input_schema).toEqual(lower);
  });

  it("in responseJsonSchema", () => {
    const openai = openaiChatCodec.encodeRequest(request, { model: "gpt" }).body as { response_format: { json_schema: { schema: JsonObject } } };
    expect(openai.response_format.json_schema.schema).toEqual(lower);
    const anthropic = anthropicCodec.encodeRequest(request, { model: "claude" }).body as { output_config: { format: { schema: JsonObject } } };
    expect(anthropic.output_config.format.schema).toMatchObject({ type: "object", properties: { city: { type: "string" } } });
  });
});

describe("@ai-sdk/google tool results ({name, content}) unwrap to their content", () => {
  // What @ai-sdk/google sends after a tool ran: the result wrapped as {name, content}.
  const body = (content: unknown) => ({
    contents: [
      { role: "user", parts: [{ text: "weather in Paris?" }] },
      { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }] },
      { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { name: "get_weather", content } } }] },
    ],
  });

  it("an object result reaches OpenAI and Anthropic as that object's JSON, not the wrapper's", () => {
    const request = decode(body({ temperature: 21, unit: "C" }));
    const openai = openaiChatCodec.encodeRequest(request, { model: "gpt" }).body as { messages: Array<{ role: string; content: unknown }> };
    expect(openai.messages.find((m) => m.role === "tool")!.content).toBe('{"temperature":21,"unit":"C"}');
    const anthropic = anthropicCodec.encodeRequest(request, { model: "claude" }).body as {
      messages: Array<{ content: Array<{ type: string; content?: unknown }> }>;
    };
    const result = anthropic.messages[2]!.content.find((b) => b.type === "tool_result")!;
    expect(JSON.stringify(result.content)).toContain('{\\"temperature\\":21,\\"unit\\":\\"C\\"}');
    expect(JSON.stringify(result.content)).not.toContain("content");
  });

  it("a text result reaches the upstream as plain text", () => {
    const request = decode(body("21 degrees"));
    const openai = openaiChatCodec.encodeRequest(request, { model: "gpt" }).body as { messages: Array<{ role: string; content: unknown }> };
    expect(openai.messages.find((m) => m.role === "tool")!.content).toBe("21 degrees");
  });
});
