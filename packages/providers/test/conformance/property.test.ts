// Property across pairs: for random canonical requests restricted to what BOTH protocols A
// (inbound) and B (provider) express, the round trip through A's wire format and the round trip
// through B's agree on every field both express. A disagreement means one side of the pair
// changes the request on the way (a field lost, reordered or rewritten).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CanonicalRequest, ContentPart, JsonObject, Message, Protocol, ToolDefinition } from "@bitrouter/core";
import { CODECS } from "../../src/protocols/index.js";
import { PAIRS } from "./helpers.js";

/** Optional request features, and the protocols whose codecs carry each one both ways. */
const FEATURES = {
  stop: ["openai-chat", "anthropic", "google"],
  topK: ["anthropic", "google"],
  seed: ["openai-chat", "google"],
  penalties: ["openai-chat", "google"],
  user: ["openai-chat", "openai-responses", "anthropic"],
  jsonObject: ["openai-chat", "openai-responses", "google"],
  effort: ["openai-chat", "openai-responses"],
  budget: ["anthropic", "google"],
  toolError: ["anthropic", "google"],
  noParallel: ["openai-chat", "openai-responses", "anthropic"],
} satisfies Record<string, Protocol[]>;
type Feature = keyof typeof FEATURES;

const has = (feature: Feature, a: Protocol, b: Protocol): boolean =>
  (FEATURES[feature] as Protocol[]).includes(a) && (FEATURES[feature] as Protocol[]).includes(b);
const opt = <T>(on: boolean, arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => (on ? fc.option(arb, { nil: undefined }) : fc.constant(undefined));

// Words that no protocol reinterprets (not JSON values, not empty, no surrounding spaces).
const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,.!?é]{0,14}[a-z]$/);
const name = fc.stringMatching(/^[a-z][a-z_]{0,9}$/);
const callId = fc.stringMatching(/^call_[A-Za-z0-9]{4,10}$/);
const text = word.map((t): ContentPart => ({ type: "text", text: t }));
const image = fc.oneof(
  fc
    .base64String({ minLength: 8, maxLength: 16 })
    .filter((d) => d.length > 0)
    .map((data): ContentPart => ({ type: "image", source: { kind: "base64", mediaType: "image/png", data } })),
  fc.stringMatching(/^[a-z]{1,8}$/).map((p): ContentPart => ({ type: "image", source: { kind: "url", url: `https://img.example.com/${p}.png` } })),
);
const args = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.integer(), fc.boolean(), word), { maxKeys: 3 }).map((o) => JSON.stringify(o));
const schema: fc.Arbitrary<JsonObject> = fc
  .dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.record({ type: fc.constantFrom("string", "number", "boolean") }), { minKeys: 1, maxKeys: 3 })
  .map((properties) => ({ type: "object", properties, required: Object.keys(properties).slice(0, 1) }));

function requestArb(a: Protocol, b: Protocol): fc.Arbitrary<CanonicalRequest> {
  const tools = fc.uniqueArray(fc.record({ name, description: word, parameters: schema }), { minLength: 1, maxLength: 3, selector: (t) => t.name });
  // A turn of tool calls is answered by a user turn holding exactly their results.
  const toolTurn = (toolNames: string[]) =>
    fc
      .tuple(
        fc.option(text, { nil: undefined }),
        fc.uniqueArray(
          fc.record({
            id: callId,
            name: fc.constantFrom(...toolNames),
            arguments: args,
            result: word,
            isError: opt(has("toolError", a, b), fc.constant(true)),
          }),
          {
            minLength: 1,
            maxLength: 3,
            selector: (c) => c.id,
          },
        ),
      )
      .map(([lead, calls]): Message[] => [
        {
          role: "assistant",
          content: [...(lead ? [lead] : []), ...calls.map((c): ContentPart => ({ type: "tool_call", id: c.id, name: c.name, arguments: c.arguments }))],
        },
        {
          role: "user",
          content: calls.map(
            (c): ContentPart => ({
              type: "tool_result",
              toolCallId: c.id,
              name: c.name,
              content: [{ type: "text", text: c.result }],
              ...(c.isError ? { isError: true } : {}),
            }),
          ),
        },
      ]);
  const textTurn = fc.tuple(word, word).map(([answer, ask]): Message[] => [
    { role: "assistant", content: [{ type: "text", text: answer }] },
    { role: "user", content: [{ type: "text", text: ask }] },
  ]);
  return fc
    .record({
      stream: fc.boolean(),
      system: fc.option(word, { nil: undefined }),
      first: fc
        .array(fc.oneof({ weight: 3, arbitrary: text }, { weight: 1, arbitrary: image }), { minLength: 1, maxLength: 3 })
        .filter((p) => p.some((x) => x.type === "text")),
      tools: fc.option(tools, { nil: undefined }),
      maxTokens: fc.integer({ min: 4096, max: 32000 }),
      temperature: fc.option(
        fc.integer({ min: 0, max: 100 }).map((n) => n / 100),
        { nil: undefined },
      ),
      topP: fc.option(
        fc.integer({ min: 1, max: 100 }).map((n) => n / 100),
        { nil: undefined },
      ),
      topK: opt(has("topK", a, b), fc.integer({ min: 1, max: 100 })),
      stop: opt(has("stop", a, b), fc.array(word, { minLength: 1, maxLength: 3 })),
      seed: opt(has("seed", a, b), fc.integer({ min: 0, max: 1_000_000 })),
      presencePenalty: opt(
        has("penalties", a, b),
        fc.integer({ min: -20, max: 20 }).map((n) => n / 10),
      ),
      user: opt(has("user", a, b), name),
      format: fc.option(fc.oneof(...(has("jsonObject", a, b) ? [fc.constant("json_object" as const)] : []), schema), { nil: undefined }),
      effort: opt(has("effort", a, b), fc.constantFrom("low" as const, "medium" as const, "high" as const)),
      budget: opt(has("budget", a, b), fc.integer({ min: 1024, max: 4000 })),
      choice: fc.constantFrom("auto", "none", "required", "named", undefined),
      noParallel: opt(has("noParallel", a, b), fc.constant(false)),
    })
    .chain((r) => {
      const toolNames = r.tools?.map((t) => t.name);
      const turn = toolNames ? fc.oneof(textTurn, toolTurn(toolNames)) : textTurn;
      return fc.array(turn, { maxLength: 3 }).map((turns) => ({ r, turns: turns.flat() }));
    })
    .map(({ r, turns }) => {
      const req: CanonicalRequest = { model: "m", stream: r.stream, maxTokens: r.maxTokens, messages: [{ role: "user", content: r.first }, ...turns] };
      if (r.system) req.system = [{ type: "text", text: r.system }];
      if (r.tools) {
        req.tools = r.tools.map((t): ToolDefinition => ({ ...t }));
        if (r.choice) req.toolChoice = r.choice === "named" ? { type: "tool", name: r.tools[0]!.name } : { type: r.choice as "auto" | "none" | "required" };
        // Anthropic carries "no parallel calls" inside tool_choice, so only together with a choice.
        if (r.noParallel === false && r.choice) req.parallelToolCalls = false;
      }
      const reasoning = r.effort ? { effort: r.effort } : r.budget ? { enabled: true, budgetTokens: r.budget } : undefined;
      // Anthropic takes no thinking with a forced tool or with sampling changes: leave those out together.
      const forced = req.toolChoice?.type === "required" || req.toolChoice?.type === "tool";
      if (reasoning && !forced) req.reasoning = reasoning;
      if (!req.reasoning) {
        if (r.temperature !== undefined) req.temperature = r.temperature;
        if (r.topP !== undefined) req.topP = r.topP;
        if (r.topK !== undefined) req.topK = r.topK;
      }
      if (r.stop) req.stop = r.stop;
      if (r.seed !== undefined) req.seed = r.seed;
      if (r.presencePenalty !== undefined) req.presencePenalty = r.presencePenalty;
      if (r.user) req.user = r.user;
      if (r.format === "json_object") req.responseFormat = { type: "json_object" };
      else if (r.format) req.responseFormat = { type: "json_schema", name: "response", schema: r.format };
      return req;
    });
}

