// The outbound client's transport: headers, URLs, SSE parsing, deadlines, aborts, connection
// failures, error mapping and keep-alive, against the testkit's mock upstream.
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { type MockUpstream, startMock } from "@bitrouter/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CanonicalRequest, StreamEvent } from "@bitrouter/core";
import { buildHeaders, createProviderClient, isAbortedError, type ProviderClient, type ProviderEndpoint, ProviderError, upstreamUrl } from "../src/client.js";
import { anthropicCodec } from "../src/protocols/anthropic/index.js";
import { openaiChatCodec } from "../src/protocols/openai-chat/index.js";
import { sseEvents } from "../src/sse.js";

let mock: MockUpstream;
let client: ProviderClient;
beforeAll(async () => {
  mock = await startMock();
  client = createProviderClient();
});
afterAll(async () => {
  await client.close();
  await mock.close();
});
beforeEach(() => {
  mock.reset();
});

const openai = (extra: Partial<ProviderEndpoint> = {}): ProviderEndpoint => ({
  provider: "openai-test",
  protocol: "openai-chat",
  apiBase: mock.baseUrl("openai-chat"),
  apiKey: "sk-secret-key-123",
  ...extra,
});

const chatBody = (content = "hi", extra: Record<string, unknown> = {}) => JSON.stringify({ model: "gpt-x", messages: [{ role: "user", content }], ...extra });

const hello: CanonicalRequest = { model: "virtual", messages: [{ role: "user", content: [{ type: "text", text: "hello" }] }], stream: false };

