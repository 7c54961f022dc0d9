/**
 * The canonical model: one internal representation of an LLM request, response and stream,
 * independent of any wire protocol. Every codec translates its protocol to and from these types,
 * so N protocols need N codecs, not N² translators.
 *
 * Conventions (documented in docs/protocol-mapping.md):
 * - Token counts follow OpenAI's accounting: `inputTokens` is the whole prompt, cached tokens
 *   included (`cacheReadTokens`/`cacheWriteTokens` are subsets of it); `outputTokens` is the whole
 *   completion, reasoning included (`reasoningTokens` is a subset of it).
 * - Tool-call arguments are always a JSON *string* (some upstreams send objects: codecs normalise).
 * - Object key order of JSON schemas and tool lists is preserved (prompt caches depend on it).
 */

/** The wire protocols BitRouter speaks, inbound and outbound. */
export type Protocol = "openai-chat" | "openai-responses" | "anthropic" | "google";

export const PROTOCOLS: readonly Protocol[] = ["openai-chat", "openai-responses", "anthropic", "google"];

/**
 * A built-in protocol or one a provider package registers (outbound only). Where only the
 * built-ins can appear (inbound requests), code keeps the precise `Protocol`.
 */
export type ProtocolName = Protocol | (string & {});

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Anthropic-style prompt-cache marker; other protocols have no equivalent and drop it. */
export interface CacheControl {
  type: "ephemeral";
  ttl?: string;
}

export type MediaSource = { kind: "url"; url: string } | { kind: "base64"; mediaType: string; data: string };

export interface TextPart {
  type: "text";
  text: string;
  cacheControl?: CacheControl;
}

export interface ImagePart {
  type: "image";
  source: MediaSource;
  /** OpenAI's image `detail` hint (auto | low | high). */
  detail?: string;
  cacheControl?: CacheControl;
}

export interface FilePart {
  type: "file";
  source: MediaSource | { kind: "file_id"; fileId: string };
  mediaType?: string;
  filename?: string;
  cacheControl?: CacheControl;
}

/** A tool (function) call made by the assistant. */
export interface ToolCallPart {
  type: "tool_call";
  id: string;
  name: string;
  /** JSON-encoded arguments, exactly as the model produced them. */
  arguments: string;
}

/** The result of a tool call, sent back by the user/agent. */
export interface ToolResultPart {
  type: "tool_result";
  toolCallId: string;
  /** Name of the tool that was called, when the protocol carries it (Gemini requires it). */
  name?: string;
  content: Array<TextPart | ImagePart>;
  isError?: boolean;
  cacheControl?: CacheControl;
}

/** Model reasoning ("thinking"). `signature`/`redactedData` round-trip Anthropic's opaque fields. */
export interface ReasoningPart {
  type: "reasoning";
  text: string;
  signature?: string;
  /** Anthropic `redacted_thinking` data, or OpenAI Responses `encrypted_content`. */
  redactedData?: string;
  /** OpenAI Responses reasoning item id (`rs_...`): the API wants it back with the item. */
  id?: string;
}

export type ContentPart = TextPart | ImagePart | FilePart | ToolCallPart | ToolResultPart | ReasoningPart;

export interface UserMessage {
  role: "user";
  /** Text, media and tool results. */
  content: ContentPart[];
}

export interface AssistantMessage {
  role: "assistant";
  /** Text, reasoning and tool calls, in the order the model produced them. */
  content: ContentPart[];
}

/**
 * An instruction given in the middle of the conversation (Anthropic's `system`-role message after
 * the first turn). Targets that have no such message append it to their top-level system prompt.
 */
export interface SystemMessage {
  role: "system";
  content: TextPart[];
}

export type Message = UserMessage | AssistantMessage | SystemMessage;

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonObject;
  strict?: boolean;
  cacheControl?: CacheControl;
  /** OpenAI Responses tool group (`{type: "namespace"}`) the tool came in; other protocols see the bare name. */
  namespace?: string;
  /**
   * An OpenAI Responses freeform (`custom`) tool: the model writes raw text, optionally held to a
   * grammar (`format`). Elsewhere it is a function whose one argument, `input`, is that text.
   */
  freeform?: { format?: JsonObject };
}

/** The single argument a freeform tool's text travels in where only function tools exist. */
export const FREEFORM_INPUT = "input";

/** A tool the OpenAI Responses API runs itself (`web_search`, `file_search`, …): only that API can take it. */
export interface HostedTool {
  /** Where the caller sent it, e.g. `tools[8]`. */
  param: string;
  tool: JsonObject;
}

