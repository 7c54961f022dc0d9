// send/stream with the real codecs against the mock upstream of each protocol: the fixed order
// convert -> send -> map error -> convert back, end to end.
import { type MockScript, type MockUpstream, startMock } from "@bitrouter/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CanonicalRequest, Protocol, StreamEvent } from "@bitrouter/core";
import { createProviderClient, type ProviderClient, type ProviderEndpoint, ProviderError } from "../src/client.js";
import type { Codec } from "../src/codec.js";
import { anthropicCodec } from "../src/protocols/anthropic/index.js";
import { googleCodec } from "../src/protocols/google/index.js";
import { openaiChatCodec } from "../src/protocols/openai-chat/index.js";
import { openaiResponsesCodec } from "../src/protocols/openai-responses/index.js";

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

const CODECS: Array<[Protocol, Codec]> = [
  ["openai-chat", openaiChatCodec],
  ["openai-responses", openaiResponsesCodec],
  ["anthropic", anthropicCodec],
  ["google", googleCodec],
];

const endpointFor = (protocol: Protocol): ProviderEndpoint => ({ provider: `mock-${protocol}`, protocol, apiBase: mock.baseUrl(protocol), apiKey: "key-123" });

const request: CanonicalRequest = {
  model: "virtual-model",
  messages: [{ role: "user", content: [{ type: "text", text: "What is the weather in Paris?" }] }],
  tools: [
    { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
    { name: "get_time", parameters: { type: "object", properties: { tz: { type: "string" } } } },
  ],
  stream: false,
};

const twoCalls: MockScript = {
  text: ["Checking ", "both."],
  toolCalls: [
    { id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}', chunks: ['{"ci', 'ty":"Pa', 'ris"}'] },
    { id: "call_b", name: "get_time", arguments: '{"tz":"Europe/Paris"}' },
  ],
  usage: { input: 120, output: 30, cacheRead: 100 },
};

/** Text and tool calls assembled from canonical stream events, by part index. */
function assemble(events: StreamEvent[]) {
  let text = "";
  const calls = new Map<number, { id: string; name: string; args: string }>();
  for (const e of events) {
    if (e.type === "text_delta") text += e.text;
    if (e.type === "tool_call_start") calls.set(e.index, { id: e.id, name: e.name, args: "" });
    if (e.type === "tool_call_delta") {
      const call = calls.get(e.index);
      if (call) call.args += e.argumentsDelta;
    }
  }
  return { text, calls: [...calls.values()] };
}

describe.each(CODECS)("%s", (protocol, codec) => {
  it("send: the upstream gets the provider model and auth; text, parallel calls and usage come back", async () => {
    mock.enqueue(twoCalls);
    const res = await client.send(codec, endpointFor(protocol), request, { model: "upstream-model", defaultMaxTokens: 1000 });
    const received = mock.requests[0]!;
    expect(received.protocol).toBe(protocol);
    if (protocol === "google") expect(received.path).toBe("/v1beta/models/upstream-model:generateContent");
    else expect((received.body as { model: string }).model).toBe("upstream-model");
    expect(Object.values(received.headers).join(" ")).toContain("key-123");

    const text = res.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
    expect(text).toBe("Checking both.");
    const calls = res.content.flatMap((p) => (p.type === "tool_call" ? [[p.name, JSON.parse(p.arguments) as unknown]] : []));
    expect(calls).toEqual([
      ["get_weather", { city: "Paris" }],
      ["get_time", { tz: "Europe/Paris" }],
    ]);
    expect(res.stopReason).toBe("tool_calls");
    expect(res.usage).toMatchObject({ inputTokens: 120, outputTokens: 30, cacheReadTokens: 100 });
  });

  it("stream: events decode incrementally into the same answer", async () => {
    mock.enqueue(twoCalls);
    const events: StreamEvent[] = [];
    for await (const e of await client.stream(codec, endpointFor(protocol), { ...request, stream: true }, { model: "upstream-model", defaultMaxTokens: 1000 }))
      events.push(e);
    const { text, calls } = assemble(events);
    expect(text).toBe("Checking both.");
    expect(calls.map((c) => [c.name, JSON.parse(c.args) as unknown])).toEqual([
      ["get_weather", { city: "Paris" }],
      ["get_time", { tz: "Europe/Paris" }],
    ]);
    const indices = events.flatMap((e) => (e.type === "tool_call_start" ? [e.index] : []));
    expect(new Set(indices).size).toBe(2);
    const finish = events.filter((e) => e.type === "finish");
    expect(finish).toHaveLength(1);
    expect(finish[0]).toMatchObject({ stopReason: "tool_calls" });
    const usage = [...events].reverse().find((e) => e.type === "usage" || (e.type === "finish" && e.usage));
    const u = usage?.type === "usage" ? usage.usage : usage?.type === "finish" ? usage.usage : undefined;
    expect(u).toMatchObject({ inputTokens: 120, outputTokens: 30, cacheReadTokens: 100 });
    expect(events[0]!.type).toBe("start");
  });

  it("stream: the first event arrives before the upstream finished sending", async () => {
    mock.enqueue({ text: ["first ", "second ", "third"], chunkDelayMs: 60 });
    const started = Date.now();
    let firstTextAt = 0;
    for await (const e of await client.stream(codec, endpointFor(protocol), { ...request, stream: true }, { model: "m", defaultMaxTokens: 100 })) {
      if (e.type === "text_delta" && firstTextAt === 0) firstTextAt = Date.now() - started;
    }
    const total = Date.now() - started;
    expect(total - firstTextAt).toBeGreaterThanOrEqual(60);
  });

  it("maps the provider's own 429 answer to a retryable rate_limit error", async () => {
    mock.enqueue({ error: "rate_limit" });
    const error = await client.send(codec, endpointFor(protocol), request, { model: "m", defaultMaxTokens: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "rate_limit", upstreamStatus: 429, retryable: true });
    expect((error as ProviderError).message.startsWith(`mock-${protocol}: upstream answered 429`)).toBe(true);
  });

  it("stream: a non-2xx answer rejects before any event (so the router can fail over)", async () => {
    mock.enqueue({ error: "server_error" });
    const error = await client
      .stream(codec, endpointFor(protocol), { ...request, stream: true }, { model: "m", defaultMaxTokens: 100 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ upstreamStatus: 500, retryable: true });
  });

  it("stream: an in-band upstream error becomes an error event", async () => {
    mock.enqueue({ text: ["a", "b", "c"], streamError: { afterChunks: 2, error: "overloaded" } });
    const events: StreamEvent[] = [];
    for await (const e of await client.stream(codec, endpointFor(protocol), { ...request, stream: true }, { model: "m", defaultMaxTokens: 100 }))
      events.push(e);
    expect(events.some((e) => e.type === "error")).toBe(true);
    expect(events.some((e) => e.type === "finish" && e.stopReason !== "error")).toBe(false);
  });
});
