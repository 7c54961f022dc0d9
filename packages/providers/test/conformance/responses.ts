// Realistic upstream (provider) answers per outbound protocol: non-stream bodies and SSE
// transcripts. Shapes follow the providers' API references (OpenAI chat completion objects and
// chunks, Anthropic Messages and its stream events, Gemini GenerateContentResponse).
import type { Protocol } from "@bitrouter/core";

export type OutboundProtocol = Exclude<Protocol, "openai-responses">;
export const OUTBOUND: readonly OutboundProtocol[] = ["openai-chat", "anthropic", "google"];

export type ResponseCase = "text" | "tool-calls" | "reasoning" | "length" | "content-filter";
export const RESPONSE_CASES: readonly ResponseCase[] = ["text", "tool-calls", "reasoning", "length", "content-filter"];

const TEXT = "The TGV from Lyon to Paris takes about two hours.";
const THOUGHT = "Assume finitely many primes p1..pn; then p1*...*pn + 1 has a prime factor not in the list.";
const PROOF = "Suppose the primes were finite. Their product plus one has a prime factor outside the list, a contradiction.";
export const WEATHER_ARGS_JSON = '{"location":{"city":"Paris","country":"FR"},"unit":"celsius"}';

/** What every decoded answer of a case must contain, whatever the protocol pair. */
export interface Expected {
  text: string;
  reasoning?: string;
  toolCalls?: Array<{ id: string; name: string; arguments: unknown }>;
  stopReason: "stop" | "length" | "tool_calls" | "content_filter";
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number; reasoningTokens?: number };
}

const chatBase = { object: "chat.completion", created: 1764115200, model: "gpt-4o-2024-08-06", system_fingerprint: "fp_f33640a400" };
const chatChoice = (message: Record<string, unknown>, finish: string) => [
  { index: 0, message: { role: "assistant", refusal: null, ...message }, logprobs: null, finish_reason: finish },
];
const chatUsage = (prompt: number, completion: number, extra: Record<string, unknown> = {}) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  ...extra,
});

const anthropicBase = { type: "message", role: "assistant", model: "claude-sonnet-4-5-20250929", stop_sequence: null };
const geminiBase = { modelVersion: "gemini-2.5-flash", responseId: "mG8maOSBKpqmz7IPo8Gc2Qk" };
const geminiUsage = (prompt: number, candidates: number, extra: Record<string, number> = {}) => ({
  promptTokenCount: prompt,
  candidatesTokenCount: candidates,
  totalTokenCount: prompt + candidates + (extra.thoughtsTokenCount ?? 0),
  ...extra,
});

export interface ResponseFixture {
  body: Record<string, unknown>;
  expected: Expected;
}

