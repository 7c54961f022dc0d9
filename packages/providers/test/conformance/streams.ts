// Upstream SSE transcripts per outbound protocol, as the providers send them (OpenAI chat
// completion chunks + [DONE]; Anthropic message_start … message_stop; Gemini
// streamGenerateContent?alt=sse chunks), with what each must decode to whatever the inbound side.
import type { Usage } from "@bitrouter/core";
import type { OutboundProtocol } from "./responses.js";
import { WEATHER_ARGS_JSON } from "./responses.js";

export type StreamCase = "text" | "tools" | "reasoning" | "error" | "truncated";
export const STREAM_CASES: readonly StreamCase[] = ["text", "tools", "reasoning", "error", "truncated"];

export interface StreamExpected {
  text: string;
  reasoning: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  /** The final usage, when the stream finishes cleanly. */
  usage?: Usage;
  outcome: "finish" | "error";
}

export interface StreamFixture {
  sse: string;
  expected: StreamExpected;
}

/** Text with 2-, 3- and 4-byte UTF-8 characters, so byte-level chunking splits some of them. */
const TEXT_PIECES = ["Bonjour", " à tous", " — le TGV", " part à 14h", " ✈️ ou 🚄", "? Ça prend", " 2 heures."];
const REASONING_PIECES = ["The user asks", " about primes;", " use Euclid's", " argument."];
const ANSWER_PIECES = ["Take the product", " of all primes", " plus one."];
const join = (p: string[]): string => p.join("");

const sse = (events: Array<{ event?: string; data: unknown }>): string =>
  events.map((e) => `${e.event === undefined ? "" : `event: ${e.event}\n`}data: ${typeof e.data === "string" ? e.data : JSON.stringify(e.data)}\n\n`).join("");

// ── OpenAI chat completion chunks ────────────────────────────────────────────────────────────────
const chunkBase = {
  id: "chatcmpl-stream1",
  object: "chat.completion.chunk",
  created: 1764115200,
  model: "gpt-4o-2024-08-06",
  system_fingerprint: "fp_f33640a400",
};
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  data: { ...chunkBase, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] },
});
const usageChunk = (prompt: number, completion: number, extra: Record<string, unknown> = {}) => ({
  data: { ...chunkBase, choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, ...extra } },
});
const DONE = { data: "[DONE]" };
const chatText = (pieces: string[]) => pieces.map((content) => chunk({ content }));

const WEATHER_FRAGMENTS = ['{"loca', 'tion":{"city":"Pa', 'ris","country":"FR"},', '"unit":"celsius"}'];

const openaiChat: Record<StreamCase, StreamFixture> = {
  text: {
    sse: sse([chunk({ role: "assistant", content: "", refusal: null }), ...chatText(TEXT_PIECES), chunk({}, "stop"), usageChunk(20, 15), DONE]),
    expected: { text: join(TEXT_PIECES), reasoning: "", toolCalls: [], usage: { inputTokens: 20, outputTokens: 15 }, outcome: "finish" },
  },
  // Two calls whose argument fragments interleave (each fragment names its call by `index`).
  tools: {
    sse: sse([
      chunk({ role: "assistant", content: null }),
      chunk({ tool_calls: [{ index: 0, id: "call_Wx1", type: "function", function: { name: "get_weather", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: WEATHER_FRAGMENTS[0] } }] }),
      chunk({ tool_calls: [{ index: 1, id: "call_Tm2", type: "function", function: { name: "get_time", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: WEATHER_FRAGMENTS[1] } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: "{" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: WEATHER_FRAGMENTS[2] } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: "}" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: WEATHER_FRAGMENTS[3] } }] }),
      chunk({}, "tool_calls"),
      usageChunk(120, 40),
      DONE,
    ]),
    expected: {
      text: "",
      reasoning: "",
      toolCalls: [
        { id: "call_Wx1", name: "get_weather", arguments: WEATHER_ARGS_JSON },
        { id: "call_Tm2", name: "get_time", arguments: "{}" },
      ],
      usage: { inputTokens: 120, outputTokens: 40 },
      outcome: "finish",
    },
  },
  reasoning: {
    sse: sse([
      chunk({ role: "assistant", content: "" }),
      ...REASONING_PIECES.map((reasoning_content) => chunk({ reasoning_content })),
      ...chatText(ANSWER_PIECES),
      chunk({}, "stop"),
      usageChunk(1324, 900, { prompt_tokens_details: { cached_tokens: 1024 }, completion_tokens_details: { reasoning_tokens: 700 } }),
      DONE,
    ]),
    expected: {
      text: join(ANSWER_PIECES),
      reasoning: join(REASONING_PIECES),
      toolCalls: [],
      usage: { inputTokens: 1324, outputTokens: 900, cacheReadTokens: 1024, reasoningTokens: 700 },
      outcome: "finish",
    },
  },
  error: {
    sse: sse([
      chunk({ role: "assistant", content: "" }),
      ...chatText(TEXT_PIECES.slice(0, 2)),
      { data: { error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null } } },
    ]),
    expected: { text: join(TEXT_PIECES.slice(0, 2)), reasoning: "", toolCalls: [], outcome: "error" },
  },
  truncated: {
    sse: sse([chunk({ role: "assistant", content: "" }), ...chatText(TEXT_PIECES.slice(0, 3))]),
    expected: { text: join(TEXT_PIECES.slice(0, 3)), reasoning: "", toolCalls: [], outcome: "error" },
  },
};

