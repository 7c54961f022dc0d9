// The library API (generate/stream) and the HTTP path run one request lifecycle: the same hooks,
// limits, failover and completion record. Each case sends the same request both ways and compares.
import { describe, expect, it } from "vitest";
import { BitrouterError } from "@bitrouter/core";
import type { CanonicalRequest, StreamEvent } from "@bitrouter/core";
import { createRouter } from "../src/index.js";
import type { CompletionRecord, RouterHook } from "../src/index.js";
import { chatBody, mockConfig, useMock } from "./helpers.js";

const mock = useMock();

const post = (body: string, signal?: AbortSignal) =>
  new Request("http://router.test/v1/chat/completions", {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
    ...(signal ? { signal } : {}),
  });

const ask = (model: string): Omit<CanonicalRequest, "stream"> => ({ model, messages: [{ role: "user", content: [{ type: "text", text: "x" }] }] });

/** The parts of a completion record both paths must agree on. */
const outcome = (r: CompletionRecord | undefined) => ({
  status: r?.status,
  errorKind: r?.errorKind,
  attempts: r?.attempts,
  route: r?.route,
  provider: r?.provider,
  hasTtfb: r?.ttfbMs !== undefined,
});

const failover = `
models:
  smart:
    strategy: priority
    endpoints:
      - { provider: ant, model_id: first }
      - { provider: oai, model_id: gpt-test }
`;

/** A stream hook that ends the stream on "secret" (as a guardrail block would), recording each request. */
const blockingGuard = (records: CompletionRecord[]): RouterHook => ({
  name: "guard",
  onStreamEvent: (_ctx, event) => {
    if (event.type === "text_delta" && event.text.includes("secret")) throw new BitrouterError({ kind: "guardrail", status: 400, message: "blocked" });
  },
  onComplete: (record) => records.push(record),
});

describe("the library API and the HTTP path share one lifecycle", () => {
  it("a stream hook that throws ends the stream with an error event on both, recorded alike", async () => {
    const records: CompletionRecord[] = [];
    const guard = blockingGuard(records);
    const router = createRouter(mockConfig(mock(), failover), { hooks: [guard] });

    // Both fail over from an upstream that answers 500 to one that streams, then the hook blocks mid-stream.
    mock().enqueue({ error: "server_error", status: 500 }, { text: ["fine ", "secret"] });
    const res = await router.fetch(post(chatBody("smart", "x", { stream: true })));
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/"error".*blocked/);

    mock().enqueue({ error: "server_error", status: 500 }, { text: ["fine ", "secret"] });
    const events: StreamEvent[] = [];
    for await (const event of await router.stream(ask("smart"))) events.push(event);
    expect(events.find((e) => e.type === "error")).toMatchObject({ error: { kind: "guardrail", message: "blocked" } });

    expect(records).toHaveLength(2);
    expect(outcome(records[1])).toEqual(outcome(records[0]));
    expect(outcome(records[0])).toEqual({ status: 200, errorKind: "guardrail", attempts: 2, route: "smart", provider: "oai", hasTtfb: true });
    await router.close();
  });

  it("a stream hook that throws on the first content event ends that stream too: no failover, no answer from a second endpoint", async () => {
    const records: CompletionRecord[] = [];
    const guard = blockingGuard(records);
    const router = createRouter(mockConfig(mock(), failover), { hooks: [guard] });

    mock().enqueue({ text: ["secret"] }, { text: ["from the second endpoint"] });
    const res = await router.fetch(post(chatBody("smart", "x", { stream: true })));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/"error".*blocked/);
    expect(text).not.toContain("second endpoint");

    mock().reset();
    mock().enqueue({ text: ["secret"] }, { text: ["from the second endpoint"] });
    const events: StreamEvent[] = [];
    for await (const event of await router.stream(ask("smart"))) events.push(event);
    expect(events.find((e) => e.type === "error")).toMatchObject({ error: { kind: "guardrail", message: "blocked" } });
    expect(events.some((e) => e.type === "text_delta")).toBe(false);

    expect(records).toHaveLength(2);
    expect(outcome(records[1])).toEqual(outcome(records[0]));
    expect(outcome(records[0])).toEqual({ status: 200, errorKind: "guardrail", attempts: 1, route: "smart", provider: "ant", hasTtfb: true });
    await router.close();
  });

  it("a hosted tool on a route that cannot run it is refused the same way, never sent", async () => {
    const router = createRouter(mockConfig(mock()));
    const hostedTools = [{ param: "tools[0]", tool: { type: "web_search" } }];

    const res = await router.fetch(
      new Request("http://router.test/v1/responses", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "ant:claude-test", input: "x", tools: [{ type: "web_search" }] }),
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "unsupported_tool", param: "tools[0]" } });

    await expect(router.generate({ ...ask("ant:claude-test"), hostedTools })).rejects.toMatchObject({
      status: 400,
      code: "unsupported_tool",
      param: "tools[0]",
    });
    expect(mock().requests).toHaveLength(0);
    await router.close();
  });

  it("a caller that goes away before the answer is recorded as 499 on both", async () => {
    const records: CompletionRecord[] = [];
    const router = createRouter(mockConfig(mock()), { hooks: [{ name: "meter", onComplete: (r) => records.push(r) }] });

    mock().enqueue({ hang: true });
    const http = new AbortController();
    const answer = router.fetch(post(chatBody("oai:gpt-test"), http.signal));
    setTimeout(() => http.abort(), 50);
    expect((await answer).status).toBe(499);

    mock().enqueue({ hang: true });
    const library = new AbortController();
    const generated = router.generate(ask("oai:gpt-test"), { signal: library.signal });
    setTimeout(() => library.abort(), 50);
    await expect(generated).rejects.toMatchObject({ status: 499, code: "client_closed" });

    expect(records.map((r) => [r.status, r.errorKind])).toEqual([
      [499, "cancelled"],
      [499, "cancelled"],
    ]);
    await router.close();
  });
});

describe("completion after the answer", () => {
  it("a host that writes the answer in the same turn gets the onComplete hooks after it, once, with the timing of the answer", async () => {
    const records: CompletionRecord[] = [];
    const router = createRouter(mockConfig(mock()), { hooks: [{ name: "meter", onComplete: (r) => records.push(r) }] });
    const inbound = (completeAfterTurn: boolean) => ({
      protocol: "openai-chat" as const,
      body: chatBody("oai:gpt-test"),
      headers: new Headers(),
      requestId: `r-${completeAfterTurn}`,
      signal: new AbortController().signal,
      completeAfterTurn,
    });

    const deferred = await router.handle(inbound(true));
    expect(deferred.status).toBe(200);
    expect(records).toHaveLength(0); // the host writes the answer now, before the log line, metrics and ledger row
    const answeredAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(records.map((r) => [r.requestId, r.status])).toEqual([["r-true", 200]]);
    expect(records[0]!.startedAt + records[0]!.latencyMs).toBeLessThanOrEqual(answeredAt); // measured when answered, not when reported

    // Without it (the library's hosts), the hooks have run when the result is returned.
    await router.handle(inbound(false));
    expect(records.map((r) => r.requestId)).toEqual(["r-true", "r-false"]);
    await router.close();
  });
});
