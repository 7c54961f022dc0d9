import type { CanonicalRequest, CanonicalResponse, StreamEvent } from "@bitrouter/core";
import { describe, expect, it } from "vitest";
import { GuardrailError, createGuardrails, guardrailsHook } from "../src/index.js";
import { FAKE, ctx, recordingLogger } from "./helpers.js";

function setup() {
  const logger = recordingLogger();
  const g = createGuardrails(
    {
      upgoing: { api_keys: "redact" },
      downgoing: { suspicious_commands: "redact" },
      tools: { providers: { openai: { filter: { deny: ["shell"] } } } },
    },
    { logger },
  )!;
  return { hook: guardrailsHook(g), logger };
}

const request: CanonicalRequest = {
  model: "smart",
  stream: true,
  messages: [{ role: "user", content: [{ type: "text", text: `key ${FAKE.stripeSecret}` }] }],
  tools: [
    { name: "shell", parameters: { type: "object" } },
    { name: "read", parameters: { type: "object" } },
  ],
};

describe("guardrailsHook", () => {
  it("declares itself as a content-inspecting hook named guardrails", () => {
    const { hook } = setup();
    expect(hook.name).toBe("guardrails");
    expect(hook.inspectsContent).toBe(true);
  });

  it("beforeDispatch: redacts, applies the target's tool rules; a failover to another provider is not re-scanned", () => {
    const { hook, logger } = setup();
    const c = ctx("openai");
    const first = hook.beforeDispatch(c, request);
    expect(first.messages[0]?.content[0]).toEqual({ type: "text", text: "key [REDACTED:api_keys]" });
    expect(first.tools?.map((t) => t.name)).toEqual(["read"]);
    // Failover: the router tries anthropic with the same request (or with what it got back).
    c.target = { route: "smart", provider: "anthropic", modelId: "m", endpointIndex: 1 };
    for (const again of [request, first]) {
      const second = hook.beforeDispatch(c, again);
      expect(second.messages[0]?.content[0]).toEqual({ type: "text", text: "key [REDACTED:api_keys]" });
      expect(second.tools?.map((t) => t.name)).toEqual(["shell", "read"]);
    }
    expect(c.counters.guardrail_violations).toBe(1);
    expect(logger.lines).toHaveLength(1);
  });

  it("onStreamEvent keeps per-request state in ctx.state and redacts across events", () => {
    const { hook } = setup();
    const a = ctx("openai");
    const b = ctx("openai");
    const out: StreamEvent[] = [];
    const collect = (r: StreamEvent | StreamEvent[] | null) => (r === null ? [] : Array.isArray(r) ? r : [r]);
    out.push(...collect(hook.onStreamEvent(a, { type: "text_delta", index: 0, text: "run rm -r" })));
    out.push(...collect(hook.onStreamEvent(b, { type: "text_delta", index: 0, text: "hello " }))); // another request
    out.push(...collect(hook.onStreamEvent(a, { type: "text_delta", index: 0, text: "f / now" })));
    out.push(...collect(hook.onStreamEvent(a, { type: "finish", stopReason: "stop" })));
    expect(out.flatMap((e) => (e.type === "text_delta" ? [e.text] : []))).toEqual(["run ", "hello ", "[REDACTED:suspicious_commands] now"]);
    expect(a.state.has("guardrails")).toBe(true);
  });

  it("onStreamEvent throws a guardrail error on block (the host turns it into the protocol's error event)", () => {
    const g = createGuardrails({}, { logger: recordingLogger() })!;
    const hook = guardrailsHook(g);
    const c = ctx();
    hook.onStreamEvent(c, { type: "text_delta", index: 0, text: "try :(){ :|:& " });
    expect(() => hook.onStreamEvent(c, { type: "text_delta", index: 0, text: "};: ok" })).toThrow(GuardrailError);
  });

  it("onResponse checks complete answers", () => {
    const { hook } = setup();
    const response: CanonicalResponse = {
      id: "r",
      model: "m",
      created: 1,
      stopReason: "stop",
      usage: { inputTokens: 1, outputTokens: 1 },
      content: [{ type: "text", text: "then mkfs.ext4 /dev/sda1" }],
    };
    expect(hook.onResponse(ctx(), response).content).toEqual([{ type: "text", text: "then [REDACTED:suspicious_commands]" }]);
  });

  it("a new dispatch attempt starts a fresh stream state", () => {
    const { hook } = setup();
    const c = ctx("openai");
    hook.beforeDispatch(c, request);
    expect(hook.onStreamEvent(c, { type: "text_delta", index: 0, text: "partial rm -r" })).toEqual({ type: "text_delta", index: 0, text: "partial " });
    hook.beforeDispatch(c, request); // the first attempt failed before its first byte reached the client
    expect(hook.onStreamEvent(c, { type: "text_delta", index: 0, text: "fine." })).toEqual({ type: "text_delta", index: 0, text: "fine." });
  });
});
