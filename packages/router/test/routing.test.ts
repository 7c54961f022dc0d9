import type { Protocol } from "@bitrouter/core";
import { describe, expect, it } from "vitest";
import { parseConfig } from "@bitrouter/config";
import { DynamicRoutes, createRouter } from "../src/index.js";
import { RoutingTable } from "../src/table.js";
import type { CompletionRecord, RouterHook } from "../src/index.js";
import { chatBody, mockConfig, useMock } from "./helpers.js";

const mock = useMock();

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  new Request(`http://router.test${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

describe("routing table", () => {
  it("resolves dynamic, then virtual, then provider:model_id", () => {
    const dynamic = new DynamicRoutes();
    const config = mockConfig(
      mock(),
      `
models:
  smart:
    strategy: priority
    endpoints:
      - { provider: ant, model_id: claude-test }
      - { provider: oai, model_id: gpt-test }
`,
    );
    const table = new RoutingTable(config, dynamic);
    expect(table.resolve("smart")).toMatchObject({
      kind: "virtual",
      strategy: "priority",
      targets: [
        { provider: "ant", modelId: "claude-test" },
        { provider: "oai", modelId: "gpt-test" },
      ],
    });
    expect(table.resolve("oai:some/model:free")).toMatchObject({ kind: "direct", targets: [{ provider: "oai", modelId: "some/model:free" }] });
    dynamic.set({ name: "smart", strategy: "load_balance", endpoints: ["goo:gemini-x"] });
    expect(table.resolve("smart")).toMatchObject({ kind: "dynamic", targets: [{ provider: "goo", modelId: "gemini-x", endpoint: { protocol: "google" } }] });
  });

  it("names the unknown model and the nearest known names", () => {
    const table = new RoutingTable(
      mockConfig(
        mock(),
        `
models:
  smart: { endpoints: [{ provider: oai, model_id: gpt-test }] }
`,
      ),
    );
    expect(() => table.resolve("smrat")).toThrow(/unknown model 'smrat'.*'smart'/);
    expect(() => table.resolve("gpt-test")).toThrow(/'oai:gpt-test'/);
    try {
      table.resolve("nothing-like-it");
    } catch (error) {
      expect(error).toMatchObject({ status: 404, kind: "not_found", param: "model" });
    }
  });

  it("refuses a direct route to a provider without a key, naming the env var", () => {
    const table = new RoutingTable(
      mockConfig(
        mock(),
        `
  keyless:
    api_protocol: openai
    api_base: http://127.0.0.1:1/v1
    env_prefix: KEYLESS
`,
      ),
    );
    expect(() => table.resolve("keyless:m")).toThrow(/no API key \(set KEYLESS_API_KEY/);
  });

  it("lists virtual, dynamic and available direct models", () => {
    const dynamic = new DynamicRoutes();
    dynamic.set({ name: "research", strategy: "priority", endpoints: ["oai:gpt-test"] });
    const router = createRouter(
      mockConfig(
        mock(),
        `
models:
  smart: { name: Smart, endpoints: [{ provider: oai, model_id: gpt-test }] }
`,
      ),
      { dynamicRoutes: dynamic },
    );
    const ids = router.modelsBody().data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(["research", "smart", "oai:gpt-test", "ant:claude-test"]));
    const gpt = router.modelsBody().data.find((m) => m.id === "oai:gpt-test");
    expect(gpt).toMatchObject({ object: "model", owned_by: "oai", max_output_tokens: 1000, pricing: { output_tokens: { text: 10 } } });
  });
});

describe("failover", () => {
  const config = () =>
    mockConfig(
      mock(),
      `
models:
  smart:
    strategy: priority
    endpoints:
      - { provider: oai, model_id: first }
      - { provider: ant, model_id: second }
`,
    );

  it("moves to the next endpoint on 5xx and 429, before the first byte", async () => {
    const router = createRouter(config());
    mock().enqueue({ error: "server_error", status: 500 });
    const res = await router.fetch(post("/v1/chat/completions", chatBody("smart", "hi")));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]!.message.content).toContain("hi");
    expect(mock().requests.map((r) => r.path)).toEqual(["/v1/chat/completions", "/v1/messages"]);
    expect(mock().requests[1]!.body).toMatchObject({ model: "second" });

    mock().reset();
    mock().enqueue({ error: "rate_limit", status: 429 });
    const streamed = await router.fetch(post("/v1/chat/completions", chatBody("smart", "again", { stream: true })));
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain("[DONE]");
    expect(mock().requests).toHaveLength(2);
    await router.close();
  });

  it("does not fail over on other 4xx: the caller gets the upstream's error", async () => {
    const router = createRouter(config());
    mock().enqueue({ error: "invalid_request", status: 400, message: "bad temperature" });
    const res = await router.fetch(post("/v1/chat/completions", chatBody("smart")));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("bad temperature");
    expect(mock().requests).toHaveLength(1);
    await router.close();
  });

  it("fails over on a connection error and reports 502 when every endpoint fails", async () => {
    const router = createRouter(
      mockConfig(
        mock(),
        `
  dead:
    api_protocol: openai
    api_base: http://127.0.0.1:9/v1
    api_key: k
models:
  m:
    endpoints:
      - { provider: dead, model_id: x }
      - { provider: oai, model_id: y }
  allbad:
    endpoints:
      - { provider: dead, model_id: x }
`,
      ),
    );
    const ok = await router.fetch(post("/v1/chat/completions", chatBody("m")));
    expect(ok.status).toBe(200);
    const bad = await router.fetch(post("/v1/chat/completions", chatBody("allbad")));
    expect(bad.status).toBe(502);
    const body = (await bad.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/dead/);
    await router.close();
  });

  it("never fails over after the first byte: a mid-stream failure ends with an error event", async () => {
    const router = createRouter(config());
    mock().enqueue({ text: ["one ", "two ", "three ", "four"], failAfterChunks: 3 });
    const res = await router.fetch(post("/v1/chat/completions", chatBody("smart", "x", { stream: true })));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"error"');
    expect(text).not.toContain("[DONE]");
    expect(mock().requests).toHaveLength(1);
    await router.close();
  });
});

describe("load balance", () => {
  it("alternates endpoints round-robin (the upstream sees each key in turn)", async () => {
    const router = createRouter(
      mockConfig(
        mock(),
        `
models:
  fast:
    strategy: load_balance
    endpoints:
      - { provider: oai, model_id: m, api_key: key-a }
      - { provider: oai, model_id: m, api_key: key-b }
`,
      ),
    );
    for (let i = 0; i < 4; i++) {
      const res = await router.fetch(post("/v1/chat/completions", chatBody("fast")));
      expect(res.status).toBe(200);
    }
    expect(mock().requests.map((r) => r.headers.authorization)).toEqual(["Bearer key-a", "Bearer key-b", "Bearer key-a", "Bearer key-b"]);
    await router.close();
  });

  it("skips an endpoint that just failed", async () => {
    const router = createRouter(
      mockConfig(
        mock(),
        `
models:
  fast:
    strategy: load_balance
    endpoints:
      - { provider: oai, model_id: m, api_key: key-a }
      - { provider: oai, model_id: m, api_key: key-b }
`,
      ),
    );
    mock().enqueue({ error: "server_error", status: 503 });
    await router.fetch(post("/v1/chat/completions", chatBody("fast"))); // a fails, b answers
    mock().reset();
    for (let i = 0; i < 3; i++) await router.fetch(post("/v1/chat/completions", chatBody("fast")));
    expect(mock().requests.map((r) => r.headers.authorization)).toEqual(["Bearer key-b", "Bearer key-b", "Bearer key-b"]);
    await router.close();
  });
});

describe("hooks and the library API", () => {
  it("runs beforeDispatch, onStreamEvent and onComplete with usage and cost", async () => {
    const records: CompletionRecord[] = [];
    const hook: RouterHook = {
      name: "test",
      beforeDispatch: (_ctx, request) => ({ ...request, temperature: 0.25 }),
      onStreamEvent: (_ctx, event) => (event.type === "text_delta" ? { ...event, text: event.text.toUpperCase() } : event),
      onComplete: (record) => records.push(record),
    };
    const router = createRouter(mockConfig(mock()), { hooks: [hook] });
    mock().enqueue({ text: ["abc", "def"], usage: { input: 1000, output: 100, cacheRead: 400 } });
    const res = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test", "x", { stream: true, stream_options: { include_usage: true } })));
    const text = await res.text();
    expect(text).toContain("ABC");
    expect(mock().requests[0]!.body).toMatchObject({ temperature: 0.25 });
    expect(records).toHaveLength(1);
    // 600 uncached x 2.5 + 400 cached x 1.25 + 100 out x 10 = 1500 + 500 + 1000 micro-USD
    expect(records[0]).toMatchObject({
      route: "oai:gpt-test",
      provider: "oai",
      modelId: "gpt-test",
      stream: true,
      status: 200,
      costMicroUsd: 3000,
      usage: { inputTokens: 1000, outputTokens: 100, cacheReadTokens: 400 },
    });
    expect(records[0]!.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(records[0]!.ttfbMs).toBeLessThanOrEqual(records[0]!.latencyMs);
    await router.close();
  });

  it("a hook's error headers and response headers reach the caller; a Bearer token stops at a comma", async () => {
    let seenCredential: string | undefined;
    const hook: RouterHook = {
      name: "pay",
      onRequest(ctx) {
        seenCredential = ctx.credential;
        if (!ctx.headers.get("authorization")?.includes("Payment ")) {
          throw Object.assign(new Error("payment required"), {
            kind: "payment_required",
            status: 402,
            message: "payment required",
            headers: { "www-authenticate": 'Payment id="x"' },
          });
        }
        ctx.responseHeaders = { "payment-receipt": "r1", "cache-control": "private" };
      },
    };
    const router = createRouter(mockConfig(mock()), { hooks: [hook] });
    const refused = await router.fetch(
      post("/v1/messages", JSON.stringify({ model: "ant:claude-test", max_tokens: 5, messages: [{ role: "user", content: "x" }] })),
    );
    expect(refused.status).toBe(402);
    expect(refused.headers.get("www-authenticate")).toBe('Payment id="x"');
    expect(await refused.json()).toMatchObject({ type: "error", error: { message: "payment required" } });

    mock().enqueue({ text: "paid" });
    const paid = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test"), { authorization: "Bearer jwt.token.sig, Payment abc" }));
    expect(paid.status).toBe(200);
    expect(seenCredential).toBe("jwt.token.sig");
    expect(paid.headers.get("payment-receipt")).toBe("r1");
    expect(paid.headers.get("cache-control")).toBe("private");
    await router.close();
  });

  it("beforeCommit runs once the answer exists (after failover), and can refuse it: the caller gets the error, not the content", async () => {
    const seen: string[] = [];
    let refuse = true;
    const hook: RouterHook = {
      name: "commit",
      beforeCommit(ctx) {
        seen.push(`${ctx.stream ? "stream" : "json"}:${ctx.target?.provider}`);
        if (refuse) throw Object.assign(new Error("not settled"), { kind: "payment_required", status: 402, message: "not settled" });
        ctx.responseHeaders = { "x-settled": "yes" };
      },
    };
    const config = mockConfig(mock(), `\nmodels:\n  both: { endpoints: [{ provider: oai, model_id: gpt-test }, { provider: oai, model_id: gpt-test }] }\n`);
    const router = createRouter(config, { hooks: [hook] });
    // Not for a failed attempt: the first endpoint fails, the second answers, beforeCommit runs once.
    mock().enqueue({ error: "server_error", status: 503 }, { text: "secret answer" });
    const refused = await router.fetch(post("/v1/chat/completions", chatBody("both")));
    expect(refused.status).toBe(402);
    expect(await refused.text()).not.toContain("secret answer");
    mock().enqueue({ text: ["secret", " stream"] });
    const refusedStream = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test", "x", { stream: true })));
    expect(refusedStream.status).toBe(402);
    expect(await refusedStream.text()).not.toContain("secret");
    expect(seen).toEqual(["json:oai", "stream:oai"]);

    refuse = false;
    mock().enqueue({ text: ["open", " stream"] });
    const allowed = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test", "x", { stream: true })));
    expect(allowed.headers.get("x-settled")).toBe("yes");
    expect(await allowed.text()).toContain("open");
    await router.close();
  });

  it("generate() and stream() route canonical requests", async () => {
    const router = createRouter(mockConfig(mock()));
    mock().enqueue({ text: "canonical answer" });
    const response = await router.generate({ model: "ant:claude-test", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] });
    expect(response.content).toEqual([{ type: "text", text: "canonical answer" }]);
    expect(mock().requests[0]!.body).toMatchObject({ model: "claude-test", max_tokens: 2048 });

    mock().enqueue({ text: ["a", "b"] });
    const events = await router.stream({ model: "goo:gemini-x", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] });
    let text = "";
    for await (const event of events) if (event.type === "text_delta") text += event.text;
    expect(text).toBe("ab");
    await router.close();
  });

  it("answers malformed JSON and a missing model with 400 in the caller's protocol", async () => {
    const router = createRouter(mockConfig(mock()));
    const bad = await router.fetch(post("/v1/messages", "{not json"));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const missing = await router.fetch(post("/v1/chat/completions", JSON.stringify({ messages: [] })));
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { param: "model" } });
    await router.close();
  });
});

describe("token counting", () => {
  const count = async (router: ReturnType<typeof createRouter>, protocol: Protocol, body: unknown, pathModel?: string) => {
    const signal = new AbortController().signal;
    const inbound = { protocol, body: JSON.stringify(body), headers: new Headers(), requestId: "r", signal, ...(pathModel ? { pathModel } : {}) };
    const result = await router.countTokens(inbound);
    if (result.type !== "json") throw new Error("expected a JSON answer");
    return { status: result.status, body: JSON.parse(result.body) as Record<string, unknown> };
  };

  it("estimates in the caller's shape when the route leaves its protocol, and refuses a protocol without token counting", async () => {
    const router = createRouter(mockConfig(mock()));
    const messages = [{ role: "user", content: "hello there" }];
    expect(await count(router, "anthropic", { model: "oai:gpt-test", messages })).toEqual({ status: 200, body: { input_tokens: 7 } });
    const contents = [{ role: "user", parts: [{ text: "hello there" }] }];
    expect(await count(router, "google", { generateContentRequest: { contents } }, "oai:gpt-test")).toEqual({ status: 200, body: { totalTokens: 7 } });
    const chat = await count(router, "openai-chat", { model: "oai:gpt-test", messages });
    expect(chat).toMatchObject({ status: 404, body: { error: { message: "openai-chat has no token counting" } } });
    expect(mock().requests).toHaveLength(0);
    await router.close();
  });
});

describe("provider key failures", () => {
  it("answers 502 (not the upstream's 401) and fails over when a provider rejects its own key", async () => {
    const router = createRouter(
      mockConfig(
        mock(),
        `
models:
  pool:
    endpoints:
      - { provider: ant, model_id: a }
      - { provider: oai, model_id: b }
`,
      ),
    );
    mock().enqueue({ error: "authentication", status: 401, message: "invalid x-api-key" });
    const ok = await router.fetch(post("/v1/chat/completions", chatBody("pool")));
    expect(ok.status).toBe(200);
    mock().enqueue({ error: "authentication", status: 401, message: "invalid key" });
    const res = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test")));
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("provider_auth_failed");
    expect(body.error.message).toMatch(/provider 'oai' rejected its configured API key/);
    await router.close();
  });
});

describe("secrets", () => {
  it("never passes a provider's key back to the caller, even when the upstream echoes it", async () => {
    const router = createRouter(mockConfig(mock()));
    mock().enqueue({ status: 400, body: { error: { message: "bad request for key key-oai", type: "invalid_request_error" } } });
    const res = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test")));
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain("key-oai");
    expect(text).toContain("[redacted]");
    await router.close();
  });

  it("blanks a supplied key (auth: wallet) that the upstream echoes, as it does a configured one", async () => {
    const extra = `  signed:\n    api_protocol: openai\n    api_base: ${mock().baseUrl("openai-chat")}\n    auth: { type: wallet }\n`;
    const router = createRouter(mockConfig(mock(), extra), { walletToken: () => async () => "wallet-token-123" });
    for (const path of ["/v1/chat/completions", "/v1/responses"]) {
      mock().enqueue({ status: 400, body: { error: { message: "bad request for key wallet-token-123", type: "invalid_request_error" } } });
      const body = path === "/v1/responses" ? JSON.stringify({ model: "signed:gpt-test", input: "x" }) : chatBody("signed:gpt-test");
      const res = await router.fetch(post(path, body));
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(text).not.toContain("wallet-token-123");
    }
    expect(mock().requests.at(-1)?.headers.authorization).toBe("Bearer wallet-token-123");
    await router.close();
  });
});

describe("fast path", () => {
  it("meters an OpenAI stream whose caller did not ask for usage, without showing it the usage chunk", async () => {
    const records: CompletionRecord[] = [];
    const router = createRouter(mockConfig(mock()), { hooks: [{ name: "meter", onComplete: (r) => records.push(r) }] });
    // Paced, so content chunks arrive on their own after the first (passed on unparsed, see sniff.ts).
    mock().enqueue({ text: ["a", "b", "c", "d"], usage: { input: 10, output: 2 }, chunkDelayMs: 2 });
    const res = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test", "x", { stream: true })));
    const text = await res.text();
    expect(mock().requests[0]!.body).toMatchObject({ stream_options: { include_usage: true } });
    type Chunk = { usage?: unknown; choices: Array<{ delta: { content?: string } }> };
    const chunks = text
      .split("\n\n")
      .filter((e) => e.startsWith("data: {"))
      .map((e) => JSON.parse(e.slice(6)) as Chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("abcd");
    expect(chunks.every((c) => c.choices.length > 0 && !c.usage)).toBe(true);
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(records[0]!.usage).toMatchObject({ inputTokens: 10, outputTokens: 2 });
    await router.close();
  });

  it("forwards the caller's body untouched apart from the model", async () => {
    const router = createRouter(mockConfig(mock()));
    const body = { model: "oai:gpt-test", messages: [{ role: "user", content: "x" }], logit_bias: { "50256": -100 }, some_future_field: { nested: [1, 2] } };
    await (await router.fetch(post("/v1/chat/completions", JSON.stringify(body)))).text();
    expect(mock().requests[0]!.body).toEqual({ ...body, model: "gpt-test" });
    await router.close();
  });
});

describe("OpenAI-compatible upstreams", () => {
  it("get the output limit as max_tokens (OpenAI itself gets max_completion_tokens)", async () => {
    const router = createRouter(mockConfig(mock()));
    await router.generate({ model: "oai:gpt-test", maxTokens: 77, messages: [{ role: "user", content: [{ type: "text", text: "x" }] }] });
    expect(mock().requests[0]!.body).toMatchObject({ max_tokens: 77 });
    expect(mock().requests[0]!.body).not.toHaveProperty("max_completion_tokens");
    const table = new RoutingTable(parseConfig("providers:\n  openai:\n    api_key: k\n", { env: {} }).config);
    expect(table.resolve("openai:gpt-4o").targets[0]!.maxTokensField).toBeUndefined();
    await router.close();
  });
});

describe("providers paid per request (auth: mpp)", () => {
  const yaml =
    "inherit_defaults: false\nproviders:\n  paid:\n    api_protocol: openai\n    api_base: http://127.0.0.1:9/v1\n    auth: { type: mpp }\n    models: { m: {} }\n";
  it("are unavailable without a payer (their requests would go out unpaid), and carry it when there is one", () => {
    const config = parseConfig(yaml, { env: {} }).config;
    const unpaid = new RoutingTable(config);
    expect(unpaid.isAvailable("paid")).toBe(false);
    expect(unpaid.listModels().map((m) => m.id)).not.toContain("paid:m");
    expect(() => unpaid.resolve("paid:m")).toThrow(/paid per request \(auth: mpp\) and no wallet can pay it/);
    const pay = async () => ({ authorization: "Payment x" });
    const paying = new RoutingTable(config, undefined, (provider) => (provider === "paid" ? pay : undefined));
    expect(paying.isAvailable("paid")).toBe(true);
    expect(paying.resolve("paid:m").targets[0]!.endpoint.pay).toBe(pay);
  });
});

describe("deadline", () => {
  it("gives the whole request one deadline, failover attempts included, and answers 504", async () => {
    const router = createRouter(
      mockConfig(
        mock(),
        `
models:
  slow:
    endpoints:
      - { provider: oai, model_id: a }
      - { provider: ant, model_id: b }
`,
      ),
      { requestTimeoutMs: 400 },
    );
    mock().enqueue({ hang: true }, { hang: true });
    const res = await router.fetch(post("/v1/chat/completions", chatBody("slow")));
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { type: string } }).error).toBeDefined();
    await router.close();
  });
});

describe("fast-path metering", () => {
  const cases = [
    { name: "openai-chat", path: "/v1/chat/completions", model: "oai:gpt-test", body: (m: string) => chatBody(m, "x", { stream: true }) },
    {
      name: "anthropic",
      path: "/v1/messages",
      model: "ant:claude-test",
      body: (m: string) => JSON.stringify({ model: m, max_tokens: 50, stream: true, messages: [{ role: "user", content: "x" }] }),
    },
    {
      name: "google",
      path: "/v1beta/models/goo:gemini-test:streamGenerateContent",
      model: "",
      body: () => JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    },
  ];
  it.each(cases)("$name: a piped stream is metered with its usage and no error", async (c) => {
    const records: CompletionRecord[] = [];
    const router = createRouter(mockConfig(mock()), { hooks: [{ name: "meter", onComplete: (r) => records.push(r) }] });
    // Paced, so events arrive in chunks of their own: held until the first content, then sniffed.
    mock().enqueue({
      text: ["one ", "two ", "three"],
      usage: { input: 30, output: 3, cacheRead: 10 },
      toolCalls: [{ name: "f", arguments: '{"a":1}' }],
      chunkDelayMs: 2,
    });
    const res = await router.fetch(post(`${c.path}${c.name === "google" ? "?alt=sse" : ""}`, c.body(c.model)));
    const text = await res.text();
    expect(text.indexOf("one ")).toBeLessThan(text.indexOf("two "));
    expect(text.indexOf("two ")).toBeLessThan(text.indexOf("three"));
    expect(records).toHaveLength(1);
    expect(records[0]!.errorKind).toBeUndefined();
    expect(records[0]!.usage).toMatchObject({ inputTokens: 30, outputTokens: 3, cacheReadTokens: 10 });
    await router.close();
  });

  const plain = [
    { name: "openai-chat", path: "/v1/chat/completions", body: () => chatBody("oai:gpt-test", "x") },
    {
      name: "anthropic",
      path: "/v1/messages",
      body: () => JSON.stringify({ model: "ant:claude-test", max_tokens: 50, messages: [{ role: "user", content: "x" }] }),
    },
    {
      name: "google",
      path: "/v1beta/models/goo:gemini-test:generateContent",
      body: () => JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    },
  ];
  it.each(plain)("$name: a non-stream answer, short or long (only its usage field parsed), is metered and reaches the caller whole", async (c) => {
    const records: CompletionRecord[] = [];
    const router = createRouter(mockConfig(mock()), { hooks: [{ name: "meter", onComplete: (r) => records.push(r) }] });
    for (const text of ["one two three", `one two three ${"and more ".repeat(500)}`]) {
      mock().enqueue({ text, usage: { input: 30, output: 3, cacheRead: 10 } });
      const res = await router.fetch(post(c.path, c.body()));
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(text);
    }
    expect(records.map((r) => r.usage)).toEqual([
      expect.objectContaining({ inputTokens: 30, outputTokens: 3, cacheReadTokens: 10 }),
      expect.objectContaining({ inputTokens: 30, outputTokens: 3, cacheReadTokens: 10 }),
    ]);
    await router.close();
  });

  it("records a mid-stream upstream error on a piped stream", async () => {
    const records: CompletionRecord[] = [];
    const router = createRouter(mockConfig(mock()), { hooks: [{ name: "meter", onComplete: (r) => records.push(r) }] });
    mock().enqueue({ text: ["a", "b", "c"], streamError: { afterChunks: 2, error: "overloaded" } });
    await (
      await router.fetch(
        post("/v1/messages", JSON.stringify({ model: "ant:claude-test", max_tokens: 5, stream: true, messages: [{ role: "user", content: "x" }] })),
      )
    ).text();
    expect(records[0]!.errorKind).toBeDefined();
    await router.close();
  });
});

describe("request ids", () => {
  it("fetch makes its own id for every request; a caller's sane x-request-id is echoed, never taken as the id", async () => {
    const ids: string[] = [];
    const hook: RouterHook = { name: "ids", onComplete: (_record, ctx) => ids.push(ctx.requestId) };
    const router = createRouter(mockConfig(mock()), { hooks: [hook] });
    const first = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test"), { "x-request-id": "same" }));
    const second = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test"), { "x-request-id": "same" }));
    expect([first.headers.get("x-request-id"), second.headers.get("x-request-id")]).toEqual(["same", "same"]);
    // A header that is no token (spaces, too long) is neither the id nor echoed.
    const odd = await router.fetch(post("/v1/chat/completions", chatBody("oai:gpt-test"), { "x-request-id": "a b".repeat(60) }));
    await router.close();
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(ids).not.toContain("same");
    expect(odd.headers.get("x-request-id")).toBe(ids[2]);
  });
});
