/** Anthropic Messages responses, stop reasons and usage: canonical <-> wire. */
import type { CanonicalResponse, ContentPart, JsonObject, StopReason, Usage } from "@bitrouter/core";
import { isRecord, nowSeconds, requireArray, requireRecord, requireString } from "../util.js";

// ── Responses ─────────────────────────────────────────────────────────────────────────────────

export const STOP_FROM_ANTHROPIC: Record<string, StopReason> = {
  end_turn: "stop",
  max_tokens: "length",
  stop_sequence: "stop_sequence",
  tool_use: "tool_calls",
  pause_turn: "stop",
  refusal: "content_filter",
  model_context_window_exceeded: "length",
};

export const STOP_TO_ANTHROPIC: Record<StopReason, string> = {
  stop: "end_turn",
  length: "max_tokens",
  stop_sequence: "stop_sequence",
  tool_calls: "tool_use",
  content_filter: "refusal",
  error: "end_turn",
};

/** Anthropic usage fields (possibly partial, as in a message_delta) as canonical usage. */
export function decodeUsage(u: Record<string, unknown>): Usage {
  const num = (v: unknown): number => (typeof v === "number" ? v : 0);
  const cacheRead = num(u.cache_read_input_tokens);
  const cacheWrite = num(u.cache_creation_input_tokens);
  const usage: Usage = { inputTokens: num(u.input_tokens) + cacheRead + cacheWrite, outputTokens: num(u.output_tokens) };
  if (cacheRead > 0) usage.cacheReadTokens = cacheRead;
  if (cacheWrite > 0) usage.cacheWriteTokens = cacheWrite;
  const thinking = isRecord(u.output_tokens_details) ? num(u.output_tokens_details.thinking_tokens) : 0;
  if (thinking > 0) usage.reasoningTokens = thinking;
  return usage;
}

export function encodeUsage(usage: Usage): JsonObject {
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const out: JsonObject = {
    input_tokens: Math.max(0, usage.inputTokens - cacheRead - cacheWrite),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };
  if (usage.reasoningTokens !== undefined) out.output_tokens_details = { thinking_tokens: usage.reasoningTokens };
  return out;
}

/** Tool input for a response we serve: arguments a model produced may be malformed; never fail the answer for it. */
function responseToolInput(args: string): JsonObject {
  try {
    const parsed: unknown = args.trim() === "" ? {} : JSON.parse(args);
    return isRecord(parsed) ? (parsed as JsonObject) : {};
  } catch {
    return {};
  }
}

export function encodeResponse(response: CanonicalResponse): JsonObject {
  const content: JsonObject[] = [];
  for (const part of response.content) {
    if (part.type === "text") content.push({ type: "text", text: part.text });
    else if (part.type === "tool_call") content.push({ type: "tool_use", id: part.id, name: part.name, input: responseToolInput(part.arguments) });
    else if (part.type === "reasoning") {
      if (part.redactedData !== undefined) content.push({ type: "redacted_thinking", data: part.redactedData });
      else content.push({ type: "thinking", thinking: part.text, signature: part.signature ?? "" });
    }
  }
  return {
    id: response.id,
    type: "message",
    role: "assistant",
    model: response.model,
    content,
    stop_reason: STOP_TO_ANTHROPIC[response.stopReason],
    stop_sequence: response.stopSequence ?? null,
    usage: encodeUsage(response.usage),
  };
}

export function decodeResponse(body: unknown): CanonicalResponse {
  const b = requireRecord(body, "response");
  const content: ContentPart[] = [];
  requireArray(b.content, "response.content").forEach((item, i) => {
    const block = requireRecord(item, `response.content[${i}]`);
    if (block.type === "text") content.push({ type: "text", text: requireString(block.text, `response.content[${i}].text`) });
    else if (block.type === "tool_use") {
      content.push({
        type: "tool_call",
        id: requireString(block.id, `response.content[${i}].id`),
        name: requireString(block.name, `response.content[${i}].name`),
        arguments: typeof block.input === "string" ? block.input : JSON.stringify(block.input ?? {}),
      });
    } else if (block.type === "thinking") {
      const part: ContentPart = { type: "reasoning", text: typeof block.thinking === "string" ? block.thinking : "" };
      if (typeof block.signature === "string" && block.signature !== "") part.signature = block.signature;
      content.push(part);
    } else if (block.type === "redacted_thinking") {
      content.push({ type: "reasoning", text: "", redactedData: typeof block.data === "string" ? block.data : "" });
    }
    // Server-tool blocks (server_tool_use, web_search_tool_result, ...) have no canonical form: dropped.
  });
  const response: CanonicalResponse = {
    id: typeof b.id === "string" ? b.id : "",
    model: typeof b.model === "string" ? b.model : "",
    created: nowSeconds(),
    content,
    stopReason: STOP_FROM_ANTHROPIC[String(b.stop_reason)] ?? "stop",
    usage: anthropicResponseUsage(b.usage),
  };
  if (typeof b.stop_sequence === "string") response.stopSequence = b.stop_sequence;
  return response;
}

export function anthropicResponseUsage(value: unknown): Usage {
  return decodeUsage(isRecord(value) ? value : {});
}
