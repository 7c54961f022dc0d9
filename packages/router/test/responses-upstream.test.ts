// Responses requests (Codex) through the router: to an OpenAI provider that serves the Responses API
// they go there as written; elsewhere what has an equivalent is translated and hosted tools are refused.
import { describe, expect, it } from "vitest";
import { createRouter } from "../src/index.js";
import { RoutingTable } from "../src/table.js";
import type { RouterHook } from "../src/index.js";
import { mockConfig, useMock } from "./helpers.js";

const mock = useMock();

const extra = `
  codex-oai:
    derives: oai
    api_key: key-oai
    responses_api: true
models:
  codex-default:
    endpoints: [{ provider: codex-oai, model_id: gpt-up }]
  codex-on-claude:
    endpoints: [{ provider: ant, model_id: claude-test }]
`;

// The shape of Codex's requests: a tool group, a freeform grammar tool, a hosted tool.
const codexBody = (model: string) => ({
  model,
  stream: false,
  input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "say hi" }] }],
  tools: [
    {
      type: "namespace",
      name: "functions",
      description: "",
      tools: [{ type: "custom", name: "exec", description: "Run code", format: { type: "grammar", syntax: "lark", definition: "start: /.+/" } }],
    },
    { type: "web_search", external_web_access: false },
  ],
  store: false,
  include: ["reasoning.encrypted_content"],
});

const post = (body: unknown) =>
  new Request("http://router.test/v1/responses", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

describe("Responses requests to an OpenAI provider with responses_api", () => {
  it("reach the upstream's /responses as written, only the model rewritten", async () => {
    const router = createRouter(mockConfig(mock(), extra));
    try {
      const response = await router.fetch(post(codexBody("codex-default")));
      expect(response.status).toBe(200);
      expect(((await response.json()) as { object: string }).object).toBe("response");
      expect(mock().requests).toHaveLength(1);
      expect(mock().requests[0]!.path).toBe("/v1/responses");
      expect(mock().requests[0]!.body).toEqual({ ...codexBody("gpt-up") });
    } finally {
      await router.close();
    }
  });

  it("still go to /responses, tools intact, when a hook needs the content (translated path)", async () => {
    const inspect: RouterHook = { name: "inspect", inspectsContent: true };
    const router = createRouter(mockConfig(mock(), extra), { hooks: [inspect] });
    try {
      const response = await router.fetch(post(codexBody("codex-default")));
      expect(response.status).toBe(200);
      expect(mock().requests[0]!.path).toBe("/v1/responses");
      expect((mock().requests[0]!.body as { tools: unknown }).tools).toEqual(codexBody("x").tools);
    } finally {
      await router.close();
    }
  });

  it("chat requests to the same provider stay on Chat Completions", async () => {
    const router = createRouter(mockConfig(mock(), extra));
    try {
      const response = await router.fetch(
        new Request("http://router.test/v1/chat/completions", {
          method: "POST",
          body: JSON.stringify({ model: "codex-default", messages: [{ role: "user", content: "hi" }] }),
        }),
      );
      expect(response.status).toBe(200);
      expect(mock().requests[0]!.path).toBe("/v1/chat/completions");
    } finally {
      await router.close();
    }
  });

  it("an OpenAI-compatible provider without responses_api gets Chat Completions", async () => {
    const router = createRouter(mockConfig(mock(), "models:\n  plain: { endpoints: [{ provider: oai, model_id: gpt-test }] }\n"));
    try {
      const body = { model: "plain", input: "hi" };
      const response = await router.fetch(post(body));
      expect(response.status).toBe(200);
      expect(mock().requests[0]!.path).toBe("/v1/chat/completions");
    } finally {
      await router.close();
    }
  });
});

describe("which OpenAI providers serve the Responses API", () => {
  it("OpenAI itself by default; compatible servers and Azure only when responses_api says so", () => {
    const table = new RoutingTable(
      mockConfig(
        mock(),
        `
  real-openai: { api_protocol: openai, api_base: "https://api.openai.com/v1", api_key: k }
  opted-out: { api_protocol: openai, api_base: "https://api.openai.com/v1", api_key: k, responses_api: false }
  azure: { api_protocol: openai, api_base: "https://x.openai.azure.com/openai/v1", api_key: k }
`,
      ),
    );
    expect(table.resolve("real-openai:gpt-5").targets[0]!.servesResponses).toBe(true);
    expect(table.resolve("opted-out:gpt-5").targets[0]!.servesResponses).toBeUndefined();
    expect(table.resolve("azure:gpt-5").targets[0]!.servesResponses).toBeUndefined();
    expect(table.resolve("oai:gpt-test").targets[0]!.servesResponses).toBeUndefined();
  });

  it("responses_api on a non-openai provider is a config error", () => {
    expect(() =>
      mockConfig(
        mock(),
        `
  odd: { api_protocol: anthropic, api_base: "https://x.test", api_key: k, responses_api: true }
`,
      ),
    ).toThrow(/responses_api.*only valid with api_protocol: openai/s);
  });
});

describe("Responses requests to other upstreams", () => {
  it("a hosted tool is refused with 400 naming the item, the route and the provider", async () => {
    const router = createRouter(mockConfig(mock(), extra));
    try {
      const response = await router.fetch(post(codexBody("codex-on-claude")));
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { message: string; param: string } };
      expect(error.param).toBe("tools[1]");
      expect(error.message).toContain('"web_search"');
      expect(error.message).toContain("route 'codex-on-claude'");
      expect(error.message).toContain("provider 'ant'");
      expect(mock().requests).toHaveLength(0);
    } finally {
      await router.close();
    }
  });

  it("without hosted tools, tool groups and freeform tools reach Anthropic as functions", async () => {
    const router = createRouter(mockConfig(mock(), extra));
    try {
      const body = codexBody("codex-on-claude");
      body.tools = body.tools.slice(0, 1);
      const response = await router.fetch(post(body));
      expect(response.status).toBe(200);
      const sent = mock().requests[0]!.body as { tools: Array<{ name: string; input_schema: { required: string[] } }> };
      expect(sent.tools.map((t) => [t.name, t.input_schema.required])).toEqual([["exec", ["input"]]]);
    } finally {
      await router.close();
    }
  });
});
