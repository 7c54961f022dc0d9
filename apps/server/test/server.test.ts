import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { fetchOverSocket } from "../src/control-client.js";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock?.close();
});
beforeEach(() => mock.reset());

const chat = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("zero-config", () => {
  it("routes provider:model_id to a built-in whose key is in the environment", async () => {
    const server = await startTestServer("", { env: { OPENAI_API_KEY: "sk-from-env-1234567890", OPENAI_BASE_URL: mock.baseUrl("openai-chat") } });
    try {
      mock.enqueue({ text: "zero config works" });
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const r = await client.chat.completions.create({ model: "openai:gpt-4o", messages: [{ role: "user", content: "hi" }] });
      expect(r.choices[0]!.message.content).toBe("zero config works");
      expect(mock.requests[0]!.headers.authorization).toBe("Bearer sk-from-env-1234567890");
      expect(mock.requests[0]!.body).toMatchObject({ model: "gpt-4o" });
      // Built-ins without a key are not offered.
      const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      expect(models.data.some((m) => m.id === "openai:gpt-4o")).toBe(true);
      expect(models.data.some((m) => m.id.startsWith("anthropic:"))).toBe(false);
    } finally {
      await server.close();
    }
  });
});

describe("a body larger than one socket read", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(providersYaml(mock));
  });
  afterAll(async () => {
    await server.close();
  });

  // ~300 KB arrives in several reads, which the router keeps apart (never joined): multi-byte
  // characters and escapes throughout, so some fall across the reads' boundaries.
  const content = Array.from({ length: 12_000 }, (_, i) => `line ${i}: é ✓ 😀 "quoted" \\ tab\t`).join("\n");
  const params = { messages: [{ role: "user" as const, content }], model: "oai:gpt-test", max_tokens: 5 };

  it("reaches a same-protocol upstream byte for byte, only the model replaced", async () => {
    mock.enqueue({ text: "got it" });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const answer = await client.chat.completions.create(params);
    expect(answer.choices[0]!.message.content).toBe("got it");
    const sent = JSON.stringify(params);
    expect(sent.length).toBeGreaterThan(200_000);
    expect(mock.requests[0]!.rawBody).toBe(sent.replace('"model":"oai:gpt-test"', '"model":"gpt-test"'));
  });

  it("is decoded whole for a translated upstream, every character intact", async () => {
    mock.enqueue({ text: "got it" });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const answer = await client.chat.completions.create({ ...params, model: "ant:claude-test" });
    expect(answer.choices[0]!.message.content).toBe("got it");
    expect(mock.requests[0]!.path).toBe("/v1/messages");
    expect(mock.requests[0]!.body).toMatchObject({ model: "claude-test", messages: [{ role: "user", content }] });
  });

  it("streams a translated answer's multi-byte characters intact (its frames are encoded to bytes by the router)", async () => {
    const deltas = ["é ✓ ", "😀 日本", '語 "quoted" \\ end'];
    mock.enqueue({ text: deltas });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "ant:claude-test", stream: true, max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(deltas.join(""));
  });
});

describe("the HTTP API", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(`${providersYaml(mock)}
server:
  body_limit: 2kb
models:
  smart:
    strategy: priority
    endpoints:
      - { provider: ant, model_id: first }
      - { provider: oai, model_id: second }
`);
  });
  afterAll(async () => {
    await server.close();
  });

  it("fails over before the first byte, invisibly to the SDK", async () => {
    mock.enqueue({ error: "overloaded", status: 529 });
    const client = new Anthropic({ baseURL: server.url, apiKey: "x", maxRetries: 0 });
    const m = await client.messages.create({ model: "smart", max_tokens: 50, messages: [{ role: "user", content: "hello" }] });
    expect(m.content[0]).toMatchObject({ type: "text" });
    expect(mock.requests.map((r) => r.path)).toEqual(["/v1/messages", "/v1/chat/completions"]);
  });

  it("does not fail over after the first byte: the SDK sees the protocol's error event", async () => {
    mock.enqueue({ text: ["a", "b", "c", "d", "e"], streamError: { afterChunks: 4, error: "server_error", message: "upstream broke" } });
    const client = new Anthropic({ baseURL: server.url, apiKey: "x", maxRetries: 0 });
    const stream = client.messages.stream({ model: "smart", max_tokens: 50, messages: [{ role: "user", content: "hello" }] });
    await expect(stream.finalMessage()).rejects.toThrow(/upstream broke/);
    expect(mock.requests).toHaveLength(1);
  });

  it("answers errors in the caller's shape: 400 malformed, 400 missing model, 404 unknown model, 413 too large", async () => {
    const malformed = await chat(server.url, "{oops");
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");

    const missing = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ max_tokens: 1, messages: [] }),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("model") } });

    const unknown = await chat(server.url, { model: "smrt", messages: [] });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/'smrt'.*'smart'/);

    const big = await chat(server.url, { model: "smart", messages: [{ role: "user", content: "x".repeat(5000) }] });
    expect(big.status).toBe(413);
    expect(mock.requests).toHaveLength(0);

    // the server keeps serving
    const ok = await chat(server.url, { model: "oai:gpt-test", messages: [{ role: "user", content: "still there?" }] });
    expect(ok.status).toBe(200);
  });

  it("puts a request id on every response", async () => {
    const a = await chat(server.url, { model: "oai:gpt-test", messages: [{ role: "user", content: "x" }] });
    expect(a.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const b = await chat(server.url, { model: "nope", messages: [] }, { "x-request-id": "my-trace-123" });
    expect(b.headers.get("x-request-id")).toBe("my-trace-123");
    const health = await fetch(`${server.url}/health`);
    expect(health.headers.get("x-request-id")).toBeTruthy();
  });

  it("cancels the upstream request when the client disconnects mid-stream", async () => {
    mock.enqueue({ text: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 50 });
    const controller = new AbortController();
    const res = await chat(server.url, { model: "oai:gpt-test", stream: true, messages: [{ role: "user", content: "long" }] }, {});
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    controller.abort();
    await mock.until(() => mock.aborted === 1, 5000);
    expect(mock.aborted).toBe(1);
  });

  it("never writes a key into the logs", async () => {
    await chat(server.url, { model: "oai:gpt-test", messages: [{ role: "user", content: "x" }] }, { authorization: "Bearer sk-caller-secret-0123456789" });
    await server.runtime.logger.flush();
    const log = readFileSync(join(server.home, "logs", "bitrouter.log"), "utf8");
    expect(log).toContain("route=oai:gpt-test");
    expect(log).not.toContain("key-oai");
    expect(log).not.toContain("sk-caller-secret");
  });
});