async function caught(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

async function drain(events: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe("auth and headers", () => {
  it("sends each protocol's auth header by default", () => {
    expect(buildHeaders(openai()).authorization).toBe("Bearer sk-secret-key-123");
    expect(buildHeaders(openai({ protocol: "openai-responses" })).authorization).toBe("Bearer sk-secret-key-123");
    const anthropic = buildHeaders(openai({ protocol: "anthropic" }));
    expect(anthropic["x-api-key"]).toBe("sk-secret-key-123");
    expect(anthropic["anthropic-version"]).toBe("2023-06-01");
    expect(anthropic.authorization).toBeUndefined();
    expect(buildHeaders(openai({ protocol: "google" }))["x-goog-api-key"]).toBe("sk-secret-key-123");
  });

  it("lets explicit auth win, sends nothing without a key, and keeps a configured anthropic-version", () => {
    expect(buildHeaders(openai({ protocol: "anthropic", auth: { type: "bearer" } }))).toMatchObject({ authorization: "Bearer sk-secret-key-123" });
    expect(buildHeaders(openai({ auth: { type: "header", headerName: "Api-Key" } }))).toMatchObject({ "api-key": "sk-secret-key-123" });
    expect(buildHeaders(openai({ auth: { type: "header", headerName: "Api-Key" } })).authorization).toBeUndefined();
    expect(buildHeaders(openai({ auth: { type: "none" } })).authorization).toBeUndefined();
    const { apiKey: _key, ...keyless } = openai();
    const noKey = buildHeaders(keyless);
    expect(Object.keys(noKey)).toEqual(["content-type"]);
    const pinned = buildHeaders(openai({ protocol: "anthropic", defaultHeaders: { "Anthropic-Version": "2024-01-01", "anthropic-beta": "x" } }));
    expect(pinned).toMatchObject({ "anthropic-version": "2024-01-01", "anthropic-beta": "x" });
  });

  it("gives every call its own headers: what one call adds never reaches the next call to the endpoint", () => {
    const endpoint = openai({ protocol: "anthropic" });
    const first = buildHeaders(endpoint);
    first.accept = "text/event-stream";
    first["content-length"] = "9";
    expect(buildHeaders(endpoint, { "anthropic-beta": "files-api" })["anthropic-beta"]).toBe("files-api");
    expect(buildHeaders(endpoint)).toEqual({ "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "sk-secret-key-123" });
  });

  it("combines a provider's beta list with the caller's instead of dropping the caller's", () => {
    const endpoint = openai({ protocol: "anthropic", defaultHeaders: { "anthropic-beta": "prompt-caching-2024-07-31, files-api" } });
    const headers = buildHeaders(endpoint, { "anthropic-beta": "files-api,context-management-2025-06-27", "anthropic-version": "2099-01-01" });
    expect(headers["anthropic-beta"]).toBe("prompt-caching-2024-07-31,files-api,context-management-2025-06-27");
    expect(headers["anthropic-version"]).toBe("2099-01-01");
  });

  it("adds default headers but never lets them replace the auth header", async () => {
    const endpoint = openai({ defaultHeaders: { Authorization: "Bearer attacker", "X-Org": "acme" } });
    const res = await client.request({ endpoint, path: "/chat/completions", body: chatBody(), headers: { "X-Trace": "t1" } });
    await res.body.dump();
    const h = mock.requests[0]!.headers;
    expect(h.authorization).toBe("Bearer sk-secret-key-123");
    expect(h["x-org"]).toBe("acme");
    expect(h["x-trace"]).toBe("t1");
    expect(h["content-type"]).toBe("application/json");
  });

  it("asks a key supplier on each request, in the endpoint's auth style; a failing supplier is an error naming the provider", async () => {
    const keys = ["tok-one-abcdef", "tok-two-abcdef"];
    const { apiKey: _, ...keyless } = openai();
    const endpoint: ProviderEndpoint = { ...keyless, apiKeySupplier: async () => keys.shift()!, protocol: "anthropic", auth: { type: "bearer" } };
    for (let i = 0; i < 2; i++) await (await client.request({ endpoint, path: "/v1/messages", body: chatBody() })).body.dump();
    expect(mock.requests.map((r) => r.headers.authorization)).toEqual(["Bearer tok-one-abcdef", "Bearer tok-two-abcdef"]);
    mock.enqueue({ status: 401, body: { error: { message: "token expired: tok-three-abcdef", type: "invalid_request_error" } } });
    keys.push("tok-three-abcdef");
    const echoed = await caught(client.send(openaiChatCodec, { ...endpoint, protocol: "openai-chat" }, hello, { model: "gpt-x" }));
    expect(echoed.message).not.toContain("tok-three-abcdef"); // the supplied key is redacted like a fixed one
    const failing: ProviderEndpoint = { ...keyless, apiKeySupplier: () => Promise.reject(new Error("account locked")) };
    const error = await caught(client.send(openaiChatCodec, failing, hello, { model: "gpt-x" }));
    expect(error.code).toBe("upstream_credential_failed");
    expect(error.message).toBe("openai-test: could not obtain the key to send: account locked");
    expect(mock.requests).toHaveLength(3);
  });

  it("joins api_base and path, keeping the base path and the query", () => {
    expect(upstreamUrl(openai({ apiBase: "https://api.example.com/v1/" }), "/chat/completions")).toEqual({
      origin: "https://api.example.com",
      path: "/v1/chat/completions",
    });
    expect(upstreamUrl(openai({ apiBase: "https://api.moonshot.ai/anthropic" }), "/v1/messages").path).toBe("/anthropic/v1/messages");
    expect(upstreamUrl(openai({ apiBase: "https://g.example" }), "/v1beta/models/m:streamGenerateContent?alt=sse").path).toBe(
      "/v1beta/models/m:streamGenerateContent?alt=sse",
    );
    expect(() => upstreamUrl(openai({ apiBase: "not a url" }), "/x")).toThrow('openai-test: api_base "not a url" is not a valid URL');
  });
});

describe("request", () => {
  it("returns status, headers and the upstream bytes unchanged", async () => {
    mock.enqueue({ text: ["a", "b"] });
    const res = await client.request({ endpoint: openai(), path: "/chat/completions", body: chatBody("x", { stream: true }) });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream");
    const text = await res.body.text();
    expect(text.startsWith('data: {"id":"chatcmpl-mock1"')).toBe(true);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(mock.requests[0]!.path).toBe("/v1/chat/completions");
    expect(mock.requests[0]!.rawBody).toBe(chatBody("x", { stream: true }));
  });

  it("sends GET requests without a body (model lists)", async () => {
    const res = await client.request({ endpoint: openai(), path: "/models", method: "GET" });
    expect(res.status).toBe(200);
    expect(await res.body.json()).toMatchObject({ object: "list", data: [{ id: "mock-model" }] });
    expect(mock.requests[0]).toMatchObject({ method: "GET", path: "/v1/models", rawBody: "" });
  });

  it("returns non-2xx answers as they are", async () => {
    mock.enqueue({ error: "rate_limit" });
    const res = await client.request({ endpoint: openai(), path: "/chat/completions", body: chatBody() });
    expect(res.status).toBe(429);
    expect(await res.body.json()).toMatchObject({ error: { code: "rate_limit_exceeded" } });
  });

  it("reuses keep-alive sockets for sequential requests", async () => {
    // undici frees a socket for the next request one event-loop turn after the body ends, so
    // back-to-back requests share two sockets; with a turn in between, all share one.
    for (const turn of [false, true]) {
      mock.reset();
      const fresh = createProviderClient();
      const calls = [
        () => fresh.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }),
        async () => (await fresh.request({ endpoint: openai(), path: "/chat/completions", body: chatBody() })).body.text(),
        async () => drain(await fresh.stream(openaiChatCodec, openai(), { ...hello, stream: true }, { model: "gpt-x" })),
      ];
      try {
        for (let i = 0; i < 9; i++) {
          await calls[i % calls.length]?.();
          if (turn) await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        await fresh.close();
      }
      expect(mock.requests).toHaveLength(9);
      if (turn) expect(mock.connections).toBe(1);
      else expect(mock.connections).toBeLessThanOrEqual(2);
    }
  });
});

describe("requestWhole (a non-stream answer read by the client)", () => {
  it("returns the status, headers and the whole body; a body in parts reaches the upstream whole", async () => {
    mock.enqueue({ text: "whole" });
    const parts = [Buffer.from('{"model":"gpt-x",'), Buffer.from('"messages":[{"role":"user","content":"hi"}]}')];
    const res = await client.requestWhole({ endpoint: openai(), path: "/chat/completions", body: parts });
    expect(res).toMatchObject({ status: 200, truncated: false, sentKey: "sk-secret-key-123" });
    expect(res.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(res.body.toString("utf8"))).toMatchObject({ object: "chat.completion", choices: [{ message: { content: "whole" } }] });
    expect(mock.requests[0]!.rawBody).toBe(Buffer.concat(parts).toString("utf8"));
    expect(mock.requests[0]!.headers["transfer-encoding"]).toBeUndefined();
  });

  it("returns an error answer as it is, and only the first 64 KiB of a huge one (the connection closed on the rest)", async () => {
    mock.enqueue({ error: "rate_limit" });
    const limited = await client.requestWhole({ endpoint: openai(), path: "/chat/completions", body: chatBody() });
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body.toString("utf8"))).toMatchObject({ error: { code: "rate_limit_exceeded" } });

    mock.enqueue({ status: 500, body: '{"error":{"message":"', padBytes: 100 * 1024 * 1024 });
    const huge = await client.requestWhole({ endpoint: openai(), path: "/chat/completions", body: chatBody() });
    expect(huge).toMatchObject({ status: 500, truncated: true });
    expect(huge.body.length).toBe(64 * 1024);
    await mock.until(() => mock.aborted === 1);
  });

  it("refuses a 2xx answer over its limit, not retryable, and frees the upstream", async () => {
    mock.enqueue({ status: 200, body: '{"choices":[{"message":{"content":"', padBytes: 100 * 1024 * 1024 });
    const error = await caught(client.requestWhole({ endpoint: openai(), path: "/chat/completions", body: chatBody() }, 1024 * 1024));
    expect(error).toMatchObject({ kind: "upstream", code: "response_too_large", retryable: false });
    expect(error.message).toContain("1048576 bytes");
    await mock.until(() => mock.aborted === 1);
  });

  it("a caller abort before the answer cancels the upstream request, as a non-retryable abort", async () => {
    mock.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = caught(client.requestWhole({ endpoint: openai(), path: "/chat/completions", body: chatBody(), signal: controller.signal }));
    await mock.until(() => mock.requests.length === 1);
    controller.abort();
    expect(isAbortedError(await pending)).toBe(true);
    await mock.until(() => mock.requests[0]!.closedEarly);
    expect(
      isAbortedError(await caught(client.requestWhole({ endpoint: openai(), path: "/chat/completions", body: chatBody(), signal: AbortSignal.abort() }))),
    ).toBe(true);
  });

  it("maps a connection cut before the answer to a retryable connection_error", async () => {
    mock.enqueue({ failAfterChunks: 0 });
    const error = await caught(client.requestWhole({ endpoint: openai(), path: "/chat/completions", body: chatBody() }));
    expect(error).toMatchObject({ code: "connection_error", retryable: true });
  });
});

describe("deadlines and aborts", () => {
  it("times out a request that never answers, and the upstream sees the socket close", async () => {
    mock.enqueue({ hang: true });
    // The mock never answers: only the deadline can end this call (no wall-clock bound needed).
    const error = await caught(client.request({ endpoint: openai(), path: "/chat/completions", body: chatBody(), timeoutMs: 150 }));
    expect(error).toMatchObject({ kind: "timeout", code: "upstream_timeout", status: 504, retryable: true });
    expect(error.message).toBe("openai-test: no answer within 150 ms");
    await mock.until(() => mock.requests[0]!.closedEarly);
  });

  it("applies the deadline to a non-stream answer (on undici's coarse clock)", async () => {
    // Without the deadline the answer would arrive after 4 s and succeed: the error proves it applied.
    mock.enqueue({ delayMs: 4_000 });
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x", timeoutMs: 100 }));
    expect(error).toMatchObject({ kind: "timeout", code: "upstream_timeout", retryable: true });
  });

  it("maps the caller's AbortSignal.timeout to a precise timeout error", async () => {
    mock.enqueue({ hang: true });
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x", signal: AbortSignal.timeout(120) }));
    expect(error).toMatchObject({ kind: "timeout", code: "upstream_timeout", retryable: true });
    expect(error.message).toBe("openai-test: the caller's deadline expired");
    await mock.until(() => mock.requests[0]!.closedEarly);
  });

  it("turns a caller abort into a distinct, non-retryable error and cancels the upstream request", async () => {
    mock.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = caught(client.request({ endpoint: openai(), path: "/chat/completions", body: chatBody(), signal: controller.signal }));
    await mock.until(() => mock.requests.length === 1);
    controller.abort();
    const error = await pending;
    expect(error.message).toBe("openai-test: request aborted by the caller");
    expect(isAbortedError(error)).toBe(true);
    expect(error).toMatchObject({ code: "aborted", status: 499, retryable: false });
    await mock.until(() => mock.requests[0]!.closedEarly);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x", signal: AbortSignal.abort() }));
    expect(isAbortedError(error)).toBe(true);
  });

  it("aborting mid-stream stops the events and closes the upstream connection", async () => {
    mock.enqueue({ text: Array.from({ length: 40 }, (_, i) => `w${i} `), chunkDelayMs: 25 });
    const controller = new AbortController();
    const events = await client.stream(openaiChatCodec, openai(), { ...hello, stream: true }, { model: "gpt-x", signal: controller.signal });
    const seen: string[] = [];
    const error = await caught(
      (async () => {
        for await (const e of events) {
          seen.push(e.type);
          if (e.type === "text_delta") controller.abort();
        }
      })(),
    );
    expect(isAbortedError(error)).toBe(true);
    expect(seen.filter((t) => t === "text_delta")).toHaveLength(1);
    await mock.until(() => mock.requests[0]!.closedEarly);
  });

  it("breaking out of a stream releases the socket (the upstream sees it close)", async () => {
    mock.enqueue({ text: Array.from({ length: 40 }, (_, i) => `w${i} `), chunkDelayMs: 25 });
    const events = await client.stream(openaiChatCodec, openai(), { ...hello, stream: true }, { model: "gpt-x" });
    for await (const e of events) if (e.type === "text_delta") break;
    await mock.until(() => mock.requests[0]!.closedEarly);
  });

  it("reads a stream whose events come only after its head, a pause apart", async () => {
    // Nothing of the body is there when reading starts: the reader must wait for it, not end.
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.flushHeaders();
      const frames = [
        { choices: [{ index: 0, delta: { role: "assistant", content: "late" } }] },
        { choices: [{ index: 0, delta: { content: " events" } }] },
        { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      ].map((chunk) => `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-x", ...chunk })}\n\n`);
      frames.push("data: [DONE]\n\n");
      const next = (i: number): void => {
        if (i === frames.length) return void res.end();
        setTimeout(() => res.write(frames[i], () => next(i + 1)), 30);
      };
      next(0);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const events = (await drain(await client.stream(openaiChatCodec, openai({ apiBase }), { ...hello, stream: true }, { model: "gpt-x" }))) as StreamEvent[];
      const text = events.flatMap((e) => (e.type === "text_delta" ? [e.text] : [])).join("");
      expect(text).toBe("late events");
      expect(events.at(-1)).toMatchObject({ type: "finish", stopReason: "stop" });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("applies a per-call idle timeout to a silent stream", async () => {
    mock.enqueue({ text: ["a", "b"], chunkDelayMs: 4_000 });
    const events = await client.stream(openaiChatCodec, openai(), { ...hello, stream: true }, { model: "gpt-x", idleTimeoutMs: 100 });
    // Without the idle timeout the stream would end normally after 8 s: the error proves it applied
    // (undici checks body timeouts on a coarse ~1 s clock, so no tighter bound is asserted).
    const error = await caught(drain(events));
    expect(error).toMatchObject({ kind: "timeout", retryable: true });
    expect(error.message).toBe("openai-test: no data from the upstream within the idle timeout");
  });

  it("times out a stream that goes silent longer than the client's idle timeout", async () => {
    const strict = createProviderClient({ idleTimeoutMs: 100 });
    try {
      mock.enqueue({ text: ["a", "b"], chunkDelayMs: 1_000 });
      const events = await strict.stream(openaiChatCodec, openai(), { ...hello, stream: true }, { model: "gpt-x" });
      const error = await caught(drain(events));
      expect(error).toMatchObject({ kind: "timeout", code: "upstream_timeout", retryable: true });
    } finally {
      await strict.close();
    }
  });
});

describe("connection failures", () => {
  it("maps a refused connection to a retryable connection_error", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const error = await caught(client.send(openaiChatCodec, openai({ apiBase: `http://127.0.0.1:${port}/v1` }), hello, { model: "gpt-x" }));
    expect(error).toMatchObject({ kind: "upstream", code: "connection_error", status: 502, retryable: true, provider: "openai-test" });
    expect(error.message).toBe("openai-test: connection failed (ECONNREFUSED)");
  });

  it("maps a connection reset before the answer to connection_error", async () => {
    mock.enqueue({ failAfterChunks: 0 });
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }));
    expect(error).toMatchObject({ kind: "upstream", code: "connection_error", retryable: true });
  });

  it("maps a stream cut after some events to stream_interrupted", async () => {
    mock.enqueue({ text: ["a", "b", "c", "d"], failAfterChunks: 3 });
    const events = await client.stream(openaiChatCodec, openai(), { ...hello, stream: true }, { model: "gpt-x" });
    const seen: string[] = [];
    const error = await caught(
      (async () => {
        for await (const e of events) seen.push(e.type);
      })(),
    );
    expect(seen).toContain("text_delta");
    expect(error).toMatchObject({ kind: "upstream", code: "stream_interrupted", retryable: true });
  });

  it("fails requests after close()", async () => {
    const c = createProviderClient();
    await c.close();
    const error = await caught(c.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }));
    expect(error.code).toBe("connection_error");
  });
});

