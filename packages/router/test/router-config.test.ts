import { describe, expect, it } from "vitest";
import { ConfigError } from "@bitrouter/config";
import { createRouter } from "../src/index.js";
import { useMock } from "./helpers.js";
import type { CompletionRecord, RouterConfig } from "../src/index.js";

const mock = useMock();

const ask = (model: string) => ({ model, messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "hi" }] }] });

const typed = (records: CompletionRecord[] = []): RouterConfig => ({
  inheritDefaults: false,
  providers: {
    my_oai: {
      apiProtocol: "openai",
      apiBase: mock().baseUrl("openai-chat"),
      apiKey: "key-oai",
      defaultHeaders: { "X-Team_Name": "search" },
      models: { "gpt-test": { maxOutputTokens: 1000, pricing: { inputTokens: { noCache: 2.5 }, outputTokens: { text: 10 } } } },
    },
    ant: { apiProtocol: "anthropic", apiBase: mock().baseUrl("anthropic"), envPrefix: "MY_ANT" },
  },
  models: {
    smart: {
      strategy: "priority",
      endpoints: [
        { provider: "ant", modelId: "claude-test" },
        { provider: "my_oai", modelId: "gpt-test" },
      ],
    },
  },
  env: { MY_ANT_API_KEY: "key-ant" },
  requestTimeoutMs: 2_000,
  hooks: [{ name: "meter", onComplete: (r) => records.push(r) }],
});

describe("createRouter with a camelCase configuration", () => {
  it("routes, fails over, prices and sends headers as the same bitrouter.yaml would", async () => {
    const records: CompletionRecord[] = [];
    const router = createRouter(typed(records));
    mock().enqueue({ error: "server_error", status: 500 }, { text: "typed", usage: { input: 1000, output: 100 } });
    const answer = await router.generate(ask("smart"));
    expect(answer.content).toEqual([{ type: "text", text: "typed" }]);
    // The Anthropic key came from env via envPrefix; the OpenAI one from apiKey, with its default header.
    expect(mock().requests.map((r) => [r.path, r.headers["x-api-key"] ?? r.headers.authorization])).toEqual([
      ["/v1/messages", "key-ant"],
      ["/v1/chat/completions", "Bearer key-oai"],
    ]);
    expect(mock().requests[1]!.headers["x-team_name"]).toBe("search");
    expect(mock().requests[1]!.body).toMatchObject({ model: "gpt-test" });
    // 1000 in x 2.5 + 100 out x 10 = 3500 micro-USD, from the camelCase pricing; the hook came in the same object.
    expect(records[0]).toMatchObject({ route: "smart", attempts: 2, provider: "my_oai", costMicroUsd: 3500 });
    expect(router.listModels().map((m) => m.id)).toContain("smart");
    await router.close();
  });

  it("takes the timeouts it carries (and options given beside it win)", async () => {
    const router = createRouter({ ...typed(), requestTimeoutMs: 300 });
    mock().enqueue({ hang: true }, { hang: true });
    await expect(router.generate(ask("smart"))).rejects.toMatchObject({ status: 504 });
    await router.close();

    const overridden = createRouter(typed(), { requestTimeoutMs: 300 });
    mock().enqueue({ hang: true }, { hang: true });
    await expect(overridden.generate(ask("smart"))).rejects.toMatchObject({ status: 504 });
    await overridden.close();
  });

  it("names a bad field as the caller wrote it", () => {
    const issues = (models: NonNullable<RouterConfig["models"]>, providers = typed().providers) => {
      try {
        createRouter({ ...typed(), models, ...(providers ? { providers } : {}) });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).issues;
      }
      throw new Error("accepted");
    };
    expect(issues({ smart: { endpoints: [{ provider: "ant" } as never] } })).toMatchObject([{ path: "models.smart.endpoints[0].modelId" }]);
    // A misspelt camelCase key, and a provider whose own name has an underscore (kept as written).
    expect(issues({}, { my_oai: { apiProtocol: "openai", apiBse: "http://x" } as never })).toMatchObject([
      { path: "providers.my_oai.apiBse", message: 'unknown key "apiBse" (did you mean "apiBase"?)' },
    ]);
    expect(issues({ smart: { endpoints: [{ provider: "nowhere", modelId: "x" }] } })).toMatchObject([
      { path: "models.smart.endpoints[0].provider", message: expect.stringContaining("nowhere") },
    ]);
  });

  it("still takes YAML text", async () => {
    const router = createRouter(`
inherit_defaults: false
providers:
  oai: { api_protocol: openai, api_base: "${mock().baseUrl("openai-chat")}", api_key: k }
models:
  fast: { endpoints: [{ provider: oai, model_id: gpt-test }] }
`);
    mock().enqueue({ text: "yaml" });
    expect((await router.generate(ask("fast"))).content).toEqual([{ type: "text", text: "yaml" }]);
    await router.close();
  });
});
