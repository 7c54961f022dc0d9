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
  const { server, router } = createService({
    inheritDefaults: false,
    providers: { claude: { apiProtocol: "anthropic", apiBase: mock.baseUrl("anthropic"), apiKey: "test-key" } },
    models: { summarizer: { endpoints: [{ provider: "claude", modelId: "claude-test" }] } },
    env: {},
  });
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

  it("streams a summary through router.stream", async () => {
    mock.enqueue({ text: ["A short ", "summary."] });
    const res = await fetch(`${base}/summarize/stream`, { method: "POST", body: "A long text about routers." });
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(await res.text()).toBe("A short summary.");
    expect(mock.requests.at(-1)!.body).toMatchObject({ model: "claude-test", stream: true });
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