describe("upstream error answers", () => {
  it("maps them through the codec, keeping the upstream status and retry hint", async () => {
    mock.enqueue({ error: "rate_limit" });
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }));
    expect(error).toMatchObject({ kind: "rate_limit", status: 429, upstreamStatus: 429, retryable: true, retryAfterMs: 1_000 });
    expect(error.message).toMatch(/^openai-test: upstream answered 429: Rate limit reached/);
  });

  it("marks 408, 409, 429 and 5xx (529 included) retryable, other 4xx not", async () => {
    const statuses = [400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 529];
    const retryable: number[] = [];
    for (const status of statuses) {
      mock.enqueue({ status, body: { error: { message: `failed ${status}`, type: "x" } } });
      const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }));
      expect(error.upstreamStatus).toBe(status);
      if (error.retryable) retryable.push(status);
    }
    expect(retryable).toEqual([408, 409, 429, 500, 502, 503, 529]);
  });

  it("maps Anthropic's 529 overloaded answer", async () => {
    mock.enqueue({ error: "overloaded" });
    const endpoint = openai({ protocol: "anthropic", apiBase: mock.baseUrl("anthropic"), provider: "claude" });
    const error = await caught(client.send(anthropicCodec, endpoint, hello, { model: "claude-x", defaultMaxTokens: 100 }));
    expect(error).toMatchObject({ kind: "overloaded", upstreamStatus: 529, retryable: true });
    expect(error.message).toBe("claude: upstream answered 529: Overloaded");
  });

  it("handles a non-JSON error body", async () => {
    mock.enqueue({ status: 502, body: "<html>Bad Gateway</html>" });
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }));
    expect(error).toMatchObject({ upstreamStatus: 502, retryable: true });
    expect(error.message.startsWith("openai-test: upstream answered 502")).toBe(true);
  });

  it("never puts the API key in the error message, even when the upstream echoes it", async () => {
    mock.enqueue({
      status: 401,
      body: { error: { message: "Incorrect API key provided: sk-secret-key-123.", type: "invalid_request_error", code: "invalid_api_key" } },
    });
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }));
    expect(error.kind).toBe("authentication");
    expect(error.message).not.toContain("sk-secret-key-123");
    expect(error.message).toContain("[redacted]");
  });

  it("reports a 2xx body that is not JSON as an unreadable upstream answer", async () => {
    mock.enqueue({ status: 200, body: "not json" });
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }));
    expect(error).toMatchObject({ kind: "upstream", code: "invalid_upstream_response", retryable: true });
  });

  it("reads at most 64 KiB of a huge error body and closes the connection on the rest", async () => {
    mock.enqueue({ status: 500, body: '{"error":{"message":"', padBytes: 100 * 1024 * 1024 });
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }));
    expect(error).toMatchObject({ upstreamStatus: 500, retryable: true });
    expect(error.message.length).toBeLessThan(1_000);
    await mock.until(() => mock.aborted === 1);
  });

  it("refuses a 2xx answer larger than maxResponseBytes, not retryable", async () => {
    mock.enqueue({ status: 200, body: '{"choices":[{"message":{"content":"', padBytes: 2 * 1024 * 1024 });
    const error = await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x", maxResponseBytes: 1024 * 1024 }));
    expect(error).toMatchObject({ kind: "upstream", code: "response_too_large", retryable: false });
  });

  it("refuses a 2xx stream without a single SSE event (an HTML page) before yielding anything", async () => {
    mock.enqueue({ status: 200, body: "<html>sign in</html>", headers: { "content-type": "text/html" } });
    const events = await client.stream(openaiChatCodec, openai(), { ...hello, stream: true }, { model: "gpt-x" });
    const error = await caught(drain(events));
    expect(error).toMatchObject({ code: "invalid_upstream_response", retryable: true });
    expect(error.message).toContain("no server-sent events");
  });
});

