// Property tests: for random canonical requests/responses restricted to what Gemini expresses,
// decode(encode(x)) == x; and a stream encoded then decoded carries the same content.
import fc from "fast-check";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import type { CanonicalRequest, CanonicalResponse, ContentPart, JsonObject, Message, StreamEvent, ToolDefinition, Usage } from "@bitrouter/core";
import { googleCodec as codec } from "../src/protocols/google/index.js";

const word = fc.string({ minLength: 1, maxLength: 12 });
const withOptional = <T extends object>(base: T, extra: Record<string, unknown>): T => {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out as T;
};

const text = fc.string({ maxLength: 20 }).map((t): ContentPart => ({ type: "text", text: t }));
const image = fc
  .record({ mediaType: fc.constantFrom("image/png", "image/jpeg"), data: fc.base64String({ minLength: 4, maxLength: 12 }) })
  .map(({ mediaType, data }): ContentPart => ({ type: "image", source: { kind: "base64", mediaType, data } }));
const pdf = fc
  .base64String({ minLength: 4, maxLength: 12 })
  .map((data): ContentPart => ({ type: "file", source: { kind: "base64", mediaType: "application/pdf", data }, mediaType: "application/pdf" }));
const argsObject = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
const callId = fc.stringMatching(/^call_[a-zA-Z0-9]{4,10}$/);
const name = fc.stringMatching(/^[a-z_]{1,10}$/);
const toolCall = fc
  .record({ id: callId, name, args: argsObject })
  .map(({ id, name, args }): ContentPart => ({ type: "tool_call", id, name, arguments: JSON.stringify(args) }));
// Tool output is plain text (wrapped as {"output": ...}) or a JSON object (sent as is).
const toolOutput = fc.oneof(
  fc.lorem({ maxCount: 3 }),
  argsObject.filter((o) => Object.keys(o).length > 1).map((o) => JSON.stringify(o)),
);
const toolResult = fc
  .record({ toolCallId: callId, name, output: toolOutput, isError: fc.option(fc.constant(true), { nil: undefined }) })
  .map(
    ({ toolCallId, name, output, isError }): ContentPart =>
      withOptional<ContentPart>({ type: "tool_result", toolCallId, name, content: [{ type: "text", text: isError ? `${output}!` : output }] }, { isError }),
  );
const thought = fc
  .record({ text: fc.string({ minLength: 1, maxLength: 20 }), signature: fc.option(word, { nil: undefined }) })
  .map(({ text, signature }) => withOptional<ContentPart>({ type: "reasoning", text }, { signature }));
// A signature on an ordinary part: an empty reasoning part right before it.
const signedCall = fc.tuple(word, toolCall).map(([signature, call]): ContentPart[] => [{ type: "reasoning", text: "", signature }, call]);

const userMessage = fc.array(fc.oneof(text, image, pdf, toolResult), { maxLength: 3 }).map((content): Message => ({ role: "user", content }));
const assistantMessage = fc
  .array(
    fc.oneof(
      text.map((p) => [p]),
      thought.map((p) => [p]),
      toolCall.map((p) => [p]),
      signedCall,
    ),
    { maxLength: 3 },
  )
  .map((groups): Message => ({ role: "assistant", content: groups.flat() }));

const schema: fc.Arbitrary<JsonObject> = fc
  .dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.record({ type: fc.constantFrom("string", "number", "integer", "boolean") }), { maxKeys: 3 })
  .map((properties) => ({ type: "object", properties }));
const tool = fc
  .record({ name, description: fc.option(word, { nil: undefined }), parameters: schema })
  .map(({ name, description, parameters }) => withOptional<ToolDefinition>({ name, parameters }, { description }));

