// Property tests: for random canonical values restricted to what each OpenAI protocol expresses,
// decode(encode(x)) == x for requests, responses and streams. The wire form goes through
// JSON.stringify/parse (and SSE text through a real SSE parser), as it would on the network.
// Because decode(encode(x)) == x, encode(decode(w)) == w holds for every wire body w = encode(x):
// a P-wire -> canonical -> P-wire trip keeps every field P expresses.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type {
  CanonicalRequest,
  CanonicalResponse,
  ContentPart,
  FilePart,
  ImagePart,
  Message,
  ReasoningPart,
  StreamEvent,
  TextPart,
  ToolCallPart,
  ToolDefinition,
  Usage,
} from "@bitrouter/core";
import type { Codec } from "../src/codec.js";
import { openaiChatCodec } from "../src/protocols/openai-chat/index.js";
import { openaiResponsesCodec } from "../src/protocols/openai-responses/index.js";
import { collectParts, decodeStream, encodeStream } from "./sdk-helpers.js";

const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const RUNS = { numRuns: 300 };

// ── shared arbitraries ────────────────────────────────────────────────────────────────────────
const text = fc.string({ unit: "grapheme", maxLength: 40 });
const nonEmpty = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 });
const ident = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,20}$/);
const b64 = fc.base64String({ minLength: 4, maxLength: 24 });
const ratio = fc.integer({ min: 0, max: 200 }).map((n) => n / 100);
const textPart: fc.Arbitrary<TextPart> = text.map((t) => ({ type: "text", text: t }));
const imagePart: fc.Arbitrary<ImagePart> = fc.record(
  {
    type: fc.constant("image" as const),
    source: fc.oneof(
      fc.webUrl().map((url) => ({ kind: "url" as const, url })),
      fc.record({ kind: fc.constant("base64" as const), mediaType: fc.constantFrom("image/png", "image/jpeg"), data: b64 }),
    ),
    detail: fc.constantFrom("auto", "low", "high"),
  },
  { requiredKeys: ["type", "source"] },
);
const schema = fc
  .dictionary(ident, fc.record({ type: fc.constantFrom("string", "number", "boolean") }), { maxKeys: 4 })
  .map((properties) => ({ type: "object", properties }));
const toolCall: fc.Arbitrary<ToolCallPart> = fc.record({
  type: fc.constant("tool_call" as const),
  id: ident.map((s) => `call_${s}`),
  name: ident,
  arguments: fc.oneof(fc.constant(""), fc.json()),
});
const usage: fc.Arbitrary<Usage> = fc.record(
  {
    inputTokens: fc.nat(100_000),
    outputTokens: fc.nat(100_000),
    cacheReadTokens: fc.integer({ min: 1, max: 1000 }),
    cacheWriteTokens: fc.integer({ min: 1, max: 1000 }),
    reasoningTokens: fc.integer({ min: 1, max: 1000 }),
  },
  { requiredKeys: ["inputTokens", "outputTokens"] },
);
const toolDef = (strictRequired: boolean): fc.Arbitrary<ToolDefinition> =>
  fc.record(
    { name: ident, description: text, parameters: schema, strict: fc.boolean() },
    { requiredKeys: strictRequired ? ["name", "parameters", "strict"] : ["name", "parameters"] },
  );
const toolChoice = fc.oneof(
  fc.constantFrom({ type: "auto" as const }, { type: "none" as const }, { type: "required" as const }),
  ident.map((name) => ({ type: "tool" as const, name })),
);
const responseFormat = fc.oneof(
  fc.constantFrom({ type: "text" as const }, { type: "json_object" as const }),
  fc.record(
    { type: fc.constant("json_schema" as const), name: ident, schema, strict: fc.boolean(), description: text },
    { requiredKeys: ["type", "name", "schema"] },
  ),
);

/** Strictly alternating user/assistant turns built from the given part generators. */
function conversation(
  user: fc.Arbitrary<ContentPart[]>,
  toolResults: fc.Arbitrary<ContentPart[]>,
  assistant: fc.Arbitrary<ContentPart[]>,
): fc.Arbitrary<Message[]> {
  return fc.array(fc.tuple(fc.oneof(user, toolResults), assistant), { minLength: 1, maxLength: 3 }).map((turns) =>
    turns.flatMap(([u, a]): Message[] => [
      { role: "user", content: u },
      { role: "assistant", content: a },
    ]),
  );
}

