// Hand-computed from the real catalog: micro-USD = tokens x (USD per million tokens).
import { describe, expect, it } from "vitest";
import { findModel, parseConfig } from "@bitrouter/config";
import { costMicroUsd } from "../src/index.js";

const { config } = parseConfig("", { env: {}, home: "/h" });
const pricing = (provider: string, model: string) => {
  const info = findModel(config, provider, model);
  if (!info?.pricing) throw new Error(`no pricing for ${provider}:${model}`);
  return info.pricing;
};

describe("costMicroUsd", () => {
  it("openai gpt-4o (2.5 in, 1.25 cached, 10 out): cached tokens are part of inputTokens", () => {
    // 600 x 2.5 + 400 x 1.25 + 500 x 10 = 1500 + 500 + 5000
    expect(costMicroUsd(pricing("openai", "gpt-4o"), { inputTokens: 1000, cacheReadTokens: 400, outputTokens: 500 })).toBe(7000);
  });

  it("anthropic claude-sonnet-4 (3 in, 0.3 read, 3.75 write, 15 out)", () => {
    // 5000 x 3 + 2000 x 0.3 + 3000 x 3.75 + 1000 x 15 = 15000 + 600 + 11250 + 15000
    const usage = { inputTokens: 10_000, cacheReadTokens: 2000, cacheWriteTokens: 3000, outputTokens: 1000 };
    expect(costMicroUsd(pricing("anthropic", "claude-sonnet-4-20250514"), usage)).toBe(41850);
  });

  it("qwen-plus bills reasoning at its own price (0.4 in, 1.2 text, 4.0 reasoning), rounding half up", () => {
    // 1234 x 0.4 + 500 x 1.2 + 300 x 4 = 493.6 + 600 + 1200 = 2293.6 -> 2294
    expect(costMicroUsd(pricing("qwen", "qwen-plus"), { inputTokens: 1234, outputTokens: 800, reasoningTokens: 300 })).toBe(2294);
  });

  it("is exact where float arithmetic is not: gpt-4o-mini 62 x 0.15 + 15 x 0.08 = 10.5 -> 11", () => {
    expect(62 * 0.15 + 15 * 0.08).toBeLessThan(10.5); // the float trap this guards against
    expect(costMicroUsd(pricing("openai", "gpt-4o-mini"), { inputTokens: 77, cacheReadTokens: 15, outputTokens: 0 })).toBe(11);
  });

  it("missing cache prices fall back to no_cache; missing reasoning price falls back to text", () => {
    // gpt-4 (30 in, 60 out): 100 x 30 + 10 x 60
    expect(
      costMicroUsd(pricing("openai", "gpt-4"), { inputTokens: 100, cacheReadTokens: 50, cacheWriteTokens: 10, outputTokens: 10, reasoningTokens: 4 }),
    ).toBe(3600);
  });

  it("rounds half up and handles a half exactly (gpt-4.1-nano: 5 x 0.1 = 0.5 -> 1; 4 x 0.1 -> 0)", () => {
    expect(costMicroUsd(pricing("openai", "gpt-4.1-nano"), { inputTokens: 5, outputTokens: 0 })).toBe(1);
    expect(costMicroUsd(pricing("openai", "gpt-4.1-nano"), { inputTokens: 4, outputTokens: 0 })).toBe(0);
  });

  it("stays exact for large counts and tiny prices", () => {
    expect(costMicroUsd({ input_tokens: { no_cache: 2.5 } }, { inputTokens: 3_000_000_000, outputTokens: 0 })).toBe(7_500_000_000);
    expect(costMicroUsd({ input_tokens: { no_cache: 3e-7 } }, { inputTokens: 5_000_000, outputTokens: 0 })).toBe(2);
  });

  it("no pricing costs nothing; inconsistent counts never go negative", () => {
    expect(costMicroUsd(undefined, { inputTokens: 100, outputTokens: 100 })).toBe(0);
    expect(costMicroUsd({ input_tokens: { no_cache: 1, cache_read: 0.5 } }, { inputTokens: 10, cacheReadTokens: 20, outputTokens: 0 })).toBe(10);
  });
});
