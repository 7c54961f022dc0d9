/** OpenAI Chat Completions responses and usage: canonical <-> wire. */
import type { CanonicalResponse, ContentPart, JsonObject, StopReason, Usage } from "@bitrouter/core";
import { BitrouterError } from "@bitrouter/core";
import { count, isRecord, normalizeArguments, nowSeconds } from "../util.js";
import { decodeOpenAIError, upstreamMalformed } from "./errors.js";

// ── response ──────────────────────────────────────────────────────────────────────────────────

export const FINISH_BY_STOP: Record<StopReason, string> = {
  stop: "stop",
  stop_sequence: "stop",
  length: "length",
  tool_calls: "tool_calls",
  content_filter: "content_filter",
  error: "stop",
};

/** @internal */
export function stopFromFinish(reason: unknown): StopReason {
  switch (reason) {
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "stop";
  }
}

export function encodeChatUsage(u: Usage): JsonObject {
  const prompt: JsonObject = { cached_tokens: u.cacheReadTokens ?? 0 };
  if (u.cacheWriteTokens !== undefined) prompt.cache_write_tokens = u.cacheWriteTokens;
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: prompt,
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
  };
}

/** @internal OpenAI chat usage (also DeepSeek's prompt_cache_hit_tokens) -> canonical. */
export function decodeChatUsage(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const usage: Usage = { inputTokens: count(u.prompt_tokens) ?? 0, outputTokens: count(u.completion_tokens) ?? 0 };
  const pd = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const cd = isRecord(u.completion_tokens_details) ? u.completion_tokens_details : {};
  const cached = count(pd.cached_tokens) ?? count(u.prompt_cache_hit_tokens);
  if (cached) usage.cacheReadTokens = cached;
  const written = count(pd.cache_write_tokens);
  if (written) usage.cacheWriteTokens = written;
  const reasoning = count(cd.reasoning_tokens);
  if (reasoning) usage.reasoningTokens = reasoning;
  return usage;
}

export function encodeChatResponse(res: CanonicalResponse): JsonObject {
  const texts: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: JsonObject[] = [];
  for (const part of res.content) {
    if (part.type === "text") texts.push(part.text);
    else if (part.type === "reasoning" && part.text) reasoning.push(part.text);
    else if (part.type === "tool_call") toolCalls.push({ id: part.id, type: "function", function: { name: part.name, arguments: part.arguments } });
  }
  const message: JsonObject = { role: "assistant", content: texts.length > 0 ? texts.join("") : null, refusal: null };
  // Not in OpenAI's schema, but what OpenAI-compatible clients read reasoning from (DeepSeek style).
  if (reasoning.length > 0) message.reasoning_content = reasoning.join("");
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: res.id,
    object: "chat.completion",
    created: res.created,
    model: res.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH_BY_STOP[res.stopReason] }],
    usage: encodeChatUsage(res.usage),
  };
}

export function decodeChatResponse(body: unknown): CanonicalResponse {
  if (!isRecord(body)) throw upstreamMalformed("the body is not a JSON object");
  // Some OpenAI-compatible providers answer 200 with an error body.
  if (isRecord(body.error)) throw new BitrouterError(decodeOpenAIError(0, body));
  const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isRecord(choice)) throw upstreamMalformed("no choices[0]");
  const message = isRecord(choice.message) ? choice.message : {};
  const content: ContentPart[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") content.push({ type: "reasoning", text: reasoning });
  if (typeof message.content === "string" && message.content !== "") content.push({ type: "text", text: message.content });
  else if (Array.isArray(message.content)) {
    for (const p of message.content) if (isRecord(p) && typeof p.text === "string") content.push({ type: "text", text: p.text });
  }
  if (typeof message.refusal === "string" && message.refusal !== "") content.push({ type: "text", text: message.refusal });
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((tc, i) => {
      if (!isRecord(tc)) return;
      const fn = isRecord(tc.function) ? tc.function : {};
      content.push({
        type: "tool_call",
        id: typeof tc.id === "string" ? tc.id : `call_${i}`,
        name: typeof fn.name === "string" ? fn.name : "",
        arguments: normalizeArguments(fn.arguments),
      });
    });
  } else if (isRecord(message.function_call)) {
    const fc = message.function_call;
    content.push({ type: "tool_call", id: "call_legacy_0", name: typeof fc.name === "string" ? fc.name : "", arguments: normalizeArguments(fc.arguments) });
  }
  return {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" ? body.model : "",
    created: count(body.created) ?? nowSeconds(),
    content,
    stopReason: stopFromFinish(choice.finish_reason),
    usage: chatResponseUsage(body.usage),
  };
}

export function chatResponseUsage(value: unknown): Usage {
  return decodeChatUsage(value) ?? { inputTokens: 0, outputTokens: 0 };
}