describe("dynamic routes and hot reload", () => {
  it("adds and removes routes over the control socket; they survive a reload", async () => {
    const server = await startTestServer(providersYaml(mock));
    const socket = server.runtime.controlSocket!;
    try {
      const added = await fetchOverSocket(socket, "/routes", {
        method: "POST",
        body: { name: "research", endpoints: ["goo:gemini-x", "oai:gpt-test"], strategy: "priority" },
      });
      expect(added.status).toBe(200);
      mock.enqueue({ text: "from gemini" });
      const r = await chat(server.url, { model: "research", messages: [{ role: "user", content: "q" }] });
      expect(((await r.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe("from gemini");
      expect(mock.requests[0]!.path).toContain("gemini-x");

      expect((await fetchOverSocket(socket, "/reload", { method: "POST" })).status).toBe(200);
      const listed = (await fetchOverSocket(socket, "/routes")).body as { routes: Array<{ name: string; source: string }> };
      expect(listed.routes).toContainEqual(expect.objectContaining({ name: "research", source: "dynamic" }));

      const bad = await fetchOverSocket(socket, "/routes", { method: "POST", body: { name: "x", endpoints: ["nokey:model"] } });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain("nokey");

      expect((await fetchOverSocket(socket, "/routes/research", { method: "DELETE" })).status).toBe(200);
      expect((await chat(server.url, { model: "research", messages: [] })).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it("reloads under continuous load with zero failed requests, and keeps serving on a bad config", async () => {
    const base = providersYaml(mock);
    const server = await startTestServer(`${base}\nmodels:\n  live: { endpoints: [{ provider: oai, model_id: v1 }] }\n`);
    const socket = server.runtime.controlSocket!;
    try {
      let failures = 0;
      let done = 0;
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const res = await chat(server.url, { model: "live", messages: [{ role: "user", content: "x" }] });
          if (res.status !== 200) failures += 1;
          await res.arrayBuffer();
          done += 1;
        }
      };
      const workers = Array.from({ length: 4 }, worker);
      for (let i = 0; i < 5; i++) {
        server.setYaml(`${base}\nmodels:\n  live: { endpoints: [{ provider: oai, model_id: v${i + 2} }] }\n`);
        expect((await fetchOverSocket(socket, "/reload", { method: "POST" })).status).toBe(200);
        await new Promise((r) => setTimeout(r, 30));
      }
      server.setYaml(`${base}\nmodels:\n  live: { strategy: fastest, endpoints: [] }\n`);
      const rejected = await fetchOverSocket(socket, "/reload", { method: "POST" });
      expect(rejected.status).toBe(422);
      expect(JSON.stringify(rejected.body)).toMatch(/strategy/);
      await new Promise((r) => setTimeout(r, 50));
      stop = true;
      await Promise.all(workers);
      expect(done).toBeGreaterThan(20);
      expect(failures).toBe(0);
      // the last good config (v6) still serves
      mock.reset();
      await chat(server.url, { model: "live", messages: [{ role: "user", content: "x" }] });
      expect(mock.requests[0]!.body).toMatchObject({ model: "v6" });
    } finally {
      await server.close();
    }
  });
});
