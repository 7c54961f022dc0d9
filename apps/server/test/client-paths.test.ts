/**
 * The paths clients call besides inference, through the official SDKs against the real server:
 * token counting, single models, Google's model list, and 404s in the caller's own shape.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { MOCK_TOKEN_COUNT, startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

let mock: MockUpstream;
let server: TestServer;

beforeAll(async () => {
  mock = await startMock();
  server = await startTestServer(`${providersYaml(mock)}
models:
  to-claude: { endpoints: [{ provider: ant, model_id: claude-up }] }
  to-gpt: { endpoints: [{ provider: oai, model_id: gpt-test }] }
  to-gemini: { endpoints: [{ provider: goo, model_id: gemini-up }] }
`);
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const anthropic = () => new Anthropic({ baseURL: server.url, apiKey: "unused", maxRetries: 0 });
const google = () => new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: server.url } });
const messages: Anthropic.MessageParam[] = [{ role: "user", content: "How many tokens is this sentence, roughly?" }];

describe("POST /v1/messages/count_tokens", () => {
  it("is counted by an Anthropic upstream, and says so", async () => {
    const { data, response } = await anthropic().messages.countTokens({ model: "to-claude", messages }).withResponse();
    expect(data.input_tokens).toBe(MOCK_TOKEN_COUNT);
    expect(response.headers.get("x-bitrouter-token-count")).toBe("upstream");
    expect(mock.requests[0]).toMatchObject({ path: "/v1/messages/count_tokens", body: { model: "claude-up", messages } });
  });

  it("is estimated for other upstreams, and says so", async () => {
    const { data, response } = await anthropic().messages.countTokens({ model: "to-gpt", messages }).withResponse();
    expect(response.headers.get("x-bitrouter-token-count")).toBe("estimate");
    expect(data.input_tokens).toBeGreaterThan(5);
    expect(data.input_tokens).toBeLessThan(40);
    expect(mock.requests).toHaveLength(0);
  });

  it("an unknown model is an Anthropic-shaped 404", async () => {
    const error = await anthropic()
      .messages.countTokens({ model: "nope", messages })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect((error as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });
});

describe("Gemini countTokens", () => {
  it("is counted by a Gemini upstream", async () => {
    const result = await google().models.countTokens({ model: "to-gemini", contents: "How many tokens?" });
    expect(result.totalTokens).toBe(MOCK_TOKEN_COUNT);
    expect(mock.requests[0]!.path).toBe("/v1beta/models/gemini-up:countTokens");
  });

  it("is estimated for other upstreams", async () => {
    const result = await google().models.countTokens({ model: "to-claude", contents: "How many tokens is this sentence, roughly?" });
    expect(result.totalTokens).toBeGreaterThan(5);
    expect(mock.requests).toHaveLength(0);
  });
});

describe("models", () => {
  it("GET /v1beta/models lists every model in Google's shape; a single one by name", async () => {
    const pager = await google().models.list();
    const names = pager.page.map((m) => m.name);
    expect(names).toContain("models/to-gemini");
    const one = await google().models.get({ model: "to-claude" });
    expect(one).toMatchObject({ name: "models/to-claude", supportedActions: expect.arrayContaining(["generateContent"]) });
  });

  it("GET /v1/models/{id}: OpenAI's shape, or Anthropic's for Anthropic clients", async () => {
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    expect(await openai.models.retrieve("to-gpt")).toMatchObject({ id: "to-gpt", object: "model" });
    expect(await anthropic().models.retrieve("to-claude")).toMatchObject({ id: "to-claude", type: "model", display_name: "to-claude" });
    await expect(openai.models.retrieve("nope")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe("404 in the caller's shape", () => {
  it("Anthropic clients get Anthropic's error body, Gemini clients Google's, others OpenAI's", async () => {
    const ant = await fetch(`${server.url}/v1/messages/batches`, { method: "POST", headers: { "anthropic-version": "2023-06-01" }, body: "{}" });
    expect(ant.status).toBe(404);
    expect(await ant.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    const goo = await fetch(`${server.url}/v1beta/cachedContents`, { method: "POST", body: "{}" });
    expect(goo.status).toBe(404);
    expect(await goo.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
    const oai = await fetch(`${server.url}/v1/embeddings`, { method: "POST", body: "{}" });
    expect(oai.status).toBe(404);
    expect(await oai.json()).toMatchObject({ error: { type: "not_found_error" } });
  });
});