describe("sseEvents", () => {
  const text =
    'event: message_start\r\ndata: {"a":"é€😀"}\r\n\r\n: comment\n\nevent: delta\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n' +
    "data: no trailing blank line";
  const expected = [
    { event: "message_start", data: '{"a":"é€😀"}' },
    { event: "delta", data: "line1\nline2" },
    { data: "[DONE]" },
    { data: "no trailing blank line" },
  ];

  async function* chunksOf(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
    let start = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      yield bytes.subarray(start, cut);
      start = cut;
    }
    yield bytes.subarray(start);
  }

  it("yields whole events however the bytes are split (CRLF, multi-byte characters, no final blank line)", async () => {
    const bytes = new TextEncoder().encode(text);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }), async (cuts) => {
        expect(await drain(sseEvents(chunksOf(bytes, cuts)))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
    // Every single split point, byte by byte.
    for (let cut = 0; cut <= bytes.length; cut++) expect(await drain(sseEvents(chunksOf(bytes, [cut])))).toEqual(expected);
  });

  it("drops a byte order mark at the start of the body, wherever the bytes are split", async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    for (let cut = 0; cut <= 8; cut++) expect(await drain(sseEvents(chunksOf(bytes, [cut])))).toEqual(expected);
    // Only there: one later in the body is text.
    const later = new TextEncoder().encode("data: a\n\ndata: \uFEFFb\n\n");
    expect(await drain(sseEvents(chunksOf(later, [3])))).toEqual([{ data: "a" }, { data: "\uFEFFb" }]);
  });

  it("refuses an event larger than the bound instead of buffering it", async () => {
    async function* endless(): AsyncGenerator<string> {
      for (let i = 0; i < 100; i++) yield "data: " + "x".repeat(100);
    }
    await expect(drain(sseEvents(endless(), undefined, 1_000))).rejects.toThrow("an SSE event exceeds 1000 characters");
  });

  it("skips lines with an unknown field or a bad retry, as the SSE format says, instead of failing the stream", async () => {
    async function* lines(): AsyncGenerator<string> {
      yield "data: one\nx-vendor: 1\n\n";
      yield "retry: soon\ndata: two\n\n";
    }
    expect(await drain(sseEvents(lines()))).toEqual([{ data: "one" }, { data: "two" }]);
  });

  it("parses an upstream body through the client", async () => {
    mock.enqueue({ text: ["x"] });
    const res = await client.request({
      endpoint: openai({ protocol: "anthropic", apiBase: mock.baseUrl("anthropic") }),
      path: "/v1/messages",
      body: JSON.stringify({ model: "c", max_tokens: 5, stream: true, messages: [] }),
    });
    const names = (await drain(client.sseEvents(res.body))).map((e) => (e as { event?: string }).event);
    expect(names).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
  });
});