// ── Anthropic Messages stream ────────────────────────────────────────────────────────────────────
const messageStart = (inputTokens: number, extra: Record<string, number> = {}) => ({
  event: "message_start",
  data: {
    type: "message_start",
    message: {
      id: "msg_01Stream",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 1, ...extra },
    },
  },
});
const blockStart = (index: number, block: Record<string, unknown>) => ({
  event: "content_block_start",
  data: { type: "content_block_start", index, content_block: block },
});
const blockDelta = (index: number, delta: Record<string, unknown>) => ({ event: "content_block_delta", data: { type: "content_block_delta", index, delta } });
const blockStop = (index: number) => ({ event: "content_block_stop", data: { type: "content_block_stop", index } });
const messageDelta = (stopReason: string, outputTokens: number) => ({
  event: "message_delta",
  data: { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } },
});
const messageStop = { event: "message_stop", data: { type: "message_stop" } };
const ping = { event: "ping", data: { type: "ping" } };
const textDeltas = (index: number, pieces: string[]) => pieces.map((text) => blockDelta(index, { type: "text_delta", text }));

const anthropic: Record<StreamCase, StreamFixture> = {
  text: {
    sse: sse([
      messageStart(20),
      blockStart(0, { type: "text", text: "" }),
      ping,
      ...textDeltas(0, TEXT_PIECES),
      blockStop(0),
      messageDelta("end_turn", 15),
      messageStop,
    ]),
    expected: { text: join(TEXT_PIECES), reasoning: "", toolCalls: [], usage: { inputTokens: 20, outputTokens: 15 }, outcome: "finish" },
  },
  // Anthropic streams one block at a time: parallel calls are consecutive tool_use blocks.
  tools: {
    sse: sse([
      messageStart(120),
      blockStart(0, { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: {} }),
      ...WEATHER_FRAGMENTS.map((partial_json) => blockDelta(0, { type: "input_json_delta", partial_json })),
      blockStop(0),
      blockStart(1, { type: "tool_use", id: "toolu_01B18r81rx81mr826724mr8", name: "get_time", input: {} }),
      blockDelta(1, { type: "input_json_delta", partial_json: "" }),
      blockStop(1),
      messageDelta("tool_use", 40),
      messageStop,
    ]),
    expected: {
      text: "",
      reasoning: "",
      toolCalls: [
        { id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", arguments: WEATHER_ARGS_JSON },
        { id: "toolu_01B18r81rx81mr826724mr8", name: "get_time", arguments: "{}" },
      ],
      usage: { inputTokens: 120, outputTokens: 40 },
      outcome: "finish",
    },
  },
  reasoning: {
    sse: sse([
      messageStart(100, { cache_read_input_tokens: 1024, cache_creation_input_tokens: 200 }),
      blockStart(0, { type: "thinking", thinking: "", signature: "" }),
      ...REASONING_PIECES.map((thinking) => blockDelta(0, { type: "thinking_delta", thinking })),
      blockDelta(0, { type: "signature_delta", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" }),
      blockStop(0),
      blockStart(1, { type: "text", text: "" }),
      ...textDeltas(1, ANSWER_PIECES),
      blockStop(1),
      messageDelta("end_turn", 900),
      messageStop,
    ]),
    expected: {
      text: join(ANSWER_PIECES),
      reasoning: join(REASONING_PIECES),
      toolCalls: [],
      usage: { inputTokens: 1324, outputTokens: 900, cacheReadTokens: 1024, cacheWriteTokens: 200 },
      outcome: "finish",
    },
  },
  error: {
    sse: sse([
      messageStart(20),
      blockStart(0, { type: "text", text: "" }),
      ...textDeltas(0, TEXT_PIECES.slice(0, 2)),
      { event: "error", data: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } } },
    ]),
    expected: { text: join(TEXT_PIECES.slice(0, 2)), reasoning: "", toolCalls: [], outcome: "error" },
  },
  truncated: {
    sse: sse([messageStart(20), blockStart(0, { type: "text", text: "" }), ...textDeltas(0, TEXT_PIECES.slice(0, 3))]),
    expected: { text: join(TEXT_PIECES.slice(0, 3)), reasoning: "", toolCalls: [], outcome: "error" },
  },
};

// ── Gemini streamGenerateContent?alt=sse ─────────────────────────────────────────────────────────
const geminiBase = { modelVersion: "gemini-2.5-flash", responseId: "mG8maOSBKpqmz7IPo8Gc2Qk" };
const geminiChunk = (parts: unknown[], extra: Record<string, unknown> = {}) => ({
  data: { candidates: [{ content: { role: "model", parts }, index: 0, ...extra }], ...geminiBase },
});
/** Intermediate chunks carry the prompt count so far (as Gemini does); the last one the totals. */
const geminiLast = (parts: unknown[], finishReason: string, usage: Record<string, number>) => ({
  data: { candidates: [{ content: { role: "model", parts }, finishReason, index: 0 }], usageMetadata: usage, ...geminiBase },
});

const google: Record<StreamCase, StreamFixture> = {
  text: {
    sse: sse([
      ...TEXT_PIECES.slice(0, -1).map((text) => geminiChunk([{ text }])),
      geminiLast([{ text: TEXT_PIECES.at(-1) }], "STOP", { promptTokenCount: 20, candidatesTokenCount: 15, totalTokenCount: 35 }),
    ]),
    expected: { text: join(TEXT_PIECES), reasoning: "", toolCalls: [], usage: { inputTokens: 20, outputTokens: 15 }, outcome: "finish" },
  },
  // Gemini never streams partial arguments: both calls arrive whole, in one chunk, without ids.
  tools: {
    sse: sse([
      geminiLast(
        [{ functionCall: { name: "get_weather", args: JSON.parse(WEATHER_ARGS_JSON) as object } }, { functionCall: { name: "get_time", args: {} } }],
        "STOP",
        {
          promptTokenCount: 120,
          candidatesTokenCount: 40,
          totalTokenCount: 160,
        },
      ),
    ]),
    expected: {
      text: "",
      reasoning: "",
      toolCalls: [
        { id: "call_0", name: "get_weather", arguments: WEATHER_ARGS_JSON },
        { id: "call_1", name: "get_time", arguments: "{}" },
      ],
      usage: { inputTokens: 120, outputTokens: 40 },
      outcome: "finish",
    },
  },
  reasoning: {
    sse: sse([
      ...REASONING_PIECES.map((text) => geminiChunk([{ text, thought: true }])),
      ...ANSWER_PIECES.slice(0, -1).map((text) => geminiChunk([{ text }])),
      geminiLast([{ text: ANSWER_PIECES.at(-1) }], "STOP", {
        promptTokenCount: 1324,
        cachedContentTokenCount: 1024,
        candidatesTokenCount: 200,
        thoughtsTokenCount: 700,
        totalTokenCount: 2224,
      }),
    ]),
    expected: {
      text: join(ANSWER_PIECES),
      reasoning: join(REASONING_PIECES),
      toolCalls: [],
      usage: { inputTokens: 1324, outputTokens: 900, cacheReadTokens: 1024, reasoningTokens: 700 },
      outcome: "finish",
    },
  },
  error: {
    sse: sse([
      ...TEXT_PIECES.slice(0, 2).map((text) => geminiChunk([{ text }])),
      { data: { error: { code: 503, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" } } },
    ]),
    expected: { text: join(TEXT_PIECES.slice(0, 2)), reasoning: "", toolCalls: [], outcome: "error" },
  },
  truncated: {
    sse: sse(TEXT_PIECES.slice(0, 3).map((text) => geminiChunk([{ text }]))),
    expected: { text: join(TEXT_PIECES.slice(0, 3)), reasoning: "", toolCalls: [], outcome: "error" },
  },
};

export const UPSTREAM_STREAMS: Readonly<Record<OutboundProtocol, Record<StreamCase, StreamFixture>>> = { "openai-chat": openaiChat, anthropic, google };
