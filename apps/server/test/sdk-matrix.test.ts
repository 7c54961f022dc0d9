/**
 * End to end: each official SDK (OpenAI chat + responses, Anthropic, Google) against the real server,
 * routed to each provider protocol of the mock upstream, stream and non-stream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
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

const TARGETS = [
  { name: "openai", model: "oai:gpt-test", path: "/v1/chat/completions" },
  { name: "anthropic", model: "ant:claude-test", path: "/v1/messages" },
  { name: "google", model: "goo:gemini-test", path: "/v1beta/models/gemini-test:generateContent" },
] as const;

const SCRIPT = { text: ["Hello", ", ", "world"], usage: { input: 12, output: 3 } };

type Answer = { text: string; inputTokens?: number | undefined; outputTokens?: number | undefined; finish?: string | null | undefined };

const CLIENTS: Record<string, { call(model: string, stream: boolean): Promise<Answer> }> = {
  "openai-chat": {
    async call(model, stream) {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      if (!stream) {
        const r = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Say hello" }] });
        return {
          text: r.choices[0]!.message.content ?? "",
          inputTokens: r.usage?.prompt_tokens,
          outputTokens: r.usage?.completion_tokens,
          finish: r.choices[0]!.finish_reason,
        };
      }
      const s = await client.chat.completions.create({
        model,
        messages: [{ role: "user", content: "Say hello" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let usage: OpenAI.CompletionUsage | undefined;
      let finish: string | null = null;
      for await (const chunk of s) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, inputTokens: usage?.prompt_tokens, outputTokens: usage?.completion_tokens, finish };
    },
  },
  "openai-responses": {
    async call(model, stream) {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      if (!stream) {
        const r = await client.responses.create({ model, input: "Say hello" });
        return { text: r.output_text, inputTokens: r.usage?.input_tokens, outputTokens: r.usage?.output_tokens, finish: r.status };
      }
      const s = client.responses.stream({ model, input: "Say hello" });
      let text = "";
      for await (const event of s) if (event.type === "response.output_text.delta") text += event.delta;
      const final = await s.finalResponse();
      return { text, inputTokens: final.usage?.input_tokens, outputTokens: final.usage?.output_tokens, finish: final.status };
    },
  },
  anthropic: {
    async call(model, stream) {
      const client = new Anthropic({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
      const params = { model, max_tokens: 100, messages: [{ role: "user" as const, content: "Say hello" }] };
      const m = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
      const text = m.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      return { text, inputTokens: m.usage.input_tokens, outputTokens: m.usage.output_tokens, finish: m.stop_reason };
    },
  },
  google: {
    async call(model, stream) {
      const ai = new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: server.url } });
      const params = { model, contents: "Say hello" };
      if (!stream) {
        const r = await ai.models.generateContent(params);
        return {
          text: r.text ?? "",
          inputTokens: r.usageMetadata?.promptTokenCount,
          outputTokens: r.usageMetadata?.candidatesTokenCount,
          finish: r.candidates?.[0]?.finishReason ?? null,
        };
      }
      let text = "";
      let last: Awaited<ReturnType<typeof ai.models.generateContent>> | undefined;
      for await (const chunk of await ai.models.generateContentStream(params)) {
        text += chunk.text ?? "";
        last = chunk;
      }
      return {
        text,
        inputTokens: last?.usageMetadata?.promptTokenCount,
        outputTokens: last?.usageMetadata?.candidatesTokenCount,
        finish: last?.candidates?.[0]?.finishReason ?? null,
      };
    },
  },
};

const FINISH: Record<string, string> = { "openai-chat": "stop", "openai-responses": "completed", anthropic: "end_turn", google: "STOP" };

describe.each(Object.keys(CLIENTS))("%s SDK", (inbound) => {
  describe.each(TARGETS)("to a $name provider", (target) => {
    it.each([false, true])("stream=%s: text, usage and finish reason arrive intact", async (stream) => {
      mock.enqueue(SCRIPT);
      const answer = await CLIENTS[inbound]!.call(target.model, stream);
      expect(answer.text).toBe("Hello, world");
      expect(answer.inputTokens).toBe(12);
      expect(answer.outputTokens).toBe(3);
      expect(answer.finish).toBe(FINISH[inbound]);
      expect(mock.requests).toHaveLength(1);
      expect(mock.requests[0]!.path.split("?")[0]!.replace(":streamGenerateContent", ":generateContent")).toBe(target.path);
    });
  });
});
