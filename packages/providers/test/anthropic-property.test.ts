// Property tests: for random canonical requests/responses restricted to what Anthropic expresses,
// decode(encode(x)) == x; and a stream encoded then decoded carries the same content.
import fc from "fast-check";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import type { CanonicalRequest, CanonicalResponse, ContentPart, JsonObject, Message, StreamEvent, TextPart, ToolDefinition, Usage } from "@bitrouter/core";
import { anthropicCodec as codec } from "../src/protocols/anthropic/index.js";
import type { SseEvent } from "../src/codec.js";

const word = fc.string({ minLength: 1, maxLength: 12 });
const cache = fc.option(fc.constant({ type: "ephemeral" as const }), { nil: undefined });
const withOptional = <T extends object>(base: T, extra: Record<string, unknown>): T => {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out as T;
};

const text = fc
  .record({ text: fc.string({ maxLength: 20 }), cacheControl: cache })
  .map(({ text, cacheControl }) => withOptional<TextPart>({ type: "text", text }, { cacheControl }));
const image = fc
  .oneof(
    fc.record({
      kind: fc.constant("base64" as const),
      mediaType: fc.constantFrom("image/png", "image/jpeg"),
      data: fc.base64String({ minLength: 4, maxLength: 12 }),
    }),
    fc.record({ kind: fc.constant("url" as const), url: fc.webUrl() }),
  )
  .map((source) => ({ type: "image" as const, source }));
const pdf = fc
  .record({ data: fc.base64String({ minLength: 4, maxLength: 12 }), filename: fc.option(word, { nil: undefined }) })
  .map(({ data, filename }) =>
    withOptional<ContentPart>({ type: "file", source: { kind: "base64", mediaType: "application/pdf", data }, mediaType: "application/pdf" }, { filename }),
  );
const args = fc.dictionary(word, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map((o) => JSON.stringify(o));
const toolId = fc.stringMatching(/^toolu_[a-zA-Z0-9]{4,10}$/);
const toolCall = fc.record({ id: toolId, name: fc.stringMatching(/^[a-z_]{1,10}$/), arguments: args }).map((c) => ({ type: "tool_call" as const, ...c }));
const toolResult = fc
  .record({
    toolCallId: toolId,
    content: fc.array(fc.oneof(text, image), { maxLength: 2 }),
    isError: fc.option(fc.constant(true), { nil: undefined }),
    cacheControl: cache,
  })
  .map(({ toolCallId, content, isError, cacheControl }) => withOptional<ContentPart>({ type: "tool_result", toolCallId, content }, { isError, cacheControl }));
const reasoning = fc.oneof(
  fc.record({ text: fc.string({ maxLength: 20 }), signature: word }).map((r) => ({ type: "reasoning" as const, ...r })),
  fc.record({ redactedData: word }).map((r) => ({ type: "reasoning" as const, text: "", ...r })),
);

// Anthropic puts tool results first in a user turn, so generated user turns do too.
const userMessage = fc
  .tuple(fc.array(toolResult, { maxLength: 2 }), fc.array(fc.oneof(text, image, pdf), { maxLength: 3 }))
  .map(([results, rest]): Message => ({ role: "user", content: [...results, ...rest] }));
const assistantMessage = fc.array(fc.oneof(text, toolCall, reasoning), { maxLength: 4 }).map((content): Message => ({ role: "assistant", content }));

const schema: fc.Arbitrary<JsonObject> = fc
  .dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.record({ type: fc.constantFrom("string", "number", "boolean") }), { maxKeys: 3 })
  .map((properties) => ({ type: "object", properties }));
const tool = fc
  .record({
    name: fc.stringMatching(/^[a-z_]{1,10}$/),
    description: fc.option(word, { nil: undefined }),
    parameters: schema,
    strict: fc.option(fc.boolean(), { nil: undefined }),
    cacheControl: cache,
  })
  .map(({ name, description, parameters, strict, cacheControl }) => withOptional<ToolDefinition>({ name, parameters }, { description, strict, cacheControl }));