describe("paid upstreams (endpoint.pay)", () => {
  const challenge = {
    status: 402,
    body: { error: { message: "pay first", type: "payment_required" } },
    headers: { "www-authenticate": 'Payment id="c1", method="tempo"' },
  };

  it("a 402 is handed to the payer, and the request sent once more with its headers", async () => {
    const seen: { url: string; challenge: string | null; body: string }[] = [];
    const endpoint = openai({
      pay: async ({ url, headers, body }) => (seen.push({ url, challenge: headers.get("www-authenticate"), body }), { authorization: "Payment cred-1" }),
    });
    mock.enqueue(challenge, { text: "paid" });
    const response = await client.send(openaiChatCodec, endpoint, hello, { model: "gpt-x" });
    expect(response.content).toEqual([{ type: "text", text: "paid" }]);
    expect(seen).toEqual([
      { url: `${mock.baseUrl("openai-chat")}/chat/completions`, challenge: 'Payment id="c1", method="tempo"', body: expect.stringContaining("pay first") },
    ]);
    expect(mock.requests).toHaveLength(2);
    expect(mock.requests[1]!.headers.authorization).toBe("Payment cred-1");
  });

  it("a second 402 after paying is the answer (no loop); a payer that refuses fails the attempt, retryable", async () => {
    let paid = 0;
    const endpoint = openai({ pay: async () => (paid++, { authorization: "Payment cred-2" }) });
    mock.enqueue(challenge, challenge);
    const again = await caught(client.send(openaiChatCodec, endpoint, hello, { model: "gpt-x" }));
    expect(again).toMatchObject({ upstreamStatus: 402 });
    expect(paid).toBe(1);
    expect(mock.requests).toHaveLength(2);

    mock.reset();
    mock.enqueue(challenge);
    const refused = await caught(client.send(openaiChatCodec, openai({ pay: async () => Promise.reject(new Error("too dear")) }), hello, { model: "gpt-x" }));
    expect(refused).toMatchObject({ code: "upstream_payment_failed", retryable: true, upstreamStatus: 402 });
    expect(refused.message).toMatch(/could not pay the upstream's 402: too dear/);
    expect(mock.requests).toHaveLength(1);
  });

  it("without a payer a 402 is an ordinary upstream error", async () => {
    mock.enqueue(challenge);
    expect(await caught(client.send(openaiChatCodec, openai(), hello, { model: "gpt-x" }))).toMatchObject({ upstreamStatus: 402, kind: "payment_required" });
    expect(mock.requests).toHaveLength(1);
  });
});
