import type { Protocol, StreamEvent } from "@bitrouter/core";
import { describe, expect, it } from "vitest";
import { CODECS } from "../src/protocols/index.js";

// `created` on decoded answers: the upstream's timestamp where its protocol sends one, else the
// time the answer arrived; never 0 (clients show 1970).

const PROTOCOLS = Object.keys(CODECS) as Protocol[];

function nowWindow(): () => [number, number] {
  const before = Math.floor(Date.now() / 1000);
  return () => [before, Math.floor(Date.now() / 1000)];
}

function startOf(events: StreamEvent[]): Extract<StreamEvent, { type: "start" }> {
  const start = events[0];
  if (start?.type !== "start") throw new Error(`first event is ${start?.type}, not start`);
  return start;
}

function expectNow(created: number, window: [number, number]): void {
  expect(created).toBeGreaterThanOrEqual(window[0]);
  expect(created).toBeLessThanOrEqual(window[1]);
}

describe("stream decoders share their start and end rules", () => {
  it.each(PROTOCOLS)("%s: a stream that ends before any event is an error after a start stamped now", (protocol) => {
    const window = nowWindow();
    const decoder = CODECS[protocol].createStreamDecoder();
    const events = decoder.end();
    expect(events.map((e) => e.type)).toEqual(["start", "error"]);
    expectNow(startOf(events).created, window());
    expect(decoder.end()).toEqual([]);
    expect(decoder.decode({ data: "{}" })).toEqual([]);
  });

  it.each(PROTOCOLS)("%s: a malformed first event is an error after a start stamped now", (protocol) => {
    const window = nowWindow();
    const events = CODECS[protocol].createStreamDecoder().decode({ data: "{not json" });
    expect(events.map((e) => e.type)).toEqual(["start", "error"]);
    expectNow(startOf(events).created, window());
  });

  it.each(PROTOCOLS)("%s: a malformed event's error quotes it with keys masked", (protocol) => {
    const key = "sk-live-0123456789abcdef";
    const events = CODECS[protocol].createStreamDecoder().decode({ event: "message_start", data: `{not json, echoed x-api-key: ${key}` });
    const error = events.find((e) => e.type === "error");
    expect(error?.type === "error" && error.error.message).toBe("upstream sent a malformed stream event: {not json, echoed x-api-key: sk-[redacted]");
  });

  it("OpenAI chat: the chunk's created when sent, else now", () => {
    const chunk = (extra: object) => ({ data: JSON.stringify({ id: "c", model: "m", choices: [{ index: 0, delta: { content: "hi" } }], ...extra }) });
    expect(startOf(CODECS["openai-chat"].createStreamDecoder().decode(chunk({ created: 5 }))).created).toBe(5);
    const window = nowWindow();
    expectNow(startOf(CODECS["openai-chat"].createStreamDecoder().decode(chunk({}))).created, window());
  });

  it("OpenAI Responses: response.created's created_at when sent, else now", () => {
    const created = (response: object) => ({ event: "response.created", data: JSON.stringify({ type: "response.created", response }) });
    expect(startOf(CODECS["openai-responses"].createStreamDecoder().decode(created({ id: "resp_1", model: "m", created_at: 7 }))).created).toBe(7);
    const window = nowWindow();
    expectNow(startOf(CODECS["openai-responses"].createStreamDecoder().decode(created({ id: "resp_1", model: "m" }))).created, window());
  });

  it("non-stream answers without a timestamp are stamped now too", () => {
    const window = nowWindow();
    const chat = CODECS["openai-chat"].decodeResponse({ id: "c", model: "m", choices: [{ message: { content: "x" }, finish_reason: "stop" }] });
    const responses = CODECS["openai-responses"].decodeResponse({ id: "resp_1", model: "m", status: "completed", output: [] });
    expectNow(chat.created, window());
    expectNow(responses.created, window());
    expect(CODECS["openai-chat"].decodeResponse({ id: "c", model: "m", created: 9, choices: [{ message: { content: "x" } }] }).created).toBe(9);
  });
});
