// Requests fitted to the target model's catalog limits, on the fast path and the translated path alike.
import { describe, expect, it } from "vitest";
import { parseConfig } from "@bitrouter/config";
import { createRouter } from "../src/index.js";
import { useMock } from "./helpers.js";
import type { CompletionRecord, RouterHook } from "../src/index.js";

const mock = useMock();

const config = () =>
  parseConfig(`
inherit_defaults: false
providers:
  oai:
    api_protocol: openai
    api_base: ${mock().baseUrl("openai-chat")}
    api_key: k
    models:
      gpt-4o: { max_output_tokens: 16384, reasoning: false }
  goo:
    api_protocol: google
    api_base: ${mock().baseUrl("google")}
    api_key: k
    models:
      gemini-2.5-flash: { max_output_tokens: 65536, max_reasoning_tokens: 24576 }
`).config;

/** Routes through the router, returning what reached the upstream and what the completion record says. */
async function send(path: string, body: unknown): Promise<{ upstream: Record<string, unknown>; adjusted: string[] | undefined }> {
  const records: CompletionRecord[] = [];
  const recorder: RouterHook = { name: "recorder", onComplete: (r) => void records.push(r) };
  const router = createRouter(config(), { hooks: [recorder] });
  try {
    const response = await router.fetch(
      new Request(`http://router.test${path}`, { method: "POST", body: JSON.stringify(body), headers: { "anthropic-version": "2023-06-01" } }),
    );
    expect(response.status, await response.clone().text()).toBe(200);
    await response.text();
    return { upstream: mock().requests[0]!.body as Record<string, unknown>, adjusted: records[0]?.adjusted };
  } finally {
    await router.close();
  }
}

const chat = { model: "oai:gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 64000, reasoning_effort: "high" };

describe("fitting requests to the catalog", () => {
  it("same protocol (fast path): max_tokens lowered to max_output_tokens, reasoning_effort dropped for a non-reasoning model", async () => {
    const { upstream, adjusted } = await send("/v1/chat/completions", chat);
    expect(upstream.max_tokens).toBe(16384);
    expect(upstream).not.toHaveProperty("reasoning_effort");
    expect(adjusted).toEqual(["max_tokens 64000 -> 16384 (gpt-4o's max_output_tokens)", "reasoning_effort dropped (gpt-4o is not a reasoning model)"]);
  });

  it("translated (Anthropic caller): the same limits", async () => {
    const { upstream } = await send("/v1/messages", {
      model: "oai:gpt-4o",
      max_tokens: 64000,
      thinking: { type: "enabled", budget_tokens: 8000 },
      messages: [{ role: "user", content: "hi" }],
    });
    expect(upstream.max_tokens).toBe(16384);
    expect(upstream).not.toHaveProperty("reasoning_effort");
  });

  it("a thinking budget above the model's maximum is lowered, on both paths", async () => {
    const fast = await send("/v1beta/models/goo:gemini-2.5-flash:generateContent", {
      contents: [{ role: "user", parts: [{ text: "hi" }] }],
      generationConfig: { thinkingConfig: { thinkingBudget: 40000 } },
    });
    expect((fast.upstream.generationConfig as { thinkingConfig: unknown }).thinkingConfig).toEqual({ thinkingBudget: 24576 });
    mock().reset();
    const translated = await send("/v1/messages", {
      model: "goo:gemini-2.5-flash",
      max_tokens: 60000,
      thinking: { type: "enabled", budget_tokens: 40000 },
      messages: [{ role: "user", content: "hi" }],
    });
    expect((translated.upstream.generationConfig as { thinkingConfig: { thinkingBudget: number } }).thinkingConfig.thinkingBudget).toBe(24576);
    expect(translated.adjusted).toEqual(["thinking budget 40000 -> 24576 (gemini-2.5-flash's max_reasoning_tokens)"]);
  });

  it("each failover attempt is fitted from the caller's body, not from the previous attempt's", async () => {
    const yaml = `
inherit_defaults: false
providers:
  goo:
    api_protocol: google
    api_base: ${mock().baseUrl("google")}
    api_key: k
    models:
      small: { max_reasoning_tokens: 1024 }
      large: { max_reasoning_tokens: 32768 }
models:
  thinker:
    strategy: priority
    endpoints:
      - { provider: goo, model_id: small }
      - { provider: goo, model_id: large }
`;
    const router = createRouter(parseConfig(yaml).config);
    try {
      mock().enqueue({ error: "server_error", status: 500 });
      const body = { contents: [{ role: "user", parts: [{ text: "hi" }] }], generationConfig: { thinkingConfig: { thinkingBudget: 40000 } } };
      const response = await router.fetch(
        new Request("http://router.test/v1beta/models/thinker:generateContent", { method: "POST", body: JSON.stringify(body) }),
      );
      expect(response.status).toBe(200);
      const budgets = mock().requests.map(
        (r) => (r.body as { generationConfig: { thinkingConfig: { thinkingBudget: number } } }).generationConfig.thinkingConfig.thinkingBudget,
      );
      expect(budgets).toEqual([1024, 32768]);
    } finally {
      await router.close();
    }
  });

  it("a request within the limits reaches the provider as the caller's bytes, only the model replaced", async () => {
    const router = createRouter(config());
    try {
      // A seed above 2^53 and 1.0 would not survive JSON.parse + JSON.stringify: the body is spliced, not re-serialised.
      const raw = `{"model":"oai:gpt-4o","seed":12345678901234567891,"temperature":1.0,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`;
      const response = await router.fetch(new Request("http://router.test/v1/chat/completions", { method: "POST", body: raw }));
      expect(response.status).toBe(200);
      await response.text();
      expect(mock().requests[0]!.rawBody).toBe(raw.replace('"oai:gpt-4o"', '"gpt-4o"'));
    } finally {
      await router.close();
    }
  });

  it("requests within the limits are sent untouched", async () => {
    const { upstream, adjusted } = await send("/v1/chat/completions", { model: "oai:gpt-4o", messages: [{ role: "user", content: "hi" }], max_tokens: 100 });
    expect(upstream.max_tokens).toBe(100);
    expect(adjusted).toBeUndefined();
  });
});