const request: fc.Arbitrary<CanonicalRequest> = fc
  .record({
    model: fc.stringMatching(/^gemini-[a-z0-9.-]{1,10}$/),
    stream: fc.boolean(),
    system: fc.option(fc.array(text, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    messages: fc.array(fc.oneof(userMessage, assistantMessage), { maxLength: 4 }),
    tools: fc.option(fc.array(tool, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    toolChoice: fc.option(
      fc.oneof(
        fc.constant({ type: "auto" as const }),
        fc.constant({ type: "none" as const }),
        fc.constant({ type: "required" as const }),
        name.map((n) => ({ type: "tool" as const, name: n })),
      ),
      { nil: undefined },
    ),
    maxTokens: fc.option(fc.integer({ min: 1, max: 65536 }), { nil: undefined }),
    temperature: fc.option(
      fc.double({ min: 0, max: 2, noNaN: true }).map((x) => x + 0),
      { nil: undefined },
    ),
    topP: fc.option(
      fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x + 0),
      { nil: undefined },
    ),
    topK: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    stop: fc.option(fc.array(word, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    seed: fc.option(fc.integer(), { nil: undefined }),
    presencePenalty: fc.option(
      fc.double({ min: -2, max: 2, noNaN: true }).map((x) => x + 0),
      { nil: undefined },
    ),
    frequencyPenalty: fc.option(
      fc.double({ min: -2, max: 2, noNaN: true }).map((x) => x + 0),
      { nil: undefined },
    ),
    responseFormat: fc.option(
      fc.oneof(
        fc.constant({ type: "json_object" as const }),
        schema.map((s) => ({ type: "json_schema" as const, name: "response", schema: s })),
      ),
      { nil: undefined },
    ),
    reasoning: fc.option(
      fc.oneof(
        fc.constant({ enabled: false }),
        fc
          .record({ budgetTokens: fc.integer({ min: 1, max: 32768 }), includeThoughts: fc.option(fc.boolean(), { nil: undefined }) })
          .map((r) => withOptional({ budgetTokens: r.budgetTokens }, { includeThoughts: r.includeThoughts })),
        fc.option(fc.boolean(), { nil: undefined }).map((includeThoughts) => withOptional({ enabled: true }, { includeThoughts })),
      ),
      { nil: undefined },
    ),
  })
  .map((r) => {
    const { tools, toolChoice, ...rest } = r;
    return withOptional<CanonicalRequest>({ model: r.model, messages: r.messages, stream: r.stream }, { ...rest, ...(tools ? { tools, toolChoice } : {}) });
  });

const usage: fc.Arbitrary<Usage> = fc
  .record({
    input: fc.nat(5000),
    cached: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
    visible: fc.nat(5000),
    thoughts: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
  })
  .map((u) =>
    withOptional<Usage>(
      { inputTokens: u.input + (u.cached ?? 0), outputTokens: u.visible + (u.thoughts ?? 0) },
      { cacheReadTokens: u.cached, reasoningTokens: u.thoughts },
    ),
  );

const response: fc.Arbitrary<CanonicalResponse> = fc
  .record({
    id: word,
    model: word,
    groups: fc.array(
      fc.oneof(
        text.map((p) => [p]),
        thought.map((p) => [p]),
        toolCall.map((p) => [p]),
        signedCall,
      ),
      { maxLength: 5 },
    ),
    stop: fc.constantFrom("stop" as const, "length" as const, "content_filter" as const),
    usage,
  })
  .map(({ groups, stop, ...r }): CanonicalResponse => {
    const content = groups.flat();
    // Gemini says STOP for both: a STOP answer with function calls is canonical tool_calls.
    const stopReason = stop === "stop" && content.some((p) => p.type === "tool_call") ? "tool_calls" : stop;
    return { ...r, created: 0, content, stopReason };
  });

/** Canonical events as a decoder would produce them, with part_end after each part. */
function eventsFor(r: CanonicalResponse): StreamEvent[] {
  const events: StreamEvent[] = [{ type: "start", id: r.id, model: r.model, created: 0 }];
  r.content.forEach((part, index) => {
    if (part.type === "text") events.push({ type: "text_delta", index, text: part.text });
    else if (part.type === "reasoning") {
      if (part.text !== "") events.push({ type: "reasoning_delta", index, text: part.text });
      if (part.signature !== undefined) events.push({ type: "reasoning_signature", index, signature: part.signature });
    } else if (part.type === "tool_call") {
      events.push({ type: "tool_call_start", index, id: part.id, name: part.name });
      events.push({ type: "tool_call_delta", index, argumentsDelta: part.arguments });
    }
    events.push({ type: "part_end", index });
  });
  events.push({ type: "finish", stopReason: r.stopReason, usage: r.usage });
  return events;
}

/** What a Gemini client sees of a content list: adjacent text (and adjacent thoughts) read as one. */
function visible(content: ContentPart[]): ContentPart[] {
  const out: ContentPart[] = [];
  for (const part of content) {
    const prev = out.at(-1);
    if (part.type === "text" && part.text === "") continue;
    if (part.type === "text" && prev?.type === "text") out[out.length - 1] = { ...prev, text: prev.text + part.text };
    else if (part.type === "reasoning" && part.text !== "" && prev?.type === "reasoning" && prev.text !== "" && prev.signature === undefined) {
      out[out.length - 1] = withOptional<ContentPart>({ type: "reasoning", text: prev.text + part.text }, { signature: part.signature });
    } else out.push({ ...part });
  }
  return out;
}

function collect(events: StreamEvent[]): { content: ContentPart[]; finish: StreamEvent | undefined } {
  const parts = new Map<number, ContentPart>();
  let finish: StreamEvent | undefined;
  for (const e of events) {
    if (e.type === "text_delta") {
      const p = (parts.get(e.index) ?? { type: "text", text: "" }) as Extract<ContentPart, { type: "text" }>;
      p.text += e.text;
      parts.set(e.index, p);
    } else if (e.type === "reasoning_delta" || e.type === "reasoning_signature") {
      const p = (parts.get(e.index) ?? { type: "reasoning", text: "" }) as Extract<ContentPart, { type: "reasoning" }>;
      if (e.type === "reasoning_delta") p.text += e.text;
      else if (e.signature !== undefined) p.signature = e.signature;
      parts.set(e.index, p);
    } else if (e.type === "tool_call_start") parts.set(e.index, { type: "tool_call", id: e.id, name: e.name, arguments: "" });
    else if (e.type === "tool_call_delta") (parts.get(e.index) as Extract<ContentPart, { type: "tool_call" }>).arguments += e.argumentsDelta;
    else if (e.type === "finish") finish = e;
  }
  return { content: [...parts.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p), finish };
}

describe("google round-trip properties", () => {
  it("decodeRequest(encodeRequest(x)) == x (model and stream travel in the URL)", () => {
    fc.assert(
      fc.property(request, (req) => {
        const up = codec.encodeRequest(req, { model: req.model });
        const match = /^\/v1beta\/models\/([^:]+):(generateContent|streamGenerateContent\?alt=sse)$/.exec(up.path);
        expect(match).not.toBeNull();
        const back = codec.decodeRequest(JSON.parse(JSON.stringify(up.body)), {
          model: decodeURIComponent(match![1]!),
          stream: match![2] !== "generateContent",
        });
        expect(back).toEqual(req);
      }),
      { numRuns: 300 },
    );
  });

  it("wire -> canonical -> wire keeps every field (for bodies in the encoder's range)", () => {
    fc.assert(
      fc.property(request, (req) => {
        const up = codec.encodeRequest(req, { model: req.model });
        const wire = JSON.parse(JSON.stringify(up.body));
        const again = codec.encodeRequest(codec.decodeRequest(wire, { model: req.model, stream: req.stream }), { model: req.model });
        expect(again).toEqual({ ...up, body: wire });
      }),
      { numRuns: 200 },
    );
  });

  it("decodeResponse(encodeResponse(x)) == x", () => {
    fc.assert(
      fc.property(response, (res) => {
        const { created: _c, ...back } = codec.decodeResponse(
          JSON.parse(JSON.stringify(codec.encodeResponse(res, { model: "m", messages: [], stream: false }))),
        );
        const { created: _d, ...expected } = res;
        expect(back).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("a stream encoded then decoded carries the same content, stop reason and usage", () => {
    fc.assert(
      fc.property(response, (res) => {
        const encoder = codec.createStreamEncoder({ model: "m", messages: [], stream: true });
        const wire =
          eventsFor(res)
            .map((e) => encoder.encode(e))
            .join("") + encoder.end();
        const frames: Array<{ data: string }> = [];
        createParser({ onEvent: (e) => frames.push({ data: e.data }) }).feed(wire);
        const decoder = codec.createStreamDecoder();
        const decoded = [...frames.flatMap((f) => decoder.decode(f)), ...decoder.end()];
        const { content, finish } = collect(decoded);
        expect(visible(content)).toEqual(visible(res.content));
        expect(finish).toEqual({ type: "finish", stopReason: res.stopReason, usage: res.usage });
      }),
      { numRuns: 300 },
    );
  });
});
