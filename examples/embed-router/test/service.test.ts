import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { startMock, type MockUpstream } from "@bitrouter/testkit";
import { createService } from "../src/service.js";

let mock: MockUpstream;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  mock = await startMock();
  const yaml = `
inherit_defaults: false
providers:
  claude:
    api_protocol: anthropic
    api_base: ${mock.baseUrl("anthropic")}
    api_key: test-key
models:
  summarizer:
    endpoints:
      - { provider: claude, model_id: claude-test }
`;
  const { server, router } = createService(yaml, {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    await router.close();
    await new Promise((resolve) => server.close(resolve));
  };
});
afterAll(async () => {
  await close();
  await mock.close();
});

describe("a Node service embedding @bitrouter/router", () => {
  it("calls a model through router.generate", async () => {
    mock.enqueue({ text: "A short summary.", usage: { input: 20, output: 4 } });
    const res = await fetch(`${base}/summarize`, { method: "POST", body: "A long text about routers." });
    expect(await res.json()).toEqual({ summary: "A short summary.", usage: { inputTokens: 20, outputTokens: 4 } });
    expect(mock.requests.at(-1)!.body).toMatchObject({ model: "claude-test", system: "Summarize in one sentence." });
  });

  it("serves the OpenAI SDK through router.fetch, translated to Anthropic", async () => {
    mock.enqueue({ text: ["Hi ", "there"] });
    const client = new OpenAI({ baseURL: `${base}/llm/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "summarizer", messages: [{ role: "user", content: "hello" }], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Hi there");
  });
});