export type ToolChoice = { type: "auto" } | { type: "none" } | { type: "required" } | { type: "tool"; name: string };

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: JsonObject; strict?: boolean; description?: string };

export type ReasoningEffort = "minimal" | "low" | "medium" | "high";

export interface ReasoningConfig {
  /** false disables reasoning where the target allows it. */
  enabled?: boolean;
  effort?: ReasoningEffort;
  /** Token budget (Anthropic `budget_tokens`, Gemini `thinkingBudget`). */
  budgetTokens?: number;
  /** Ask for reasoning text back (Gemini `includeThoughts`, OpenAI Responses `summary`). */
  includeThoughts?: boolean;
}

export interface CanonicalRequest {
  /** The model name as the caller wrote it (a virtual model, `provider:model_id`, ...). */
  model: string;
  /** System and developer instructions, in order. */
  system?: TextPart[];
  messages: Message[];
  tools?: ToolDefinition[];
  /** Hosted OpenAI Responses tools, sent as written to a Responses upstream; no other protocol has them. */
  hostedTools?: HostedTool[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stop?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  reasoning?: ReasoningConfig;
  /** End-user identifier (OpenAI `user`, Anthropic `metadata.user_id`). */
  user?: string;
  stream: boolean;
  /** Streaming: whether the caller asked for a final usage chunk (OpenAI `stream_options.include_usage`). */
  includeUsage?: boolean;
  /**
   * Top-level fields of the caller's body that the canonical model does not carry (e.g. Anthropic
   * `context_management`, `output_config.effort`): sent as they are to an upstream of the same
   * protocol, dropped for any other (they have no meaning there).
   */
  extensions?: { protocol: Protocol; fields: JsonObject };
}

export type StopReason =
  | "stop" // natural end of turn
  | "length" // max tokens reached
  | "tool_calls" // the model wants tool results
  | "stop_sequence" // a caller-supplied stop sequence matched
  | "content_filter" // refused / filtered by the provider
  | "error";

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

export interface CanonicalResponse {
  id: string;
  /** The model that answered, as the upstream named it. */
  model: string;
  /** Unix seconds. */
  created: number;
  /** Text, reasoning and tool calls in output order. */
  content: ContentPart[];
  stopReason: StopReason;
  stopSequence?: string;
  usage: Usage;
}

/**
 * One event of a canonical stream. `index` numbers the output parts (text block, reasoning block,
 * tool call) in order of first appearance, starting at 0: it is the Anthropic content-block index
 * and is independent of OpenAI's per-tool-call `index`.
 */
export type StreamEvent =
  | { type: "start"; id: string; model: string; created: number }
  | { type: "text_delta"; index: number; text: string }
  | { type: "reasoning_delta"; index: number; text: string }
  /** Opaque reasoning fields that arrive whole (Anthropic signature_delta, redacted_thinking). */
  | { type: "reasoning_signature"; index: number; signature?: string; redactedData?: string }
  | { type: "tool_call_start"; index: number; id: string; name: string }
  | { type: "tool_call_delta"; index: number; argumentsDelta: string }
  /** A part is complete; no more deltas for `index`. Optional: encoders close open parts at `finish`. */
  | { type: "part_end"; index: number }
  /** Cumulative usage so far; the last one seen wins. */
  | { type: "usage"; usage: Usage }
  | { type: "finish"; stopReason: StopReason; stopSequence?: string; usage?: Usage }
  /** A failure after the stream started: encoders emit the protocol's own error event and end. */
  | { type: "error"; error: ErrorInfo };

/** What kind of failure, independent of protocol. Each maps once to every protocol's error shape. */
export type ErrorKind =
  | "invalid_request" // 400: the caller's input is wrong
  | "authentication" // 401
  | "permission" // 403
  | "not_found" // 404: unknown model / route
  | "payload_too_large" // 413
  | "rate_limit" // 429: rate or budget exhausted
  | "payment_required" // 402
  | "guardrail" // 400/403: blocked by a guardrail
  | "upstream" // 502: the provider failed
  | "timeout" // 504
  | "overloaded" // 503/529
  | "cancelled" // 499: the caller went away before its answer was complete (recorded, never sent)
  | "internal"; // 500

export interface ErrorInfo {
  kind: ErrorKind;
  message: string;
  /** HTTP status to answer with. */
  status: number;
  /** The offending request field, when there is one (e.g. `messages[0].content`). */
  param?: string;
  /** A machine-readable code (e.g. `model_not_found`, `budget_exceeded`). */
  code?: string;
}