/** Through one protocol's wire format and back: encodeRequest (outbound role), then decodeRequest. */
function viaWire(protocol: Protocol, x: CanonicalRequest): CanonicalRequest {
  const codec = CODECS[protocol];
  // The Responses codec has no outbound role in routing but encodes requests all the same.
  const { body } = codec.encodeRequest(x, { model: "m", defaultMaxTokens: 1024 });
  return codec.decodeRequest(body, protocol === "google" ? { model: "m", stream: x.stream } : undefined);
}

/** The fields both protocols express, in a comparable form. */
function comparable(r: CanonicalRequest): unknown {
  const stripOpen = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(stripOpen)
      : typeof v === "object" && v !== null
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k]) => k !== "additionalProperties")
              .map(([k, x]) => [k, stripOpen(x)]),
          )
        : v;
  return {
    model: r.model,
    stream: r.stream,
    system: r.system?.map((p) => p.text).join("\n\n"),
    messages: r.messages.map((m) => ({
      role: m.role,
      content: m.content.map((p) => {
        if (p.type === "tool_call") return { ...p, arguments: JSON.parse(p.arguments) as unknown };
        // Tool names on results: only Gemini carries them.
        if (p.type === "tool_result") return { type: p.type, toolCallId: p.toolCallId, content: p.content, isError: p.isError };
        if (p.type === "image") return { type: p.type, source: p.source };
        return p;
      }),
    })),
    tools: r.tools?.map((t) => ({ name: t.name, description: t.description, parameters: stripOpen(t.parameters) })),
    toolChoice: r.toolChoice,
    parallelToolCalls: r.parallelToolCalls,
    // Schema names and strictness are OpenAI-only; Anthropic closes objects, Gemini drops the key.
    responseFormat: r.responseFormat?.type === "json_schema" ? { type: "json_schema", schema: stripOpen(r.responseFormat.schema) } : r.responseFormat,
    maxTokens: r.maxTokens,
    temperature: r.temperature,
    topP: r.topP,
    topK: r.topK,
    stop: r.stop,
    seed: r.seed,
    presencePenalty: r.presencePenalty,
    // A budget implies thinking is on; Gemini's thinkingConfig does not say it twice.
    reasoning: r.reasoning && { ...r.reasoning, enabled: r.reasoning.enabled ?? (r.reasoning.budgetTokens ? true : undefined) },
    user: r.user,
  };
}

describe.each(PAIRS)("$inbound and $outbound agree on what both express", ({ inbound, outbound }) => {
  it("A.decode(A.encode(x)) and B.decode(B.encode(x)) agree", () => {
    fc.assert(
      fc.property(requestArb(inbound, outbound), (x) => {
        expect(comparable(viaWire(inbound, x))).toEqual(comparable(viaWire(outbound, x)));
      }),
      { numRuns: Number(process.env.CONFORMANCE_RUNS ?? 60) },
    );
  });
});
