import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { ConfigError, defineProvider, parseConfig } from "@bitrouter/config";
import { createRouter } from "@bitrouter/router";
import { startMock, type MockUpstream } from "@bitrouter/testkit";
import { providers } from "../src/index.js";

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock.close();
});

describe("a custom provider package", () => {
  it("plugs in like a built-in: key and base URL from its env prefix, catalog pricing metered", async () => {
    const env = { ACME_API_KEY: "acme-secret", ACME_BASE_URL: mock.baseUrl("openai-chat") };
    const { config } = parseConfig("models:\n  default:\n    endpoints:\n      - { provider: acme, model_id: acme-large }\n", { env, providers });
    const costs: number[] = [];
    const router = createRouter(config, { hooks: [{ name: "cost", onComplete: (r) => costs.push(r.costMicroUsd ?? -1) }] });
    const server = await import("node:http").then(({ createServer }) =>
      createServer(async (req, res) => {
        let body = "";
        for await (const chunk of req) body += chunk;
        const response = await router.fetch(new Request(`http://x${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body }));
        res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      mock.enqueue({ text: "hello from acme", usage: { input: 1000, output: 100 } });
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "unused", maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: "default", messages: [{ role: "user", content: "hi" }] });
      expect(answer.choices[0]!.message.content).toBe("hello from acme");
      expect(mock.requests[0]!.headers).toMatchObject({ authorization: "Bearer acme-secret", "x-acme-client": "bitrouter" });
      expect(costs).toEqual([1000 * 3 + 100 * 15]);
      const models = router.modelsBody().data.map((m) => m.id);
      expect(models).toEqual(expect.arrayContaining(["acme:acme-large", "acme:acme-mini"]));
    } finally {
      server.close();
      await router.close();
    }
  });

  it("can be overridden and derived from in bitrouter.yaml", () => {
    const { config } = parseConfig(
      "providers:\n  acme:\n    api_key: k\n  acme-eu:\n    derives: acme\n    api_base: https://eu.acme.example/v1\n    api_key: k2\n",
      { env: {}, providers },
    );
    expect(config.providers["acme"]).toMatchObject({ api_base: "https://api.acme.example/v1", api_key: "k" });
    expect(config.providers["acme-eu"]).toMatchObject({ api_protocol: "openai", api_base: "https://eu.acme.example/v1" });
    expect(Object.keys(config.providers["acme-eu"]!.models)).toContain("acme-mini");
  });

  it("is validated when the package is imported", () => {
    expect(() => defineProvider({ api_protocol: "openai", api_base: "not a url" } as never)).toThrow(ConfigError);
  });
});
