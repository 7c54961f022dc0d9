/**
 * Tool calls end to end: each SDK declares a tool, each provider protocol answers with two parallel
 * calls, and the SDK must see both, with their names and arguments, distinct and in order.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, Type } from "@google/genai";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

let mock: MockUpstream;
let server: TestServer;
beforeAll(async () => {
  mock = await startMock();
  server = await startTestServer(providersYaml(mock));
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const CALLS = [
  { id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}', chunks: ['{"ci', 'ty":"Paris"}'] },
  { id: "call_b", name: "get_weather", arguments: '{"city":"Tokyo"}', chunks: ['{"city":', '"Tokyo"}'] },
];
const SCHEMA = { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] };

type Call = { name: string; args: unknown };

const CLIENTS: Record<string, (model: string, stream: boolean) => Promise<Call[]>> = {
  async "openai-chat"(model, stream) {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "x", maxRetries: 0 });
    const params = {
      model,
      messages: [{ role: "user" as const, content: "weather?" }],
      tools: [{ type: "function" as const, function: { name: "get_weather", parameters: SCHEMA } }],
    };
    if (!stream) {
      const r = await client.chat.completions.create(params);
      expect(r.choices[0]!.finish_reason).toBe("tool_calls");
      return (r.choices[0]!.message.tool_calls ?? []).map((c) => ({
        name: c.type === "function" ? c.function.name : "",
        args: JSON.parse(c.type === "function" ? c.function.arguments : "{}"),
      }));
    }
    const runner = client.chat.completions.stream(params);
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    return (final.choices[0]!.message.tool_calls ?? []).map((c) => ({
      name: c.type === "function" ? c.function.name : "",
      args: JSON.parse(c.type === "function" ? c.function.arguments : "{}"),
    }));
  },
  async "openai-responses"(model, stream) {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "x", maxRetries: 0 });
    const params = { model, input: "weather?", tools: [{ type: "function" as const, name: "get_weather", parameters: SCHEMA, strict: false }] };
    const r = stream ? await client.responses.stream(params).finalResponse() : await client.responses.create(params);
    return r.output
      .filter((o) => o.type === "function_call")
      .map((o) => ({ name: o.type === "function_call" ? o.name : "", args: JSON.parse(o.type === "function_call" ? o.arguments : "{}") }));
  },
  async anthropic(model, stream) {
    const client = new Anthropic({ baseURL: server.url, apiKey: "x", maxRetries: 0 });
    const params = {
      model,
      max_tokens: 100,
      messages: [{ role: "user" as const, content: "weather?" }],
      tools: [{ name: "get_weather", input_schema: SCHEMA }],
    };
    const m = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
    expect(m.stop_reason).toBe("tool_use");
    return m.content
      .filter((b) => b.type === "tool_use")
      .map((b) => ({ name: b.type === "tool_use" ? b.name : "", args: b.type === "tool_use" ? b.input : null }));
  },
  async google(model, stream) {
    const ai = new GoogleGenAI({ apiKey: "x", httpOptions: { baseUrl: server.url } });
    const params = {
      model,
      contents: "weather?",
      config: {
        tools: [
          {
            functionDeclarations: [{ name: "get_weather", parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ["city"] } }],
          },
        ],
      },
    };
    const calls: Call[] = [];
    if (!stream) {
      const r = await ai.models.generateContent(params);
      for (const c of r.functionCalls ?? []) calls.push({ name: c.name ?? "", args: c.args });
      return calls;
    }
    for await (const chunk of await ai.models.generateContentStream(params))
      for (const c of chunk.functionCalls ?? []) calls.push({ name: c.name ?? "", args: c.args });
    return calls;
  },
};

const TARGETS = ["oai:gpt-test", "ant:claude-test", "goo:gemini-test"];

describe.each(Object.keys(CLIENTS))("%s SDK, parallel tool calls", (inbound) => {
  it.each(
    TARGETS.flatMap(
      (t) =>
        [
          [t, false],
          [t, true],
        ] as const,
    ),
  )("via %s (stream=%s)", async (target, stream) => {
    mock.enqueue({ toolCalls: CALLS });
    const calls = await CLIENTS[inbound]!(target, stream);
    expect(calls).toEqual([
      { name: "get_weather", args: { city: "Paris" } },
      { name: "get_weather", args: { city: "Tokyo" } },
    ]);
    // The upstream received the tool declaration in its own protocol.
    expect(JSON.stringify(mock.requests[0]!.body)).toContain("get_weather");
  });
});
