import { describe, expect, it } from "vitest";
import { endsEvent, mayCarryOutcome } from "../src/sniff.js";

const b = (text: string) => Buffer.from(text);

describe("stream sniffing", () => {
  it("lets whole content events through and catches every event metering reads", () => {
    const delta = (content: string, reason = "null") =>
      `data: {"id":"c","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":${reason}}]}\n\n`;
    expect(mayCarryOutcome("openai-chat", b(delta("hi") + delta("there") + "data: [DONE]\n\n"))).toBe(false);
    expect(mayCarryOutcome("openai-chat", b(delta("hi") + delta("", '"stop"')))).toBe(true);
    expect(mayCarryOutcome("openai-chat", b(`data: {"choices":[{"delta":{},"finish_reason": "stop"}]}\n\n`))).toBe(true); // spaced: read it
    expect(mayCarryOutcome("openai-chat", b(`data: {"choices":[{"delta":{},"finish_reason": null}]}\n\n`))).toBe(true); // spaced: read it to be safe
    expect(mayCarryOutcome("openai-chat", b(`data: {"id":"c","choices":[],"usage":{"prompt_tokens":1}}\n\n`))).toBe(true);
    // With include_usage, OpenAI puts `"usage":null` in every chunk before the usage chunk.
    expect(mayCarryOutcome("openai-chat", b(delta("hi").replace("]}", '],"usage":null}')))).toBe(false);
    expect(mayCarryOutcome("openai-chat", b(`data: {"error":{"message":"x"}}\n\n`))).toBe(true);
    expect(mayCarryOutcome("anthropic", b(`event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"hi"}}\n\n`))).toBe(false);
    for (const event of ["message_start", "message_delta", "message_stop", "error"])
      expect(mayCarryOutcome("anthropic", b(`event: ${event}\ndata: {}\n\n`))).toBe(true);
    expect(mayCarryOutcome("openai-responses", b(`event: response.output_text.delta\ndata: {"delta":"hi"}\n\n`))).toBe(false);
    for (const event of ["response.created", "response.completed", "response.incomplete", "response.failed"])
      expect(mayCarryOutcome("openai-responses", b(`event: ${event}\ndata: {}\n\n`))).toBe(true);
    expect(mayCarryOutcome("google", b(`data: {"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}\n\n`))).toBe(false);
    expect(mayCarryOutcome("google", b(`data: {"candidates":[],"usageMetadata":{"promptTokenCount":1}}\n\n`))).toBe(true);
  });

  it("knows when a chunk ends an event", () => {
    expect(endsEvent(b("data: x\n\n"))).toBe(true);
    expect(endsEvent(b("data: x\r\n\r\n"))).toBe(true);
    expect(endsEvent(b("data: x\n"))).toBe(false);
    expect(endsEvent(b("data: x"))).toBe(false);
  });
});
