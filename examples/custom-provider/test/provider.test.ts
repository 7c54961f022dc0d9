// The package as bitrouter.yaml names it (here by path; test/install.test.ts installs the packed
// tarball and runs the CLI): its catalog, its pricing and its own protocol, driven by the OpenAI SDK.
import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "@bitrouter/config";
import { createRouter, type Router } from "@bitrouter/router";
import { provider, protocols } from "../src/index.js";
import { startAcmeMock, type AcmeMock } from "./acme-mock.js";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

let mock: AcmeMock;
beforeAll(async () => {
  mock = await startAcmeMock();
});
afterAll(async () => {
  await mock.close();
});

/** Serves a router over HTTP so the official SDK can call it. */
async function serve(router: Router): Promise<{ server: Server; baseURL: string }> {
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const response = await router.fetch(new Request(`http://x${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body }));
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, baseURL: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1` };
}

describe("a provider package named in bitrouter.yaml", () => {
  it("routes OpenAI SDK calls to Acme's own protocol: key and base URL from its env prefix, catalog pricing metered", async () => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-acme-"));
    writeFileSync(
      join(home, "bitrouter.yaml"),
      `inherit_defaults: false\nproviders:\n  acme:\n    package: ${PACKAGE_DIR}\nmodels:\n  default:\n    endpoints:\n      - { provider: acme, model_id: acme-large }\n`,
    );
    const env = { ACME_API_KEY: "acme-secret", ACME_BASE_URL: mock.baseUrl };
    const { config } = await loadConfig({ flags: { homeDir: home }, env, cwd: home });
    const costs: number[] = [];
    const router = createRouter(config, { hooks: [{ name: "cost", onComplete: (r) => costs.push(r.costMicroUsd ?? -1) }] });
    const { server, baseURL } = await serve(router);
    try {
      const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
      mock.enqueue({ text: "hello from acme", input: 1000, output: 100 });
      const answer = await client.chat.completions.create({ model: "default", messages: [{ role: "user", content: "hi" }] });
      expect(answer.choices[0]!.message.content).toBe("hello from acme");
      const sent = mock.requests.at(-1)!;
      expect(sent.headers).toMatchObject({ authorization: "Bearer acme-secret", "x-acme-client": "bitrouter" });
      expect(sent.body).toMatchObject({ model: "acme-large", input: [{ role: "user", text: "hi" }] });
      expect(costs).toEqual([1000 * 3 + 100 * 15]);

      mock.enqueue({ text: "streamed from acme" });
      const stream = await client.chat.completions.create({ model: "acme:acme-mini", messages: [{ role: "user", content: "hi" }], stream: true });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      expect(text).toBe("streamed from acme");
      expect(router.modelsBody().data.map((m) => m.id)).toEqual(expect.arrayContaining(["acme:acme-large", "acme:acme-mini"]));

      // Any inbound protocol reaches it: an Anthropic Messages call, answered in Anthropic's shape.
      mock.enqueue({ text: "hello, anthropic caller" });
      const messages = await router.fetch(
        new Request("http://x/v1/messages", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "default", max_tokens: 64, messages: [{ role: "user", content: "hi" }] }),
        }),
      );
      expect(await messages.json()).toMatchObject({ type: "message", role: "assistant", content: [{ type: "text", text: "hello, anthropic caller" }] });
      expect(mock.requests.at(-1)?.body).toMatchObject({ model: "acme-large", max_tokens: 64 });
    } finally {
      server.close();
      await router.close();
    }
  });

  it("can be overridden and derived from in bitrouter.yaml; embedders pass it to parseConfig", () => {
    const { config } = parseConfig(
      "providers:\n  acme:\n    api_key: k\n  acme-eu:\n    derives: acme\n    api_base: https://eu.acme.example/v1\n    api_key: k2\n",
      { env: {}, providers: { acme: provider }, protocols },
    );
    expect(config.providers.acme).toMatchObject({ api_protocol: "acme-v1", api_base: "https://api.acme.example/v1", api_key: "k" });
    expect(config.providers["acme-eu"]).toMatchObject({ api_protocol: "acme-v1", api_base: "https://eu.acme.example/v1" });
    expect(Object.keys(config.providers["acme-eu"]!.models)).toContain("acme-mini");
  });
});