/** No two neighbouring parts of the same text/reasoning kind (protocols merge those). */
const noAdjacentSameKind = (parts: ContentPart[]): boolean => parts.every((p, i) => i === 0 || p.type === "tool_call" || p.type !== parts[i - 1]!.type);

// ── openai-chat ───────────────────────────────────────────────────────────────────────────────
const chatFile: fc.Arbitrary<FilePart> = fc.oneof(
  ident.map((id): FilePart => ({ type: "file", source: { kind: "file_id", fileId: `file-${id}` } })),
  fc.record({ data: b64, filename: ident.map((n) => `${n}.pdf`) }).map(
    ({ data, filename }): FilePart => ({
      type: "file",
      source: { kind: "base64", mediaType: "application/pdf", data },
      mediaType: "application/pdf",
      filename,
    }),
  ),
);
const chatRequest: fc.Arbitrary<CanonicalRequest> = fc
  .record(
    {
      model: ident,
      system: fc.array(textPart, { minLength: 1, maxLength: 3 }),
      messages: conversation(
        fc.array(fc.oneof(textPart, imagePart, chatFile), { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ type: fc.constant("tool_result" as const), toolCallId: ident, content: textPart.map((t) => [t]) }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc
          .tuple(
            fc.array(
              nonEmpty.map((t): TextPart => ({ type: "text", text: t })),
              { maxLength: 2 },
            ),
            fc.array(toolCall, { maxLength: 3 }),
          )
          .map(([t, c]) => [...t, ...c]),
      ),
      tools: fc.uniqueArray(toolDef(false), { minLength: 1, maxLength: 3, selector: (t) => t.name }),
      toolChoice,
      parallelToolCalls: fc.boolean(),
      responseFormat,
      maxTokens: fc.integer({ min: 1, max: 100_000 }),
      temperature: ratio,
      topP: ratio,
      stop: fc.array(nonEmpty, { minLength: 1, maxLength: 4 }),
      seed: fc.integer(),
      presencePenalty: ratio,
      frequencyPenalty: ratio,
      reasoning: fc.constantFrom("minimal", "low", "medium", "high").map((effort) => ({ effort: effort as "low" })),
      user: ident,
      stream: fc.boolean(),
    },
    { requiredKeys: ["model", "messages", "stream"] },
  )
  .map((r) => {
    if (!r.tools) delete r.parallelToolCalls;
    // Upstream requests always ask for the usage chunk.
    return r.stream ? { ...r, includeUsage: true } : r;
  });

const responseBase = { id: ident.map((s) => `resp_${s}`), model: ident, created: fc.nat(2_000_000_000), usage };

describe("openai-chat round trips", () => {
  it("request: decodeRequest(encodeRequest(x)) == x", () => {
    fc.assert(
      fc.property(chatRequest, (req) => {
        const up = openaiChatCodec.encodeRequest(req, { model: req.model });
        expect(openaiChatCodec.decodeRequest(wire(up.body))).toEqual(req);
      }),
      RUNS,
    );
  });

  const chatResponse: fc.Arbitrary<CanonicalResponse> = fc
    .record({
      ...responseBase,
      reasoning: fc.option(nonEmpty),
      text: fc.option(nonEmpty),
      calls: fc.array(toolCall, { maxLength: 3 }),
      stopReason: fc.constantFrom("stop", "length", "tool_calls", "content_filter"),
    })
    .map(({ reasoning, text: t, calls, ...rest }) => ({
      ...rest,
      content: [
        ...(reasoning === null ? [] : [{ type: "reasoning" as const, text: reasoning }]),
        ...(t === null ? [] : [{ type: "text" as const, text: t }]),
        ...calls,
      ],
    }));

  it("response: decodeResponse(encodeResponse(x)) == x", () => {
    fc.assert(
      fc.property(chatResponse, (res) => {
        const req: CanonicalRequest = { model: res.model, messages: [], stream: false };
        expect(openaiChatCodec.decodeResponse(wire(openaiChatCodec.encodeResponse(res, req)))).toEqual(res);
      }),
      RUNS,
    );
  });

  it("stream: decoding the encoded SSE gives the same parts, stop reason and usage", () => {
    fc.assert(
      fc.property(streamCase(false), (c) => checkStream(openaiChatCodec, c)),
      RUNS,
    );
  });
});

// ── openai-responses ──────────────────────────────────────────────────────────────────────────
const responsesFile: fc.Arbitrary<FilePart> = fc.oneof(
  chatFile,
  fc.webUrl().map((url): FilePart => ({ type: "file", source: { kind: "url", url } })),
  ident.map((id): FilePart => ({ type: "file", source: { kind: "file_id", fileId: `file-${id}` }, mediaType: "image/*" })),
);
const reasoningWithId: fc.Arbitrary<ReasoningPart> = fc.record(
  { type: fc.constant("reasoning" as const), text, id: ident.map((s) => `rs_${s}`), redactedData: b64 },
  { requiredKeys: ["type", "text", "id"] },
);
const responsesRequest: fc.Arbitrary<CanonicalRequest> = fc
  .record(
    {
      model: ident,
      system: textPart.map((t) => [t]),
      messages: conversation(
        fc.array(
          fc.oneof(
            textPart,
            imagePart.map((p) => ({ ...p, detail: p.detail ?? "auto" })),
            responsesFile,
          ),
          { minLength: 1, maxLength: 3 },
        ),
        fc.array(
          fc.record({
            type: fc.constant("tool_result" as const),
            toolCallId: ident,
            content: fc.oneof(
              textPart.map((t) => [t]),
              fc
                .array(
                  fc.oneof(
                    textPart,
                    imagePart.map((p) => ({ ...p, detail: p.detail ?? "auto" })),
                  ),
                  { minLength: 1, maxLength: 2 },
                )
                .filter((c) => c.some((p) => p.type === "image")),
            ),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        fc
          .array(
            fc.oneof(
              nonEmpty.map((t): TextPart => ({ type: "text", text: t })),
              toolCall,
              reasoningWithId,
            ),
            { minLength: 1, maxLength: 4 },
          )
          .filter(noAdjacentSameKind),
      ),
      // Tool names are unique in a real request (the Responses decoder refuses a repeat).
      tools: fc.uniqueArray(toolDef(true), { minLength: 1, maxLength: 3, selector: (t) => t.name }),
      toolChoice,
      parallelToolCalls: fc.boolean(),
      responseFormat,
      maxTokens: fc.integer({ min: 1, max: 100_000 }),
      temperature: ratio,
      topP: ratio,
      reasoning: fc
        .record(
          { effort: fc.constantFrom("minimal" as const, "low" as const, "medium" as const, "high" as const), includeThoughts: fc.constant(true) },
          { requiredKeys: [] },
        )
        .filter((r) => Object.keys(r).length > 0),
      user: ident,
      stream: fc.boolean(),
    },
    { requiredKeys: ["model", "messages", "stream"] },
  )
  .map((r) => {
    if (!r.tools) delete r.parallelToolCalls;
    return r;
  });

describe("openai-responses round trips", () => {
  it("request: decodeRequest(encodeRequest(x)) == x", () => {
    fc.assert(
      fc.property(responsesRequest, (req) => {
        const up = openaiResponsesCodec.encodeRequest(req, { model: req.model });
        expect(openaiResponsesCodec.decodeRequest(wire(up.body))).toEqual(req);
      }),
      RUNS,
    );
  });

  const responsesResponse: fc.Arbitrary<CanonicalResponse> = fc
    .record({
      ...responseBase,
      content: fc
        .array(
          fc.oneof(
            nonEmpty.map((t): TextPart => ({ type: "text", text: t })),
            toolCall,
            reasoningWithId,
          ),
          { maxLength: 5 },
        )
        .filter(noAdjacentSameKind),
      stop: fc.constantFrom("stop", "length", "content_filter"),
    })
    .map(({ stop, ...r }) => ({ ...r, stopReason: stop === "stop" && r.content.some((p) => p.type === "tool_call") ? "tool_calls" : stop }));

  it("response: decodeResponse(encodeResponse(x)) == x", () => {
    fc.assert(
      fc.property(responsesResponse, (res) => {
        const req: CanonicalRequest = { model: res.model, messages: [], stream: false };
        expect(openaiResponsesCodec.decodeResponse(wire(openaiResponsesCodec.encodeResponse(res, req)))).toEqual(res);
      }),
      RUNS,
    );
  });

  it("stream: decoding the encoded SSE gives the same parts, stop reason and usage", () => {
    fc.assert(
      fc.property(streamCase(true), (c) => checkStream(openaiResponsesCodec, c)),
      RUNS,
    );
  });
});

// ── streams ───────────────────────────────────────────────────────────────────────────────────
interface StreamCase {
  parts: Array<{ kind: "text" | "reasoning" | "tool"; text: string; id?: string; name?: string }>;
  /** How each part's text is cut into deltas (cut points, as fractions). */
  cuts: number[][];
  stopReason: "stop" | "length" | "tool_calls" | "content_filter";
  usage: Usage;
  usageInFinishOnly: boolean;
}

function streamCase(responses: boolean): fc.Arbitrary<StreamCase> {
  const part = fc.oneof(
    nonEmpty.map((t) => ({ kind: "text" as const, text: t })),
    nonEmpty.map((t) => ({ kind: "reasoning" as const, text: t })),
    fc.record({ kind: fc.constant("tool" as const), text: fc.oneof(fc.constant(""), fc.json()), id: ident.map((s) => `call_${s}`), name: ident }),
  );
  return fc
    .record({
      parts: fc.array(part, { maxLength: 5 }).filter((ps) => ps.every((p, i) => i === 0 || p.kind === "tool" || p.kind !== ps[i - 1]!.kind)),
      cuts: fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), { minLength: 5, maxLength: 5 }),
      stop: fc.constantFrom("stop" as const, "length" as const, "content_filter" as const),
      usage,
      usageInFinishOnly: fc.boolean(),
    })
    .map(({ stop, ...c }) => {
      const hasTool = c.parts.some((p) => p.kind === "tool");
      // Responses derives tool_calls from the items; chat carries it explicitly.
      const stopReason = hasTool && (stop === "stop" || !responses) ? "tool_calls" : stop;
      return { ...c, stopReason };
    });
}

/** Cuts a string at the given fractions (on code point boundaries, as upstreams do). */
function cut(s: string, fractions: number[]): string[] {
  const chars = [...s];
  const points = [...new Set(fractions.map((f) => Math.floor(f * chars.length)))].filter((p) => p > 0 && p < chars.length).sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const p of [...points, chars.length]) {
    pieces.push(chars.slice(from, p).join(""));
    from = p;
  }
  return pieces.filter((p) => p !== "");
}

function checkStream(codec: Codec, c: StreamCase): void {
  const events: StreamEvent[] = [{ type: "start", id: "resp_s", model: "m", created: 1 }];
  // Runs of consecutive tool calls: all starts first, then their deltas round-robin (interleaved).
  let run: Array<{ index: number; pieces: string[] }> = [];
  const flushRun = (): void => {
    while (run.some((r) => r.pieces.length > 0)) {
      for (const r of run) {
        const piece = r.pieces.shift();
        if (piece !== undefined) events.push({ type: "tool_call_delta", index: r.index, argumentsDelta: piece });
      }
    }
    run = [];
  };
  c.parts.forEach((p, index) => {
    const pieces = cut(p.text, c.cuts[index] ?? []);
    if (p.kind === "tool") {
      events.push({ type: "tool_call_start", index, id: p.id!, name: p.name! });
      run.push({ index, pieces });
    } else {
      flushRun();
      for (const piece of pieces) events.push({ type: p.kind === "text" ? "text_delta" : "reasoning_delta", index, text: piece });
    }
  });
  flushRun();
  if (!c.usageInFinishOnly) events.push({ type: "usage", usage: c.usage });
  events.push({ type: "finish", stopReason: c.stopReason, ...(c.usageInFinishOnly ? { usage: c.usage } : {}) });

  const request: CanonicalRequest = { model: "m", messages: [], stream: true, includeUsage: true };
  const decoded = decodeStream(codec, encodeStream(codec, request, events));
  expect(decoded[0]?.type).toBe("start");
  expect(decoded.filter((e) => e.type === "start")).toHaveLength(1);
  expect([...collectParts(decoded).values()]).toEqual(c.parts.map((p) => (p.kind === "tool" ? p : { kind: p.kind, text: p.text })));
  const finish = decoded.at(-1);
  expect(finish).toEqual({ type: "finish", stopReason: c.stopReason, usage: c.usage });
}