export const UPSTREAM_RESPONSES: Readonly<Record<OutboundProtocol, Record<ResponseCase, ResponseFixture>>> = {
  "openai-chat": {
    text: {
      body: { id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", ...chatBase, choices: chatChoice({ content: TEXT }, "stop"), usage: chatUsage(42, 12) },
      expected: { text: TEXT, stopReason: "stop", usage: { inputTokens: 42, outputTokens: 12 } },
    },
    "tool-calls": {
      body: {
        id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        ...chatBase,
        choices: chatChoice(
          {
            content: null,
            tool_calls: [
              { id: "call_Wx1", type: "function", function: { name: "get_weather", arguments: WEATHER_ARGS_JSON } },
              { id: "call_Tm2", type: "function", function: { name: "get_time", arguments: "{}" } },
            ],
          },
          "tool_calls",
        ),
        usage: chatUsage(120, 40),
      },
      expected: {
        text: "",
        toolCalls: [
          { id: "call_Wx1", name: "get_weather", arguments: JSON.parse(WEATHER_ARGS_JSON) },
          { id: "call_Tm2", name: "get_time", arguments: {} },
        ],
        stopReason: "tool_calls",
        usage: { inputTokens: 120, outputTokens: 40 },
      },
    },
    // DeepSeek-style reasoning_content, with OpenAI's usage details (cache write is a non-standard extension).
    reasoning: {
      body: {
        id: "chatcmpl-R1",
        ...chatBase,
        model: "deepseek-reasoner",
        choices: chatChoice({ content: PROOF, reasoning_content: THOUGHT }, "stop"),
        usage: chatUsage(1324, 900, {
          prompt_tokens_details: { cached_tokens: 1024, cache_write_tokens: 200 },
          completion_tokens_details: { reasoning_tokens: 700 },
        }),
      },
      expected: {
        text: PROOF,
        reasoning: THOUGHT,
        stopReason: "stop",
        usage: { inputTokens: 1324, outputTokens: 900, cacheReadTokens: 1024, cacheWriteTokens: 200, reasoningTokens: 700 },
      },
    },
    length: {
      body: { id: "chatcmpl-L1", ...chatBase, choices: chatChoice({ content: "The TGV from Lyon" }, "length"), usage: chatUsage(42, 5) },
      expected: { text: "The TGV from Lyon", stopReason: "length", usage: { inputTokens: 42, outputTokens: 5 } },
    },
    "content-filter": {
      body: { id: "chatcmpl-F1", ...chatBase, choices: chatChoice({ content: null }, "content_filter"), usage: chatUsage(42, 0) },
      expected: { text: "", stopReason: "content_filter", usage: { inputTokens: 42, outputTokens: 0 } },
    },
  },
  anthropic: {
    text: {
      body: {
        id: "msg_01XFDUDYJgAACzvnptvVoYEL",
        ...anthropicBase,
        content: [{ type: "text", text: TEXT }],
        stop_reason: "end_turn",
        usage: { input_tokens: 42, output_tokens: 12 },
      },
      expected: { text: TEXT, stopReason: "stop", usage: { inputTokens: 42, outputTokens: 12 } },
    },
    "tool-calls": {
      body: {
        id: "msg_01Aq9w938a90dw8q",
        ...anthropicBase,
        content: [
          { type: "text", text: "I'll check both." },
          { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: JSON.parse(WEATHER_ARGS_JSON) as object },
          { type: "tool_use", id: "toolu_01B18r81rx81mr826724mr8", name: "get_time", input: {} },
        ],
        stop_reason: "tool_use",
        usage: { input_tokens: 120, output_tokens: 40 },
      },
      expected: {
        text: "I'll check both.",
        toolCalls: [
          { id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", arguments: JSON.parse(WEATHER_ARGS_JSON) },
          { id: "toolu_01B18r81rx81mr826724mr8", name: "get_time", arguments: {} },
        ],
        stopReason: "tool_calls",
        usage: { inputTokens: 120, outputTokens: 40 },
      },
    },
    // Anthropic reports cache reads and writes outside input_tokens; it has no separate thinking count.
    reasoning: {
      body: {
        id: "msg_01Think",
        ...anthropicBase,
        content: [
          { type: "thinking", thinking: THOUGHT, signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" },
          { type: "text", text: PROOF },
        ],
        stop_reason: "end_turn",
        usage: { input_tokens: 100, cache_creation_input_tokens: 200, cache_read_input_tokens: 1024, output_tokens: 900 },
      },
      expected: {
        text: PROOF,
        reasoning: THOUGHT,
        stopReason: "stop",
        usage: { inputTokens: 1324, outputTokens: 900, cacheReadTokens: 1024, cacheWriteTokens: 200 },
      },
    },
    length: {
      body: {
        id: "msg_01Len",
        ...anthropicBase,
        content: [{ type: "text", text: "The TGV from Lyon" }],
        stop_reason: "max_tokens",
        usage: { input_tokens: 42, output_tokens: 5 },
      },
      expected: { text: "The TGV from Lyon", stopReason: "length", usage: { inputTokens: 42, outputTokens: 5 } },
    },
    "content-filter": {
      body: { id: "msg_01Ref", ...anthropicBase, content: [], stop_reason: "refusal", usage: { input_tokens: 42, output_tokens: 0 } },
      expected: { text: "", stopReason: "content_filter", usage: { inputTokens: 42, outputTokens: 0 } },
    },
  },
  google: {
    text: {
      body: {
        candidates: [{ content: { role: "model", parts: [{ text: TEXT }] }, finishReason: "STOP", index: 0 }],
        usageMetadata: geminiUsage(42, 12),
        ...geminiBase,
      },
      expected: { text: TEXT, stopReason: "stop", usage: { inputTokens: 42, outputTokens: 12 } },
    },
    // The Gemini API sends function calls without ids: the decoder numbers them call_0, call_1.
    "tool-calls": {
      body: {
        candidates: [
          {
            content: {
              role: "model",
              parts: [
                { functionCall: { name: "get_weather", args: JSON.parse(WEATHER_ARGS_JSON) as object } },
                { functionCall: { name: "get_time", args: {} } },
              ],
            },
            finishReason: "STOP",
            index: 0,
          },
        ],
        usageMetadata: geminiUsage(120, 40),
        ...geminiBase,
      },
      expected: {
        text: "",
        toolCalls: [
          { id: "call_0", name: "get_weather", arguments: JSON.parse(WEATHER_ARGS_JSON) },
          { id: "call_1", name: "get_time", arguments: {} },
        ],
        stopReason: "tool_calls",
        usage: { inputTokens: 120, outputTokens: 40 },
      },
    },
    // Gemini has no cache-write count; candidatesTokenCount excludes thoughts.
    reasoning: {
      body: {
        candidates: [{ content: { role: "model", parts: [{ text: THOUGHT, thought: true }, { text: PROOF }] }, finishReason: "STOP", index: 0 }],
        usageMetadata: geminiUsage(1324, 200, { cachedContentTokenCount: 1024, thoughtsTokenCount: 700 }),
        ...geminiBase,
      },
      expected: {
        text: PROOF,
        reasoning: THOUGHT,
        stopReason: "stop",
        usage: { inputTokens: 1324, outputTokens: 900, cacheReadTokens: 1024, reasoningTokens: 700 },
      },
    },
    length: {
      body: {
        candidates: [{ content: { role: "model", parts: [{ text: "The TGV from Lyon" }] }, finishReason: "MAX_TOKENS", index: 0 }],
        usageMetadata: geminiUsage(42, 5),
        ...geminiBase,
      },
      expected: { text: "The TGV from Lyon", stopReason: "length", usage: { inputTokens: 42, outputTokens: 5 } },
    },
    "content-filter": {
      body: {
        candidates: [
          {
            finishReason: "SAFETY",
            index: 0,
            safetyRatings: [{ category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true }],
          },
        ],
        usageMetadata: { promptTokenCount: 42, totalTokenCount: 42 },
        ...geminiBase,
      },
      expected: { text: "", stopReason: "content_filter", usage: { inputTokens: 42, outputTokens: 0 } },
    },
  },
};
