// Control, failure modes and recording of the mock, checked over plain HTTP.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { Agent, request as httpRequest } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MockUpstream, serve, startFastMock, startMock } from "../src/index.js";

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock({ models: ["m1", "m2"] });
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  mock.reset();
});

const chat = (content: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model: "gpt-x", messages: [{ role: "user", content }], ...extra });

async function post(path: string, body: string, init: RequestInit = {}): Promise<Response> {
  return fetch(mock.url + path, { method: "POST", headers: { "content-type": "application/json" }, body, ...init });
}

/** SSE `data:` payloads of a stream body. */
function dataLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.startsWith("data: "))
    .map((l) => l.slice(6));
}

describe("scripting", () => {
  it("answers queued scripts in order, then the default echo", async () => {
    mock.enqueue({ text: "first" }, { text: "second" });
    const texts = [];
    for (let i = 0; i < 3; i++) {
      const res = await post("/v1/chat/completions", chat(`q${i}`));
      texts.push(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content);
    }
    expect(texts).toEqual(["first", "second", "mock: q2"]);
  });

  it("lets a handler answer from the recorded request", async () => {
    mock.handle((req) => ({ text: `seen ${(req.body as { model: string }).model} via ${req.protocol}` }));
    const res = await post("/v1/messages", JSON.stringify({ model: "claude-x", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }));
    expect(((await res.json()) as { content: Array<{ text: string }> }).content[0]?.text).toBe("seen claude-x via anthropic");
  });

  it("sends raw answers as given", async () => {
    mock.enqueue({ status: 418, body: "teapot", headers: { "x-extra": "1" } });
    const res = await post("/v1/chat/completions", chat("x"));
    expect(res.status).toBe(418);
    expect(res.headers.get("x-extra")).toBe("1");
    expect(await res.text()).toBe("teapot");
  });

  it("renders errors in each provider's shape", async () => {
    mock.enqueue({ error: "rate_limit" }, { error: "rate_limit" }, { error: "overloaded" }, { error: "server_error", status: 502 });
    const openai = await post("/v1/chat/completions", chat("x"));
    expect(openai.status).toBe(429);
    expect(openai.headers.get("retry-after")).toBe("1");
    expect(await openai.json()).toMatchObject({ error: { type: "requests", code: "rate_limit_exceeded" } });
    const google = await post("/v1beta/models/g:generateContent", JSON.stringify({ contents: [{ parts: [{ text: "x" }] }] }));
    expect(await google.json()).toMatchObject({ error: { code: 429, status: "RESOURCE_EXHAUSTED" } });
    const anthropic = await post("/v1/messages", JSON.stringify({ model: "c", max_tokens: 1, messages: [] }));
    expect(anthropic.status).toBe(529);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    const custom = await post("/v1/responses", JSON.stringify({ model: "o", input: "x" }));
    expect(custom.status).toBe(502);
    expect(await custom.json()).toMatchObject({ error: { type: "server_error" } });
  });

  it("rejects a body that is not JSON with the provider's 400", async () => {
    const res = await post("/v1/messages", "{oops");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(mock.requests[0]?.rawBody).toBe("{oops");
  });

  it("answers 500 naming the problem when a script is inconsistent", async () => {
    mock.enqueue({ toolCalls: [{ name: "f", arguments: "{not json" }] });
    const res = await post("/v1/chat/completions", chat("x"));
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("toolCalls[0].arguments is not valid JSON");
  });

  it("answers 404 for unknown paths and lists models per protocol", async () => {
    expect((await post("/chat/completions", chat("x"))).status).toBe(404);
    const openai = (await (await fetch(`${mock.url}/v1/models`)).json()) as { data: Array<{ id: string; object: string }> };
    expect(openai.data.map((m) => [m.id, m.object])).toEqual([
      ["m1", "model"],
      ["m2", "model"],
    ]);
    const anthropic = (await (await fetch(`${mock.url}/v1/models`, { headers: { "anthropic-version": "2023-06-01" } })).json()) as {
      data: Array<{ type: string }>;
      has_more: boolean;
    };
    expect(anthropic.has_more).toBe(false);
    expect(anthropic.data[0]?.type).toBe("model");
    const google = (await (await fetch(`${mock.url}/v1beta/models`)).json()) as { models: Array<{ name: string }> };
    expect(google.models[0]?.name).toBe("models/m1");
  });
});