const request: fc.Arbitrary<CanonicalRequest> = fc
  .record({
    model: word,
    stream: fc.boolean(),
    maxTokens: fc.integer({ min: 2048, max: 64000 }),
    system: fc.option(
      fc.array(
        text.filter((t) => t.text !== ""),
        { minLength: 1, maxLength: 2 },
      ),
      { nil: undefined },
    ),
    messages: fc.array(fc.oneof(userMessage, assistantMessage), { maxLength: 4 }),
    tools: fc.option(fc.array(tool, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    toolChoice: fc.option(
      fc.oneof(
        fc.constant({ type: "auto" as const }),
        fc.constant({ type: "none" as const }),
        fc.constant({ type: "required" as const }),
        word.map((name) => ({ type: "tool" as const, name })),
      ),
      { nil: undefined },
    ),
    parallelToolCalls: fc.option(fc.constant(false), { nil: undefined }),
    temperature: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    topP: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    topK: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    stop: fc.option(fc.array(word, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    user: fc.option(word, { nil: undefined }),
    thinking: fc.option(
      fc.oneof(
        fc.constant({ enabled: false }),
        fc.integer({ min: 1024, max: 2047 }).map((budgetTokens) => ({ enabled: true, budgetTokens })),
      ),
      { nil: undefined },
    ),
    // Structured-output schemas Anthropic accepts close every object (additionalProperties: false).
    jsonSchema: fc.option(
      schema.map((s) => ({ ...s, additionalProperties: false })),
      { nil: undefined },
    ),
  })
  .map((r) => {
    const { thinking: requested, jsonSchema, tools, toolChoice, parallelToolCalls, ...rest } = r;
    const forced = tools !== undefined && (toolChoice?.type === "required" || toolChoice?.type === "tool");
    const sampling = rest.temperature !== undefined || rest.topK !== undefined || rest.topP !== undefined;
    // Anthropic takes no thinking with a forced tool, and no sampling changes with thinking on (see the codec).
    const thinking = forced || (requested?.enabled && sampling) ? undefined : requested;
    // tool_choice only travels with tools, and disable_parallel_tool_use only with a tool_choice.
    const toolFields = tools ? { tools, toolChoice, parallelToolCalls: toolChoice ? parallelToolCalls : undefined } : {};
    return withOptional<CanonicalRequest>(
      { model: rest.model, messages: rest.messages, stream: rest.stream },
      {
        ...rest,
        ...toolFields,
        reasoning: thinking,
        responseFormat: jsonSchema ? { type: "json_schema", name: "response", schema: jsonSchema } : undefined,
      },
    );
  });

const usage: fc.Arbitrary<Usage> = fc
  .record({
    fresh: fc.nat(5000),
    cacheRead: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
    cacheWrite: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
    visible: fc.nat(5000),
    reasoning: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
  })
  .map((u) =>
    withOptional<Usage>(
      { inputTokens: u.fresh + (u.cacheRead ?? 0) + (u.cacheWrite ?? 0), outputTokens: u.visible + (u.reasoning ?? 0) },
      { cacheReadTokens: u.cacheRead, cacheWriteTokens: u.cacheWrite, reasoningTokens: u.reasoning },
    ),
  );

const responseText = fc.string({ maxLength: 20 }).map((t): ContentPart => ({ type: "text", text: t }));
const response: fc.Arbitrary<CanonicalResponse> = fc
  .record({
    id: word,
    model: word,
    content: fc.array(fc.oneof(responseText, toolCall, reasoning), { maxLength: 5 }),
    stopReason: fc.constantFrom("stop" as const, "length" as const, "tool_calls" as const, "content_filter" as const, "stop_sequence" as const),
    stopSequence: word,
    usage,
  })
  .map(({ stopSequence, ...r }) =>
    withOptional<CanonicalResponse>({ ...r, created: 0 }, { stopSequence: r.stopReason === "stop_sequence" ? stopSequence : undefined }),
  );

/** Canonical events a decoder would produce for a response: deltas in chunks, tool calls possibly interleaved. */
function eventsFor(r: CanonicalResponse, interleave: boolean): StreamEvent[] {
  const events: StreamEvent[] = [{ type: "start", id: r.id, model: r.model, created: 0 }];
  const split = (s: string) => (s.length < 2 ? [s] : [s.slice(0, s.length >> 1), s.slice(s.length >> 1)]);
  const pendingTools: Array<{ index: number; chunks: string[] }> = [];
  const flushTools = () => {
    while (pendingTools.some((t) => t.chunks.length > 0))
      for (const t of pendingTools) if (t.chunks.length > 0) events.push({ type: "tool_call_delta", index: t.index, argumentsDelta: t.chunks.shift()! });
    pendingTools.length = 0;
  };
  r.content.forEach((part, index) => {
    if (part.type !== "tool_call") flushTools();
    if (part.type === "text") for (const t of split(part.text)) events.push({ type: "text_delta", index, text: t });
    else if (part.type === "reasoning") {
      if (part.text !== "") for (const t of split(part.text)) events.push({ type: "reasoning_delta", index, text: t });
      events.push(withOptional<StreamEvent>({ type: "reasoning_signature", index }, { signature: part.signature, redactedData: part.redactedData }));
    } else if (part.type === "tool_call") {
      events.push({ type: "tool_call_start", index, id: part.id, name: part.name });
      if (interleave) pendingTools.push({ index, chunks: split(part.arguments) });
      else for (const a of split(part.arguments)) events.push({ type: "tool_call_delta", index, argumentsDelta: a });
    }
  });
  flushTools();
  events.push(withOptional<StreamEvent>({ type: "finish", stopReason: r.stopReason, usage: r.usage }, { stopSequence: r.stopSequence }));
  return events;
}

/** Rebuilds a response's content from canonical events. */
function collect(events: StreamEvent[]): { content: ContentPart[]; finish: StreamEvent | undefined } {
  const parts = new Map<number, ContentPart>();
  let finish: StreamEvent | undefined;
  for (const e of events) {
    if (e.type === "text_delta") {
      const p = (parts.get(e.index) ?? { type: "text", text: "" }) as TextPart;
      p.text += e.text;
      parts.set(e.index, p);
    } else if (e.type === "reasoning_delta" || e.type === "reasoning_signature") {
      const p = (parts.get(e.index) ?? { type: "reasoning", text: "" }) as Extract<ContentPart, { type: "reasoning" }>;
      if (e.type === "reasoning_delta") p.text += e.text;
      else {
        if (e.signature !== undefined) p.signature = e.signature;
        if (e.redactedData !== undefined) p.redactedData = e.redactedData;
      }
      parts.set(e.index, p);
    } else if (e.type === "tool_call_start") parts.set(e.index, { type: "tool_call", id: e.id, name: e.name, arguments: "" });
    else if (e.type === "tool_call_delta") (parts.get(e.index) as Extract<ContentPart, { type: "tool_call" }>).arguments += e.argumentsDelta;
    else if (e.type === "finish") finish = e;
  }
  return { content: [...parts.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p), finish };
}

function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  createParser({ onEvent: (e) => out.push({ event: e.event, data: e.data }) }).feed(text);
  return out;
}

describe("anthropic round-trip properties", () => {
  it("decodeRequest(encodeRequest(x)) == x", () => {
    fc.assert(
      fc.property(request, (req) => {
        const up = codec.encodeRequest(req, { model: req.model });
        expect(codec.decodeRequest(JSON.parse(JSON.stringify(up.body)))).toEqual(req);
      }),
      { numRuns: 300 },
    );
  });

  it("wire -> canonical -> wire keeps every field (for bodies in the encoder's range)", () => {
    fc.assert(
      fc.property(request, (req) => {
        const wire = JSON.parse(JSON.stringify(codec.encodeRequest(req, { model: req.model }).body));
        expect(codec.encodeRequest(codec.decodeRequest(wire), { model: req.model }).body).toEqual(wire);
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
        // Empty text blocks are kept; a thinking block without signature cannot occur here.
        expect(back).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("a stream encoded then decoded carries the same content, stop reason and usage", () => {
    fc.assert(
      fc.property(response, fc.boolean(), (res, interleave) => {
        const encoder = codec.createStreamEncoder({ model: "m", messages: [], stream: true });
        const wire =
          eventsFor(res, interleave)
            .map((e) => encoder.encode(e))
            .join("") + encoder.end();
        const decoder = codec.createStreamDecoder();
        const decoded = [...parseSse(wire).flatMap((e) => decoder.decode(e)), ...decoder.end()];
        expect(decoded.filter((e) => e.type === "start")).toHaveLength(1);
        const { content, finish } = collect(decoded);
        // A tool call streamed without argument deltas decodes as "{}" (what Anthropic's own stream means).
        // An empty text block carries nothing a client can see.
        const expected = res.content
          .filter((p) => !(p.type === "text" && p.text === ""))
          .map((p) => (p.type === "tool_call" && p.arguments === "" ? { ...p, arguments: "{}" } : p));
        expect(content).toEqual(expected);
        expect(finish).toEqual(withOptional<StreamEvent>({ type: "finish", stopReason: res.stopReason, usage: res.usage }, { stopSequence: res.stopSequence }));
      }),
      { numRuns: 300 },
    );
  });
});
