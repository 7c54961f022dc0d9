import type { CanonicalRequest, ErrorInfo, Protocol, StreamEvent } from "@bitrouter/core";
import { describe, expect, it } from "vitest";
import { PROTOCOL_DESCRIPTORS } from "../src/protocols/index.js";
import { sseEvents } from "../src/sse.js";

// A protocol's facts in its descriptor must agree with its codec: the router pipes same-protocol
// streams and decodes only the events the descriptor says matter, so one it misses is unmetered.

const request: CanonicalRequest = { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], stream: true, includeUsage: true };
const usage = { inputTokens: 12, outputTokens: 7 };
const stream: StreamEvent[] = [
  { type: "start", id: "resp_1", model: "m", created: 1_700_000_000 },
  { type: "text_delta", index: 0, text: "Hello" },
  { type: "part_end", index: 0 },
  { type: "tool_call_start", index: 1, id: "call_1", name: "get_weather" },
  { type: "tool_call_delta", index: 1, argumentsDelta: '{"city":"Paris"}' },
  { type: "part_end", index: 1 },
  { type: "usage", usage },
  { type: "finish", stopReason: "tool_calls", usage },
];
const failure: ErrorInfo = { kind: "rate_limit", message: "slow down", status: 429 };

async function* chunks(text: string): AsyncGenerator<string> {
  yield text;
}

async function parse(text: string) {
  const out = [];
  for await (const event of sseEvents(chunks(text))) out.push(event);
  return out;
}

describe.each(Object.keys(PROTOCOL_DESCRIPTORS) as Protocol[])("%s descriptor", (protocol) => {
  const { codec, carriesOutcome, mayCarryOutcome, encodeStreamError } = PROTOCOL_DESCRIPTORS[protocol];

  it("is the protocol's own", () => {
    expect(PROTOCOL_DESCRIPTORS[protocol].protocol).toBe(protocol);
    expect(codec.protocol).toBe(protocol);
  });

  it("flags every upstream stream event that carries usage, the finish or an error", async () => {
    const encoder = codec.createStreamEncoder(request);
    const text = stream.map((e) => encoder.encode(e)).join("") + encoder.end();
    const decoder = codec.createStreamDecoder();
    let outcomes = 0;
    for (const event of await parse(text)) {
      const decoded = decoder.decode(event);
      if (!decoded.some((e) => e.type === "usage" || e.type === "finish" || e.type === "error")) continue;
      // OpenAI's [DONE] only confirms the finish_reason chunk before it, which is flagged.
      if (event.data === "[DONE]") continue;
      outcomes++;
      const raw = `${event.event === undefined ? "" : `event: ${event.event}\n`}data: ${event.data}\n\n`;
      expect(carriesOutcome(event.event, event.data), raw).toBe(true);
      expect(mayCarryOutcome(raw), raw).toBe(true);
    }
    expect(outcomes).toBeGreaterThan(0);
  });

  it("lets content deltas pass unsniffed", async () => {
    const encoder = codec.createStreamEncoder(request);
    encoder.encode(stream[0]!);
    const delta = encoder.encode({ type: "text_delta", index: 0, text: "more" });
    const [event] = (await parse(delta)).slice(-1);
    expect(carriesOutcome(event!.event, event!.data)).toBe(false);
  });

  it("writes a stream error event its own decoder reads as that error", async () => {
    const text = encodeStreamError(failure);
    const decoder = codec.createStreamDecoder();
    decoder.decode({ data: "{}" }); // a stream already under way
    const events = (await parse(text)).flatMap((event) => {
      expect(carriesOutcome(event.event, event.data)).toBe(true);
      return decoder.decode(event);
    });
    const error = events.find((e) => e.type === "error");
    expect(error?.type === "error" && error.error).toMatchObject({ kind: "rate_limit", message: "slow down" });
  });
});
