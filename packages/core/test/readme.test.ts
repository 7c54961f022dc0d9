// The README's hook, imported as written and driven the way the router drives a hook.
import { afterEach, expect, it, vi } from "vitest";
import { importExample, tsExample } from "@bitrouter/testkit";
import { toErrorInfo, type CompletionRecord, type RequestContext, type RouterHook } from "../src/index.js";

afterEach(() => vi.restoreAllMocks());

function context(model: string): RequestContext {
  return { requestId: "req-1", inboundProtocol: "openai-chat", startedAt: 0, model, stream: false, headers: new Headers(), counters: {}, state: new Map() };
}

it("README: the hook refuses preview models with a 403 naming the field, and logs completions", async () => {
  const { noPreviews } = (await importExample(tsExample(new URL("../README.md", import.meta.url)), import.meta.url)) as { noPreviews: RouterHook };

  expect(() => noPreviews.onRequest?.(context("openai:gpt-4o"))).not.toThrow();
  let refusal: unknown;
  try {
    noPreviews.onRequest?.(context("google:gemini-2.5-pro-preview"));
  } catch (error) {
    refusal = error;
  }
  expect(toErrorInfo(refusal)).toEqual({ kind: "permission", status: 403, param: "model", message: "model google:gemini-2.5-pro-preview is not allowed here" });

  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  const record: CompletionRecord = {
    requestId: "req-1",
    inboundProtocol: "openai-chat",
    model: "fast",
    route: "fast",
    stream: false,
    status: 200,
    startedAt: 0,
    latencyMs: 5,
    attempts: 1,
    counters: {},
    usage: { inputTokens: 3, outputTokens: 7 },
  };
  noPreviews.onComplete?.(record, context("fast"));
  expect(log).toHaveBeenCalledWith("req-1 fast -> 200, 7 tokens out");
});