describe("recording", () => {
  it("records method, path, lowercased headers, parsed and raw body", async () => {
    const body = chat("hello", { stream: false });
    await post("/v1/chat/completions", body, { headers: { "Content-Type": "application/json", "X-Custom-Header": "v" } });
    const [req] = mock.requests;
    expect(req).toMatchObject({ seq: 1, method: "POST", path: "/v1/chat/completions", protocol: "openai-chat", rawBody: body, closedEarly: false });
    expect(req?.headers["x-custom-header"]).toBe("v");
    expect(req?.body).toEqual(JSON.parse(body));
  });

  it("shows keep-alive reuse as one connection for sequential requests", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = () =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${mock.url}/v1/chat/completions`, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end(chat("x"));
      });
    expect([await send(), await send(), await send()]).toEqual([200, 200, 200]);
    agent.destroy();
    expect(new Set(mock.requests.map((r) => r.connection)).size).toBe(1);
    expect(mock.connections).toBe(1);
  });
});

describe("timing and failures", () => {
  it("delays the response head by delayMs", async () => {
    mock.enqueue({ text: "late", delayMs: 150 });
    const started = Date.now();
    await post("/v1/chat/completions", chat("x"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("spaces stream chunks by chunkDelayMs", async () => {
    mock.enqueue({ text: ["a", "b", "c"], chunkDelayMs: 40 });
    const started = Date.now();
    const res = await post("/v1/chat/completions", chat("x", { stream: true }));
    const text = await res.text();
    // role, a, b, c, finish, [DONE]: five gaps.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(dataLines(text).at(-1)).toBe("[DONE]");
  });

  it("destroys the socket after failAfterChunks events", async () => {
    mock.enqueue({ text: ["a", "b", "c", "d"], failAfterChunks: 2 });
    const res = await post("/v1/chat/completions", chat("x", { stream: true }));
    const reader = res.body!.getReader();
    const received: string[] = [];
    const err = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return undefined;
        received.push(new TextDecoder().decode(value));
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(dataLines(received.join(""))).toHaveLength(2);
    expect(mock.aborted).toBe(0); // the mock cut it, not the client
  });

  it("ends a stream with the protocol's in-band error event", async () => {
    mock.enqueue({ text: ["a", "b"], streamError: { afterChunks: 2, error: "server_error", message: "boom" } });
    const res = await post("/v1/chat/completions", chat("x", { stream: true }));
    const lines = dataLines(await res.text());
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2] ?? "null")).toMatchObject({ error: { message: "boom", type: "server_error" } });
  });

  it("hangs until the client aborts, and counts the abort", async () => {
    mock.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = post("/v1/chat/completions", chat("x"), { signal: controller.signal }).catch((e: unknown) => e);
    await mock.until(() => mock.requests.length === 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await mock.until(() => mock.aborted === 1);
    expect(mock.requests[0]?.closedEarly).toBe(true);
  });

  it("marks a stream the client stopped reading and closed as closedEarly", async () => {
    mock.enqueue({ text: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 20 });
    const controller = new AbortController();
    const res = await post("/v1/chat/completions", chat("x", { stream: true }), { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await mock.until(() => mock.aborted === 1);
    expect(mock.requests[0]?.closedEarly).toBe(true);
  });
});

describe("fast mock and CLI", () => {
  it("serves fixed OpenAI answers and streams of N chunks without recording", async () => {
    const fast = await startFastMock({ chunks: 5 });
    try {
      const json = (await (await fetch(`${fast.baseUrl}/chat/completions`, { method: "POST", body: chat("x") })).json()) as {
        choices: Array<{ message: { content: string } }>;
      };
      expect(json.choices[0]?.message.content).toBe("word0 word1 word2 word3 word4 ");
      const text = await (await fetch(`${fast.baseUrl}/chat/completions`, { method: "POST", body: chat("x", { stream: true }) })).text();
      const lines = dataLines(text);
      // role + 5 content + finish + usage + [DONE]
      expect(lines).toHaveLength(9);
      expect(JSON.parse(lines[7] ?? "null")).toMatchObject({ choices: [], usage: { completion_tokens: 5 } });
      expect(fast.served).toBe(2);
    } finally {
      await fast.close();
    }
  });

  it("answers /v1/messages as Anthropic Messages, accepted by the official SDK", async () => {
    const fast = await startFastMock({ chunks: 3 });
    try {
      const { default: Anthropic } = await import("@anthropic-ai/sdk");
      const client = new Anthropic({ baseURL: fast.url, apiKey: "x", maxRetries: 0 });
      const params = { model: "m", max_tokens: 10, messages: [{ role: "user" as const, content: "x" }] };
      const plain = await client.messages.create(params);
      expect(plain.content).toEqual([{ type: "text", text: "word0 word1 word2 " }]);
      const streamed = await client.messages.stream(params).finalMessage();
      expect(streamed.content).toMatchObject([{ type: "text", text: "word0 word1 word2 " }]);
      expect(streamed.usage.output_tokens).toBe(3);
    } finally {
      await fast.close();
    }
  });

  it("starts either mock from CLI arguments and rejects bad numbers", async () => {
    const handle = await serve(["--fast", "--chunks", "2"]);
    const text = await (await fetch(`${handle.url}/v1/chat/completions`, { method: "POST", body: '{"stream":true}' })).text();
    expect(dataLines(text)).toHaveLength(6);
    await handle.close();
    const full = await serve([]);
    const res = await fetch(`${full.url}/v1/messages`, {
      method: "POST",
      body: JSON.stringify({ model: "c", max_tokens: 1, messages: [{ role: "user", content: "yo" }] }),
    });
    expect(((await res.json()) as { content: Array<{ text: string }> }).content[0]?.text).toBe("mock: yo");
    await full.close();
    await expect(serve(["--port", "abc"])).rejects.toThrow('--port must be a non-negative integer, got "abc"');
  });

  it("runs as a separate process from the built entry", async () => {
    const entry = new URL("../dist/serve.js", import.meta.url);
    // turbo builds before testing; a bare `vitest run` on a fresh checkout builds here.
    if (!existsSync(entry))
      execFileSync(process.execPath, [createRequire(import.meta.url).resolve("typescript/bin/tsc"), "-b", "--force"], { cwd: new URL("..", import.meta.url) });
    const child = spawn(process.execPath, [entry.pathname, "--fast", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.once("data", (d: Buffer) => resolve(d.toString()));
        child.once("exit", (code) => reject(new Error(`serve.js exited with ${code}`)));
      });
      const url = /http:\/\/[\d.]+:\d+/.exec(line)?.[0];
      expect(url).toBeDefined();
      const res = await fetch(`${url}/v1/models`);
      expect(res.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
